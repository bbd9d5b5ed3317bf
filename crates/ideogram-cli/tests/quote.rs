//! `ideogram quote`: what `generate` with the same arguments would cost,
//! from the service's dry run, with nothing billed; a request no table
//! prices is refused, naming the operation.

mod common;

use common::{code, mock, run, stderr, stdout};
use ideogram_mock::MockConfig;

#[tokio::test]
async fn quote_prints_the_dry_run_price_and_bills_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let args = |json: bool| {
        let mut args = vec![
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "quote",
            "a lighthouse at dawn",
            "--model",
            "4.5",
            "--set",
            "quality=high",
            "--num-images",
            "2",
        ];
        if json {
            args.insert(0, "--json");
        }
        args
    };
    let out = run(&args(false), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "$0.20 (2 x ideogram_4_5_generate, exact)"
    );
    let out = run(&args(true), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let quote: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(quote["usd_micros"], 200_000);
    assert_eq!(quote["operation"], "post_generate_v2_ideogram_4_5");
    assert_eq!(quote["source"]["kind"], "service");
    assert!(mock.ledger().entries.is_empty(), "a quote bills nothing");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nor writes a file"
    );
}

#[tokio::test]
async fn a_request_no_table_prices_is_refused_naming_its_operation() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    // Segmind's pages show no price for its legacy text-to-image.
    let out = run(
        &[
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "quote",
            "a fox",
        ],
        &[("SEGMIND_API_KEY", key.as_str())],
        dir.path(),
    )
    .await;
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("no price for ideogram_txt_2_img"),
        "{}",
        stderr(&out)
    );
    assert!(mock.ledger().entries.is_empty());
}

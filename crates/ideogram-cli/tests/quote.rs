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

#[tokio::test]
async fn compare_prices_the_request_on_every_provider_with_its_typical_time() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let both = [
        ("IDEOGRAM_API_KEY", key.as_str()),
        ("SEGMIND_API_KEY", key.as_str()),
    ];
    let args = |json: bool| {
        let mut args = vec![
            "--base-url",
            mock.api_url(),
            "quote",
            "--compare",
            "a lighthouse",
            "--model",
            "2a",
        ];
        if json {
            args.insert(0, "--json");
        }
        args
    };
    let out = run(&args(false), &both, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // 2a: Segmind's page says $0.05 and about 12 s; Ideogram's table $0.04.
    let segmind = text.lines().find(|l| l.starts_with("segmind")).unwrap();
    assert!(
        segmind.contains("$0.05 ") && segmind.contains("typically 12 s"),
        "{text}"
    );
    let ideogram = text.lines().find(|l| l.starts_with("ideogram")).unwrap();
    assert!(ideogram.contains("$0.04 "), "{text}");
    assert!(text.contains("cheapest: ideogram"), "{text}");

    let out = run(&args(true), &both, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = answer["providers"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["provider"] == name).unwrap().clone();
    assert_eq!(row("segmind")["quote"]["usd_micros"], 50_000);
    assert_eq!(row("segmind")["typical_seconds"], 12.37);
    assert_eq!(row("ideogram")["quote"]["usd_micros"], 40_000);
    assert_eq!(answer["cheapest"], "ideogram");

    // A provider without a key says so on its row; the other is priced.
    let only_segmind = [("SEGMIND_API_KEY", key.as_str())];
    let out = run(&args(false), &only_segmind, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let ideogram = text.lines().find(|l| l.starts_with("ideogram")).unwrap();
    assert!(ideogram.contains("IDEOGRAM_API_KEY"), "{text}");
    assert!(text.contains("cheapest: segmind"), "{text}");
    assert!(mock.ledger().entries.is_empty(), "comparing bills nothing");
}

#[tokio::test]
async fn provider_cheapest_sends_the_request_to_the_cheaper_provider() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let both = [
        ("IDEOGRAM_API_KEY", key.as_str()),
        ("SEGMIND_API_KEY", key.as_str()),
    ];
    // 3.0: Ideogram's $0.06 against Segmind's $0.037 to $0.113; the most
    // each may cost decides, so Ideogram.
    let out = run(
        &[
            "--provider",
            "cheapest",
            "--base-url",
            mock.api_url(),
            "generate",
            "a kite",
            "--model",
            "3",
            "-o",
            "kite.png",
        ],
        &both,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cheapest: ideogram"),
        "{}",
        stderr(&out)
    );
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].service, ideogram_mock::Service::Ideogram);

    // Any command but generate and quote refuses the word.
    let out = run(
        &[
            "--provider",
            "cheapest",
            "--base-url",
            mock.api_url(),
            "job",
            "status",
            "x",
        ],
        &both,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("cheapest"), "{}", stderr(&out));
}

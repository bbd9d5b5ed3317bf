//! `ideogram quote` and `--quote` on every command that spends: what the
//! command with the same arguments would cost, from the service's dry run
//! or the spec's price, with nothing billed (and, without a dry run,
//! nothing posted at all); a request no table prices is refused, naming
//! the operation.

mod common;

use common::{code, files, mock, run, stderr, stdout, write_png};
use ideogram_mock::{MockConfig, MockServer};

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

    // `--compare` prices every provider: one named beside it is refused,
    // not silently left out, and nothing is posted.
    let posts = mock.posts_received();
    let mut one = args(false);
    one.extend(["--provider", "segmind"]);
    let out = run(&one, &both, dir.path()).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--provider"), "{}", stderr(&out));
    assert_eq!(mock.posts_received(), posts);
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

/// `--provider PROVIDER --base-url URL` and `rest`.
fn on<'a>(mock: &'a MockServer, provider: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--provider", provider, "--base-url", mock.api_url()];
    args.extend_from_slice(rest);
    args
}

/// Each one-shot command that spends, on a provider that prices it: every
/// command but `batch` (its own test below). Segmind's describe, as
/// Ideogram's has no price; Segmind's 3.0 too, priced by the spec with a
/// cap and sent through its queue.
const ONE_SHOT: [(&str, &[&str]); 12] = [
    ("ideogram", &["generate", "a fox"]),
    ("ideogram", &["remix", "in.png", "a fox"]),
    ("ideogram", &["edit", "in.png", "mask.png", "a hat"]),
    ("ideogram", &["reframe", "in.png", "1024x1024"]),
    ("ideogram", &["replace-background", "in.png", "a beach"]),
    // v2's upscale (the spec prices only it), picked by its own field.
    (
        "ideogram",
        &["upscale", "in.png", "--set", "upscale_factor=x2"],
    ),
    ("ideogram", &["remove-background", "in.png"]),
    ("ideogram", &["remove-object", "in.png", "mask.png"]),
    ("ideogram", &["layerize-text", "in.png"]),
    ("segmind", &["describe", "in.png"]),
    // A v2 generation: Ideogram queues only those.
    ("ideogram", &["job", "submit", "a fox", "--model", "4.5"]),
    ("segmind", &["generate", "a fox", "--model", "V_3"]),
];

#[tokio::test]
async fn every_command_that_spends_quotes_what_it_would_bill_and_sends_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [
        ("IDEOGRAM_API_KEY", key.as_str()),
        ("SEGMIND_API_KEY", key.as_str()),
    ];
    write_png(dir.path(), "in.png", 512, 512, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 512, 512, [0, 0, 0]);
    let mut sources = std::collections::BTreeSet::new();
    for (provider, command) in ONE_SHOT {
        let args = on(&mock, provider, command);
        let quoting = [&["--json"][..], &args, &["--quote"]].concat();
        let (billed, posts, before) = (
            mock.ledger().entries.len(),
            mock.posts_received(),
            files(dir.path()),
        );
        let out = run(&quoting, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{command:?}: {}", stderr(&out));
        let quote: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{command:?}: {e}: {}", stdout(&out)));
        let usd = quote["usd_micros"].as_u64().expect("a price");
        let most = quote["upper_bound_usd_micros"].as_u64().unwrap_or(usd);
        let source = quote["source"]["kind"].as_str().unwrap().to_owned();
        assert_eq!(mock.ledger().entries.len(), billed, "{command:?} billed");
        // A dry run is the one POST a quote may make; without one, none.
        let dry_runs = u64::from(source == "service");
        assert_eq!(
            mock.posts_received() - posts,
            dry_runs,
            "{command:?} ({source})"
        );
        assert_eq!(files(dir.path()), before, "{command:?} wrote a file");
        sources.insert(source);

        // The same as text: the price and what it is billed as.
        let out = run(&[&args[..], &["--quote"]].concat(), &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{command:?}: {}", stderr(&out));
        let text = stdout(&out);
        let identifier = quote["billing_identifier"].as_str().unwrap();
        assert!(
            text.contains(&ideogram::dollars(usd)) && text.contains(identifier),
            "{command:?}: {text}"
        );
        assert_eq!(mock.ledger().entries.len(), billed, "{command:?} billed");

        // Sent for real within what the quote says, it is billed that.
        let most_dollars = ideogram::dollars(most);
        let sending = [&args[..], &["--max-usd", &most_dollars]].concat();
        let out = run(&sending, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{command:?}: {}", stderr(&out));
        common::until("the request billed", || {
            mock.ledger().entries.len() > billed
        })
        .await;
        let charged = mock.ledger().entries[billed].usd_micros.expect("priced");
        assert!(
            (usd..=most).contains(&charged),
            "{command:?}: quoted {usd} to {most}, billed {charged}"
        );
        if most == usd {
            assert_eq!(charged, usd, "{command:?}");
        }
    }
    // A submit the provider cannot queue is refused before it is priced,
    // as it would be before it is sent.
    let posts = mock.posts_received();
    let submit = on(&mock, "ideogram", &["job", "submit", "a fox", "--quote"]);
    let out = run(&submit, &env, dir.path()).await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("queue"), "{}", stderr(&out));
    assert_eq!(mock.posts_received(), posts, "nothing posted");
    // Both kinds of price were shown.
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        ["service", "spec"],
        "dry runs and the spec's prices"
    );
}

#[tokio::test]
async fn a_batch_quote_prices_every_line_sends_nothing_and_writes_no_journal() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    // Ideogram 4.5 at high quality, $0.10 an image: the third line asks for
    // three images, the fifth for two.
    let dime = ["--model", "4.5", "--set", "quality=high"];
    let lines = [
        "one",
        "two",
        r#"{"prompt": "three", "num_images": 3}"#,
        "four",
        r#"{"prompt": "five", "num_images": 2}"#,
    ];
    std::fs::write(dir.path().join("b.txt"), lines.join("\n")).unwrap();
    let before = files(dir.path());
    let batch = [
        &on(&mock, "ideogram", &["batch", "b.txt", "-o", "out"])[..],
        &dime,
    ]
    .concat();
    let out = run(
        &[&["--json"][..], &batch, &["--quote"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(mock.ledger().entries.is_empty(), "billed");
    assert_eq!(files(dir.path()), before, "a file written (a journal?)");

    // Each line priced as the one-shot command with its options would be.
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), lines.len(), "{answer}");
    let mut sum = 0;
    for (number, line) in (1..).zip([
        &["one"][..],
        &["two"],
        &["three", "--num-images", "3"],
        &["four"],
        &["five", "--num-images", "2"],
    ]) {
        let mut args = on(&mock, "ideogram", &["generate"]);
        args.extend(line.iter().take(1));
        args.extend(dime);
        args.extend(line.iter().skip(1));
        args.extend(["--quote", "--json"]);
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{line:?}: {}", stderr(&out));
        let quote: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let item = items.iter().find(|i| i["item"] == number).unwrap();
        assert_eq!(item["quote"], quote, "item {number}");
        sum += quote["usd_micros"].as_u64().unwrap();
    }
    assert_eq!(answer["usd_micros"], sum, "{answer}");
    assert!(mock.ledger().entries.is_empty(), "billed");

    // As text: the total and the dearest line first.
    let out = run(&[&batch[..], &["--quote"]].concat(), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&ideogram::dollars(sum)), "{text}");
    let dearest = text
        .lines()
        .find(|l| l.contains("item "))
        .unwrap_or_default();
    assert!(dearest.trim_start().starts_with("item 3"), "{text}");
    assert!(mock.ledger().entries.is_empty(), "billed");
    assert_eq!(files(dir.path()), before, "a file written");

    // With a budget it cannot keep, the quote is printed and refused.
    let below = ideogram::dollars(sum - 1);
    let out = run(
        &[&batch[..], &["--quote", "--max-usd", &below]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 12, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&ideogram::dollars(sum)),
        "{}",
        stdout(&out)
    );
    assert!(mock.ledger().entries.is_empty(), "billed");
    assert_eq!(files(dir.path()), before, "a file written");

    // Once the batch has run, its journal (read, not written) says there
    // is nothing left to send, and what the run spent.
    let out = run(&batch, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let billed: u64 = mock
        .ledger()
        .entries
        .iter()
        .map(|e| e.usd_micros.unwrap())
        .sum();
    assert_eq!(billed, sum, "the batch billed what its quote said");
    let journal = dir.path().join("out/.ideogram-batch.jsonl");
    let written = std::fs::read(&journal).unwrap();
    let (posts, entries) = (mock.posts_received(), mock.ledger().entries.len());
    let out = run(
        &[&["--json"][..], &batch, &["--quote"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        answer["items"].as_array().map(Vec::len),
        Some(0),
        "{answer}"
    );
    assert_eq!(answer["usd_micros"], 0, "{answer}");
    assert_eq!(answer["earlier_usd_micros"], sum, "{answer}");
    assert_eq!(std::fs::read(&journal).unwrap(), written, "journal written");
    assert_eq!(mock.posts_received(), posts, "posted");
    assert_eq!(mock.ledger().entries.len(), entries, "billed");
}

#[tokio::test]
async fn a_batch_quote_of_ranges_says_the_most_it_can_reach() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    // Segmind's 3.0: the spec's price is a range, an estimate.
    std::fs::write(dir.path().join("b.txt"), "one\ntwo\n").unwrap();
    let batch = on(&mock, "segmind", &["batch", "b.txt", "-o", "out"]);
    let batch = [&batch[..], &["--model", "V_3", "--quote"]].concat();
    let out = run(&[&["--json"][..], &batch].concat(), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let quotes: Vec<&serde_json::Value> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["quote"])
        .collect();
    assert_eq!(quotes.len(), 2, "{answer}");
    let sum = |field: &str| -> u64 { quotes.iter().map(|q| q[field].as_u64().unwrap()).sum() };
    let (price, most) = (sum("usd_micros"), sum("upper_bound_usd_micros"));
    assert!(most > price, "{answer}");
    assert_eq!(answer["usd_micros"], price);
    assert_eq!(answer["most_usd_micros"], most);
    let out = run(&batch, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap_or_default().to_owned();
    let expected = format!(
        "2 items to send: {}, up to {}",
        ideogram::dollars(price),
        ideogram::dollars(most)
    );
    assert_eq!(first, expected);
    assert_eq!(mock.posts_received(), 0, "a spec price posts nothing");
    assert!(!dir.path().join("out").exists(), "nothing written");
}

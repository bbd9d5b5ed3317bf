//! The promises the tool makes about money, files and the key, held by the
//! real binary against the mock and hostile loopback servers: one run per
//! journal, no paid image lost, no file of the user's touched, the key in no
//! text, "was it billed?" answered truthfully, bad input never sent.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use ideogram_mock::{FAIL_TRIGGER, Fault, MockConfig, Service, Target};
use serde_json::Value;
use workspace_tests::{Canned, CaptureServer};

/// `--provider P --base-url URL`.
fn against<'a>(provider: &'a str, url: &'a str) -> [&'a str; 4] {
    ["--provider", provider, "--base-url", url]
}

/// `--provider P --base-url URL batch FILE -o out` and `extra`.
fn batch_args(provider: &str, url: &str, file: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = against(provider, url)
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(["batch", file.to_str().unwrap(), "-o", "out"].map(String::from));
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn journal(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".ideogram-batch.jsonl")).unwrap_or_default()
}

fn sidecar(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// 1. One run per journal.

#[tokio::test]
async fn a_second_batch_on_the_same_folder_refuses_or_waits_and_nothing_is_billed_twice() {
    let mock = mock(MockConfig {
        latency: Duration::from_millis(300),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 6);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), &file, &["--concurrency", "2"]);
    let args = strs(&owned);
    let first = Running::start(&args, &env, dir.path());
    file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"sending\"",
        1,
    )
    .await;

    let second = run(&args, &env, dir.path()).await;
    assert_eq!(code(&second), 3, "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another ideogram batch is running on out"),
        "{}",
        stderr(&second)
    );
    // `job wait` into that folder is refused the same way.
    let wait = run(
        &[
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "job",
            "wait",
            "x",
            "-o",
            "out/",
        ],
        &[("SEGMIND_API_KEY", key.as_str())],
        dir.path(),
    )
    .await;
    // Refused the same way, naming no flag `job wait` lacks (it has no
    // --wait).
    assert!(
        stderr(&wait).contains("an ideogram batch is running on out"),
        "{}",
        stderr(&wait)
    );
    assert!(!stderr(&wait).contains("--wait"), "{}", stderr(&wait));

    // With --wait, a third run queues behind the first and finds it all done.
    let waiting = Running::start(&[&args[..], &["--wait"]].concat(), &env, dir.path());
    let (first_code, first_err) = first.finish().await;
    assert_eq!(first_code, 0, "{first_err}");
    let (code_waited, err_waited) = waiting.finish().await;
    assert_eq!(code_waited, 0, "{err_waited}");
    assert!(
        err_waited.contains("waiting for the batch running on out"),
        "{err_waited}"
    );
    assert_complete(&mock, &dir.path().join("out"), 6);
}

// 2. A paid image is never lost.

#[tokio::test]
async fn nothing_is_sent_when_the_images_could_not_be_saved() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), b"not a folder").unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let long = format!("{}.png", "x".repeat(240));
    for (output, expected) in [
        ("a-file/cat.png", "cannot create the folder a-file"),
        (long.as_str(), "bytes; at most"),
    ] {
        let out = run(
            &[
                &against("ideogram", mock.api_url())[..],
                &["generate", "a cat", "-o", output],
            ]
            .concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_ne!(code(&out), 0);
        assert!(
            stderr(&out).contains(expected),
            "{output}: {}",
            stderr(&out)
        );
    }
    assert!(
        mock.ledger().entries.is_empty(),
        "sent although it could not be saved"
    );

    // A name built from a long prompt in any script fits, and is billed once.
    let prompt = "東京の夜景、ネオンの看板が雨に濡れた路地を照らす映画のような光景 ".repeat(8);
    let out = run(
        &[
            &against("ideogram", mock.api_url())[..],
            &["generate", prompt.as_str(), "-o", "cjk/"],
        ]
        .concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let names = files(&dir.path().join("cjk"));
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.len() <= 120), "{names:?}");
}

#[tokio::test]
async fn an_image_host_failing_once_is_retried_and_failing_for_good_prints_what_was_billed() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let base = against("ideogram", mock.api_url());

    mock.inject(Target::ImagePath("/images/".into()), Fault::Status(503));
    let out = run(
        &[&base[..], &["generate", "once", "-o", "once.png"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dimensions(&dir.path().join("once.png")), (1024, 1024));

    // Two images: the first host fails for good, the second is fine.
    for _ in 0..10 {
        mock.inject(
            Target::ImagePath("/images/ido-000002-0".into()),
            Fault::Status(500),
        );
    }
    let out = run(
        &[
            &base[..],
            &[
                "generate",
                "two",
                "--num-images",
                "2",
                "-o",
                "two.png",
                "--retries",
                "2",
            ],
        ]
        .concat(),
        &env,
        dir.path(),
    )
    .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 9, "{err}");
    assert!(err.contains("1 of 2 images billed but not saved"), "{err}");
    assert!(!err.contains("may have been billed"), "{err}");
    assert_eq!(
        dimensions(&dir.path().join("two-2.png")),
        (1024, 1024),
        "the sibling was saved"
    );
    let fetch = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("fetch it later: "))
        .unwrap_or_else(|| panic!("no fetch command:\n{err}"))
        .to_owned();
    assert!(fetch.contains("/images/ido-000002-0.png"), "{fetch}");
    // The URL was on disk before the download, and stays there.
    let pending = sidecar(&dir.path().join("two-1.json"));
    assert_eq!(pending["status"], "not_saved");
    assert!(
        pending["source_url"]
            .as_str()
            .unwrap()
            .ends_with("ido-000002-0.png")
    );

    // The printed command fetches it, without a key.
    mock.clear_faults();
    let words: Vec<String> = fetch
        .split(' ')
        .skip(1)
        .map(|w| w.trim_matches('\'').to_owned())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let fetched = run(&words, &[], dir.path()).await;
    assert_eq!(code(&fetched), 0, "{}", stderr(&fetched));
    assert_eq!(dimensions(&dir.path().join("two-1.png")), (1024, 1024));
    assert_eq!(mock.ledger().entries.len(), 2, "fetching bills nothing");
    assert!(mock.cdn_requests().iter().all(|r| !r.had_credentials));
}

#[tokio::test]
async fn ctrl_c_during_a_download_prints_the_paid_urls_and_leaves_no_temporary_file() {
    let mock = mock(MockConfig::default()).await;
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowBody(Duration::from_secs(30)),
    );
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let mut running = Running::start(
        &[
            &against("ideogram", mock.api_url())[..],
            &["generate", "slow", "-o", "slow.png"],
        ]
        .concat(),
        &[("IDEOGRAM_API_KEY", key.as_str())],
        dir.path(),
    );
    file_holds(&dir.path().join("slow.json"), "\"downloading\"", 1).await;
    // The download is under way once the image origin has the request.
    until("the image origin to be asked", || {
        !mock.cdn_requests().is_empty()
    })
    .await;
    running.signal("INT");
    running.printed("fetch them later").await;
    let (code, err) = running.finish().await;
    assert_eq!(code, 130, "{err}");
    assert!(
        err.contains("ideogram fetch ") && err.contains("/images/ido-000001-0.png"),
        "{err}"
    );
    assert_eq!(
        files(dir.path()),
        ["slow.json"],
        "no temporary file, the URL on disk"
    );
}

// 3. Files that are not ours are never touched.

#[tokio::test]
async fn a_batch_touches_no_file_it_did_not_create() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 3);
    let theirs = [
        "download.part",
        ".0001-prompt-number-0.png.b0000abcd-12345678.part",
        "0001-prompt-number-0.png",
        "0002-prompt-number-1.json",
    ];
    for name in theirs {
        std::fs::write(dir.path().join(name), b"someone else's").unwrap();
    }
    let key = mock.api_key();
    let out = run(
        &[
            &against("ideogram", mock.api_url())[..],
            &["batch", file.to_str().unwrap()],
        ]
        .concat(),
        &[("IDEOGRAM_API_KEY", key.as_str())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for name in theirs {
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            b"someone else's",
            "{name}"
        );
    }
    let names = files(dir.path());
    for expected in [
        "0001-prompt-number-0-2.png",
        "0002-prompt-number-1-2.png",
        "0003-prompt-number-2.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[tokio::test]
async fn generate_takes_the_next_free_name_or_overwrites_when_told_and_refuses_special_files() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let base = against("ideogram", mock.api_url());
    std::fs::write(dir.path().join("pic.png"), b"mine").unwrap();
    std::fs::write(dir.path().join("pic.json"), b"mine too").unwrap();

    let out = run(
        &[&base[..], &["generate", "x", "-o", "pic.png"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pic.png exists: saving as pic-2.png"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(dir.path().join("pic.png")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(dir.path().join("pic.json")).unwrap(),
        b"mine too"
    );
    assert_eq!(
        sidecar(&dir.path().join("pic-2.json"))["image"],
        "pic-2.png"
    );

    let out = run(
        &[
            &base[..],
            &["generate", "x", "-o", "pic.png", "--overwrite"],
        ]
        .concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dimensions(&dir.path().join("pic.png")), (1024, 1024));
    assert_eq!(sidecar(&dir.path().join("pic.json"))["image"], "pic.png");

    // Special files are refused before anything is sent. A FIFO stands for
    // them all, devices included: the check is by file type, and a rename
    // replaces a FIFO for any user as it would a device for root (`mknod`
    // needs root, so a device here would be a check that skips).
    let fifo = dir.path().join("fifo.png");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let billed = mock.ledger().entries.len();
    for path in [&fifo] {
        let before = std::fs::symlink_metadata(path).unwrap().file_type();
        let out = run(
            &[
                &base[..],
                &["generate", "x", "-o", path.to_str().unwrap(), "--overwrite"],
            ]
            .concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::symlink_metadata(path).unwrap().file_type(), before);
    }
    assert_eq!(
        mock.ledger().entries.len(),
        billed,
        "a refused output was sent"
    );
}

// 4. The key appears in no text.

#[tokio::test]
async fn a_server_echoing_headers_never_gets_the_key_into_output_or_the_journal() {
    const SECRET: &str = "sk-ECHO-LEAK-7c1e";
    let echo = CaptureServer::start(|request| {
        let headers: Vec<String> = request
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
            .collect();
        Canned::json(500, serde_json::json!({"error": headers.join("; ")}))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one\n").unwrap();
    let mut printed = String::new();
    for extra in [&[][..], &["--bearer"][..]] {
        for command in [&["generate", "x"][..], &["batch", "p.txt", "-o", "b"][..]] {
            let out = run(
                &[&against("ideogram", &echo.base_url())[..], extra, command].concat(),
                &[("IDEOGRAM_API_KEY", SECRET)],
                dir.path(),
            )
            .await;
            assert_ne!(code(&out), 0);
            printed += &(stdout(&out) + &stderr(&out));
        }
    }
    assert!(
        printed.contains("[REDACTED]"),
        "the echo never reached the output: {printed}"
    );
    assert!(!printed.contains(SECRET), "{printed}");
    for file in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(SECRET), "{} holds the key", file.display());
    }
    // Credentials in a base URL are never printed.
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            "http://alice:s3cr3t-pw@127.0.0.1:9/",
            "--retries",
            "0",
            "generate",
            "x",
        ],
        &[("IDEOGRAM_API_KEY", SECRET)],
        dir.path(),
    )
    .await;
    assert!(!stderr(&out).contains("s3cr3t-pw"), "{}", stderr(&out));
}

#[tokio::test]
async fn loopback_requests_never_go_through_a_proxy() {
    let proxy =
        CaptureServer::start(|_| Canned::json(502, serde_json::json!({"error": "proxy"}))).await;
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let proxy_url = proxy.base_url();
    let out = run(
        &[
            &against("segmind", mock.api_url())[..],
            &["generate", "x", "-o", "x.jpg"],
        ]
        .concat(),
        &[
            ("SEGMIND_API_KEY", key.as_str()),
            ("HTTP_PROXY", proxy_url.as_str()),
            ("http_proxy", proxy_url.as_str()),
            ("HTTPS_PROXY", proxy_url.as_str()),
            ("ALL_PROXY", proxy_url.as_str()),
        ],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(proxy.requests().is_empty(), "the key went through a proxy");
}

// 5. "Was it billed?" answered truthfully; uncertain items named one by one.

#[tokio::test]
async fn sending_is_journaled_only_once_the_slot_is_held_and_uncertain_items_can_be_named() {
    let mock = mock(MockConfig {
        latency: Duration::from_secs(2),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 4);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    // 8 images an item and 10 in flight at most: one item at a time is sent,
    // the others wait for their slots.
    let args = [
        &against("ideogram", mock.api_url())[..],
        &[
            "batch",
            file.to_str().unwrap(),
            "-o",
            "out",
            "--concurrency",
            "4",
            "--num-images",
            "8",
        ],
    ]
    .concat();
    let running = Running::start(&args, &env, dir.path());
    let journal_path = dir.path().join("out/.ideogram-batch.jsonl");
    // The first answer came (2 s after its request: long after any item
    // waiting for a slot would have been journaled), and the second item is
    // in flight.
    file_holds(&journal_path, "\"generated\"", 1).await;
    file_holds(&journal_path, "\"sending\"", 2).await;
    // An item is sent only once the one before it was answered: the journal
    // never says more are sending than the mock billed, plus one. Read in
    // this order, since the ledger only grows.
    let journal_text = std::fs::read_to_string(&journal_path).unwrap();
    let billed = mock.ledger().entries.len();
    let sending = journal_text.matches("\"sending\"").count();
    assert!(
        sending <= billed + 1,
        "items still waiting for a slot were marked as sending \
         ({sending} sending, {billed} billed):\n{journal_text}"
    );
    running.signal("KILL");
    let (code_killed, _) = running.finish().await;
    assert_eq!(code_killed, -1);

    let out = run(&args, &env, dir.path()).await;
    let err = stderr(&out);
    assert_eq!(err.matches("not sent again").count(), 1, "{err}");
    let uncertain: usize = err
        .lines()
        .find(|l| l.contains("not sent again"))
        .and_then(|l| l.strip_prefix("item "))
        .and_then(|l| l.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let resend = format!("--resend-uncertain={uncertain}");
    let out = run(&[&args[..], &[resend.as_str()]].concat(), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

// 6. A failed queue job is retried on the next run; the exit code says why.

#[tokio::test]
async fn a_job_that_failed_for_want_of_credits_exits_5_and_is_sent_again_next_run() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_millis(800),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "a fox\n").unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let args = [
        &against("segmind", mock.api_url())[..],
        &["batch", "p.txt", "-o", "out"],
    ]
    .concat();
    let running = Running::start(&args, &env, dir.path());
    file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"submitted\"",
        1,
    )
    .await;
    mock.set_credits(0.0);
    let (code_broke, err) = running.finish().await;
    assert_eq!(code_broke, 5, "{err}");
    assert!(mock.ledger().entries.is_empty());

    mock.set_credits(100.0);
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1);
    assert!(
        files(&dir.path().join("out"))
            .iter()
            .any(|n| n.ends_with(".jpg"))
    );

    // A job that FAILED for its content is not billed, and is retried too.
    std::fs::write(dir.path().join("q.txt"), format!("{FAIL_TRIGGER} this\n")).unwrap();
    let args = [
        &against("segmind", mock.api_url())[..],
        &["batch", "q.txt", "-o", "q"],
    ]
    .concat();
    for _ in 0..2 {
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 7, "{}", stderr(&out));
    }
    assert_eq!(
        journal(&dir.path().join("q"))
            .matches("\"submitted\"")
            .count(),
        2
    );
}

// 6b. Out of money is said as what it is.

#[tokio::test]
async fn out_of_money_exits_5_sent_once_with_its_reason_and_billed_no() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [
        ("IDEOGRAM_API_KEY", key.as_str()),
        ("SEGMIND_API_KEY", key.as_str()),
    ];
    let generate = |provider: &'static str, name: &'static str| {
        let mut args = against(provider, mock.api_url()).to_vec();
        args.extend([
            "--retries",
            "3",
            "generate",
            "a kite",
            "--model",
            "3",
            "-o",
            name,
        ]);
        args
    };
    // Each case: one POST, nothing billed, exit 5 naming the reason.
    let refused = |out: &std::process::Output, sent_before: u64, reason: &str| {
        let err = stderr(out);
        assert_eq!(code(out), 5, "{err}");
        assert!(err.contains(reason), "{reason} missing: {err}");
        assert!(err.contains("billed: no"), "{err}");
        assert_eq!(mock.posts_received(), sent_before + 1, "retried: {err}");
    };

    // Ideogram with a daily limit: the first call fits, the second would
    // pass it and is refused (402 daily_limit).
    let out = run(&generate("ideogram", "a.png"), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let price = mock.ledger().entries[0].usd_micros.expect("3.0 is priced");
    assert_eq!(mock.spent_today_usd_micros(), price);
    mock.configure(|c| c.daily_limit_usd_micros = Some(price + price / 2));
    let sent = mock.posts_received();
    let out = run(&generate("ideogram", "b.png"), &env, dir.path()).await;
    refused(&out, sent, "daily_limit");
    assert!(!stderr(&out).contains("top up"), "{}", stderr(&out));
    mock.configure(|c| c.daily_limit_usd_micros = None);

    // A balance smaller than the price: 402 insufficient_funds.
    mock.set_balance_usd_micros(Some(price - 1));
    let sent = mock.posts_received();
    let out = run(&generate("ideogram", "c.png"), &env, dir.path()).await;
    refused(&out, sent, "insufficient_funds");
    assert!(stderr(&out).contains("top up"), "{}", stderr(&out));

    // Segmind: its 406.
    mock.set_balance_usd_micros(Some(0));
    let sent = mock.posts_received();
    let out = run(&generate("segmind", "d.jpg"), &env, dir.path()).await;
    refused(&out, sent, "Insufficient credits");

    // --json says the same, classed `credits`.
    let sent = mock.posts_received();
    let mut args = vec!["--json"];
    args.extend(generate("ideogram", "e.png"));
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let answer: Value = serde_json::from_str(stdout(&out).trim())
        .or_else(|_| serde_json::from_str(stderr(&out).trim()))
        .unwrap_or_else(|_| panic!("{} / {}", stdout(&out), stderr(&out)));
    assert_eq!(answer["error"]["class"], "credits", "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("insufficient_funds") && message.contains("billed: no"),
        "{message}"
    );
    assert_eq!(mock.posts_received(), sent + 1);

    assert_eq!(mock.ledger().entries.len(), 1, "only the first call billed");
    let written = files(dir.path());
    assert!(written.iter().all(|n| n.starts_with("a.")), "{written:?}");
}

// 7. The status survives any error body.

#[tokio::test]
async fn empty_and_html_error_bodies_keep_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for (canned, expected) in [
        (Canned::bytes(401, "", b""), 4),
        (
            Canned::bytes(401, "text/html", b"<html><h1>401</h1></html>"),
            4,
        ),
        (
            Canned::json(402, serde_json::json!({"detail": "no funds"})),
            5,
        ),
        (Canned::bytes(429, "", b""), 6),
        (Canned::bytes(400, "text/plain", b"bad"), 3),
    ] {
        let mut canned = canned;
        if canned.headers[0].1.is_empty() {
            canned.headers.clear();
        }
        let server = CaptureServer::start(move |_| canned.clone()).await;
        let out = run(
            &[
                &against("ideogram", &server.base_url())[..],
                &["--retries", "1", "generate", "x"],
            ]
            .concat(),
            &[("IDEOGRAM_API_KEY", "k-1")],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), expected, "{}", stderr(&out));
        let sent = server.requests().len();
        assert_eq!(sent, if expected == 6 { 2 } else { 1 }, "{}", stderr(&out));
    }
}

// 9. Bad input sends nothing.

#[tokio::test]
async fn batch_files_are_read_as_people_write_them_and_checked_whole_first() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let base = against("segmind", mock.api_url());
    std::fs::write(
        dir.path().join("p.txt"),
        "\u{feff}a fox\n# a comment\n\\#hashtag poster\n{\"prompt\": \"#json works too\"}\n",
    )
    .unwrap();
    let out = run(
        &[&base[..], &["batch", "p.txt", "-o", "out"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut prompts: Vec<String> = mock
        .ledger()
        .entries
        .iter()
        .map(|e| e.prompt.clone())
        .collect();
    prompts.sort();
    assert_eq!(prompts, ["#hashtag poster", "#json works too", "a fox"]);

    for (bad, why) in [
        (
            "{\"prompt\": \"two\", \"num_images\": 1}",
            "item 3: invalid num_images",
        ),
        (
            "\u{200b}\u{200b}",
            "item 3: invalid prompt: holds only invisible characters",
        ),
        (
            "{\"prompt\": \"x\", \"model\": \"V_1\", \"resolution\": \"1024x1024\"}",
            "item 3: invalid model",
        ),
    ] {
        std::fs::write(
            dir.path().join("bad.txt"),
            format!("fine one\nfine two\n{bad}\n"),
        )
        .unwrap();
        let billed = mock.ledger().entries.len();
        let out = run(
            &[&base[..], &["batch", "bad.txt", "-o", "bad"]].concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
        assert_eq!(
            mock.ledger().entries.len(),
            billed,
            "sent before every line was checked"
        );
    }
    // A FIFO or a device as the input image is refused without reading it.
    let fifo = dir.path().join("in.png");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for input in ["in.png", "/dev/zero"] {
        let out = run(
            &[&base[..], &["remix", input, "x"]].concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
}

// 10. Bounded and durable.

#[tokio::test]
async fn a_rerun_from_another_folder_resumes_and_another_provider_is_refused() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_millis(300),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let file = write_batch(&work, 3);
    let key = mock.api_key();
    let env = [
        ("SEGMIND_API_KEY", key.as_str()),
        ("IDEOGRAM_API_KEY", key.as_str()),
    ];
    let segmind = [
        &against("segmind", mock.api_url())[..],
        &["batch", file.to_str().unwrap()],
    ]
    .concat();
    let out = run(&[&segmind[..], &["-o", "out"]].concat(), &env, &work).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let downloads = mock.cdn_requests().len();
    let out = run(
        &[&segmind[..], &["-o", "work/out"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 done, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        mock.cdn_requests().len(),
        downloads,
        "what was on disk was fetched again"
    );

    // Items sent to Segmind and not fetched are not sent to Ideogram unasked.
    let out_dir = work.join("out2");
    let running = Running::start(&[&segmind[..], &["-o", "out2"]].concat(), &env, &work);
    file_holds(&out_dir.join(".ideogram-batch.jsonl"), "\"submitted\"", 1).await;
    running.signal("KILL");
    running.finish().await;
    let ideogram = [
        &against("ideogram", mock.api_url())[..],
        &["batch", file.to_str().unwrap(), "-o", "out2"],
    ]
    .concat();
    let by_ideogram = || {
        mock.ledger()
            .for_prompt("prompt number 0")
            .filter(|e| e.service == Service::Ideogram)
            .count()
    };
    let out = run(&ideogram, &env, &work).await;
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("an earlier run sent it to segmind"),
        "{}",
        stderr(&out)
    );
    assert_eq!(by_ideogram(), 0, "sent to a second provider unasked");
    let out = run(
        &[&ideogram[..], &["--switch-provider"]].concat(),
        &env,
        &work,
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

// 11. Signals.

#[tokio::test]
async fn a_batch_interrupted_three_times_abandons_what_it_waited_for_and_says_so() {
    let mock = mock(MockConfig {
        latency: Duration::from_secs(20),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 4);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), &file, &["--concurrency", "2"]);
    let args = strs(&owned);
    let mut running = Running::start(&args, &env, dir.path());
    file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"sending\"",
        2,
    )
    .await;
    running.signal("INT");
    running.printed("no new requests are sent").await;
    running.signal("INT");
    running
        .printed("waiting for the answers to 2 paid request(s)")
        .await;
    assert!(running.stderr().contains("at most"), "{}", running.stderr());
    running.signal("INT");
    let (code, err) = running.finish().await;
    assert_eq!(code, 130, "{err}");
    assert!(err.contains("abandoned the answers to items"), "{err}");
    assert_eq!(
        journal(&dir.path().join("out"))
            .matches("\"abandoned\"")
            .count(),
        2
    );
    mock.configure(|c| c.latency = Duration::from_millis(10));
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(
        stderr(&out).matches("not sent again").count(),
        2,
        "{}",
        stderr(&out)
    );
}

// 12. No panics.

#[tokio::test]
async fn a_closed_stdout_ends_quietly() {
    // A pipe whose reader is gone before the first line is written, as
    // after `| head -1` has read its line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let dir = tempfile::tempdir().unwrap();
    for args in [&["resolutions"][..], &["palettes", "--json"][..]] {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .stdout(writer.try_clone().unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

/// `job submit` pays for a job whose id is all the user has to fetch it:
/// with its stdout gone (a reader that closed, as `| head -c0`), the id is
/// still said on stderr, with and without `--json`, where it ended quietly
/// with the job billed and its id nowhere.
#[tokio::test]
async fn a_job_submitted_to_a_closed_stdout_still_says_its_id() {
    let mock = mock(MockConfig::default()).await;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let mut submitted = 0;
    for json in [&[][..], &["--json"][..]] {
        for provider in ["segmind", "ideogram"] {
            let mut args = against(provider, mock.api_url()).to_vec();
            args.extend(["job", "submit", "a fox", "--model", "V_3"]);
            if provider == "ideogram" {
                *args.last_mut().unwrap() = "4.5";
            }
            args.extend(json);
            let mut submit = command(
                &args,
                &[("SEGMIND_API_KEY", &key), ("IDEOGRAM_API_KEY", &key)],
                dir.path(),
            );
            submit.stdout(writer.try_clone().unwrap());
            // Off the runtime: the mock answers on it.
            let out = tokio::task::spawn_blocking(move || submit.output().unwrap())
                .await
                .unwrap();
            submitted += 1;
            mock.settled().await;
            let ledger = mock.ledger();
            assert_eq!(
                ledger.entries.len(),
                submitted,
                "{args:?}: {}",
                stderr(&out)
            );
            let billed = ledger.entries.last().unwrap();
            assert!(
                stderr(&out).contains(&billed.id),
                "{args:?}: job {} billed, its id not said: {}",
                billed.id,
                stderr(&out)
            );
        }
    }
}

/// A describe is paid for and its words go to stdout only: with stdout
/// gone they are said on stderr and the exit says billed, not saved (9),
/// where they were lost with exit 0.
#[tokio::test]
async fn a_paid_describe_to_a_closed_stdout_is_said_on_stderr() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 64, 64, [200, 40, 40]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let mut args = against("ideogram", mock.api_url()).to_vec();
    args.extend(["describe", "photo.png"]);
    let read = run(&args, &env, dir.path()).await;
    assert_eq!(code(&read), 0, "{}", stderr(&read));
    let words = stdout(&read);
    let words = words.lines().next().expect("a description");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for json in [&[][..], &["--json"][..]] {
        let mut describe = command(&[&args[..], json].concat(), &env, dir.path());
        describe.stdout(writer.try_clone().unwrap());
        let billed = mock.ledger().entries.len();
        let out = tokio::task::spawn_blocking(move || describe.output().unwrap())
            .await
            .unwrap();
        assert_eq!(mock.ledger().entries.len(), billed + 1);
        assert_eq!(code(&out), 9, "{json:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(words), "{json:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn an_interrupt_while_a_paid_answer_is_awaited_still_saves_its_images() {
    let dir = tempfile::tempdir().unwrap();
    for provider in ["segmind", "ideogram"] {
        let mock = mock(MockConfig {
            latency: Duration::from_secs(2),
            ..MockConfig::default()
        })
        .await;
        let key = mock.api_key();
        let variable = if provider == "segmind" {
            "SEGMIND_API_KEY"
        } else {
            "IDEOGRAM_API_KEY"
        };
        let output = format!("{provider}/");
        // Segmind's sync v1: a queued job is waited for by id instead.
        let sync: &[&str] = if provider == "segmind" {
            &["--sync"]
        } else {
            &[]
        };
        let mut running = Running::start(
            &[
                &against(provider, mock.api_url())[..],
                &["generate", "patience", "-o", &output],
                sync,
            ]
            .concat(),
            &[(variable, key.as_str())],
            dir.path(),
        );
        // The request is in flight once the mock is working on it.
        within("the mock to work on the request", mock.working()).await;
        running.signal("INT");
        running
            .printed("waiting for the answer to a request that may be billed")
            .await;
        let (code, err) = running.finish().await;
        assert_eq!(code, 0, "{provider}: {err}");
        let names = files(&dir.path().join(provider));
        assert_eq!(names.len(), 2, "{provider}: {names:?}");
        assert!(names.iter().all(|n| !n.ends_with(".part")), "{names:?}");
    }
}

#[tokio::test]
async fn a_journal_kept_elsewhere_does_not_let_two_batches_share_a_folder() {
    let mock = mock(MockConfig {
        latency: Duration::from_millis(500),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 4);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), &file, &[]);
    let first = Running::start(&strs(&owned), &env, dir.path());
    file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"sending\"",
        1,
    )
    .await;
    let elsewhere = dir.path().join("other.jsonl");
    let second = run(
        &[
            &strs(&owned)[..],
            &["--journal", elsewhere.to_str().unwrap()],
        ]
        .concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&second), 3, "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another ideogram batch is running on out"),
        "{}",
        stderr(&second)
    );
    let (code_first, err) = first.finish().await;
    assert_eq!(code_first, 0, "{err}");
    assert_complete(&mock, &dir.path().join("out"), 4);
}

#[tokio::test]
async fn an_expired_item_can_be_sent_again_when_asked() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_millis(200),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "a cat\n").unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let owned = batch_args("segmind", mock.api_url(), &dir.path().join("p.txt"), &[]);
    let args = strs(&owned);
    let running = Running::start(&args, &env, dir.path());
    file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"submitted\"",
        1,
    )
    .await;
    running.signal("KILL");
    running.finish().await;
    mock.settled().await;
    // Gone from the queue: the id answers 404 from now on.
    mock.configure(|c| c.retention = Duration::ZERO);
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown or expired"),
        "{}",
        stderr(&out)
    );
    let out = run(&args, &env, dir.path()).await;
    assert!(
        stderr(&out).contains("--resend-uncertain=1 sends it anyway"),
        "{}",
        stderr(&out)
    );
    mock.configure(|c| c.retention = Duration::from_secs(3600));
    let out = run(
        &[&args[..], &["--resend-uncertain=1"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        mock.ledger().for_prompt("a cat").count(),
        2,
        "paid again, as asked"
    );
}

#[tokio::test]
async fn a_file_put_at_a_batch_target_during_its_download_is_not_replaced() {
    let mock = mock(MockConfig::default()).await;
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowBody(Duration::from_secs(2)),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "a cat\n").unwrap();
    let key = mock.api_key();
    let owned = batch_args("ideogram", mock.api_url(), &dir.path().join("p.txt"), &[]);
    let running = Running::start(
        &strs(&owned),
        &[("IDEOGRAM_API_KEY", key.as_str())],
        dir.path(),
    );
    until("the image origin to be asked", || {
        !mock.cdn_requests().is_empty()
    })
    .await;
    let target = dir.path().join("out/0001-a-cat.png");
    std::fs::write(&target, b"MINE").unwrap();
    let (code, err) = running.finish().await;
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("ideogram fetch "), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"MINE");
}

#[tokio::test]
async fn outputs_that_cannot_hold_the_files_send_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    // A folder so deep that the longest name this tool creates there does
    // not fit a path, though a short one would.
    let mut deep = dir.path().to_path_buf();
    while deep.as_os_str().len() < 3900 {
        deep.push("d".repeat(200));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let out = run(
        &[
            &against("ideogram", mock.api_url())[..],
            &[
                "generate",
                "a red fox",
                "-o",
                &format!("{}/", deep.display()),
            ],
        ]
        .concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_ne!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        stderr(&out)
    );
    // A FIFO as the batch file or the key file is refused without waiting
    // for a writer.
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    for args in [
        &["batch", fifo][..],
        &["generate", "x", "--api-key-file", fifo][..],
    ] {
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            run(
                &[&against("ideogram", mock.api_url())[..], args].concat(),
                &env,
                dir.path(),
            ),
        )
        .await
        .expect("refused without waiting");
        assert!(
            stderr(&out).contains("is not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn a_batch_folder_moved_elsewhere_resumes_from_its_journal() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Old Mac line endings are lines too.
    std::fs::write(dir.path().join("p.txt"), "one\rtwo\rthree\r").unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), &dir.path().join("p.txt"), &[]);
    let out = run(&strs(&owned), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 3);
    std::fs::rename(dir.path().join("out"), dir.path().join("moved")).unwrap();
    let downloads = mock.cdn_requests().len();
    let mut moved = owned.clone();
    *moved.last_mut().unwrap() = "moved".into();
    let out = run(&strs(&moved), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 done, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        mock.cdn_requests().len(),
        downloads,
        "fetched again what was on disk"
    );
}

/// `journal`'s first `keep` lines, then `pad` bytes that are no entry (a
/// run of NUL bytes, as a crash can leave in a file; a hole, so nothing is
/// written), then its other lines.
fn padded_journal(journal: &Path, keep: usize, pad: u64) {
    use std::io::{Seek as _, Write as _};
    let text = std::fs::read_to_string(journal).unwrap();
    let mut lines = text.split_inclusive('\n');
    let head: String = lines.by_ref().take(keep).collect();
    let rest: String = lines.collect();
    let mut file = std::fs::File::create(journal).unwrap();
    file.write_all(head.as_bytes()).unwrap();
    file.set_len(head.len() as u64 + pad).unwrap();
    file.seek(std::io::SeekFrom::End(0)).unwrap();
    file.write_all(b"\n").unwrap();
    file.write_all(rest.as_bytes()).unwrap();
}

/// A journal is read whole or not at all: one past the 256 MiB read is
/// refused, nothing sent, where reading its start alone forgot the items
/// recorded past it and paid for them again; `spend` does not sum part of
/// it. Nor does a journal in use grow past what is read: near the cap it
/// sends nothing more (each refused item failed unbilled).
#[tokio::test]
async fn a_journal_past_what_is_read_is_refused_not_half_read_and_never_grows_there() {
    const MIB: u64 = 1 << 20;
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 2);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), &file, &[]);
    let out = run(&strs(&owned), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 2);
    let journal = dir.path().join("out/.ideogram-batch.jsonl");
    let recorded = std::fs::read_to_string(&journal).unwrap();
    let head: String = recorded.split_inclusive('\n').take(2).collect();
    let before = files(&dir.path().join("out"));

    // The header and the batch's line, then everything the run recorded
    // past the first 256 MiB.
    padded_journal(&journal, 2, 256 * MIB);
    let again = run(&strs(&owned), &env, dir.path()).await;
    assert_eq!(code(&again), 3, "{}", stderr(&again));
    let said = stderr(&again);
    assert!(
        said.contains("larger than the 256 MiB") && said.contains("nothing was sent"),
        "{said}"
    );
    assert_eq!(mock.ledger().entries.len(), 2, "paid again: {said}");
    assert_eq!(files(&dir.path().join("out")), before);
    // Nor is it quoted as though nothing had been sent.
    let quoted = run(
        &strs(&[&owned[..], &["--quote".to_owned()]].concat()),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&quoted), 3, "{}", stdout(&quoted));
    let spend = run(&["spend", "out", "--json"], &[], dir.path()).await;
    assert_eq!(code(&spend), 3, "summed in part: {}", stdout(&spend));
    assert!(
        stderr(&spend).contains("larger than the 256 MiB"),
        "{}",
        stderr(&spend)
    );

    // A journal of 200 MiB is read (and its items found done), but takes
    // no new request: a fresh folder's, of the same batch, sends nothing.
    std::fs::write(&journal, &recorded).unwrap();
    padded_journal(&journal, 2, 200 * MIB);
    let again = run(&strs(&owned), &env, dir.path()).await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("2 done, 0 failed"),
        "{}",
        stderr(&again)
    );
    let fresh = dir.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    std::fs::write(fresh.join(".ideogram-batch.jsonl"), &head).unwrap();
    padded_journal(&fresh.join(".ideogram-batch.jsonl"), 2, 200 * MIB);
    let mut args = owned.clone();
    *args.last_mut().unwrap() = "fresh".into();
    let full = run(&strs(&args), &env, dir.path()).await;
    assert_ne!(code(&full), 0, "{}", stderr(&full));
    assert!(stderr(&full).contains("is full"), "{}", stderr(&full));
    assert_eq!(mock.ledger().entries.len(), 2, "{}", stderr(&full));
    assert!(
        !files(&fresh)
            .iter()
            .any(|n| n.ends_with(".png") || n.ends_with(".jpg")),
        "{:?}",
        files(&fresh)
    );
}

/// Ctrl-C while `job submit` still reads its images sends nothing: no job
/// is queued behind the user's back.
#[tokio::test]
async fn ctrl_c_before_a_job_is_submitted_queues_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    // A real image to follow the style of: one generated (and billed) first.
    let first = run(
        &[
            &against("ideogram", mock.api_url())[..],
            &["generate", "look", "-o", "look.png"],
        ]
        .concat(),
        &[("IDEOGRAM_API_KEY", key.as_str())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("look.json")).unwrap())
            .unwrap();
    let reference = sidecar["source_url"].as_str().unwrap().to_owned();
    let fetched = mock.cdn_requests().len();
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowHeaders(Duration::from_secs(30)),
    );
    let running = Running::start(
        &[
            &against("segmind", mock.api_url())[..],
            &[
                "job",
                "submit",
                "a fox",
                "--model",
                "3",
                "--style-ref",
                &reference,
            ],
        ]
        .concat(),
        &[("SEGMIND_API_KEY", key.as_str())],
        dir.path(),
    );
    // The reference is being fetched: the request is not sent yet.
    until("the reference to be fetched", || {
        mock.cdn_requests().len() > fetched
    })
    .await;
    running.signal("INT");
    let (code, err) = running.finish().await;
    assert_eq!(code, 130, "{err}");
    assert!(
        err.contains("interrupted before anything was sent"),
        "{err}"
    );
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1, "a job was queued");
}

/// A journal is a file this tool created or nothing: the user's notes, the
/// batch's own file (by any name) and a stranger's file named like a journal
/// are refused before anything is sent, named, and left as they were. A
/// journal written before the header line existed still resumes.
#[tokio::test]
async fn a_journal_is_never_appended_to_a_file_the_tool_did_not_create() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let lines = "{\"prompt\": \"prompt number 0\"}\n{\"prompt\": \"prompt number 1\"}\n";
    std::fs::write(dir.path().join("p.jsonl"), lines).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "my notes\n").unwrap();
    std::os::unix::fs::symlink("p.jsonl", dir.path().join("link.jsonl")).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let stranger = "{\"name\": \"someone else's\"}\n";
    std::fs::write(dir.path().join("out/.ideogram-batch.jsonl"), stranger).unwrap();
    let owned = batch_args("ideogram", mock.api_url(), Path::new("p.jsonl"), &[]);
    let args = strs(&owned);
    for (journal, why) in [
        (Some("notes.txt"), "notes.txt is not an ideogram journal"),
        (Some("p.jsonl"), "p.jsonl is the batch's own file"),
        (Some("link.jsonl"), "link.jsonl is the batch's own file"),
        (None, "out/.ideogram-batch.jsonl is not an ideogram journal"),
    ] {
        let extra = journal.map(|j| ["--journal", j]);
        let out = run(
            &[&args[..], extra.as_ref().map_or(&[][..], |e| &e[..])].concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 3, "{journal:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{journal:?}: {}", stderr(&out));
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "my notes\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.jsonl")).unwrap(),
        lines
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/.ideogram-batch.jsonl")).unwrap(),
        stranger
    );
    mock.settled().await;
    assert!(mock.ledger().entries.is_empty(), "sent before refusing");

    // A journal of its own starts with its header, and resumes.
    let journal = dir.path().join("mine.jsonl");
    let with_journal = [&args[..], &["--journal", "mine.jsonl"]].concat();
    let out = run(&with_journal, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(&journal).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["event"], "journal", "{text}");
    assert_eq!(header["format"], "ideogram-journal", "{text}");
    // An earlier version's journal (no header: its batch entry first) is
    // still this tool's: the rerun skips what it saved.
    let old: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&journal, old.join("\n") + "\n").unwrap();
    let out = run(&with_journal, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 2, "billed twice");
    // An empty file (created by a run killed at once, or by `touch`) is new.
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    let out = run(
        &[&args[..], &["--journal", "empty.jsonl"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("empty.jsonl")).unwrap();
    assert!(text.starts_with("{\"event\":\"journal\""), "{text}");
}

/// "Checked whole first" means whole: every image a line names (a file, a
/// mask, a URL) is opened, typed and measured before the first request, so
/// a bad third line costs nothing; fixed, the same batch runs in the same
/// folder (its journal recorded nothing sent).
#[tokio::test]
async fn every_image_of_every_line_is_checked_before_the_first_request() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "mask.png", 96, 64, [0, 0, 0]);
    write_png(dir.path(), "small-mask.png", 32, 32, [0, 0, 0]);
    assert!(
        Command::new("mkfifo")
            .arg(dir.path().join("fifo.png"))
            .status()
            .unwrap()
            .success()
    );
    let page = CaptureServer::start(|_| Canned::bytes(200, "image/png", b"<html>hi</html>")).await;
    let page = format!("{}/a.png", page.base_url());
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let owned = batch_args("ideogram", mock.api_url(), Path::new("p.txt"), &[]);
    let good = "prompt number 0\nprompt number 1\n";
    let edit = |image: &str, mask: &str| {
        format!(
            r#"{{"op": "edit", "image": "{image}", "mask": "{mask}", "prompt": "prompt number 2"}}"#
        )
    };
    for (bad, why) in [
        (edit("fifo.png", "mask.png"), "fifo.png is a FIFO"),
        (
            edit("photo.png", "small-mask.png"),
            "a mask is its image's size",
        ),
        (
            r#"{"op": "upscale", "image": "missing.png"}"#.to_owned(),
            "missing.png",
        ),
        (
            format!(r#"{{"prompt": "prompt number 2", "image": "{page}"}}"#),
            "the body is not an image",
        ),
    ] {
        std::fs::write(dir.path().join("p.txt"), format!("{good}{bad}\n")).unwrap();
        let out = run(&strs(&owned), &env, dir.path()).await;
        assert_eq!(code(&out), 3, "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("nothing was sent"),
            "{bad}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("item 3"), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{bad}: {}", stderr(&out));
        mock.settled().await;
        assert!(
            mock.ledger().entries.is_empty(),
            "{bad}: sent before refusing"
        );
    }
    std::fs::write(
        dir.path().join("p.txt"),
        format!("{good}{}\n", edit("photo.png", "mask.png")),
    )
    .unwrap();
    let out = run(&strs(&owned), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 3);
}

/// Two `job wait`s of one job into one folder save it once: the second
/// says where the first saved it. So does a wait run again later.
#[tokio::test]
async fn two_waits_of_one_job_into_one_folder_save_one_image() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_millis(800),
        ..MockConfig::default()
    })
    .await;
    let client = ideogram::Client::builder(ideogram::Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .unwrap();
    let job = client
        .submit(&ideogram::GenerateRequest::new("waited for twice"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let args = [
        &against("segmind", mock.api_url())[..],
        &["job", "wait", job.id(), "-o", "jobs/"],
    ]
    .concat();
    let waits: Vec<Running> = (0..3)
        .map(|_| Running::start(&args, &env, dir.path()))
        .collect();
    let mut printed = String::new();
    for wait in waits {
        let (code, err) = wait.finish().await;
        assert_eq!(code, 0, "{err}");
        printed.push_str(&err);
    }
    let again = run(&args, &env, dir.path()).await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    printed.push_str(&stderr(&again));
    let names = files(&dir.path().join("jobs"));
    let images: Vec<&String> = names.iter().filter(|n| n.ends_with(".jpg")).collect();
    assert_eq!(images.len(), 1, "{names:?}");
    let image = format!("jobs/{}", images[0]);
    assert_eq!(printed.matches("already saved").count(), 3, "{printed}");
    assert!(printed.contains(&image), "{printed}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1);
}

/// The queue is the default for Segmind's one-shot commands: `generate`
/// journals the request id in its output folder right after the submit, so
/// one killed while it waits is resumed by running it again (no second
/// charge), told to fetch now when little of Segmind's hour is left; the
/// journal is gone once the image is saved.
#[tokio::test]
async fn a_generate_killed_after_its_submit_resumes_without_paying_again() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_secs(3),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let args = [
        "generate",
        "a cat on a queue",
        "--provider",
        "segmind",
        "--base-url",
        mock.api_url(),
        "-o",
        "out/",
    ];
    let journal = || queued_journal(&dir.path().join("out"));
    kill_after_submit(&args, &env, dir.path(), &dir.path().join("out")).await;
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("a cat on a queue").count(), 1);
    let entry = &mock.ledger().entries[0];
    assert_eq!(entry.delivery, ideogram_mock::Delivery::Queued);

    // 55 minutes of the hour gone (the journal's submit time moved back).
    let path = journal().expect("the journal is kept");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .split("\"at\":")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("the submit time");
    std::fs::write(
        &path,
        text.replace(&format!("\"at\":{at}"), &format!("\"at\":{}", at - 55 * 60)),
    )
    .unwrap();

    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("queued job {}", entry.id)), "{err}");
    assert!(
        err.contains(
            "fetch now: Segmind keeps results for 1 hour after submission, 5 minutes left"
        ),
        "{err}"
    );
    assert_eq!(
        mock.ledger().for_prompt("a cat on a queue").count(),
        1,
        "not paid again"
    );
    assert!(journal().is_none(), "the journal is removed once saved");
    let saved: Vec<String> = files(&dir.path().join("out"));
    assert!(saved.iter().any(|f| f.ends_with(".json")), "{saved:?}");
    assert!(saved.iter().any(|f| !f.ends_with(".json")), "{saved:?}");
}

/// The same on Ideogram's v2: a call made with `async` answers a generation
/// id, journaled before the wait; killed (-9) during the wait, the command
/// run again polls that generation and pays nothing more.
#[tokio::test]
async fn an_ideogram_v2_job_killed_after_its_submit_resumes_without_paying_again() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_secs(3),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let args = [
        "generate",
        "a kite on v2",
        "--provider",
        "ideogram",
        "--model",
        "4.5",
        "--set",
        "async=true",
        "--base-url",
        mock.api_url(),
        "-o",
        "out/",
    ];
    kill_after_submit(&args, &env, dir.path(), &dir.path().join("out")).await;
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("a kite on v2").count(), 1);
    let entry = &mock.ledger().entries[0];
    assert_eq!(entry.operation, "/v2/image/generate/ideogram-4-5");

    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("queued job {}", entry.id)), "{err}");
    assert_eq!(
        mock.ledger().for_prompt("a kite on v2").count(),
        1,
        "not paid again"
    );
    assert!(queued_journal(&dir.path().join("out")).is_none());
    let saved: Vec<String> = files(&dir.path().join("out"));
    assert!(saved.iter().any(|f| !f.ends_with(".json")), "{saved:?}");
}

/// `--webhook-url` sends v2's `webhook_url` (so the call runs
/// asynchronously, is journaled and waited for); one that is not HTTPS is
/// refused by the spec's pattern before anything is sent.
#[tokio::test]
async fn a_webhook_url_is_sent_as_v2_s_field_and_an_http_one_is_refused() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let base = [
        "--provider",
        "ideogram",
        "--model",
        "4",
        "--base-url",
        mock.api_url(),
    ];
    let refused = [
        &["generate", "a kite"][..],
        &base,
        &["--webhook-url", "http://10.0.0.1/hook"],
    ]
    .concat();
    let out = run(&refused, &env, dir.path()).await;
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("webhook_url"), "{}", stderr(&out));
    assert!(mock.ledger().entries.is_empty(), "nothing sent");

    let sent = [
        &["generate", "a kite"][..],
        &base,
        &[
            "--webhook-url",
            "https://hooks.example/ideogram",
            "-o",
            "out/",
        ],
    ]
    .concat();
    let out = run(&sent, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation, "/v2/image/generate/ideogram-4");
    assert_eq!(
        entries[0].fields["webhook_url"],
        "https://hooks.example/ideogram"
    );
    let saved = files(&dir.path().join("out"));
    assert!(saved.iter().any(|f| f.ends_with(".png")), "{saved:?}");
}

/// The journal a one-shot queued command keeps in `out`, if any.
fn queued_journal(out: &Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".ideogram-queued-"))
        })
}

/// Runs `args` in `dir` and kills it (-9) once its journal in `out` holds
/// the request id.
async fn kill_after_submit(args: &[&str], env: &[(&str, &str)], dir: &Path, out: &Path) {
    let running = Running::start(args, env, dir);
    until("the request id journaled", || {
        queued_journal(out)
            .is_some_and(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("\"submitted\"")))
    })
    .await;
    running.signal("KILL");
    let (killed, _) = running.finish().await;
    assert_eq!(killed, -1);
}

/// A queued result gone past Segmind's hour: the rerun says so (the
/// expired error, with the hour from the spec), sends nothing, and names
/// the journal to remove to pay again.
#[tokio::test]
async fn a_generate_resumed_after_the_hour_says_it_expired_and_sends_nothing() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_secs(3),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let args = [
        "generate",
        "a late cat",
        "--provider",
        "segmind",
        "--base-url",
        mock.api_url(),
        "-o",
        "out/",
    ];
    kill_after_submit(&args, &env, dir.path(), &dir.path().join("out")).await;
    mock.settled().await;
    mock.configure(|c| c.retention = Duration::ZERO);
    for _ in 0..2 {
        let out = run(&args, &env, dir.path()).await;
        let err = stderr(&out);
        assert_eq!(code(&out), 7, "{err}");
        assert!(
            err.contains("unknown or expired (segmind keeps results 1 hour after submission)"),
            "{err}"
        );
        assert!(err.contains("to send it again, which pays again"), "{err}");
    }
    assert_eq!(mock.ledger().for_prompt("a late cat").count(), 1);
}

/// Batch lines for describe and layerize-text, on v1 and v2 (chosen by
/// `model` and `operation` as the commands choose): priced under
/// `--max-usd`, each billed once, a describe's words written to a text file
/// named from its image, a layerize's images saved as the command saves
/// them. Killed -9 while a layerize's image downloads, the rerun fetches
/// it from the journal; a describe whose file is gone is written again from
/// the journal: nothing is paid twice. A layerize line that would answer
/// later (`async`) is refused before anything is sent.
#[tokio::test]
async fn batch_describe_and_layerize_lines_are_billed_once_and_resume_after_a_kill() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let file = dir.path().join("lines.txt");

    std::fs::write(
        &file,
        r#"{"op": "layerize-text", "image": "photo.png", "operation": "post_layerize_v2_ideogram_3", "set": {"async": true}}"#,
    )
    .unwrap();
    let args = batch_args("ideogram", mock.api_url(), &file, &["--max-usd", "5"]);
    let out = run(&strs(&args), &env, dir.path()).await;
    let err = stderr(&out);
    assert_eq!(code(&out), 3, "{err}");
    assert!(err.contains("item 1: invalid async"), "{err}");
    assert!(err.contains("waits for its result itself"), "{err}");
    assert!(mock.ledger().entries.is_empty(), "nothing sent");

    let lines = [
        r#"{"op": "describe", "image": "photo.png"}"#,
        r#"{"op": "describe", "image": "photo.png", "model": "4"}"#,
        r#"{"op": "layerize-text", "image": "photo.png", "prompt": "a poster"}"#,
        r#"{"op": "layerize-text", "image": "photo.png", "operation": "post_layerize_v2_ideogram_3"}"#,
    ];
    // Priced under --max-usd before anything is sent: layerize at the
    // spec's price, describe, which the spec leaves unpriced, refused.
    std::fs::write(&file, lines[2..].join("\n")).unwrap();
    let args = batch_args("ideogram", mock.api_url(), &file, &["--max-usd", "0.1"]);
    let out = run(&strs(&args), &env, dir.path()).await;
    let err = stderr(&out);
    assert_eq!(code(&out), 12, "{err}");
    assert!(err.contains("more than --max-usd"), "{err}");
    std::fs::write(&file, lines[..1].join("\n")).unwrap();
    let out = run(&strs(&args), &env, dir.path()).await;
    let err = stderr(&out);
    assert_eq!(code(&out), 12, "{err}");
    assert!(
        err.contains("the spec gives no price for post_describe"),
        "{err}"
    );
    assert!(mock.ledger().entries.is_empty(), "nothing sent");
    // Refused unsent: no folder made for nothing.
    assert!(!dir.path().join("out").exists());
    // A file of the user's where the first description would go.
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/0001-photo.txt"), "mine").unwrap();

    std::fs::write(&file, lines.join("\n")).unwrap();
    let args = batch_args("ideogram", mock.api_url(), &file, &["--concurrency", "1"]);
    // The first layerize's image hangs: killed while it downloads.
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowBody(Duration::from_secs(60)),
    );
    let out_dir = dir.path().join("out");
    let running = Running::start(&strs(&args), &env, dir.path());
    until("a layerize's images journaled", || {
        journal(&out_dir).contains("\"generated\"")
    })
    .await;
    until("its download under way", || !mock.cdn_requests().is_empty()).await;
    running.signal("KILL");
    let (killed, _) = running.finish().await;
    assert_eq!(killed, -1);
    mock.clear_faults();
    mock.settled().await;
    assert_eq!(
        mock.ledger().entries.len(),
        3,
        "two describes, one layerize"
    );

    let out = run(&strs(&args), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let billed: Vec<String> = mock
        .ledger()
        .entries
        .iter()
        .map(|e| e.operation.clone())
        .collect();
    assert_eq!(
        billed,
        [
            "/describe",
            "/v2/image/describe/ideogram-4",
            "/v1/ideogram-v3/layerize-text",
            "/v2/design/layerize/ideogram-3",
        ],
        "each line billed once, the layerize killed mid-download not again"
    );
    let saved = files(&out_dir);
    for name in [
        "0001-photo-2.txt",
        "0002-photo.txt",
        "0003-a-poster.png",
        "0003-a-poster.json",
    ] {
        assert!(saved.contains(&name.to_owned()), "{name}: {saved:?}");
    }
    assert!(
        saved
            .iter()
            .any(|f| f.starts_with("0004-text-layers") && f.ends_with(".png")),
        "{saved:?}"
    );
    assert!(
        !saved
            .iter()
            .any(|f| f.starts_with("0001-photo") && f.ends_with(".json")),
        "a description has no sidecar: {saved:?}"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("0001-photo.txt")).unwrap(),
        "mine",
        "never written over"
    );
    let words = std::fs::read_to_string(out_dir.join("0001-photo-2.txt")).unwrap();
    assert!(!words.trim().is_empty());
    let json_prompt = std::fs::read_to_string(out_dir.join("0002-photo.txt")).unwrap();
    serde_json::from_str::<Value>(json_prompt.trim()).expect("4.0's description is a json_prompt");
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("0003-a-poster.json")).unwrap())
            .unwrap();
    assert!(sidecar["cost"].is_object(), "{sidecar}");

    // A description removed is written again from the journal, unpaid.
    std::fs::remove_file(out_dir.join("0001-photo-2.txt")).unwrap();
    let out = run(&strs(&args), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 4, "not paid again");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("0001-photo-2.txt")).unwrap(),
        words
    );
}

/// The command a failure's hint gives between backticks after `before`,
/// split into its words (the ids here need no quoting).
fn hinted_command(stderr: &str, before: &str) -> Vec<String> {
    let at = stderr
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in: {stderr}"));
    let command = stderr[at + 1..].split('`').next().unwrap();
    command
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches('\'').to_owned())
        .collect()
}

/// An Ideogram v2 generation whose status check fails after it was
/// queued runs on and bills: the command the failure names fetches it
/// as typed (`job` alone defaults to Segmind, so it must name Ideogram),
/// and fetching it pays nothing more.
#[tokio::test]
async fn a_failed_check_on_an_ideogram_job_names_a_wait_that_fetches_it() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    // The first status check is refused (not retried): the job runs on.
    mock.inject(
        Target::PathPrefix("/v2/generations".into()),
        Fault::Status(403),
    );
    let args = [
        "generate",
        "a kite checked too early",
        "--provider",
        "ideogram",
        "--model",
        "4.5",
        "--set",
        "async=true",
        "--base-url",
        mock.api_url(),
        "-o",
        "out/",
    ];
    let out = run(&args, &env, dir.path()).await;
    assert_ne!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let mut wait = hinted_command(&err, "`ideogram job wait");
    assert_eq!(wait[..2], ["job", "wait"], "{err}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1, "{err}");
    let id = mock.ledger().entries[0].id.clone();
    assert_eq!(wait[2], id, "{err}");
    // As the user would type it, against this mock.
    wait.extend(["--base-url", mock.api_url(), "-o", "fetched/"].map(String::from));
    let fetched = run(&strs(&wait), &env, dir.path()).await;
    assert_eq!(code(&fetched), 0, "{wait:?}: {}", stderr(&fetched));
    assert!(!files(&dir.path().join("fetched")).is_empty());
    assert_eq!(mock.ledger().entries.len(), 1, "not paid again");
}

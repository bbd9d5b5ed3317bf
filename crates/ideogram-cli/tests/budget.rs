//! Budgets that hold (`--max-usd`) and a spend record (`ideogram spend`):
//! every test audits the mock's ledger, the only word on what was billed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    code, file_holds, mock, run, start_batch_until_half_way, stderr, stdout, write_batch, write_png,
};
use ideogram_mock::{MockConfig, MockServer};

/// The exit code of a refusal over budget.
const OVER_BUDGET: i32 = 12;

/// What the mock's ledger says was billed, in millionths of a dollar
/// (every entry priced).
fn ledger_usd(mock: &MockServer) -> u64 {
    let ledger = mock.ledger();
    ledger
        .entries
        .iter()
        .map(|e| e.usd_micros.unwrap_or_else(|| panic!("unpriced: {e:?}")))
        .sum()
}

/// `--provider ideogram --base-url URL` and `rest`.
fn on_ideogram<'a>(mock: &'a MockServer, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--provider", "ideogram", "--base-url", mock.api_url()];
    args.extend_from_slice(rest);
    args
}

/// The environment a command runs with.
type Env<'a> = [(&'a str, &'a str)];

/// Ideogram 4.5 at high quality: $0.10 an image, exact, by its dry run.
const DIME: [&str; 4] = ["--model", "4.5", "--set", "quality=high"];

#[tokio::test]
async fn a_command_over_its_budget_sends_nothing_and_says_the_price_and_the_budget() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let generate = |budget: &'static str| {
        let mut args = on_ideogram(&mock, &["generate", "a lighthouse", "--num-images", "2"]);
        args.extend(DIME);
        args.extend(["--max-usd", budget, "-o", "out/"]);
        args
    };
    let out = run(&generate("0.19"), &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("$0.20") && err.contains("$0.19"), "{err}");
    assert!(mock.ledger().entries.is_empty(), "nothing billed");
    assert!(
        !dir.path().join("out").exists(),
        "a folder made for nothing"
    );

    // With --json, the class says so too.
    let mut json = generate("0.19");
    json.insert(0, "--json");
    let out = run(&json, &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET);
    assert!(stderr(&out).contains("\"over_budget\""), "{}", stderr(&out));

    // Within it, it runs; the sidecars say what it cost and from where.
    let out = run(&generate("0.20"), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(ledger_usd(&mock), 200_000);
    let shares = sidecar_costs(&dir.path().join("out"));
    assert_eq!(shares.iter().map(|(n, _)| n).sum::<u64>(), 200_000);
    assert!(
        shares.iter().all(|(_, from)| from == "dry_run"),
        "{shares:?}"
    );

    // An amount that is not one is an invalid request naming the flag.
    let out = run(&generate("1e3"), &env, dir.path()).await;
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("--max-usd"), "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1);
}

#[tokio::test]
async fn an_unpriced_request_under_a_budget_is_refused_and_without_one_runs() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    // Segmind's legacy text-to-image has no published price.
    let mut args = vec![
        "--provider",
        "segmind",
        "--base-url",
        mock.api_url(),
        "generate",
        "a fox",
        "-o",
        "out/",
    ];
    let out = run(&[&args[..], &["--max-usd", "5"]].concat(), &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no price known: cannot keep to --max-usd"),
        "{}",
        stderr(&out)
    );
    assert!(mock.ledger().entries.is_empty());
    args.push("--json");
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1);
    // Paid at a price nothing knows: spend says so, not a total without it.
    let spent = spend_json(&dir.path().join("out"), dir.path()).await;
    assert_eq!(spent["unpriced"], 1, "{spent}");
    assert_eq!(spent["usd"], "at least $0.00", "{spent}");
}

#[tokio::test]
async fn a_batch_over_budget_sends_nothing_and_names_the_dearest_lines() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    // Four lines at $0.10, the third asking for three images.
    let lines = [
        "one",
        "two",
        r#"{"prompt": "three", "num_images": 3}"#,
        "four",
    ];
    std::fs::write(dir.path().join("b.txt"), lines.join("\n")).unwrap();
    let mut args = on_ideogram(&mock, &["batch", "b.txt", "-o", "out"]);
    args.extend(DIME);
    let out = run(
        &[&args[..], &["--max-usd", "0.59"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("$0.60") && err.contains("$0.59"), "{err}");
    assert!(err.contains("item 3 up to $0.30"), "{err}");
    assert!(mock.ledger().entries.is_empty(), "nothing billed");
    assert!(
        !dir.path().join("out").exists(),
        "a folder made for nothing"
    );

    let out = run(
        &[&args[..], &["--max-usd", "0.60"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(ledger_usd(&mock), 600_000);
    // The journal records each item's cost; `spend` adds them up.
    let spent = spend_json(&dir.path().join("out"), dir.path()).await;
    assert_eq!(spent["usd_micros"], 600_000, "{spent}");
}

#[tokio::test]
async fn a_budgeted_batch_killed_and_run_again_never_spends_past_its_budget() {
    let mock = mock(MockConfig {
        latency: Duration::from_millis(200),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let count = 8;
    let file = write_batch(dir.path(), count);
    let mut args = on_ideogram(&mock, &["batch", file.to_str().unwrap(), "-o", "out"]);
    args.extend(DIME);
    args.extend(["--concurrency", "3"]);
    let budget = ["--max-usd", "0.80"];
    let first = [&args[..], &budget].concat();
    let mut child = start_batch_until_half_way(&first, dir.path(), "IDEOGRAM_API_KEY", &key).await;
    child.kill().unwrap(); // SIGKILL: requests in flight die with it.
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let journal = dir.path().join("out/.ideogram-batch.jsonl");
    let sending = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .matches("\"sending\"")
            .count()
    };
    let sent_before = sending(&journal);
    assert!(
        ledger_usd(&mock) < 800_000,
        "killed too late to test anything"
    );

    // Run again under a budget what was spent and the rest cannot fit:
    // refused, nothing more sent.
    let lower = [&args[..], &["--max-usd", "0.70"]].concat();
    let out = run(&lower, &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("spent by earlier runs"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sending(&journal), sent_before, "nothing sent");

    // Under the first budget it finishes (items the kill left uncertain
    // are reported, not sent again), and never passes it.
    let out = run(&first, &env, dir.path()).await;
    let uncertain = stderr(&out).matches("not sent again").count();
    assert_eq!(
        code(&out),
        if uncertain > 0 { 7 } else { 0 },
        "{}",
        stderr(&out)
    );
    assert!(ledger_usd(&mock) <= 800_000);
    file_holds(&journal, "\"cost\"", count - uncertain).await;
    // Asked, the uncertain ones are sent again, still within the budget
    // (each counted at its price already, whether billed or not).
    let resend = [&first[..], &["--resend-uncertain"]].concat();
    let out = run(&resend, &env, dir.path()).await;
    if uncertain > 0 {
        assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    }
    assert!(ledger_usd(&mock) <= 800_000);
}

#[tokio::test]
async fn spend_equals_the_ledger_for_a_mixed_run() {
    let mock = mock(MockConfig {
        usage_costs: true,
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    write_png(dir.path(), "in.png", 512, 512, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 512, 512, [0, 0, 0]);
    let ideogram = [("IDEOGRAM_API_KEY", key.as_str())];
    let segmind = [("SEGMIND_API_KEY", key.as_str())];
    let runs: Vec<(Vec<&str>, &Env)> = vec![
        (
            [
                &on_ideogram(&mock, &["generate", "a fox", "-o", "out/"])[..],
                &DIME,
            ]
            .concat(),
            &ideogram,
        ),
        (
            on_ideogram(
                &mock,
                &["edit", "in.png", "mask.png", "a hat", "-o", "out/"],
            ),
            &ideogram,
        ),
        (
            vec![
                "--provider",
                "segmind",
                "--base-url",
                mock.api_url(),
                "generate",
                "a heron",
                "--model",
                "V_3",
                "-o",
                "out/",
            ],
            &segmind,
        ),
    ];
    for (args, env) in &runs {
        let out = run(args, env, dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 3);
    let spent = spend_json(&out_dir, dir.path()).await;
    assert_eq!(spent["usd_micros"], ledger_usd(&mock), "{spent}");
    let providers: Vec<&str> = spent["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["provider"].as_str())
        .collect();
    assert!(
        providers.contains(&"segmind") && providers.contains(&"ideogram"),
        "{spent}"
    );
    // The text form says the same total.
    let out = run(&["spend", "out"], &[], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let total = format!("total {}", ideogram::dollars(ledger_usd(&mock)));
    assert!(stdout(&out).contains(&total), "{}", stdout(&out));
}

/// Each sidecar's share of its call's cost and where the figure is from.
fn sidecar_costs(dir: &Path) -> Vec<(u64, String)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let record: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let cost = &record["cost"];
            (
                cost["share_usd_micros"].as_u64().expect("a share"),
                cost["from"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// `ideogram --json spend DIR`, run in `cwd`.
async fn spend_json(dir: &Path, cwd: &Path) -> serde_json::Value {
    let out = run(&["--json", "spend", dir.to_str().unwrap()], &[], cwd).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test]
async fn every_command_that_spends_keeps_to_its_budget() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    write_png(dir.path(), "in.png", 512, 512, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 512, 512, [0, 0, 0]);
    std::fs::write(dir.path().join("b.txt"), "a fox\n").unwrap();
    let commands: [&[&str]; 12] = [
        &["generate", "a fox"],
        &["remix", "in.png", "a fox"],
        &["edit", "in.png", "mask.png", "a hat"],
        &["reframe", "in.png", "1024x1024"],
        &["replace-background", "in.png", "a beach"],
        &["upscale", "in.png"],
        &["remove-background", "in.png"],
        &["remove-object", "in.png", "mask.png"],
        &["layerize-text", "in.png"],
        &["describe", "in.png"],
        // A v2 generation: Ideogram queues only those (any other submit is
        // refused as invalid before it is priced).
        &["job", "submit", "a fox", "--model", "4.5"],
        &["batch", "b.txt", "-o", "out"],
    ];
    for command in commands {
        // A millionth of a dollar buys nothing.
        let args = [&on_ideogram(&mock, command)[..], &["--max-usd", "0.000001"]].concat();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), OVER_BUDGET, "{command:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--max-usd"),
            "{command:?}: {}",
            stderr(&out)
        );
        assert!(mock.ledger().entries.is_empty(), "{command:?} billed");
    }
}

/// A one-shot command killed after its submit and run again waits for the
/// same job; its sidecar still says what the call cost, so `spend` agrees
/// with the ledger.
#[tokio::test]
async fn a_resumed_command_records_what_its_job_cost() {
    let mock = mock(MockConfig {
        processing_for: Duration::from_secs(2),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let args = [
        "--provider",
        "segmind",
        "--base-url",
        mock.api_url(),
        "generate",
        "a heron",
        "--model",
        "V_3",
        "-o",
        "out/",
    ];
    let out_dir = dir.path().join("out");
    let running = common::Running::start(&args, &env, dir.path());
    common::until("the request id journaled", || {
        std::fs::read_dir(&out_dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".ideogram-queued-")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("\"submitted\""))
            })
        })
    })
    .await;
    running.signal("KILL");
    let (killed, _) = running.finish().await;
    assert_eq!(killed, -1);
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1, "not paid again");
    let spent = spend_json(&out_dir, dir.path()).await;
    assert_eq!(spent["usd_micros"], ledger_usd(&mock), "{spent}");
}

/// Issue 27: `job submit` then `job wait` on Segmind's 3.0, priced as a
/// range, and `generate` of the same: `spend` never says a certain figure
/// other than the ledger's (the range the call was billed within, or that
/// a paid call's price is not known).
#[tokio::test]
async fn spend_of_ranged_and_waited_jobs_never_states_a_figure_the_ledger_contradicts() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let on_segmind = |rest: &[&'static str]| {
        let mut args = vec!["--provider", "segmind", "--base-url", mock.api_url()];
        args.extend_from_slice(rest);
        args
    };
    let out_dir = dir.path().join("out");
    let heron = ["generate", "a heron", "--model", "V_3", "-o", "out/"];
    let out = run(&on_segmind(&heron), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let spent = spend_json(&out_dir, dir.path()).await;
    let (least, most) = (
        spent["usd_micros"].as_u64(),
        spent["most_usd_micros"].as_u64(),
    );
    let billed = ledger_usd(&mock);
    assert!(
        least.is_some_and(|least| least <= billed) && most.is_some_and(|most| billed <= most),
        "a range holding {billed}: {spent}"
    );
    let text = stdout(&run(&["spend", "out"], &[], dir.path()).await);
    let range = format!(
        "{} to {}",
        ideogram::dollars(least.unwrap()),
        ideogram::dollars(most.unwrap())
    );
    assert!(text.contains(&range), "{text}");

    let submit = ["job", "submit", "a waited heron", "--model", "V_3"];
    let out = run(&on_segmind(&submit), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    let wait = ["job", "wait", id.as_str(), "-o", "out/"];
    let mut args = vec!["--provider", "segmind", "--base-url", mock.api_url()];
    args.extend_from_slice(&wait);
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let billed = ledger_usd(&mock);
    let spent = spend_json(&out_dir, dir.path()).await;
    // The waited job's model is not known here: its price neither; spend
    // says so rather than a total that leaves it out.
    assert_eq!(spent["unpriced"], 1, "{spent}");
    assert!(
        spent["usd_micros"].as_u64().unwrap() < billed && spent["most_usd_micros"].is_null(),
        "{spent}"
    );
    let text = stdout(&run(&["spend", "out"], &[], dir.path()).await);
    assert!(text.contains("at least"), "{text}");
}

/// Issue 27: a one-shot command records what it cost with or without a
/// budget: `layerize-text` without `--max-usd` too (the spec's price,
/// which sends nothing), so `spend` equals the ledger.
#[tokio::test]
async fn layerize_text_without_a_budget_is_recorded() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    write_png(dir.path(), "in.png", 512, 512, [200, 40, 40]);
    let args = on_ideogram(&mock, &["layerize-text", "in.png", "-o", "out/"]);
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.posts_received(), 1, "priced without sending");
    let spent = spend_json(&dir.path().join("out"), dir.path()).await;
    assert_eq!(spent["usd_micros"], ledger_usd(&mock), "{spent}");
}

/// Issue 27: what an earlier run spent on a line priced as a range
/// (Segmind's 3.0, $0.037 to $0.113) counts at the range's top against a
/// resumed batch's budget: what was billed within it is not known, so a
/// budget that only its low end leaves room in is not spent again.
#[tokio::test]
async fn a_resumed_batch_counts_an_earlier_ranged_cost_at_its_most() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    // The second line's job fails, unbilled: a rerun sends it again.
    let lines = format!("a heron\na heron {}\n", ideogram_mock::FAIL_TRIGGER);
    std::fs::write(dir.path().join("herons.txt"), lines).unwrap();
    let batch = |budget: &'static str| {
        let mut args = vec!["--provider", "segmind", "--base-url", mock.api_url()];
        args.extend(["batch", "herons.txt", "-o", "out", "--model", "V_3"]);
        args.extend(["--concurrency", "1", "--max-usd", budget]);
        args
    };
    let out = run(&batch("0.30"), &env, dir.path()).await;
    assert_ne!(code(&out), 0, "the second line fails: {}", stderr(&out));
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1);
    let posts = mock.posts_received();

    // $0.113 spent at most, and up to $0.113 for the line left, passes
    // $0.20 (the low end, $0.037, would have let it through).
    let out = run(&batch("0.20"), &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    assert_eq!(mock.posts_received(), posts, "nothing sent");
}

/// Issue 27: a batch's billed call that nothing prices (Ideogram's
/// describe) is recorded as paid at an unknown price, so `spend` says "at
/// least" instead of a total that leaves it out; and once every line is
/// done, a rerun under a budget sends nothing and is not refused for a
/// price it no longer needs.
#[tokio::test]
async fn a_batch_records_an_unpriced_describe_and_a_finished_batch_reruns_under_a_budget() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    write_png(dir.path(), "photo.png", 64, 48, [200, 80, 40]);
    let lines = "{\"op\": \"describe\", \"image\": \"photo.png\"}\na red fox\n";
    std::fs::write(dir.path().join("lines.txt"), lines).unwrap();
    let batch = on_ideogram(&mock, &["batch", "lines.txt", "-o", "out", "--model", "3"]);
    let out = run(&batch, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 2);
    let spent = spend_json(&dir.path().join("out"), dir.path()).await;
    assert_eq!(spent["unpriced"], 1, "{spent}");
    assert!(
        spent["usd"].as_str().unwrap().starts_with("at least "),
        "{spent}"
    );

    let posts = mock.posts_received();
    let budgeted = [&batch[..], &["--max-usd", "0.01"]].concat();
    let out = run(&budgeted, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "nothing left to send: {}", stderr(&out));
    assert_eq!(mock.posts_received(), posts);
}

/// A command refused before it sends anything leaves no folder it made
/// (nor the journal and lock a batch made in it): generate and edit over
/// their budget into a new nested folder, a batch over its budget or with
/// an image it cannot read. A folder that was there stays, with what it
/// held.
#[tokio::test]
async fn a_command_refused_unsent_leaves_no_folder_behind() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    write_png(dir.path(), "in.png", 512, 512, [10, 20, 30]);
    write_png(dir.path(), "mask.png", 512, 512, [0, 0, 0]);
    let mut generate = on_ideogram(&mock, &["generate", "a lighthouse", "-o", "new/deeper/"]);
    generate.extend(DIME);
    generate.extend(["--max-usd", "0.01"]);
    let edit = on_ideogram(
        &mock,
        &[
            "edit",
            "in.png",
            "mask.png",
            "a lighthouse",
            "-o",
            "edited/",
            "--max-usd",
            "0.001",
        ],
    );
    std::fs::write(dir.path().join("b.txt"), "one\ntwo\n").unwrap();
    let mut batch = on_ideogram(
        &mock,
        &["batch", "b.txt", "-o", "batched", "--max-usd", "0.01"],
    );
    batch.extend(DIME);
    std::fs::write(
        dir.path().join("c.txt"),
        r#"{"prompt": "a", "image": "gone.png"}"#,
    )
    .unwrap();
    let unreadable = on_ideogram(&mock, &["batch", "c.txt", "-o", "unread"]);
    for (args, made) in [
        (&generate, "new"),
        (&edit, "edited"),
        (&batch, "batched"),
        (&unreadable, "unread"),
    ] {
        let out = run(args, &env, dir.path()).await;
        assert_ne!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("sent"), "{args:?}: {}", stderr(&out));
        let made = dir.path().join(made);
        let left = made.exists().then(|| common::walk(&made));
        assert!(left.is_none(), "{} left behind: {left:?}", made.display());
    }
    // A folder that was there stays, with what it held.
    std::fs::create_dir_all(dir.path().join("new")).unwrap();
    std::fs::write(dir.path().join("new/notes.txt"), "mine").unwrap();
    let out = run(&generate, &env, dir.path()).await;
    assert_eq!(code(&out), OVER_BUDGET, "{}", stderr(&out));
    assert!(!dir.path().join("new/deeper").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("new/notes.txt")).unwrap(),
        "mine"
    );
    mock.settled().await;
    assert!(mock.ledger().entries.is_empty(), "{:?}", mock.ledger());
}

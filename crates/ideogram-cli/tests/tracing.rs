//! `-v`, `-vv` and `RUST_LOG`: what the client did, on stderr, with the key
//! nowhere in it.

mod common;

use common::*;
use ideogram_mock::{Fault, MockConfig, Target};

/// A key no other text could hold by chance.
const KEY: &str = "sg_tr4ce-zq9x-k3y-7730165";
/// A wrong one, sent and refused: as secret as the right one.
const WRONG_KEY: &str = "sg_wr0ng-zq9x-k3y-5521";

fn assert_keyless(trace: &str) {
    for key in [KEY, WRONG_KEY] {
        // Any long piece of it, in case a line was cut or wrapped.
        for piece in key.as_bytes().windows(10) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!trace.contains(piece), "{piece:?} of a key in the trace");
        }
    }
}

#[tokio::test]
async fn a_full_trace_of_retries_polls_downloads_and_failures_holds_no_key() {
    let mock = mock(MockConfig {
        api_key: KEY.to_owned(),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let trace_all = [("RUST_LOG", "trace")];
    let mut traces = String::new();

    // Ideogram: a 429 (sent again), an image host's 503 (fetched again).
    mock.inject(Target::Method("POST".into()), Fault::Status(429));
    mock.inject(Target::ImagePath("/images/".into()), Fault::Status(503));
    let out = run(
        &[
            "generate",
            "a fox in the snow",
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "-o",
            "fox.png",
        ],
        &[("IDEOGRAM_API_KEY", KEY), trace_all[0]],
        dir.path(),
    )
    .await;
    let trace = stderr(&out);
    assert_eq!(code(&out), 0, "{trace}");
    for shown in [
        "generate{provider=ideogram model=V_2}",
        "attempt{attempt=1}",
        "http{operation=\"post_generate_image\" provider=\"ideogram\" method=POST path=\"/generate\"",
        "status=429",
        "retrying",
        "attempt{attempt=2}",
        "status=200",
        "duration_ms=",
        "prompt=\"a fox in the snow\"",
        "download{url=",
        "download retrying",
        "downloaded",
        "saved",
    ] {
        assert!(trace.contains(shown), "{shown:?} missing from:\n{trace}");
    }
    traces.push_str(&trace);

    // Segmind's queue (a batch): a status check answered 500 is asked again.
    std::fs::write(dir.path().join("prompts.txt"), "a lighthouse\n").unwrap();
    mock.inject(
        Target::PathPrefix("/v2/requests/".into()),
        Fault::Status(500),
    );
    let out = run(
        &[
            "batch",
            "prompts.txt",
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "-o",
            "batch",
        ],
        &[("SEGMIND_API_KEY", KEY), trace_all[0]],
        dir.path(),
    )
    .await;
    let trace = stderr(&out);
    assert_eq!(code(&out), 0, "{trace}");
    for shown in [
        "submit{",
        "queued",
        "job{id=seg-",
        "polled",
        "status=500",
        "billing=Free",
    ] {
        assert!(trace.contains(shown), "{shown:?} missing from:\n{trace}");
    }
    traces.push_str(&trace);

    // A 500 on a POST is not sent again, and says so; a wrong key is refused.
    // (Another prompt each: the 500's submit may have billed, and its
    // journal keeps the same request from being sent again.)
    let heron = async |key: &str, prompt: &str| {
        let args = [
            "generate",
            prompt,
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
        ];
        run(&args, &[("SEGMIND_API_KEY", key), trace_all[0]], dir.path()).await
    };
    mock.inject(Target::Method("POST".into()), Fault::Status(500));
    let out = heron(KEY, "a heron").await;
    let trace = stderr(&out);
    assert_eq!(code(&out), 8, "{trace}");
    assert!(trace.contains("not retried"), "{trace}");
    traces.push_str(&trace);

    let out = heron(WRONG_KEY, "a grey heron").await;
    let trace = stderr(&out);
    assert_eq!(code(&out), 4, "{trace}");
    assert!(trace.contains("status=401"), "{trace}");
    traces.push_str(&trace);

    assert_keyless(&traces);
}

#[tokio::test]
async fn v_shows_requests_but_not_prompts_and_no_flag_shows_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let generate = |verbosity: &'static str| {
        let mut args = vec![
            "generate",
            "a secret garden",
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
        ];
        if !verbosity.is_empty() {
            args.push(verbosity);
        }
        args
    };

    let out = run(&generate("-v"), &[("SEGMIND_API_KEY", &key)], dir.path()).await;
    let trace = stderr(&out);
    assert_eq!(code(&out), 0, "{trace}");
    // Segmind's queue, the default: the submit, then the job's polls.
    assert!(
        trace.contains("http{operation=\"submit_ideogram_txt_2_img\""),
        "{trace}"
    );
    assert!(trace.contains("job{id=seg-"), "{trace}");
    // The traces (not the CLI's own notes, which name the file).
    let traced: Vec<&str> = trace.lines().filter(|l| l.contains(" DEBUG ")).collect();
    for prompt in ["a secret garden", "secret-garden"] {
        assert!(
            traced.iter().all(|l| !l.contains(prompt)),
            "a prompt below TRACE: {trace}"
        );
    }

    let out = run(&generate("-vv"), &[("SEGMIND_API_KEY", &key)], dir.path()).await;
    assert!(
        stderr(&out).contains("prompt=\"a secret garden\""),
        "{}",
        stderr(&out)
    );

    let out = run(&generate(""), &[("SEGMIND_API_KEY", &key)], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("http{"), "{}", stderr(&out));
}

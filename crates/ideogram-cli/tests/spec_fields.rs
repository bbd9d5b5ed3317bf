//! The command line speaks the spec's field names: flags are their kebab
//! case (today's flags as aliases), `--set` reaches any field, a batch line
//! is the library's JSON form, and `--operation` picks an operation by its
//! spec id. Each test looks at what reached the wire: a loopback server
//! records the body and refuses it (a 400, never billed).

mod common;

use common::*;
use ideogram_mock::MockConfig;
use serde_json::Value;
use workspace_tests::{Canned, CaptureServer};

/// A server that records each request and refuses it as invalid.
async fn refusing() -> CaptureServer {
    CaptureServer::start(|_| Canned::json(400, serde_json::json!({"error": "refused"}))).await
}

/// `args` run against `server` as `provider`, and the one body it got.
async fn sent(server: &CaptureServer, provider: &str, args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let url = server.base_url();
    let mut all = vec!["--provider", provider, "--base-url", url.as_str()];
    all.extend_from_slice(args);
    let key = [("IDEOGRAM_API_KEY", "k"), ("SEGMIND_API_KEY", "k")];
    let out = run(&all, &key, dir.path()).await;
    assert_ne!(code(&out), 0, "the server refuses everything");
    let seen = server.requests();
    let record = seen
        .last()
        .unwrap_or_else(|| panic!("nothing sent: {}", stderr(&out)));
    record.wire_record()
}

#[tokio::test]
async fn set_reaches_the_wire_and_a_field_no_body_has_is_refused_unsent() {
    let server = refusing().await;
    let wire = sent(
        &server,
        "ideogram",
        &[
            "generate",
            "a fox",
            "--model",
            "2",
            "--set",
            "magic_prompt_version=V_0_5",
            "--set",
            "seed=4242",
        ],
    )
    .await;
    let body = &wire["body"]["image_request"];
    assert_eq!(body["magic_prompt_version"], "V_0_5", "{wire}");
    // Read as JSON: a number stays a number.
    assert_eq!(body["seed"], 4242, "{wire}");

    let dir = tempfile::tempdir().unwrap();
    let url = server.base_url();
    let before = server.requests().len();
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &url,
            "generate",
            "a fox",
            "--set",
            "no_such_field=1",
        ],
        &[("IDEOGRAM_API_KEY", "k")],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: invalid no_such_field: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.requests().len(), before, "a refused field was sent");
}

#[tokio::test]
async fn a_batch_line_s_spec_fields_reach_the_wire() {
    let server = refusing().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("items.jsonl"),
        r#"{"prompt": "a fox", "model": "2", "magic_prompt_version": "V_0_5", "negative_prompt": "fog", "style_type": "DESIGN"}"#,
    )
    .unwrap();
    let url = server.base_url();
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &url,
            "batch",
            "items.jsonl",
            "-o",
            "out",
            "--seed",
            "7",
        ],
        &[("IDEOGRAM_API_KEY", "k")],
        dir.path(),
    )
    .await;
    assert_ne!(code(&out), 0);
    let wire = server.single_request().wire_record();
    let body = &wire["body"]["image_request"];
    assert_eq!(body["magic_prompt_version"], "V_0_5", "{wire}");
    assert_eq!(body["negative_prompt"], "fog", "{wire}");
    assert_eq!(body["style_type"], "DESIGN", "{wire}");
    // The batch's command line applies to every line.
    assert_eq!(body["seed"], 7, "{wire}");
}

#[tokio::test]
async fn today_s_flags_are_aliases_of_the_spec_named_ones() {
    let server = refusing().await;
    let common = ["generate", "a fox", "--model", "2"];
    let old = [
        "--aspect",
        "16:9",
        "--palette",
        "ember",
        "--style",
        "design",
        "--negative",
        "fog",
    ];
    let new = [
        "--aspect-ratio",
        "16:9",
        "--color-palette",
        "ember",
        "--style-type",
        "DESIGN",
        "--negative-prompt",
        "fog",
    ];
    let by_old = sent(&server, "ideogram", &[&common[..], &old[..]].concat()).await;
    let by_new = sent(&server, "ideogram", &[&common[..], &new[..]].concat()).await;
    assert_eq!(by_old["body"], by_new["body"]);
    let body = &by_new["body"]["image_request"];
    assert_eq!(body["aspect_ratio"], "ASPECT_16_9", "{by_new}");
    assert_eq!(body["color_palette"]["name"], "EMBER", "{by_new}");
    assert_eq!(body["style_type"], "DESIGN", "{by_new}");
    assert_eq!(body["negative_prompt"], "fog", "{by_new}");

    // Ideogram 3.0 on Segmind: the rendering speed, by either name.
    let v3 = ["generate", "a fox", "--model", "3"];
    let by_old = sent(
        &server,
        "segmind",
        &[&v3[..], &["--speed", "turbo"]].concat(),
    )
    .await;
    let by_new = sent(
        &server,
        "segmind",
        &[&v3[..], &["--rendering-speed", "TURBO"]].concat(),
    )
    .await;
    assert_eq!(by_old["body"], by_new["body"]);
    assert_eq!(by_new["body"]["rendering_speed"], "TURBO", "{by_new}");
}

#[tokio::test]
async fn operation_picks_an_operation_by_its_spec_id() {
    let server = refusing().await;
    let wire = sent(
        &server,
        "segmind",
        &[
            "generate",
            "a fox",
            "--model",
            "3",
            "--operation",
            "ideogram_3",
        ],
    )
    .await;
    // Sent through its queued twin, Segmind's default; `--sync` pins it.
    assert_eq!(wire["path"], "/v2/ideogram-3", "{wire}");
    let wire = sent(
        &server,
        "segmind",
        &[
            "generate",
            "a fox",
            "--model",
            "3",
            "--operation",
            "ideogram_3",
            "--sync",
        ],
    )
    .await;
    assert_eq!(wire["path"], "/v1/ideogram-3", "{wire}");

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "--offline",
            "--provider",
            "segmind",
            "generate",
            "a fox",
            "--operation",
            "no_such_operation",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: invalid operation: \"no_such_operation\""),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn job_submit_queues_a_remix_with_the_generate_options() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 64, 64, [20, 90, 200]);
    let key = mock.api_key();
    let at = ["--provider", "segmind", "--base-url", mock.api_url()];
    let out = run(
        &[
            &at[..],
            &[
                "job",
                "submit",
                "the same at night",
                "--image",
                "photo.png",
                "--image-weight",
                "70",
                "--model",
                "3",
                "--seed",
                "4242",
            ],
        ]
        .concat(),
        &[("SEGMIND_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    let out = run(
        &[&at[..], &["job", "wait", &id, "-o", "night.png"]].concat(),
        &[("SEGMIND_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].operation, "ideogram-3-remix");
    assert_eq!(ledger.entries[0].seed, 4242);
}

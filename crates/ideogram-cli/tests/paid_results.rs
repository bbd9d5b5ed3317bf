//! No paid result without a home: an answer that does not decode still
//! leaves its URLs and fetch commands and says it was billed; an image the
//! answer did not deliver is billed, not a safety refusal; an image that
//! cannot be written anywhere is reported as lost, never with a command or
//! a URL that does not exist.

mod common;

use std::path::Path;

use common::*;
use ideogram_mock::ImageSpec;
use serde_json::{Value, json};
use workspace_tests::{Canned, CaptureServer};

/// A loopback service answering every request with `answer`.
async fn answering(answer: Value) -> CaptureServer {
    CaptureServer::start(move |_| Canned::json(200, answer.clone())).await
}

fn sidecar(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; files: {:?}",
            path.display(),
            files(path.parent().unwrap())
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// The `ideogram fetch` commands printed on stderr.
fn fetch_commands(err: &str) -> Vec<String> {
    err.lines()
        .filter_map(|l| {
            l.find("ideogram fetch ")
                .map(|at| l[at..].trim().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_paid_answer_that_does_not_decode_leaves_its_urls_and_fetch_commands() {
    // An image without `is_image_safe`: a 200 (billed) the spec does not
    // describe.
    let server = answering(json!({
        "created": "2025-01-01T00:00:00Z",
        "data": [{"url": "https://cdn.example/paid-1.png", "prompt": "a cat", "resolution": "1024x1024", "seed": 7}]
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let base = server.base_url();
    let env = [("IDEOGRAM_API_KEY", "test-key-123456")];
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &base,
            "generate",
            "a cat",
            "-o",
            "out/",
        ],
        &env,
        dir.path(),
    )
    .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 9, "{err}");
    assert!(err.contains("billed"), "{err}");
    assert!(!err.contains("may have been billed"), "{err}");
    let commands = fetch_commands(&err);
    assert_eq!(
        commands,
        ["ideogram fetch https://cdn.example/paid-1.png -o out/a-cat.png"],
        "{err}"
    );
    // Recorded on disk, as a paid image that could not be saved is.
    let record = sidecar(&dir.path().join("out/a-cat.json"));
    assert_eq!(record["status"], "not_saved", "{record}");
    assert_eq!(record["source_url"], "https://cdn.example/paid-1.png");
    assert_eq!(record["fetch"], commands[0].as_str());

    // --json: the class says billed, and the images say where they are.
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &base,
            "--json",
            "generate",
            "a cat",
            "-o",
            "out/",
        ],
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"billed_not_saved\""),
        "{}",
        stderr(&out)
    );
    let printed: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    assert_eq!(printed[0]["source_url"], "https://cdn.example/paid-1.png");
    assert_eq!(printed[0]["status"], "not_saved");
}

#[tokio::test]
async fn a_layerize_answer_that_does_not_decode_leaves_its_url() {
    // A text block without `alignment`.
    let server = answering(json!({
        "base_image_url": "https://cdn.example/layers-base.png",
        "seed": 3,
        "text_blocks": [{"text": "hi", "x": 1, "y": 2, "width": 3, "height": 4, "formatting": []}]
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let image = ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![],
        transparent: false,
    };
    std::fs::write(dir.path().join("in.png"), image.png()).unwrap();
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &server.base_url(),
            "layerize-text",
            "in.png",
            "--prompt",
            "a sign",
            "-o",
            "out/",
        ],
        &[("IDEOGRAM_API_KEY", "test-key-123456")],
        dir.path(),
    )
    .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 9, "{err}");
    assert_eq!(
        fetch_commands(&err),
        ["ideogram fetch https://cdn.example/layers-base.png -o out/a-sign.png"],
        "{err}"
    );
}

#[tokio::test]
async fn a_batch_journals_the_urls_of_an_answer_that_does_not_decode() {
    let server = answering(json!({
        "created": "2025-01-01T00:00:00Z",
        "data": [{"url": "https://cdn.example/batch-1.png", "prompt": "p", "resolution": "1024x1024", "seed": 7}]
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one prompt\n").unwrap();
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &server.base_url(),
            "batch",
            "p.txt",
            "-o",
            "out",
        ],
        &[("IDEOGRAM_API_KEY", "test-key-123456")],
        dir.path(),
    )
    .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 9, "{err}");
    assert!(
        err.contains("ideogram fetch https://cdn.example/batch-1.png"),
        "{err}"
    );
    let journal = std::fs::read_to_string(dir.path().join("out/.ideogram-batch.jsonl")).unwrap();
    assert!(
        journal.contains("https://cdn.example/batch-1.png"),
        "{journal}"
    );
    assert_eq!(server.requests().len(), 1, "sent once");
}

#[tokio::test]
async fn a_safe_image_without_a_url_is_billed_and_missing_not_a_safety_refusal() {
    let server = answering(json!({
        "created": "2025-01-01T00:00:00Z",
        "data": [{"url": null, "is_image_safe": true, "prompt": "a cat", "resolution": "1024x1024", "seed": 7}]
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            &server.base_url(),
            "generate",
            "a cat",
            "-o",
            "out/",
        ],
        &[("IDEOGRAM_API_KEY", "test-key-123456")],
        dir.path(),
    )
    .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 9, "{err}");
    assert!(!err.contains("safety"), "{err}");
    assert!(err.contains("billed"), "{err}");
    assert!(err.contains("no image"), "{err}");
    assert!(fetch_commands(&err).is_empty(), "{err}");
}

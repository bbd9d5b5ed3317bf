//! An image Ideogram already holds, named by its asset identifier instead
//! of a file, from the command line (`--set image_asset_identifier=JSON`,
//! the argument left out) and from batch lines (the spec's field name):
//! edit, remix and describe reach the mock with no file part and are billed
//! once; an image given neither way, or both ways, or a malformed
//! identifier, is refused before anything is sent, naming the fields.

mod common;

use common::{code, mock, run, stderr, write_png};
use ideogram_mock::MockConfig;
use serde_json::{Value, json};

/// The exit code of an invalid request.
const INVALID: i32 = 3;

fn asset(id: &str) -> Value {
    json!({"asset_type": "RESPONSE", "asset_id": id})
}

#[tokio::test]
async fn edit_remix_and_describe_take_an_asset_identifier_in_place_of_the_file() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let image = format!("image_asset_identifier={}", asset("photo"));
    let mask = format!("mask_asset_identifier={}", asset("mask"));
    write_png(dir.path(), "mask.png", 64, 64, [0, 0, 0]);
    let cases: [(&[&str], &str, &[&str]); 4] = [
        (
            &[
                "edit",
                "--set",
                &image,
                "--set",
                &mask,
                "a red hat",
                "-o",
                "out/",
            ],
            "/v2/image/inpaint/ideogram-3",
            &["image", "mask"],
        ),
        // An identifier for the image beside a mask file.
        (
            &[
                "edit",
                "--set",
                &image,
                "mask.png",
                "a red hat",
                "-o",
                "out/",
            ],
            "/v2/image/inpaint/ideogram-3",
            &["image"],
        ),
        (
            &[
                "remix",
                "--set",
                &image,
                "as a woodcut",
                "--model",
                "3",
                "-o",
                "out/",
            ],
            "/v2/image/remix/ideogram-3",
            &["image"],
        ),
        (
            &["describe", "--set", &image],
            "/v2/image/describe/",
            &["image"],
        ),
    ];
    for (i, (command, path, slots)) in cases.into_iter().enumerate() {
        let args: Vec<&str> = at.iter().copied().chain(command.iter().copied()).collect();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{command:?}: {}", stderr(&out));
        let entries = mock.ledger().entries;
        assert_eq!(entries.len(), i + 1, "{command:?}: billed once");
        let entry = &entries[i];
        assert!(entry.operation.starts_with(path), "{}", entry.operation);
        for slot in slots {
            let field = format!("{slot}_asset_identifier");
            let id = if *slot == "mask" { "mask" } else { "photo" };
            assert_eq!(entry.fields[&field], asset(id), "{command:?}");
            assert!(!entry.fields.contains_key(*slot), "{command:?}: no file");
        }
    }
}

/// `job submit` queues a remix from an asset identifier as the image
/// commands do (`--set image_asset_identifier=JSON`, `--image` left out),
/// with its weight; given both ways, or a weight with no image, it is
/// refused before anything is sent.
#[tokio::test]
async fn job_submit_takes_an_asset_identifier_in_place_of_image() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let image = format!("image_asset_identifier={}", asset("photo"));
    let submit = ["job", "submit", "as a woodcut", "--model", "3"];
    let args: Vec<&str> = (at.iter().chain(&submit).copied())
        .chain(["--set", &image, "--image-weight", "30"])
        .collect();
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "billed once");
    let entry = &entries[0];
    assert_eq!(entry.operation, "/v2/image/remix/ideogram-3");
    assert_eq!(entry.fields["image_asset_identifier"], asset("photo"));
    assert_eq!(entry.fields["image_weight"], 30);
    assert!(!entry.fields.contains_key("image"), "no file");

    let cases: [(&[&str], &[&str]); 2] = [
        (
            &["--image", "in.png", "--set", &image],
            &["IMAGE", "image_asset_identifier"],
        ),
        (&["--image-weight", "30"], &["image_weight", "image"]),
    ];
    let sent = mock.posts_received();
    for (extra, named) in cases {
        let args: Vec<&str> = (at.iter().chain(&submit).chain(extra).copied()).collect();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), INVALID, "{extra:?}: {}", stderr(&out));
        for name in named {
            assert!(stderr(&out).contains(name), "{extra:?}: {}", stderr(&out));
        }
    }
    assert_eq!(mock.posts_received(), sent, "nothing sent");
}

#[tokio::test]
async fn an_image_given_neither_way_or_both_ways_is_refused_unsent_naming_both() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 64, 64, [0, 0, 0]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let image = format!("image_asset_identifier={}", asset("photo"));
    let wrong = r#"image_asset_identifier={"asset_type":"PHOTO","asset_id":"x"}"#;
    let cases: [(&[&str], &[&str]); 6] = [
        (&["describe"], &["image", "image_asset_identifier"]),
        (&["remix", "a fox"], &["image", "image_asset_identifier"]),
        (&["edit", "a hat"], &["image", "image_asset_identifier"]),
        (
            &["describe", "in.png", "--set", &image],
            &["IMAGE", "image_asset_identifier"],
        ),
        (
            &["remix", "in.png", "a fox", "--set", &image],
            &["IMAGE", "image_asset_identifier"],
        ),
        (
            &["describe", "--set", wrong],
            &[
                "image_asset_identifier.asset_type",
                "ASSET",
                "CANVAS_ASSET",
                "LAYERED_ASSET",
                "RESPONSE",
                "UPLOAD",
            ],
        ),
    ];
    for (command, named) in cases {
        let args: Vec<&str> = at.iter().copied().chain(command.iter().copied()).collect();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), INVALID, "{command:?}: {}", stderr(&out));
        for name in named {
            assert!(stderr(&out).contains(name), "{command:?}: {}", stderr(&out));
        }
    }
    assert_eq!(mock.posts_received(), 0, "nothing sent");
    assert!(mock.ledger().entries.is_empty(), "nothing billed");
}

#[tokio::test]
async fn batch_lines_name_assets_by_the_spec_s_fields() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let lines = [
        json!({"op": "edit", "image_asset_identifier": asset("photo"), "mask_asset_identifier": asset("mask"), "prompt": "a red hat"}),
        json!({"op": "remix", "image_asset_identifier": asset("photo"), "prompt": "as a woodcut", "model": "3"}),
        json!({"op": "describe", "image_asset_identifier": asset("photo")}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(dir.path().join("lines.txt"), text.join("\n")).unwrap();
    let args: Vec<&str> = (at.iter().copied())
        .chain(["batch", "lines.txt", "-o", "out", "--concurrency", "1"])
        .collect();
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 3, "each line billed once");
    let mut operations: Vec<&str> = entries.iter().map(|e| e.operation.as_str()).collect();
    operations.sort_unstable();
    assert!(
        operations[0].starts_with("/v2/image/describe/"),
        "{operations:?}"
    );
    assert_eq!(
        operations[1..],
        ["/v2/image/inpaint/ideogram-3", "/v2/image/remix/ideogram-3"]
    );
    for entry in &entries {
        assert_eq!(entry.fields["image_asset_identifier"], asset("photo"));
        assert!(!entry.fields.contains_key("image"), "{}", entry.operation);
    }

    // Neither, or a malformed identifier: refused before anything is sent.
    let refused = mock.posts_received();
    let cases = [
        (
            json!({"op": "describe"}),
            vec!["image", "image_asset_identifier"],
        ),
        (
            json!({"op": "remix", "prompt": "x", "model": "3"}),
            vec!["image", "image_asset_identifier"],
        ),
        (
            json!({"op": "edit", "image_asset_identifier": {"asset_type": "PHOTO", "asset_id": "x"}, "mask_asset_identifier": asset("mask"), "prompt": "x"}),
            vec!["image_asset_identifier.asset_type", "RESPONSE", "UPLOAD"],
        ),
    ];
    for (i, (line, named)) in cases.into_iter().enumerate() {
        let file = format!("bad{i}.txt");
        std::fs::write(dir.path().join(&file), line.to_string()).unwrap();
        let args: Vec<&str> = (at.iter().copied())
            .chain(["batch", &file, "-o", "bad"])
            .collect();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), INVALID, "{line}: {}", stderr(&out));
        for name in named {
            assert!(stderr(&out).contains(name), "{line}: {}", stderr(&out));
        }
    }
    assert_eq!(mock.posts_received(), refused, "nothing sent");
}

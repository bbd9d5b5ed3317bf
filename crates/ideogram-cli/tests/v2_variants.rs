//! v2's custom-model, transparent and character variants, and asset
//! identifiers, end to end on the mock: each operation reached from the
//! command line (by `--operation`, or by the field only it takes), billed
//! once at the spec's price; a budget its dry run exceeds sends nothing
//! billed; a `custom_model_uri` or an asset identifier the spec refuses is
//! refused before anything is sent, naming the field.

mod common;

use common::{code, mock, run, stderr, write_png};
use ideogram::raw::ideogram::operations::ALL;
use ideogram_mock::MockConfig;
use serde_json::{Map, Value, json};
use workspace_tests::{Canned, CaptureServer};

/// The exit code of a refusal over budget.
const OVER_BUDGET: i32 = 12;

/// The exit code of an invalid request.
const INVALID: i32 = 3;

/// A custom model as the spec's pattern has it.
const MODEL: &str = "custom_model_uri=model/fox-painter/version/3";

/// A custom model stacked with the main one: a field only v2's 4.0 custom
/// model takes.
const STACKED: &str =
    r#"stacked_custom_models=[{"custom_model_uri":"model/ink/version/1","weight":0.5}]"#;

/// v2's `async` (answered later, polled): a field only v2 takes, so with a
/// `custom_model_uri` the request goes to v2's custom-model variant.
const LATER: &str = "async=true";

/// What the spec says a call to the operation at `path` with `fields`
/// costs (its `x-price`), in millionths of a dollar.
fn spec_price(path: &str, fields: Value) -> u64 {
    let op = ALL
        .iter()
        .find(|op| op.path == path && op.method == "POST")
        .unwrap_or_else(|| panic!("no operation at {path}"));
    let fields: Map<String, Value> = serde_json::from_value(fields).unwrap();
    op.priced(&fields)
        .unwrap_or_else(|| panic!("{path} is not priced"))
        .usd_micros
}

#[tokio::test]
async fn each_variant_runs_from_the_command_line_billed_once_at_the_spec_s_price() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 64, 64, [0, 0, 0]);
    write_png(dir.path(), "face.png", 64, 64, [90, 60, 30]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let face = "character_reference_images=face.png";
    let cases: [(&[&str], &str, Value); 10] = [
        (
            &[
                "generate",
                "a fox",
                "--operation",
                "post_generate_v2_ideogram_4_custom_model",
                "--set",
                MODEL,
                "--rendering-speed",
                "turbo",
            ],
            "/v2/image/generate/ideogram-4-custom-model",
            json!({"rendering_speed": "turbo"}),
        ),
        // A field only it takes routes there (v1's 4.0 and 3.0 take a
        // `custom_model_uri` too, and sort first).
        (
            &[
                "generate", "a fox", "--model", "4", "--set", MODEL, "--set", STACKED,
            ],
            "/v2/image/generate/ideogram-4-custom-model",
            json!({}),
        ),
        (
            &[
                "generate",
                "a fox",
                "--model",
                "4",
                "--transparent",
                "--set",
                "output_resolution=2k",
            ],
            "/v2/image/generate/ideogram-4-transparent",
            json!({}),
        ),
        (
            &[
                "generate",
                "a fox",
                "--operation",
                "post_generate_v2_ideogram_3_transparent",
                "--num-images",
                "2",
            ],
            "/v2/image/generate/ideogram-3-transparent",
            json!({"num_images": 2}),
        ),
        (
            &[
                "generate",
                "a fox",
                "--model",
                "3",
                "--set",
                MODEL,
                "--set",
                LATER,
                "--rendering-speed",
                "quality",
            ],
            "/v2/image/generate/ideogram-3-custom-model",
            json!({"rendering_speed": "quality"}),
        ),
        (
            &[
                "edit",
                "in.png",
                "mask.png",
                "a hat",
                "--operation",
                "post_inpaint_v2_ideogram_3_character",
                "--set",
                face,
            ],
            "/v2/image/inpaint/ideogram-3-character",
            json!({}),
        ),
        (
            &[
                "edit", "in.png", "mask.png", "a hat", "--model", "3", "--set", MODEL, "--set",
                LATER,
            ],
            "/v2/image/inpaint/ideogram-3-custom-model",
            json!({}),
        ),
        (
            &[
                "edit",
                "in.png",
                "mask.png",
                "a hat",
                "--operation",
                "post_inpaint_v2_ideogram_3_custom_model",
                "--set",
                MODEL,
            ],
            "/v2/image/inpaint/ideogram-3-custom-model",
            json!({}),
        ),
        (
            &[
                "remix",
                "in.png",
                "at night",
                "--operation",
                "post_remix_v2_ideogram_3_character",
                "--set",
                face,
            ],
            "/v2/image/remix/ideogram-3-character",
            json!({}),
        ),
        (
            &[
                "remix", "in.png", "at night", "--model", "3", "--set", MODEL, "--set", LATER,
            ],
            "/v2/image/remix/ideogram-3-custom-model",
            json!({}),
        ),
    ];
    for (i, (command, path, priced_by)) in cases.into_iter().enumerate() {
        let price = spec_price(path, priced_by);
        let out_dir = format!("out{i}/");
        let mut args = vec!["--provider", "ideogram", "--base-url", mock.api_url()];
        args.extend_from_slice(command);
        args.extend(["-o", out_dir.as_str()]);
        // A budget below the dry run's price sends nothing billed.
        let below = format!("{:.6}", (price - 1) as f64 / 1e6);
        let out = run(
            &[&args[..], &["--max-usd", &below]].concat(),
            &env,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), OVER_BUDGET, "{command:?}: {}", stderr(&out));
        assert!(
            mock.ledger().entries.len() == i,
            "{command:?} billed over budget"
        );

        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "{command:?}: {}", stderr(&out));
        let entries = mock.ledger().entries;
        assert_eq!(entries.len(), i + 1, "{command:?}: billed once");
        let billed = entries.last().unwrap();
        assert_eq!(billed.operation, path, "{command:?}");
        assert_eq!(billed.usd_micros, Some(price), "{command:?}");
    }
}

/// A server that records each request and refuses it (never billed).
async fn refusing() -> CaptureServer {
    CaptureServer::start(|_| Canned::json(400, json!({"error": "refused"}))).await
}

#[tokio::test]
async fn an_invalid_custom_model_is_refused_unsent_naming_the_field_and_its_pattern() {
    let server = refusing().await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 64, 64, [0, 0, 0]);
    let url = server.base_url();
    let at = ["--provider", "ideogram", "--base-url", url.as_str()];
    let bad = "custom_model_uri=fox-painter:3";
    let commands: [&[&str]; 3] = [
        &["generate", "a fox", "--model", "4", "--set", bad],
        &[
            "generate",
            "a fox",
            "--operation",
            "post_generate_v2_ideogram_3_custom_model",
            "--set",
            bad,
        ],
        &[
            "edit",
            "in.png",
            "mask.png",
            "a hat",
            "--operation",
            "post_inpaint_v2_ideogram_3_custom_model",
            "--set",
            bad,
        ],
    ];
    let pattern = ideogram::raw::schema::ideogram()
        .get("CustomModelUri")
        .and_then(|s| s["pattern"].as_str())
        .expect("the spec's pattern")
        .to_owned();
    for command in commands {
        let out = run(
            &[&at[..], command].concat(),
            &[("IDEOGRAM_API_KEY", "k")],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), INVALID, "{command:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("custom_model_uri"), "{command:?}: {err}");
        assert!(err.contains(&pattern), "{command:?}: {err}");
    }
    assert!(server.requests().is_empty(), "nothing sent");
}

#[tokio::test]
async fn an_asset_identifier_reaches_the_wire_as_a_json_part_and_a_malformed_one_is_refused_unsent()
{
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    write_png(dir.path(), "mask.png", 64, 64, [0, 0, 0]);
    let asset = json!({"asset_type": "RESPONSE", "asset_id": "b2ZmaWNpYWw", "collection_id": "AbCdEfGhIjKlMnOpQrSt_-"});
    let set = format!("image_asset_identifier={asset}");
    let style = format!("style_reference_asset_identifiers=[{asset}]");
    let edit = |extra: &[&str]| -> Vec<String> {
        let mut args = [
            "edit",
            "in.png",
            "mask.png",
            "a hat",
            "--operation",
            "post_inpaint_v2_ideogram_3",
            "-o",
            "out/",
        ]
        .map(str::to_owned)
        .to_vec();
        for field in extra {
            args.extend(["--set".to_owned(), (*field).to_owned()]);
        }
        args
    };

    // On the wire: one JSON part each (a list's items one part each), the
    // identifier in place of the image's file part.
    let server = refusing().await;
    let url = server.base_url();
    let at = ["--provider", "ideogram", "--base-url", url.as_str()];
    let args = edit(&[&set, &style]);
    let args: Vec<&str> = at
        .iter()
        .copied()
        .chain(args.iter().map(String::as_str).filter(|a| *a != "in.png"))
        .collect();
    let out = run(&args, &[("IDEOGRAM_API_KEY", "k")], dir.path()).await;
    assert_ne!(code(&out), 0);
    let wire = server.requests().last().expect("sent").wire_record();
    let part = |name: &str| -> Vec<Value> {
        let parts = wire["body"].as_array().expect("multipart parts");
        parts
            .iter()
            .filter(|p| p["name"] == name)
            .cloned()
            .collect()
    };
    assert!(part("image").is_empty(), "no file part: {wire}");
    let identifier = part("image_asset_identifier");
    assert_eq!(identifier.len(), 1, "{wire}");
    assert_eq!(identifier[0]["content"], asset, "{wire}");
    assert_eq!(identifier[0]["content_type"], "application/json", "{wire}");
    let styles = part("style_reference_asset_identifiers");
    assert_eq!(styles.len(), 1, "{wire}");
    assert_eq!(styles[0]["content"], asset, "{wire}");

    // The mock reads it as the spec types it, and bills the call once.
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let args: Vec<&str> = at
        .iter()
        .copied()
        .chain(args[4..].iter().copied())
        .collect();
    let out = run(&args, &[("IDEOGRAM_API_KEY", key.as_str())], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].fields["image_asset_identifier"], asset);
    assert_eq!(
        entries[0].fields["style_reference_asset_identifiers"],
        json!([asset])
    );

    // Malformed: refused before sending, naming the field.
    let server = refusing().await;
    let url = server.base_url();
    let at = ["--provider", "ideogram", "--base-url", url.as_str()];
    let malformed = [
        (
            r#"image_asset_identifier={"asset_type":"PHOTO","asset_id":"x"}"#,
            "image_asset_identifier.asset_type",
        ),
        (
            r#"image_asset_identifier={"asset_type":"RESPONSE"}"#,
            "image_asset_identifier",
        ),
        (
            r#"image_asset_identifier={"asset_type":"RESPONSE","asset_id":"x","collection_id":"short"}"#,
            "image_asset_identifier.collection_id",
        ),
        (
            r#"mask_asset_identifier="RESPONSE:x""#,
            "mask_asset_identifier",
        ),
    ];
    for (field, named) in malformed {
        let args = edit(&[field]);
        let args: Vec<&str> = at
            .iter()
            .copied()
            .chain(args.iter().map(String::as_str))
            .collect();
        let out = run(&args, &[("IDEOGRAM_API_KEY", "k")], dir.path()).await;
        assert_eq!(code(&out), INVALID, "{field}: {}", stderr(&out));
        assert!(stderr(&out).contains(named), "{field}: {}", stderr(&out));
    }
    assert!(server.requests().is_empty(), "nothing sent");
}

#[tokio::test]
async fn batch_lines_reach_the_variants_by_operation_and_by_field() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let lines = [
        r#"{"prompt": "a lantern", "operation": "post_generate_v2_ideogram_4_transparent", "output_resolution": "4k"}"#,
        r#"{"prompt": "a fox", "model": "V_4", "custom_model_uri": "model/fox/version/3", "stacked_custom_models": [{"custom_model_uri": "model/ink/version/1"}]}"#,
    ];
    std::fs::write(dir.path().join("b.jsonl"), lines.join("\n")).unwrap();
    let args = [
        "--provider",
        "ideogram",
        "--base-url",
        mock.api_url(),
        "batch",
        "b.jsonl",
        "-o",
        "out",
    ];
    let out = run(&args, &[("IDEOGRAM_API_KEY", key.as_str())], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut billed: Vec<(String, Option<u64>)> = mock
        .ledger()
        .entries
        .into_iter()
        .map(|e| (e.operation, e.usd_micros))
        .collect();
    billed.sort();
    let custom = "/v2/image/generate/ideogram-4-custom-model";
    let transparent = "/v2/image/generate/ideogram-4-transparent";
    assert_eq!(
        billed,
        [
            (custom.to_owned(), Some(spec_price(custom, json!({})))),
            (
                transparent.to_owned(),
                Some(spec_price(transparent, json!({})))
            ),
        ]
    );
}

/// An `--operation` is taken only for the command's own task: one that
/// does something else (a layerize for `describe`, an upscale for
/// `remove-background`) is refused before anything is sent, naming
/// `operation` and the operations that do, where it used to be sent,
/// billed and saved under the command's name.
#[tokio::test]
async fn an_operation_of_another_task_is_refused_unsent() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "in.png", 64, 64, [200, 40, 40]);
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let cases: [(&str, &str); 4] = [
        ("describe", "post_layerize_v2_ideogram_3"),
        ("remove-background", "post_upscale_v2"),
        ("upscale", "post_remove_background_v2"),
        ("layerize-text", "post_describe_v2_ideogram_3"),
    ];
    for (command, operation) in cases {
        let args = [
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            command,
            "in.png",
            "--operation",
            operation,
            "-o",
            "out/",
        ];
        let args: Vec<&str> = if command == "describe" {
            args.into_iter()
                .filter(|a| *a != "-o" && *a != "out/")
                .collect()
        } else {
            args.to_vec()
        };
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), INVALID, "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("operation"), "{}", stderr(&out));
        assert_eq!(mock.posts_received(), 0, "{command} sent {operation}");
    }
    assert!(mock.ledger().entries.is_empty());
}

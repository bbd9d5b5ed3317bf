//! The real `ideogram` binary against the mock: each subcommand, each error
//! class with its exit code, and a batch killed half-way then resumed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use ideogram_mock::{FAIL_TRIGGER, MockConfig};

#[tokio::test]
async fn offline_generate_writes_a_png_of_the_requested_size_with_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "generate",
            "a lighthouse at dawn",
            "--offline",
            "--resolution",
            "1280x768",
            "--palette",
            "ember",
            "-o",
            "lighthouse.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dimensions(&dir.path().join("lighthouse.png")), (1280, 768));
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("lighthouse.json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["prompt"], "a lighthouse at dawn");
    assert_eq!(sidecar["provider"], "ideogram");
    assert_eq!(sidecar["resolution"], "1280x768");
    assert_eq!(sidecar["color_palette"]["name"], "EMBER");
    assert!(
        stdout(&out).starts_with("saved lighthouse.png (1280x768"),
        "{}",
        stdout(&out)
    );
}

/// `--sync` pins Segmind's v1, which answers with the image's bytes and
/// the credits left.
#[tokio::test]
async fn generate_against_segmind_saves_the_jpeg_it_gets_and_prints_json() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let out = run(
        &[
            "generate",
            "a red fox",
            "--sync",
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "--model",
            "2a",
            "--seed",
            "4242",
            "--aspect",
            "16:9",
            "-o",
            "out/fox.png",
            "--json",
        ],
        &[("SEGMIND_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Segmind answered a JPEG: the file is named for what it holds.
    assert!(
        stderr(&out).contains("holds a JPG image, saved as"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dimensions(&dir.path().join("out/fox.jpg")), (1280, 720));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(printed[0]["seed"], 4242);
    assert_eq!(printed[0]["model"], "V_2A");
    assert!(printed[0]["credits_left"].is_number());
    assert_eq!(mock.ledger().entries.len(), 1);
    assert_eq!(mock.ledger().entries[0].operation, "ideogram-2a-txt-2-img");
    assert_eq!(
        mock.ledger().entries[0].delivery,
        ideogram_mock::Delivery::Answered
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("out/fox.json"))
            .unwrap()
            .contains(&key),
        "the key is in the sidecar"
    );
}

#[tokio::test]
async fn remix_takes_a_local_file_or_a_url() {
    let dir = tempfile::tempdir().unwrap();
    let png = ideogram_mock::ImageSpec {
        width: 32,
        height: 32,
        seed: 3,
        palette: vec![],
        transparent: false,
    }
    .png();
    std::fs::write(dir.path().join("in.png"), png).unwrap();
    let out = run(
        &[
            "remix",
            "in.png",
            "the same, at night",
            "--offline",
            "--weight",
            "70",
            "-o",
            "night.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dimensions(&dir.path().join("night.png")), (1024, 1024));

    let mock = mock(MockConfig::default()).await;
    let out = run(
        &[
            "remix",
            &format!("{}/blob/2048", mock.cdn_url()),
            "watercolour",
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "-o",
            "wc.jpg",
        ],
        &[("SEGMIND_API_KEY", &mock.api_key())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries[0].operation, "ideogram-img-2-img");
}

#[tokio::test]
async fn edit_reframe_replace_background_and_describe_run_offline() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "mask.png", 96, 64, [0, 0, 0]);
    write_png(dir.path(), "square.png", 64, 64, [200, 20, 20]);
    let ideogram = ["--offline", "--provider", "ideogram"];
    let cases: [(&[&str], &str, (u32, u32)); 3] = [
        (
            &[
                "edit",
                "photo.png",
                "mask.png",
                "a red door",
                "--num-images",
                "2",
                "-o",
                "door/",
            ],
            "door/a-red-door-2.png",
            (96, 64),
        ),
        (
            &[
                "reframe",
                "square.png",
                "1280x800",
                "--seed",
                "7",
                "-o",
                "wide.png",
            ],
            "wide.png",
            (1280, 800),
        ),
        (
            &[
                "replace-background",
                "photo.png",
                "a beach",
                "--style-ref",
                "square.png",
                "-o",
                "beach.png",
            ],
            "beach.png",
            (96, 64),
        ),
    ];
    for (args, saved, size) in cases {
        let args: Vec<&str> = ideogram.iter().chain(args).copied().collect();
        let out = run(&args, &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(dimensions(&dir.path().join(saved)), size, "{args:?}");
        let sidecar = dir.path().join(saved).with_extension("json");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap();
        assert_eq!(sidecar["model"], "V_3", "{args:?}");
    }
    let out = run(
        &[
            "--offline",
            "--provider",
            "ideogram",
            "describe",
            "photo.png",
            "--json",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let texts: Vec<String> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(texts[0].contains("96x64"), "{texts:?}");

    let out = run(
        &[
            "--offline",
            "--provider",
            "ideogram",
            "upscale",
            "photo.png",
            "--resemblance",
            "80",
            "-o",
            "big.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(dimensions(&dir.path().join("big.png")), (192, 128));
    let out = run(
        &[
            "--offline",
            "--provider",
            "ideogram",
            "--json",
            "layerize-text",
            "photo.png",
            "-o",
            "base.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(printed["text_blocks"][0]["text"], "OPEN LATE", "{printed}");
    assert_eq!(printed["images"][0]["path"], "base.png", "{printed}");
    assert_eq!(dimensions(&dir.path().join("base.png")), (96, 64));
}

/// `describe --model V_4` runs v2's 4.0 describe: its one description is a
/// json_prompt (JSON text); `--operation` reaches v2's 3.0 describe; each
/// billed once. `--json` stays an array of texts.
#[tokio::test]
async fn describe_takes_a_model_and_an_operation() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let api = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let describe = |extra: [&'static str; 2]| -> Vec<&str> {
        ["describe", "photo.png", "--json"]
            .into_iter()
            .chain(extra)
            .chain(api)
            .collect()
    };
    let out = run(&describe(["--model", "V_4"]), &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let texts: Vec<String> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let structured: serde_json::Value = serde_json::from_str(&texts[0]).unwrap();
    assert_eq!(structured["width"], 96, "{structured}");
    let v3 = describe(["--operation", "post_describe_v2_ideogram_3"]);
    let out = run(&v3, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let texts: Vec<String> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(texts[0].contains("96x64"), "{texts:?}");
    // A model no describe runs is refused, naming the field, unbilled.
    let out = run(&describe(["--model", "V_4_5"]), &env, dir.path()).await;
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("model"), "{}", stderr(&out));
    let operations: Vec<String> = mock
        .ledger()
        .entries
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        operations,
        [
            "/v2/image/describe/ideogram-4",
            "/v2/image/describe/ideogram-3"
        ]
    );
}

/// `layerize-text --operation post_layerize_v2_ideogram_3` (and v2's
/// `async`, polled) saves the base and the design, prints v2's blocks, and
/// is billed once each.
#[tokio::test]
async fn layerize_text_runs_v2_by_its_operation_and_refuses_a_later_answer_unsent() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "poster.png", 96, 64, [20, 90, 200]);
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let env = [("IDEOGRAM_API_KEY", key.as_str())];
    let api = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let args: Vec<&str> = [
        "--json",
        "layerize-text",
        "poster.png",
        "--operation",
        "post_layerize_v2_ideogram_3",
        "-o",
        "v2/",
    ]
    .into_iter()
    .chain(api)
    .collect();
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(printed["text_blocks"][0]["text"], "OPEN LATE", "{printed}");
    assert!(
        printed["text_blocks"][0].get("font_name").is_none(),
        "{printed}"
    );
    let images = printed["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "the base and the design: {printed}");
    for image in images {
        let path = dir.path().join(image["path"].as_str().unwrap());
        assert_eq!(dimensions(&path), (96, 64));
    }
    let args: Vec<&str> = [
        "layerize-text",
        "poster.png",
        "--set",
        "async=true",
        "-o",
        "queued/",
    ]
    .into_iter()
    .chain(api)
    .collect();
    // An answer that comes later would leave the paid generation unjournaled
    // while this command waits: refused before anything is sent.
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("without async or webhook_url"),
        "{}",
        stderr(&out)
    );
    let entries = mock.ledger().entries;
    assert_eq!(
        entries.len(),
        1,
        "the first billed once, the refused one not at all"
    );
    assert_eq!(entries[0].operation, "/v2/design/layerize/ideogram-3");
}

#[tokio::test]
async fn generate_takes_references_and_transparency_on_the_command_line_and_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "look.png", 32, 32, [10, 200, 10]);
    write_png(dir.path(), "hero.png", 40, 40, [200, 10, 10]);
    write_png(dir.path(), "hero-mask.png", 40, 40, [90, 90, 90]);
    let base = ["--offline", "--provider", "ideogram", "generate"];
    let cases: [(&[&str], &str, (u32, u32)); 2] = [
        (
            &[
                "a knight",
                "--model",
                "3",
                "--style-ref",
                "look.png",
                "--character-ref",
                "hero.png",
                "--character-mask",
                "hero-mask.png",
                "-o",
                "knight.png",
            ],
            "knight.png",
            (1024, 1024),
        ),
        (
            &[
                "a lantern",
                "--model",
                "3",
                "--transparent",
                "--upscale",
                "x2",
                "-o",
                "lantern.png",
            ],
            "lantern.png",
            (2048, 2048),
        ),
    ];
    for (args, saved, size) in cases {
        let args: Vec<&str> = base.iter().chain(args).copied().collect();
        let out = run(&args, &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(dimensions(&dir.path().join(saved)), size, "{args:?}");
    }
    std::fs::write(
        dir.path().join("items.jsonl"),
        concat!(
            r#"{"prompt": "a lantern", "model": "3", "transparent": true}"#,
            "\n",
            r#"{"prompt": "a knight", "model": "3", "style_reference_images": ["look.png", "look.png"]}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = run(
        &[
            "--offline",
            "--provider",
            "ideogram",
            "batch",
            "items.jsonl",
            "-o",
            "batch/",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pngs = files(&dir.path().join("batch"))
        .into_iter()
        .filter(|f| f.ends_with(".png"))
        .count();
    assert_eq!(pngs, 2, "{:?}", files(&dir.path().join("batch")));
    let out = run(
        &[
            "--offline",
            "--provider",
            "ideogram",
            "generate",
            "x",
            "--style-ref",
            "look.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .starts_with("error: invalid style_reference_images: V_2 does not take it on ideogram for generate; V_3 does"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn segmind_serves_3_0_4_0_character_and_its_image_operations_offline() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "face.png", 64, 64, [200, 150, 120]);
    let segmind = ["--offline", "--provider", "segmind"];
    /// Arguments, the file saved, its size, the slug billed, the model
    /// recorded.
    type Case<'a> = (&'a [&'a str], &'a str, (u32, u32), &'a str, &'a str);
    let cases: [Case; 7] = [
        (
            &[
                "generate",
                "a lighthouse",
                "--model",
                "3",
                "--resolution",
                "1280x800",
                "-o",
                "v3.jpg",
            ],
            "v3.jpg",
            (1280, 800),
            "ideogram-3",
            "V_3",
        ),
        (
            &[
                "remix",
                "photo.png",
                "at night",
                "--model",
                "3",
                "--aspect",
                "1:1",
                "-o",
                "remix.jpg",
            ],
            "remix.jpg",
            (1024, 1024),
            "ideogram-3-remix",
            "V_3",
        ),
        (
            &[
                "generate", "a poster", "--model", "4", "--aspect", "16:9", "-o", "v4.jpg",
            ],
            "v4.jpg",
            (1024, 576),
            "ideogram-4",
            "V_4",
        ),
        (
            &[
                "generate",
                "the same face, smiling",
                "--model",
                "3",
                "--character-ref",
                "face.png",
                "--aspect",
                "1:1",
                "--style",
                "realistic",
                "-o",
                "face-smile.jpg",
            ],
            "face-smile.jpg",
            (1024, 1024),
            "ideogram-character",
            "V_3",
        ),
        (
            &["reframe", "photo.png", "1280x800", "-o", "wide.jpg"],
            "wide.jpg",
            (1280, 800),
            "ideogram-3-reframe",
            "V_3",
        ),
        (
            &[
                "replace-background",
                "photo.png",
                "a beach",
                "-o",
                "beach.jpg",
            ],
            "beach.jpg",
            (96, 64),
            "ideogram-3-replace-background",
            "V_3",
        ),
        (
            &[
                "generate",
                "a harbour",
                "--model",
                "3",
                "--style-ref",
                "face.png",
                "-o",
                "styled.jpg",
            ],
            "styled.jpg",
            (1024, 1024),
            "ideogram-3",
            "V_3",
        ),
    ];
    for (args, saved, size, _slug, model) in cases {
        let args: Vec<&str> = segmind.iter().chain(args).copied().collect();
        let out = run(&args, &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(dimensions(&dir.path().join(saved)), size, "{args:?}");
        let sidecar = dir.path().join(saved).with_extension("json");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap();
        assert_eq!(sidecar["model"], model, "{args:?}");
        assert_eq!(sidecar["provider"], "segmind", "{args:?}");
    }
    let out = run(
        &[
            "--offline",
            "--provider",
            "segmind",
            "describe",
            "photo.png",
            "--json",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let texts: Vec<String> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(texts[0].contains("96x64"), "{texts:?}");

    // The same against a mock whose ledger names each slug billed.
    let again = tempfile::tempdir().unwrap();
    write_png(again.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(again.path(), "face.png", 64, 64, [200, 150, 120]);
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let at = ["--provider", "segmind", "--base-url", mock.api_url()];
    for (args, _, _, _, _) in cases {
        let args: Vec<&str> = at.iter().chain(args).copied().collect();
        let out = run(&args, &[("SEGMIND_API_KEY", &key)], again.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    let billed: Vec<String> = mock
        .ledger()
        .entries
        .iter()
        .map(|e| e.operation.clone())
        .collect();
    let slugs: Vec<&str> = cases.iter().map(|c| c.3).collect();
    assert_eq!(billed, slugs);
}

#[tokio::test]
async fn ideogram_runs_3_0_remix_and_4_0_offline() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    let ideogram = ["--offline", "--provider", "ideogram"];
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &[
                "remix",
                "photo.png",
                "at night",
                "--model",
                "3",
                "--aspect",
                "16:9",
                "-o",
                "night.png",
            ],
            "night.png",
            "V_3",
        ),
        (
            &[
                "generate",
                "a poster",
                "--model",
                "4",
                "--resolution",
                "1024x1024",
                "-o",
                "v4.png",
            ],
            "v4.png",
            "V_4",
        ),
        (
            &[
                "generate",
                "a poster",
                "--model",
                "3",
                "--style-preset",
                "art-deco",
                "--custom-model",
                "model/posters/version/3",
                "-o",
                "deco.png",
            ],
            "deco.png",
            "V_3",
        ),
    ];
    for (args, saved, model) in cases {
        let args: Vec<&str> = ideogram.iter().chain(args).copied().collect();
        let out = run(&args, &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        let sidecar = dir.path().join(saved).with_extension("json");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap();
        assert_eq!(sidecar["model"], model, "{args:?}");
    }
}

#[tokio::test]
async fn image_operations_refuse_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "small.png", 32, 32, [0, 0, 0]);
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let at = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let cases: [(&[&str], &str); 7] = [
        (
            &["edit", "photo.png", "small.png", "x"],
            "error: invalid mask: is 32x32, the image 96x64: a mask is its image's size",
        ),
        (
            &[
                "generate",
                "x",
                "--model",
                "3",
                "--character-ref",
                "photo.png",
                "--character-mask",
                "small.png",
            ],
            "error: invalid character_reference_images_mask: is 32x32, the character_reference_images 96x64: a mask is its image's size",
        ),
        (
            &["edit", "photo.png", "photo.png", "x"],
            "error: invalid mask: a mask is black and white (grayscale); this one is not",
        ),
        (
            &["edit", "photo.png", "absent.png", "x"],
            "error: invalid mask: ",
        ),
        (
            &["reframe", "photo.png", "1000x1000"],
            "error: invalid resolution: ",
        ),
        (
            &["reframe", "photo.png", "1280x800", "--magic-prompt", "on"],
            "error: invalid magic_prompt: V_3 does not take it on ideogram for reframe",
        ),
        (
            &[
                "replace-background",
                "photo.png",
                "x",
                "--style-ref",
                "absent.png",
            ],
            "error: invalid style_reference_images: ",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = at.iter().chain(args).copied().collect();
        let out = run(&args, &[("IDEOGRAM_API_KEY", &key)], dir.path()).await;
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = run(
        &[
            "--offline",
            "--provider",
            "segmind",
            "edit",
            "photo.png",
            "photo.png",
            "x",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--provider ideogram"),
        "{}",
        stderr(&out)
    );
    assert!(mock.ledger().entries.is_empty(), "nothing was billed");
    assert!(
        files(dir.path()).iter().all(|f| f.ends_with(".png")),
        "no output written"
    );
}

/// A markdown table's rows as facts: each cell's comma-separated items as a
/// set, so the docs may reorder or respace them without failing a test.
fn table_facts(table: &str) -> Vec<Vec<std::collections::BTreeSet<String>>> {
    table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|cell| cell.split(',').map(|i| i.trim().to_owned()).collect())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_book_capability_table_holds_what_ideogram_models_prints() {
    let book = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/src/cli.md"
    ))
    .expect("docs/src/cli.md");
    let table = book
        .split("<!-- capabilities: start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- capabilities: end -->").next())
        .expect("the book's capability table");
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["models"], &[], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        table_facts(table),
        table_facts(&stdout(&out)),
        "update the capability table in docs/src/cli.md"
    );
    let out = run(&["models", "--json"], &[], dir.path()).await;
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows[6]["model"], "V_3");
    assert_eq!(
        rows[6]["capabilities"]["edit"],
        serde_json::json!(["ideogram"])
    );
}

#[tokio::test]
async fn each_error_class_has_its_exit_code_and_one_line_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock(MockConfig::default()).await;
    let key = mock.api_key();
    let segmind: Vec<&str> = vec!["--provider", "segmind", "--base-url", mock.api_url()];
    let with_key = [("SEGMIND_API_KEY", key.as_str())];

    let usage = run(&["generate", "x", "--no-such-flag"], &[], dir.path()).await;
    assert_eq!(code(&usage), 2, "{}", stderr(&usage));

    let invalid = run(
        &[&segmind[..], &["generate", "x", "--seed", "5"]].concat(),
        &with_key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&invalid), 3);
    assert_eq!(
        stderr(&invalid).trim(),
        "error: invalid seed: 5 is below the minimum 100"
    );
    let palette = run(
        &[&segmind[..], &["generate", "x", "--palette", "#12345"]].concat(),
        &with_key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&palette), 3);
    assert!(
        stderr(&palette).contains("invalid color_palette"),
        "{}",
        stderr(&palette)
    );
    assert!(
        mock.ledger().entries.is_empty(),
        "an invalid request was sent"
    );

    let no_key = run(&["generate", "x", "--provider", "segmind"], &[], dir.path()).await;
    assert_eq!(code(&no_key), 4);
    let line = stderr(&no_key);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains("set SEGMIND_API_KEY") && line.contains("--offline"),
        "{line}"
    );

    let wrong = run(
        &[&segmind[..], &["generate", "x"]].concat(),
        &[("SEGMIND_API_KEY", "wrong")],
        dir.path(),
    )
    .await;
    assert_eq!(code(&wrong), 4, "{}", stderr(&wrong));
    assert!(
        !stderr(&wrong).contains("wrong"),
        "the key was echoed: {}",
        stderr(&wrong)
    );

    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let from_file = run(
        &[
            &segmind[..],
            &[
                "generate",
                "x",
                "--api-key-file",
                key_file.to_str().unwrap(),
                "-o",
                "k.jpg",
            ],
        ]
        .concat(),
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&from_file), 0, "{}", stderr(&from_file));

    mock.set_credits(0.0);
    let broke = run(
        &[&segmind[..], &["generate", "x"]].concat(),
        &with_key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&broke), 5, "{}", stderr(&broke));
    assert!(
        stderr(&broke).contains("hint: top up"),
        "{}",
        stderr(&broke)
    );
    mock.set_credits(100.0);

    mock.configure(|c| c.inflight_limit = 0);
    let limited = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "--retries",
            "0",
            "generate",
            "x",
        ],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&limited), 6, "{}", stderr(&limited));
    mock.configure(|c| c.inflight_limit = 10);

    let unsafe_prompt = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "generate",
            "mock:unsafe",
        ],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&unsafe_prompt), 7, "{}", stderr(&unsafe_prompt));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let network = run(
        &[
            "--provider",
            "segmind",
            "--base-url",
            &format!("http://{closed}"),
            "--retries",
            "0",
            "generate",
            "x",
        ],
        &with_key,
        dir.path(),
    )
    .await;
    // Never reached the service: not billed, its own code.
    assert_eq!(code(&network), 11, "{}", stderr(&network));
    assert!(
        stderr(&network).contains("hint: check the network"),
        "{}",
        stderr(&network)
    );
}

#[tokio::test]
async fn jobs_are_picked_up_by_id() {
    // Long enough that `job status` still sees it running on a loaded machine.
    let mock = mock(MockConfig {
        queued_for: Duration::from_secs(1),
        processing_for: Duration::from_secs(2),
        ..MockConfig::default()
    })
    .await;
    let client = ideogram::Client::builder(ideogram::Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .unwrap();
    let job = client
        .submit(&ideogram::GenerateRequest::new("queued"))
        .await
        .unwrap();
    let failing = client
        .submit(&ideogram::GenerateRequest::new(format!(
            "{FAIL_TRIGGER} it"
        )))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = [("SEGMIND_API_KEY", mock.api_key())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = ["--provider", "segmind", "--base-url", mock.api_url()];

    let status = run(
        &[&base[..], &["job", "status", job.id()]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert!(
        stdout(&status).starts_with(&format!("{} QUEUED", job.id()))
            || stdout(&status).contains("PROCESSING"),
        "{}",
        stdout(&status)
    );

    let wait = run(
        &[&base[..], &["job", "wait", job.id(), "-o", "jobs/"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&wait), 0, "{}", stderr(&wait));
    assert_eq!(
        dimensions(&dir.path().join(format!("jobs/{}.jpg", job.id()))),
        (1024, 1024)
    );

    let failed = run(
        &[&base[..], &["job", "wait", failing.id()]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&failed), 7, "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains(failing.id()),
        "{}",
        stderr(&failed)
    );

    let gone = run(
        &[&base[..], &["job", "status", "nope"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&gone), 7, "{}", stderr(&gone));
}

#[tokio::test]
async fn completion_scripts_cover_every_command_and_need_no_key() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell], &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["reframe", "layerize-text", "style-preset", "character-ref"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let out = run(&["completions", "tcsh"], &[], dir.path()).await;
    assert_eq!(code(&out), 2, "a usage error: {}", stderr(&out));
}

#[tokio::test]
async fn the_provider_is_never_picked_silently() {
    let dir = tempfile::tempdir().unwrap();
    // Jobs are Segmind's: without its key, the error names its key.
    let out = run(&["job", "status", "req-1"], &[], dir.path()).await;
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("SEGMIND_API_KEY"), "{}", stderr(&out));
    // Both keys set: Segmind is used, and the user is told so.
    let mock = mock(MockConfig::default()).await;
    let out = run(
        &[
            "--base-url",
            mock.api_url(),
            "generate",
            "a fox",
            "-o",
            "fox.jpg",
        ],
        &[
            ("SEGMIND_API_KEY", &mock.api_key()),
            ("IDEOGRAM_API_KEY", "other"),
        ],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SEGMIND_API_KEY and IDEOGRAM_API_KEY are both set: using segmind"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mock.ledger().entries[0].operation, "ideogram-txt-2-img");
}

#[tokio::test]
async fn a_bad_base_url_is_a_configuration_error_not_an_authentication_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = [("IDEOGRAM_API_KEY", "k")];
    for (url, says) in [
        (
            "http://gateway.example/api",
            "plain http on a non-loopback host",
        ),
        ("not a url", "is not a URL"),
        ("ftp://gateway.example/", "is not http(s)"),
    ] {
        let out = run(
            &["--provider", "ideogram", "--base-url", url, "generate", "x"],
            &key,
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 10, "{url}: {}", stderr(&out));
        let line = stderr(&out);
        assert!(line.contains(says), "{url}: {line}");
        assert!(line.contains("(hint: check --base-url"), "{url}: {line}");
        assert!(!line.contains("API_KEY"), "no key hint: {line}");
    }
}

#[tokio::test]
async fn tables_need_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let all = run(&["resolutions"], &[], dir.path()).await;
    assert_eq!(code(&all), 0);
    assert_eq!(stdout(&all).lines().count(), 1 + 105);
    assert!(
        stdout(&all).contains("1280x720    16:9    yes     -       yes"),
        "{}",
        stdout(&all)
    );
    assert!(
        stdout(&all).contains("2048x2048   1:1     -       -       yes"),
        "{}",
        stdout(&all)
    );
    let v3 = run(
        &["resolutions", "--family", "v3", "--json"],
        &[],
        dir.path(),
    )
    .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&v3)).unwrap();
    assert_eq!(rows.len(), 69);
    let palettes = run(&["palettes"], &[], dir.path()).await;
    assert_eq!(
        stdout(&palettes)
            .lines()
            .filter(|l| l.contains('#'))
            .count(),
        9
    );
    assert!(
        stdout(&palettes).starts_with("ember"),
        "{}",
        stdout(&palettes)
    );
}

#[tokio::test]
async fn a_batch_runs_every_item_with_bounded_concurrency() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 6);
    let out = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "batch",
            file.to_str().unwrap(),
            "-o",
            "out",
            "--concurrency",
            "3",
            "--resolution",
            "1280x720",
        ],
        &[("IDEOGRAM_API_KEY", &mock.api_key())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("6 done, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_complete(&mock, &dir.path().join("out"), 6);
    assert_eq!(
        dimensions(&dir.path().join("out/0001-prompt-number-0.png")),
        (1280, 720)
    );
    let sidecar =
        std::fs::read_to_string(dir.path().join("out/0002-prompt-number-1.json")).unwrap();
    assert!(sidecar.contains("\"seed\": 1001"), "{sidecar}");

    // Run again: everything is on disk, nothing is sent.
    let again = run(
        &[
            "--provider",
            "ideogram",
            "--base-url",
            mock.api_url(),
            "batch",
            file.to_str().unwrap(),
            "-o",
            "out",
            "--resolution",
            "1280x720",
        ],
        &[("IDEOGRAM_API_KEY", &mock.api_key())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(mock.ledger().entries.len(), 6);
}

#[tokio::test]
async fn batch_lines_carry_image_operations_on_both_providers() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "mask.png", 96, 64, [0, 0, 0]);
    let shared = [
        r#"a lighthouse at dawn"#,
        r#"{"op": "reframe", "image": "photo.png", "resolution": "1280x800", "seed": 700}"#,
        r#"{"op": "replace-background", "image": "photo.png", "prompt": "a beach", "magic_prompt": "OFF"}"#,
        r#"{"prompt": "the same at night", "image": "photo.png", "model": "3", "image_weight": 60}"#,
    ];
    let ideogram_only = [
        r#"{"op": "edit", "image": "photo.png", "mask": "mask.png", "prompt": "a red door"}"#,
        r#"{"op": "upscale", "image": "photo.png", "resemblance": 80}"#,
        r#"{"op": "remove-background", "image": "photo.png"}"#,
        r#"{"op": "remove-object", "image": "photo.png", "mask": "mask.png"}"#,
    ];
    // Queued on Segmind like the rest: the character model and 4.0.
    let segmind_only = [
        r#"{"prompt": "the same face, smiling", "model": "3", "character_reference_images": "photo.png"}"#,
        r#"{"prompt": "a poster", "model": "4", "aspect_ratio": "16:9"}"#,
    ];
    // (provider, lines, the operations billed in line order, the sizes saved)
    let segmind_ops = [
        "ideogram-txt-2-img",
        "ideogram-3-reframe",
        "ideogram-3-replace-background",
        "ideogram-3-remix",
        "ideogram-character",
        "ideogram-4",
    ];
    let ideogram_ops = [
        "/generate",
        "/v1/ideogram-v3/reframe",
        "/v1/ideogram-v3/replace-background",
        "/v1/ideogram-v3/remix",
        "/v1/ideogram-v3/edit",
        "/upscale",
        "/v2/image/remove-background/ideogram-1",
        "/v2/image/remove-object/ideogram-1",
    ];
    for (provider, lines, ops) in [
        (
            "segmind",
            [&shared[..], &segmind_only[..]].concat(),
            &segmind_ops[..],
        ),
        (
            "ideogram",
            [&shared[..], &ideogram_only[..]].concat(),
            &ideogram_ops[..],
        ),
    ] {
        let mock = mock(MockConfig::default()).await;
        let file = dir.path().join(format!("{provider}.txt"));
        std::fs::write(&file, lines.join("\n")).unwrap();
        let out_dir = format!("out-{provider}");
        let key = if provider == "segmind" {
            "SEGMIND_API_KEY"
        } else {
            "IDEOGRAM_API_KEY"
        };
        let out = run(
            &[
                "--provider",
                provider,
                "--base-url",
                mock.api_url(),
                "batch",
                file.to_str().unwrap(),
                "-o",
                &out_dir,
                "--concurrency",
                "1",
            ],
            &[(key, &mock.api_key())],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 0, "{provider}: {}", stderr(&out));
        let billed: Vec<String> = mock
            .ledger()
            .entries
            .iter()
            .map(|e| e.operation.clone())
            .collect();
        assert_eq!(billed, ops, "{provider}");
        let saved = files(&dir.path().join(&out_dir));
        let image = |stem: &str| {
            let name = saved
                .iter()
                .find(|f| f.starts_with(stem) && !f.ends_with(".json") && !f.starts_with('.'))
                .unwrap_or_else(|| panic!("{provider}: no {stem} in {saved:?}"));
            dimensions(&dir.path().join(&out_dir).join(name))
        };
        assert_eq!(image("0002-reframe-1280x800"), (1280, 800), "{provider}");
        assert_eq!(image("0003-a-beach"), (96, 64), "{provider}");
        if provider == "ideogram" {
            assert_eq!(image("0005-a-red-door"), (96, 64));
            assert_eq!(image("0006-upscaled"), (192, 128));
            assert_eq!(image("0007-background-removed"), (96, 64));
            assert_eq!(image("0008-object-removed"), (96, 64));
        } else {
            assert_eq!(image("0006-a-poster"), (1024, 576));
        }
    }
}

#[tokio::test]
async fn a_batch_run_again_with_other_options_is_another_batch() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "square.png", 64, 64, [200, 20, 20]);
    let file = dir.path().join("items.txt");
    std::fs::write(&file, r#"{"op": "reframe", "image": "square.png"}"#).unwrap();
    let batch = |resolution: &'static str| {
        let file = file.to_str().unwrap().to_owned();
        let (api, key) = (mock.api_url().to_owned(), mock.api_key());
        let dir = dir.path().to_owned();
        async move {
            let args = [
                "--provider",
                "ideogram",
                "--base-url",
                &api,
                "batch",
                &file,
                "-o",
                "out",
                "--resolution",
                resolution,
            ];
            run(&args, &[("IDEOGRAM_API_KEY", &key)], &dir).await
        }
    };
    let first = batch("1280x800").await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    // The journal's answer is a 1280x800 image: it is not what 800x1280 asks.
    let other = batch("800x1280").await;
    assert_eq!(code(&other), 3, "{}", stderr(&other));
    assert!(
        stderr(&other).contains("belongs to another batch: another file, or other options"),
        "{}",
        stderr(&other)
    );
    // The hint never sends the user somewhere that bills the batch again
    // without saying so.
    assert!(
        stderr(&other).contains("billing again what this journal says was paid for"),
        "{}",
        stderr(&other)
    );
    assert_eq!(mock.ledger().entries.len(), 1, "nothing more was sent");
    let same = batch("1280x800").await;
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    assert_eq!(mock.ledger().entries.len(), 1, "done is done");
}

#[tokio::test]
async fn a_batch_with_a_bad_line_sends_nothing() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.txt"),
        "fine\n{\"prompt\": \"bad\", \"seed\": 5}\n",
    )
    .unwrap();
    let out = run(
        &[
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "batch",
            "p.txt",
        ],
        &[("SEGMIND_API_KEY", &mock.api_key())],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("item 2: invalid seed"),
        "{}",
        stderr(&out)
    );
    assert!(mock.ledger().entries.is_empty());
}

/// A batch stopped half-way (as `kill` or Ctrl-C stop it) and run again
/// ends with every image on disk, each paid for once.
async fn stop_and_resume(provider: &str, config: MockConfig) {
    let mock = mock(config).await;
    let dir = tempfile::tempdir().unwrap();
    let count = 8;
    let file = write_batch(dir.path(), count);
    let variable = if provider == "segmind" {
        "SEGMIND_API_KEY"
    } else {
        "IDEOGRAM_API_KEY"
    };
    let args = [
        "--provider",
        provider,
        "--base-url",
        mock.api_url(),
        "batch",
        file.to_str().unwrap(),
        "-o",
        "out",
        "--concurrency",
        "3",
    ];

    let mut child = start_batch_until_half_way(&args, dir.path(), variable, &mock.api_key()).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // Wait off the runtime: the mock serving the batch runs on it.
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted batch says so");
    assert!(
        mock.ledger().entries.len() < count,
        "stopped too late to test anything"
    );

    let out = run(&args, &[(variable, &mock.api_key())], dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_complete(&mock, &dir.path().join("out"), count);
}

#[tokio::test]
async fn a_stopped_segmind_batch_resumes_without_paying_twice() {
    let config = MockConfig {
        queued_for: Duration::from_millis(100),
        processing_for: Duration::from_millis(400),
        ..MockConfig::default()
    };
    stop_and_resume("segmind", config).await;
}

#[tokio::test]
async fn a_stopped_ideogram_batch_resumes_without_paying_twice() {
    let config = MockConfig {
        latency: Duration::from_millis(250),
        ..MockConfig::default()
    };
    stop_and_resume("ideogram", config).await;
}

#[tokio::test]
async fn a_batch_killed_outright_never_sends_an_uncertain_item_again_unasked() {
    let mock = mock(MockConfig {
        latency: Duration::from_millis(250),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let count = 8;
    let file = write_batch(dir.path(), count);
    let key = mock.api_key();
    let args = [
        "--provider",
        "ideogram",
        "--base-url",
        mock.api_url(),
        "batch",
        file.to_str().unwrap(),
        "-o",
        "out",
        "--concurrency",
        "3",
    ];

    let mut child = start_batch_until_half_way(&args, dir.path(), "IDEOGRAM_API_KEY", &key).await;
    child.kill().unwrap(); // SIGKILL: requests in flight die with it.
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();

    let out = run(&args, &[("IDEOGRAM_API_KEY", &key)], dir.path()).await;
    let uncertain = stderr(&out).matches("not sent again").count();
    assert_eq!(
        code(&out),
        if uncertain > 0 { 7 } else { 0 },
        "{}",
        stderr(&out)
    );
    let ledger = mock.ledger();
    for i in 0..count {
        assert!(
            ledger.for_prompt(&format!("prompt number {i}")).count() <= 1,
            "prompt {i} paid twice"
        );
    }
    let images = files(&dir.path().join("out"))
        .iter()
        .filter(|n| n.ends_with(".png"))
        .count();
    assert_eq!(
        images + uncertain,
        count,
        "every item is on disk or reported"
    );
    assert!(
        files(&dir.path().join("out"))
            .iter()
            .all(|n| !n.contains(".part"))
    );

    // Asked explicitly, the uncertain ones are sent again and the batch completes.
    let forced = run(
        &[&args[..], &["--resend-uncertain"]].concat(),
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    let images = files(&dir.path().join("out"))
        .iter()
        .filter(|n| n.ends_with(".png"))
        .count();
    assert_eq!(images, count);
}

/// Splits a command line on spaces, keeping single-quoted words whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

#[tokio::test]
async fn the_bad_input_table_is_exactly_what_the_cli_prints_and_nothing_is_sent() {
    let book = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/bad-input.md"),
    )
    .unwrap();
    let table = book
        .split("<!-- bad-input-table: start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- bad-input-table: end -->").next())
        .expect("the book's bad-input table");
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(11 * 1024 * 1024, 0);
    std::fs::write(dir.path().join("big.png"), big).unwrap();
    std::fs::write(dir.path().join("anim.gif"), b"GIF89a....").unwrap();
    std::fs::write(dir.path().join("in.png"), b"\x89PNG\r\n\x1a\n....").unwrap();
    let key = mock.api_key();
    let env = [
        ("SEGMIND_API_KEY", key.as_str()),
        ("IDEOGRAM_API_KEY", key.as_str()),
    ];
    let mut rows = 0;
    for line in table.lines().filter(|l| l.starts_with("| `ideogram ")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let command = cells[0]
            .trim_start_matches("| `")
            .split('`')
            .next()
            .unwrap();
        let expected = cells[1].trim_end_matches(" |").trim_matches('`');
        let mut args = words(command.trim_start_matches("ideogram "));
        args.extend(["--base-url".to_owned(), mock.api_url().to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(stderr(&out).trim(), expected, "`{command}`");
        assert_eq!(code(&out), 3, "`{command}`");
        rows += 1;
    }
    assert!(rows >= 15, "only {rows} rows found");
    assert!(
        mock.ledger().entries.is_empty(),
        "an invalid request was billed"
    );
    assert!(mock.cdn_requests().is_empty());
}

#[tokio::test]
async fn the_key_never_appears_in_output_files_or_image_requests() {
    let secret = "sk-LEAKCHECK-7f3a9c";
    let mock = mock(MockConfig {
        api_key: secret.to_owned(),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one\ntwo\n").unwrap();
    let mut outputs = Vec::new();
    for (provider, variable) in [
        ("segmind", "SEGMIND_API_KEY"),
        ("ideogram", "IDEOGRAM_API_KEY"),
    ] {
        let base = ["--provider", provider, "--base-url", mock.api_url()];
        let (single, batch) = (format!("{provider}/single/"), format!("{provider}/batch"));
        for args in [
            &["generate", "a fox", "-o", single.as_str(), "--json"][..],
            &["batch", "p.txt", "-o", batch.as_str(), "--json"][..],
        ] {
            let out = run(
                &[&base[..], args].concat(),
                &[(variable, secret)],
                dir.path(),
            )
            .await;
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            outputs.push(stdout(&out) + &stderr(&out));
        }
        // A failure's message does not echo it either.
        let out = run(
            &[&base[..], &["generate", "x"]].concat(),
            &[(variable, "sk-WRONG-leakcheck")],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 4);
        outputs.push(stdout(&out) + &stderr(&out));
        assert!(
            !outputs.last().unwrap().contains("sk-WRONG"),
            "{}",
            outputs.last().unwrap()
        );
    }
    for text in &outputs {
        assert!(!text.contains(secret), "printed: {text}");
    }
    let mut files = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the key",
            entry.display()
        );
        files += 1;
    }
    assert_eq!(
        files, 17,
        "images, sidecars, journals and batch folder locks were written"
    );
    assert!(!mock.cdn_requests().is_empty());
    assert!(
        mock.cdn_requests().iter().all(|r| !r.had_credentials),
        "the key went to the image origin"
    );
}

#[tokio::test]
async fn help_lists_the_specs_values_and_a_typo_gets_the_value_meant() {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&run(&["generate", "--help"], &[], dir.path()).await);
    // Each enum flag lists every value the specs' bodies allow for its
    // field, so a value a regeneration adds is listed (and taken).
    for field in [
        "style_type",
        "rendering_speed",
        "style_preset",
        "upscale_factor",
    ] {
        let values = ideogram::field_values(field);
        assert!(!values.is_empty(), "{field}");
        for value in values {
            // Once, whatever its case: `Realistic` is REALISTIC.
            let listed = help.to_uppercase().contains(&value.to_uppercase());
            assert!(listed, "{field}: {value} not in:\n{help}");
        }
    }
    for listed in [
        "[possible values: AUTO, ON, OFF]",
        "ember, fresh, jungle",
        "V_2A, V_2A_TURBO, V_3, V_4",
        "16:9",
        "ART_DECO",
    ] {
        assert!(help.contains(listed), "{listed:?} not in:\n{help}");
    }
    for heading in ["Image options:", "Output:", "Network:", "Global options:"] {
        assert!(help.contains(heading), "{heading} not in:\n{help}");
    }
    // Each option under its own heading: the globals are not network options.
    let network = help.split("Network:").nth(1).unwrap();
    let network = network.split("Global options:").next().unwrap();
    assert!(
        !network.contains("--json") && !network.contains("--verbose"),
        "{help}"
    );

    let out = run(&["generate", "x", "--style", "realistc"], &[], dir.path()).await;
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("(hint: did you mean REALISTIC?)"),
        "{}",
        stderr(&out)
    );
    let out = run(&["generate", "x", "--palette", "embr"], &[], dir.path()).await;
    assert!(
        stderr(&out).contains("did you mean ember?"),
        "{}",
        stderr(&out)
    );
    // Colours are palettes too, though only presets are listed.
    let out = run(
        &[
            "generate",
            "x",
            "--palette",
            "#ff5500:0.6,#00aaff",
            "--offline",
            "-o",
            "p.png",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[tokio::test]
async fn network_options_belong_to_commands_that_call_a_service() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["resolutions", "palettes", "models"] {
        let help = stdout(&run(&[command, "--help"], &[], dir.path()).await);
        for option in ["--bearer", "--retries", "--offline", "--provider"] {
            assert!(!help.contains(option), "{command} --help shows {option}");
        }
        let out = run(&[command, "--offline"], &[], dir.path()).await;
        assert_eq!(code(&out), 2, "{command}: {}", stderr(&out));
        let out = run(&["--offline", command], &[], dir.path()).await;
        assert_eq!(code(&out), 2, "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("belong to commands that call a service"));
    }
    // Before or after the command's name, for those that do.
    for args in [
        &["--offline", "generate", "x", "-o", "a.png"][..],
        &["generate", "x", "--offline", "-o", "b.png"][..],
    ] {
        let out = run(args, &[], dir.path()).await;
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn json_failures_are_one_json_object_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32, &str); 3] = [
        (
            &["generate", "x", "--provider", "segmind", "--json"],
            4,
            "authentication",
        ),
        (
            &["generate", "x", "--style", "realistc", "--json"],
            3,
            "invalid_request",
        ),
        (&["generate", "x", "--no-such-flag", "--json"], 2, "usage"),
    ];
    for (args, exit, class) in cases {
        let out = run(args, &[], dir.path()).await;
        assert_eq!(code(&out), exit, "{args:?}");
        let printed: serde_json::Value = serde_json::from_str(stderr(&out).trim())
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stderr(&out)));
        let error = &printed["error"];
        assert_eq!(error["class"], class, "{printed}");
        assert_eq!(error["exit_code"], exit, "{printed}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{printed}"
        );
        assert!(
            error["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{printed}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }

    // A missing argument is named.
    let out = run(&["generate", "--json"], &[], dir.path()).await;
    let printed: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert!(
        printed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("<PROMPT>"),
        "{printed}"
    );

    // Notes are JSON too: each line of stderr is an object, the failure last.
    let out = run(
        &[
            "generate",
            "x",
            "--json",
            "--base-url",
            "http://127.0.0.1:1",
            "--retries",
            "0",
        ],
        &[("SEGMIND_API_KEY", "k1"), ("IDEOGRAM_API_KEY", "k2")],
        dir.path(),
    )
    .await;
    let lines: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(
        lines[0]["note"].as_str().unwrap().contains("both set"),
        "{lines:?}"
    );
    // The text's "note: " is the plain form's label, not the note.
    assert!(
        !lines[0]["note"].as_str().unwrap().starts_with("note:"),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().unwrap()["error"]["class"],
        "not_sent",
        "{lines:?}"
    );
}

#[tokio::test]
async fn job_submit_prints_the_id_that_job_wait_fetches() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let out = run(
        &[
            "job",
            "submit",
            "a fox at dusk",
            "--model",
            "2a",
            "--seed",
            "4242",
            "--base-url",
            mock.api_url(),
        ],
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    assert!(!id.is_empty() && !id.contains(' '), "the id alone: {id:?}");
    assert!(
        stderr(&out).contains(&format!("ideogram job wait {id}")),
        "{}",
        stderr(&out)
    );

    let out = run(
        &[
            "job",
            "wait",
            &id,
            "-o",
            "jobs/",
            "--base-url",
            mock.api_url(),
        ],
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1, "billed once");
    let saved = files(&dir.path().join("jobs"));
    assert!(
        saved
            .iter()
            .any(|n| n.ends_with(".jpg") || n.ends_with(".png")),
        "{saved:?}"
    );

    // Segmind's queue: with only Ideogram's key, the Segmind key is asked for.
    let out = run(
        &["job", "submit", "x", "--base-url", mock.api_url()],
        &[("IDEOGRAM_API_KEY", "k")],
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("SEGMIND_API_KEY"), "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn a_wrong_base_path_names_the_url_it_tried() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    // A base path that holds the key (a gateway's, say) never shows it.
    let base = format!("{}/gateway/{key}/v9", mock.api_url());
    for (provider, variable, path) in [
        (
            "ideogram",
            "IDEOGRAM_API_KEY",
            "/gateway/[REDACTED]/v9/generate",
        ),
        (
            "segmind",
            "SEGMIND_API_KEY",
            // Segmind's queue, the default.
            "/gateway/[REDACTED]/v9/v2/ideogram-txt-2-img",
        ),
    ] {
        let out = run(
            &["generate", "x", "--provider", provider, "--base-url", &base],
            &[(variable, key.as_str())],
            dir.path(),
        )
        .await;
        let err = stderr(&out);
        assert_eq!(code(&out), 7, "{err}");
        assert!(
            err.contains(&format!("not found: {}{path}", mock.api_url())),
            "{err}"
        );
        assert!(err.contains("hint: check the path of --base-url"), "{err}");
        assert!(!err.contains(&key), "{err}");
    }
    assert!(mock.ledger().entries.is_empty());
}

/// `ideogram mock` is a service a user's own tests (in any language) can
/// run against: it says where it listens, takes the client, and serves its
/// ledger.
#[test]
fn ideogram_mock_serves_the_cli_and_its_ledger() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let mut mock = command(
        &["mock", "--listen", "127.0.0.1:0", "--key", "k-user"],
        &[],
        dir.path(),
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(mock.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        (words[0], words[4], words[5], words[6]),
        ("api", "key", "k-user", "ledger"),
        "{line}"
    );
    let api = words[1].to_owned();

    let out = command(
        &[
            "generate",
            "a fox",
            "--provider",
            "segmind",
            "--base-url",
            &api,
            "-o",
            "fox.jpg",
        ],
        &[("SEGMIND_API_KEY", "k-user")],
        dir.path(),
    )
    .output()
    .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let ledger = words[7].strip_prefix("http://").unwrap();
    let (host, path) = ledger.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    mock.kill().unwrap();
    mock.wait().unwrap();
    let body: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["entries"].as_array().map(Vec::len), Some(1), "{body}");
}

/// A batch draws indicatif's bar on a terminal (a pty from util-linux's
/// `script`), and plain lines, one per event, anywhere else.
#[tokio::test]
async fn a_batch_draws_a_bar_on_a_terminal_and_plain_lines_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one\ntwo\nthree\n").unwrap();
    let out = run(
        &["batch", "p.txt", "-o", "plain", "--offline"],
        &[],
        dir.path(),
    )
    .await;
    let plain = stderr(&out);
    assert_eq!(code(&out), 0, "{plain}");
    assert!(
        !plain.contains('\x1b') && !plain.contains('\r'),
        "{plain:?}"
    );
    assert_eq!(
        plain.lines().filter(|l| l.starts_with("saved ")).count(),
        3,
        "{plain}"
    );

    let shell = format!("{BIN} batch p.txt -o tty --offline");
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &shell, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("SEGMIND_API_KEY")
        .env_remove("IDEOGRAM_API_KEY")
        .env("TERM", "xterm");
    let out = tokio::task::spawn_blocking(move || script.output().expect("util-linux script"))
        .await
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 0, "{tty}");
    assert!(tty.contains("3/3 done, 0 failed, 0 in flight"), "{tty:?}");
    assert!(tty.contains("[========================]"), "{tty:?}");
}

#[tokio::test]
async fn queued_jobs_teach_the_poll_cache_which_the_next_run_reads() {
    let mock = mock(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_batch(dir.path(), 3);
    let cache = dir.path().join("cache/times.json");
    let xdg = dir.path().join("xdg");
    let batch = |output: &'static str, env: Vec<(&'static str, String)>| {
        let args = [
            "--provider",
            "segmind",
            "--base-url",
            mock.api_url(),
            "batch",
            file.to_str().unwrap(),
            "-o",
            output,
            "--model",
            "2a",
        ]
        .map(str::to_owned);
        let mut env = env;
        env.push(("SEGMIND_API_KEY", mock.api_key()));
        env.push(("XDG_CACHE_HOME", xdg.to_string_lossy().into_owned()));
        let dir = dir.path().to_owned();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            run(&args, &env, &dir).await
        }
    };

    // A loopback service teaches nothing to the user's cache...
    let out = batch("a", vec![]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        !xdg.exists(),
        "wrote into the cache folder for a loopback mock"
    );

    // ...unless a cache is named; a file there that is not one is left as
    // it is (another program's, or a newer version's).
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, "not a cache").unwrap();
    let named = || vec![("IDEOGRAM_POLL_CACHE", cache.to_string_lossy().into_owned())];
    let out = batch("b", named()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), "not a cache");
    std::fs::remove_file(&cache).unwrap();
    let out = batch("b2", named()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let learned = ideogram::CompletionTimes::from_json(&std::fs::read_to_string(&cache).unwrap())
        .expect("a cache in the current format");
    assert_eq!(learned.observed("/v2/ideogram-2a-txt-2-img").len(), 3);

    // The next run starts from it and adds to it.
    let out = batch("c", named()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let learned =
        ideogram::CompletionTimes::from_json(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(learned.observed("/v2/ideogram-2a-txt-2-img").len(), 6);
    let leftovers: Vec<_> = std::fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["times.json"], "temporary files left behind");
}

/// `--version` and `-V` alone, answered before clap is built, print what
/// clap prints when the flag comes with others (clap reads those).
#[test]
fn a_lone_version_flag_prints_what_clap_prints() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| command(args, &[], dir.path()).output().unwrap();
    let by_clap = run(&["--json", "--version"]);
    assert_eq!(code(&by_clap), 0, "{}", stderr(&by_clap));
    assert!(
        stdout(&by_clap).starts_with("ideogram "),
        "{}",
        stdout(&by_clap)
    );
    for args in [&["--version"][..], &["-V"], &["-v", "-V"]] {
        let out = run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&by_clap), "{args:?}");
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

/// A reader that went away (`ideogram completions bash | head`) ends every
/// command that only prints quietly and successfully, never in a panic: the
/// pipe's read end is closed before the command starts, so every write fails.
#[test]
fn a_closed_stdout_ends_printing_commands_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["resolutions"],
        &["--help"],
        &["--version"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(args, &[], dir.path())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(code(&out), 0, "{args:?}: {err}");
    }
}

/// Every command a help text shows (`` `ideogram ...` ``) runs as shown:
/// help cannot name a form the parser refuses. Commands with placeholders
/// (upper-case words) or a redirection are checked up to those.
#[test]
fn the_commands_help_shows_run() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| stdout(&command(args, &[], dir.path()).output().unwrap());
    let top = help(&["--help"]);
    let mut texts = vec![top.clone()];
    let names = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|name| name != "help")
            .collect()
    };
    for name in names(&top) {
        let text = help(&[&name, "--help"]);
        for sub in names(&text) {
            texts.push(help(&[&name, &sub, "--help"]));
        }
        texts.push(text);
    }
    let mut ran = 0;
    for text in &texts {
        for shown in text.split('`').skip(1).step_by(2) {
            let Some(rest) = shown.strip_prefix("ideogram ") else {
                continue;
            };
            let words: Vec<&str> = rest
                .split_whitespace()
                .take_while(|w| !w.starts_with('>') && !w.chars().any(|c| c.is_ascii_uppercase()))
                .collect();
            if words.len() < rest.split_whitespace().count() {
                continue;
            }
            let out = command(&words, &[], dir.path()).output().unwrap();
            assert_eq!(code(&out), 0, "`{shown}` from help: {}", stderr(&out));
            ran += 1;
        }
    }
    assert!(ran >= 2, "help shows commands to run");
}

/// The command list says where each image operation runs, as the routes
/// say: reframe, replace-background and describe run on Segmind too; edit
/// and upscale on Ideogram's API alone.
#[test]
fn help_says_where_each_operation_runs() {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&command(&["--help"], &[], dir.path()).output().unwrap());
    let line = |name: &str| {
        help.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {help}"))
            .to_owned()
    };
    for name in ["reframe", "replace-background", "describe"] {
        assert!(
            line(name).ends_with("runs on segmind, ideogram)"),
            "{}",
            line(name)
        );
    }
    for name in ["edit", "upscale"] {
        assert!(line(name).ends_with("runs on ideogram)"), "{}", line(name));
    }
    assert!(!help.contains("Ideogram's API)"), "{help}");
}

/// Each image argument a command may go without names the field the spec
/// marks `x-in-place-of` it (read from the spec, not written in the help)
/// and the provider taking it, as a sentence of its own; a command that
/// needs its image (upscale) names none.
#[test]
fn help_names_the_spec_s_stand_in_for_each_image_argument() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| stdout(&command(args, &[], dir.path()).output().unwrap());
    let stand_in = |file: &str| {
        let field = ideogram::ImageInput::asset_field(file).expect("a stand-in");
        format!(
            "Or leave it out and give `--set {field}=JSON`: an image the service already holds (--provider ideogram)"
        )
    };
    let (image, mask) = (stand_in("image"), stand_in("mask"));
    let edit = help(&["edit", "--help"]);
    assert!(
        edit.contains(&format!("where the operation takes more). {image}")),
        "{edit}"
    );
    assert!(edit.contains(&format!("IMAGE's size. {mask}")), "{edit}");
    let short = help(&["edit", "-h"]);
    assert!(short.contains(&image) && short.contains(&mask), "{short}");
    for args in [
        &["remix", "--help"][..],
        &["reframe", "--help"],
        &["replace-background", "--help"],
        &["remove-background", "--help"],
        &["layerize-text", "--help"],
        &["describe", "--help"],
        &["job", "submit", "--help"],
    ] {
        let text = help(args);
        assert_eq!(text.matches(&image).count(), 1, "{args:?}: {text}");
    }
    for args in [&["upscale", "--help"][..], &["remove-object", "--help"]] {
        let text = help(args);
        assert!(!text.contains("asset_identifier"), "{args:?}: {text}");
    }
}

/// A command's help lists only the body options one of its bodies takes:
/// upscale shows its seed, not a palette, speed or style reference it would
/// refuse (given anyway, they are refused naming who takes them).
#[test]
fn help_lists_only_options_the_command_takes() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| stdout(&command(args, &[], dir.path()).output().unwrap());
    let upscale = help(&["upscale", "--help"]);
    for refused in [
        "--color-palette",
        "--rendering-speed",
        "--style-reference-images",
    ] {
        assert!(!upscale.contains(refused), "{refused} in {upscale}");
    }
    assert!(upscale.contains("--seed"), "{upscale}");
    let generate = help(&["generate", "--help"]);
    for taken in [
        "--color-palette",
        "--rendering-speed",
        "--style-reference-images",
    ] {
        assert!(generate.contains(taken), "{taken} missing from {generate}");
    }
    let png = dir.path().join("in.png");
    write_png(dir.path(), "in.png", 64, 64, [128, 128, 128]);
    let out = command(
        &[
            "upscale",
            png.to_str().unwrap(),
            "--color-palette",
            "ember",
            "--offline",
        ],
        &[],
        dir.path(),
    )
    .output()
    .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("color_palette"), "{}", stderr(&out));
}

/// `--seed -1` is the seed's value, refused by the spec's range with the
/// field named, not a flag clap suggests passing after `--` (which would
/// make it the prompt).
#[test]
fn a_negative_number_is_a_value_refused_by_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(
        &[
            "generate",
            "a fox",
            "--seed",
            "-1",
            "--offline",
            "-o",
            "fox.png",
        ],
        &[],
        dir.path(),
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 3, "{err}");
    assert!(
        err.contains("invalid seed: -1 is below the minimum 0"),
        "{err}"
    );
    assert!(files(dir.path()).is_empty(), "nothing saved");
}

/// A request that never reached the service (a refused connection) exits
/// with its own code, 11, "not sent, not billed": a script can send it
/// again, where 8 means it may have been billed.
#[test]
fn a_request_never_sent_has_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1: nothing listens there.
    let base = "http://127.0.0.1:1";
    let out = command(
        &[
            "--json",
            "generate",
            "a fox",
            "--provider",
            "ideogram",
            "--base-url",
            base,
            "--retries",
            "0",
            "-o",
            "fox.png",
        ],
        &[("IDEOGRAM_API_KEY", "k")],
        dir.path(),
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 11, "{err}");
    assert!(err.contains("\"class\":\"not_sent\""), "{err}");
    assert!(err.contains("not sent"), "{err}");
    let help = stdout(&command(&["--help"], &[], dir.path()).output().unwrap());
    assert!(
        help.contains("11 network error before anything was sent"),
        "{help}"
    );
}

/// A plain-http base URL is refused with the command line's fix, not the
/// library's method name.
#[test]
fn an_http_base_url_is_refused_in_the_command_line_s_words() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(
        &[
            "generate",
            "a fox",
            "--provider",
            "ideogram",
            "--base-url",
            "http://example.com",
        ],
        &[("IDEOGRAM_API_KEY", "k")],
        dir.path(),
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 10, "{err}");
    assert!(err.contains("in the clear"), "{err}");
    assert!(err.contains("hint: check --base-url"), "{err}");
    assert!(!err.contains("allow_insecure_http"), "{err}");
}

/// `job wait --timeout 1` waits its whole second, says so, and gives its
/// resume command once.
#[tokio::test]
async fn a_job_wait_timeout_says_how_long_it_waited() {
    let mock = mock(MockConfig {
        queued_for: Duration::from_secs(30),
        ..MockConfig::default()
    })
    .await;
    let client = ideogram::Client::builder(ideogram::Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .unwrap();
    let job = client
        .submit(&ideogram::GenerateRequest::new("slow"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    let env = [("SEGMIND_API_KEY", key.as_str())];
    let base = ["--provider", "segmind", "--base-url", mock.api_url()];
    let wait = run(
        &[&base[..], &["job", "wait", job.id(), "--timeout", "1"]].concat(),
        &env,
        dir.path(),
    )
    .await;
    let err = stderr(&wait);
    assert_eq!(code(&wait), 7, "{err}");
    assert!(err.contains("did not finish within 1.0 s"), "{err}");
    assert_eq!(err.matches("runs on").count(), 1, "{err}");
    assert_eq!(
        err.matches(&format!("job wait {}", job.id())).count(),
        1,
        "{err}"
    );
}

/// Offline images carry a seed drawn per run, as the mock's help says, not
/// the same seed every time.
#[test]
fn offline_runs_draw_their_own_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let seed = |name: &str| {
        let out = command(
            &[
                "generate",
                "a fox",
                "--provider",
                "ideogram",
                "--offline",
                "-o",
                name,
            ],
            &[],
            dir.path(),
        )
        .output()
        .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let sidecar = dir.path().join(name).with_extension("json");
        let sidecar: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(sidecar).unwrap()).unwrap();
        sidecar["seed"].as_u64().expect("a seed")
    };
    let seeds = [seed("a.png"), seed("b.png"), seed("c.png")];
    assert!(seeds[0] != seeds[1] || seeds[1] != seeds[2], "{seeds:?}");
}

/// When a name is taken by another type of image and a sidecar, the note
/// names what is there, not the requested name (which is not).
#[test]
fn a_taken_name_note_names_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out.png"), b"theirs").unwrap();
    std::fs::write(dir.path().join("out.json"), b"{}").unwrap();
    let out = command(
        &[
            "generate",
            "a fox",
            "--provider",
            "ideogram",
            "--offline",
            "-o",
            "out.jpg",
        ],
        &[],
        dir.path(),
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(!err.contains("out.jpg exists"), "{err}");
    assert!(err.contains("out.json and"), "{err}");
    assert!(err.contains("out.png exist: saving as"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("out.png")).unwrap(),
        b"theirs"
    );
}

/// An existing folder named like an image (`-o dir.png`) is refused, naming
/// the folder and what to type to save into it, before anything is sent;
/// with the trailing `/` the images go into it.
#[test]
fn a_folder_named_like_an_image_is_refused_unless_written_as_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dir.png")).unwrap();
    let generate = |output: &str| {
        command(
            &["generate", "a fox", "--offline", "-o", output],
            &[],
            dir.path(),
        )
        .output()
        .unwrap()
    };
    let out = generate("dir.png");
    let err = stderr(&out);
    assert_eq!(code(&out), 3, "{err}");
    assert!(err.contains("dir.png is a folder"), "{err}");
    assert!(err.contains("`-o dir.png/`"), "{err}");
    assert!(files(&dir.path().join("dir.png")).is_empty(), "{err}");

    let out = generate("dir.png/");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let saved = files(&dir.path().join("dir.png"));
    assert!(saved.contains(&"a-fox.png".to_owned()), "{saved:?}");
}

/// A requested `.jpg` that comes back as a PNG is saved under the name of
/// what it is, and the note says so: the real format, the name asked and
/// the name used; no file holds a type its name does not say.
#[test]
fn a_jpg_asked_for_is_saved_as_the_png_it_is_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(
        &[
            "generate",
            "a fox",
            "--provider",
            "ideogram",
            "--offline",
            "-o",
            "fox.jpg",
        ],
        &[],
        dir.path(),
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(
        err.contains("fox.jpg holds a PNG image, saved as fox.png"),
        "{err}"
    );
    assert!(!dir.path().join("fox.jpg").exists());
    let png = std::fs::read(dir.path().join("fox.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("fox.json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["image"], "fox.png");
}

/// The edit the spec deprecates: the mock announces it, and the CLI says
/// so on one stderr line per process however many items call it, naming
/// the replacement the answer links; `--json` makes it a JSON note; an
/// answer without the headers says nothing.
#[tokio::test]
async fn a_deprecated_operation_is_told_once_per_process() {
    let dir = tempfile::tempdir().unwrap();
    write_png(dir.path(), "photo.png", 96, 64, [20, 90, 200]);
    write_png(dir.path(), "mask.png", 96, 64, [0, 0, 0]);
    let mock = mock(MockConfig::default()).await;
    let replacement = ideogram::raw::ideogram::operations::ALL
        .iter()
        .find(|op| op.path == "/v1/ideogram-v3/edit")
        .and_then(|op| op.deprecation)
        .and_then(|d| d.replacement)
        .expect("the spec names the edit's replacement");
    let edit =
        r#"{"op": "edit", "image": "photo.png", "mask": "mask.png", "prompt": "a red door"}"#;
    std::fs::write(
        dir.path().join("edits.txt"),
        [edit, edit, "a lighthouse"].join("\n"),
    )
    .unwrap();
    let key = [("IDEOGRAM_API_KEY", mock.api_key())];
    let key: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let network = ["--provider", "ideogram", "--base-url", mock.api_url()];
    let out = run(
        &[
            &network[..],
            &["batch", "edits.txt", "-o", "out", "--concurrency", "2"],
        ]
        .concat(),
        &key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(mock.ledger().entries.len(), 3);
    let told: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.contains("deprecated"))
        .map(str::to_owned)
        .collect();
    assert_eq!(told.len(), 1, "{}", stderr(&out));
    assert!(
        told[0].starts_with("warning: POST /v1/ideogram-v3/edit")
            && told[0].contains(&format!("use {replacement} instead")),
        "{}",
        told[0]
    );

    // --json: a note, as every other stderr line.
    let out = run(
        &[
            &network[..],
            &[
                "--json",
                "edit",
                "photo.png",
                "mask.png",
                "a door",
                "-o",
                "json/",
            ],
        ]
        .concat(),
        &key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let notes: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stderr line is JSON"))
        .filter(|v: &serde_json::Value| {
            v["note"].as_str().is_some_and(|n| n.contains("deprecated"))
        })
        .collect();
    assert_eq!(notes.len(), 1, "{}", stderr(&out));

    // No header, no line.
    let out = run(
        &[&network[..], &["generate", "a harbour", "-o", "plain/"]].concat(),
        &key,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("deprecated"), "{}", stderr(&out));
}

/// `--sync` pins Segmind's v1 for the one-shot commands, says `--help`;
/// batches and `job` always queue, so it is refused there, unsent.
#[tokio::test]
async fn sync_is_said_in_help_and_refused_where_everything_queues() {
    let dir = tempfile::tempdir().unwrap();
    let help = run(&["generate", "--help"], &[], dir.path()).await;
    assert_eq!(code(&help), 0);
    let text = stdout(&help);
    assert!(text.contains("--sync"), "{text}");
    assert!(text.contains("maintenance mode"), "{text}");
    std::fs::write(dir.path().join("p.txt"), "a cat\n").unwrap();
    for args in [
        &[
            "--offline",
            "--provider",
            "segmind",
            "batch",
            "p.txt",
            "--sync",
        ][..],
        &["--offline", "job", "submit", "a cat", "--sync"][..],
    ] {
        let out = run(args, &[], dir.path()).await;
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--sync belongs to"),
            "{}",
            stderr(&out)
        );
    }
}

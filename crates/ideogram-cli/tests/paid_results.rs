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

/// Runs `ideogram ARGS` (after `--base-url URL`) in a folder of its own
/// whose `small/` is a 512 KiB filesystem filled to 500 KiB, in a mount
/// namespace of the test's own (as the soak test does): `$S` is that
/// filesystem, `$W` the test's folder on the real disk; `setup` runs
/// first (to point variables at either). Its stderr ends with `exit N`.
async fn on_a_full_disk(
    mock: &ideogram_mock::MockServer,
    setup: &str,
    args: &[&str],
) -> (i32, String, String) {
    let url = mock.api_url();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let script = format!(
        r#"
        set -u
        S="$1"; W="$2"; BIN="$3"; URL="$4"; shift 4
        mount -t tmpfs -o size=512k none "$S" || {{ echo "cannot mount a small filesystem" >&2; exit 97; }}
        head -c 512000 /dev/zero > "$S/filler"
        mkdir -p "$S/out" "$S/tmp"
        export TMPDIR="$S/tmp"
        {setup}
        cd "$S"
        "$BIN" --base-url "$URL" "$@"
        echo "exit $?" >&2
        "#
    );
    let mut command = std::process::Command::new("unshare");
    command
        .args(["-rm", "sh", "-c", &script, "sh"])
        .arg(&small)
        .arg(dir.path())
        .arg(BIN)
        .arg(url)
        .args(args)
        .env_remove("IDEOGRAM_API_KEY")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("SEGMIND_API_KEY", mock.api_key())
        .env("HOME", dir.path().join("home"));
    let output = tokio::task::spawn_blocking(move || command.output().expect("unshare"))
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(output.status.code(), Some(97), "{err}");
    let code = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("exit "))
        .unwrap_or_else(|| panic!("no exit line: {err}"))
        .trim()
        .parse()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    // The folder goes with `dir`: what the run left on the real disk is
    // listed instead.
    let left = walk(dir.path())
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    (code, err, format!("{out}\n--- left on disk:\n{left}"))
}

#[tokio::test]
async fn a_full_output_disk_refuses_before_anything_is_sent() {
    let mock = mock(Default::default()).await;
    let (code, err, _) = on_a_full_disk(
        &mock,
        "",
        &[
            "--provider",
            "segmind",
            "generate",
            "x",
            "--model",
            "3",
            "-o",
            "out/",
        ],
    )
    .await;
    assert_ne!(code, 0, "{err}");
    assert_ne!(code, 9, "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(err.contains("out"), "names the folder: {err}");
    assert!(err.contains("KiB free"), "names the free space: {err}");
    mock.settled().await;
    assert!(
        mock.ledger().entries.is_empty(),
        "billed: {:?}",
        mock.ledger()
    );
}

#[tokio::test]
async fn paid_bytes_the_output_disk_cannot_take_go_to_the_data_folder() {
    let mock = mock(Default::default()).await;
    let (code, err, left) = on_a_full_disk(
        &mock,
        r#"export IDEOGRAM_MIN_FREE_PER_IMAGE=0 XDG_DATA_HOME="$W/data""#,
        &[
            "--provider",
            "segmind",
            // Sync v1: the image comes as bytes, with no URL to fetch.
            "--sync",
            "generate",
            "x",
            "--model",
            "3",
            "-o",
            "out/",
        ],
    )
    .await;
    assert_eq!(code, 9, "{err}");
    let rescued = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("saved instead at "))
        .unwrap_or_else(|| panic!("not rescued: {err}\n{left}"));
    assert!(rescued.contains("/data/ideogram/rescued/"), "{err}");
    assert!(left.contains(rescued), "{rescued} is not on disk:\n{left}");
    let described = Path::new(rescued).with_extension("json");
    assert!(
        left.contains(&described.display().to_string()),
        "no sidecar beside the copy:\n{left}"
    );
    assert!(!err.contains("ideogram fetch"), "{err}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1);
}

#[tokio::test]
async fn paid_bytes_no_place_takes_are_reported_lost_without_a_fetch_command() {
    let mock = mock(Default::default()).await;
    let setup = r#"export IDEOGRAM_MIN_FREE_PER_IMAGE=0 XDG_DATA_HOME="$S/data" XDG_CACHE_HOME="$S/cache" HOME="$S/home""#;
    let (code, err, out) = on_a_full_disk(
        &mock,
        setup,
        &[
            "--provider",
            "segmind",
            // Sync v1: the image comes as bytes, with no URL to fetch.
            "--sync",
            "generate",
            "x",
            "--model",
            "3",
            "-o",
            "out/",
        ],
    )
    .await;
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("lost"), "{err}");
    assert!(err.contains("No space left on device"), "says why: {err}");
    assert!(!err.contains("ideogram fetch"), "{err}");
    assert!(!err.contains("run the printed commands"), "{err}");
    assert!(!err.contains("saved instead"), "{err}");

    // --json says the same: no URL, no copy, lost.
    let (code, err, out_json) = on_a_full_disk(
        &mock,
        setup,
        &[
            "--provider",
            "segmind",
            // Sync v1: the image comes as bytes, with no URL to fetch.
            "--sync",
            "--json",
            "generate",
            "x",
            "--model",
            "3",
            "-o",
            "out/",
        ],
    )
    .await;
    assert_eq!(code, 9, "{err}\n{out}");
    let printed: Value = serde_json::from_str(out_json.split("\n--- left").next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {out_json}"));
    let image = &printed[0];
    assert_eq!(image["status"], "not_saved", "{image}");
    assert_eq!(image["lost"], true, "{image}");
    assert!(
        image["fetch"].is_null() && image["source_url"].is_null(),
        "{image}"
    );
    assert!(
        !err.contains("ideogram fetch") && !err.contains("fetched with"),
        "{err}"
    );
}

/// Fills the filesystem holding `dir` (a path seen from outside the mount
/// namespace that holds it) until it refuses a byte more.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create_new(dir.join("filler")).unwrap();
    let block = vec![0u8; 64 << 10];
    loop {
        if let Err(err) = filler.write_all(&block) {
            assert_eq!(err.raw_os_error(), Some(28), "not a full disk: {err}");
            break;
        }
    }
    // What fit in a partial block: the disk is full to its last byte.
    while filler.write_all(&[0]).is_ok() {}
}

#[tokio::test]
async fn a_disk_filled_by_another_writer_while_paying_still_takes_the_image() {
    use ideogram_mock::{Fault, Target};
    use std::time::Duration;
    let mock = mock(Default::default()).await;
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(4)),
    );
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    // Output folder, HOME (data and cache) and TMPDIR on one 12 MiB disk,
    // with room enough for the check before sending.
    let script = r#"
        set -u
        S="$1"; BIN="$2"; URL="$3"
        mount -t tmpfs -o size=12m none "$S" || { echo "cannot mount a small filesystem" >&2; exit 97; }
        mkdir -p "$S/out" "$S/tmp" "$S/home"
        export TMPDIR="$S/tmp" HOME="$S/home"
        cd "$S"
        "$BIN" --base-url "$URL" --provider segmind generate x --model 3 -o out/
        echo "exit $?" >&2
        ls -A out
        "#;
    let mut command = std::process::Command::new("unshare");
    command
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(&small)
        .arg(BIN)
        .arg(mock.api_url())
        .env_remove("IDEOGRAM_API_KEY")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("IDEOGRAM_MIN_FREE_PER_IMAGE")
        .env("SEGMIND_API_KEY", mock.api_key())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("unshare");
    // Once the paid request is in flight, another writer takes every byte
    // left on that disk (from outside, through the namespace's root).
    within("the mock to work on the request", mock.working()).await;
    let seen =
        Path::new(&format!("/proc/{}/root", child.id())).join(small.strip_prefix("/").unwrap());
    let filled = seen.clone();
    tokio::task::spawn_blocking(move || fill(&filled))
        .await
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!err.contains("cannot mount"), "{err}");
    assert!(
        err.contains("exit 0"),
        "the image was not saved: {err}\n{out}"
    );
    let left: Vec<&str> = out.lines().collect();
    assert!(
        left.iter()
            .any(|name| [".png", ".jpg", ".webp"].iter().any(|e| name.ends_with(e))),
        "no image in out/: {left:?}\n{err}"
    );
    assert!(
        !left.iter().any(|name| name.starts_with(".ideogram-room")),
        "the reserved room was left behind: {left:?}"
    );
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1, "{:?}", mock.ledger());
}

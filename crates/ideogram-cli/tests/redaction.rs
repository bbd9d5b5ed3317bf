//! The key appears in no text the tool prints or writes, however it comes
//! back: in a URL's credentials or query (`fetch`), in another letter case,
//! with invisible characters inserted, percent-encoded; on stdout, stderr,
//! `--json`, `-v` traces, sidecars and journals.

mod common;

use common::*;
use serde_json::Value;
use workspace_tests::{Canned, CaptureServer};

const KEY: &str = "sk-Leak-Probe-9f3a71";

/// Whether `text` holds `KEY` in any disguise: case, invisible characters,
/// percent-encoding. Checked without the tool's own matcher.
fn leaks(text: &str) -> bool {
    let mut plain = String::new();
    let bytes = text.as_bytes();
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    for c in String::from_utf8_lossy(&decoded).chars() {
        let invisible = matches!(
            c,
            '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}'
        );
        if !invisible {
            plain.push(c.to_ascii_lowercase());
        }
    }
    plain.contains(&KEY.to_ascii_lowercase())
}

/// `KEY` as a hostile server echoes it: upper case, a zero-width space and
/// a soft hyphen inside.
fn disguised() -> String {
    let upper = KEY.to_ascii_uppercase();
    format!(
        "{}\u{200B}{}\u{AD}{}",
        &upper[..4],
        &upper[4..10],
        &upper[10..]
    )
}

fn png() -> Vec<u8> {
    ideogram_mock::ImageSpec {
        width: 8,
        height: 8,
        seed: 1,
        palette: Vec::new(),
        transparent: false,
    }
    .png()
}

#[tokio::test]
async fn fetch_never_prints_a_key_in_the_url_credentials_query_or_an_echo() {
    let image = png();
    let server = CaptureServer::start(move |request| {
        if request.path.starts_with("/ok/") {
            Canned::bytes(200, "image/png", &image)
        } else {
            // The request's URL echoed back, the key in it disguised.
            let echo = request.path.replace(KEY, &disguised());
            Canned::json(404, serde_json::json!({"error": format!("no {echo}")}))
        }
    })
    .await;
    let host = server.base_url();
    let host = host.trim_end_matches('/').trim_start_matches("http://");
    let with_credentials = format!("http://user:{KEY}@{host}/ok/a.png?k={KEY}");
    let encoded = KEY.replace('-', "%2D");
    let missing = format!("http://{host}/gone/b.png?k={encoded}&again={KEY}");
    let dir = tempfile::tempdir().unwrap();
    let mut printed = String::new();
    for (n, flags) in [&[][..], &["--json"][..], &["-v"][..]].iter().enumerate() {
        let folder = format!("out{n}");
        std::fs::create_dir(dir.path().join(&folder)).unwrap();
        let args = [
            *flags,
            &["fetch", &with_credentials, &missing, "-o", &folder][..],
        ]
        .concat();
        let out = run(&args, &[("SEGMIND_API_KEY", KEY)], dir.path()).await;
        assert_ne!(code(&out), 0, "the missing image was fetched");
        assert_eq!(
            files(&dir.path().join(&folder)).len(),
            1,
            "{}",
            stderr(&out)
        );
        if flags.contains(&"--json") {
            let saved: Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(saved.as_array().unwrap().len(), 1, "{saved}");
        }
        printed += &(stdout(&out) + &stderr(&out));
    }
    assert!(
        printed.contains("[REDACTED]"),
        "no URL reached the output: {printed}"
    );
    assert!(!leaks(&printed), "{printed}");
    for file in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!leaks(&text), "{} holds the key", file.display());
    }
}

#[tokio::test]
async fn a_key_echoed_in_another_case_or_with_invisible_characters_is_never_printed() {
    let echo = CaptureServer::start(|request| {
        let sent = request
            .header("api-key")
            .or(request.header("authorization"))
            .unwrap_or_default()
            .replace(KEY, &disguised());
        Canned::json(500, serde_json::json!({"error": format!("bad key {sent}")}))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one\n").unwrap();
    let base = echo.base_url();
    let mut printed = String::new();
    for extra in [&[][..], &["--json"][..], &["-vv"][..]] {
        for command in [&["generate", "x"][..], &["batch", "p.txt", "-o", "b"][..]] {
            let args = [
                extra,
                &[
                    "--provider",
                    "ideogram",
                    "--base-url",
                    &base,
                    "--retries",
                    "0",
                ][..],
                command,
            ]
            .concat();
            let out = run(&args, &[("IDEOGRAM_API_KEY", KEY)], dir.path()).await;
            assert_ne!(code(&out), 0);
            printed += &(stdout(&out) + &stderr(&out));
        }
    }
    assert!(
        printed.contains("[REDACTED]"),
        "the echo never reached the output: {printed}"
    );
    assert!(!leaks(&printed), "{printed}");
    for file in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!leaks(&text), "{} holds the key", file.display());
    }
}

/// A server whose image URLs carry the key (`/img/KEY/a.png`): the image is
/// served once `serving` is set, else 404.
async fn key_in_image_url_server(
    serving: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> CaptureServer {
    let image = png();
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let server_base = base.clone();
    let server = CaptureServer::start(move |request| {
        if request.method == "POST" {
            let url = format!(
                "{}/img/{KEY}/a.png",
                server_base.lock().unwrap().trim_end_matches('/')
            );
            let data = serde_json::json!([{"url": url, "prompt": "p", "resolution": "1024x1024",
                "is_image_safe": true, "seed": 7, "style_type": "GENERAL"}]);
            Canned::json(
                200,
                serde_json::json!({"created": "2026-11-01T00:00:00Z", "data": data}),
            )
        } else if serving.load(std::sync::atomic::Ordering::SeqCst)
            && request.path == format!("/img/{KEY}/a.png")
        {
            Canned::bytes(200, "image/png", &image)
        } else {
            Canned::json(404, serde_json::json!({"error": "not found"}))
        }
    })
    .await;
    *base.lock().unwrap() = server.base_url();
    server
}

#[tokio::test]
async fn an_image_url_holding_the_key_is_downloaded_whole_and_its_fetch_command_works() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let serving = std::sync::Arc::new(AtomicBool::new(true));
    let server = key_in_image_url_server(serving.clone()).await;
    let base = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    let env = [("IDEOGRAM_API_KEY", KEY)];
    let args = |out: &'static str| {
        [
            "--provider",
            "ideogram",
            "--base-url",
            base.as_str(),
            "--retries",
            "0",
            "generate",
            "x",
            "-o",
            out,
        ]
        .map(str::to_owned)
    };
    // The URL is used whole: the paid image is saved.
    let out = run(
        &args("saved.png").each_ref().map(String::as_str),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir.path().join("saved.png").exists());
    assert!(!leaks(&(stdout(&out) + &stderr(&out))));
    // A failed download prints a fetch command that works, without the key.
    serving.store(false, Ordering::SeqCst);
    let out = run(
        &args("lost.png").each_ref().map(String::as_str),
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let printed = stdout(&out) + &stderr(&out);
    assert!(!leaks(&printed), "{printed}");
    let fetch = printed
        .lines()
        .find_map(|l| l.split_once("fetch it later: ").map(|(_, c)| c.to_owned()))
        .unwrap_or_else(|| panic!("no fetch command: {printed}"));
    serving.store(true, Ordering::SeqCst);
    let fetch = fetch.replacen("ideogram ", &format!("{BIN} "), 1);
    let mut shell = std::process::Command::new("sh");
    shell
        .args(["-c", &fetch])
        .current_dir(dir.path())
        .env_remove("SEGMIND_API_KEY")
        .env("IDEOGRAM_API_KEY", KEY);
    let fetched = tokio::task::spawn_blocking(move || shell.output().unwrap())
        .await
        .unwrap();
    assert_eq!(code(&fetched), 0, "{fetch}: {}", stderr(&fetched));
    assert!(dir.path().join("lost.png").exists(), "{fetch}");
    for file in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!leaks(&text), "{} holds the key", file.display());
    }
}

/// A batch journals a paid image's URL before downloading it; a URL the
/// server put the key in is journaled with the key's place marked (where
/// it is read from), not the key: no file holds it, and a rerun, the image
/// host back, still fetches the image (sending nothing again), with the key
/// from the environment or from `--api-key-file`.
#[tokio::test]
async fn a_batch_journals_an_image_url_holding_the_key_without_it_and_a_rerun_fetches_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let serving = std::sync::Arc::new(AtomicBool::new(false));
    let server = key_in_image_url_server(serving.clone()).await;
    let base = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.txt"), "one\n").unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("key.txt");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let key_file = key_file.to_str().unwrap().to_owned();
    let env = [("IDEOGRAM_API_KEY", KEY)];
    let posts = || {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    for (out, from_file) in [("b", false), ("c", true)] {
        let mut args = vec![
            "--provider",
            "ideogram",
            "--base-url",
            &base,
            "--retries",
            "0",
        ];
        let env: &[(&str, &str)] = match from_file {
            true => {
                args.extend(["--api-key-file", key_file.as_str()]);
                &[]
            }
            false => &env,
        };
        args.extend(["batch", "p.txt", "-o", out]);
        serving.store(false, Ordering::SeqCst);
        let sent = posts();
        let lost = run(&args, env, dir.path()).await;
        assert_eq!(code(&lost), 9, "{}", stderr(&lost));
        assert_eq!(posts(), sent + 1);
        for file in walk(dir.path()) {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            assert!(!leaks(&text), "{} holds the key", file.display());
        }
        serving.store(true, Ordering::SeqCst);
        let fetched = run(&args, env, dir.path()).await;
        assert_eq!(code(&fetched), 0, "{}", stderr(&fetched));
        assert_eq!(posts(), sent + 1, "sent again: {}", stderr(&fetched));
        assert!(
            files(&dir.path().join(out))
                .iter()
                .any(|n| n.ends_with(".png")),
            "{:?}",
            files(&dir.path().join(out))
        );
        assert!(!leaks(&(stdout(&fetched) + &stderr(&fetched))));
    }
    for file in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!leaks(&text), "{} holds the key", file.display());
    }
}

/// The file names `fetch` derives from URLs hold no key, whole or
/// percent-encoded, and the path it prints is the file it wrote.
#[tokio::test]
async fn a_key_in_a_fetched_url_never_reaches_a_file_name_and_the_printed_path_is_real() {
    let image = png();
    let server = CaptureServer::start(move |request| {
        if request.path.starts_with("/img/") {
            Canned::bytes(200, "image/png", &image)
        } else {
            Canned::json(404, serde_json::json!({"error": "not found"}))
        }
    })
    .await;
    let base = server.base_url();
    let base = base.trim_end_matches('/');
    let first = format!("%{:02X}", KEY.as_bytes()[0]);
    let dir = tempfile::tempdir().unwrap();
    for (folder, url) in [
        ("o13", format!("{base}/img/{KEY}.png")),
        ("o15", format!("{base}/img/{first}{}.png", &KEY[1..])),
    ] {
        let out = run(
            &["fetch", &url, "-o", &format!("{folder}/")],
            &[("IDEOGRAM_API_KEY", KEY)],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let printed = stdout(&out) + &stderr(&out);
        assert!(!leaks(&printed), "{printed}");
        let names = files(&dir.path().join(folder));
        assert_eq!(names.len(), 1, "{names:?}");
        for name in &names {
            // Not the key, nor most of it (all but a percent-encoded letter).
            let lower = name.to_ascii_lowercase();
            assert!(
                !leaks(name) && !lower.contains(&KEY[1..].to_ascii_lowercase()),
                "{folder}: the file name holds the key"
            );
        }
        let path = stdout(&out)
            .lines()
            .find_map(|l| l.strip_prefix("saved ").map(str::to_owned))
            .unwrap_or_else(|| panic!("no saved path: {printed}"));
        assert!(
            dir.path().join(&path).is_file(),
            "{folder}: the printed path {path} is not the file written ({names:?})"
        );
    }
}

/// A fetch command printed for a key read from `--api-key-file` tells
/// `fetch` that file, so a download that fails there prints no key either.
#[tokio::test]
async fn a_fetch_command_for_a_key_file_redacts_that_key_when_it_fails() {
    let serving = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = key_in_image_url_server(serving).await;
    let base = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.txt"), format!("{KEY}\n")).unwrap();
    let args = [
        "--provider",
        "ideogram",
        "--base-url",
        base.as_str(),
        "--retries",
        "0",
        "--api-key-file",
        "key.txt",
        "generate",
        "x",
        "-o",
        "lost.png",
    ];
    let out = run(&args, &[], dir.path()).await;
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let printed = stdout(&out) + &stderr(&out);
    assert!(!leaks(&printed), "{printed}");
    let fetch = printed
        .lines()
        .find_map(|l| l.split_once("fetch it later: ").map(|(_, c)| c.to_owned()))
        .unwrap_or_else(|| panic!("no fetch command: {printed}"));
    assert!(fetch.contains("--api-key-file"), "{fetch}");
    let fetch = fetch.replacen("ideogram ", &format!("{BIN} "), 1);
    let mut shell = std::process::Command::new("sh");
    shell
        .args(["-c", &fetch])
        .current_dir(dir.path())
        .env_remove("SEGMIND_API_KEY")
        .env_remove("IDEOGRAM_API_KEY");
    let fetched = tokio::task::spawn_blocking(move || shell.output().unwrap())
        .await
        .unwrap();
    assert_ne!(code(&fetched), 0, "{fetch}: the image was not served");
    let printed = stdout(&fetched) + &stderr(&fetched);
    assert!(printed.contains("[REDACTED]"), "{printed}");
    assert!(!leaks(&printed), "{fetch}: {printed}");
}

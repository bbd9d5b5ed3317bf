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
    format!("{}\u{200B}{}\u{AD}{}", &upper[..4], &upper[4..10], &upper[10..])
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
        assert_eq!(files(&dir.path().join(&folder)).len(), 1, "{}", stderr(&out));
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
                &["--provider", "ideogram", "--base-url", &base, "--retries", "0"][..],
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

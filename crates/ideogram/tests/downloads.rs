//! Fetching and saving paid images: downloads are retried GETs, bounded in
//! size, refused unless they are images of the type claimed; a save never
//! leaves a partial file, never replaces what it was told not to, and never
//! touches a special file.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use ideogram::{Client, Error, GenerateRequest, Provider, SaveOptions};
use serde_json::json;

/// A generation whose one image is at `url`, from a client with fast
/// retries, `timeout` and `max_download_bytes`.
async fn generation_at(
    url: String,
    timeout: Duration,
    max: u64,
) -> (CaptureServer, ideogram::Generation) {
    let api = CaptureServer::start(move |_| ideogram_answer(&[url.as_str()])).await;
    let client = Client::builder(Provider::Ideogram)
        .base_url(api.base_url())
        .api_key(KEY)
        .retry(fast_retries().max_retries(2))
        .timeout(timeout)
        .max_download_bytes(max)
        .build()
        .unwrap();
    let generation = client.generate(&GenerateRequest::new("x")).await.unwrap();
    (api, generation)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_image_host_failing_once_is_asked_again() {
    for first in [
        Canned::json(503, json!({"error": "busy"})),
        Canned::json(429, json!({"error": "slow down"})),
        Canned::bytes(200, "text/html", b"<html>maintenance page</html>"),
        Canned::bytes(200, "image/png", b""),
    ] {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let cdn = CaptureServer::start(move |_| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                first.clone()
            } else {
                Canned::bytes(200, "image/png", PNG)
            }
        })
        .await;
        let url = format!("{}/images/a.png", cdn.base_url());
        let (_api, generation) = generation_at(url, Duration::from_secs(5), 1 << 20).await;
        let dir = tempfile::tempdir().unwrap();
        let saved = generation.images[0]
            .save(dir.path().join("a.png"))
            .await
            .unwrap();
        assert_eq!(std::fs::read(saved).unwrap(), PNG);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(names(dir.path()), ["a.png"]);
    }
}

#[tokio::test]
async fn a_hanging_or_lying_image_host_ends_in_a_download_error_and_no_file() {
    let (silent, hold) = workspace_tests::silent_server().await;
    let html =
        CaptureServer::start(|_| Canned::bytes(200, "image/png", b"<html>login</html>")).await;
    for (url, reason) in [
        (format!("{silent}/a.png"), "took longer than 0.3 s in all"),
        (format!("{}/a.png", html.base_url()), "not an image"),
    ] {
        let (_api, generation) = generation_at(url, Duration::from_millis(300), 1 << 20).await;
        let dir = tempfile::tempdir().unwrap();
        let err = generation.images[0]
            .save(dir.path().join("a.png"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Download { reason: ref r, .. } if r.contains(reason)),
            "{err:?}"
        );
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }
    assert_eq!(html.requests().len(), 3, "asked once and retried twice");
    hold.abort();
}

#[tokio::test]
async fn a_download_past_the_cap_is_refused_and_leaves_nothing() {
    let mut chunk = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk.resize(64 * 1024, 0);
    let (url, _sent, server) = workspace_tests::endless_server(
        "HTTP/1.1 200 OK\r\ncontent-type: image/png",
        chunk,
        10_000,
    )
    .await;
    let (_api, generation) =
        generation_at(format!("{url}/big.png"), Duration::from_secs(10), 1 << 20).await;
    let dir = tempfile::tempdir().unwrap();
    let err = generation.images[0]
        .save(dir.path().join("big.png"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Download { ref reason, .. } if reason.contains("larger than 1 MiB")),
        "{err:?}"
    );
    assert!(names(dir.path()).is_empty());
    let err = generation.images[0].bytes().await.unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    server.abort();
}

#[tokio::test]
async fn a_save_never_replaces_what_it_was_told_not_to_nor_any_special_file() {
    let cdn = CaptureServer::start(|_| Canned::bytes(200, "image/jpeg", JPEG)).await;
    let url = format!("{}/a.jpg", cdn.base_url());
    let (_api, generation) = generation_at(url, Duration::from_secs(5), 1 << 20).await;
    let image = &generation.images[0];
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.jpg");
    std::fs::write(&keep, b"mine").unwrap();
    let err = image
        .save_with(&keep, &SaveOptions::new().replace(false))
        .await
        .unwrap_err();
    let Error::Io { source, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&keep).unwrap(), b"mine");

    // Directories, FIFOs and symlinks are refused even when replacing is
    // allowed. A FIFO stands for every special file, devices included: the
    // check is by file type before anything is opened, and a rename would
    // replace a FIFO for any user, as it would a device for root (`mknod`
    // needs root, so a device here would be a check that skips).
    let folder = dir.path().join("folder.jpg");
    std::fs::create_dir(&folder).unwrap();
    let fifo = dir.path().join("fifo.jpg");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let link = dir.path().join("link.jpg");
    std::os::unix::fs::symlink(&keep, &link).unwrap();
    let special = [folder, fifo, link];
    for path in &special {
        let before = std::fs::symlink_metadata(path).unwrap().file_type();
        let err = image.save(path).await.unwrap_err();
        assert!(
            err.to_string().contains("not a regular file"),
            "{}: {err}",
            path.display()
        );
        assert_eq!(std::fs::symlink_metadata(path).unwrap().file_type(), before);
    }
    assert_eq!(std::fs::read(&keep).unwrap(), b"mine");
    let mut expected: Vec<String> = special
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    expected.push("keep.jpg".into());
    expected.sort();
    assert_eq!(names(dir.path()), expected, "no temporary file left");
}

#[tokio::test]
async fn extensions_follow_the_bytes_and_temporary_names_follow_the_tag() {
    let cdn = CaptureServer::start(|_| Canned::bytes(200, "application/octet-stream", JPEG)).await;
    let url = format!("{}/a", cdn.base_url());
    let (_api, generation) = generation_at(url, Duration::from_secs(5), 1 << 20).await;
    let dir = tempfile::tempdir().unwrap();
    let asked = dir.path().join("x.png");
    let saved = generation.images[0]
        .save_with(
            &asked,
            &SaveOptions::new().fix_extension(true).temp_tag("run-7"),
        )
        .await
        .unwrap();
    assert_eq!(saved, dir.path().join("x.jpg"));
    assert_eq!(names(dir.path()), ["x.jpg"]);
    assert_eq!(
        ideogram::temp_file_prefix(&asked, "run-7"),
        dir.path().join(".x.png.run-7-")
    );
    // A name too long to fit beside its temporary name fails before any
    // byte is fetched.
    let long = dir.path().join(format!("{}.png", "n".repeat(250)));
    let err = generation.images[0].save(&long).await.unwrap_err();
    assert!(err.to_string().contains("bytes"), "{err}");
    assert_eq!(cdn.requests().len(), 1);
}

#[tokio::test]
async fn a_mislabelled_image_is_still_the_paid_image() {
    let cdn = CaptureServer::start(|_| Canned::bytes(200, "image/jpeg", PNG)).await;
    let url = format!("{}/lie.jpg", cdn.base_url());
    let (_api, generation) = generation_at(url, Duration::from_secs(5), 1 << 20).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = generation.images[0]
        .save_with(
            dir.path().join("x.jpg"),
            &SaveOptions::new().fix_extension(true),
        )
        .await
        .unwrap();
    assert_eq!(saved, dir.path().join("x.png"), "saved under its real type");
    assert_eq!(std::fs::read(saved).unwrap(), PNG);
}

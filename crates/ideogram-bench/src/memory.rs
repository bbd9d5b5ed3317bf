//! Section 4, memory: peak resident memory while saving a 50 MB image, measured in a
//! fresh child process (this binary's `memory-probe`), against its baseline.

use std::process::Command;

use ideogram::{Client, Provider};
use ideogram_mock::{MockConfig, MockServer};

use crate::procfs::rss_kib;

/// (baseline KiB, peak KiB) of a child that saves `bytes` bytes.
pub(crate) async fn measure(bytes: usize) -> (u64, u64) {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let url = format!("{}/blob/{bytes}", mock.cdn_url());
    let path = std::env::temp_dir().join(format!("ideogram-bench-{}.png", std::process::id()));
    let out = tokio::task::spawn_blocking({
        let path = path.clone();
        move || {
            Command::new(std::env::current_exe().expect("this binary"))
                .args(["memory-probe", &url, path.to_str().expect("path")])
                .output()
                .expect("probe")
        }
    })
    .await
    .expect("join");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        size,
        bytes as u64,
        "the probe saved the whole image: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe report");
    (
        report["baseline_kib"].as_u64().unwrap_or(0),
        report["peak_kib"].as_u64().unwrap_or(0),
    )
}

/// The child's side: set up, note the baseline, save, note the peak.
pub(crate) async fn probe(url: &str, path: &str) {
    let client = Client::builder(Provider::Ideogram)
        .base_url("http://127.0.0.1:9")
        .api_key("unused")
        .build()
        .expect("client");
    let image = client.remote_image(url, "memory");
    // Warm the HTTP stack up so the baseline includes it.
    let base = url.rsplit_once("/blob/").map_or(url, |(base, _)| base);
    let _ = client
        .remote_image(format!("{base}/blob/1024"), "warm-up")
        .bytes()
        .await;
    let (baseline, _) = rss_kib();
    image.save(path).await.expect("save");
    let (_, peak) = rss_kib();
    println!(
        "{}",
        serde_json::json!({"baseline_kib": baseline, "peak_kib": peak})
    );
}

//! Fault soak: thousands of facade calls and a CLI-sized batch against the
//! mock with a fifth of answers faulted at random (every fault kind, seeded,
//! reproducible). The ledger then proves that nothing was billed twice and
//! that every billed generation was either saved whole or reported to the
//! caller as possibly billed (with its id where the API has one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt as _;
use ideogram::{Client, Error, GenerateRequest, PollSchedule, Provider, RetryPolicy};
use ideogram_mock::{Delivery, Fault, MockConfig, MockServer};

const CALLS: usize = 2000;
const FAULT_RATE: f64 = 0.2;
const SEED: u64 = 20261121;

/// What the caller learned of one call.
enum Outcome {
    /// Saved to these files.
    Saved(Vec<PathBuf>),
    /// Failed; whether the error admits it may have been billed, and the
    /// queue id if the caller had one.
    Failed {
        maybe_billed: bool,
        id: Option<String>,
        error: String,
    },
}

fn faults() -> Vec<Fault> {
    Fault::all_kinds()
        .into_iter()
        .map(|f| match f {
            Fault::SlowHeaders(_) => Fault::SlowHeaders(Duration::from_millis(20)),
            Fault::SlowBody(_) => Fault::SlowBody(Duration::from_millis(20)),
            other => other,
        })
        .collect()
}

fn client(provider: Provider, mock: &MockServer) -> Client {
    Client::builder(provider)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(10))
                .max_retries(8),
        )
        .poll_schedule(PollSchedule::fixed(Duration::from_millis(5)))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn call(i: usize, segmind: &Client, ideogram: &Client, dir: &Path) -> (String, Outcome) {
    let prompt = format!("soak {i}");
    let request = GenerateRequest::new(&prompt);
    let failed = |e: Error, id: Option<String>| Outcome::Failed {
        maybe_billed: !e.certainly_not_billed(),
        id,
        error: e.to_string(),
    };
    let generation = match i % 5 {
        0 | 1 => segmind.generate(&request).await,
        2 => match segmind.submit(&request).await {
            Ok(job) => match job.wait().await {
                Ok(generation) => Ok(generation),
                Err(e) => return (prompt, failed(e, Some(job.id().to_owned()))),
            },
            Err(e) => Err(e),
        },
        _ => ideogram.generate(&request).await,
    };
    let generation = match generation {
        Ok(generation) => generation,
        Err(e) => return (prompt, failed(e, None)),
    };
    let mut paths = Vec::new();
    for (n, image) in generation.images.iter().enumerate() {
        match image.save(dir.join(format!("{i}-{n}.img"))).await {
            Ok(path) => paths.push(path),
            Err(e) => return (prompt, failed(e, generation.request_id.clone())),
        }
    }
    (prompt, Outcome::Saved(paths))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_faulted_calls_never_bill_twice_or_lose_a_paid_image_silently() {
    let config = MockConfig {
        latency: Duration::ZERO,
        queued_for: Duration::from_millis(5),
        processing_for: Duration::from_millis(10),
        ..MockConfig::default()
    };
    let mock = MockServer::start(config).await.unwrap();
    mock.inject_random(FAULT_RATE, faults(), SEED);
    let (segmind, ideogram) = (
        client(Provider::Segmind, &mock),
        client(Provider::Ideogram, &mock),
    );
    let dir = tempfile::tempdir().unwrap();

    let outcomes: HashMap<String, Outcome> = futures::stream::iter(0..CALLS)
        .map(|i| call(i, &segmind, &ideogram, dir.path()))
        .buffer_unordered(16)
        .collect()
        .await;
    // Queued jobs whose waits failed run on and bill: audit once they end.
    mock.settled().await;
    mock.clear_faults();

    let ledger = mock.ledger();
    let mut billed: HashMap<&str, Vec<&ideogram_mock::Billed>> = HashMap::new();
    for entry in &ledger.entries {
        billed.entry(entry.prompt.as_str()).or_default().push(entry);
    }
    let (mut saved, mut reported) = (0, 0);
    for (prompt, entries) in &billed {
        assert_eq!(
            entries.len(),
            1,
            "{prompt} was billed {} times",
            entries.len()
        );
        match &outcomes[*prompt] {
            Outcome::Saved(paths) => {
                assert_eq!(
                    paths.len(),
                    entries[0].outputs.len(),
                    "{prompt}: every image saved"
                );
                // Whole: the exact size of the image the mock rendered.
                let rendered = entries[0].rendered().len() as u64;
                for path in paths {
                    assert_eq!(
                        std::fs::metadata(path).unwrap().len(),
                        rendered,
                        "{} is not the image billed, whole",
                        path.display()
                    );
                }
                saved += 1;
            }
            Outcome::Failed {
                maybe_billed,
                id,
                error,
            } => {
                assert!(
                    *maybe_billed || id.is_some(),
                    "{prompt} was billed ({:?}) but reported as not: {error}",
                    entries[0].delivery
                );
                if let Some(id) = id {
                    assert_eq!(
                        id, &entries[0].id,
                        "{prompt}: the id reported is the one billed"
                    );
                }
                reported += 1;
            }
        }
    }
    let broken = ledger
        .entries
        .iter()
        .filter(|e| e.delivery == Delivery::Broken)
        .count();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");
    assert!(
        saved > CALLS / 2,
        "most calls succeed despite the faults ({saved})"
    );
    assert!(
        broken > 0 && reported > 0,
        "the soak exercised billed-then-broken answers"
    );
    eprintln!(
        "soak: {CALLS} calls, {} billed, {saved} saved, {reported} reported as possibly billed, {broken} broken by faults",
        ledger.entries.len()
    );
}

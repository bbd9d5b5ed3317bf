//! Section 1, throughput under Ideogram's in-flight limit: N generations, latency L,
//! limit 10; wall time against the ideal ceil(N/10) * L, the 429s drawn,
//! failures, and double billing from the ledger.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ideogram::{Client, GenerateRequest, Provider};
use ideogram_mock::{MockConfig, MockServer};

pub(crate) struct Run {
    pub wall: Duration,
    pub ideal: Duration,
    pub rejected: u64,
    pub failures: usize,
    pub double_billed: usize,
}

pub(crate) async fn run(n: usize, latency: Duration, limited: bool) -> Run {
    let mock = MockServer::start(MockConfig {
        latency,
        inflight_limit: 10,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    let mut builder = Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key());
    if !limited {
        builder = builder.max_images_in_flight(None);
    }
    let client = builder.build().expect("client");
    let started = Instant::now();
    let calls = (0..n).map(|i| {
        let client = client.clone();
        async move {
            client
                .generate(&GenerateRequest::new(format!("throughput {i}")))
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let wall = started.elapsed();
    let mut per_prompt: HashMap<String, usize> = HashMap::new();
    for entry in mock.ledger().entries {
        *per_prompt.entry(entry.prompt).or_default() += 1;
    }
    Run {
        wall,
        ideal: latency * n.div_ceil(10) as u32,
        rejected: mock.rate_limited_count(),
        failures: results.iter().filter(|r| r.is_err()).count(),
        double_billed: per_prompt.values().filter(|&&c| c > 1).count(),
    }
}

//! Section 3, overhead: CPU per call against a zero-latency mock in another
//! process (images encoded once and cached, fixed seeds, no sleeps), for
//! the Rust client and for the floor (plain reqwest sending the very
//! request the client sends), each on a current-thread and a multi-thread
//! runtime, measured in alternating rounds on the process CPU clock; and
//! for the CLI and the official Python SDK doing the same sync (v1) and
//! queue (submit, status, result) calls.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ideogram::{Client, GenerateRequest, PollSchedule, Provider};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::runtime::Runtime;

use crate::procfs::{cpu_seconds, cpu_time};

/// The mock in a child process: this binary's `serve-mock` subcommand.
pub(crate) struct ExternalMock {
    child: Child,
    pub api: String,
    pub key: String,
}

impl ExternalMock {
    /// A mock whose generations take `latency` (zero: answered at once).
    pub(crate) fn start(latency: Duration) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .args(["serve-mock", &latency.as_millis().to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("the mock's address");
        let words: Vec<&str> = line.split_whitespace().collect();
        Self {
            api: words[1].to_owned(),
            key: words[5].to_owned(),
            child,
        }
    }
}

impl Drop for ExternalMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU per sync call and per queued job.
#[derive(Clone, Copy, Default)]
pub(crate) struct PerCall {
    pub sync: Duration,
    pub queue: Duration,
}

/// The in-process contenders, by runtime: CPU per call.
pub(crate) struct Side {
    pub client: PerCall,
    pub floor: PerCall,
}

/// One request as the client sent it: path, headers and body.
#[derive(Clone)]
pub(crate) struct Captured {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// The Rust client and the floor on a current-thread and on a
/// multi-thread runtime: `n` calls and `n` jobs each, in `rounds`
/// alternating rounds. Runs on a thread of its own (it builds runtimes).
pub(crate) fn in_process(mock: &ExternalMock, n: usize, rounds: usize) -> (Side, Side) {
    let (api, key) = (mock.api.clone(), mock.key.clone());
    std::thread::spawn(move || {
        let contenders: Vec<Contender> = [false, true]
            .into_iter()
            .flat_map(|multi| [false, true].map(|floor| Contender::new(&api, &key, multi, floor)))
            .collect();
        let mut totals = [PerCall::default(); 4];
        let per_round = n.div_ceil(rounds);
        for _ in 0..rounds {
            for (contender, total) in contenders.iter().zip(&mut totals) {
                let once = contender.measure(per_round);
                total.sync += once.sync;
                total.queue += once.queue;
            }
        }
        let calls = (per_round * rounds) as u32;
        let per = |t: PerCall| PerCall {
            sync: t.sync / calls,
            queue: t.queue / calls,
        };
        (
            Side {
                client: per(totals[0]),
                floor: per(totals[1]),
            },
            Side {
                client: per(totals[2]),
                floor: per(totals[3]),
            },
        )
    })
    .join()
    .expect("the overhead runs")
}

/// Worker threads of the multi-thread runtime: fixed, so that a figure does
/// not depend on the machine's number of cores (tokio's default); two, what
/// `#[tokio::main]` starts on a two-core machine.
const WORKERS: usize = 2;

/// A current-thread or (`multi`) a multi-thread runtime of [`WORKERS`]
/// workers, as the contenders and the instruction counts run on.
pub(crate) fn runtime(multi: bool) -> Runtime {
    if multi {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(WORKERS);
        builder
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("runtime")
}

/// A runtime and what runs on it.
struct Contender {
    runtime: Runtime,
    kind: Kind,
}

enum Kind {
    Client(Client, Arc<GenerateRequest>),
    Floor(Arc<Floor>),
}

/// Work to time.
type Work = Pin<Box<dyn Future<Output = ()>>>;

impl Contender {
    fn new(api: &str, key: &str, multi: bool, floor: bool) -> Self {
        let runtime = runtime(multi);
        let client = |url: &str| {
            Client::builder(Provider::Segmind)
                .base_url(url)
                .api_key(key)
                // The mock finishes a job before answering its submit: the
                // first poll, made at once, finds it done (as the floor's).
                .poll_schedule(PollSchedule::fixed(Duration::ZERO))
                // Its sync calls are v1's; the queue's go through `submit`.
                .segmind_sync(true)
                .build()
                .expect("client")
        };
        let request = Arc::new(GenerateRequest::new("overhead"));
        let kind = if floor {
            // The floor sends what the client sends: captured off the wire.
            let (sync, submit) = runtime.block_on(async {
                let sync = capture(|url| {
                    let (client, request) = (client(&url), request.clone());
                    async move {
                        let _ = client.generate(&request).await;
                    }
                })
                .await;
                let submit = capture(|url| {
                    let (client, request) = (client(&url), request.clone());
                    async move {
                        let _ = client.submit(&request).await;
                    }
                })
                .await;
                (sync, submit)
            });
            Kind::Floor(Arc::new(Floor::new(api, sync, submit)))
        } else {
            Kind::Client(client(api), request)
        };
        let contender = Self { runtime, kind };
        // Connections, the compiled validators, the mock's one encoding.
        contender.measure(20);
        contender
    }

    /// CPU for `n` sync calls, then for `n` queued jobs, on this runtime.
    fn measure(&self, n: usize) -> PerCall {
        let (sync, queue): (Work, Work) = match &self.kind {
            Kind::Client(client, request) => {
                let (c1, r1, c2, r2) = (
                    client.clone(),
                    request.clone(),
                    client.clone(),
                    request.clone(),
                );
                (
                    Box::pin(async move {
                        for _ in 0..n {
                            c1.generate(&r1).await.expect("sync");
                        }
                    }),
                    Box::pin(async move {
                        for _ in 0..n {
                            let job = c2.submit(&r2).await.expect("submit");
                            job.wait().await.expect("wait");
                        }
                    }),
                )
            }
            Kind::Floor(floor) => {
                let (f1, f2) = (floor.clone(), floor.clone());
                (
                    Box::pin(async move {
                        for _ in 0..n {
                            f1.sync().await;
                        }
                    }),
                    Box::pin(async move {
                        for _ in 0..n {
                            f2.queue().await;
                        }
                    }),
                )
            }
        };
        PerCall {
            sync: self.timed(sync),
            queue: self.timed(queue),
        }
    }

    /// The process CPU `work` takes on this runtime, driven by `block_on`
    /// as `#[tokio::main]` drives its future (on a multi-thread runtime the
    /// connections' tasks run on its workers).
    fn timed(&self, work: Work) -> Duration {
        let before = cpu_time();
        self.runtime.block_on(work);
        cpu_time() - before
    }
}

/// The floor: plain reqwest sending the same bodies to the same endpoints
/// with the same headers, reading every answer whole (and the queue's JSON
/// parsed), nothing more.
pub(crate) struct Floor {
    http: reqwest::Client,
    api: String,
    sync: Captured,
    submit: Captured,
    /// The submit's headers but for the body's: what a GET sends.
    get_headers: HeaderMap,
}

impl Floor {
    pub(crate) fn new(api: &str, sync: Captured, submit: Captured) -> Self {
        let mut get_headers = submit.headers.clone();
        get_headers.remove(reqwest::header::CONTENT_TYPE);
        Self {
            http: reqwest::Client::new(),
            api: api.to_owned(),
            sync,
            submit,
            get_headers,
        }
    }

    async fn post(&self, request: &Captured) -> Bytes {
        let answer = self
            .http
            .post(format!("{}{}", self.api, request.path))
            .headers(request.headers.clone())
            .body(request.body.clone())
            .send()
            .await
            .expect("floor POST");
        assert!(
            answer.status().is_success(),
            "floor POST: {}",
            answer.status()
        );
        answer.bytes().await.expect("floor body")
    }

    async fn get_json(&self, path: &str) -> serde_json::Value {
        let answer = self
            .http
            .get(format!("{}{path}", self.api))
            .headers(self.get_headers.clone())
            .send()
            .await
            .expect("floor GET");
        assert!(
            answer.status().is_success(),
            "floor GET: {}",
            answer.status()
        );
        serde_json::from_slice(&answer.bytes().await.expect("floor body")).expect("JSON")
    }

    pub(crate) async fn sync(&self) {
        self.post(&self.sync).await;
    }

    pub(crate) async fn queue(&self) {
        let queued: serde_json::Value =
            serde_json::from_slice(&self.post(&self.submit).await).expect("JSON");
        let id = queued["request_id"].as_str().expect("request id");
        while self.get_json(&format!("/v2/requests/{id}/status")).await["status"] != "COMPLETED" {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let result = self.get_json(&format!("/v2/requests/{id}")).await;
        assert!(result["output"].is_string(), "a result");
    }
}

/// The first request `send` makes to a base URL: a loopback listener reads
/// it and answers 400 (not retried), so nothing is billed.
pub(crate) async fn capture<F, Fut>(send: F) -> Captured
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let read = async {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let (head_end, length) = loop {
            let got = stream.read(&mut buf).await.expect("read");
            assert!(got > 0, "the request ended early");
            data.extend_from_slice(&buf[..got]);
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().expect("length"));
                break (end + 4, length);
            }
        };
        while data.len() < head_end + length {
            let got = stream.read(&mut buf).await.expect("read");
            assert!(got > 0, "the body ended early");
            data.extend_from_slice(&buf[..got]);
        }
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 20\r\nconnection: close\r\n\r\n{\"error\": \"capture\"}")
            .await;
        let head = String::from_utf8_lossy(&data[..head_end - 4]).into_owned();
        let mut lines = head.lines();
        let path = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .expect("request line")
            .to_owned();
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("header");
            let name: HeaderName = name.trim().parse().expect("header name");
            if name == reqwest::header::HOST || name == reqwest::header::CONTENT_LENGTH {
                continue;
            }
            headers.append(name, HeaderValue::from_str(value.trim()).expect("value"));
        }
        Captured {
            path,
            headers,
            body: Bytes::copy_from_slice(&data[head_end..head_end + length]),
        }
    };
    let (captured, ()) = tokio::join!(read, send(url));
    captured
}

/// The CLI: `generate` once per call (sync), and one `batch` of n prompts
/// (queue, which also downloads each image): CPU per call (10 ms ticks, over
/// whole processes).
pub(crate) fn cli(mock: &ExternalMock, cli: &Path, n: usize) -> PerCall {
    let dir = std::env::temp_dir().join(format!("ideogram-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run = |args: &[&str]| {
        let status = Command::new(cli)
            .args(["--provider", "segmind", "--base-url", &mock.api])
            .args(args)
            .env("SEGMIND_API_KEY", &mock.key)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run the CLI");
        assert!(status.success(), "the CLI failed: {args:?}");
    };
    let (_, before) = cpu_seconds();
    for i in 0..n {
        run(&[
            "generate",
            "overhead",
            "--sync",
            "-o",
            &format!("sync-{i}.jpg"),
        ]);
    }
    let (_, middle) = cpu_seconds();
    let prompts: String = (0..n).map(|i| format!("overhead {i}\n")).collect();
    std::fs::write(dir.join("prompts.txt"), prompts).expect("prompts");
    run(&["batch", "prompts.txt", "-o", "queue", "--concurrency", "1"]);
    let (_, after) = cpu_seconds();
    let _ = std::fs::remove_dir_all(&dir);
    PerCall {
        sync: Duration::from_secs_f64((middle - before) / n as f64),
        queue: Duration::from_secs_f64((after - middle) / n as f64),
    }
}

/// The official SDK, through `bench/python_sdk_overhead.py`: CPU per call
/// (its process's CPU clock).
pub(crate) fn python(mock: &ExternalMock, python: &Path, n: usize) -> Result<PerCall, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python_sdk_overhead.py");
    let out = Command::new(python)
        .arg(script)
        .args([
            "--api",
            &mock.api,
            "--key",
            &mock.key,
            "--n",
            &n.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let per = |key: &str| {
        report[key]
            .as_f64()
            .map(|s| Duration::from_secs_f64(s / n as f64))
            .ok_or_else(|| format!("no {key} in {report}"))
    };
    Ok(PerCall {
        sync: per("sync_cpu_s")?,
        queue: per("queue_cpu_s")?,
    })
}

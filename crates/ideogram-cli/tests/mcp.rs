//! `ideogram mcp`: driven by the official MCP client from PyPI (offline),
//! and line by line over JSON-RPC against a mock whose ledger shows what
//! was billed.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::BIN;
use serde_json::{Value, json};

/// The longest a step may take before the test gives up on a hung server
/// (a guard, not a measurement).
const HUNG: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the test venv (`.ci/run` makes it from
/// tests/python/requirements.txt), if it has the `mcp` package.
fn python_with_mcp() -> Option<PathBuf> {
    let python = workspace().join(".venv/bin/python");
    let has_mcp = Command::new(&python)
        .args(["-c", "import mcp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    has_mcp.then_some(python)
}

#[test]
fn the_official_mcp_client_drives_the_offline_server() {
    let Some(python) = python_with_mcp() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the test venv with the mcp package"
        );
        eprintln!(
            "skipped: no .venv with the mcp package; make it with \
             `python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt`"
        );
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(python)
        .arg(workspace().join("tests/python/mcp_client.py"))
        .arg(BIN)
        .arg(out.path())
        .env_remove("SEGMIND_API_KEY")
        .env_remove("IDEOGRAM_API_KEY")
        .output()
        .expect("python");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{printed}");
    assert!(printed.contains(" passed, 0 failed"), "{printed}");
}

/// An MCP client speaking JSON-RPC lines to `ideogram mcp`.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next: u64,
    /// Every line the server wrote on stdout.
    seen: Vec<String>,
}

impl Client {
    fn start(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Self {
        let mut child = common::command(args, env, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ideogram mcp");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut client = Self {
            stdin: child.stdin.take(),
            child,
            lines,
            next: 0,
            seen: Vec::new(),
        };
        let init = client.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        assert_eq!(init["serverInfo"]["name"], "ideogram", "{init}");
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("open");
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a request and waits for its answer's result (notifications
    /// on the way are kept in `seen`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self.lines.recv_timeout(HUNG).expect("an answer");
            self.seen.push(line.clone());
            let message: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC only");
            if message["id"] == id {
                assert!(message["error"].is_null(), "{message}");
                return message["result"].clone();
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Closes stdin and waits for the server to end; returns its stderr.
    fn close(mut self) -> String {
        drop(self.stdin.take());
        let output = self.child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

/// Starts `ideogram mcp` against `mock` (its key for both providers),
/// saving in `out`; off the runtime, which serves the mock meanwhile.
async fn start(mock: &ideogram_mock::MockServer, dir: &Path, out: &Path, extra: &[&str]) -> Client {
    let (url, key) = (mock.api_url().to_owned(), mock.api_key());
    let mut args: Vec<String> = ["mcp", "--out", out.to_str().unwrap(), "--base-url", &url]
        .map(str::to_owned)
        .to_vec();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Client::start(
            &args,
            &[("SEGMIND_API_KEY", &key), ("IDEOGRAM_API_KEY", &key)],
            &dir,
        )
    })
    .await
    .unwrap()
}

/// Calls `tool` with `arguments` twice in a row (off the runtime).
async fn twice(mut client: Client, tool: &'static str, arguments: Value) -> (Client, Value, Value) {
    tokio::task::spawn_blocking(move || {
        let first = client.call(tool, arguments.clone());
        let second = client.call(tool, arguments);
        (client, first, second)
    })
    .await
    .unwrap()
}

fn path_of(result: &Value) -> PathBuf {
    PathBuf::from(
        result["structuredContent"]["images"][0]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("no image: {result}")),
    )
}

/// Every file's text under `dir`, for the key check.
fn all_text(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned())
        .collect()
}

#[tokio::test]
async fn refusals_cost_nothing_and_repeats_never_bill_twice() {
    let mock = common::mock(Default::default()).await;
    let key = mock.api_key();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let ledger = || mock.ledger();
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, refused) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let tools = client.request("tools/list", json!({}));
        for tool in tools["tools"].as_array().unwrap() {
            let schema = &tool["inputSchema"];
            assert_eq!(schema["type"], "object", "{tool}");
            let fields = schema["properties"].as_object().unwrap();
            assert!(
                fields.keys().all(|f| !f.contains("api") && f != "key"),
                "a key as an argument: {tool}"
            );
        }
        let refused = client.call(
            "generate",
            json!({"prompt": "refused fox", "provider": "ideogram", "resolution": "1000x1000"}),
        );
        (client, refused)
    })
    .await
    .unwrap();
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["billed"], "no");
    assert!(ledger().entries.is_empty(), "a refusal was billed");

    // Ideogram's sync generate with a key, twice: billed once, one file.
    let keyed = json!({"prompt": "keyed fox", "provider": "ideogram", "idempotency_key": "k-1"});
    let (client, first, second) = twice(client, "generate", keyed).await;
    assert_eq!(first["isError"], false, "{first}");
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    assert_eq!(path_of(&first), path_of(&second));
    assert_eq!(ledger().for_prompt("keyed fox").count(), 1);
    // The sidecar holds what an agent needs.
    let sidecar: Value =
        serde_json::from_slice(&std::fs::read(path_of(&first).with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["provider"], "ideogram", "{sidecar}");
    assert!(!sidecar["source_url"].is_null(), "{sidecar}");

    // Segmind's queue: submit twice with one key, wait twice.
    let job = json!({"prompt": "queued fox", "model": "V_2A", "idempotency_key": "q-1"});
    let (client, submitted, again) = twice(client, "job_submit", job).await;
    let id = submitted["structuredContent"]["request_id"].clone();
    let (client, waited, rewaited) = twice(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(submitted["isError"], false, "{submitted}");
    assert_eq!(
        submitted["structuredContent"]["request_id"],
        again["structuredContent"]["request_id"]
    );
    assert_eq!(waited["isError"], false, "{waited}");
    assert_eq!(path_of(&waited), path_of(&rewaited));
    assert_eq!(rewaited["structuredContent"]["billed"], "earlier");
    assert_eq!(ledger().for_prompt("queued fox").count(), 1);

    // The key is in no output and no file.
    let seen = client.seen.join("\n");
    let stderr = tokio::task::spawn_blocking(move || client.close())
        .await
        .unwrap();
    for text in [seen, stderr, all_text(&out)] {
        assert!(!text.contains(&key), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn a_lost_answer_is_not_sent_again_and_a_lost_image_is_fetched_on_repeat() {
    use ideogram_mock::{Fault, Target};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(
        &mock,
        dir.path(),
        &out,
        &["--retries", "0", "--provider", "ideogram"],
    )
    .await;

    // Billed, then the connection dropped: the answer is lost.
    mock.inject(Target::Method("POST".into()), Fault::DropAfterBilling);
    let dropped = json!({"prompt": "dropped fox", "idempotency_key": "d-1"});
    let (client, lost, repeated) = twice(client, "generate", dropped).await;
    assert_eq!(lost["isError"], true, "{lost}");
    assert_eq!(lost["structuredContent"]["billed"], "maybe", "{lost}");
    assert_eq!(repeated["isError"], true, "{repeated}");
    assert_eq!(
        repeated["structuredContent"]["billed"], "maybe",
        "{repeated}"
    );
    assert!(
        repeated["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("not sent again"),
        "{repeated}"
    );
    assert_eq!(mock.ledger().for_prompt("dropped fox").count(), 1);

    // Billed and answered, but the image host fails: the URL and the
    // command that fetches it come back, and the repeat fetches it.
    mock.inject(Target::ImagePath("/images/".into()), Fault::Status(500));
    let unsaved = json!({"prompt": "unsaved fox", "idempotency_key": "u-1"});
    let (client, failed, fetched) = twice(client, "generate", unsaved).await;
    assert_eq!(failed["isError"], true, "{failed}");
    let detail = &failed["structuredContent"];
    assert_eq!(detail["billed"], "yes", "{failed}");
    let lost = &detail["detail"]["images"][0];
    assert!(lost["source_url"].is_string(), "{failed}");
    assert!(
        lost["fetch"]
            .as_str()
            .unwrap()
            .starts_with("ideogram fetch "),
        "{failed}"
    );
    assert_eq!(fetched["isError"], false, "{fetched}");
    assert_eq!(fetched["structuredContent"]["billed"], "earlier");
    assert!(path_of(&fetched).exists());
    assert_eq!(mock.ledger().for_prompt("unsaved fox").count(), 1);
    tokio::task::spawn_blocking(move || client.close())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_paid_answer_that_does_not_decode_is_billed_with_its_urls_and_not_sent_again() {
    use workspace_tests::{Canned, CaptureServer};
    // A 200 (billed) whose image lacks `is_image_safe`; an image request
    // (a repeat fetching it) gets the same, which is not an image.
    let server = CaptureServer::start(|_| {
        Canned::json(
            200,
            json!({"created": "2025-01-01T00:00:00Z", "data": [
                {"url": "https://cdn.example/mcp-1.png", "prompt": "p", "resolution": "1024x1024", "seed": 1}
            ]}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let url = server.base_url();
    let args = [
        "mcp",
        "--out",
        out.to_str().unwrap(),
        "--base-url",
        &url,
        "--provider",
        "ideogram",
    ]
    .map(str::to_owned);
    let root = dir.path().to_path_buf();
    let client = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Client::start(&args, &[("IDEOGRAM_API_KEY", "test-key-123456")], &root)
    })
    .await
    .unwrap();
    let call = json!({"prompt": "undecoded fox", "idempotency_key": "x-1"});
    let (client, first, repeated) = twice(client, "generate", call).await;
    assert_eq!(first["isError"], true, "{first}");
    let answer = &first["structuredContent"];
    assert_eq!(answer["billed"], "yes", "{first}");
    assert_eq!(answer["error"]["class"], "billed_not_saved", "{first}");
    let image = &answer["detail"]["images"][0];
    assert_eq!(
        image["source_url"], "https://cdn.example/mcp-1.png",
        "{first}"
    );
    assert!(
        image["fetch"]
            .as_str()
            .is_some_and(|f| f.starts_with("ideogram fetch https://cdn.example/mcp-1.png")),
        "{first}"
    );
    // The repeat does not send the request again.
    assert_ne!(
        repeated["structuredContent"]["billed"], "maybe",
        "{repeated}"
    );
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "{repeated}");
    tokio::task::spawn_blocking(move || client.close())
        .await
        .unwrap();
}

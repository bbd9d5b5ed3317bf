//! `ideogram mcp` line by line over JSON-RPC against a mock whose ledger
//! shows what was billed. (The official MCP client from PyPI drives it too:
//! `tests/python/mcp_client.py`, a step of `.ci/run`, since it needs the
//! test venv.)

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The longest a step may take before the test gives up on a hung server
/// (a guard, not a measurement).
const HUNG: Duration = Duration::from_secs(120);

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
        Self::spawn(common::command(args, env, dir))
    }

    /// Runs `command` (which starts `ideogram mcp`) and initializes.
    fn spawn(mut command: Command) -> Self {
        let mut child = command
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

    /// Writes `bytes` and a newline on the server's stdin, as they are.
    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("open");
        stdin.write_all(bytes).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line the server writes that `wanted` picks.
    fn line_where(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let line = self.lines.recv_timeout(HUNG).expect("an answer");
            self.seen.push(line.clone());
            let message: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC only");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// Sends a `tools/call` without waiting for its answer; returns its id.
    fn start_call(&mut self, tool: &str, arguments: Value) -> u64 {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": id}}}));
        id
    }

    /// Waits for the answers to the calls `ids` (in any order); returns
    /// their results in the order of `ids`.
    fn answers(&mut self, ids: &[u64]) -> Vec<Value> {
        let mut got = std::collections::HashMap::new();
        while got.len() < ids.len() {
            let line = self.lines.recv_timeout(HUNG).expect("an answer");
            self.seen.push(line.clone());
            let message: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC only");
            if let Some(id) = message["id"].as_u64().filter(|id| ids.contains(id)) {
                assert!(message["error"].is_null(), "{message}");
                got.insert(id, message["result"].clone());
            }
        }
        ids.iter().map(|id| got.remove(id).unwrap()).collect()
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Closes stdin and waits for the server to end; returns its stderr.
    fn close(mut self) -> String {
        drop(self.stdin.take());
        let (code, stderr) = self.ended();
        assert_eq!(code, 0, "{stderr}");
        stderr
    }

    /// Kills the server outright (`kill -9`: nothing of it runs on) and
    /// waits for it to be gone.
    fn killed(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("the killed server");
    }

    /// Waits (at most [`HUNG`]) for the server to end, stdin as it is;
    /// returns its exit code and stderr.
    fn ended(mut self) -> (i32, String) {
        let started = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if started.elapsed() > HUNG {
                let _ = self.child.kill();
                panic!("the server did not end");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = self.child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (output.status.code().unwrap_or(-1), stderr)
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
    common::walk(dir)
        .into_iter()
        .map(|path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned())
        .collect()
}

/// [`Client::close`] off the runtime's threads (it blocks until the server
/// ends); returns the server's stderr.
async fn closed(client: Client) -> String {
    tokio::task::spawn_blocking(move || client.close())
        .await
        .unwrap()
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
    let stderr = closed(client).await;
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
    closed(client).await;
}

#[tokio::test]
async fn lines_that_are_not_requests_are_answered() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &["-v"]).await;
    let stderr = tokio::task::spawn_blocking(move || {
        let mut client = client;
        for line in [
            &b"not json"[..],
            br#"{"jsonrpc": "2.0", "id": 90, "method""#,
            br#"{"jsonrpc":"2.0","id":91,"method":"ping"}{"jsonrpc":"2.0","id":92,"method":"ping"}"#,
            b"{\"jsonrpc\":\"2.0\",\"id\":93,\"method\":\"ping\",\"params\":{\"x\":\"\xff\"}}",
            br#"{"jsonrpc":"2.0","id":94,"method":"ping","params":{"x":"\ud800"}}"#,
        ] {
            client.send_raw(line);
            let answer = client.line_where(|m| m.get("error").is_some());
            assert_eq!(answer["error"]["code"], -32700, "{answer}");
            assert_eq!(answer["id"], Value::Null, "{answer}");
        }
        client.send_raw(br#"{"jsonrpc":"1.0","id":95,"method":"ping"}"#);
        let answer = client.line_where(|m| m.get("error").is_some());
        assert_eq!((answer["id"].clone(), answer["error"]["code"].clone()), (json!(95), json!(-32600)), "{answer}");
        client.send_raw(br#"{"jsonrpc":"2.0","id":96,"method":"tools/call","params":{"arguments":7}}"#);
        let answer = client.line_where(|m| m.get("error").is_some());
        assert_eq!((answer["id"].clone(), answer["error"]["code"].clone()), (json!(96), json!(-32602)), "{answer}");
        // Still serving.
        assert!(client.request("ping", json!({})).is_object());
        client.close()
    })
    .await
    .unwrap();
    assert!(stderr.contains("-32700"), "{stderr}");
}

#[tokio::test]
async fn long_texts_are_refused_unsent_and_not_echoed() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let long = "x".repeat(10 << 20);
    let (client, status, keyed) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let status = client.call("job_status", json!({"request_id": long}));
        let keyed = client.call(
            "generate",
            json!({"prompt": "long key fox", "idempotency_key": long}),
        );
        (client, status, keyed)
    })
    .await
    .unwrap();
    for refused in [&status, &keyed] {
        assert_eq!(refused["isError"], true, "{refused:.300}");
        assert_eq!(refused["structuredContent"]["billed"], "no");
        assert!(
            refused.to_string().len() < 10_000,
            "echoed: {:.300}",
            refused.to_string()
        );
    }
    mock.settled().await;
    assert!(mock.ledger().entries.is_empty());
    closed(client).await;
}

/// Makes the next paid POST answer after `delay`, starts a keyed
/// `generate` and returns once the server has journaled it as sending.
async fn call_in_flight(
    mock: &ideogram_mock::MockServer,
    out: &Path,
    client: Client,
    prompt: &'static str,
) -> (Client, u64) {
    use ideogram_mock::{Fault, Target};
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(2)),
    );
    let (client, id) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let id = client.start_call(
            "generate",
            json!({"prompt": prompt, "provider": "ideogram", "idempotency_key": prompt}),
        );
        (client, id)
    })
    .await
    .unwrap();
    common::file_holds(&out.join(".ideogram-mcp.jsonl"), "\"sending\"", 1).await;
    (client, id)
}

/// The ledger and the folder agree: `prompt` billed once, its image on
/// disk and journaled as saved, and a repeat with its key (from a new
/// server) bills nothing.
async fn billed_once_and_saved(
    mock: &ideogram_mock::MockServer,
    dir: &Path,
    out: &Path,
    prompt: &'static str,
) {
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt(prompt).count(), 1);
    let journal = std::fs::read_to_string(out.join(".ideogram-mcp.jsonl")).unwrap();
    assert!(journal.contains("\"saved\""), "{journal}");
    let client = start(mock, dir, out, &[]).await;
    let (client, again) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let again = client.call(
            "generate",
            json!({"prompt": prompt, "provider": "ideogram", "idempotency_key": prompt}),
        );
        (client, again)
    })
    .await
    .unwrap();
    assert_eq!(again["structuredContent"]["billed"], "earlier", "{again}");
    assert!(path_of(&again).exists());
    assert_eq!(mock.ledger().for_prompt(prompt).count(), 1);
    closed(client).await;
}

#[tokio::test]
async fn stdin_closed_mid_call_finishes_the_call() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (mut client, _) = call_in_flight(&mock, &out, client, "closing fox").await;
    drop(client.stdin.take());
    let (code, stderr) = tokio::task::spawn_blocking(move || client.ended())
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stdin closed"), "{stderr}");
    billed_once_and_saved(&mock, dir.path(), &out, "closing fox").await;
}

#[tokio::test]
async fn sigterm_mid_call_finishes_the_call_and_exits() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, _) = call_in_flight(&mock, &out, client, "terminated fox").await;
    let sent = Command::new("kill")
        .args(["-TERM", &client.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // Stdin stays open: the server ends by itself.
    let (code, stderr) = tokio::task::spawn_blocking(move || client.ended())
        .await
        .unwrap();
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let journal = std::fs::read_to_string(out.join(".ideogram-mcp.jsonl")).unwrap();
    assert!(!journal.contains("maybe_billed\":true"), "{journal}");
    billed_once_and_saved(&mock, dir.path(), &out, "terminated fox").await;
}

#[tokio::test]
async fn a_cancelled_call_is_saved_and_said_where() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, id) = call_in_flight(&mock, &out, client, "cancelled fox").await;
    let (client, said) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        client.send(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": id, "reason": "test"}}),
        );
        let said = client.line_where(|m| m["method"] == "notifications/message");
        (client, said)
    })
    .await
    .unwrap();
    let path = said["params"]["data"]["result"]["images"][0]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{said}"));
    assert!(Path::new(path).exists(), "{said}");
    let seen = client.seen.clone();
    let after: Vec<&String> = seen
        .iter()
        .skip_while(|l| {
            !l.contains("notifications/cancelled") && !l.contains("notifications/message")
        })
        .collect();
    assert!(
        !after
            .iter()
            .any(|l| l.contains("\"id\":") && l.contains(&format!("\"id\":{id},"))),
        "answered after cancel: {after:?}"
    );
    closed(client).await;
    billed_once_and_saved(&mock, dir.path(), &out, "cancelled fox").await;
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_server_reading() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    // 2,000 tools/list calls in a file as stdin; stdout a pipe not read.
    let mut requests = String::from(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    );
    requests.push_str("\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    for id in 1..=2000 {
        requests.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\"}}\n"
        ));
    }
    let input = dir.path().join("requests.jsonl");
    std::fs::write(&input, &requests).unwrap();
    let (url, key) = (mock.api_url().to_owned(), mock.api_key());
    let mut child = common::command(
        &["mcp", "--out", out.to_str().unwrap(), "--base-url", &url],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .stdin(std::fs::File::open(&input).unwrap())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let pid = child.id();
    // It reads until its answers wait: then its place in stdin stands.
    let position = || {
        std::fs::read_to_string(format!("/proc/{pid}/fdinfo/0"))
            .ok()
            .and_then(|info| {
                info.lines().find_map(|l| {
                    l.strip_prefix("pos:")
                        .map(|p| p.trim().parse::<u64>().unwrap())
                })
            })
    };
    let started = std::time::Instant::now();
    let (mut last, mut still) = (0, 0);
    while still < 50 {
        let now = position().expect("the server runs");
        (last, still) = if now == last {
            (now, still + 1)
        } else {
            (now, 0)
        };
        assert!(started.elapsed() < HUNG, "never stopped reading");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        last < requests.len() as u64,
        "read all of stdin with stdout unread"
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss < 100 << 10, "{rss} kB");
    // Read now: every call is answered, and it ends.
    let stdout = child.stdout.take().unwrap();
    let answered = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("{\"tools\":["))
            .count()
    })
    .await
    .unwrap();
    assert_eq!(answered, 2000);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn stdout_unread_after_stdin_closed_ends_with_an_error() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    let mut requests = String::new();
    for id in 1..=20 {
        requests.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n"
        ));
    }
    requests = format!(
        "{}\n{}",
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        requests
    );
    for id in 21..=40 {
        requests.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\"}}\n"
        ));
    }
    let input = dir.path().join("requests.jsonl");
    std::fs::write(&input, &requests).unwrap();
    let (url, key) = (mock.api_url().to_owned(), mock.api_key());
    let child = common::command(
        &["mcp", "--out", out.to_str().unwrap(), "--base-url", &url],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .stdin(std::fs::File::open(&input).unwrap())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let client = Client {
        child,
        stdin: None,
        lines: mpsc::channel().1,
        next: 0,
        seen: Vec::new(),
    };
    // Its stdout is never read (the pipe stays open in `client.child`).
    let (code, stderr) = tokio::task::spawn_blocking(move || client.ended())
        .await
        .unwrap();
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("stdout was not read"), "{stderr}");
}

/// The server's journal follows the batch journal's rule: a file named
/// `.ideogram-mcp.jsonl` that this tool did not write is refused at start,
/// named, and left as it was.
#[tokio::test]
async fn a_journal_file_the_tool_did_not_write_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let theirs = "someone else's log\n";
    std::fs::write(out.join(".ideogram-mcp.jsonl"), theirs).unwrap();
    let ran = common::run(&["mcp", "--out", "out", "--offline"], &[], dir.path()).await;
    assert_eq!(common::code(&ran), 3, "{}", common::stderr(&ran));
    assert!(
        common::stderr(&ran).contains(".ideogram-mcp.jsonl is not an ideogram journal"),
        "{}",
        common::stderr(&ran)
    );
    assert_eq!(
        std::fs::read_to_string(out.join(".ideogram-mcp.jsonl")).unwrap(),
        theirs
    );
}

/// The images in `out` (not their sidecars or the server's own files).
fn images_in(out: &Path) -> Vec<String> {
    common::files(out)
        .into_iter()
        .filter(|name| !name.starts_with('.') && !name.ends_with(".json"))
        .collect()
}

/// The answers' image paths, each an image on disk; panics on a failed call.
fn saved_paths(results: &[Value]) -> Vec<PathBuf> {
    results
        .iter()
        .map(|result| {
            assert_eq!(result["isError"], false, "{result}");
            let path = path_of(result);
            assert!(path.exists(), "{result}");
            path
        })
        .collect()
}

/// Two agent windows sharing one config: two servers on one `--out`, one
/// mock ledger. Both start and generate at once under the same names; a
/// repeat of one's key on the other bills nothing; no file is written
/// over. A batch into the folder meanwhile is refused, naming no flag it
/// lacks.
#[tokio::test]
async fn two_servers_share_one_folder_and_its_keys() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let one = start(&mock, dir.path(), &out, &[]).await;
    let two = start(&mock, dir.path(), &out, &[]).await;
    let call = |n: usize| json!({"prompt": "shared fox", "provider": "ideogram", "idempotency_key": format!("shared-{n}")});
    // Four calls on each, at once, all wanting the name shared-fox.png.
    let (one, two, results) = tokio::task::spawn_blocking(move || {
        let (mut one, mut two) = (one, two);
        let ids_one: Vec<u64> = (0..4)
            .map(|n| one.start_call("generate", call(n)))
            .collect();
        let ids_two: Vec<u64> = (4..8)
            .map(|n| two.start_call("generate", call(n)))
            .collect();
        let mut results = one.answers(&ids_one);
        results.extend(two.answers(&ids_two));
        (one, two, results)
    })
    .await
    .unwrap();
    let paths = saved_paths(&results);
    let distinct: std::collections::HashSet<&PathBuf> = paths.iter().collect();
    assert_eq!(distinct.len(), 8, "{paths:?}");
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("shared fox").count(), 8);
    assert_eq!(images_in(&out).len(), 8, "{:?}", common::files(&out));
    // Each image's sidecar is its own call's (no file written over).
    for (path, result) in paths.iter().zip(&results) {
        let sidecar: Value =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
        assert_eq!(
            sidecar["source_url"], result["structuredContent"]["images"][0]["source_url"],
            "{sidecar}"
        );
    }

    // One's key repeated on the other: its images, not a new bill.
    let (one, two, again, other) = tokio::task::spawn_blocking(move || {
        let (mut one, mut two) = (one, two);
        let again = two.call("generate", call(0));
        let other = one.call("generate", call(7));
        (one, two, again, other)
    })
    .await
    .unwrap();
    for (result, first) in [(&again, &paths[0]), (&other, &paths[7])] {
        assert_eq!(result["structuredContent"]["billed"], "earlier", "{result}");
        assert_eq!(&path_of(result), first);
    }
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("shared fox").count(), 8);
    assert_eq!(images_in(&out).len(), 8);

    // Billed on one and its answer lost: the other does not send it again.
    mock.inject(
        ideogram_mock::Target::Method("POST".into()),
        ideogram_mock::Fault::DropAfterBilling,
    );
    let dropped = json!({"prompt": "dropped shared fox", "provider": "ideogram",
                         "idempotency_key": "shared-dropped"});
    let (one, two, lost, repeated) = tokio::task::spawn_blocking(move || {
        let (mut one, mut two) = (one, two);
        let lost = one.call("generate", dropped.clone());
        let repeated = two.call("generate", dropped);
        (one, two, lost, repeated)
    })
    .await
    .unwrap();
    for result in [&lost, &repeated] {
        assert_eq!(result["structuredContent"]["billed"], "maybe", "{result}");
    }
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("dropped shared fox").count(), 1);

    // A batch into the folder while the servers run: refused, truthfully.
    let prompts = dir.path().join("prompts.txt");
    std::fs::write(&prompts, "batch fox\n").unwrap();
    let key = mock.api_key();
    let ran = common::run(
        &[
            "batch",
            "prompts.txt",
            "-o",
            "images",
            "--base-url",
            mock.api_url(),
        ],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;
    let said = common::stderr(&ran);
    assert_eq!(common::code(&ran), 3, "{said}");
    assert!(said.contains("ideogram mcp"), "{said}");
    assert!(!said.contains("another ideogram batch"), "{said}");
    assert_eq!(mock.ledger().for_prompt("batch fox").count(), 0);
    for client in [one, two] {
        closed(client).await;
    }
}

/// A server started while a batch saves into its folder is refused with a
/// message that names no flag `ideogram mcp` lacks.
#[tokio::test]
async fn a_server_refused_by_a_running_batch_names_no_flag_it_lacks() {
    use ideogram_mock::{Fault, Target};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = mock.api_key();
    std::fs::write(dir.path().join("prompts.txt"), "slow batch fox\n").unwrap();
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(2)),
    );
    let url = mock.api_url().to_owned();
    let batch = common::Running::start(
        &["batch", "prompts.txt", "-o", "out", "--base-url", &url],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    );
    common::file_holds(
        &dir.path().join("out/.ideogram-batch.jsonl"),
        "\"sending\"",
        1,
    )
    .await;
    let ran = common::run(
        &["mcp", "--out", "out", "--base-url", &url],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;
    let said = common::stderr(&ran);
    assert_ne!(common::code(&ran), 0, "{said}");
    assert!(said.contains("batch"), "{said}");
    assert!(!said.contains("--"), "names a flag: {said}");
    let (code, stderr) = batch.finish().await;
    assert_eq!(code, 0, "{stderr}");
}

/// The issue's "done when": 50 calls sent at once, each with its own key,
/// end with the ledger and the folder agreeing: 50 billed, 50 images on
/// disk, 50 saves journaled, nothing billed twice.
#[tokio::test]
async fn fifty_concurrent_calls_are_billed_saved_and_journaled_once_each() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, results) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let ids: Vec<u64> = (0..50)
            .map(|n| {
                client.start_call(
                    "generate",
                    json!({"prompt": "crowd fox", "provider": "ideogram",
                           "idempotency_key": format!("crowd-{n}")}),
                )
            })
            .collect();
        let results = client.answers(&ids);
        (client, results)
    })
    .await
    .unwrap();
    let paths = saved_paths(&results);
    let distinct: std::collections::HashSet<&PathBuf> = paths.iter().collect();
    assert_eq!(distinct.len(), 50);
    closed(client).await;
    mock.settled().await;
    let ledger = mock.ledger();
    assert_eq!(ledger.for_prompt("crowd fox").count(), 50);
    assert_eq!(ledger.entries.len(), 50);
    assert_eq!(images_in(&out).len(), 50, "{:?}", common::files(&out));
    let journal = std::fs::read_to_string(out.join(".ideogram-mcp.jsonl")).unwrap();
    assert_eq!(
        journal.matches("\"event\":\"saved\"").count(),
        50,
        "{journal}"
    );
    assert_eq!(
        journal.matches("\"event\":\"sending\"").count(),
        50,
        "{journal}"
    );
}

#[tokio::test]
async fn local_images_are_read_only_from_the_out_and_read_folders() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let shared = dir.path().join("shared");
    let private = dir.path().join("private");
    for folder in [&shared, &private] {
        std::fs::create_dir(folder).unwrap();
    }
    let read = ["--read", shared.to_str().unwrap()];
    let client = start(&mock, dir.path(), &out, &read).await;
    let (client, made) = once(client, "generate", json!({"prompt": "a fox"})).await;
    let image = path_of(&made);
    let billed = mock.ledger().entries.len();

    // Outside both folders: as a path, through `..`, and through links put
    // in either folder. Refused before anything is sent.
    let outside = private.join("mine.jpg");
    std::fs::copy(&image, &outside).unwrap();
    let link_in_out = out.join("link.jpg");
    std::os::unix::fs::symlink(&outside, &link_in_out).unwrap();
    let link_in_read = shared.join("link.jpg");
    std::os::unix::fs::symlink(&outside, &link_in_read).unwrap();
    let dotted = out.join("../private/mine.jpg");
    let refused: Vec<(&str, Value)> = [&outside, &dotted, &link_in_out, &link_in_read]
        .into_iter()
        .flat_map(|path| {
            let path = path.to_str().unwrap().to_owned();
            [
                ("describe", json!({"image": path})),
                ("remix", json!({"prompt": "x", "image": path})),
            ]
        })
        .collect();
    // Inside: the output folder, and a --read folder.
    let inside = shared.join("theirs.jpg");
    std::fs::copy(&image, &inside).unwrap();
    let (mut client, refusals) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let answers: Vec<_> = refused
            .into_iter()
            .map(|(tool, arguments)| (tool, arguments.clone(), client.call(tool, arguments)))
            .collect();
        (client, answers)
    })
    .await
    .unwrap();
    for (tool, arguments, answer) in &refusals {
        assert_eq!(answer["isError"], true, "{tool} {arguments}: {answer}");
        assert_eq!(answer["structuredContent"]["billed"], "no", "{answer}");
        // Said to the agent: which folders it may use, no CLI flag.
        let text = answer["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("may read"), "{text}");
        assert!(text.contains(shared.to_str().unwrap()), "{text}");
        assert!(!text.contains("--read"), "{text}");
    }
    assert_eq!(
        mock.ledger().entries.len(),
        billed,
        "a refused image was sent"
    );
    for path in [image, inside] {
        let answer;
        (client, answer) = once(client, "describe", json!({ "image": path })).await;
        assert_eq!(answer["isError"], false, "{}: {answer}", path.display());
    }
    assert_eq!(mock.ledger().entries.len(), billed + 2);
    closed(client).await;
}

/// The journal's lines, or none when it is not there.
fn journal_of(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join(".ideogram-mcp.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Issue 29: describe with `model: V_4` runs v2's 4.0 describe, its one
/// description a json_prompt as JSON text (keyed, billed once); a model no
/// describe runs is refused by the tool's schema, unsent.
#[tokio::test]
async fn describe_on_4_0_answers_one_json_prompt() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "poster.png", 96, 64, [20, 90, 200]);
    let image = out.join("poster.png").display().to_string();
    let client = start(&mock, dir.path(), &out, &["--provider", "ideogram"]).await;
    let keyed = json!({"image": image, "model": "V_4", "idempotency_key": "describe-4"});
    let (client, first, second) = twice(client, "describe", keyed).await;
    assert_eq!(first["isError"], false, "{first}");
    let texts = first["structuredContent"]["descriptions"]
        .as_array()
        .unwrap();
    assert_eq!(texts.len(), 1, "{first}");
    let structured: Value = serde_json::from_str(texts[0].as_str().unwrap()).unwrap();
    assert_eq!(structured["width"], 96, "{structured}");
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    let (_client, refused) = once(
        client,
        "describe",
        json!({"image": image, "model": "V_4_5"}),
    )
    .await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(refused.to_string().contains("model"), "{refused}");
    let operations: Vec<String> = mock
        .ledger()
        .entries
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert_eq!(operations, ["/v2/image/describe/ideogram-4"]);
}

/// Issue 23, items 9 and 10: describe and layerize_text are keyed like the
/// other paid tools (a repeat is answered from the journal, billed once);
/// job_status/job_wait of an id the service does not know say `billed: no`
/// and record nothing; a queued job's images carry its model and prompt.
#[tokio::test]
async fn describe_is_keyed_and_job_records_say_what_was_asked() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &["--provider", "ideogram"]).await;
    let (client, made, _) = twice(client, "generate", json!({"prompt": "a describable fox"})).await;
    let image = path_of(&made).display().to_string();
    let billed_for = |operation: &str| {
        mock.ledger()
            .entries
            .iter()
            .filter(|e| e.operation.contains(operation))
            .count()
    };

    let keyed = json!({"image": image, "idempotency_key": "describe-1"});
    let (client, first, second) = twice(client, "describe", keyed).await;
    assert_eq!(first["isError"], false, "{first}");
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    assert_eq!(
        first["structuredContent"]["descriptions"],
        second["structuredContent"]["descriptions"]
    );
    assert_eq!(billed_for("describe"), 1, "{:?}", mock.ledger().entries);

    let layers = json!({"image": image, "idempotency_key": "layers-1"});
    let (client, first, second) = twice(client, "layerize_text", layers).await;
    assert_eq!(first["isError"], false, "{first}");
    assert!(path_of(&first).exists(), "{first}");
    assert!(
        first["structuredContent"]["text_blocks"].is_array(),
        "{first}"
    );
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    assert_eq!(path_of(&first), path_of(&second));
    assert_eq!(billed_for("layerize"), 1, "{:?}", mock.ledger().entries);

    // An id the service does not know: free, and nothing recorded.
    let lines = journal_of(&out).len();
    let unknown = json!({"request_id": "no-such-job"});
    let (client, status, waited) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let status = client.call("job_status", unknown.clone());
        let waited = client.call("job_wait", unknown);
        (client, status, waited)
    })
    .await
    .unwrap();
    for answer in [&status, &waited] {
        assert_eq!(answer["isError"], true, "{answer}");
        assert_eq!(answer["structuredContent"]["billed"], "no", "{answer}");
        let class = &answer["structuredContent"]["error"]["class"];
        assert_eq!(class, "invalid_request", "{answer}");
    }
    assert_eq!(journal_of(&out).len(), lines, "{:?}", journal_of(&out));

    // A V_2A job with a prompt: its sidecar says so.
    let job = json!({"prompt": "a queued red fox", "model": "V_2A", "idempotency_key": "job-1"});
    let (client, submitted, _) = twice(client, "job_submit", job).await;
    let id = submitted["structuredContent"]["request_id"].clone();
    let (client, waited, _) = twice(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(waited["isError"], false, "{waited}");
    let sidecar: Value =
        serde_json::from_slice(&std::fs::read(path_of(&waited).with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["model"], "V_2A", "{sidecar}");
    assert_eq!(sidecar["prompt"], "a queued red fox", "{sidecar}");
    closed(client).await;
}

/// Issue 23, item 8: an agent cannot make the server fetch from loopback,
/// private or metadata addresses unless `--allow-url-host` names the host,
/// and a URL that is not an image is asked for once.
#[tokio::test]
async fn url_inputs_reach_only_public_hosts_and_text_is_fetched_once() {
    use workspace_tests::{Canned, CaptureServer};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &["--provider", "ideogram"]).await;
    let (client, made, _) = twice(client, "generate", json!({"prompt": "a private fox"})).await;
    let png = std::fs::read(path_of(&made)).unwrap();
    let host = CaptureServer::start(move |request| {
        if request.path.ends_with(".txt") {
            Canned::bytes(200, "text/plain", b"not an image")
        } else {
            Canned::bytes(200, "image/png", &png)
        }
    })
    .await;
    let private = format!("{}/private.png", host.base_url());
    let named = private.replace("127.0.0.1", "localhost");
    let (client, refused, by_name) = tokio::task::spawn_blocking({
        let (private, named) = (private.clone(), named.clone());
        move || {
            let mut client = client;
            let refused = client.call("describe", json!({"image": private}));
            let by_name = client.call("remix", json!({"prompt": "x", "image": named}));
            (client, refused, by_name)
        }
    })
    .await
    .unwrap();
    for answer in [&refused, &by_name] {
        assert_eq!(answer["isError"], true, "{answer}");
        assert_eq!(answer["structuredContent"]["billed"], "no", "{answer}");
        let text = answer["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("loopback, private"), "{text}");
    }
    assert!(host.requests().is_empty(), "{:?}", host.requests().len());
    assert!(
        mock.ledger()
            .entries
            .iter()
            .all(|e| !e.operation.contains("describe")),
        "a refused describe was billed"
    );
    closed(client).await;

    // Allowed by name: fetched; a text URL is asked for once.
    let client = start(
        &mock,
        dir.path(),
        &out,
        &["--provider", "ideogram", "--allow-url-host", "127.0.0.1"],
    )
    .await;
    let text = format!("{}/notes.txt", host.base_url());
    let (client, described, plain) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let described = client.call("describe", json!({"image": private}));
        let plain = client.call("describe", json!({"image": text}));
        (client, described, plain)
    })
    .await
    .unwrap();
    assert_eq!(described["isError"], false, "{described}");
    assert_eq!(plain["isError"], true, "{plain}");
    assert_eq!(plain["structuredContent"]["billed"], "no", "{plain}");
    let asked: Vec<String> = host.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(asked, ["/private.png", "/notes.txt"], "{asked:?}");
    closed(client).await;
}

/// Calls `tool` once with `arguments` (off the runtime).
async fn once(mut client: Client, tool: &'static str, arguments: Value) -> (Client, Value) {
    tokio::task::spawn_blocking(move || {
        let answer = client.call(tool, arguments);
        (client, answer)
    })
    .await
    .unwrap()
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
    closed(client).await;
}

/// A call cancelled while it is still being prepared (its input image on
/// the way) sends nothing: the ledger stays empty and the journal never
/// says `sending`.
#[tokio::test]
async fn a_call_cancelled_before_it_is_sent_sends_nothing() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    common::write_png(dir.path(), "held.png", 64, 64, [200, 80, 40]);
    let png = std::fs::read(dir.path().join("held.png")).unwrap();
    // An image host that answers only once the test lets it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/held.png", listener.local_addr().unwrap());
    let (asked, mut was_asked) = tokio::sync::mpsc::channel(1);
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 4096];
        let _ = socket.read(&mut request).await.unwrap();
        asked.send(()).await.unwrap();
        let _ = released.await;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            png.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&png).await.unwrap();
    });
    let args = ["--provider", "ideogram", "--allow-url-host", "127.0.0.1"];
    let client = start(&mock, dir.path(), &out, &args).await;
    let (client, id) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let id = client.start_call(
            "remix",
            json!({"prompt": "a held fox", "image": url, "idempotency_key": "held"}),
        );
        (client, id)
    })
    .await
    .unwrap();
    tokio::time::timeout(HUNG, was_asked.recv())
        .await
        .expect("the image host was never asked");
    // The server reads its input in order: once the ping is answered, the
    // cancellation before it has been taken.
    let client = tokio::task::spawn_blocking(move || {
        let mut client = client;
        client.send(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": id, "reason": "test"}}),
        );
        client.request("ping", json!({}));
        client
    })
    .await
    .unwrap();
    release.send(()).unwrap();
    // Closing stdin waits for the call in flight to end.
    let stderr = closed(client).await;
    mock.settled().await;
    assert!(mock.ledger().entries.is_empty(), "sent: {stderr}");
    let journal = std::fs::read_to_string(out.join(".ideogram-mcp.jsonl")).unwrap_or_default();
    assert!(!journal.contains("\"sending\""), "{journal}");
    assert!(stderr.contains("cancelled"), "{stderr}");
}

/// `ideogram mcp` on a 512 KiB filesystem filled to 500 KiB (mounted in a
/// namespace of its own, as `paid_results`' full-disk tests do), which is
/// its output folder, `TMPDIR` and the user's data, cache and home folders:
/// no place takes a paid image's bytes (Segmind's sync v1, `--sync`: an
/// image with no URL to fetch it again). The client, the filesystem's path
/// and where the test reaches it from outside (the server's root in
/// `/proc`, while it runs).
async fn on_a_full_disk(mock: &ideogram_mock::MockServer) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let script = r#"
        set -u
        S="$1"; BIN="$2"; URL="$3"
        mount -t tmpfs -o size=512k none "$S" || { echo "cannot mount a small filesystem" >&2; exit 97; }
        head -c 512000 /dev/zero > "$S/filler"
        mkdir -p "$S/out" "$S/tmp"
        export TMPDIR="$S/tmp" XDG_DATA_HOME="$S/data" XDG_CACHE_HOME="$S/cache" HOME="$S/home"
        cd "$S"
        exec "$BIN" mcp --out "$S/out" --base-url "$URL" --provider segmind --sync
        "#;
    let mut command = Command::new("unshare");
    command
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(&small)
        .arg(common::BIN)
        .arg(mock.api_url())
        .env_remove("IDEOGRAM_API_KEY")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        // The room check before sending passes: the write after fails.
        .env("IDEOGRAM_MIN_FREE_PER_IMAGE", "0")
        .env("SEGMIND_API_KEY", mock.api_key())
        .env("NO_COLOR", "1");
    let client = tokio::task::spawn_blocking(move || Client::spawn(command))
        .await
        .unwrap();
    (client, dir)
}

impl Client {
    /// `path` (as the server sees it) from outside its mount namespace.
    fn seen_by_server(&self, path: &Path) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.child.id())).join(path.strip_prefix("/").unwrap())
    }
}

#[tokio::test]
async fn paid_bytes_no_place_takes_are_kept_and_saved_on_repeat_without_sending() {
    let mock = common::mock(Default::default()).await;
    let (client, dir) = on_a_full_disk(&mock).await;
    let small = dir.path().join("small");
    let call = json!({"prompt": "kept fox", "model": "V_3", "idempotency_key": "keep-1"});
    let (mut client, kept) = once(client, "generate", call.clone()).await;
    assert_eq!(kept["isError"], true, "{kept}");
    let answer = &kept["structuredContent"];
    assert_eq!(answer["billed"], "yes", "{kept}");
    let image = &answer["detail"]["images"][0];
    assert_eq!(image["kept"], true, "{kept}");
    assert!(image["source_url"].is_null(), "{kept}");
    assert!(
        answer["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("same idempotency_key")),
        "{kept}"
    );

    // Room made: the repeat saves the bytes kept, sending nothing.
    std::fs::remove_file(client.seen_by_server(&small.join("filler"))).unwrap();
    client = {
        let (client, saved) = once(client, "generate", call).await;
        assert_eq!(saved["isError"], false, "{saved}");
        assert_eq!(saved["structuredContent"]["billed"], "earlier", "{saved}");
        let path = client.seen_by_server(&path_of(&saved));
        assert!(path.is_file(), "{saved}");
        client
    };
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("kept fox").count(), 1);
    let journal =
        std::fs::read_to_string(client.seen_by_server(&small.join("out/.ideogram-mcp.jsonl")));
    assert!(journal.is_ok_and(|j| j.contains("\"saved\"")));
    let stderr = closed(client).await;
    assert!(!stderr.contains("lost"), "{stderr}");
}

#[tokio::test]
async fn paid_bytes_kept_at_shutdown_are_tried_once_more_and_reported() {
    let mock = common::mock(Default::default()).await;
    let (client, _dir) = on_a_full_disk(&mock).await;
    let call = json!({"prompt": "doomed fox", "model": "V_3", "idempotency_key": "keep-2"});
    let (client, kept) = once(client, "generate", call).await;
    assert_eq!(
        kept["structuredContent"]["detail"]["images"][0]["kept"], true,
        "{kept}"
    );
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        drop(client.stdin.take());
        client.ended()
    })
    .await
    .unwrap();
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("image 1 of \"doomed fox\" (paid, kept in memory unsaved): lost")),
        "{stderr}"
    );
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("doomed fox").count(), 1);
}

#[tokio::test]
async fn mcp_help_names_every_tool_the_server_publishes() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let names: Vec<String> = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let tools = client.request("tools/list", json!({}));
        let names = tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tool| tool["name"].as_str().unwrap().to_owned())
            .collect();
        client.close();
        names
    })
    .await
    .unwrap();
    assert!(names.len() > 1, "{names:?}");
    for flag in ["--help", "-h"] {
        let help = common::run(&["mcp", flag], &[], dir.path()).await;
        assert_eq!(common::code(&help), 0, "{}", common::stderr(&help));
        let text = common::stdout(&help);
        for name in &names {
            assert!(
                text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == name),
                "`mcp {flag}` does not name the tool {name}: {text}"
            );
        }
    }
}

/// Issue 24: each tool's arguments are the spec's field names, and every
/// field its schema lists reaches the body sent (here fields no hand list
/// ever named: `magic_prompt_version`, and upscale's `resemblance` given
/// beside the others); a field the schema does not list, or a value past
/// the spec's bound, is refused before anything is sent.
#[tokio::test]
async fn every_listed_field_reaches_the_wire_and_others_are_refused_unsent() {
    use workspace_tests::{Canned, CaptureServer};
    let server = CaptureServer::start(|_| {
        Canned::json(
            200,
            json!({"created": "2025-01-01T00:00:00Z", "data": [
                {"url": "https://cdn.example/wire.png", "prompt": "p", "resolution": "1024x1024",
                 "seed": 1, "is_image_safe": true}
            ]}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "in.png", 64, 64, [200, 80, 40]);
    let png = out.join("in.png");
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
    let image = png.to_str().unwrap().to_owned();
    let bodies = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut client = Client::start(&args, &[("IDEOGRAM_API_KEY", "test-key-123456")], &root);
        let tools = client.request("tools/list", json!({}));
        let listed = |tool: &str| {
            tools["tools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == tool)
                .unwrap()["inputSchema"]["properties"]
                .clone()
        };
        let (generate, upscale) = (listed("generate"), listed("upscale"));
        for field in [
            "negative_prompt",
            "style_type",
            "magic_prompt_version",
            "seed",
        ] {
            assert!(generate.get(field).is_some(), "{field}: {generate}");
        }
        for field in ["resemblance", "detail", "magic_prompt_version"] {
            assert!(upscale.get(field).is_some(), "{field}: {upscale}");
        }
        assert!(upscale.get("color_palette").is_none(), "{upscale}");
        assert!(upscale.get("palette").is_none(), "{upscale}");
        // Refused by the published schema: nothing sent.
        for (tool, arguments, field) in [
            (
                "upscale",
                json!({"image": image, "resemblance": 1000}),
                "resemblance",
            ),
            (
                "upscale",
                json!({"image": image, "color_palette": {"name": "EMBER"}}),
                "color_palette",
            ),
            (
                "generate",
                json!({"prompt": "a fox", "colour": "red"}),
                "colour",
            ),
        ] {
            let refused = client.call(tool, arguments);
            assert_eq!(refused["isError"], true, "{refused}");
            assert_eq!(refused["structuredContent"]["billed"], "no", "{refused}");
            let text = refused["content"][0]["text"].as_str().unwrap();
            assert!(text.contains(field), "{field}: {text}");
        }
        let generated = client.call(
            "generate",
            json!({"prompt": "a fox", "model": "V_2", "negative_prompt": "fog",
                   "style_type": "DESIGN", "magic_prompt_version": "V_0_3", "seed": 7}),
        );
        let upscaled = client.call(
            "upscale",
            json!({"image": image, "resemblance": 60, "magic_prompt_version": "V_0_2"}),
        );
        client.close();
        (generated, upscaled)
    })
    .await
    .unwrap();
    let posts: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.wire_record().to_string())
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?} {bodies:?}");
    for field in [
        "\"negative_prompt\":\"fog\"",
        "\"style_type\":\"DESIGN\"",
        "\"magic_prompt_version\":\"V_0_3\"",
        "\"seed\":7",
    ] {
        assert!(posts[0].contains(field), "{field}: {}", posts[0]);
    }
    for field in ["\"resemblance\":60", "\"magic_prompt_version\":\"V_0_2\""] {
        assert!(posts[1].contains(field), "{field}: {}", posts[1]);
    }
}

/// Issue 29: `remove_background` and `remove_object` (Ideogram's v2) are
/// paid tools like the other edits: each saves an image, billed once (a
/// repeat with its key is answered from the journal); remove-object,
/// always asynchronous on the service, has its generation id journaled
/// and is polled to completion; a generation the service fails is
/// `billed: no`; on Segmind, which serves neither, a call is refused by
/// the library's check before anything is sent or journaled.
#[tokio::test]
async fn the_removals_are_billed_once_saved_and_refused_unsent_on_segmind() {
    use ideogram_mock::{Fault, Target};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "photo.png", 64, 48, [200, 80, 40]);
    common::write_png(&out, "mask.png", 64, 48, [0, 0, 0]);
    let image = out.join("photo.png").display().to_string();
    let mask = out.join("mask.png").display().to_string();
    let billed_at = |path: &str| {
        mock.ledger()
            .entries
            .into_iter()
            .filter(|e| e.operation.starts_with(path))
            .collect::<Vec<_>>()
    };
    // Both keys set, Segmind the server's default.
    let client = start(&mock, dir.path(), &out, &[]).await;

    // Segmind serves neither: refused, unsent, unjournaled, naming the
    // provider and the operation; also as the server's default.
    let refusals = [
        (
            "remove_background",
            json!({"image": image, "provider": "segmind"}),
        ),
        (
            "remove_object",
            json!({"image": image, "mask": mask, "provider": "segmind"}),
        ),
        ("remove_object", json!({"image": image, "mask": mask})),
    ];
    let (client, refused) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let refused: Vec<(&str, Value)> = refusals
            .into_iter()
            .map(|(tool, arguments)| (tool, client.call(tool, arguments)))
            .collect();
        (client, refused)
    })
    .await
    .unwrap();
    for (tool, answer) in &refused {
        assert_eq!(answer["isError"], true, "{answer}");
        assert_eq!(answer["structuredContent"]["billed"], "no", "{answer}");
        let text = answer["content"][0]["text"].as_str().unwrap();
        let op = tool.replace('_', "-");
        assert!(
            text.contains("provider") && text.contains("segmind") && text.contains(&op),
            "{text}"
        );
    }
    assert!(mock.ledger().entries.is_empty(), "{:?}", mock.ledger());
    assert!(
        journal_of(&out).iter().all(|e| e["item"].is_null()),
        "{:?}",
        journal_of(&out)
    );

    // Remove the background, twice with one key: billed once, one file.
    let keyed = json!({"image": image, "provider": "ideogram", "idempotency_key": "rb-1"});
    let (client, first, second) = twice(client, "remove_background", keyed).await;
    assert_eq!(first["isError"], false, "{first}");
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    assert_eq!(path_of(&first), path_of(&second));
    assert_eq!(common::dimensions(&path_of(&first)), (64, 48));
    let removed = billed_at("/v2/image/remove-background");
    assert_eq!(removed.len(), 1, "{:?}", mock.ledger());

    // Remove an object: answered a generation id, journaled before the
    // wait, polled until the mock completes it; billed once.
    let keyed =
        json!({"image": image, "mask": mask, "provider": "ideogram", "idempotency_key": "ro-1"});
    let (client, first, second) = twice(client, "remove_object", keyed).await;
    assert_eq!(first["isError"], false, "{first}");
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    assert_eq!(second["structuredContent"]["billed"], "earlier", "{second}");
    assert_eq!(path_of(&first), path_of(&second));
    assert_eq!(common::dimensions(&path_of(&first)), (64, 48));
    let removed = billed_at("/v2/image/remove-object");
    assert_eq!(removed.len(), 1, "{:?}", mock.ledger());
    let submitted: Vec<Value> = journal_of(&out)
        .into_iter()
        .filter(|e| e["event"] == "submitted")
        .collect();
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    assert_eq!(submitted[0]["request_id"], removed[0].id.as_str());

    // A generation the service fails: an error, not billed.
    mock.inject(
        Target::PathPrefix("/v2/image/remove-object".into()),
        Fault::FailQueued,
    );
    let failing =
        json!({"image": image, "mask": mask, "provider": "ideogram", "idempotency_key": "ro-2"});
    let (client, failed) = once(client, "remove_object", failing.clone()).await;
    assert_eq!(failed["isError"], true, "{failed}");
    assert_eq!(failed["structuredContent"]["billed"], "no", "{failed}");
    mock.settled().await;
    let removed = || billed_at("/v2/image/remove-object").len();
    assert_eq!(removed(), 1, "{:?}", mock.ledger());
    // Certainly not billed, so its key sends it again.
    let (client, again) = once(client, "remove_object", failing).await;
    assert_eq!(again["structuredContent"]["billed"], "yes", "{again}");
    assert_eq!(removed(), 2, "{:?}", mock.ledger());
    closed(client).await;
}

/// What a ledger billed in all, in micro-USD (every entry priced).
fn ledger_usd(mock: &ideogram_mock::MockServer) -> u64 {
    mock.ledger()
        .entries
        .iter()
        .map(|e| e.usd_micros.expect("a priced entry"))
        .sum()
}

#[tokio::test]
async fn quote_bills_nothing_and_a_budget_refuses_unsent_the_call_that_would_pass_it() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.30"]).await;
    // Ideogram 4.5 at high quality: $0.10 an image, the service's price.
    let two = |prompt: &str, images: u32| {
        json!({"prompt": prompt, "provider": "ideogram", "model": "V_4_5",
               "quality": "high", "num_images": images})
    };
    let (client, quoted) = once(
        client,
        "quote",
        json!({"tool": "generate", "arguments": two("a priced fox", 2)}),
    )
    .await;
    let quote = &quoted["structuredContent"];
    assert_eq!(quoted["isError"], false, "{quoted}");
    assert_eq!(quote["usd_micros"], 200_000, "{quote}");
    assert_eq!(quote["usd"], "$0.20", "{quote}");
    assert_eq!(quote["source"]["kind"], "service", "{quote}");
    assert_eq!(quote["billed"], "no", "{quote}");
    assert_eq!(
        (&quote["spent"], &quote["left"]),
        (&json!("$0.00"), &json!("$0.30"))
    );
    assert!(mock.ledger().entries.is_empty(), "a quote billed");
    assert!(
        journal_of(&out).iter().all(|e| e["item"].is_null()),
        "a quote was journaled"
    );
    // An edit is priced as its tool takes it; a tool it cannot price and
    // arguments its tool refuses are refused, naming the field.
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "photo.png", 64, 48, [200, 80, 40]);
    let image = out.join("photo.png").display().to_string();
    let edit = json!({"tool": "remove_background",
                      "arguments": {"image": image, "provider": "ideogram"}});
    let (client, edit) = once(client, "quote", edit).await;
    assert_eq!(edit["isError"], false, "{edit}");
    assert!(
        edit["structuredContent"]["usd_micros"].as_u64().unwrap() > 0,
        "{edit}"
    );
    let bad = json!({"tool": "generate", "arguments": {"prompt": "x", "num_images": 0}});
    let (client, bad) = once(client, "quote", bad).await;
    assert_eq!(bad["isError"], true, "{bad}");
    let said = bad["content"][0]["text"].as_str().unwrap();
    assert!(said.contains("arguments.num_images"), "{said}");
    let (client, bad) = once(client, "quote", json!({"tool": "models", "arguments": {}})).await;
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(mock.ledger().entries.is_empty(), "a quote billed");

    // $0.20 of $0.30: sent; what it cost is what the quote said.
    let (client, first) = once(client, "generate", two("a priced fox", 2)).await;
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    assert_eq!(first["structuredContent"]["spent"], "$0.20", "{first}");
    assert_eq!(first["structuredContent"]["left"], "$0.10", "{first}");
    assert_eq!(ledger_usd(&mock), 200_000);
    // Another $0.20 would pass it: refused, nothing sent or journaled.
    let journaled = journal_of(&out).len();
    let (client, over) = once(client, "generate", two("an over fox", 2)).await;
    assert_eq!(over["isError"], true, "{over}");
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    let said = over["content"][0]["text"].as_str().unwrap();
    assert!(
        said.contains("$0.20") && said.contains("$0.30") && said.contains("$0.10"),
        "{said}"
    );
    // An error of a paid tool says the spend as its results do.
    assert_eq!(over["structuredContent"]["spent"], "$0.20", "{over}");
    assert_eq!(over["structuredContent"]["left"], "$0.10", "{over}");
    assert_eq!(journal_of(&out).len(), journaled, "a refusal was journaled");
    // A request no price is known for, under a budget: refused unsent.
    let (client, unpriced) = once(
        client,
        "generate",
        json!({"prompt": "a legacy fox", "provider": "segmind"}),
    )
    .await;
    assert_eq!(unpriced["structuredContent"]["billed"], "no", "{unpriced}");
    let said = unpriced["content"][0]["text"].as_str().unwrap();
    assert!(said.contains("no price known"), "{said}");
    // Ideogram's describe has no price in its spec (Segmind's has).
    let describe = json!({"image": image, "provider": "ideogram"});
    let (client, unpriced) = once(client, "describe", describe).await;
    assert!(
        unpriced["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("no price known"),
        "{unpriced}"
    );
    // $0.10 fits what is left, exactly; then nothing more does.
    let (client, last) = once(client, "generate", two("a last fox", 1)).await;
    assert_eq!(last["structuredContent"]["billed"], "yes", "{last}");
    assert_eq!(last["structuredContent"]["spent"], "$0.30", "{last}");
    assert_eq!(last["structuredContent"]["left"], "$0.00", "{last}");
    let (client, over) = once(client, "generate", two("one fox too many", 1)).await;
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    // layerize_text is priced (the spec's $0.09): held against the budget
    // like the others, so refused here by its price, not for having none.
    let (client, over) = once(client, "layerize_text", json!({"image": image})).await;
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    let said = over["content"][0]["text"].as_str().unwrap();
    assert!(said.contains("may cost $0.09"), "{said}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 2, "{:?}", mock.ledger());
    assert!(ledger_usd(&mock) <= 300_000);
    closed(client).await;

    // Without a budget every call is sent; a paid answer says what was
    // spent (the spec's price, nothing sent to learn it), and no `left`.
    let out = dir.path().join("unlimited");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, made) = once(client, "generate", two("an unlimited fox", 1)).await;
    assert_eq!(made["structuredContent"]["billed"], "yes", "{made}");
    assert_eq!(made["structuredContent"]["spent"], "$0.10", "{made}");
    assert!(made["structuredContent"]["left"].is_null(), "{made}");
    closed(client).await;
}

#[tokio::test]
async fn a_budget_that_is_not_an_amount_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    for bad in ["-1", "1.0000001", "NaN"] {
        let output = common::command(
            &[
                "mcp",
                "--offline",
                "--out",
                out.to_str().unwrap(),
                "--max-usd",
                bad,
            ],
            &[],
            dir.path(),
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("--max-usd"), "{stderr}");
    }
}

#[tokio::test]
async fn calls_running_together_never_pass_the_budget_and_a_range_counts_its_most() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    // Six calls of $0.10 at once on a budget of $0.35: each holds its price
    // while it runs, so three are sent and three refused unsent, however
    // they interleave.
    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.35"]).await;
    let (client, answers) = tokio::task::spawn_blocking(move || {
        let mut client = client;
        let ids: Vec<u64> = (0..6)
            .map(|n| {
                let call = json!({"prompt": format!("fox {n} at once"), "provider": "ideogram",
                                  "model": "V_4_5", "quality": "high"});
                client.start_call("generate", call)
            })
            .collect();
        let answers = client.answers(&ids);
        (client, answers)
    })
    .await
    .unwrap();
    let billed = |what: &str| {
        answers
            .iter()
            .filter(|a| a["structuredContent"]["billed"] == what)
            .count()
    };
    assert_eq!((billed("yes"), billed("no")), (3, 3), "{answers:?}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 3, "{:?}", mock.ledger());
    assert_eq!(ledger_usd(&mock), 300_000);
    closed(client).await;

    // Segmind's 3.0 is priced as a range: the quote says so, and a budget
    // holds a call's most, the range's upper end.
    let out = dir.path().join("segmind");
    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.20"]).await;
    let job = |prompt: &str| json!({"prompt": prompt, "model": "V_3"});
    let (client, quoted) = once(
        client,
        "quote",
        json!({"tool": "job_submit", "arguments": job("a ranged fox")}),
    )
    .await;
    let quote = quoted["structuredContent"].clone();
    assert_eq!(quote["qualifier"], "estimate", "{quote}");
    assert_eq!(quote["source"]["kind"], "spec", "{quote}");
    let most = quote["most_usd_micros"].as_u64().unwrap();
    assert!(most > quote["usd_micros"].as_u64().unwrap(), "{quote}");
    assert!(
        most <= 200_000 && 2 * most > 200_000,
        "the test's budget fits one: {quote}"
    );
    let (client, submitted) = once(client, "job_submit", job("a ranged fox")).await;
    let answer = &submitted["structuredContent"];
    assert_eq!(answer["status"], "QUEUED", "{submitted}");
    // Billed within the range, the amount not known: said as the range.
    let range = format!(
        "{} to {}",
        quote["usd"].as_str().unwrap(),
        quote["most_usd"].as_str().unwrap()
    );
    assert_eq!(answer["spent"], range.as_str(), "{answer}");
    let (client, over) = once(client, "job_submit", job("a second ranged fox")).await;
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    let id = answer["request_id"].clone();
    let (client, waited) = once(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(waited["isError"], false, "{waited}");
    // Counted once, when it was queued.
    assert_eq!(
        waited["structuredContent"]["spent"],
        range.as_str(),
        "{waited}"
    );
    assert_eq!(mock.ledger().for_prompt("a ranged fox").count(), 1);
    assert_eq!(mock.ledger().for_prompt("a second ranged fox").count(), 0);
    closed(client).await;
}

/// Issue 27: a budget survives a restart. A server that spent $0.20 of
/// its $0.25, killed (`kill -9`) and started again on the same folder,
/// starts from what the folder's server journals record as spent: the next
/// $0.10 call is refused unsent. `ideogram spend` on the folder equals the
/// mock's ledger.
#[tokio::test]
async fn a_restarted_server_keeps_to_the_budget_its_journal_has_spent() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    // Ideogram 4.5 at high quality: $0.10 an image, the service's price.
    let fox = |prompt: &str, images: u32| {
        json!({"prompt": prompt, "provider": "ideogram", "model": "V_4_5",
               "quality": "high", "num_images": images})
    };
    let budget = ["--max-usd", "0.25"];
    let client = start(&mock, dir.path(), &out, &budget).await;
    let (client, first) = once(client, "generate", fox("a fox before the kill", 2)).await;
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    assert_eq!(first["structuredContent"]["left"], "$0.05", "{first}");
    mock.settled().await;
    assert_eq!(ledger_usd(&mock), 200_000);
    tokio::task::spawn_blocking(move || client.killed())
        .await
        .unwrap();

    let client = start(&mock, dir.path(), &out, &budget).await;
    let posts = mock.posts_received();
    let (client, over) = once(client, "generate", fox("a fox after the kill", 1)).await;
    assert_eq!(over["isError"], true, "{over}");
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    assert_eq!(over["structuredContent"]["spent"], "$0.20", "{over}");
    assert_eq!(over["structuredContent"]["left"], "$0.05", "{over}");
    mock.settled().await;
    // Priced by the service's free dry run, and nothing else sent.
    assert_eq!(mock.posts_received(), posts + 1, "{:?}", mock.ledger());
    assert_eq!(mock.ledger().for_prompt("a fox after the kill").count(), 0);
    assert_eq!(ledger_usd(&mock), 200_000);
    let stderr = closed(client).await;
    assert!(stderr.contains("$0.20 of it spent"), "{stderr}");

    // What the server journaled is what was billed, to the micro-dollar.
    let spend = common::command(&["--json", "spend", out.to_str().unwrap()], &[], dir.path())
        .output()
        .unwrap();
    assert_eq!(spend.status.code(), Some(0), "{}", common::stderr(&spend));
    let spend: Value = serde_json::from_slice(&spend.stdout).unwrap();
    assert_eq!(spend["usd_micros"], ledger_usd(&mock), "{spend}");
}

/// Another server's journal past the 256 MiB a journal is read to spent
/// what nothing can know (its bills may lie past the cut): under a budget,
/// a paid call is refused unsent, naming it, not priced against only the
/// part read.
#[tokio::test]
async fn a_budget_beside_a_journal_too_large_to_read_refuses_unsent() {
    use std::io::{Seek as _, Write as _};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir(&out).unwrap();
    // Its header, a run of NUL bytes (a hole: nothing written), then a
    // call that spent the whole budget.
    let peer = out.join(".ideogram-mcp.1.jsonl");
    let mut file = std::fs::File::create(&peer).unwrap();
    let header = "{\"event\":\"journal\",\"format\":\"ideogram-journal\",\"version\":1}\n";
    file.write_all(header.as_bytes()).unwrap();
    file.set_len(header.len() as u64 + (256 << 20)).unwrap();
    file.seek(std::io::SeekFrom::End(0)).unwrap();
    let spent =
        json!({"event": "cost", "item": 0, "cost": {"usd_micros": 250_000, "from": "service"}});
    file.write_all(format!("\n{spent}\n").as_bytes()).unwrap();
    drop(file);

    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.25"]).await;
    let fox = json!({"prompt": "a fox beside a huge journal", "provider": "ideogram",
                     "model": "V_4_5", "quality": "high"});
    let (client, refused) = once(client, "generate", fox).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["billed"], "no", "{refused}");
    assert!(
        refused.to_string().contains("larger than the 256 MiB"),
        "{refused}"
    );
    mock.settled().await;
    assert_eq!(
        mock.ledger()
            .for_prompt("a fox beside a huge journal")
            .count(),
        0
    );
    closed(client).await;
}

/// Issue 27: a call killed (`kill -9`) while it runs may have been billed:
/// its `sending` entry records the most it can cost, and a server started
/// again on the folder counts that as spent, so the budget is never given
/// back by a crash mid-call, whatever the service did with the request.
#[tokio::test]
async fn a_call_killed_in_flight_counts_its_most_after_a_restart() {
    use ideogram_mock::{Fault, Target};
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let fox = |prompt: &str| {
        json!({"prompt": prompt, "provider": "ideogram", "model": "V_4_5",
               "quality": "high"})
    };
    let budget = ["--max-usd", "0.15"];
    let client = start(&mock, dir.path(), &out, &budget).await;
    // The dry run answers at once; the generate it prices, slowly.
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::ZERO),
    );
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(3)),
    );
    let client = tokio::task::spawn_blocking(move || {
        let mut client = client;
        client.start_call("generate", fox("a fox killed in flight"));
        client
    })
    .await
    .unwrap();
    common::file_holds(&out.join(".ideogram-mcp.jsonl"), "\"sending\"", 1).await;
    tokio::task::spawn_blocking(move || client.killed())
        .await
        .unwrap();

    let client = start(&mock, dir.path(), &out, &budget).await;
    let (client, over) = once(client, "generate", fox("a fox after the crash")).await;
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    // It may have been billed, or not: nothing at least, its most at most.
    assert_eq!(
        over["structuredContent"]["spent"], "$0.00 to $0.10",
        "{over}"
    );
    assert_eq!(over["structuredContent"]["left"], "$0.05", "{over}");
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt("a fox after the crash").count(), 0);
    assert!(ledger_usd(&mock) <= 150_000, "{:?}", mock.ledger());
    closed(client).await;
}

/// Issue 29: `layerize_text` reaches v2's design layerize by its
/// `operation` (the schema lists the operations layerize runs on), held
/// under `--max-usd` at v2's price: billed once, on v2, what it cost said
/// in `spent`, its base and design saved; an operation that is not a
/// layerize's is refused, nothing sent.
#[tokio::test]
async fn layerize_text_reaches_v2_and_is_billed_at_its_price() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "poster.png", 64, 48, [200, 80, 40]);
    let image = out.join("poster.png").display().to_string();
    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.20"]).await;
    let wrong = json!({"image": image, "operation": "post_describe_v2_ideogram_3"});
    let (client, refused) = once(client, "layerize_text", wrong).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["billed"], "no", "{refused}");
    assert!(refused.to_string().contains("operation"), "{refused}");

    let v2 = json!({"image": image, "operation": "post_layerize_v2_ideogram_3"});
    let (client, made) = once(client, "layerize_text", v2).await;
    assert_eq!(made["isError"], false, "{made}");
    let answer = &made["structuredContent"];
    assert_eq!(answer["billed"], "yes", "{answer}");
    mock.settled().await;
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].operation, "/v2/design/layerize/ideogram-3");
    let price = entries[0]
        .usd_micros
        .expect("the spec prices v2's layerize");
    assert_eq!(
        answer["spent"],
        format!("${}.{:02}", price / 1_000_000, price % 1_000_000 / 10_000),
        "{answer}"
    );
    let images = answer["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "the base and the design: {answer}");
    for saved in images {
        assert!(
            Path::new(saved["path"].as_str().unwrap()).exists(),
            "{answer}"
        );
    }
    assert!(answer["text_blocks"].is_array(), "{answer}");
    closed(client).await;
}

/// `ideogram --json spend OUT`, run in `dir`.
fn spend_of(out: &Path, dir: &Path) -> Value {
    let spend = common::command(&["--json", "spend", out.to_str().unwrap()], &[], dir)
        .output()
        .unwrap();
    assert_eq!(spend.status.code(), Some(0), "{}", common::stderr(&spend));
    serde_json::from_slice(&spend.stdout).unwrap()
}

/// Issue 27: without `--max-usd` too, every paid tool's call records what
/// it cost (the spec's price where the service says nothing; pricing sends
/// nothing), so `ideogram spend` on the folder equals the ledger: describe
/// (Segmind's, priced) and layerize_text as well as generate.
#[tokio::test]
async fn without_a_budget_every_paid_call_is_recorded_and_spend_equals_the_ledger() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let fox = json!({"prompt": "an unbudgeted fox", "provider": "ideogram", "model": "V_4_5",
                     "quality": "high"});
    let (client, made) = once(client, "generate", fox).await;
    assert_eq!(made["structuredContent"]["billed"], "yes", "{made}");
    let image = path_of(&made).display().to_string();
    let posts = mock.posts_received();
    let described = json!({"image": image, "provider": "segmind"});
    let (client, described) = once(client, "describe", described).await;
    assert_eq!(
        described["structuredContent"]["billed"], "yes",
        "{described}"
    );
    let (client, layers) = once(client, "layerize_text", json!({"image": image})).await;
    assert_eq!(layers["structuredContent"]["billed"], "yes", "{layers}");
    mock.settled().await;
    // Priced from the spec: only the two calls were sent.
    assert_eq!(mock.posts_received(), posts + 2, "{:?}", mock.ledger());
    assert_eq!(mock.ledger().entries.len(), 3, "{:?}", mock.ledger());
    closed(client).await;
    let spend = spend_of(&out, dir.path());
    assert_eq!(spend["usd_micros"], ledger_usd(&mock), "{spend}");
    assert!(spend.get("most_usd_micros").is_none(), "exact: {spend}");
}

/// Issue 27: a Segmind job of a model priced as a range ($0.037 to $0.113
/// for 3.0) is billed an amount no answer gives: `ideogram spend` says the
/// range, never a certain figure other than the ledger's.
#[tokio::test]
async fn a_ranged_job_is_spent_as_its_range_not_as_a_certain_figure() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &[]).await;
    let job = json!({"prompt": "a ranged heron", "model": "V_3"});
    let (client, submitted) = once(client, "job_submit", job).await;
    assert_eq!(
        submitted["structuredContent"]["status"], "QUEUED",
        "{submitted}"
    );
    let id = submitted["structuredContent"]["request_id"].clone();
    let (client, waited) = once(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(waited["isError"], false, "{waited}");
    mock.settled().await;
    closed(client).await;
    let billed = ledger_usd(&mock);
    let spend = spend_of(&out, dir.path());
    let least = spend["usd_micros"].as_u64().unwrap();
    // A range holding what was billed, said as one.
    let most = spend["most_usd_micros"]
        .as_u64()
        .unwrap_or_else(|| panic!("a certain figure, the ledger says {billed}: {spend}"));
    assert!(least <= billed && billed <= most && least < most, "{spend}");
    let usd = spend["usd"].as_str().unwrap();
    assert!(
        usd.contains(&ideogram::dollars(least)) && usd.contains(&ideogram::dollars(most)),
        "{spend}"
    );
}

/// Issue 27: a paid call nothing prices (Ideogram's describe: the spec
/// gives no price, the service says none) is recorded as paid at an
/// unknown price, so neither its answer nor `ideogram spend` says a total
/// that leaves it out as if it were all.
#[tokio::test]
async fn an_unpriced_paid_call_makes_the_spend_at_least() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let client = start(&mock, dir.path(), &out, &["--provider", "ideogram"]).await;
    let (client, made) = once(client, "generate", json!({"prompt": "an unpriced fox"})).await;
    let image = path_of(&made).display().to_string();
    let (client, described) = once(client, "describe", json!({"image": image})).await;
    assert_eq!(
        described["structuredContent"]["billed"], "yes",
        "{described}"
    );
    let spent = described["structuredContent"]["spent"].as_str().unwrap();
    assert!(spent.starts_with("at least "), "{described}");
    mock.settled().await;
    closed(client).await;
    let spend = spend_of(&out, dir.path());
    assert_eq!(spend["unpriced"], 1, "{spend}");
    assert!(
        spend["usd"].as_str().unwrap().starts_with("at least "),
        "{spend}"
    );
}

/// A job queued by `job_submit` is counted at its quote when queued; one
/// that then FAILS, unbilled, is recorded as such (the later word on the
/// job supersedes the queued estimate): the budget has its price back, and
/// `ideogram spend` leaves it out, so both equal the ledger.
#[tokio::test]
async fn a_queued_job_that_fails_unbilled_is_not_spent() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let job = |prompt: &str| json!({"prompt": prompt, "model": "V_2A"});
    // A budget for one job: the failed one's price must come back.
    let client = start(&mock, dir.path(), &out, &[]).await;
    let quote = json!({"tool": "job_submit", "arguments": job("a priced heron")});
    let (client, quoted) = once(client, "quote", quote).await;
    let most = quoted["structuredContent"]["most_usd_micros"]
        .as_u64()
        .unwrap_or_else(|| panic!("{quoted}"));
    closed(client).await;
    let budget = format!("{}.{:06}", most / 1_000_000, most % 1_000_000);
    let client = start(&mock, dir.path(), &out, &["--max-usd", &budget]).await;
    let failing = format!("a heron that fails {}", ideogram_mock::FAIL_TRIGGER);
    let (client, submitted) = once(client, "job_submit", job(&failing)).await;
    assert_eq!(
        submitted["structuredContent"]["status"], "QUEUED",
        "{submitted}"
    );
    let id = submitted["structuredContent"]["request_id"].clone();
    let (client, waited) = once(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(waited["isError"], true, "{waited}");
    assert_eq!(waited["structuredContent"]["billed"], "no", "{waited}");
    assert_eq!(waited["structuredContent"]["spent"], "$0.00", "{waited}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 0, "{:?}", mock.ledger());
    // The budget has the failed job's price back: the next one is sent.
    let (client, next) = once(client, "job_submit", job("a heron that runs")).await;
    assert_eq!(next["structuredContent"]["status"], "QUEUED", "{next}");
    let id = next["structuredContent"]["request_id"].clone();
    let (client, waited) = once(client, "job_wait", json!({"request_id": id})).await;
    assert_eq!(waited["isError"], false, "{waited}");
    mock.settled().await;
    closed(client).await;
    let spend = spend_of(&out, dir.path());
    assert_eq!(spend["usd_micros"], ledger_usd(&mock), "{spend}");
    assert_eq!(spend["usd_micros"], most, "{spend}");
}

/// Starts `ideogram mcp` on `out` (no budget), makes `tool` with
/// `arguments` wait at the mock, and kills the server (`kill -9`) once
/// the call's `sending` entry is journaled: its outcome unknown.
async fn killed_in_flight(
    mock: &ideogram_mock::MockServer,
    dir: &Path,
    (out, extra): (&Path, &[&str]),
    (tool, arguments): (&'static str, Value),
) {
    use ideogram_mock::{Fault, Target};
    let client = start(mock, dir, out, extra).await;
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(Duration::from_secs(5)),
    );
    let client = tokio::task::spawn_blocking(move || {
        let mut client = client;
        client.start_call(tool, arguments);
        client
    })
    .await
    .unwrap();
    common::file_holds(&out.join(".ideogram-mcp.jsonl"), "\"sending\"", 1).await;
    tokio::task::spawn_blocking(move || client.killed())
        .await
        .unwrap();
    mock.clear_faults();
}

/// A describe or layerize_text killed in flight on a server without a
/// budget may have been billed: `ideogram spend` and the server started
/// again count it, at its most where a price is known (the spec's, for
/// layerize) and as a call at a price not known otherwise (Ideogram's
/// describe): never as nothing.
#[tokio::test]
async fn a_call_killed_in_flight_without_a_budget_is_counted_as_maybe_billed() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    common::write_png(dir.path(), "poster.png", 64, 48, [200, 80, 40]);
    let image = dir.path().join("poster.png").display().to_string();
    let read = ["--read", dir.path().to_str().unwrap()];

    // Ideogram's describe: no price known.
    let out = dir.path().join("described");
    let describe = json!({"image": image, "provider": "ideogram"});
    let client = start(&mock, dir.path(), &out, &read).await;
    closed(client).await;
    killed_in_flight(&mock, dir.path(), (&out, &read), ("describe", describe)).await;
    let spend = spend_of(&out, dir.path());
    assert_eq!(spend["unpriced"], 1, "{spend}");
    assert!(
        spend["usd"].as_str().unwrap().starts_with("at least "),
        "{spend}"
    );
    let client = start(&mock, dir.path(), &out, &read).await;
    let quote =
        json!({"tool": "generate", "arguments": {"prompt": "a fox", "provider": "ideogram"}});
    let (client, quoted) = once(client, "quote", quote).await;
    assert_eq!(
        quoted["structuredContent"]["spent"], "at least $0.00",
        "{quoted}"
    );
    closed(client).await;

    // layerize_text: priced by the spec, so counted up to that price.
    let out = dir.path().join("layered");
    let layerize = json!({"image": image});
    let client = start(&mock, dir.path(), &out, &read).await;
    let (client, quoted) = once(
        client,
        "quote",
        json!({"tool": "layerize_text", "arguments": layerize}),
    )
    .await;
    closed(client).await;
    killed_in_flight(
        &mock,
        dir.path(),
        (&out, &read),
        ("layerize_text", layerize),
    )
    .await;
    let spend = spend_of(&out, dir.path());
    assert_eq!(spend["usd_micros"], 0, "{spend}");
    let most = spend["most_usd_micros"]
        .as_u64()
        .unwrap_or_else(|| panic!("counted as nothing: {spend}"));
    let quoted = quoted["structuredContent"]["most_usd_micros"]
        .as_u64()
        .unwrap_or_else(|| panic!("{quoted}"));
    assert_eq!(most, quoted, "{spend}");
}

/// Two servers on one folder keep to one `--max-usd` together: each
/// budget decision reads what the folder's journals record now, so a
/// server started before the other spent counts that spend.
#[tokio::test]
async fn two_servers_on_one_folder_keep_to_its_budget_together() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    // Ideogram 4.5 at high quality: $0.10 an image, the service's price.
    let fox = |prompt: &str, images: u32| {
        json!({"prompt": prompt, "provider": "ideogram", "model": "V_4_5",
               "quality": "high", "num_images": images})
    };
    let budget = ["--max-usd", "0.25"];
    let one = start(&mock, dir.path(), &out, &budget).await;
    let two = start(&mock, dir.path(), &out, &budget).await;
    let (one, first) = once(one, "generate", fox("a fox on the first server", 2)).await;
    assert_eq!(first["structuredContent"]["billed"], "yes", "{first}");
    let (two, over) = once(two, "generate", fox("a fox on the second server", 1)).await;
    assert_eq!(over["isError"], true, "{over}");
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    assert_eq!(over["structuredContent"]["spent"], "$0.20", "{over}");
    assert_eq!(over["structuredContent"]["left"], "$0.05", "{over}");
    mock.settled().await;
    assert_eq!(
        mock.ledger()
            .for_prompt("a fox on the second server")
            .count(),
        0
    );
    assert_eq!(ledger_usd(&mock), 200_000);
    for client in [one, two] {
        closed(client).await;
    }
}

/// `quote` prices describe and layerize_text as their calls are held
/// under a budget (the spec's price; Ideogram's dry run where it takes
/// one), sending nothing that bills; a describe nothing prices (Ideogram's)
/// is said to have no known price, not priced at nothing.
#[tokio::test]
async fn quote_prices_describe_and_layerize_text_or_says_no_price_is_known() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    std::fs::create_dir_all(&out).unwrap();
    common::write_png(&out, "poster.png", 64, 48, [200, 80, 40]);
    let image = out.join("poster.png").display().to_string();
    let client = start(&mock, dir.path(), &out, &[]).await;
    let quote = |tool: &str, arguments: Value| json!({"tool": tool, "arguments": arguments});
    let segmind = quote("describe", json!({"image": image, "provider": "segmind"}));
    let (client, described) = once(client, "quote", segmind).await;
    assert_eq!(described["isError"], false, "{described}");
    assert!(
        described["structuredContent"]["usd_micros"].as_u64() > Some(0),
        "{described}"
    );
    let (client, layered) = once(
        client,
        "quote",
        quote("layerize_text", json!({"image": image})),
    )
    .await;
    assert_eq!(layered["isError"], false, "{layered}");
    assert_eq!(layered["structuredContent"]["billed"], "no", "{layered}");
    let ideogram = quote("describe", json!({"image": image, "provider": "ideogram"}));
    let (client, unpriced) = once(client, "quote", ideogram).await;
    assert_eq!(unpriced["isError"], true, "{unpriced}");
    assert_eq!(unpriced["structuredContent"]["billed"], "no", "{unpriced}");
    assert!(
        unpriced.to_string().contains("no price known"),
        "{unpriced}"
    );
    // What layerize_text is then billed is what its quote said.
    let (client, made) = once(client, "layerize_text", json!({"image": image})).await;
    assert_eq!(made["structuredContent"]["billed"], "yes", "{made}");
    mock.settled().await;
    let entries = mock.ledger().entries;
    assert_eq!(entries.len(), 1, "only the layerize billed: {entries:?}");
    assert_eq!(
        entries[0].usd_micros,
        layered["structuredContent"]["usd_micros"].as_u64(),
        "{layered}"
    );
    closed(client).await;
}

/// A server whose every call was refused unsent (over its budget, a
/// keyed one among them) leaves no folder it made: its journal, the
/// folder's lock and its key locks go with it. A server that sent a call
/// keeps its folder, as one that was there stays.
#[tokio::test]
async fn a_server_that_sent_nothing_leaves_no_folder_it_made() {
    let mock = common::mock(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new").join("images");
    let fox = |key: &str| {
        json!({"prompt": "a fox over budget", "provider": "ideogram", "model": "V_4_5",
               "quality": "high", "idempotency_key": key})
    };
    let client = start(&mock, dir.path(), &out, &["--max-usd", "0.01"]).await;
    let (client, over) = once(client, "generate", fox("k-1")).await;
    assert_eq!(over["structuredContent"]["billed"], "no", "{over}");
    assert!(out.join(".ideogram-mcp.jsonl").exists());
    closed(client).await;
    let left = dir.path().join("new");
    let left = left.exists().then(|| common::walk(&left));
    assert!(left.is_none(), "left behind: {left:?}");

    // One that sent a call keeps its folder.
    let client = start(&mock, dir.path(), &out, &[]).await;
    let (client, made) = once(client, "generate", fox("k-2")).await;
    assert_eq!(made["structuredContent"]["billed"], "yes", "{made}");
    closed(client).await;
    assert!(out.join(".ideogram-mcp.jsonl").exists());
    assert!(path_of(&made).exists(), "{made}");
    mock.settled().await;
    assert_eq!(mock.ledger().entries.len(), 1, "{:?}", mock.ledger());
}

//! `ideogram mcp` as a second MCP implementation sees it: rmcp's own
//! client, over a child process, typed end to end. (`mcp.rs` writes raw
//! JSON-RPC lines; `tests/python/mcp_client.py` drives it with the official
//! Python SDK.) What one implementation lets pass, another may not: the
//! negotiated revision, tools that parse into rmcp's `Tool`, results that
//! hold to their `outputSchema`, progress tokens, and rmcp's own
//! cancellation of a call already sent.

// The note on a cancelled call is a log notification, which the 2026-07-28
// revision deprecates (SEP-2577) and rmcp marks so; the server sends it.
#![allow(deprecated)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine as _;
use ideogram::raw::schema::Schemas;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest,
    LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken, ProtocolVersion,
    ReadResourceRequestParams, ResourceContents, ServerResult, Tool,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use serde_json::{Map, Value, json};
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// What the server told this client besides answers.
#[derive(Clone)]
struct Heard {
    progress: UnboundedSender<ProgressNotificationParam>,
    logs: UnboundedSender<LoggingMessageNotificationParam>,
}

impl ClientHandler for Heard {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.progress.send(params);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.logs.send(params);
    }
}

/// `ideogram mcp` with rmcp's client connected to it.
struct Session {
    client: RunningService<RoleClient, Heard>,
    progress: UnboundedReceiver<ProgressNotificationParam>,
    logs: UnboundedReceiver<LoggingMessageNotificationParam>,
    /// The server's stderr, whole once it has ended.
    stderr: tokio::task::JoinHandle<String>,
}

impl Session {
    /// Starts the binary with `args` (and only the keys in `env`) and runs
    /// rmcp's handshake with it.
    async fn start(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Self {
        let command = tokio::process::Command::from(common::command(args, env, dir));
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ideogram mcp");
        let mut stderr = stderr.expect("stderr piped");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let (progress_tx, progress) = unbounded_channel();
        let (logs_tx, logs) = unbounded_channel();
        let heard = Heard {
            progress: progress_tx,
            logs: logs_tx,
        };
        let client = common::within("the initialize handshake", heard.serve(transport))
            .await
            .expect("initialize");
        Self {
            client,
            progress,
            logs,
            stderr,
        }
    }

    /// Sends `tools/call` for `tool` and returns its handle (rmcp gives
    /// every request a progress token).
    async fn start_call(
        &self,
        tool: &'static str,
        arguments: Value,
    ) -> rmcp::service::RequestHandle<RoleClient> {
        let Value::Object(arguments) = arguments else {
            panic!("arguments are an object");
        };
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(
            CallToolRequestParams::new(tool).with_arguments(arguments),
        ));
        self.client
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .expect("request sent")
    }

    /// Ends the session (stdin closed) and returns the server's stderr,
    /// which must hold no panic.
    async fn close(self) -> String {
        let _ = common::within("the session to end", self.client.cancel()).await;
        let stderr = common::within("the server to end", self.stderr)
            .await
            .expect("stderr reader");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

/// A tool's answer, as rmcp parses it.
async fn answer(handle: rmcp::service::RequestHandle<RoleClient>) -> CallToolResult {
    match common::within("the call's answer", handle.await_response())
        .await
        .expect("an answer")
    {
        ServerResult::CallToolResult(result) => result,
        other => panic!("not a tool result: {other:?}"),
    }
}

/// `structured` holds to `schema`, read by the project's JSON Schema
/// checker (the one calls are checked with), and, read by hand, has every
/// key the schema requires.
fn holds_to(schema: &Map<String, Value>, structured: &Value) {
    assert_eq!(schema.get("type"), Some(&json!("object")), "{schema:?}");
    if let Err(violation) =
        Schemas::document(Value::Object(schema.clone())).check_document(structured)
    {
        panic!("{structured} does not hold to {schema:?}: {violation}");
    }
    let object = structured
        .as_object()
        .expect("structuredContent is an object");
    for key in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = key.as_str().expect("required names a key");
        assert!(object.contains_key(key), "{key} missing from {structured}");
    }
}

/// The path of the first image `structured` lists.
fn first_image(structured: &Value) -> PathBuf {
    PathBuf::from(
        structured["images"][0]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("no image: {structured}")),
    )
}

/// The bytes of the resource named `name` in `resources/list`, by
/// `resources/read`.
async fn resource_bytes(session: &Session, name: &str) -> Vec<u8> {
    let listed = common::within("resources/list", session.client.list_all_resources())
        .await
        .expect("resources/list");
    let resource = listed
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} not listed: {listed:?}"));
    let read = common::within(
        "resources/read",
        session
            .client
            .read_resource(ReadResourceRequestParams::new(resource.uri.clone())),
    )
    .await
    .expect("resources/read");
    match read.contents.as_slice() {
        [
            ResourceContents::BlobResourceContents {
                blob, mime_type, ..
            },
        ] => {
            assert_eq!(mime_type.as_ref(), resource.mime_type.as_ref());
            base64::engine::general_purpose::STANDARD
                .decode(blob)
                .expect("base64")
        }
        other => panic!("not one blob: {other:?}"),
    }
}

/// The progress notifications heard so far for `token`.
fn progress_for(
    heard: &mut UnboundedReceiver<ProgressNotificationParam>,
    token: &ProgressToken,
) -> Vec<ProgressNotificationParam> {
    let mut mine = Vec::new();
    while let Ok(progress) = heard.try_recv() {
        if progress.progress_token == *token {
            mine.push(progress);
        }
    }
    mine
}

#[tokio::test]
async fn rmcp_client_negotiates_lists_calls_and_reads_offline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let mut session = Session::start(
        &["mcp", "--offline", "--out", out.to_str().unwrap()],
        &[],
        dir.path(),
    )
    .await;

    // The revision negotiated is the one the book names: the newest with
    // `initialize`, though rmcp's client asks for its latest.
    let info = session.client.peer_info().expect("server info");
    assert_eq!(
        info.protocol_version,
        ProtocolVersion::LATEST_WITH_INITIALIZE
    );
    let book = include_str!("../../../docs/src/agents.md");
    let revision = info.protocol_version.to_string();
    assert!(
        book.contains(&revision),
        "docs/src/agents.md does not name {revision}"
    );
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("ideogram")
    );

    // tools/list parses into rmcp's typed tools, each with both schemas.
    let tools: Vec<Tool> = common::within("tools/list", session.client.list_all_tools())
        .await
        .expect("tools/list");
    for name in ["generate", "describe", "job_wait", "models"] {
        assert!(tools.iter().any(|t| t.name == name), "no {name}: {tools:?}");
    }
    for tool in &tools {
        assert_eq!(
            tool.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no outputSchema", tool.name));
        assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
    }
    let generate = tools.iter().find(|t| t.name == "generate").unwrap();

    // An integer sent as text, as some clients send every number, is read
    // as the integer; the result holds to the published outputSchema.
    let handle = session
        .start_call(
            "generate",
            json!({"prompt": "a fox through rmcp", "seed": "4242"}),
        )
        .await;
    let token = handle.progress_token.clone();
    let result = answer(handle).await;
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let structured = result
        .structured_content
        .clone()
        .expect("structuredContent");
    holds_to(generate.output_schema.as_ref().unwrap(), &structured);
    assert_eq!(structured["billed"], "yes", "{structured}");
    assert_eq!(structured["images"][0]["seed"], 4242, "{structured}");
    let path = first_image(&structured);
    let content = serde_json::to_value(&result.content).unwrap();
    assert!(
        content
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "image"),
        "no thumbnail: {content}"
    );

    // Progress came for the call's own token, counting up.
    let mut heard = progress_for(&mut session.progress, &token);
    while heard.is_empty() {
        let progress = common::within("a progress notification", session.progress.recv())
            .await
            .expect("progress");
        if progress.progress_token == token {
            heard.push(progress);
        }
    }
    assert!(
        heard.windows(2).all(|w| w[0].progress < w[1].progress),
        "{heard:?}"
    );

    // The saved image is a resource, its bytes those on disk.
    let name = path.file_name().unwrap().to_str().unwrap();
    let bytes = resource_bytes(&session, name).await;
    assert_eq!(bytes, std::fs::read(&path).unwrap());

    session.close().await;
}

#[tokio::test]
async fn a_call_cancelled_by_rmcp_after_sending_is_saved_said_and_listed() {
    use ideogram_mock::{Fault, Target};
    let mock = common::mock(Default::default()).await;
    // The paid POST answers late, so the cancel reaches the server while
    // the request is with the service. (The offline mock's latency is too
    // short to cancel within reliably.)
    mock.inject(
        Target::Method("POST".into()),
        Fault::SlowHeaders(std::time::Duration::from_secs(3)),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let key = mock.api_key();
    let mut session = Session::start(
        &[
            "mcp",
            "--out",
            out.to_str().unwrap(),
            "--base-url",
            mock.api_url(),
        ],
        &[("IDEOGRAM_API_KEY", &key)],
        dir.path(),
    )
    .await;

    let prompt = "a fox cancelled through rmcp";
    let handle = session
        .start_call(
            "generate",
            json!({"prompt": prompt, "provider": "ideogram", "idempotency_key": "rmcp-cancel"}),
        )
        .await;
    let token = handle.progress_token.clone();
    common::file_holds(&out.join(".ideogram-mcp.jsonl"), "\"sending\"", 1).await;
    common::within("the cancel to be sent", handle.cancel(Some("test".into())))
        .await
        .expect("cancelled");

    // Sent, so not abandoned: saved, and a log notification says where.
    let log = common::within("the log notification", session.logs.recv())
        .await
        .expect("a log notification");
    let path = first_image(&log.data["result"]);
    let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {}",
        path.display()
    );
    mock.settled().await;
    assert_eq!(mock.ledger().for_prompt(prompt).count(), 1);
    // Progress stopped with the cancel: nothing said of the saving.
    let heard = progress_for(&mut session.progress, &token);
    assert!(
        heard
            .iter()
            .all(|p| !p.message.as_deref().unwrap_or_default().contains("saving")),
        "{heard:?}"
    );

    // It is a resource, read back whole.
    let name = path.file_name().unwrap().to_str().unwrap();
    let bytes = resource_bytes(&session, name).await;
    assert_eq!(bytes, png);

    let stderr = session.close().await;
    assert!(stderr.contains("no longer waited for"), "{stderr}");
}

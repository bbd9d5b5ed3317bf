//! MCP over stdio, line by line: a JSON-RPC message per line in, one per
//! line out, with the protocol's answers to what is not a message and a
//! bound on what waits to be written.
//!
//! rmcp's own stdio transport ignores a line that is not JSON (the client
//! waits for its own timeout), answers other bad messages without their
//! id, and spawns a write per answer however many are unread. This one:
//!
//! - answers a line that does not parse (not JSON, half of it, two objects,
//!   invalid UTF-8, a lone surrogate) with -32700 and `id: null`, a message
//!   of the wrong shape with -32600, and a known method whose params do not
//!   fit with -32602, each with the request's id when it has one, and says
//!   so on stderr with `-v`;
//! - reads a request only while fewer than [`MAX_UNANSWERED`] are waiting
//!   for their answers to be written: a client that stops reading stdout
//!   stops the server reading stdin, instead of answers piling up;
//! - reads stdin and writes stdout on threads of their own, not on the
//!   runtime's blocking pool: a read waiting on a stdin that never closes,
//!   or a write to a stdout nobody reads, never keeps the process from
//!   ending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, RequestId};
use rmcp::service::{RoleServer, TxJsonRpcMessage};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

/// The most requests read and not yet answered on stdout.
pub(super) const MAX_UNANSWERED: usize = 64;

/// The longest line read, in bytes; a longer one is skipped and answered
/// -32600 (its id cannot be known without reading it whole).
pub(super) const MAX_LINE: usize = 16 << 20;

/// The request methods of MCP's client (the 2025-11-25 revision's and
/// 2026-07-28's): for these, a message rmcp cannot read is a request with
/// bad params (-32602), not an unknown method.
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/templates/list",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tasks/cancel",
];

/// A line read from stdin.
enum Line {
    Text(Vec<u8>),
    /// Longer than [`MAX_LINE`] (skipped to its end).
    TooLong,
}

/// A line to write on stdout, with the slot of the request it answers.
struct Outgoing {
    line: Vec<u8>,
    _answers: Option<OwnedSemaphorePermit>,
}

/// The transport rmcp runs on.
pub(super) struct Stdio {
    lines: mpsc::Receiver<Line>,
    out: mpsc::Sender<Outgoing>,
    /// One permit per request read and not yet answered on stdout.
    unanswered: Arc<Semaphore>,
    /// The permits of requests read, by id, until their answer is written.
    waiting: Arc<Mutex<HashMap<String, OwnedSemaphorePermit>>>,
    /// An answer of ours not yet queued (the writer's queue was full).
    reply: Option<Outgoing>,
}

/// What is left of stdout once the session ends: whether every answer was
/// written.
pub(super) struct Written(watch::Receiver<bool>);

impl Written {
    /// Waits at most `deadline` for every answer queued to be written;
    /// false when stdout still blocks then (nobody reads it).
    pub(super) async fn flushed(mut self, deadline: Duration) -> bool {
        tokio::time::timeout(deadline, self.0.wait_for(|done| *done))
            .await
            .is_ok_and(|done| done.is_ok())
    }
}

/// The stdio transport, and what tells when its last answer is written.
pub(super) fn stdio() -> (Stdio, Written) {
    let (lines_in, lines) = mpsc::channel(1);
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || read_lines(&mut std::io::stdin().lock(), &lines_in))
        .expect("a thread for stdin");
    let (out, queue) = mpsc::channel(MAX_UNANSWERED);
    let (done, written) = watch::channel(false);
    std::thread::Builder::new()
        .name("mcp-stdout".into())
        .spawn(move || write_lines(&mut std::io::stdout().lock(), queue, &done))
        .expect("a thread for stdout");
    let transport = Stdio {
        lines,
        out,
        unanswered: Arc::new(Semaphore::new(MAX_UNANSWERED)),
        waiting: Arc::default(),
        reply: None,
    };
    (transport, Written(written))
}

/// Reads lines (bounded) until stdin ends or nobody takes them.
fn read_lines(input: &mut impl std::io::BufRead, lines: &mpsc::Sender<Line>) {
    let mut line = Vec::new();
    let mut skipping = false;
    loop {
        let (used, ended) = match input.fill_buf() {
            Ok([]) => return,
            Ok(available) => {
                let newline = available.iter().position(|b| *b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                if !skipping {
                    if line.len() + take > MAX_LINE {
                        skipping = true;
                        line = Vec::new();
                    } else {
                        line.extend_from_slice(&available[..take]);
                    }
                }
                (take, newline.is_some())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!("mcp: cannot read stdin: {e}");
                return;
            }
        };
        input.consume(used);
        if ended {
            let read = if skipping {
                Line::TooLong
            } else {
                Line::Text(std::mem::take(&mut line))
            };
            skipping = false;
            if lines.blocking_send(read).is_err() {
                return;
            }
        }
    }
}

/// Writes queued lines until every sender is gone, then says so.
fn write_lines(
    output: &mut impl std::io::Write,
    mut queue: mpsc::Receiver<Outgoing>,
    done: &watch::Sender<bool>,
) {
    while let Some(outgoing) = queue.blocking_recv() {
        if let Err(e) = output
            .write_all(&outgoing.line)
            .and_then(|()| output.flush())
        {
            tracing::warn!("mcp: cannot write stdout: {e}");
            break;
        }
    }
    done.send_replace(true);
}

/// What a line read is.
#[derive(Debug)]
enum Read {
    /// A message for rmcp; `Some(id)` when it is a request to answer.
    Message(Box<ClientJsonRpcMessage>, Option<String>),
    /// Not a message rmcp can take: this error answers it.
    Answer(Value),
    /// Nothing to answer (an empty line, a notification or response that
    /// cannot be read).
    Skip,
}

/// A JSON-RPC error answer.
fn error(id: Option<&Value>, code: i32, message: String) -> Value {
    tracing::warn!("mcp: answered {code}: {message}");
    json!({"jsonrpc": "2.0", "id": id.cloned().unwrap_or(Value::Null),
           "error": {"code": code, "message": message}})
}

/// A request id's text, as a key.
fn id_key(id: &RequestId) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

/// Reads one line as JSON-RPC.
fn classify(line: &[u8]) -> Read {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Read::Skip;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(value) => value,
        Err(e) => return Read::Answer(error(None, -32700, format!("Parse error: {e}"))),
    };
    let Value::Object(fields) = &value else {
        return Read::Answer(error(
            None,
            -32600,
            "Invalid Request: a message is one JSON object (batches are not part of MCP)".into(),
        ));
    };
    let id = fields.get("id");
    let id_ok = match id {
        None => true,
        Some(Value::String(_)) => true,
        Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
        Some(_) => false,
    };
    if !id_ok {
        return Read::Answer(error(
            None,
            -32600,
            "Invalid Request: id must be a string or an integer".into(),
        ));
    }
    if fields.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return match id {
            Some(id) => Read::Answer(error(
                Some(id),
                -32600,
                "Invalid Request: jsonrpc must be \"2.0\"".into(),
            )),
            None => {
                tracing::warn!("mcp: skipped a message without jsonrpc \"2.0\"");
                Read::Skip
            }
        };
    }
    let method = match fields.get("method") {
        None => None,
        Some(Value::String(method)) => Some(method.clone()),
        Some(_) => {
            return match id {
                Some(id) => Read::Answer(error(
                    Some(id),
                    -32600,
                    "Invalid Request: method must be a string".into(),
                )),
                None => Read::Skip,
            };
        }
    };
    let known = method.as_deref().is_some_and(|m| METHODS.contains(&m));
    match serde_json::from_value::<ClientJsonRpcMessage>(value.clone()) {
        Ok(JsonRpcMessage::Request(request))
            if known && matches!(request.request, ClientRequest::CustomRequest(_)) =>
        {
            // rmcp reads a known method whose params do not fit as a custom
            // request, and would answer "method not found".
            let method = method.unwrap_or_default();
            Read::Answer(error(
                id,
                -32602,
                format!(
                    "Invalid params for {method}: {}",
                    params_error(&method, &value)
                ),
            ))
        }
        Ok(JsonRpcMessage::Request(request)) => {
            let key = id_key(&request.id);
            Read::Message(Box::new(JsonRpcMessage::Request(request)), Some(key))
        }
        Ok(message) => Read::Message(Box::new(message), None),
        Err(e) => match (id, method) {
            (Some(id), Some(method)) if known => Read::Answer(error(
                Some(id),
                -32602,
                format!("Invalid params for {method}: {e}"),
            )),
            (Some(id), _) => Read::Answer(error(Some(id), -32600, format!("Invalid Request: {e}"))),
            (None, method) => {
                tracing::warn!(
                    "mcp: skipped a notification or response that cannot be read ({}): {e}",
                    method.as_deref().unwrap_or("no method")
                );
                Read::Skip
            }
        },
    }
}

/// Why `tools/call`'s params do not fit, in serde's words; a plain
/// sentence for the other methods.
fn params_error(method: &str, value: &Value) -> String {
    let params = value.get("params").cloned().unwrap_or(Value::Null);
    if method == "tools/call"
        && let Err(e) = serde_json::from_value::<rmcp::model::CallToolRequestParams>(params)
    {
        return e.to_string();
    }
    "they do not fit the method".into()
}

impl rmcp::transport::Transport<RoleServer> for Stdio {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answers = match &item {
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            _ => None,
        }
        .and_then(|id| self.waiting.lock().expect("waiting").remove(&id_key(id)));
        let line = serde_json::to_vec(&item).map(|mut line| {
            line.push(b'\n');
            line
        });
        let out = self.out.clone();
        async move {
            let line = line.map_err(std::io::Error::other)?;
            out.send(Outgoing {
                line,
                _answers: answers,
            })
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed"))
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            if let Some(reply) = self.reply.take() {
                // Cancel-safe: the reply stays here until its place is had.
                let Ok(permit) = self.out.reserve().await else {
                    return None;
                };
                permit.send(reply);
            }
            let slot = self.unanswered.clone().acquire_owned().await.ok()?;
            let line = match self.lines.recv().await? {
                Line::Text(line) => line,
                Line::TooLong => {
                    let answer = error(
                        None,
                        -32600,
                        format!("Invalid Request: a line longer than {MAX_LINE} bytes"),
                    );
                    self.queue(&answer, slot);
                    continue;
                }
            };
            match classify(&line) {
                Read::Message(message, Some(id)) => {
                    self.waiting.lock().expect("waiting").insert(id, slot);
                    return Some(*message);
                }
                Read::Message(message, None) => {
                    if let JsonRpcMessage::Notification(notification) = &*message
                        && let rmcp::model::ClientNotification::CancelledNotification(cancelled) =
                            &notification.notification
                        && let Some(id) = &cancelled.params.request_id
                    {
                        // rmcp writes no answer to a cancelled request.
                        self.waiting.lock().expect("waiting").remove(&id_key(id));
                    }
                    return Some(*message);
                }
                Read::Answer(answer) => self.queue(&answer, slot),
                Read::Skip => {}
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.lines.close();
        Ok(())
    }
}

impl Stdio {
    /// Queues an answer of ours (written before the next line is read).
    fn queue(&mut self, answer: &Value, slot: OwnedSemaphorePermit) {
        let mut line = answer.to_string().into_bytes();
        line.push(b'\n');
        let outgoing = Outgoing {
            line,
            _answers: Some(slot),
        };
        if let Err(mpsc::error::TrySendError::Full(outgoing)) = self.out.try_send(outgoing) {
            self.reply = Some(outgoing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to(line: &[u8]) -> Value {
        match classify(line) {
            Read::Answer(answer) => answer,
            other => panic!("{}: {other:?}", String::from_utf8_lossy(line)),
        }
    }

    #[test]
    fn what_does_not_parse_is_answered_with_a_null_id() {
        for line in [
            &b"not json"[..],
            b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\"",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\xfe\"}",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\\ud800\"}",
        ] {
            let answer = reply_to(line);
            assert_eq!(answer["error"]["code"], -32700, "{answer}");
            assert_eq!(answer["id"], Value::Null, "{answer}");
        }
    }

    #[test]
    fn bad_requests_are_answered_with_their_id() {
        let answer = reply_to(br#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#);
        assert_eq!(answer["error"]["code"], -32600, "{answer}");
        assert_eq!(answer["id"], 7);
        let answer = reply_to(
            br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"arguments":3}}"#,
        );
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        assert_eq!(answer["id"], "a");
        let answer = reply_to(br#"{"jsonrpc":"2.0","id":8,"method":7}"#);
        assert_eq!(answer["error"]["code"], -32600, "{answer}");
        assert_eq!(answer["id"], 8);
        let answer = reply_to(b"[]");
        assert_eq!(answer["error"]["code"], -32600, "{answer}");
        assert!(matches!(classify(b"\n"), Read::Skip));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#),
            Read::Message(_, Some(_))
        ));
    }

    #[test]
    fn lines_are_read_whole_and_bounded() {
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.push(b'\n');
        long.extend_from_slice(b"{}\nlast");
        let (send, mut lines) = mpsc::channel(4);
        let reader = std::thread::spawn(move || {
            read_lines(&mut std::io::BufReader::new(&long[..]), &send);
        });
        assert!(matches!(lines.blocking_recv(), Some(Line::TooLong)));
        assert!(matches!(lines.blocking_recv(), Some(Line::Text(t)) if t == b"{}\n"));
        // A last line without its newline is not a message.
        assert!(lines.blocking_recv().is_none());
        reader.join().unwrap();
    }
}

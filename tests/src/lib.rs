//! Helpers for the cross-crate tests: a loopback server that records every
//! request it receives and answers with whatever the test tells it to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Captured {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Every header, names lower-case.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl Captured {
    /// A header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The record the wire snapshots pin: method, path, which auth header was
    /// sent (its name, never its value), content type and the body, decoded
    /// (JSON as JSON, multipart as its parts).
    pub fn wire_record(&self) -> Value {
        let auth: Vec<&str> = ["x-api-key", "api-key", "authorization"]
            .into_iter()
            .filter(|name| self.headers.contains_key(*name))
            .collect();
        let content_type = self.header("content-type").unwrap_or_default();
        let body = if content_type.starts_with("multipart/form-data") {
            multipart_parts(content_type, &self.body)
        } else if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body).expect("JSON body")
        };
        let content_type = content_type.split(';').next().unwrap_or_default();
        json!({
            "method": self.method,
            "path": self.path,
            "auth_headers": auth,
            "content_type": content_type,
            "accept": self.header("accept"),
            "body": body,
        })
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Canned {
    /// The status code.
    pub status: u16,
    /// Extra headers (content type included).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Canned {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A binary answer with `content_type`.
    pub fn bytes(status: u16, content_type: &str, body: &[u8]) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Responder = dyn Fn(&Captured) -> Canned + Send + Sync;

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Captured>>>,
    respond: Arc<Responder>,
}

/// A recording server on an ephemeral loopback port; it stops when dropped.
pub struct CaptureServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CaptureServer {
    /// Starts a server answering every request with `respond(request)`.
    pub async fn start(respond: impl Fn(&Captured) -> Canned + Send + Sync + 'static) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), respond).await
    }

    /// Starts a server on `addr` (a loopback address, port 0 for any).
    pub async fn start_on(
        addr: SocketAddr,
        respond: impl Fn(&Captured) -> Canned + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            seen: seen.clone(),
            respond: Arc::new(respond),
        };
        let app = Router::new().fallback(record).with_state(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { addr, seen, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.seen.lock().expect("lock").clone()
    }

    /// The only request received; panics if there was not exactly one.
    pub fn single_request(&self) -> Captured {
        let seen = self.requests();
        assert_eq!(seen.len(), 1, "expected exactly one request, got {seen:#?}");
        seen.into_iter().next().expect("one request")
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let captured = Captured {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    let canned = (shared.respond)(&captured);
    shared.seen.lock().expect("lock").push(captured);
    let mut response = (
        StatusCode::from_u16(canned.status).expect("status"),
        canned.body,
    )
        .into_response();
    for (name, value) in canned.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::try_from(name).expect("header name"),
            value.parse().expect("header value"),
        );
    }
    response
}

/// Splits a multipart body into its parts, each with its name, file name,
/// content type and body (as JSON when JSON, else as text when text, else by
/// length), so snapshots do not depend on the random boundary.
fn multipart_parts(content_type: &str, body: &[u8]) -> Value {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("multipart boundary")
        .trim_matches('"');
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in text.split(delimiter.as_str()).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.trim_start_matches("\r\n");
        let (head, content) = chunk.split_once("\r\n\r\n").expect("part headers");
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let mut part = serde_json::Map::new();
        for line in head.lines() {
            let (name, value) = line.split_once(':').expect("part header");
            match name.to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for attr in value.split(';').skip(1) {
                        let (k, v) = attr.trim().split_once('=').expect("disposition attribute");
                        part.insert(k.to_owned(), json!(v.trim_matches('"')));
                    }
                }
                "content-type" => {
                    part.insert("content_type".into(), json!(value.trim()));
                }
                _ => {}
            }
        }
        let binary = content
            .chars()
            .any(|c| c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()));
        let value = match serde_json::from_str::<Value>(content) {
            Ok(json) => json,
            Err(_) if binary => json!("<binary>"),
            Err(_) => json!(content),
        };
        part.insert("content".into(), value);
        parts.push(Value::Object(part));
    }
    Value::Array(parts)
}

/// `(width, height)` of a PNG, or of a JPEG's first frame; panics on
/// anything else.
pub fn image_dimensions(image: &[u8]) -> (u32, u32) {
    if image.starts_with(b"\x89PNG") {
        let be = |i: usize| u32::from_be_bytes(image[i..i + 4].try_into().expect("IHDR"));
        return (be(16), be(20));
    }
    assert!(image.starts_with(&[0xff, 0xd8]), "neither PNG nor JPEG");
    let mut i = 2;
    while i + 9 < image.len() {
        let len = usize::from(u16::from_be_bytes([image[i + 2], image[i + 3]]));
        if (0xc0..=0xc2).contains(&image[i + 1]) {
            let be16 = |j: usize| u32::from(u16::from_be_bytes([image[j], image[j + 1]]));
            return (be16(i + 7), be16(i + 5));
        }
        i += 2 + len;
    }
    panic!("no JPEG frame header")
}

/// A loopback server that answers every connection with `head` (a status
/// line and headers, chunked) and then an endless body of `chunk`, until the
/// client hangs up or `max_chunks` are sent in all. Returns its base URL, the
/// count of chunks sent so far, and the server's task (abort it when done).
pub async fn endless_server(
    head: &'static str,
    chunk: Vec<u8>,
    max_chunks: u64,
) -> (
    String,
    Arc<std::sync::atomic::AtomicU64>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 8192];
            let _ = socket.read(&mut request).await;
            let head = format!("{head}\r\ntransfer-encoding: chunked\r\n\r\n");
            if socket.write_all(head.as_bytes()).await.is_err() {
                continue;
            }
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while counter.load(Ordering::SeqCst) < max_chunks {
                if socket.write_all(&framed).await.is_err() {
                    break;
                }
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (format!("http://{addr}"), sent, task)
}

/// A loopback server that answers one connection with `head` (a status
/// line and headers), `content-length: declared`, then a body of `chunk`s
/// until `declared` bytes are sent or the client hangs up. Returns its base
/// URL, the count of body bytes the client's socket took so far, and the
/// server's task, which ends with that connection.
pub async fn declared_server(
    head: &'static str,
    declared: u64,
    chunk: Vec<u8>,
) -> (
    String,
    Arc<std::sync::atomic::AtomicU64>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let task = tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 8192];
        let _ = socket.read(&mut request).await;
        let head = format!("{head}\r\ncontent-length: {declared}\r\n\r\n");
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        while counter.load(Ordering::SeqCst) < declared {
            if socket.write_all(&chunk).await.is_err() {
                break;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    });
    (format!("http://{addr}"), sent, task)
}

/// A loopback server that accepts connections and reads, but never answers.
pub async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}"), task)
}

/// `http://127.0.0.1:<port>` where nothing listens: connections are refused.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

/// The Rust examples of the README and of the book (`docs/src`), compiled
/// and run as doctests so that they stay true.
#[cfg(doctest)]
mod docs {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/src/library.md")]
    struct Library;
    #[doc = include_str!("../../docs/src/raw-client.md")]
    struct RawClient;
    #[doc = include_str!("../../docs/src/mock.md")]
    struct Mock;
    #[doc = include_str!("../../docs/src/webhooks.md")]
    struct Webhooks;
}

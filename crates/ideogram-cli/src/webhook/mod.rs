//! `ideogram webhook serve`: an HTTP/1.1 receiver for Ideogram's signed
//! webhook deliveries. Each POST's body is read up to a bound, verified
//! (`ideogram::webhook`: signature, timestamp window, ids), journaled by
//! generation id and saved (`store`), and answered 2xx only once its
//! images are on disk; a refused one saves nothing.

mod store;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use ideogram::webhook::{KeySet, Verifier, WebhookError};
use serde_json::{Value, json};

use crate::connect::Session;
use crate::failure::Failure;
use crate::output::{say, tell};
use crate::signals::Signals;
use store::{Kept, Store};

/// The largest delivery body read: a delivery holds a few URLs and
/// prompts; anything bigger is refused (413) unread.
const MAX_BODY: usize = 1 << 20;

/// The longest a request's headers, and then its body, may take to
/// arrive: a peer that stalls holds a connection no longer, and is no
/// delivery under way that an interrupt waits for.
const READ_TIME: Duration = Duration::from_secs(30);

/// What every request's handler shares.
struct Receiver {
    session: Session,
    keys: KeySet,
    verifier: Verifier,
    store: Store,
    signals: Signals,
    json: bool,
    /// Deliveries being handled, for a graceful stop.
    busy: tokio::sync::watch::Sender<usize>,
}

/// Serves until the first interrupt, then lets the deliveries under way
/// finish (a second interrupt stops at once).
pub(crate) async fn serve(
    session: Session,
    listen: SocketAddr,
    out: PathBuf,
    window: u64,
    json: bool,
    signals: Signals,
) -> Result<(), Failure> {
    if session.provider != ideogram::Provider::Ideogram {
        return Err(Failure::new(
            crate::failure::USAGE,
            format!(
                "webhook serve verifies Ideogram's deliveries; --provider {} has none",
                session.provider
            ),
        ));
    }
    let store = Store::open(&out)?;
    let keys = KeySet::new(&session.client);
    let receiver = Arc::new(Receiver {
        session,
        keys,
        verifier: Verifier::default().window(Duration::from_secs(window)),
        store,
        signals: signals.clone(),
        json,
        busy: tokio::sync::watch::channel(0).0,
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure::io(format!("cannot listen on {listen}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure::io("cannot read the listening address", e))?;
    // Paid for and journaled by a run that died before saving them.
    for id in receiver.store.unsaved() {
        tell(&format!(
            "note: generation {id} was journaled but not saved: saving it now"
        ));
        let kept = receiver
            .store
            .resume(&id, &receiver.session.client, &receiver.signals)
            .await;
        receiver.report(&id, &kept);
    }
    tell(&format!("listening on http://{bound}"));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tell(&format!("warning: a connection failed: {e}"));
                    continue;
                }
            },
            () = signals.reached(1) => break,
        };
        let receiver = receiver.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let receiver = receiver.clone();
                async move { Ok::<_, Infallible>(receiver.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(READ_TIME)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
    drop(listener);
    let mut busy = receiver.busy.subscribe();
    if *busy.borrow() > 0 {
        tell("stopping after the deliveries under way (Ctrl-C again stops at once)");
    }
    let finished = signals
        .unless(2, busy.wait_for(|n| *n == 0))
        .await
        .is_some();
    if finished {
        Ok(())
    } else {
        Err(Failure::new(
            crate::failure::INTERRUPTED,
            "stopped with deliveries under way; each was journaled before its download: start the server again to finish them",
        ))
    }
}

impl Receiver {
    /// One request: only a POST of a verified delivery is kept.
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::POST {
            return answer(StatusCode::METHOD_NOT_ALLOWED, "deliveries are POSTed");
        }
        let (parts, body) = request.into_parts();
        // Bounded in size and in time; only a body read whole is a
        // delivery under way.
        let body = match tokio::time::timeout(READ_TIME, Limited::new(body, MAX_BODY).collect())
            .await
        {
            Ok(Ok(body)) => body.to_bytes(),
            Ok(Err(_)) => {
                self.line(json!({"status": "refused", "error": format!("the body is over {MAX_BODY} bytes or broken")}));
                return answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the body is too large or broken",
                );
            }
            Err(_) => {
                let words = format!("the body did not arrive within {} s", READ_TIME.as_secs());
                self.line(json!({"status": "refused", "error": words}));
                return answer(StatusCode::REQUEST_TIMEOUT, &words);
            }
        };
        self.busy.send_modify(|n| *n += 1);
        let answered = self.delivery(parts, body).await;
        self.busy.send_modify(|n| *n -= 1);
        answered
    }

    async fn delivery(
        &self,
        parts: hyper::http::request::Parts,
        body: Bytes,
    ) -> Response<Full<Bytes>> {
        let verified = match self
            .keys
            .verify(&self.verifier, &parts.headers, &body)
            .await
        {
            Ok(verified) => verified,
            Err(err) => {
                let status = match &err {
                    // The service delivers again later: the keys may be back.
                    WebhookError::Keys(_) | WebhookError::KeysUnavailable { .. } => {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                    WebhookError::Body(_) | WebhookError::IdMismatch { .. } => {
                        StatusCode::BAD_REQUEST
                    }
                    _ => StatusCode::UNAUTHORIZED,
                };
                let reason = error_chain(&err);
                self.line(json!({"status": "refused", "error": reason}));
                return answer(status, &reason);
            }
        };
        let id = verified.delivery.generation_id.clone();
        let kept = self
            .store
            .keep(&verified.delivery, &self.session.client, &self.signals)
            .await;
        let status = match &kept {
            Ok(_) => StatusCode::OK,
            // Journaled, not saved: answered as a failure, so that the
            // service delivers again (and this server saves it then).
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        self.report(&id, &kept);
        match kept {
            Ok(_) => answer(status, "saved"),
            Err(failure) => answer(status, &failure.message),
        }
    }

    /// The line for generation `id`'s outcome.
    fn report(&self, id: &str, kept: &Result<Kept, Failure>) {
        let shown = |paths: &[PathBuf]| -> Vec<String> {
            paths.iter().map(|p| p.display().to_string()).collect()
        };
        let line = match kept {
            Ok(Kept::Saved(paths)) => {
                json!({"generation_id": id, "status": "saved", "paths": shown(paths)})
            }
            Ok(Kept::AlreadySaved(paths)) => {
                json!({"generation_id": id, "status": "already_saved", "paths": shown(paths)})
            }
            Err(failure) => {
                json!({"generation_id": id, "status": "not_saved", "error": failure.to_string()})
            }
        };
        self.line(line);
    }

    /// One line on stdout: the JSON object with --json, else its words.
    fn line(&self, line: Value) {
        if self.json {
            say(&line.to_string());
            return;
        }
        let status = line["status"]
            .as_str()
            .unwrap_or_default()
            .replace('_', " ");
        let mut text = match line["generation_id"].as_str() {
            Some(id) => format!("{status} {id}"),
            None => format!("{status} a delivery"),
        };
        if let Some(paths) = line["paths"].as_array() {
            let paths: Vec<&str> = paths.iter().filter_map(Value::as_str).collect();
            text.push_str(&format!(": {}", paths.join(", ")));
        }
        if let Some(error) = line["error"].as_str() {
            text.push_str(&format!(": {error}"));
        }
        say(&text);
    }
}

/// An error and its sources, joined.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A JSON answer `{"status": ...}` (2xx) or `{"error": ...}`.
fn answer(status: StatusCode, words: &str) -> Response<Full<Bytes>> {
    let body = if status.is_success() {
        json!({ "status": words })
    } else {
        json!({ "error": crate::redact::text(words) })
    };
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

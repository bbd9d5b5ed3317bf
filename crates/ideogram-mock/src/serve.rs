//! The accept loop: hyper over the axum router, with a per-connection switch
//! a handler can pull to drop the connection without answering (the
//! "connection dropped" faults).

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// Pulled by a handler to close its connection without an answer.
#[derive(Clone)]
pub(crate) struct Hangup(Arc<Notify>);

impl Hangup {
    /// Closes the connection; never returns.
    pub(crate) async fn now(&self) -> Response {
        self.0.notify_one();
        std::future::pending::<Response>().await
    }
}

/// Serves `router` on `listener` until `stop` turns true.
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        let hangup = Arc::new(Notify::new());
        let service =
            TowerToHyperService::new(router.clone().layer(Extension(Hangup(hangup.clone()))));
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            // Dropping the connection future closes the socket at once.
            tokio::select! {
                _ = connection => {}
                _ = hangup.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// A JSON error answer as both services send it: `{"error": ...}` plus extras.
pub(crate) fn error(status: u16, message: impl Into<String>) -> Response {
    json(status, serde_json::json!({ "error": message.into() }))
}

/// A JSON answer.
pub(crate) fn json(status: u16, body: serde_json::Value) -> Response {
    (StatusCode::from_u16(status).expect("status"), Json(body)).into_response()
}

/// A JSON answer as bytes, for a generating handler whose answer
/// [`State::deliver`](crate::state::State::deliver) may break after billing.
pub(crate) fn json_bytes(status: u16, body: &serde_json::Value) -> axum::http::Response<Bytes> {
    let mut response = axum::http::Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).expect("status");
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

//! The image origin: a second port, as a CDN would be, serving the images
//! the API answered with, and recording whether anyone sent it a key.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::serve::error;
use crate::state::{CdnRequest, State, has_credentials};

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/images/{name}", get(image))
        .route("/blob/{bytes}", get(blob))
        .fallback(other)
}

async fn image(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    log(&state, &format!("/images/{name}"), &headers);
    let Some(spec) = state.image(&name) else {
        return error(404, "no such image");
    };
    let (bytes, content_type) = if name.ends_with(".jpg") {
        (spec.jpeg(), "image/jpeg")
    } else {
        (spec.png(), "image/png")
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// `bytes` bytes that start like a PNG, streamed in 64 KiB pieces without
/// being held in memory: for measuring a client's memory while it saves a
/// large image.
async fn blob(
    Shared(state): Shared<Arc<State>>,
    Path(bytes): Path<usize>,
    headers: HeaderMap,
) -> Response {
    log(&state, &format!("/blob/{bytes}"), &headers);
    const CHUNK: usize = 64 * 1024;
    let header = b"\x89PNG\r\n\x1a\n";
    let chunks = (0..bytes.div_ceil(CHUNK)).map(move |i| {
        let len = CHUNK.min(bytes - i * CHUNK);
        let mut chunk = vec![0u8; len];
        if i == 0 {
            let n = header.len().min(len);
            chunk[..n].copy_from_slice(&header[..n]);
        }
        Ok::<_, std::io::Error>(bytes::Bytes::from(chunk))
    });
    let mut response = Response::new(axum::body::Body::from_stream(futures::stream::iter(chunks)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    response
}

async fn other(
    Shared(state): Shared<Arc<State>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    log(&state, uri.path(), &headers);
    error(404, "not found on the image origin")
}

fn log(state: &State, path: &str, headers: &HeaderMap) {
    state.cdn_log.lock().expect("cdn log").push(CdnRequest {
        path: path.to_owned(),
        had_credentials: has_credentials(headers),
    });
}

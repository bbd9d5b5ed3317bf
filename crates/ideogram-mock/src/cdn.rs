//! The image origin: a second port, as a CDN would be, serving the images
//! the API answered with, recording whether anyone sent it a key, and
//! suffering the faults queued for its paths (`Target::PathPrefix("/images/")`).

use std::sync::Arc;

use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use crate::faults::Fault;
use crate::serve::{Hangup, error};
use crate::state::{CdnRequest, Format, State, has_credentials};

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/images/{name}", get(image))
        .route("/blob/{bytes}", get(blob))
        .fallback(other)
}

/// An image, or the fault a test queued for its path: a status, a dropped
/// or slow connection, a body cut short, or HTML where the image should be
/// (`MalformedJson`).
async fn image(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    Extension(hangup): Extension<Hangup>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/images/{name}");
    log(&state, &path, &headers);
    let fault = state.image_fault(&path);
    if let Some(answer) = state.before(&fault, &hangup, &path).await {
        return answer;
    }
    let Some(spec) = state.image(&name) else {
        return error(404, "no such image");
    };
    let (bytes, content_type) = if name.ends_with(".jpg") {
        (state.encoded(&spec, Format::Jpeg), "image/jpeg")
    } else {
        (state.encoded(&spec, Format::Png), "image/png")
    };
    if fault == Some(Fault::MalformedJson) {
        let page = "<html><body>Service unavailable</body></html>";
        return (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            page,
        )
            .into_response();
    }
    let mut answer = axum::http::Response::new(bytes);
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    state.deliver(fault, "", answer, &hangup).await
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

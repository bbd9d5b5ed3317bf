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

//! Every answer to an operation the spec marks deprecated carries the
//! headers that announce it (`Deprecation`, `Link` to its replacement,
//! `Sunset` where one is set), as the service's do: taken from the
//! operation table's `x-deprecation`, so an operation the spec deprecates
//! is announced with no edit here.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use ideogram_raw::operation::Operation;

/// Runs the request, then adds the deprecation headers of the operation it
/// called, if the spec marks it (Ideogram's paths also under `/ideogram`).
pub(crate) async fn announce(
    tables: [&'static [Operation]; 2],
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let op = tables.iter().find_map(|table| {
        Operation::find(table, &method, &path).or_else(|| {
            let path = path.strip_prefix("/ideogram")?;
            Operation::find(table, &method, path)
        })
    });
    for (name, value) in op
        .map(ideogram_raw::deprecation::headers_for)
        .unwrap_or_default()
    {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

//! What the services answer, made into this crate's results and errors: the
//! mapping of failed calls into [`Error`](crate::Error), and one module per
//! provider turning its generated answer types into a
//! [`Generation`](crate::Generation).

mod errors;
mod ideogram;
mod segmind;

use reqwest::header::{HeaderMap, HeaderName};

/// A header's value as trimmed text, when it is text.
fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

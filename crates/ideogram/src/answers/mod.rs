//! What the services answer, as this crate's errors and [`Generation`](crate::Generation)s.

mod errors;
mod ideogram;

pub(crate) use ideogram::{V2Answer, V2Results};
mod segmind;

use bytes::Bytes;
use futures::TryStreamExt as _;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;

use crate::connection::Connection;
use crate::error::Error;

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The most URLs read from one answer.
const MAX_URLS: usize = 16;

/// Every `http(s)` URL in `value` (nested at most 4 deep), in order, once each.
fn urls_in(value: &Value, urls: &mut Vec<String>, depth: usize) {
    if depth > 4 || urls.len() >= MAX_URLS {
        return;
    }
    match value {
        Value::String(text) => push_url(text, urls),
        Value::Array(items) => items.iter().for_each(|v| urls_in(v, urls, depth + 1)),
        Value::Object(fields) => fields.values().for_each(|v| urls_in(v, urls, depth + 1)),
        _ => {}
    }
}

fn push_url(text: &str, urls: &mut Vec<String>) {
    if let Some(url) = http_url(text)
        && urls.len() < MAX_URLS
        && !urls.iter().any(|u| u == url)
    {
        urls.push(url.to_owned());
    }
}

/// `text` trimmed, when it is an `http(s)` URL (the scheme in any case).
fn http_url(text: &str) -> Option<&str> {
    let text = text.trim();
    let scheme = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    (scheme.starts_with("https://") || scheme.starts_with("http://")).then_some(text)
}

/// Every `http(s)` URL in a body: as JSON when it parses, else to the next space or quote.
fn body_urls(body: &[u8]) -> Vec<String> {
    let mut urls = Vec::new();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        urls_in(&value, &mut urls, 0);
        return urls;
    }
    let text = String::from_utf8_lossy(body);
    for word in text.split(|c: char| c.is_whitespace() || "\"'<>`\\".contains(c)) {
        let found = word.match_indices("http");
        found.for_each(|(at, _)| push_url(&word[at..], &mut urls));
    }
    urls
}

/// `body` decoded as JSON: checked as UTF-8 once, whole, then read as text.
/// `serde_json::from_slice` checks every string again as it reads it (about
/// 100 instructions a string, 1.5k of a 3.0 answer); JSON is UTF-8 (RFC
/// 8259), so one check covers them all. A body that is not UTF-8 is read
/// as bytes, for serde_json's own error.
pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// An answer's body as read within its attempt's deadline
/// ([`retry::run`](crate::retry::run)): whole, or the error that broke it
/// off (after a 200: billed).
pub(crate) type Body = Result<Bytes, reqwest::Error>;

/// `answer` with its body read ([`read_body`]).
pub(crate) async fn read_answer(answer: ResponseValue<ByteStream>) -> ResponseValue<Body> {
    let (status, headers) = (answer.status(), answer.headers().clone());
    let body = read_body(answer.into_inner().into_inner()).await;
    ResponseValue::new(body, status, headers)
}

/// A successful `response` with its body read ([`read_body`]) from
/// reqwest's own stream, its headers moved over: no boxed stream (a
/// [`ByteStream`]) to read it through.
pub(crate) async fn read_response(mut response: reqwest::Response) -> ResponseValue<Body> {
    let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
    let body = read_body(response.bytes_stream()).await;
    ResponseValue::new(body, status, headers)
}

/// A body whole (the raw client caps it at 64 MiB), copied at most once:
/// a body in one chunk (a small answer) is that chunk, without a list of
/// chunks to collect it in.
async fn read_body(stream: impl futures::Stream<Item = reqwest::Result<Bytes>>) -> Body {
    let mut stream = std::pin::pin!(stream);
    let Some(first) = stream.try_next().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = stream.try_next().await? else {
        return Ok(first);
    };
    let mut chunks = vec![first, second];
    while let Some(chunk) = stream.try_next().await? {
        chunks.push(chunk);
    }
    Ok(Bytes::from(chunks.concat()))
}

impl Connection {
    /// A billed JSON answer decoded into `T`, else [`Error::Undecoded`].
    pub(crate) async fn decode_json<T: serde::de::DeserializeOwned>(
        &self,
        answer: ResponseValue<Body>,
    ) -> Result<T, Error> {
        let body = self.json_body(answer.into_inner())?;
        from_json(&body).map_err(|e| self.undecoded(&body, format!("{e}: {}", self.excerpt(&body))))
    }

    /// A JSON answer's body, whole; a break is a transport error after sending.
    pub(crate) fn json_body(&self, body: Body) -> Result<Bytes, Error> {
        body.map_err(|e| self.transport(true, e))
    }

    /// A billed `body` that does not decode; its URLs go along whole, to fetch what was paid for.
    pub(crate) fn undecoded(&self, body: &[u8], message: String) -> Error {
        Error::Undecoded {
            provider: self.provider,
            message: self.redact(&message),
            urls: body_urls(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_json_still_gives_its_urls() {
        let body = br#"{"data": [{"url": "https://cdn/a.png", "prompt": "x"}, {"url": "https://cdn/b.png""#;
        assert_eq!(body_urls(body), ["https://cdn/a.png", "https://cdn/b.png"]);
        assert_eq!(
            body_urls(b"see http://h/x.png or <https://h/y.jpg> http://h/x.png"),
            ["http://h/x.png", "https://h/y.jpg"]
        );
        assert!(body_urls(b"nothing here: httpx").is_empty());
    }
}

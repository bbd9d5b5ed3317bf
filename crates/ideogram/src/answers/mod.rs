//! What the services answer, made into this crate's results and errors: the
//! mapping of failed calls into [`Error`](crate::error::Error), and one module per
//! provider turning its generated answer types into a
//! [`Generation`](crate::Generation).

mod errors;
mod ideogram;
mod segmind;

use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;

/// A header's value as trimmed text, when it is text.
fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The most URLs read from one answer.
const MAX_URLS: usize = 16;

/// Every `http(s)` URL in `value`, in order and once each: a string, a list,
/// or an object holding them (nested a little). A queue's output, or an
/// answer that does not decode, read for what it points at.
fn urls_in(value: &Value, urls: &mut Vec<String>, depth: usize) {
    if depth > 4 || urls.len() >= MAX_URLS {
        return;
    }
    match value {
        Value::String(text) => push_url(text, urls),
        Value::Array(items) => {
            for item in items {
                urls_in(item, urls, depth + 1);
            }
        }
        Value::Object(fields) => {
            for field in fields.values() {
                urls_in(field, urls, depth + 1);
            }
        }
        _ => {}
    }
}

/// `text` added to `urls` when it is an `http(s)` URL not there yet.
fn push_url(text: &str, urls: &mut Vec<String>) {
    if let Some(url) = http_url(text)
        && urls.len() < MAX_URLS
        && !urls.iter().any(|u| u == url)
    {
        urls.push(url.to_owned());
    }
}

/// `text` trimmed, when it is an `http(s)` URL (the scheme in any case):
/// one reading of "a URL" for every shape of answer.
fn http_url(text: &str) -> Option<&str> {
    let text = text.trim();
    let scheme = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    (scheme.starts_with("https://") || scheme.starts_with("http://")).then_some(text)
}

/// Every `http(s)` URL in an answer's body, read leniently: as JSON when it
/// parses (however deep, within a few levels), else as text, each URL
/// running to the next space or quote.
fn body_urls(body: &[u8]) -> Vec<String> {
    let mut urls = Vec::new();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        urls_in(&value, &mut urls, 0);
        return urls;
    }
    let text = String::from_utf8_lossy(body);
    let mut rest: &str = &text;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || "\"'<>`\\".contains(c))
            .unwrap_or(candidate.len());
        push_url(&candidate[..end], &mut urls);
        rest = &candidate[4..];
    }
    urls
}

impl crate::connection::Connection {
    /// A success answer (billed) whose `body` does not decode: `message`
    /// says why (redacted); the URLs it holds go along whole, as an image's
    /// URL does, so that what was paid for can still be fetched.
    /// A billed JSON answer decoded into `T`, or the error the generated
    /// client's would map to: a body that does not decode goes along, its
    /// URLs kept to fetch.
    pub(crate) async fn decode_json<T: serde::de::DeserializeOwned>(
        &self,
        answer: progenitor_client::ResponseValue<progenitor_client::ByteStream>,
    ) -> Result<T, crate::error::Error> {
        let body = self.json_body(answer.into_inner()).await?;
        serde_json::from_slice(&body)
            .map_err(|e| self.undecoded(&body, format!("{e}: {}", self.excerpt(&body))))
    }

    pub(crate) fn undecoded(&self, body: &[u8], message: String) -> crate::error::Error {
        crate::error::Error::Undecoded {
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

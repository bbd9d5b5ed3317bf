//! Deprecation announced by the service: a `Deprecation` (RFC 9745) or
//! `Sunset` (RFC 8594) header on any answer, whatever the spec says of the
//! operation, becomes one [`Notice`] per operation per process: a
//! `tracing::warn!`, an entry in [`seen`], and one call of the function
//! given to [`listen`] (the CLI prints a line there). The replacement is the
//! answer's `Link` with `rel="successor-version"`.
//!
//! What the spec itself marks deprecated is in the operation table
//! ([`Operation::deprecation`](crate::operation::Operation::deprecation)).

use std::sync::{Mutex, OnceLock};

use http::HeaderMap;
use http::header::HeaderName;

/// RFC 9745's header: `@<unix seconds>` (older drafts: `true`, or an
/// HTTP-date), when the resource was or will be deprecated.
pub const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");

/// RFC 8594's header: the HTTP-date after which the resource may stop
/// answering.
pub const SUNSET: HeaderName = HeaderName::from_static("sunset");

/// The `Link` relation that names a deprecated resource's replacement.
pub const SUCCESSOR: &str = "successor-version";

/// The longest text kept from one header: a hostile server's header cannot
/// make a notice, or the line printed from it, long.
const MAX_TEXT: usize = 256;

/// One operation the service says is deprecated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Which service: `ideogram` or `segmind`.
    pub provider: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The operation's path template, such as `/v1/ideogram-v3/edit`.
    pub path: &'static str,
    /// The day it was deprecated, `YYYY-MM-DD` (UTC), where the header
    /// gives a date (`Deprecation: true` gives none).
    pub since: Option<String>,
    /// What replaces it: the `Link` marked `rel="successor-version"`.
    pub replacement: Option<String>,
    /// The day it stops being served, `YYYY-MM-DD` (UTC), from `Sunset`.
    pub sunset: Option<String>,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({}) is deprecated",
            self.method, self.path, self.provider
        )?;
        if let Some(since) = &self.since {
            write!(f, " since {since}")?;
        }
        if let Some(sunset) = &self.sunset {
            write!(f, " and stops being served on {sunset}")?;
        }
        match &self.replacement {
            Some(replacement) => write!(f, "; use {replacement} instead"),
            None => write!(f, "; the service names no replacement"),
        }
    }
}

/// Every notice so far, in the order they came.
static SEEN: Mutex<Vec<Notice>> = Mutex::new(Vec::new());

/// What [`listen`] was given.
type Listener = Box<dyn Fn(&Notice) + Send + Sync>;
static LISTENER: OnceLock<Listener> = OnceLock::new();

/// Calls `listener` with each later notice, once per operation per
/// process (the first answer that announces it). Only the first listener
/// given is kept: `false` when one was already set.
pub fn listen(listener: impl Fn(&Notice) + Send + Sync + 'static) -> bool {
    LISTENER.set(Box::new(listener)).is_ok()
}

/// Every operation the service has said is deprecated so far in this
/// process, one notice each.
pub fn seen() -> Vec<Notice> {
    SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Records the answer's deprecation headers, if it has any: the first time
/// for an operation, a warning and the listener's call. `redact` hides
/// the key in any text taken from the answer.
pub(crate) fn observe(
    provider: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &HeaderMap,
    redact: impl Fn(&str) -> String,
) {
    // One look over the answer's few header names: two hashed lookups
    // were about 0.4k instructions of every answer, and hardly any has one.
    if !(headers.keys()).any(|name| *name == DEPRECATION || *name == SUNSET) {
        return;
    }
    let known = |seen: &[Notice]| {
        seen.iter()
            .any(|n| n.provider == provider && n.method == method && n.path == path)
    };
    // Every answer of a deprecated operation carries the headers: they are
    // read only until it has its notice (reading them was about 5k
    // instructions of every call, finding them 0.4k).
    if known(&SEEN.lock().unwrap_or_else(|e| e.into_inner())) {
        return;
    }
    let deprecation = headers.get(DEPRECATION);
    let sunset = headers.get(SUNSET);
    let notice = Notice {
        provider,
        method,
        path,
        since: deprecation.and_then(text).and_then(since_day),
        replacement: successor(headers).map(|link| redact(bounded(&link))),
        sunset: sunset.and_then(text).and_then(http_day),
    };
    {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        // Another answer may have given it its notice meanwhile.
        if known(&seen) {
            return;
        }
        seen.push(notice.clone());
    }
    tracing::warn!(
        provider,
        operation = %format_args!("{method} {path}"),
        replacement = notice.replacement.as_deref(),
        sunset = notice.sunset.as_deref(),
        "{notice}"
    );
    if let Some(listener) = LISTENER.get() {
        listener(&notice);
    }
}

/// A header's value as text, trimmed; `None` where it is not text.
fn text(value: &http::HeaderValue) -> Option<&str> {
    value.to_str().ok().map(str::trim)
}

/// At most [`MAX_TEXT`] bytes of `text`, cut at a character boundary.
fn bounded(text: &str) -> &str {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The day a `Deprecation` value names: RFC 9745's `@<unix seconds>`, or
/// the older drafts' HTTP-date; `None` for `true` or what does not parse
/// (the header still says it is deprecated).
fn since_day(value: &str) -> Option<String> {
    match value.strip_prefix('@') {
        Some(seconds) => {
            let seconds: i64 = seconds.parse().ok()?;
            let at = chrono::DateTime::from_timestamp(seconds, 0)?;
            Some(at.format("%Y-%m-%d").to_string())
        }
        None => http_day(value),
    }
}

/// The day of an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`), in UTC.
fn http_day(value: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        at.with_timezone(&chrono::Utc)
            .format("%Y-%m-%d")
            .to_string(),
    )
}

/// The target of the first `Link` value with `rel="successor-version"`
/// (the relation may be one of several, quoted or not).
fn successor(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
            let successor = params.split(';').any(|param| {
                let Some((name, value)) = param.split_once('=') else {
                    return false;
                };
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case(SUCCESSOR))
            });
            successor.then(|| target.trim().to_owned())
        })
}

/// The `Deprecation`, `Link` and `Sunset` headers that announce `op`'s
/// deprecation as the spec describes it (`x-deprecation`), for a server
/// that answers it (the mock); empty where the spec does not mark it.
/// `Deprecation` takes RFC 9745's `@<unix seconds>` form, the day's start
/// in UTC.
pub fn headers_for(op: &crate::operation::Operation) -> Vec<(HeaderName, String)> {
    let Some(deprecation) = op.deprecation else {
        return Vec::new();
    };
    let midnight = |day: &str| {
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    };
    let mut headers = vec![(
        DEPRECATION,
        match deprecation.since.and_then(midnight) {
            Some(at) => format!("@{}", at.timestamp()),
            None => "true".to_owned(),
        },
    )];
    if let Some(replacement) = deprecation.replacement {
        headers.push((
            http::header::LINK,
            format!("<{replacement}>; rel=\"{SUCCESSOR}\""),
        ));
    }
    if let Some(at) = deprecation.sunset.and_then(midnight) {
        headers.push((SUNSET, at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn every_form_of_deprecation_is_read() {
        // 2026-04-29T00:00:00Z
        assert_eq!(since_day("@1777420800").as_deref(), Some("2026-04-29"));
        assert_eq!(
            since_day("Wed, 29 Apr 2026 00:00:00 GMT").as_deref(),
            Some("2026-04-29")
        );
        assert_eq!(since_day("true"), None);
        assert_eq!(since_day("@soon"), None);
    }

    #[test]
    fn the_replacement_is_the_successor_link() {
        let map = headers(&[
            (http::header::LINK, "</docs>; rel=\"deprecation\""),
            (
                http::header::LINK,
                "<https://a.example/x>; rel=alternate, </v2/new>; type=\"x\"; rel=\"latest-version successor-version\"",
            ),
        ]);
        assert_eq!(successor(&map).as_deref(), Some("/v2/new"));
        assert_eq!(
            successor(&headers(&[(
                http::header::LINK,
                "</docs>; rel=deprecation"
            )])),
            None
        );
    }

    #[test]
    fn the_spec_s_deprecation_reads_back_as_it_was_written() {
        let edit = crate::ideogram::operations::ALL
            .iter()
            .find(|op| op.deprecation.is_some())
            .expect("the spec marks an operation deprecated");
        let spec = edit.deprecation.expect("deprecated");
        let map: HeaderMap =
            headers_for(edit)
                .into_iter()
                .fold(HeaderMap::new(), |mut map, (name, value)| {
                    map.append(name, value.parse().expect("a header value"));
                    map
                });
        let day = map
            .get(DEPRECATION)
            .and_then(|v| v.to_str().ok())
            .and_then(since_day);
        assert_eq!(day.as_deref(), spec.since);
        assert_eq!(successor(&map).as_deref(), spec.replacement);
    }
}

//! Which header carries the API key, and the key itself as a secret.
//!
//! The generated clients carry an [`Auth`] and their hooks add its header to
//! every request, marked sensitive so that `reqwest` and `http` never print it.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::redact::{Secret, redact};

/// An API key. Its `Debug` prints `ApiKey([REDACTED])`; it has no `Display`.
///
/// It holds the key and what [`ApiKey::redact`] looks for, worked out once:
/// redacting runs on every answer.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Arc<(String, Option<Secret>)>);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let secret = Secret::new(&key);
        Self(Arc::new((key, secret)))
    }

    /// The key itself, for the one place that must send it.
    pub fn expose_secret(&self) -> &str {
        &self.0.0
    }

    /// What [`redact`](crate::redact::redact) looks for; `None` for a key
    /// with nothing visible in it.
    pub fn secret(&self) -> Option<&Secret> {
        self.0.1.as_ref()
    }

    /// `text` with every occurrence of the key replaced by `[REDACTED]`: for
    /// anything a server sends back (an error body that echoes the request's
    /// headers, say) before it is shown, logged or stored. The key is found
    /// bare (or as `Bearer <key>`), in any letter case, with invisible
    /// characters inserted and percent-encoded ([`crate::redact`]).
    ///
    /// ```
    /// use ideogram_raw::auth::ApiKey;
    ///
    /// let key = ApiKey::new("sk-123456");
    /// assert_eq!(key.redact("got Authorization: Bearer sk-123456"), "got Authorization: Bearer [REDACTED]");
    /// assert_eq!(key.redact("got SK-123\u{200B}456"), "got [REDACTED]");
    /// ```
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match self.secret() {
            Some(secret) => redact(text, secret),
            None => std::borrow::Cow::Borrowed(text),
        }
    }
}

/// What [`ApiKey::redact`] puts where the key was.
pub use crate::redact::REDACTED;

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

/// How a service expects the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// The key alone in a named header: `x-api-key` for Segmind, `Api-Key` for
    /// Ideogram.
    Header(HeaderName),
    /// `Authorization: Bearer <key>`, as gateways re-serving Ideogram expect.
    Bearer,
}

impl AuthScheme {
    /// Segmind's `x-api-key` header.
    pub fn segmind() -> Self {
        Self::Header(HeaderName::from_static("x-api-key"))
    }

    /// Ideogram's `Api-Key` header.
    pub fn ideogram() -> Self {
        Self::Header(HeaderName::from_static("api-key"))
    }

    /// The header this scheme writes.
    pub fn header_name(&self) -> HeaderName {
        match self {
            Self::Header(name) => name.clone(),
            Self::Bearer => AUTHORIZATION,
        }
    }
}

/// A key and the scheme that sends it; the generated clients' inner value.
#[derive(Clone, Debug)]
pub struct Auth {
    scheme: AuthScheme,
    key: Option<ApiKey>,
    /// The header made once, as every request sends it.
    header: Result<Option<(HeaderName, HeaderValue)>, InvalidKey>,
}

/// The key cannot go in an HTTP header (it holds a control character or
/// non-visible byte). The message never contains the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidKey;

impl fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the API key holds characters an HTTP header cannot carry (a stray newline?)")
    }
}

impl std::error::Error for InvalidKey {}

impl Auth {
    /// `scheme` with `key`.
    pub fn new(scheme: AuthScheme, key: ApiKey) -> Self {
        let header = make_header(&scheme, Some(&key));
        Self {
            scheme,
            key: Some(key),
            header,
        }
    }

    /// No key at all: requests go out unauthenticated (useful against mocks).
    pub fn none() -> Self {
        Self {
            scheme: AuthScheme::segmind(),
            key: None,
            header: Ok(None),
        }
    }

    /// `x-api-key: <key>`, for Segmind.
    pub fn segmind(key: ApiKey) -> Self {
        Self::new(AuthScheme::segmind(), key)
    }

    /// `Api-Key: <key>`, for Ideogram.
    pub fn ideogram(key: ApiKey) -> Self {
        Self::new(AuthScheme::ideogram(), key)
    }

    /// `Authorization: Bearer <key>`, for gateways.
    pub fn bearer(key: ApiKey) -> Self {
        Self::new(AuthScheme::Bearer, key)
    }

    /// The scheme in use.
    pub fn scheme(&self) -> &AuthScheme {
        &self.scheme
    }

    /// The header to send, its value marked sensitive; `None` without a key.
    pub fn header(&self) -> Result<Option<(HeaderName, HeaderValue)>, InvalidKey> {
        self.header.clone()
    }

    /// `text` with the key redacted ([`ApiKey::redact`]); as it is without a key.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.key {
            Some(key) => key.redact(text),
            None => std::borrow::Cow::Borrowed(text),
        }
    }

    /// Puts the header into `headers`, replacing any earlier value.
    pub fn apply(&self, headers: &mut HeaderMap) -> Result<(), InvalidKey> {
        if let Some((name, value)) = self.header.clone()? {
            headers.insert(name, value);
        }
        Ok(())
    }
}

/// The header `scheme` sends `key` in, its value marked sensitive.
fn make_header(
    scheme: &AuthScheme,
    key: Option<&ApiKey>,
) -> Result<Option<(HeaderName, HeaderValue)>, InvalidKey> {
    let Some(key) = key else {
        return Ok(None);
    };
    let text = match scheme {
        AuthScheme::Header(_) => key.expose_secret().to_owned(),
        AuthScheme::Bearer => format!("Bearer {}", key.expose_secret()),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| InvalidKey)?;
    value.set_sensitive(true);
    Ok(Some((scheme.header_name(), value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let auth = Auth::bearer(ApiKey::new("sk-very-secret"));
        let printed = format!("{auth:?} {:?}", auth.header().unwrap());
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn schemes_write_their_headers() {
        let key = ApiKey::new("k1");
        let cases = [
            (Auth::segmind(key.clone()), "x-api-key", "k1"),
            (Auth::ideogram(key.clone()), "api-key", "k1"),
            (Auth::bearer(key), "authorization", "Bearer k1"),
        ];
        for (auth, name, value) in cases {
            let mut headers = HeaderMap::new();
            auth.apply(&mut headers).unwrap();
            assert_eq!(headers.len(), 1);
            let sent = headers.get(name).unwrap();
            assert_eq!(sent.to_str().unwrap(), value);
            assert!(sent.is_sensitive());
        }
    }

    #[test]
    fn a_key_with_a_newline_is_refused_without_echoing_it() {
        let err = Auth::segmind(ApiKey::new("abc\ndef")).header().unwrap_err();
        assert!(!err.to_string().contains("abc"));
    }

    #[test]
    fn every_echoed_form_is_redacted() {
        let key = ApiKey::new("sk/abc+def==");
        for echoed in [
            "got sk/abc+def==",
            "got Bearer sk/abc+def==",
            "got key=sk%2Fabc%2Bdef%3D%3D",
            "got key=sk%2fabc%2bdef%3d%3d",
        ] {
            let redacted = key.redact(echoed);
            assert!(redacted.ends_with(REDACTED), "{echoed} -> {redacted}");
        }
    }

    #[test]
    fn no_key_sends_nothing() {
        let mut headers = HeaderMap::new();
        Auth::none().apply(&mut headers).unwrap();
        assert!(headers.is_empty());
    }
}

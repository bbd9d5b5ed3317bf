//! One way to call any operation of a spec from its data ([`Operation`]):
//! the body as JSON fields (and files for a multipart body), sent through
//! the generated client's own hooks, so the key, the trace span and the
//! answer cap are exactly those of the generated methods. Code that routes
//! by task and model (the facade) calls every operation here, so an
//! operation added to a spec needs no new call site.
//!
//! The answer is the raw stream whatever its kind (an image, JSON): the
//! caller decodes it by what it asked for. Any status of 400 or more is
//! [`Error::ErrorResponse`], as the generated methods give documented
//! statuses.

use progenitor_client::{ByteStream, ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue};
use serde_json::{Map, Value};

use crate::auth::Auth;
use crate::multipart::{FilePart, Form};
use crate::operation::Operation;

/// What an operation is sent.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    /// The body's fields as JSON, in the body's schema (a JSON body, or a
    /// multipart body's value parts).
    pub fields: Map<String, Value>,
    /// A multipart body's files, in order, each with its field (a field's
    /// name borrowed from the spec where it can be: no copy). One list,
    /// not a list for each field: that was an allocation a field.
    pub files: Vec<(std::borrow::Cow<'static, str>, FilePart)>,
    /// Query parameters, in order (Ideogram's `dry_run=true`).
    pub query: Vec<(&'static str, &'static str)>,
}

/// Sends `payload` to `operation` with `client` (a generated client of the
/// operation's spec); `params` fills the path's `{parameters}` in order.
///
/// A JSON operation gets `fields` as its body; a multipart one gets each
/// field as a value part (an object as a JSON part) and each file as a file
/// part; an operation without a body gets none.
pub async fn send<C>(
    client: &C,
    operation: &Operation,
    params: &[&str],
    payload: &Payload,
) -> Result<ResponseValue<ByteStream>, Error<ByteStream>>
where
    C: ClientHooks<Auth> + ClientInfo<Auth> + Sync,
{
    exchange(client, operation, params, payload)
        .await
        .map(streamed)
}

/// [`send`], its successful answer as reqwest gives it: for a caller that
/// reads the body itself, without the boxed stream a [`ByteStream`] is.
/// An error status is [`Error::ErrorResponse`] (400 or more) or
/// [`Error::UnexpectedResponse`], as from [`send`].
pub async fn exchange<C>(
    client: &C,
    operation: &Operation,
    params: &[&str],
    payload: &Payload,
) -> Result<reqwest::Response, Error<ByteStream>>
where
    C: ClientHooks<Auth> + ClientInfo<Auth> + Sync,
{
    let method = reqwest::Method::from_bytes(operation.method.as_bytes())
        .map_err(|e| Error::InvalidRequest(format!("{}: {e}", operation.id)))?;
    // Checked once, at compile time.
    const API_VERSION: reqwest::header::HeaderName =
        reqwest::header::HeaderName::from_static("api-version");
    // Parsed once (reqwest would parse the whole URL string again for
    // every request, about 7k instructions): a path without parameters
    // whole, found by its base and path without writing the URL out
    // (about 0.6k instructions more), else the base, with the path set on it.
    let base = client.baseurl();
    let fixed = (params.is_empty() && !operation.path.contains('{'))
        .then(|| fixed_url(base, operation.path))
        .flatten();
    let url = match fixed {
        Some(parsed) => parsed,
        None => {
            let url = url(base, operation, params).map_err(Error::InvalidRequest)?;
            match joined(base, &url[base.len()..]) {
                Some(parsed) => parsed,
                None => reqwest::Url::parse(&url).map_err(|e| {
                    Error::InvalidRequest(format!("{}: not a URL: {e}", operation.id))
                })?,
            }
        }
    };
    // Built in place, not through reqwest's `RequestBuilder` (which checks
    // and copies each header again), its headers sized once for those it
    // gets here, from the hooks and from reqwest (about 1k instructions).
    // A base URL's `user:password@` (a gateway's) goes as basic auth, taken
    // out of the URL: reqwest's builder does that, so it builds this one.
    let mut request = if url.username().is_empty() && url.password().is_none() {
        reqwest::Request::new(method, url)
    } else {
        client.client().request(method, url).build()?
    };
    let headers = request.headers_mut();
    if headers.is_empty() {
        *headers = reqwest::header::HeaderMap::with_capacity(8);
    }
    headers.insert(
        API_VERSION,
        reqwest::header::HeaderValue::from_static(C::api_version()),
    );
    if let Some(accept) = operation.accept {
        // The spec's media type, a static: taken as it is, where a `&str`
        // is copied into a new value (about 0.2k instructions a request);
        // JSON, most answers' type, checked once at compile time.
        static JSON: reqwest::header::HeaderValue =
            reqwest::header::HeaderValue::from_static("application/json");
        let accept = match accept {
            "application/json" => JSON.clone(),
            other => reqwest::header::HeaderValue::from_static(other),
        };
        headers.insert(reqwest::header::ACCEPT, accept);
    }
    if !payload.query.is_empty() {
        let mut pairs = request.url_mut().query_pairs_mut();
        pairs.extend_pairs(&payload.query);
    }
    // The body and its content type, set once whatever its kind.
    let body = match operation.content_type {
        Some("application/json") => {
            let json = serde_json::to_vec(&payload.fields).expect("a JSON map is written");
            let media = reqwest::header::HeaderValue::from_static("application/json");
            Some((media, bytes::Bytes::from(json)))
        }
        Some("multipart/form-data") => {
            let form = form(payload).map_err(Error::InvalidRequest)?;
            let media = form.content_type_header();
            Some((media, form.into_bytes()))
        }
        Some(other) => {
            return Err(Error::InvalidRequest(format!(
                "{}: cannot send {other}",
                operation.id
            )));
        }
        None => None,
    };
    if let Some((media, body)) = body {
        (request.headers_mut()).insert(reqwest::header::CONTENT_TYPE, media);
        *request.body_mut() = Some(body.into());
    }
    let info = OperationInfo {
        operation_id: operation.id,
    };
    client.pre(&mut request, &info).await?;
    let result = client.exec(request, &info).await;
    client.post(&result, &info).await?;
    let response = result?;
    if response.status().as_u16() >= 400 {
        Err(Error::ErrorResponse(streamed(response)))
    } else if response.status().is_success() {
        Ok(response)
    } else {
        Err(Error::UnexpectedResponse(response))
    }
}

/// The answer as a stream, its headers moved over (progenitor's
/// `ResponseValue::stream` copies them, and the copy is dropped unread).
fn streamed(mut response: reqwest::Response) -> ResponseValue<ByteStream> {
    let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
    let stream = ByteStream::new(Box::pin(response.bytes_stream()));
    ResponseValue::new(stream, status, headers)
}

/// The operation's URL under `base`, each `{parameter}` filled in order,
/// percent-encoded as one path segment.
fn url(base: &str, operation: &Operation, params: &[&str]) -> Result<String, String> {
    let mut params = params.iter();
    let filled: usize = params.clone().map(|p| 3 * p.len()).sum();
    let mut url = String::with_capacity(base.len() + operation.path.len() + filled);
    url.push_str(base);
    for segment in operation.path.split('/').skip(1) {
        url.push('/');
        if segment.starts_with('{') && segment.ends_with('}') {
            let value = params
                .next()
                .ok_or_else(|| format!("{}: {segment} is missing", operation.id))?;
            url.push_str(&progenitor_client::encode_path(value));
        } else {
            url.push_str(segment);
        }
    }
    Ok(url)
}

/// `base` followed by `path`, parsed through [`base_url`]: `None` where
/// the shortcut does not hold.
fn joined(base: &str, path: &str) -> Option<reqwest::Url> {
    if path.contains(['?', '#']) {
        return None;
    }
    let mut url = base_url(base)?;
    url.set_path(path);
    Some(url)
}

/// The URL of an operation without parameters: `base` followed by its
/// `path` (the same on every call), [`joined`] once, then kept (the last
/// few), found by the two without writing the URL out.
fn fixed_url(base: &str, path: &'static str) -> Option<reqwest::Url> {
    use std::sync::Mutex;
    type Kept = (String, &'static str, Option<reqwest::Url>);
    static FIXED: Mutex<Vec<Kept>> = Mutex::new(Vec::new());
    const KEPT: usize = 16;
    let same = |(b, p, _): &&Kept| (std::ptr::eq(*p, path) || *p == path) && b == base;
    if let Some((_, _, parsed)) = FIXED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(same)
    {
        return parsed.clone();
    }
    let parsed = joined(base, path);
    let mut fixed = FIXED.lock().unwrap_or_else(|e| e.into_inner());
    if fixed.len() == KEPT {
        fixed.remove(0);
    }
    fixed.push((base.to_owned(), path, parsed.clone()));
    parsed
}

/// `base` parsed, when setting a path (without `?` or `#`) on it gives
/// exactly the URL that parsing `base` followed by that path gives: a base of visible ASCII with
/// no path, query or fragment and no trailing `/`. Parsed once per base
/// (the last few are kept); `None` for any other base, which is then parsed
/// whole with each request as before.
fn base_url(base: &str) -> Option<reqwest::Url> {
    use std::sync::Mutex;
    /// The bases seen last, parsed (or `None` where the shortcut does not
    /// hold).
    static BASES: Mutex<Vec<(String, Option<reqwest::Url>)>> = Mutex::new(Vec::new());
    const KEPT: usize = 8;
    let mut bases = BASES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, url)) = bases.iter().find(|(b, _)| b == base) {
        return url.clone();
    }
    let url = reqwest::Url::parse(base).ok().filter(|url| {
        base.bytes().all(|b| b.is_ascii_graphic())
            && !base.ends_with('/')
            && url.has_host()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
    });
    if bases.len() == KEPT {
        bases.remove(0);
    }
    bases.push((base.to_owned(), url.clone()));
    url
}

/// A multipart body's form: its value parts, then its files, built whole
/// ([`Form`]) with room for the files made once.
fn form(payload: &Payload) -> Result<Form, String> {
    let files: usize = payload
        .files
        .iter()
        .map(|(_, file)| file.bytes().len())
        .sum();
    let mut form = Form::with_capacity(files);
    for (name, value) in &payload.fields {
        form = match value {
            // Given, though empty: a part the body requires (`/upscale`'s
            // `image_request` with every option at its default).
            Value::Object(fields) if fields.is_empty() => form.json(name, value),
            value => crate::multipart::json_value_part(form, name, value, false),
        };
    }
    for (name, file) in &payload.files {
        form = form.file(name, file)?;
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fill_the_path_as_segments() {
        let status = Operation::find(
            crate::segmind::operations::ALL,
            "GET",
            "/v2/requests/x/status",
        )
        .expect("the status operation");
        assert_eq!(
            url("http://h", status, &["a/b"]).unwrap(),
            "http://h/v2/requests/a%2Fb/status"
        );
        assert!(url("http://h", status, &[]).is_err());
    }

    #[test]
    fn a_base_parsed_once_gives_the_url_a_whole_parse_gives() {
        let paths = [
            "/v1/x",
            "/v2/requests/a%2Fb/status",
            "/a/../b",
            "/%7e/é",
            "/x?q",
            "/x#f",
        ];
        let bases = [
            "http://127.0.0.1:8080",
            "https://API.example.com:443",
            "http://user:pw@h",
            "http://h/",
            "http://h/api",
            "http://h?q=1",
            "http://h#f",
            " http://h",
            "http://h\t",
            "http://bücher.example",
            "mailto:x",
            "not a url",
        ];
        for base in bases {
            for path in paths {
                let whole = reqwest::Url::parse(&format!("{base}{path}")).ok();
                if let Some(fast) = joined(base, path) {
                    assert_eq!(Some(fast), whole, "{base:?} + {path:?}");
                }
                if let Some(fast) = fixed_url(base, path) {
                    assert_eq!(Some(fast), whole, "{base:?} + {path:?}");
                }
            }
        }
        assert!(base_url("http://127.0.0.1:8080").is_some());
        assert!(base_url("http://h/api").is_none());
    }
}

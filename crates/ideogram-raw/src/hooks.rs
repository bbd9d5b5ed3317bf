//! The generated clients' hooks: every request gets the auth header here, so
//! no call site can forget it, its JSON body checked against the spec within
//! [`checked`](crate::checked::checked), and every exchange is traced here (an `http`
//! span: operation, provider, method, path template, status, duration,
//! request id; never the key, never a body), and every answer's deprecation
//! headers noted ([`crate::deprecation`]).

use std::time::Instant;

use progenitor_client::{ClientHooks, Error, OperationInfo};
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::auth::Auth;
use crate::operation::Operation;
use crate::{ideogram, segmind};

#[expect(
    clippy::result_large_err,
    reason = "the hook signature fixes progenitor's error type"
)]
fn authorize<E>(auth: &Auth, request: &mut reqwest::Request) -> Result<(), Error<E>> {
    auth.apply(request.headers_mut())
        .map_err(|err| Error::InvalidRequest(err.to_string()))
}

/// Sends `request` in an `http` span, and caps the answer's body.
async fn exchange(
    client: &reqwest::Client,
    auth: &Auth,
    request: reqwest::Request,
    info: &OperationInfo,
    provider: &'static str,
    operations: &'static [Operation],
) -> reqwest::Result<reqwest::Response> {
    // The id is the table's own `&'static str` when the call came from
    // its operation (`send`): found by address before comparing text.
    let id = info.operation_id;
    let op = (operations.iter().find(|op| std::ptr::eq(op.id, id)))
        .or_else(|| operations.iter().find(|op| op.id == id));
    // The fields are read, and the clock, only for a listening span.
    let span = tracing::debug_span!(
        "http",
        operation = info.operation_id,
        provider,
        method = %request.method(),
        path = op.map_or("", |op| op.path),
        status = Empty,
        duration_ms = Empty,
        request_id = Empty,
    );
    let started = (!span.is_disabled()).then(Instant::now);
    // Instrumented only for a listening span (the wrapper is a move and a
    // span entered on every poll otherwise).
    let result = if span.is_disabled() {
        client.execute(request).await
    } else {
        client.execute(request).instrument(span.clone()).await
    };
    if let Some(started) = started {
        span.record("duration_ms", started.elapsed().as_millis() as u64);
    }
    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            span.record("status", response.status().as_u16());
            mark_url(&mut response, auth);
            crate::deprecation::observe(
                provider,
                op.map_or("", |op| op.method),
                op.map_or(info.operation_id, |op| op.path),
                response.headers(),
                |text| auth.redact(text).into_owned(),
            );
            // The id looked up, and redacted, only for a listening span.
            let id = (!span.is_disabled())
                .then(|| {
                    response
                        .headers()
                        .get(crate::segmind::headers::X_REQUEST_ID)
                })
                .flatten();
            if let Some(id) = id.and_then(|v| v.to_str().ok()) {
                span.record("request_id", auth.redact(id).as_ref());
            }
            tracing::debug!("answered");
            Ok(crate::limit::limit(
                response,
                crate::limit::MAX_ANSWER_BYTES,
            ))
        }
        Err(err) => {
            // reqwest's message names the URL; the kind is what matters here.
            tracing::debug!(
                connect = err.is_connect(),
                timeout = err.is_timeout(),
                "no answer"
            );
            Err(err)
        }
    }
}

/// Adds [`REQUEST_URL_HEADER`](crate::answer::REQUEST_URL_HEADER) to an
/// error answer: where the request went (no credentials, no query, the key
/// redacted), for errors that name it. A server's own header of that name
/// is dropped from every answer, so it is never taken for ours.
fn mark_url(response: &mut reqwest::Response, auth: &Auth) {
    // Looked for first: a hashed removal was 0.2k instructions of every answer.
    let ours = |name: &reqwest::header::HeaderName| *name == crate::answer::REQUEST_URL;
    if response.headers().keys().any(ours) {
        response.headers_mut().remove(crate::answer::REQUEST_URL);
    }
    // Only an error names its URL: a success costs no copy of it.
    if response.status().as_u16() < 400 {
        return;
    }
    let mut url = response.url().clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&auth.redact(url.as_str())) {
        response
            .headers_mut()
            .insert(crate::answer::REQUEST_URL, value);
    }
}

/// Auth and, where asked for, the spec's check on the way out, a span
/// around the exchange, a size cap on the way in.
macro_rules! hooks {
    ($client:ty, $provider:literal, $operations:expr, $schemas:expr) => {
        impl ClientHooks<Auth> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &OperationInfo,
            ) -> Result<(), Error<E>> {
                crate::checked::check(request, info.operation_id, $operations, $schemas)
                    .map_err(Error::InvalidRequest)?;
                authorize(&self.inner, request)
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                exchange(
                    &self.client,
                    &self.inner,
                    request,
                    info,
                    $provider,
                    $operations,
                )
                .await
            }
        }
    };
}

hooks!(
    segmind::Client,
    "segmind",
    segmind::operations::ALL,
    crate::schema::segmind()
);
hooks!(
    ideogram::Client,
    "ideogram",
    ideogram::operations::ALL,
    crate::schema::ideogram()
);

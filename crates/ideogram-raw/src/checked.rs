//! The spec's check of a generated method's JSON body, for calls a caller
//! wraps in [`checked`]: a body the operation's schema refuses (a seed out
//! of range, a list too long: what the generated types cannot express) is
//! not sent, and the wrapper answers with the [`Violation`] that names the
//! field and what it allows.
//!
//! The generated clients' `pre` hook runs the check while a [`Checked`]
//! future is being polled on its thread, so the generated methods keep
//! their signatures and calls outside a wrapper send their bodies as they
//! are (the facade checks the bodies it builds itself before they get
//! here). A multipart body is checked by its generated method before its
//! form is built, its files as `data:` URLs.
//!
//! ```no_run
//! use ideogram_raw::{auth::{ApiKey, Auth}, checked::checked, http, segmind, SEGMIND_BASE_URL};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = segmind::Client::new_with_client(
//!     SEGMIND_BASE_URL,
//!     http::client()?,
//!     Auth::segmind(ApiKey::new("sg_...")),
//! );
//! let body = segmind::types::Ideogram2aTxt2ImgRequest::builder()
//!     .prompt("a lighthouse at dawn")
//!     .seed(Some((-5).into()));
//! let Err(refused) = checked(client.ideogram_2a_txt_2_img().body(body).send()).await else {
//!     unreachable!("seed -5 is outside the spec's range")
//! };
//! assert_eq!(refused.path, "seed"); // and nothing was sent
//! # Ok(())
//! # }
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::operation::Operation;
use crate::schema::{Schemas, Violation};

thread_local! {
    /// `Some` while a [`Checked`] future is polled on this thread: the
    /// violation its check found, if any.
    static CHECKING: RefCell<Option<Option<Violation>>> = const { RefCell::new(None) };
}

/// Runs `call` with every JSON body its generated methods send checked
/// against the operation's schema first: the first body the spec refuses
/// ends the call, unsent, with the [`Violation`]; otherwise `call`'s output.
pub fn checked<F: Future>(call: F) -> Checked<F> {
    Checked {
        call: Box::pin(call),
    }
}

/// The future [`checked`] returns.
#[must_use = "a future does nothing unless awaited"]
pub struct Checked<F> {
    call: Pin<Box<F>>,
}

impl<F> std::fmt::Debug for Checked<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").finish_non_exhaustive()
    }
}

impl<F: Future> Future for Checked<F> {
    type Output = Result<F::Output, Violation>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outer = CHECKING.with(|checking| checking.replace(Some(None)));
        let polled = self.call.as_mut().poll(cx);
        let found = CHECKING.with(|checking| checking.replace(outer)).flatten();
        match (found, polled) {
            (Some(violation), _) => Poll::Ready(Err(violation)),
            (None, Poll::Ready(output)) => Poll::Ready(Ok(output)),
            (None, Poll::Pending) => Poll::Pending,
        }
    }
}

/// The `pre` hook's check: within [`checked`], the JSON body of the
/// operation `id` of `operations` against its schema in `schemas`. A
/// violation is kept for the wrapper and given as the refusal's text.
pub(crate) fn check(
    request: &reqwest::Request,
    id: &str,
    operations: &'static [Operation],
    schemas: &'static Schemas,
) -> Result<(), String> {
    if !CHECKING.with(|checking| checking.borrow().is_some()) {
        return Ok(());
    }
    let Some(name) = operations
        .iter()
        .find(|op| op.id == id && op.content_type == Some("application/json"))
        .and_then(|op| op.body)
    else {
        return Ok(());
    };
    let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes) else {
        return Ok(());
    };
    let body = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
    schemas.check(name, &body).map_err(refuse)
}

/// The generated multipart methods' check: within [`checked`], `body` (of
/// the schema `name` in `schemas`) before its form is built, each file as
/// the `data:` URL its JSON form is.
pub(crate) fn check_multipart<T: serde::Serialize>(
    body: &T,
    name: &str,
    schemas: &'static Schemas,
) -> Result<(), String> {
    if !CHECKING.with(|checking| checking.borrow().is_some()) {
        return Ok(());
    }
    let body = serde_json::to_value(body).map_err(|e| format!("{name}: {e}"))?;
    schemas.check(name, &body).map_err(refuse)
}

/// Keeps `violation` for the [`Checked`] being polled; its text for the
/// generated method's error.
fn refuse(violation: Violation) -> String {
    let text = violation.to_string();
    CHECKING.with(|checking| *checking.borrow_mut() = Some(Some(violation)));
    text
}

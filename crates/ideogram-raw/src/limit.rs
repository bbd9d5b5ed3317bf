//! A cap on how large an answer may be: a hostile or broken server cannot
//! make the client buffer an endless body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The largest answer body read from the API: 64 MiB, far above any JSON
/// answer or generated image.
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// The error a body over the cap ends with.
#[derive(Debug)]
pub struct TooLarge(pub u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the answer is larger than {} MiB; refusing to read further",
            self.0 / (1024 * 1024)
        )
    }
}

impl std::error::Error for TooLarge {}

/// `response` with a body that errors once it passes `max` bytes (at once if
/// its declared length already does). A body whose declared length is
/// within `max` is left as it is: HTTP/1 and HTTP/2 both end a body at its
/// `Content-Length` (reqwest decodes no compression here), so it cannot
/// grow past it.
pub fn limit(response: reqwest::Response, max: u64) -> reqwest::Response {
    if response
        .content_length()
        .is_some_and(|length| length <= max)
    {
        return response;
    }
    let (parts, body) = ::http::Response::from(response).into_parts();
    let capped = Capped {
        inner: body,
        left: max,
        max,
    };
    reqwest::Response::from(::http::Response::from_parts(
        parts,
        reqwest::Body::wrap(capped),
    ))
}

struct Capped {
    inner: reqwest::Body,
    left: u64,
    max: u64,
}

impl Body for Capped {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.inner.size_hint().lower() > self.max {
            return Poll::Ready(Some(Err(Box::new(TooLarge(self.max)))));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > self.left {
                    return Poll::Ready(Some(Err(Box::new(TooLarge(self.max)))));
                }
                self.left -= len;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            other => other.map(|o| o.map(|r| r.map_err(|e| Box::new(e) as Self::Error))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

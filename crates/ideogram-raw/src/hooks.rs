//! The generated clients' hooks: every request gets the auth header here, so
//! no call site can forget it.

use progenitor_client::{ClientHooks, Error, OperationInfo};

use crate::auth::Auth;
use crate::{ideogram, segmind};

#[expect(
    clippy::result_large_err,
    reason = "the hook signature fixes progenitor's error type"
)]
fn authorize<E>(auth: &Auth, request: &mut reqwest::Request) -> Result<(), Error<E>> {
    auth.apply(request.headers_mut())
        .map_err(|err| Error::InvalidRequest(err.to_string()))
}

/// Auth on the way out, a size cap on the way in.
macro_rules! hooks {
    ($client:ty) => {
        impl ClientHooks<Auth> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                _info: &OperationInfo,
            ) -> Result<(), Error<E>> {
                authorize(&self.inner, request)
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                _info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                let response = self.client.execute(request).await?;
                Ok(crate::limit::limit(
                    response,
                    crate::limit::MAX_ANSWER_BYTES,
                ))
            }
        }
    };
}

hooks!(segmind::Client);
hooks!(ideogram::Client);

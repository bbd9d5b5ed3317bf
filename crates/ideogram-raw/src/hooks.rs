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

impl ClientHooks<Auth> for segmind::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        authorize(&self.inner, request)
    }
}

impl ClientHooks<Auth> for ideogram::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        authorize(&self.inner, request)
    }
}

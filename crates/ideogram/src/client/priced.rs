//! The client's quotes (see [`crate::quote`]): a dry run sent as the
//! request would be, or the spec's price.

use ideogram_raw::ideogram::types::GenerationV2OrQuote;

use super::prepared::{Prepared, read};
use super::{Billing, Client};
use crate::edit::EditRequest;
use crate::error::Error;
use crate::quote::Quote;
use crate::request::GenerateRequest;
use crate::wire::WireRequest;

impl Client {
    /// What `request` would cost, without running it: Ideogram's dry run
    /// (free: nothing is generated, stored or billed) where its operation
    /// takes one, else the spec's price for the operation, marked as an
    /// estimate. The request is checked as [`generate`](Self::generate)
    /// checks it, and routed to the same operation.
    ///
    /// ```no_run
    /// use ideogram::{Client, GenerateRequest, Model};
    ///
    /// # async fn run() -> Result<(), ideogram::Error> {
    /// let client = Client::ideogram_from_env()?;
    /// let request = GenerateRequest::new("a lighthouse, poster").model(Model::V4_5);
    /// let quote = client.quote(&request).await?;
    /// println!("{quote}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn quote(&self, request: &GenerateRequest) -> Result<Quote, Error> {
        let lowered = request.lower(self.provider())?;
        let wire = read(&self.inner, lowered).await?;
        quote(self, &wire).await
    }

    /// What an edit would cost (see [`quote`](Self::quote)).
    pub async fn quote_edit(&self, request: &EditRequest) -> Result<Quote, Error> {
        let lowered = request.lower(self.provider())?;
        let wire = read(&self.inner, lowered).await?;
        quote(self, &wire).await
    }
}

/// The quote for sending `wire`.
pub(crate) async fn quote(client: &Client, wire: &WireRequest) -> Result<Quote, Error> {
    let operation = wire.operation();
    let conn = &*client.inner;
    let Some(flag) = operation.dry_run else {
        return crate::quote::estimate(operation, &wire.checked()?.payload().fields);
    };
    let mut payload = wire.checked()?.payload().clone();
    payload.query.push((flag, "true"));
    // Sent again only as a billed call would be: a server that ignored the
    // parameter would have run it.
    let attempt = || conn.send_once(operation, &payload);
    let answer = client.call_checked(Billing::Billed, attempt).await?;
    match conn.decode_json::<GenerationV2OrQuote>(answer).await? {
        GenerationV2OrQuote::PriceQuote(quote) => Ok(Quote::from_service(operation.id, quote)),
        GenerationV2OrQuote::GenerationV2(ran) => {
            let id = conn.redact(ran.generation_id.as_deref().unwrap_or("without an id"));
            Err(conn.invalid(format!(
                "asked for a price, it ran the request instead (billed; generation {id})"
            )))
        }
        other => Err(conn.invalid(format!("a price of a kind not known here: {other:?}"))),
    }
}

impl Prepared<'_> {
    /// What sending this request would cost (see [`Client::quote`]).
    pub async fn quote(&self) -> Result<Quote, Error> {
        quote(self.client(), self.wire()).await
    }

    /// The spec's price for sending this request (`x-price`), marked as an
    /// estimate: nothing is sent, not even a dry run, so a caller that
    /// only records what a paid call cost asks the service nothing more.
    pub fn estimate(&self) -> Result<Quote, Error> {
        let wire = self.wire();
        crate::quote::estimate(wire.operation(), &wire.checked()?.payload().fields)
    }
}

//! What a request would cost, known before it is sent: the service's own
//! price where the operation takes a dry run (Ideogram v2's `dry_run`,
//! free, nothing generated), else an estimate from the price the spec keeps
//! for the operation (`x-price`), marked as such with where it comes from.

use ideogram_raw::ideogram::types::{PriceQualifier, PriceQuote};
use ideogram_raw::operation::Operation;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::invalid::InvalidInput;

/// What a request would cost ([`Client::quote`]). Money is in millionths of
/// a US dollar, the unit of Ideogram's quotes and of its generations'
/// `usage_cost_usd_micros`, so figures compare without rounding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Quote {
    /// The operation priced (the spec's `operationId`).
    pub operation: &'static str,
    /// The product it is billed as, such as `ideogram_4_5_generate`.
    pub billing_identifier: String,
    /// Billable units, usually the images asked for.
    pub quantity: u64,
    /// The price.
    pub usd_micros: u64,
    /// The most it can cost, where the price is an estimate that has a cap.
    pub upper_bound_usd_micros: Option<u64>,
    /// The charge in thousandths of the account's credits, where the
    /// service says.
    pub credit_millis: Option<u64>,
    /// `exact`, or `estimate` (the service's own estimate, or the spec's
    /// table).
    pub qualifier: PriceQualifier,
    /// Where the figure comes from.
    pub source: QuoteSource,
}

/// Where a [`Quote`]'s figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuoteSource {
    /// The service priced this very request (a dry run).
    Service,
    /// The spec's price for the operation (`x-price`): the words say where
    /// that figure is from and how sure it is.
    Spec {
        /// Where the figure comes from, and when.
        source: &'static str,
        /// What it leaves out, where the spec says.
        note: Option<&'static str>,
    },
}

impl Quote {
    /// The most the request can cost: the cap of an estimate that has one,
    /// else the price (what a budget is checked against).
    pub fn most_usd_micros(&self) -> u64 {
        self.upper_bound_usd_micros.unwrap_or(self.usd_micros)
    }

    /// The service's quote for `operation`.
    pub(crate) fn from_service(operation: &'static str, quote: PriceQuote) -> Self {
        let whole = |n: i64| u64::try_from(n).unwrap_or_default();
        Self {
            operation,
            billing_identifier: quote.billing_identifier,
            quantity: whole(quote.quantity),
            usd_micros: whole(quote.usd_micros),
            upper_bound_usd_micros: quote.upper_bound_usd_micros.map(whole),
            credit_millis: Some(whole(quote.credit_millis)),
            qualifier: quote.qualifier,
            source: QuoteSource::Service,
        }
    }
}

impl std::fmt::Display for Quote {
    /// `$0.12 (2 x ideogram_4_5_generate, exact)`, with the cap of an
    /// estimate and where a spec figure comes from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (usd, units) = (dollars(self.usd_micros), self.quantity);
        write!(
            f,
            "{usd} ({units} x {}, {}",
            self.billing_identifier, self.qualifier
        )?;
        if let Some(most) = self.upper_bound_usd_micros {
            write!(f, ", at most {}", dollars(most))?;
        }
        match &self.source {
            QuoteSource::Service => write!(f, ")"),
            QuoteSource::Spec { source, .. } => write!(f, "; from {source})"),
        }
    }
}

/// Millionths of a dollar as `$0.06`, with as many decimals as it needs
/// (at least two, at most six).
pub fn dollars(usd_micros: u64) -> String {
    let (whole, micros) = (usd_micros / 1_000_000, usd_micros % 1_000_000);
    let digits = format!("{micros:06}");
    let kept = digits.trim_end_matches('0');
    let kept = if kept.len() < 2 { &digits[..2] } else { kept };
    format!("${whole}.{kept}")
}

/// The spec's price for `operation` sent `fields` (its nested request's
/// where the operation nests one).
pub(crate) fn estimate(
    operation: &'static Operation,
    mut fields: Map<String, Value>,
) -> Result<Quote, Error> {
    let Some(price) = operation.price else {
        let why = format!("the spec gives no price for {}", operation.id);
        return Err(InvalidInput::new("price", why).into());
    };
    if let Some(Value::Object(nested)) = operation
        .route
        .and_then(|r| r.nest)
        .and_then(|nest| fields.remove(nest))
    {
        fields = nested;
    }
    let Some((quantity, usd_micros)) = price.of(&fields) else {
        let field = price.by.unwrap_or("body");
        let priced: Vec<&str> = price.usd_micros.iter().map(|(value, _)| *value).collect();
        let why = format!("the spec prices only {}", priced.join(", "));
        return Err(InvalidInput::new(field, why).into());
    };
    Ok(Quote {
        operation: operation.id,
        billing_identifier: price.billing.to_owned(),
        quantity,
        usd_micros,
        upper_bound_usd_micros: None,
        credit_millis: None,
        qualifier: PriceQualifier::Estimate,
        source: QuoteSource::Spec {
            source: price.source,
            note: price.note,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_keep_the_cents_and_every_digit_that_counts() {
        assert_eq!(dollars(60_000), "$0.06");
        assert_eq!(dollars(8_000), "$0.008");
        assert_eq!(dollars(1_250_000), "$1.25");
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(1), "$0.000001");
    }

    #[test]
    fn an_estimate_reads_the_nested_request_and_names_an_unpriced_value() {
        let ops = ideogram_raw::ideogram::operations::ALL;
        let op = ops
            .iter()
            .find(|op| op.id == "post_generate_v2_ideogram_4")
            .expect("4.0");
        let fields = |v: Value| v.as_object().cloned().expect("an object");
        let quote = estimate(
            op,
            fields(serde_json::json!({"rendering_speed": "turbo", "num_images": 2})),
        )
        .expect("priced");
        assert_eq!((quote.quantity, quote.usd_micros), (2, 60_000));
        assert_eq!(quote.qualifier, PriceQualifier::Estimate);
        let error = estimate(op, fields(serde_json::json!({"rendering_speed": "warp"})))
            .expect_err("not priced");
        assert!(error.to_string().contains("rendering_speed"), "{error}");
    }
}

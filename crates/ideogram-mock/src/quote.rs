//! Dry runs: `?dry_run=true` (the query parameter an operation declares
//! with `x-price-quote`) on an operation that takes one answers the
//! request's `PriceQuote`, priced from the spec's `x-price`, once the body
//! has passed its checks; nothing runs, is recorded or billed. An operation
//! that declares no dry run ignores the parameter and runs, billed, as
//! Ideogram warns it may.

use axum::response::Response;
use ideogram_raw::ideogram::types::{PriceQualifier, PriceQuote, PriceQuoteObject};
use ideogram_raw::operation::Operation;
use serde_json::{Map, Value};

use crate::serve::{error, json};

/// Millionths of a dollar per thousandth of a credit, at the rate of the
/// documentation's example (60000 µUSD quoted as 6000 credit millis).
const USD_MICROS_PER_CREDIT_MILLI: u64 = 10;

/// Whether `query` asks `op` for a dry run.
pub(crate) fn asked(op: &Operation, query: Option<&str>) -> bool {
    let (Some(name), Some(query)) = (op.dry_run, query) else {
        return false;
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(key, value)| key == name && value == "true")
}

/// What `op` would charge for a body with `fields`, in millionths of a
/// dollar, with the units it counts: `None` where the spec prices neither
/// the operation nor the value asked for.
pub(crate) fn priced(op: &Operation, fields: &Map<String, Value>) -> Option<(u64, u64)> {
    op.price?.of(fields)
}

/// The quote for `op` asked with `fields`, as the generated type has it.
pub(crate) fn answer(op: &Operation, fields: &Map<String, Value>) -> Response {
    let (Some(price), Some((quantity, usd_micros))) = (op.price, priced(op, fields)) else {
        let field = op.price.and_then(|p| p.by).unwrap_or("body");
        return error(400, format!("{field}: not a value this operation prices"));
    };
    let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let quote = PriceQuote {
        object: PriceQuoteObject::PriceQuote,
        billing_identifier: price.billing.to_owned(),
        quantity: whole(quantity),
        usd_micros: whole(usd_micros),
        credit_millis: whole(usd_micros / USD_MICROS_PER_CREDIT_MILLI),
        qualifier: PriceQualifier::Exact,
        upper_bound_usd_micros: None,
    };
    json(
        200,
        serde_json::to_value(quote).expect("a generated quote is JSON"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str) -> &'static Operation {
        let ops = ideogram_raw::ideogram::operations::ALL;
        ops.iter().find(|op| op.id == id).expect(id)
    }

    #[test]
    fn only_a_declared_dry_run_set_to_true_is_one() {
        let generate = op("post_generate_v2_ideogram_3");
        assert!(asked(generate, Some("dry_run=true")));
        assert!(asked(generate, Some("x=1&dry_run=true")));
        assert!(!asked(generate, Some("dry_run=false")));
        assert!(!asked(generate, None));
        // Describe declares none: the parameter is ignored, the call runs.
        assert!(!asked(
            op("post_describe_v2_ideogram_4"),
            Some("dry_run=true")
        ));
    }
}

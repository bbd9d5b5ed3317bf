//! One request priced on every provider (`quote --compare`), and the
//! cheapest of them picked (`--provider cheapest` on `generate` and
//! `quote`). Each provider quotes as `quote` does (Ideogram's free dry run,
//! else the spec's price); nothing is billed. The cheapest is the lowest
//! most-it-may-cost ([`Quote::most_usd_micros`]), so a range is judged by
//! its top; a tie goes to the provider named first in [`Provider::ALL`].

use ideogram::{GenerateRequest, Provider, Quote, dollars};
use serde_json::{Value, json};

use crate::connect;
use crate::failure::{Failure, INTERRUPTED, USAGE};
use crate::options::Connection;
use crate::output::{say, tell};
use crate::signals::Signals;

/// One provider's quote for the request, or why it has none.
struct Row {
    provider: Provider,
    quote: Result<Quote, Failure>,
}

/// Quotes `request` on every provider as `connection` reaches them (a
/// provider without a key gets that failure on its row; `--offline`
/// quotes all on one built-in mock).
async fn rows(
    connection: &Connection,
    request: &GenerateRequest,
    signals: &Signals,
) -> Result<Vec<Row>, Failure> {
    let mock = match connection.offline {
        true => Some(connect::offline().await?),
        false => None,
    };
    let mut rows = Vec::new();
    for provider in Provider::ALL {
        let quote = match connect::session(connection, provider, mock.clone()) {
            Ok(session) => signals
                .unless(1, session.client.quote(request))
                .await
                .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted: a quote is never billed"))?
                .map_err(|e| Failure::from_error(e, provider)),
            Err(failure) => Err(failure),
        };
        rows.push(Row { provider, quote });
    }
    Ok(rows)
}

/// The row with the lowest most-it-may-cost, the first such on a tie.
fn cheapest(rows: &[Row]) -> Option<(Provider, &Quote)> {
    let priced = rows
        .iter()
        .filter_map(|row| Some((row.provider, row.quote.as_ref().ok()?)));
    priced.min_by_key(|(_, quote)| quote.most_usd_micros())
}

/// When no provider could price it: the failure to act on first.
fn none_priced(rows: Vec<Row>) -> Failure {
    let failures = rows.into_iter().filter_map(|row| row.quote.err());
    failures
        .reduce(Failure::graver)
        .unwrap_or_else(|| Failure::new(USAGE, "no provider to quote"))
}

/// `quote --compare`: one line per provider (its quote and typical time,
/// or why it has none) and the cheapest; `--json`, the same as an object.
/// Fails only when no provider can price the request.
pub(crate) async fn compare(
    connection: &Connection,
    request: &GenerateRequest,
    json: bool,
    signals: &Signals,
) -> Result<(), Failure> {
    let rows = rows(connection, request, signals).await?;
    let Some((best, _)) = cheapest(&rows) else {
        return Err(none_priced(rows));
    };
    let typical = |row: &Row| {
        let quote = row.quote.as_ref().ok()?;
        row.provider.typical(quote.operation)
    };
    if json {
        let providers: Vec<Value> = rows
            .iter()
            .map(|row| match &row.quote {
                Ok(quote) => json!({
                    "provider": row.provider.to_string(),
                    "quote": quote,
                    "typical_seconds": typical(row).map(|t| t.as_secs_f64()),
                }),
                Err(failure) => {
                    let mut value = failure.to_json();
                    value["provider"] = json!(row.provider.to_string());
                    value
                }
            })
            .collect();
        let answer = json!({"providers": providers, "cheapest": best.to_string()});
        say(&crate::output::json_text(&answer));
        return Ok(());
    }
    let width = Provider::ALL
        .iter()
        .map(|p| p.to_string().len())
        .max()
        .unwrap_or(0);
    for row in &rows {
        let name = row.provider.to_string();
        let line = match &row.quote {
            Ok(quote) => match typical(row) {
                Some(t) => format!("{quote}, typically {:.0} s", t.as_secs_f64()),
                None => format!("{quote}, typical time not in the spec"),
            },
            Err(failure) => format!("cannot quote: {}", failure.message),
        };
        say(&format!("{name:width$}  {line}"));
    }
    say(&format!("cheapest: {best}"));
    Ok(())
}

/// `--provider cheapest`: the provider whose quote for `request` may cost
/// least, said on stderr with what it may cost.
pub(crate) async fn pick(
    connection: &Connection,
    request: &GenerateRequest,
    signals: &Signals,
) -> Result<Provider, Failure> {
    let rows = rows(connection, request, signals).await?;
    let Some((best, quote)) = cheapest(&rows) else {
        return Err(none_priced(rows));
    };
    let others: Vec<String> = rows
        .iter()
        .filter(|row| row.provider != best)
        .map(|row| match &row.quote {
            Ok(quote) => format!(
                "{} at most {}",
                row.provider,
                dollars(quote.most_usd_micros())
            ),
            Err(failure) => format!("{}: {}", row.provider, failure.message),
        })
        .collect();
    tell(&format!(
        "cheapest: {best} (at most {}; {})",
        dollars(quote.most_usd_micros()),
        others.join("; ")
    ));
    Ok(best)
}

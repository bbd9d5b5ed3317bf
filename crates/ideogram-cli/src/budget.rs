//! Budgets (`--max-usd`), quotes (`--quote`) and what a paid call cost.
//!
//! A command given `--max-usd` quotes its request first (the library's
//! [`ideogram::Quote`]: Ideogram's free dry run, or the spec's price) and
//! refuses, sending nothing, when the most it can cost passes the budget,
//! or when no price is known. Given `--quote`, it takes the same quote,
//! prints it and stops. A batch keeps a [`Spending`] account: what
//! its journal says was spent, plus the most each item in flight can cost.
//! Money is in millionths of a dollar throughout, never a float.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use ideogram::{Error, Provider, Quote, dollars};
use serde_json::json;

use crate::failure::{Failure, INTERRUPTED, INVALID, OVER_BUDGET};
use crate::output::say;
use crate::signals::Signals;

/// The option's name, in messages and in the amount parser's.
pub(crate) const FLAG: &str = "--max-usd";

/// What the command line asks of a spending command's price.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pricing {
    /// `--max-usd`, in millionths of a dollar.
    pub max_usd: Option<u64>,
    /// `--quote`: print the price, send nothing that bills.
    pub quote: bool,
}

impl Pricing {
    /// What `args` (a spending command's; `None` for another) ask:
    /// `--max-usd`'s amount in millionths of a dollar, or an invalid
    /// request naming the flag when it is not an amount.
    pub(crate) fn of(args: Option<&crate::options::BudgetArgs>) -> Result<Self, Failure> {
        let Some(args) = args else {
            return Ok(Self::default());
        };
        let max_usd = args
            .max_usd
            .as_deref()
            .map(|text| ideogram::usd_micros_from_dollars(text, FLAG).map_err(Failure::from));
        Ok(Self {
            max_usd: max_usd.transpose()?,
            quote: args.quote,
        })
    }
}

/// The quote `pricing` takes (a dry run is free; the spec's price sends
/// nothing), unless interrupted first.
async fn take(
    signals: &Signals,
    pricing: impl Future<Output = Result<Quote, Error>>,
) -> Result<Result<Quote, Error>, Failure> {
    signals
        .unless(1, pricing)
        .await
        .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))
}

/// The price `pricing` takes, kept to `budget` ([`within`]): what every
/// one-shot command given `--max-usd` checks before sending.
pub(crate) async fn checked(
    signals: &Signals,
    pricing: impl Future<Output = Result<Quote, Error>>,
    budget: u64,
    provider: Provider,
) -> Result<Quote, Failure> {
    within(take(signals, pricing).await?, budget, provider)
}

/// `--quote`: the price `pricing` takes, printed (as a line, or with
/// `json` as the library's [`Quote`]), then, with a `budget`, refused as
/// [`within`] refuses it. Nothing that bills is sent: the caller stops
/// here. A request with no known price is the library's error, naming
/// the operation.
pub(crate) async fn quoted(
    signals: &Signals,
    pricing: impl Future<Output = Result<Quote, Error>>,
    (budget, json): (Option<u64>, bool),
    provider: Provider,
) -> Result<(), Failure> {
    let quote = take(signals, pricing)
        .await?
        .map_err(|e| Failure::from_error(e, provider))?;
    if json {
        let value = serde_json::to_value(&quote).expect("a quote is JSON");
        say(&crate::output::json_text(&value));
    } else {
        say(&quote.to_string());
    }
    match budget {
        Some(budget) => within(Ok(quote), budget, provider).map(drop),
        None => Ok(()),
    }
}

/// A batch's `--quote`: each line to send (its index and quote) and what
/// `earlier` runs spent, printed: the total (with the most it can cost)
/// and the most expensive lines; with `json`, every line's quote beside
/// the totals. With a `budget`, then refused as [`batch_within`] refuses.
pub(crate) fn batch_quoted(
    mut lines: Vec<(usize, &Quote)>,
    earlier: u64,
    (budget, json): (Option<u64>, bool),
) -> Result<(), Failure> {
    lines.sort_unstable_by_key(|(index, _)| *index);
    let price: u64 = lines.iter().map(|(_, quote)| quote.usd_micros).sum();
    let most: Vec<(usize, u64)> = lines
        .iter()
        .map(|(index, quote)| (*index, quote.most_usd_micros()))
        .collect();
    let upper: u64 = most.iter().map(|(_, most)| most).sum();
    if json {
        let items: Vec<_> = lines
            .iter()
            .map(|(index, quote)| json!({"item": index + 1, "quote": quote}))
            .collect();
        let answer = json!({
            "items": items,
            "usd_micros": price,
            "most_usd_micros": upper,
            "earlier_usd_micros": earlier,
        });
        say(&crate::output::json_text(&answer));
    } else {
        let cap = if upper > price {
            format!(", up to {}", dollars(upper))
        } else {
            String::new()
        };
        say(&format!(
            "{} items to send: {}{cap}",
            lines.len(),
            dollars(price)
        ));
        if earlier > 0 {
            say(&format!("spent by earlier runs: {}", dollars(earlier)));
        }
        let mut dearest = lines.clone();
        dearest.sort_by(|a, b| {
            b.1.most_usd_micros()
                .cmp(&a.1.most_usd_micros())
                .then(a.0.cmp(&b.0))
        });
        if !dearest.is_empty() {
            say("the most expensive:");
        }
        for (index, quote) in dearest.iter().take(DEAREST) {
            say(&format!("  item {}: {quote}", index + 1));
        }
    }
    match budget {
        Some(budget) => batch_within(earlier, most, budget),
        None => Ok(()),
    }
}

/// How many of a batch's most expensive lines a refusal or a quote names.
const DEAREST: usize = 5;

/// The refusal of a batch quote some of whose lines have no known price:
/// each with why (nothing was sent).
pub(crate) fn batch_unpriced(lines: &[String]) -> Failure {
    Failure::new(
        INVALID,
        format!("nothing was sent; no price known: {}", lines.join("; ")),
    )
}

/// A quote taken for `budget`: the quote when the most it can cost is
/// within it; else the refusal (nothing is sent), which says the price and
/// the budget. A request with no known price is refused too: its cost
/// cannot be kept within anything.
pub(crate) fn within(
    quote: Result<Quote, Error>,
    budget: u64,
    provider: Provider,
) -> Result<Quote, Failure> {
    let quote = match quote {
        Ok(quote) => quote,
        // The request itself was checked before it was priced: what the
        // quote refuses is its price.
        Err(Error::Validation(why)) => return Err(unpriced(&why.to_string())),
        Err(other) => return Err(Failure::from_error(other, provider)),
    };
    let most = quote.most_usd_micros();
    if most > budget {
        return Err(Failure::new(
            OVER_BUDGET,
            format!(
                "not sent: it would cost {}{}, more than {FLAG} {}: {quote}",
                if quote.upper_bound_usd_micros.is_some() {
                    "up to "
                } else {
                    ""
                },
                dollars(most),
                dollars(budget)
            ),
        )
        .hint(format!(
            "raise {FLAG}, or ask for less (fewer images, a cheaper speed or model)"
        )));
    }
    Ok(quote)
}

/// Whether a batch keeps to `budget`: `earlier` already spent (or maybe
/// spent) by earlier runs, and `to_send`, each line still to send (its
/// index) with the most it can cost. Refused, saying the total and the
/// most expensive lines, when the total passes the budget.
pub(crate) fn batch_within(
    earlier: u64,
    mut to_send: Vec<(usize, u64)>,
    budget: u64,
) -> Result<(), Failure> {
    let sending: u64 = to_send.iter().map(|(_, most)| most).sum();
    let total = earlier.saturating_add(sending);
    // Nothing left to send spends nothing more, whatever was spent before.
    if to_send.is_empty() || total <= budget {
        return Ok(());
    }
    to_send.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let dearest: Vec<String> = to_send
        .iter()
        .take(DEAREST)
        .map(|(index, most)| format!("item {} up to {}", index + 1, dollars(*most)))
        .collect();
    let before = if earlier > 0 {
        format!("{} spent by earlier runs and ", dollars(earlier))
    } else {
        String::new()
    };
    Err(Failure::new(
        OVER_BUDGET,
        format!(
            "nothing was sent: the batch could cost up to {} ({before}up to {} for the {} items to send), \
             more than {FLAG} {}; the most expensive: {}",
            dollars(total),
            dollars(sending),
            to_send.len(),
            dollars(budget),
            dearest.join(", ")
        ),
    )
    .hint(format!("raise {FLAG}, or split the batch")))
}

/// The refusal of a request whose price is not known.
pub(crate) fn unpriced(why: &str) -> Failure {
    Failure::new(
        OVER_BUDGET,
        format!("not sent: no price known: cannot keep to {FLAG} ({why})"),
    )
    .hint(format!("drop {FLAG} to send it without a price"))
}

/// A batch's account under a budget: what each item spent or may spend.
/// An item is charged the most it can cost before it is sent, and settled
/// at what it cost once paid; one certainly not billed is given back. What
/// earlier runs spent (or may have: an item sent with no cost recorded) is
/// kept apart, so that an item sent again is counted twice, as it may be
/// billed twice.
pub(crate) struct Spending {
    budget: u64,
    items: Mutex<Accounts>,
}

/// Per item: what earlier runs spent, and what this run charged.
struct Accounts {
    earlier: HashMap<usize, u64>,
    now: HashMap<usize, u64>,
}

impl Accounts {
    fn total(&self) -> u64 {
        self.earlier.values().chain(self.now.values()).sum()
    }
}

impl Spending {
    /// An account for `budget` holding what earlier runs spent per item.
    pub(crate) fn new(budget: u64, earlier: HashMap<usize, u64>) -> Self {
        Self {
            budget,
            items: Mutex::new(Accounts {
                earlier,
                now: HashMap::new(),
            }),
        }
    }

    /// The total charged so far.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.items.lock().expect("spending").total()
    }

    /// Charges item `index` the most it can cost, `most`, unless that
    /// takes the total past the budget: then the refusal, nothing charged.
    pub(crate) fn charge(&self, index: usize, most: u64) -> Result<(), Failure> {
        let mut items = self.items.lock().expect("spending");
        let others = items.total() - items.now.get(&index).copied().unwrap_or(0);
        if others.saturating_add(most) > self.budget {
            return Err(Failure::new(
                OVER_BUDGET,
                format!(
                    "not sent: {} spent or in flight plus up to {} for this item passes {FLAG} {}",
                    dollars(others),
                    dollars(most),
                    dollars(self.budget)
                ),
            ));
        }
        items.now.insert(index, most);
        Ok(())
    }

    /// Item `index` cost `usd_micros`: what this run charged it, or else
    /// (a paid result an earlier run left to fetch) what that run spent.
    pub(crate) fn settle(&self, index: usize, usd_micros: u64) {
        let mut items = self.items.lock().expect("spending");
        let account = if items.now.contains_key(&index) {
            &mut items.now
        } else {
            &mut items.earlier
        };
        account.insert(index, usd_micros);
    }

    /// What this run charged item `index` was certainly not billed.
    pub(crate) fn release(&self, index: usize) {
        self.items.lock().expect("spending").now.remove(&index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_never_charges_past_its_budget() {
        let spending = Spending::new(200, HashMap::from([(0, 60)]));
        spending.charge(1, 100).expect("160 of 200");
        let refused = spending.charge(2, 41).expect_err("201 of 200");
        assert_eq!(refused.code, OVER_BUDGET);
        // Settling below the charge frees the difference.
        spending.settle(1, 90);
        spending.charge(2, 50).expect("200 of 200");
        assert_eq!(spending.total(), 200);
        spending.release(2);
        assert_eq!(spending.total(), 150);
        // An item an earlier run may have paid for, sent again, counts twice.
        spending
            .charge(0, 50)
            .expect("60 before, 50 now, 90: 200 of 200");
        assert_eq!(spending.total(), 200);
        assert!(spending.charge(3, 1).is_err());
    }
}

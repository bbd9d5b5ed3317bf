//! Budgets (`--max-usd`) and what a paid call cost.
//!
//! A command given `--max-usd` quotes its request first (the library's
//! [`ideogram::Quote`]: Ideogram's free dry run, or the spec's price) and
//! refuses, sending nothing, when the most it can cost passes the budget,
//! or when no price is known. A batch keeps a [`Spending`] account: what
//! its journal says was spent, plus the most each item in flight can cost.
//! Money is in millionths of a dollar throughout, never a float.

use std::collections::HashMap;
use std::sync::Mutex;

use ideogram::{Error, Provider, Quote, dollars};

use crate::failure::{Failure, OVER_BUDGET};

/// The option's name, in messages and in the amount parser's.
pub(crate) const FLAG: &str = "--max-usd";

/// `--max-usd`'s amount in millionths of a dollar, or `None` when not
/// given; an amount that is not one is an invalid request naming the flag.
pub(crate) fn limit(text: Option<&str>) -> Result<Option<u64>, Failure> {
    text.map(|text| ideogram::usd_micros_from_dollars(text, FLAG).map_err(Failure::from))
        .transpose()
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
    if total <= budget {
        return Ok(());
    }
    to_send.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let dearest: Vec<String> = to_send
        .iter()
        .take(5)
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

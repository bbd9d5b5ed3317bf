//! The server's running spend and its budget (`ideogram mcp --max-usd`):
//! what its paid calls cost, and a call refused, before anything is sent,
//! when the most it can cost would pass the budget. Money is in micro-USD,
//! as the library's quotes are.

use std::sync::Mutex;

use ideogram::{Quote, dollars};
use serde_json::{Value, json};

use crate::failure::{Failure, OVER_BUDGET};

use super::answer::{Billed, Refused};

/// What this server spent and may still spend.
#[derive(Debug, Default)]
pub(super) struct Budget {
    /// `--max-usd`, when given.
    max: Option<u64>,
    sums: Mutex<Sums>,
}

#[derive(Debug, Default)]
struct Sums {
    /// What the paid calls cost: the service's figure where it gave one,
    /// else the most their quote said they can cost.
    spent: u64,
    /// The most the calls running now can cost: counted against the
    /// budget until they end, so that calls running together never pass
    /// it between them.
    held: u64,
}

/// The most a call running now can cost, held against the budget until
/// it is settled: [`Hold::release`] when it certainly was not billed,
/// [`Hold::settle`] with what it cost; dropped otherwise (it may have been
/// billed), the most is counted as spent.
#[derive(Debug)]
pub(super) struct Hold<'a> {
    budget: &'a Budget,
    most: u64,
}

impl Budget {
    /// A budget of `max` micro-USD (none: only the spend is kept).
    pub(super) fn new(max: Option<u64>) -> Self {
        Self {
            max,
            sums: Mutex::default(),
        }
    }

    /// Whether calls are checked against a budget (and so quoted first).
    pub(super) fn limited(&self) -> bool {
        self.max.is_some()
    }

    /// Holds `quote`'s most against the budget, or refuses the call
    /// (nothing sent) when that would pass it.
    pub(super) fn hold(&self, quote: &Quote) -> Result<Hold<'_>, Refused> {
        self.hold_most(quote.most_usd_micros(), &quote.to_string())
    }

    /// [`Budget::hold`] of `most` micro-USD, `priced` saying how.
    fn hold_most(&self, most: u64, priced: &str) -> Result<Hold<'_>, Refused> {
        let mut sums = self.sums.lock().expect("budget");
        if let Some(max) = self.max {
            let committed = sums.spent.saturating_add(sums.held);
            if committed.saturating_add(most) > max {
                let left = max.saturating_sub(committed);
                let failure = Failure::new(
                    OVER_BUDGET,
                    format!(
                        "over this server's budget: the call may cost {} ({priced}), and {} of \
                         the {} budget is left ({} spent{}); nothing was sent",
                        dollars(most),
                        dollars(left),
                        dollars(max),
                        dollars(sums.spent),
                        if sums.held > 0 {
                            format!(", {} held by calls running now", dollars(sums.held))
                        } else {
                            String::new()
                        }
                    ),
                )
                .hint("ask for less (fewer images, a cheaper model), or ask the user for a larger budget");
                return Err(Refused::new(failure, Billed::No));
            }
        }
        sums.held = sums.held.saturating_add(most);
        Ok(Hold { budget: self, most })
    }

    /// Refuses a call the library cannot price when a budget is set: it
    /// could pass the budget unseen. Nothing is sent.
    pub(super) fn unpriced(&self, why: &str) -> Result<(), Refused> {
        let Some(max) = self.max else {
            return Ok(());
        };
        let failure = Failure::new(
            OVER_BUDGET,
            format!(
                "no price known ({why}): this server keeps to a budget of {} and sends no call \
                 it cannot price; nothing was sent",
                dollars(max)
            ),
        )
        .hint("ask the user to serve this without a budget, or use a priced tool or model");
        Err(Refused::new(failure, Billed::No))
    }

    /// Counts `cost` as spent (a call priced without a hold).
    pub(super) fn spend(&self, cost: u64) {
        let mut sums = self.sums.lock().expect("budget");
        sums.spent = sums.spent.saturating_add(cost);
    }

    /// `spent`, and `left` under a budget, in dollars, for an answer.
    pub(super) fn said(&self) -> Value {
        let sums = self.sums.lock().expect("budget");
        match self.max {
            Some(max) => json!({
                "spent": dollars(sums.spent),
                "left": dollars(max.saturating_sub(sums.spent.saturating_add(sums.held))),
            }),
            None => json!({ "spent": dollars(sums.spent) }),
        }
    }
}

impl Hold<'_> {
    /// Certainly not billed: the budget is as it was.
    pub(super) fn release(self) {
        self.end(None);
    }

    /// Billed: `cost` (the service's own figure) is spent, else the most
    /// the quote said.
    pub(super) fn settle(self, cost: Option<u64>) {
        let cost = cost.unwrap_or(self.most);
        self.end(Some(cost));
    }

    /// Settles by what a refused call says of its billing.
    pub(super) fn settle_refused(self, billed: Billed) {
        match billed {
            Billed::No => self.release(),
            // Maybe billed: counted as the most it could cost.
            Billed::Yes | Billed::Maybe => self.settle(None),
        }
    }

    fn end(self, spent: Option<u64>) {
        let this = std::mem::ManuallyDrop::new(self);
        let mut sums = this.budget.sums.lock().expect("budget");
        sums.held = sums.held.saturating_sub(this.most);
        if let Some(cost) = spent {
            sums.spent = sums.spent.saturating_add(cost);
        }
    }
}

impl Drop for Hold<'_> {
    /// Ended unsettled (a panic, an abandoned call): it may have been
    /// billed, so the most counts as spent.
    fn drop(&mut self) {
        let mut sums = self.budget.sums.lock().expect("budget");
        sums.held = sums.held.saturating_sub(self.most);
        sums.spent = sums.spent.saturating_add(self.most);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_never_pass_the_budget_between_them() {
        let budget = Budget::new(Some(100));
        let first = budget.hold_most(60, "60").unwrap();
        // Running together: the first's most is held.
        let refused = budget.hold_most(50, "50").unwrap_err();
        assert_eq!(refused.billed, Billed::No);
        assert!(
            refused.failure.message.contains("$0.00004"),
            "{}",
            refused.failure
        );
        first.settle(Some(30));
        let second = budget.hold_most(50, "50").unwrap();
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.00003", "left": "$0.00002"})
        );
        second.settle_refused(Billed::No);
        let third = budget.hold_most(70, "70").unwrap();
        drop(third);
        assert_eq!(budget.said(), json!({"spent": "$0.0001", "left": "$0.00"}));
        assert!(budget.hold_most(1, "1").is_err());
        assert!(budget.hold_most(0, "0").is_ok());
    }

    #[test]
    fn without_a_budget_only_the_spend_is_said() {
        let budget = Budget::new(None);
        budget.spend(60_000);
        budget.hold_most(u64::MAX, "all").unwrap().settle(Some(1));
        assert_eq!(budget.said(), json!({"spent": "$0.060001"}));
        assert!(budget.unpriced("describe").is_ok());
        assert!(Budget::new(Some(1)).unpriced("describe").is_err());
    }
}

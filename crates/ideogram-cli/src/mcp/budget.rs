//! The server's running spend and its budget (`ideogram mcp --max-usd`):
//! what its paid calls cost, and a call refused, before anything is sent,
//! when the most it can cost would pass the budget. Money is in micro-USD,
//! as the library's quotes are.
//!
//! The spend outlives the process: a call settled as billed gives the
//! journal's `cost` entry to record (the server records it before
//! answering), a call sent records the most it can cost in its `sending`
//! entry, and a server starts from what the folder's server journals
//! record ([`spent_in`]): their costs, and the most of every call they say
//! was sent and may have been billed with no cost recorded (killed while
//! it ran, or its answer lost). So a restart, or a crash, never gives the
//! budget back.

use std::sync::Mutex;

use ideogram::{Provider, Quote, dollars};
use serde_json::{Value, json};

use crate::cost::{Cost, CostFrom};
use crate::failure::{Failure, OVER_BUDGET};
use crate::journal::{Entry, ItemState};

use super::answer::{Billed, Refused};

/// What this server spent and may still spend.
#[derive(Debug, Default)]
pub(super) struct Budget {
    /// `--max-usd`, when given.
    max: Option<u64>,
    sums: Mutex<Sums>,
}

/// What paid calls cost, as far as it is known: at least `least`, at
/// most `most` (one figure where the service said it, a range where their
/// quote was one, nothing at least where a call only may have been billed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spent {
    /// The least they cost.
    pub(super) least: u64,
    /// The most they cost: what the budget counts.
    pub(super) most: u64,
    /// Whether one was paid at a price nothing knows (only without a
    /// budget, which refuses such a call): then nothing bounds the most.
    pub(super) unpriced: bool,
}

impl Spent {
    /// One figure, `usd_micros`.
    fn exactly(usd_micros: u64) -> Self {
        Self {
            least: usd_micros,
            most: usd_micros,
            unpriced: false,
        }
    }

    /// The two added.
    pub(super) fn plus(self, other: Self) -> Self {
        Self {
            least: self.least.saturating_add(other.least),
            most: self.most.saturating_add(other.most),
            unpriced: self.unpriced || other.unpriced,
        }
    }

    /// In dollars: `$0.10`, `$0.037 to $0.113` where it is a range, or
    /// `at least $0.10` where a price is not known.
    pub(super) fn said(self) -> String {
        if self.unpriced {
            return format!("at least {}", dollars(self.least));
        }
        match self.least < self.most {
            true => format!("{} to {}", dollars(self.least), dollars(self.most)),
            false => dollars(self.most),
        }
    }
}

#[derive(Debug, Default)]
struct Sums {
    /// What the paid calls cost: the service's figure where it gave one,
    /// else what their quote said (a range where it was one); a call that
    /// may have been billed counts up to the most it can cost.
    spent: Spent,
    /// The most the calls running now can cost: counted against the
    /// budget until they end, so that calls running together never pass
    /// it between them.
    held: u64,
}

/// The paid call a hold or a spend is for: what its `cost` entry names.
#[derive(Debug, Clone)]
pub(super) struct Charge {
    /// The call's item in the server's journal.
    pub(super) item: usize,
    /// Who bills it.
    pub(super) provider: Provider,
    /// The model it runs, where the call names one.
    pub(super) model: Option<String>,
}

impl Charge {
    /// The journal's `cost` entry for this call: `usd_micros`, up to
    /// `upper` where it is a range's low end, `from`.
    fn entry(self, (usd_micros, upper): (u64, Option<u64>), from: CostFrom) -> Entry {
        Entry::Cost {
            item: self.item,
            cost: Cost {
                usd_micros,
                upper_bound_usd_micros: upper,
                from,
                provider: Some(self.provider.to_string()),
                model: self.model,
                at: Some(crate::clock::now()),
            },
        }
    }
}

/// The most a call running now can cost, held against the budget until
/// it is settled: [`Hold::release`] when it certainly was not billed,
/// [`Hold::settle`] with what it cost; dropped otherwise (it may have been
/// billed), the most is counted as spent.
#[derive(Debug)]
pub(super) struct Hold<'a> {
    budget: &'a Budget,
    /// The least the call can cost (a range's low end), for its record.
    least: u64,
    most: u64,
    /// Where the most comes from (the dry run, or the spec's price).
    from: CostFrom,
    charge: Charge,
    /// Settled or released: nothing is left for [`Drop`] to count.
    ended: bool,
}

impl Budget {
    /// A budget of `max` micro-USD (none: only the spend is kept), `spent`
    /// of it spent already (what the journals record: [`spent_in`]; the
    /// budget counts its most).
    pub(super) fn new(max: Option<u64>, spent: Spent) -> Self {
        Self {
            max,
            sums: Mutex::new(Sums { spent, held: 0 }),
        }
    }

    /// Whether calls are checked against a budget (and so quoted first).
    pub(super) fn limited(&self) -> bool {
        self.max.is_some()
    }

    /// Holds `quote`'s most against the budget for `charge`, or refuses
    /// the call (nothing sent) when that would pass it.
    pub(super) fn hold(&self, quote: &Quote, charge: Charge) -> Result<Hold<'_>, Refused> {
        let from = Cost::from_quote(quote);
        let most = quote.most_usd_micros();
        let mut hold = self.hold_most((most, from), &quote.to_string(), charge)?;
        hold.least = quote.usd_micros.min(most);
        Ok(hold)
    }

    /// [`Budget::hold`] of `most` micro-USD (from where), `priced` saying
    /// how.
    fn hold_most(
        &self,
        (most, from): (u64, CostFrom),
        priced: &str,
        charge: Charge,
    ) -> Result<Hold<'_>, Refused> {
        let mut sums = self.sums.lock().expect("budget");
        if let Some(max) = self.max {
            let committed = sums.spent.most.saturating_add(sums.held);
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
                        sums.spent.said(),
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
        Ok(Hold {
            budget: self,
            least: most,
            most,
            from,
            charge,
            ended: false,
        })
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

    /// Counts a billed call priced without a hold as spent: `cost`, the
    /// service's figure, where it gave one, else paid at a price nothing
    /// knows (a call the spec does not price, sent without a budget). The
    /// `cost` entry to journal.
    pub(super) fn spend(&self, charge: Charge, cost: Option<u64>) -> Entry {
        let mut sums = self.sums.lock().expect("budget");
        let Some(cost) = cost else {
            sums.spent.unpriced = true;
            return charge.entry((0, None), CostFrom::Unknown);
        };
        sums.spent = sums.spent.plus(Spent::exactly(cost));
        charge.entry((cost, None), CostFrom::Service)
    }

    /// `spent` (a range where what was billed is not known to the
    /// micro-dollar), and `left` under a budget, in dollars, for an answer.
    pub(super) fn said(&self) -> Value {
        let sums = self.sums.lock().expect("budget");
        match self.max {
            Some(max) => json!({
                "spent": sums.spent.said(),
                "left": dollars(max.saturating_sub(sums.spent.most.saturating_add(sums.held))),
            }),
            None => json!({ "spent": sums.spent.said() }),
        }
    }
}

impl Hold<'_> {
    /// The most the call can cost: its `sending` entry records it, so
    /// that a restart counts it while the journal says nothing more.
    pub(super) fn most(&self) -> u64 {
        self.most
    }

    /// Certainly not billed: the budget is as it was.
    pub(super) fn release(self) {
        let _ = self.end(None);
    }

    /// Billed: `cost` (the service's own figure) is spent, else the most
    /// the quote said. The `cost` entry to journal before answering: the
    /// service's figure, else the quote's, a range where it is one (what
    /// was billed within it is not known, so not said).
    pub(super) fn settle(self, cost: Option<u64>) -> Entry {
        let (recorded, from) = match cost {
            Some(cost) => ((cost, None), CostFrom::Service),
            None => ((self.least, Cost::upper(self.least, self.most)), self.from),
        };
        let counted = match cost {
            Some(cost) => Spent::exactly(cost),
            None => Spent {
                least: self.least,
                most: self.most,
                unpriced: false,
            },
        };
        self.end(Some(counted)).entry(recorded, from)
    }

    /// Settles by what a refused call says of its billing; the `cost`
    /// entry to journal when it was billed. Maybe billed: the most is
    /// counted as spent, and no cost journaled (`ideogram spend` says what
    /// was billed): its `sending` entry's most is what a restart counts.
    pub(super) fn settle_refused(self, billed: Billed) -> Option<Entry> {
        match billed {
            Billed::No => {
                self.release();
                None
            }
            Billed::Yes => Some(self.settle(None)),
            Billed::Maybe => {
                let most = self.maybe();
                let _ = self.end(Some(most));
                None
            }
        }
    }

    /// What a call that may have been billed cost: nothing at least, its
    /// most at most.
    fn maybe(&self) -> Spent {
        Spent {
            least: 0,
            most: self.most,
            unpriced: false,
        }
    }

    /// Ends the hold, `spent` counted as spent; its charge.
    fn end(mut self, spent: Option<Spent>) -> Charge {
        self.ended = true;
        let mut sums = self.budget.sums.lock().expect("budget");
        sums.held = sums.held.saturating_sub(self.most);
        if let Some(cost) = spent {
            sums.spent = sums.spent.plus(cost);
        }
        drop(sums);
        self.charge.clone()
    }
}

impl Drop for Hold<'_> {
    /// Ended unsettled (a panic, an abandoned call): it may have been
    /// billed, so the most counts as spent (and its `sending` entry's most
    /// is what a restart counts).
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let mut sums = self.budget.sums.lock().expect("budget");
        sums.held = sums.held.saturating_sub(self.most);
        sums.spent = sums.spent.plus(self.maybe());
    }
}

/// What one server journal's `entries` record as spent, for a budget
/// that outlives its server: every `cost` entry, and for each call sent
/// that may have been billed with no cost recorded, the most its
/// `sending` entry says it could cost (at least nothing: it may not have
/// been).
pub(super) fn spent_in(entries: impl IntoIterator<Item = Entry>) -> Spent {
    let mut states: std::collections::HashMap<usize, ItemState> = Default::default();
    let mut spent = Spent::default();
    for entry in entries {
        if let Entry::Cost { cost, .. } = &entry {
            // A range counts its most, as the server that recorded it did.
            spent = spent.plus(Spent {
                least: cost.usd_micros,
                most: cost.most().unwrap_or(cost.usd_micros),
                unpriced: cost.most().is_none(),
            });
        }
        if let Some(item) = entry.item() {
            states
                .entry(item)
                .or_default()
                .apply(entry, std::path::Path::new("."));
        }
    }
    let unsettled = states
        .values()
        .filter(|state| state.cost.is_none() && state.may_be_billed())
        .filter_map(|state| state.most_usd_micros);
    let maybe = |most| Spent {
        least: 0,
        most,
        unpriced: false,
    };
    unsettled.fold(spent, |spent, most| spent.plus(maybe(most)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(item: usize) -> Charge {
        Charge {
            item,
            provider: Provider::Ideogram,
            model: Some("V_4_5".to_owned()),
        }
    }

    fn most(usd_micros: u64) -> (u64, CostFrom) {
        (usd_micros, CostFrom::DryRun)
    }

    fn cost_of(entry: &Entry) -> (u64, CostFrom) {
        match entry {
            Entry::Cost { cost, .. } => (cost.usd_micros, cost.from),
            other => panic!("not a cost: {other:?}"),
        }
    }

    #[test]
    fn holds_never_pass_the_budget_between_them() {
        let budget = Budget::new(Some(100), Spent::default());
        let first = budget.hold_most(most(60), "60", charge(1)).unwrap();
        // Running together: the first's most is held.
        let refused = budget.hold_most(most(50), "50", charge(2)).unwrap_err();
        assert_eq!(refused.billed, Billed::No);
        assert!(
            refused.failure.message.contains("$0.00004"),
            "{}",
            refused.failure
        );
        assert_eq!(cost_of(&first.settle(Some(30))), (30, CostFrom::Service));
        let second = budget.hold_most(most(50), "50", charge(3)).unwrap();
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.00003", "left": "$0.00002"})
        );
        assert!(second.settle_refused(Billed::No).is_none());
        let third = budget.hold_most(most(70), "70", charge(4)).unwrap();
        drop(third);
        // Dropped unsettled: it may have cost nothing, or its most.
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.00003 to $0.0001", "left": "$0.00"})
        );
        assert!(budget.hold_most(most(1), "1", charge(5)).is_err());
        assert!(budget.hold_most(most(0), "0", charge(6)).is_ok());
    }

    #[test]
    fn a_billed_call_is_journaled_at_what_it_counted_and_a_maybe_at_nothing() {
        let budget = Budget::new(Some(1_000), Spent::exactly(100));
        let billed = budget.hold_most(most(200), "200", charge(1)).unwrap();
        let entry = billed.settle_refused(Billed::Yes).expect("billed");
        assert_eq!(cost_of(&entry), (200, CostFrom::DryRun));
        assert_eq!(entry.item(), Some(1));
        let maybe = budget.hold_most(most(300), "300", charge(2)).unwrap();
        assert!(maybe.settle_refused(Billed::Maybe).is_none());
        // Counted all the same: 100 earlier, 200 billed, 300 maybe.
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.0003 to $0.0006", "left": "$0.0004"})
        );
    }

    #[test]
    fn a_range_is_recorded_as_its_range_and_counted_at_its_most() {
        let budget = Budget::new(Some(1_000), Spent::default());
        let mut ranged = budget
            .hold_most((113, CostFrom::Spec), "37 to 113", charge(1))
            .unwrap();
        ranged.least = 37;
        let Entry::Cost { cost, .. } = ranged.settle(None) else {
            unreachable!()
        };
        let recorded = (cost.usd_micros, cost.upper_bound_usd_micros, cost.from);
        assert_eq!(recorded, (37, Some(113), CostFrom::Spec));
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.000037 to $0.000113", "left": "$0.000887"})
        );
        let spent = spent_in([Entry::Cost { item: 1, cost }]);
        assert_eq!(
            spent,
            Spent {
                least: 37,
                most: 113,
                unpriced: false,
            }
        );
    }

    #[test]
    fn without_a_budget_only_the_spend_is_said() {
        let budget = Budget::new(None, Spent::default());
        let spent = budget.spend(charge(1), Some(60_000));
        assert_eq!(cost_of(&spent), (60_000, CostFrom::Service));
        let all = budget.hold_most(most(u64::MAX), "all", charge(2)).unwrap();
        all.settle(Some(1));
        assert_eq!(budget.said(), json!({"spent": "$0.060001"}));
        // Paid at a price nothing knows: the spend is only at least.
        let unknown = budget.spend(charge(3), None);
        assert_eq!(cost_of(&unknown), (0, CostFrom::Unknown));
        assert_eq!(budget.said(), json!({"spent": "at least $0.060001"}));
        assert!(budget.unpriced("describe").is_ok());
        assert!(
            Budget::new(Some(1), Spent::default())
                .unpriced("describe")
                .is_err()
        );
    }

    #[test]
    fn a_journal_counts_its_costs_and_the_most_of_calls_that_may_be_billed() {
        let sending = |item, most| Entry::Sending {
            item,
            provider: None,
            key: None,
            most_usd_micros: most,
        };
        let Entry::Cost { cost, .. } = charge(1).entry((70, None), CostFrom::Service) else {
            unreachable!()
        };
        let failed = |item, maybe_billed| Entry::Failed {
            item,
            error: "x".to_owned(),
            maybe_billed,
            expired: false,
        };
        let entries = vec![
            // Sent, cost recorded: the cost, not the most.
            sending(1, Some(100)),
            Entry::Cost { item: 1, cost },
            // Sent, no answer (killed): the most.
            sending(2, Some(200)),
            // Failed, not billed: nothing.
            sending(3, Some(400)),
            failed(3, false),
            // Failed, maybe billed: the most.
            sending(4, Some(800)),
            failed(4, true),
            // Sent by a version that recorded no most: nothing known.
            sending(5, None),
        ];
        let spent = Spent {
            least: 70,
            most: 70 + 200 + 800,
            unpriced: false,
        };
        assert_eq!(spent_in(entries), spent);
    }
}

//! The server's running spend and its budget (`ideogram mcp --max-usd`):
//! what the paid calls on its output folder cost, and a call refused,
//! before anything is sent, when the most it can cost would pass the
//! budget. Money is in micro-USD, as the library's quotes are.
//!
//! The journals are the record: a call settled as billed gives the
//! journal's `cost` entry to record (the server records it before
//! answering), a call sent records the most it can cost in its `sending`
//! entry, and the spend is what every server journal in the folder records
//! ([`crate::bills`]): their costs, each request's last word (a queued
//! job's quote replaced by its service figure, or voided when it FAILED
//! unbilled), and for every call sent that may have been billed with no
//! cost recorded (killed while it ran, or its answer lost) up to the most
//! it could cost. Each decision reads what the journals grew by since the
//! last one, so a restart, a crash or another server on the folder never
//! gives the budget back, and servers sharing a folder keep to it
//! together. What is left of a race: two servers deciding at the same
//! instant each see the other's call only once its `sending` entry is
//! written, so together they can pass the budget by at most the calls
//! they decide in that instant (within one server, calls running at once
//! never pass it: each holds its most until its `sending` is journaled).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use ideogram::{Provider, Quote, dollars};
use serde_json::{Value, json};

use crate::bills::{Bill, Tail};
use crate::cost::{Cost, CostFrom};
use crate::failure::{Failure, OVER_BUDGET};
use crate::journal::Entry;

use super::answer::{Billed, Refused};

/// What the servers on this output folder spent, and this one may still
/// spend.
#[derive(Debug, Default)]
pub(super) struct Budget {
    /// `--max-usd`, when given.
    max: Option<u64>,
    /// The folder's server journals, this server's (`own`) among them.
    journals: Vec<PathBuf>,
    own: PathBuf,
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
    /// What `bills` add up to: a bill with no known most makes the sum
    /// unbounded.
    pub(super) fn of(bills: impl IntoIterator<Item = Bill>) -> Self {
        bills.into_iter().fold(Self::default(), |spent, bill| {
            spent.plus(Self {
                least: bill.least,
                most: bill.most.unwrap_or(bill.least),
                unpriced: bill.most.is_none(),
            })
        })
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
    /// Each journal's bills, read as far as it was written at the last
    /// look (in the order of [`Budget::journals`]).
    tails: Vec<Tail>,
    /// The most each call running now can cost, by its item in this
    /// server's journal: counted against the budget instead of what the
    /// journal says of that item until the call ends, so that calls
    /// running together never pass it between them.
    held: HashMap<usize, u64>,
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
    /// The `cost` entry of a billed call priced without a hold: `cost`,
    /// the service's figure, where it gave one, else paid at a price
    /// nothing knows (a call the spec does not price, sent without a
    /// budget).
    pub(super) fn spent(self, cost: Option<u64>) -> Entry {
        match cost {
            Some(cost) => self.entry((cost, None), CostFrom::Service),
            None => self.entry((0, None), CostFrom::Unknown),
        }
    }

    /// The journal's `cost` entry for this call: `usd_micros`, up to
    /// `upper` where it is a range's low end, `from`.
    pub(super) fn entry(self, (usd_micros, upper): (u64, Option<u64>), from: CostFrom) -> Entry {
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
/// it ends ([`Hold::release`] when it certainly was not billed,
/// [`Hold::settle`] with what it cost, or dropped): from then on what the
/// journal records of its item counts (its `cost`, else its `sending`
/// entry's most).
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
    /// A budget of `max` micro-USD (none: only the spend is kept) for the
    /// servers on one folder, whose server journals are `journals`, this
    /// server's `own` among them: what they record is spent.
    pub(super) fn new(max: Option<u64>, journals: Vec<PathBuf>, own: PathBuf) -> Self {
        let tails = journals.iter().map(|_| Tail::default()).collect();
        Self {
            max,
            journals,
            own,
            sums: Mutex::new(Sums {
                tails,
                held: HashMap::new(),
            }),
        }
    }

    /// Whether calls are checked against a budget (and so quoted first).
    pub(super) fn limited(&self) -> bool {
        self.max.is_some()
    }

    /// What the folder's journals record as spent now, but the calls this
    /// server holds (see [`Sums::held`]): read as far as each has grown
    /// since the last look.
    fn spent_now(&self, sums: &mut Sums) -> Spent {
        let Sums { tails, held } = sums;
        let mut spent = Spent::default();
        for (path, tail) in self.journals.iter().zip(tails.iter_mut()) {
            tail.update(path);
            let bills = tail.bills();
            spent = spent.plus(match *path == self.own {
                true => Spent::of(bills.all_but(|item| held.contains_key(&item))),
                false => Spent::of(bills.all()),
            });
        }
        spent
    }

    /// What the folder's journals record as spent now, and the most the
    /// calls this server runs now can cost.
    pub(super) fn spent(&self) -> (Spent, u64) {
        let mut sums = self.sums.lock().expect("budget");
        let spent = self.spent_now(&mut sums);
        (spent, held(&sums))
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
            let spent = self.spent_now(&mut sums);
            // A journal too large to read spent what nothing here knows.
            if let Some((path, _)) =
                (self.journals.iter().zip(&sums.tails)).find(|(_, t)| t.too_large())
            {
                let length = std::fs::metadata(path).map_or(0, |m| m.len());
                let failure = crate::journal::too_large(path, length);
                return Err(Refused::new(failure, Billed::No));
            }
            let held = held(&sums);
            let committed = spent.most.saturating_add(held);
            if committed.saturating_add(most) > max {
                let left = max.saturating_sub(committed);
                let failure = Failure::new(
                    OVER_BUDGET,
                    format!(
                        "over the budget of the servers on this folder: the call may cost {} \
                         ({priced}), and {} of the {} budget is left ({} spent{}); nothing was sent",
                        dollars(most),
                        dollars(left),
                        dollars(max),
                        spent.said(),
                        if held > 0 {
                            format!(", {} held by calls running now", dollars(held))
                        } else {
                            String::new()
                        }
                    ),
                )
                .hint("ask for less (fewer images, a cheaper model), or ask the user for a larger budget");
                return Err(Refused::new(failure, Billed::No));
            }
        }
        sums.held.insert(charge.item, most);
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

    /// `spent` (a range where what was billed is not known to the
    /// micro-dollar), and `left` under a budget, in dollars, for an answer.
    pub(super) fn said(&self) -> Value {
        let (spent, held) = self.spent();
        match self.max {
            Some(max) => json!({
                "spent": spent.said(),
                "left": dollars(max.saturating_sub(spent.most.saturating_add(held))),
            }),
            None => json!({ "spent": spent.said() }),
        }
    }
}

/// The most the calls held now can cost.
fn held(sums: &Sums) -> u64 {
    sums.held
        .values()
        .fold(0, |sum, most| sum.saturating_add(*most))
}

impl Hold<'_> {
    /// The most the call can cost: its `sending` entry records it, so
    /// that the journal counts it while it says nothing more.
    pub(super) fn most(&self) -> u64 {
        self.most
    }

    /// Certainly not billed: the budget is as it was.
    pub(super) fn release(self) {
        let _ = self.end();
    }

    /// Billed: the `cost` entry to journal before answering: `cost`, the
    /// service's own figure, else the quote's, a range where it is one
    /// (what was billed within it is not known, so not said).
    pub(super) fn settle(self, cost: Option<u64>) -> Entry {
        let (recorded, from) = match cost {
            Some(cost) => ((cost, None), CostFrom::Service),
            None => ((self.least, Cost::upper(self.least, self.most)), self.from),
        };
        self.end().entry(recorded, from)
    }

    /// Settles by what a refused call says of its billing; the `cost`
    /// entry to journal when it was billed. Maybe billed: no cost is
    /// journaled (`ideogram spend` says what was billed), and its
    /// `sending` entry's most counts.
    pub(super) fn settle_refused(self, billed: Billed) -> Option<Entry> {
        match billed {
            Billed::No => {
                self.release();
                None
            }
            Billed::Yes => Some(self.settle(None)),
            Billed::Maybe => {
                let _ = self.end();
                None
            }
        }
    }

    /// Ends the hold: from now on the journal's word on its item counts.
    /// Its charge.
    fn end(mut self) -> Charge {
        self.ended = true;
        self.unhold();
        self.charge.clone()
    }

    fn unhold(&self) {
        let mut sums = self.budget.sums.lock().expect("budget");
        sums.held.remove(&self.charge.item);
    }
}

impl Drop for Hold<'_> {
    /// Ended unsettled (a panic, an abandoned call): its `sending` entry's
    /// most is what counts.
    fn drop(&mut self) {
        if !self.ended {
            self.unhold();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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

    /// A folder of `servers` server journals (none written yet).
    fn folder(servers: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let paths = (0..servers)
            .map(|n| dir.path().join(format!(".ideogram-mcp.{n}.jsonl")))
            .collect();
        (dir, paths)
    }

    /// A budget of `max` for the server whose journal is `paths[own]`.
    fn budget(max: Option<u64>, paths: &[PathBuf], own: usize) -> Budget {
        Budget::new(max, paths.to_vec(), paths[own].clone())
    }

    /// Appends `entries` to the journal at `path` (its header first when new).
    fn journal(path: &Path, entries: &[Entry]) {
        use std::io::Write as _;
        let new = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let header = Entry::Journal {
            format: "ideogram-journal".to_owned(),
            version: 1,
        };
        let lines = new.then_some(&header).into_iter().chain(entries);
        for entry in lines {
            writeln!(file, "{}", serde_json::to_string(entry).unwrap()).unwrap();
        }
    }

    fn sending(item: usize, most: u64) -> Entry {
        Entry::Sending {
            item,
            provider: None,
            key: None,
            most_usd_micros: Some(most),
        }
    }

    #[test]
    fn holds_never_pass_the_budget_between_them() {
        let (_dir, paths) = folder(1);
        let own = &paths[0];
        let budget = budget(Some(100), &paths, 0);
        let first = budget.hold_most(most(60), "60", charge(1)).unwrap();
        journal(own, &[sending(1, 60)]);
        // Running together: the first's most is held.
        let refused = budget.hold_most(most(50), "50", charge(2)).unwrap_err();
        assert_eq!(refused.billed, Billed::No);
        assert!(
            refused.failure.message.contains("$0.00004"),
            "{}",
            refused.failure
        );
        let settled = first.settle(Some(30));
        assert_eq!(cost_of(&settled), (30, CostFrom::Service));
        journal(own, &[settled]);
        let second = budget.hold_most(most(50), "50", charge(3)).unwrap();
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.00003", "left": "$0.00002"})
        );
        assert!(second.settle_refused(Billed::No).is_none());
        let third = budget.hold_most(most(70), "70", charge(4)).unwrap();
        journal(own, &[sending(4, 70)]);
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
        let (_dir, paths) = folder(1);
        let own = &paths[0];
        journal(own, &[charge(0).spent(Some(100))]);
        let budget = budget(Some(1_000), &paths, 0);
        let billed = budget.hold_most(most(200), "200", charge(1)).unwrap();
        journal(own, &[sending(1, 200)]);
        let entry = billed.settle_refused(Billed::Yes).expect("billed");
        assert_eq!(cost_of(&entry), (200, CostFrom::DryRun));
        assert_eq!(entry.item(), Some(1));
        journal(own, &[entry]);
        let maybe = budget.hold_most(most(300), "300", charge(2)).unwrap();
        journal(own, &[sending(2, 300)]);
        assert!(maybe.settle_refused(Billed::Maybe).is_none());
        // Counted all the same: 100 earlier, 200 billed, 300 maybe.
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.0003 to $0.0006", "left": "$0.0004"})
        );
    }

    #[test]
    fn a_range_is_recorded_as_its_range_and_counted_at_its_most() {
        let (_dir, paths) = folder(1);
        let budget = budget(Some(1_000), &paths, 0);
        let mut ranged = budget
            .hold_most((113, CostFrom::Spec), "37 to 113", charge(1))
            .unwrap();
        ranged.least = 37;
        let entry = ranged.settle(None);
        let Entry::Cost { cost, .. } = &entry else {
            unreachable!()
        };
        let recorded = (cost.usd_micros, cost.upper_bound_usd_micros, cost.from);
        assert_eq!(recorded, (37, Some(113), CostFrom::Spec));
        journal(&paths[0], &[sending(1, 113), entry]);
        assert_eq!(
            budget.said(),
            json!({"spent": "$0.000037 to $0.000113", "left": "$0.000887"})
        );
    }

    #[test]
    fn without_a_budget_only_the_spend_is_said() {
        let (_dir, paths) = folder(1);
        let budget = budget(None, &paths, 0);
        let spent = charge(1).spent(Some(60_000));
        assert_eq!(cost_of(&spent), (60_000, CostFrom::Service));
        let all = budget.hold_most(most(u64::MAX), "all", charge(2)).unwrap();
        journal(&paths[0], &[spent, all.settle(Some(1))]);
        assert_eq!(budget.said(), json!({"spent": "$0.060001"}));
        // Paid at a price nothing knows: the spend is only at least.
        let unknown = charge(3).spent(None);
        assert_eq!(cost_of(&unknown), (0, CostFrom::Unknown));
        journal(&paths[0], &[unknown]);
        assert_eq!(budget.said(), json!({"spent": "at least $0.060001"}));
        assert!(budget.unpriced("describe").is_ok());
        let limited = Budget::new(Some(1), paths.clone(), paths[0].clone());
        assert!(limited.unpriced("describe").is_err());
    }

    #[test]
    fn a_server_reads_what_the_others_on_its_folder_spent_since() {
        let (_dir, paths) = folder(2);
        let (first, second) = (budget(Some(100), &paths, 0), budget(Some(100), &paths, 1));
        assert_eq!(second.said(), json!({"spent": "$0.00", "left": "$0.0001"}));
        // The first server's call, sent: the second counts its most.
        let hold = first.hold_most(most(60), "60", charge(0)).unwrap();
        journal(&paths[0], &[sending(0, 60)]);
        assert!(second.hold_most(most(50), "50", charge(0)).is_err());
        // Billed less than its most: the second has the rest.
        journal(&paths[0], &[hold.settle(Some(40))]);
        let held = second.hold_most(most(50), "50", charge(0)).unwrap();
        journal(&paths[1], &[sending(0, 50)]);
        // And the first counts the second's.
        assert!(first.hold_most(most(20), "20", charge(1)).is_err());
        assert_eq!(
            first.said(),
            json!({"spent": "$0.00004 to $0.00009", "left": "$0.00001"})
        );
        drop(held);
    }
}

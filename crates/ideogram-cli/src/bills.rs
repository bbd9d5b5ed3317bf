//! What a journal records as paid, one bill per request sent: what
//! `ideogram spend` sums and what `ideogram mcp`'s budget counts.
//!
//! The last word on a request wins: a `cost` entry is the bill of the
//! item's latest `sending`, and a later `cost` of the same item (a queued
//! job's service figure, after the quote it was counted at when queued)
//! replaces it; a later failure that certainly was not billed (a queued
//! job that FAILED) voids it. A request sent with no word on what it cost
//! (killed in flight, its answer lost) may have been billed: it is a bill
//! of nothing at least and, at most, the most its `sending` entry says it
//! could cost, or an unknown most where the entry says none (a call
//! nothing prices, or a journal of a version that recorded no most).
//!
//! [`Tail`] keeps a journal's bills up to date by reading only what it
//! grew by since the last look, so that a budget decision can read what
//! every journal in a folder records now (other servers' included)
//! without reading them whole each time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Seek as _};
use std::path::Path;

use crate::cost::Cost;
use crate::journal::{Entry, MAX_JOURNAL, MAX_LINE};

/// One request's bill, as far as a journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bill {
    /// The least it cost: 0 for a request that only may have been billed.
    pub least: u64,
    /// The most it cost; `None` when nothing bounds it (paid, or maybe
    /// paid, at a price nothing knows).
    pub most: Option<u64>,
    /// Who billed it, where known.
    pub provider: Option<String>,
    /// The model it ran, where known.
    pub model: Option<String>,
    /// When it was paid, in Unix seconds, where known (not for a request
    /// that only may have been billed).
    pub at: Option<u64>,
}

impl Bill {
    /// The bill a recorded cost says.
    pub(crate) fn of(cost: &Cost) -> Self {
        Self {
            least: cost.usd_micros,
            most: cost.most(),
            provider: cost.provider.clone(),
            model: cost.model.clone(),
            at: cost.at,
        }
    }
}

/// A request's item, from its `sending` on.
#[derive(Debug, Default, Clone)]
struct Open {
    /// Sent (or queued, or answered) since the last word that it was not
    /// billed: it may have been, whatever else the journal says.
    sent: bool,
    /// The most its `sending` said it could cost.
    most: Option<u64>,
    provider: Option<String>,
    model: Option<String>,
    /// The last cost recorded for it.
    cost: Option<Cost>,
}

impl Open {
    /// Its bill: the last cost recorded, else, sent, that it may have been
    /// billed up to its most.
    fn bill(&self) -> Option<Bill> {
        match &self.cost {
            Some(cost) => Some(Bill::of(cost)),
            None if self.sent => Some(Bill {
                least: 0,
                most: self.most,
                provider: self.provider.clone(),
                model: self.model.clone(),
                at: None,
            }),
            None => None,
        }
    }
}

/// The bills of one journal, entry by entry.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bills {
    /// Bills a later `sending` of the same item closed: final.
    closed: Vec<Bill>,
    /// Each item's latest request.
    open: HashMap<usize, Open>,
}

impl Bills {
    /// The bills `entries` (one journal's, in order) record.
    pub(crate) fn of(entries: impl IntoIterator<Item = Entry>) -> Self {
        let mut bills = Self::default();
        entries.into_iter().for_each(|entry| bills.add(entry));
        bills
    }

    /// Reads the next entry.
    pub(crate) fn add(&mut self, entry: Entry) {
        let Some(item) = entry.item() else {
            return;
        };
        let open = self.open.entry(item).or_default();
        match entry {
            Entry::Sending {
                provider,
                most_usd_micros,
                ..
            } => {
                // Another request of the item: the earlier one's bill is
                // what it was.
                let earlier = std::mem::take(open);
                self.closed.extend(earlier.bill());
                *open = Open {
                    sent: true,
                    most: most_usd_micros,
                    provider,
                    ..Open::default()
                };
            }
            Entry::Submitted { model, .. } => open.model = model.or(open.model.take()),
            Entry::Cost { cost, .. } => open.cost = Some(cost),
            // Certainly not billed (a queued job that FAILED): void.
            Entry::Failed {
                maybe_billed: false,
                ..
            } => *open = Open::default(),
            _ => {}
        }
    }

    /// Every bill recorded, each request's last word.
    pub(crate) fn all(&self) -> impl Iterator<Item = Bill> + '_ {
        let open = self.open.values().filter_map(Open::bill);
        self.closed.iter().cloned().chain(open)
    }

    /// [`Bills::all`] but the open requests of `items`.
    pub(crate) fn all_but<'a>(
        &'a self,
        items: impl Fn(usize) -> bool + 'a,
    ) -> impl Iterator<Item = Bill> + 'a {
        let open = self
            .open
            .iter()
            .filter(move |(item, _)| !items(**item))
            .filter_map(|(_, open)| open.bill());
        self.closed.iter().cloned().chain(open)
    }
}

/// A journal's bills, kept up to date by reading what it grew by.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    /// Bytes read and taken (whole lines only).
    read: u64,
    /// Not this tool's journal: never read.
    foreign: bool,
    /// Past [`MAX_JOURNAL`]: not read at all, its bills unknown.
    too_large: bool,
    bills: Bills,
}

impl Tail {
    /// The bills read so far.
    pub(crate) fn bills(&self) -> &Bills {
        &self.bills
    }

    /// Whether the journal was too large to read ([`MAX_JOURNAL`]): what
    /// it spent is not known, and a budget cannot be kept beside it.
    pub(crate) fn too_large(&self) -> bool {
        self.too_large
    }

    /// Reads what the journal at `path` grew by since the last call (from
    /// its start when it shrank: a failed write cut back off), bounded as
    /// every read of a journal is; a line still being written is left for
    /// the next call. A file that is gone or unreadable leaves the bills
    /// as they were read.
    pub(crate) fn update(&mut self, path: &Path) {
        let Ok(mut file) = File::open(path) else {
            return;
        };
        let Ok(meta) = file.metadata() else { return };
        if !meta.is_file() {
            return;
        }
        // Read whole or not at all: what lies past the cap was spent too.
        self.too_large = meta.len() > MAX_JOURNAL;
        if self.too_large {
            return;
        }
        let len = meta.len();
        if len < self.read {
            *self = Self::default();
        }
        if self.foreign || len == self.read {
            return;
        }
        if self.read == 0 && crate::journal::check_ours(&mut file, path).is_err() {
            self.foreign = true;
            return;
        }
        if file.seek(std::io::SeekFrom::Start(self.read)).is_err() {
            return;
        }
        let mut reader = BufReader::new(file.take(len - self.read));
        let mut line = Vec::new();
        loop {
            line.clear();
            let Ok(read) = (&mut reader)
                .take(MAX_LINE + 1)
                .read_until(b'\n', &mut line)
            else {
                return;
            };
            if line.last() != Some(&b'\n') {
                if read as u64 > MAX_LINE {
                    // Past the line cap: skipped to its end.
                    let mut rest = Vec::new();
                    match reader.read_until(b'\n', &mut rest) {
                        Ok(more) if rest.last() == Some(&b'\n') => {
                            self.read += (read + more) as u64;
                            continue;
                        }
                        _ => return,
                    }
                }
                // The end, or a line still being written.
                return;
            }
            self.read += read as u64;
            if let Ok(entry) = serde_json::from_slice::<Entry>(line.trim_ascii_end()) {
                self.bills.add(entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::CostFrom;

    fn sending(item: usize, most: Option<u64>) -> Entry {
        Entry::Sending {
            item,
            provider: None,
            key: None,
            most_usd_micros: most,
        }
    }

    fn cost(item: usize, usd_micros: u64, from: CostFrom) -> Entry {
        Entry::Cost {
            item,
            cost: Cost {
                usd_micros,
                upper_bound_usd_micros: None,
                from,
                provider: None,
                model: None,
                at: None,
            },
        }
    }

    fn failed(item: usize, maybe_billed: bool) -> Entry {
        Entry::Failed {
            item,
            error: "x".to_owned(),
            maybe_billed,
            expired: false,
        }
    }

    fn sums(bills: &Bills) -> Vec<(u64, Option<u64>)> {
        let mut sums: Vec<_> = bills.all().map(|b| (b.least, b.most)).collect();
        sums.sort();
        sums
    }

    #[test]
    fn each_request_is_billed_by_its_last_word() {
        let bills = Bills::of([
            // Queued at its quote, then the service's figure: the figure.
            sending(1, Some(100)),
            cost(1, 100, CostFrom::Spec),
            cost(1, 70, CostFrom::Service),
            // Queued at its quote, then FAILED unbilled: nothing.
            sending(2, Some(200)),
            cost(2, 200, CostFrom::Spec),
            failed(2, false),
            // Failed unbilled, sent again and billed: the second bill.
            sending(3, Some(400)),
            failed(3, false),
            sending(3, Some(400)),
            cost(3, 400, CostFrom::DryRun),
            // Sent, no answer (killed): nothing to its most.
            sending(4, Some(800)),
            // Failed, maybe billed: the same.
            sending(5, Some(1600)),
            failed(5, true),
            // Sent with no price known: nothing at least, no most.
            sending(6, None),
            // Billed, then the item sent again and killed: both.
            sending(7, Some(10)),
            cost(7, 10, CostFrom::DryRun),
            sending(7, Some(10)),
        ]);
        assert_eq!(
            sums(&bills),
            [
                (0, None),
                (0, Some(10)),
                (0, Some(800)),
                (0, Some(1600)),
                (10, Some(10)),
                (70, Some(70)),
                (400, Some(400)),
            ]
        );
        let but: Vec<_> = bills.all_but(|item| item == 4 || item == 6).collect();
        assert_eq!(but.len(), 5);
    }

    #[test]
    fn a_tail_reads_only_whole_lines_and_what_was_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ideogram-mcp.jsonl");
        let line = |entry: &Entry| format!("{}\n", serde_json::to_string(entry).unwrap());
        let header = Entry::Journal {
            format: "ideogram-journal".to_owned(),
            version: 1,
        };
        let mut text = line(&header) + &line(&sending(1, Some(5)));
        let half = line(&cost(1, 3, CostFrom::Service));
        let (start, end) = half.split_at(10);
        std::fs::write(&path, text.clone() + start).unwrap();
        let mut tail = Tail::default();
        tail.update(&path);
        assert_eq!(sums(tail.bills()), [(0, Some(5))]);
        text = text + start + end;
        std::fs::write(&path, &text).unwrap();
        tail.update(&path);
        assert_eq!(sums(tail.bills()), [(3, Some(3))]);
        // Cut back (a failed write): read again from the start.
        std::fs::write(&path, line(&header)).unwrap();
        tail.update(&path);
        assert_eq!(sums(tail.bills()), []);
        // Not a journal of ours: nothing.
        std::fs::write(&path, "{\"hello\": 1}\n").unwrap();
        let mut foreign = Tail::default();
        foreign.update(&path);
        assert_eq!(sums(foreign.bills()), []);
    }
}

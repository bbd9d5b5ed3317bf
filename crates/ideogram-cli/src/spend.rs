//! `ideogram spend [DIR]`: what the paid calls recorded in a folder cost,
//! by day, provider and model. Nothing is sent.
//!
//! Two records are read: the journals this tool writes in the folder (a
//! batch's `.ideogram-batch.jsonl`, and any other `.ideogram-*.jsonl`),
//! whose `cost` entries say what each paid item cost; and the sidecars of
//! the one-shot commands' images (`*.json`), each holding its image's share
//! of its call's cost. A sidecar whose cost a journal records (a batch's)
//! says so and is not counted twice.
//!
//! A journal's bills are each request's last word ([`crate::bills`]): a
//! queued job counted at its quote is counted at the service's figure once
//! it gave one, and not at all once it FAILED unbilled; a request sent
//! with no word on its outcome (killed in flight) may have been billed,
//! and counts as nothing up to its most (its day `unknown`).
//!
//! Only what is known is said: a cost recorded as a range (a spec price
//! such as Segmind's 3.0, $0.037 to $0.113, when the service said nothing
//! of what it billed) is summed as a range, `$0.037 to $0.113`; a paid call
//! whose price is not known at all (or a call that may have been billed at
//! a price not known) makes its sum `at least` what the others add up to.
//! A single figure is said only when every cost in it is one.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::bills::{Bill, Bills};
use crate::cost::Cost;
use crate::failure::{Failure, INVALID};
use crate::journal::Journal;
use crate::output::say;

/// The largest sidecar read, in bytes; a larger file is no sidecar of ours.
const MAX_SIDECAR: u64 = 1 << 20;

/// The most files of the folder looked at.
const MAX_FILES: usize = 1 << 20;

/// One day's spend with one provider and model, or the total.
#[derive(Default, Clone, Copy)]
struct Row {
    /// The least it cost (the sum of the figures and of ranges' low ends).
    usd_micros: u64,
    /// What the ranges' upper ends add beyond their low ends.
    above: u64,
    /// Calls paid (or maybe paid) at a price not known: nothing bounds
    /// the sum.
    unpriced: u64,
    records: u64,
}

impl Row {
    /// Adds a record of `least`, at most `most` (`None`: not known).
    fn add(&mut self, least: u64, most: Option<u64>) {
        self.usd_micros += least;
        match most {
            Some(most) => self.above += most.saturating_sub(least),
            None => self.unpriced += 1,
        }
        self.records += 1;
    }

    /// The most it cost, where that is bounded and above the least.
    fn most(&self) -> Option<u64> {
        (self.unpriced == 0 && self.above > 0).then_some(self.usd_micros + self.above)
    }

    /// The sum in words: `$0.10`, `$0.037 to $0.113`, or `at least $0.05`.
    fn said(&self) -> String {
        let least = ideogram::dollars(self.usd_micros);
        match (self.unpriced, self.most()) {
            (0, None) => least,
            (0, Some(most)) => format!("{least} to {}", ideogram::dollars(most)),
            _ => format!("at least {least}"),
        }
    }

    /// The sum as JSON fields: `usd_micros` (the least), `usd` (in
    /// words), and `most_usd_micros` or `unpriced` where they apply.
    fn json(&self) -> serde_json::Map<String, Value> {
        let mut fields = serde_json::Map::new();
        fields.insert("usd_micros".into(), self.usd_micros.into());
        fields.insert("usd".into(), self.said().into());
        if let Some(most) = self.most() {
            fields.insert("most_usd_micros".into(), most.into());
        }
        if self.unpriced > 0 {
            fields.insert("unpriced".into(), self.unpriced.into());
        }
        fields
    }
}

/// Sums the costs recorded in `dir` and prints them (`--json`: as one
/// object, every amount in millionths of a dollar and as dollars).
pub(crate) fn run(dir: &Path, json: bool) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::new(
            INVALID,
            format!("cannot read the folder {}: {e}", dir.display()),
        )
    })?;
    let mut costs: Vec<Bill> = Vec::new();
    for entry in entries.flatten().take(MAX_FILES) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if name.starts_with(".ideogram-") && name.ends_with(".jsonl") {
            // Not summed in part: what lies past the cap was spent too.
            if let Ok(meta) = entry.metadata()
                && meta.len() > crate::journal::MAX_JOURNAL
            {
                return Err(crate::journal::too_large(&path, meta.len()));
            }
            let journaled = Journal::entries(&path).unwrap_or_default();
            costs.extend(Bills::of(journaled).all());
        } else if name.ends_with(".json") {
            costs.extend(sidecar_cost(&path));
        }
    }
    let mut rows: BTreeMap<(String, String, String), Row> = BTreeMap::new();
    for cost in &costs {
        let day = cost
            .at
            .and_then(|at| DateTime::<Utc>::from_timestamp(i64::try_from(at).ok()?, 0))
            .map_or_else(
                || "unknown".to_owned(),
                |t| t.format("%Y-%m-%d").to_string(),
            );
        let key = (
            day,
            cost.provider
                .clone()
                .unwrap_or_else(|| "unknown".to_owned()),
            cost.model.clone().unwrap_or_else(|| "unknown".to_owned()),
        );
        rows.entry(key).or_default().add(cost.least, cost.most);
    }
    let total = rows.values().fold(Row::default(), |mut total, row| {
        total.usd_micros += row.usd_micros;
        total.above += row.above;
        total.unpriced += row.unpriced;
        total.records += row.records;
        total
    });
    if json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|((day, provider, model), row)| {
                let mut fields = row.json();
                fields.insert("day".into(), day.as_str().into());
                fields.insert("provider".into(), provider.as_str().into());
                fields.insert("model".into(), model.as_str().into());
                fields.insert("records".into(), row.records.into());
                Value::Object(fields)
            })
            .collect();
        let mut all = total.json();
        all.insert("folder".into(), dir.display().to_string().into());
        all.insert("rows".into(), rows.into());
        say(&crate::output::json_text(&Value::Object(all)));
        return Ok(());
    }
    say(&format!(
        "{:<10}  {:<10}  {:<10}  SPENT",
        "DAY", "PROVIDER", "MODEL"
    ));
    for ((day, provider, model), row) in &rows {
        say(&format!(
            "{day:<10}  {provider:<10}  {model:<10}  {}",
            row.said()
        ));
    }
    let unpriced = match total.unpriced {
        0 => String::new(),
        1 => " (1 call paid, or maybe paid, at a price not known)".to_owned(),
        n => format!(" ({n} calls paid, or maybe paid, at prices not known)"),
    };
    say(&format!("total {}{unpriced}", total.said()));
    Ok(())
}

/// A sidecar's share of its call's cost, unless a journal records that
/// call's cost (or it is no sidecar of ours, or records none).
fn sidecar_cost(path: &Path) -> Option<Bill> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SIDECAR)
        .read_to_string(&mut text)
        .ok()?;
    let record: Value = serde_json::from_str(&text).ok()?;
    let cost = record.get("cost")?;
    if cost.get("journaled").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let share = cost.get("share_usd_micros")?.as_u64()?;
    let upper = cost
        .get("share_upper_bound_usd_micros")
        .and_then(Value::as_u64);
    let cost: Cost = serde_json::from_value(cost.clone()).ok()?;
    let most = cost.most().map(|_| upper.unwrap_or(share).max(share));
    Some(Bill {
        least: share,
        most,
        ..Bill::of(&cost)
    })
}

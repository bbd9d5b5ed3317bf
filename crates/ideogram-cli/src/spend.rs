//! `ideogram spend [DIR]`: what the paid calls recorded in a folder cost,
//! by day, provider and model. Nothing is sent.
//!
//! Two records are read: the journals this tool writes in the folder (a
//! batch's `.ideogram-batch.jsonl`, and any other `.ideogram-*.jsonl`),
//! whose `cost` entries say what each paid item cost; and the sidecars of
//! the one-shot commands' images (`*.json`), each holding its image's share
//! of its call's cost. A sidecar whose cost a journal records (a batch's)
//! says so and is not counted twice.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cost::Cost;
use crate::failure::{Failure, INVALID};
use crate::journal::{Entry, Journal};
use crate::output::say;

/// The largest sidecar read, in bytes; a larger file is no sidecar of ours.
const MAX_SIDECAR: u64 = 1 << 20;

/// The most files of the folder looked at.
const MAX_FILES: usize = 1 << 20;

/// One day's spend with one provider and model.
#[derive(Default)]
struct Row {
    usd_micros: u64,
    records: u64,
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
    let mut costs: Vec<(u64, Cost)> = Vec::new();
    for entry in entries.flatten().take(MAX_FILES) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if name.starts_with(".ideogram-") && name.ends_with(".jsonl") {
            let journaled = Journal::entries(&path).unwrap_or_default();
            costs.extend(journaled.into_iter().filter_map(|entry| match entry {
                Entry::Cost { cost, .. } => Some((cost.usd_micros, cost)),
                _ => None,
            }));
        } else if name.ends_with(".json") {
            costs.extend(sidecar_cost(&path));
        }
    }
    let mut rows: BTreeMap<(String, String, String), Row> = BTreeMap::new();
    for (usd_micros, cost) in &costs {
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
        let row = rows.entry(key).or_default();
        row.usd_micros += usd_micros;
        row.records += 1;
    }
    let total: u64 = rows.values().map(|r| r.usd_micros).sum();
    if json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|((day, provider, model), row)| {
                json!({
                    "day": day,
                    "provider": provider,
                    "model": model,
                    "usd_micros": row.usd_micros,
                    "usd": ideogram::dollars(row.usd_micros),
                    "records": row.records,
                })
            })
            .collect();
        let all = json!({
            "folder": dir.display().to_string(),
            "usd_micros": total,
            "usd": ideogram::dollars(total),
            "rows": rows,
        });
        say(&crate::output::json_text(&all));
        return Ok(());
    }
    say(&format!(
        "{:<10}  {:<10}  {:<10}  SPENT",
        "DAY", "PROVIDER", "MODEL"
    ));
    for ((day, provider, model), row) in &rows {
        say(&format!(
            "{day:<10}  {provider:<10}  {model:<10}  {}",
            ideogram::dollars(row.usd_micros)
        ));
    }
    say(&format!("total {}", ideogram::dollars(total)));
    Ok(())
}

/// A sidecar's share of its call's cost, unless a journal records that
/// call's cost (or it is no sidecar of ours, or records none).
fn sidecar_cost(path: &Path) -> Option<(u64, Cost)> {
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
    let cost: Cost = serde_json::from_value(cost.clone()).ok()?;
    Some((share, cost))
}

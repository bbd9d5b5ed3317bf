//! Paid images held only in memory (Segmind's sync answers are bytes, with
//! no URL to fetch them again by) that no place took: a long-lived server
//! keeps them, bounded, so that a repeat of the call with its
//! idempotency_key, or the server's end, can try to save them again.

use std::collections::BTreeMap;
use std::time::SystemTime;

use ideogram::{Generation, ImageData};
use serde_json::Value;

use crate::naming::Plan;
use crate::output::Asked;

/// The most image bytes kept at once: beyond it, the newest are refused
/// (the oldest stay kept) and their answer says so.
pub(super) const LIMIT: usize = 64 << 20;

/// A call's images that no place took, with what saving them needs.
pub(super) struct KeptCall {
    /// The images kept, as the generation they came in (its other images
    /// are not here).
    pub generation: Generation,
    pub plan: Plan,
    pub asked: Asked,
    pub started: SystemTime,
    /// The records of the call's images that were saved, for its answer.
    pub saved: Vec<Value>,
}

impl KeptCall {
    /// The bytes it holds.
    fn size(&self) -> usize {
        self.generation
            .images
            .iter()
            .map(|image| match &image.data {
                ImageData::Bytes { bytes, .. } => bytes.len(),
                _ => 0,
            })
            .sum()
    }
}

/// The calls whose images are kept, by journal item (with their size).
#[derive(Default)]
pub(super) struct Kept {
    calls: BTreeMap<usize, (usize, KeptCall)>,
    bytes: usize,
}

impl Kept {
    /// Keeps `call`'s images for `item` unless that would pass [`LIMIT`]:
    /// whether it kept them.
    pub(super) fn hold(&mut self, item: usize, call: KeptCall) -> bool {
        let size = call.size();
        self.hold_sized(item, call, size)
    }

    fn hold_sized(&mut self, item: usize, call: KeptCall, size: usize) -> bool {
        let earlier = self.calls.get(&item).map_or(0, |(size, _)| *size);
        if self.bytes - earlier + size > LIMIT {
            return false;
        }
        self.bytes = self.bytes - earlier + size;
        self.calls.insert(item, (size, call));
        true
    }

    /// The images kept for `item`, no longer kept.
    pub(super) fn take(&mut self, item: usize) -> Option<KeptCall> {
        let (size, call) = self.calls.remove(&item)?;
        self.bytes -= size;
        Some(call)
    }

    /// Every call's kept images, oldest first, no longer kept.
    pub(super) fn drain(&mut self) -> Vec<(usize, KeptCall)> {
        self.bytes = 0;
        std::mem::take(&mut self.calls)
            .into_iter()
            .map(|(item, (_, call))| (item, call))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> KeptCall {
        KeptCall {
            generation: Generation::new(ideogram::Provider::Segmind, ideogram::Model::V3, vec![]),
            plan: Plan::from_output(None, "p").unwrap(),
            asked: Asked {
                prompt: "p".into(),
                provider: ideogram::Provider::Segmind,
                fields: Default::default(),
            },
            started: SystemTime::now(),
            saved: Vec::new(),
        }
    }

    #[test]
    fn the_oldest_stay_kept_and_the_newest_past_the_limit_are_refused() {
        let mut kept = Kept::default();
        assert!(kept.hold_sized(1, call(), LIMIT / 2));
        assert!(kept.hold_sized(2, call(), LIMIT / 2));
        assert!(!kept.hold_sized(3, call(), 1), "past the limit");
        assert!(kept.take(1).is_some());
        assert!(
            kept.hold_sized(3, call(), 1),
            "room again once one is taken"
        );
        let left: Vec<usize> = kept.drain().into_iter().map(|(item, _)| item).collect();
        assert_eq!(left, [2, 3]);
        assert!(kept.hold_sized(4, call(), LIMIT));
    }
}

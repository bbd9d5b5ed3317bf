//! What a paid call cost, as journals and sidecars record it: the
//! service's own figure where it gives one, else the quote taken before
//! sending, marked which. Millionths of a dollar, never a float.

use ideogram::{Generation, Quote, QuoteSource};
use serde::{Deserialize, Serialize};

/// Where a recorded cost comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CostFrom {
    /// The service's own figure for the finished call
    /// (`usage_cost_usd_micros`).
    Service,
    /// The service's dry run of the request, before it was sent.
    DryRun,
    /// The spec's price for the operation (`x-price`), an estimate.
    Spec,
}

/// What a paid call cost, as journals and sidecars record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cost {
    /// Millionths of a US dollar.
    pub usd_micros: u64,
    /// Where the figure comes from.
    pub from: CostFrom,
    /// Who billed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// When it was paid, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
}

impl Cost {
    /// What `generation` cost: the service's figure where it gave one,
    /// else `quote` (the dry run or the spec's price taken before it was
    /// sent); `None` when neither is known.
    pub(crate) fn of(generation: &Generation, quote: Option<&Quote>) -> Option<Self> {
        let (usd_micros, from) = match (generation.usage_cost_usd_micros, quote) {
            (Some(micros), _) => (micros, CostFrom::Service),
            (None, Some(quote)) => (
                quote.usd_micros,
                match quote.source {
                    QuoteSource::Service => CostFrom::DryRun,
                    _ => CostFrom::Spec,
                },
            ),
            (None, None) => return None,
        };
        Some(Self {
            usd_micros,
            from,
            provider: Some(generation.provider.to_string()),
            model: Some(generation.model.to_string()),
            at: Some(crate::clock::now()),
        })
    }

    /// The share of this cost the `index`th of `count` images carries in
    /// its sidecar: the shares add up to the whole, to the micro-dollar.
    pub(crate) fn share(&self, index: usize, count: usize) -> u64 {
        let count = count.max(1) as u64;
        let (each, rest) = (self.usd_micros / count, self.usd_micros % count);
        each + u64::from((index as u64) < rest)
    }

    /// The sidecar's `cost` for the `index`th of `count` images: the
    /// call's cost and this image's share of it; `journaled` when a journal
    /// in the folder records the call's cost (so `ideogram spend` counts
    /// it once, from there).
    pub(crate) fn sidecar(&self, index: usize, count: usize, journaled: bool) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a cost is JSON");
        value["share_usd_micros"] = self.share(index, count).into();
        value["images"] = count.into();
        if journaled {
            value["journaled"] = true.into();
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_whole() {
        let cost = Cost {
            usd_micros: 100_001,
            from: CostFrom::Spec,
            provider: None,
            model: None,
            at: None,
        };
        let shares: Vec<u64> = (0..3).map(|i| cost.share(i, 3)).collect();
        assert_eq!(shares.iter().sum::<u64>(), 100_001);
        assert_eq!(shares, [33_334, 33_334, 33_333]);
    }
}

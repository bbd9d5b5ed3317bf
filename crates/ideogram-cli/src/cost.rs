//! What a paid call cost, as journals and sidecars record it: the
//! service's own figure where it gives one, else the quote taken before
//! sending, marked which; where that quote is a range (Segmind's 3.0 at
//! $0.037 to $0.113) the range, since what was billed within it is not
//! known; and a paid call nothing prices, as such. Millionths of a dollar,
//! never a float.

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
    /// Paid, at a price nothing here knows (a queued job waited for by its
    /// id alone: its model, and so its price, unknown). `usd_micros` is 0,
    /// the least it cost, and there is no most.
    Unknown,
}

/// What a paid call cost, as journals and sidecars record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cost {
    /// Millionths of a US dollar: what it cost, or, where that is not
    /// certain (a range, or [`CostFrom::Unknown`]), the least it cost.
    pub usd_micros: u64,
    /// The most it cost, where the quote was a range (`usd_micros` its low
    /// end): what was billed is within the two. Absent from journals and
    /// sidecars written before ranges were kept, read as no range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_bound_usd_micros: Option<u64>,
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
        let (usd_micros, upper_bound_usd_micros, from) =
            match (generation.usage_cost_usd_micros, quote) {
                (Some(micros), _) => (micros, None, CostFrom::Service),
                (None, Some(quote)) => (
                    quote.usd_micros,
                    Self::upper(quote.usd_micros, quote.most_usd_micros()),
                    Self::from_quote(quote),
                ),
                (None, None) => return None,
            };
        Some(Self {
            usd_micros,
            upper_bound_usd_micros,
            from,
            provider: Some(generation.provider.to_string()),
            model: Some(generation.model.to_string()),
            at: Some(crate::clock::now()),
        })
    }

    /// What the paid `generation` cost ([`Cost::of`]), else that it was
    /// paid at a price nothing here knows ([`CostFrom::Unknown`]): a
    /// request the spec does not price, sent without a budget.
    pub(crate) fn paid(generation: &Generation, quote: Option<&Quote>) -> Self {
        Self::of(generation, quote).unwrap_or_else(|| Self {
            usd_micros: 0,
            upper_bound_usd_micros: None,
            from: CostFrom::Unknown,
            provider: Some(generation.provider.to_string()),
            model: Some(generation.model.to_string()),
            at: Some(crate::clock::now()),
        })
    }

    /// [`Cost::paid`] of a queued job waited for by its id alone: its
    /// model (so its price) is not known here, and is left unnamed.
    pub(crate) fn of_job(generation: &Generation) -> Self {
        let mut cost = Self::paid(generation, None);
        if cost.from == CostFrom::Unknown {
            cost.model = None;
        }
        cost
    }

    /// Where a figure taken from `quote` comes from.
    pub(crate) fn from_quote(quote: &Quote) -> CostFrom {
        match quote.source {
            QuoteSource::Service => CostFrom::DryRun,
            _ => CostFrom::Spec,
        }
    }

    /// The upper bound to record of a range from `least` to `most`: none
    /// when they are one figure.
    pub(crate) fn upper(least: u64, most: u64) -> Option<u64> {
        (most > least).then_some(most)
    }

    /// The most it cost: `None` when nothing bounds it ([`CostFrom::Unknown`]).
    pub(crate) fn most(&self) -> Option<u64> {
        match self.from {
            CostFrom::Unknown => None,
            _ => Some(self.upper_bound_usd_micros.unwrap_or(self.usd_micros)),
        }
    }

    /// The share of this cost the `index`th of `count` images carries in
    /// its sidecar: the shares add up to the whole, to the micro-dollar.
    pub(crate) fn share(&self, index: usize, count: usize) -> u64 {
        split(self.usd_micros, index, count)
    }

    /// The sidecar's `cost` for the `index`th of `count` images: the
    /// call's cost and this image's share of it; `journaled` when a journal
    /// in the folder records the call's cost (so `ideogram spend` counts
    /// it once, from there).
    pub(crate) fn sidecar(&self, index: usize, count: usize, journaled: bool) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a cost is JSON");
        value["share_usd_micros"] = self.share(index, count).into();
        if let Some(upper) = self.upper_bound_usd_micros {
            value["share_upper_bound_usd_micros"] = split(upper, index, count).into();
        }
        value["images"] = count.into();
        if journaled {
            value["journaled"] = true.into();
        }
        value
    }
}

/// The `index`th of `count` shares of `total`: they add up to it.
fn split(total: u64, index: usize, count: usize) -> u64 {
    let count = count.max(1) as u64;
    let (each, rest) = (total / count, total % count);
    each + u64::from((index as u64) < rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_whole() {
        let cost = Cost {
            usd_micros: 100_001,
            upper_bound_usd_micros: None,
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

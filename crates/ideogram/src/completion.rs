//! How long queued jobs take: a per-model estimate that starts from the
//! spec's typical time and learns from every job this client sees finish.
//! The poll schedule ([`crate::PollSchedule`]) plans its polls on it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The spread of a model's completion times before anything is learned, as
/// the standard deviation of their logarithm: about ±35 % around the
/// documented typical time.
const PRIOR_SIGMA: f64 = 0.3;
/// Where a model has no documented time: a median of 10 s, spread widely.
const GENERIC_MEDIAN_SECONDS: f64 = 10.0;
const GENERIC_SIGMA: f64 = 0.8;
/// How many observed jobs the prior counts as at first...
const PRIOR_WEIGHT: f64 = 2.0;
/// ...fading to nothing over this many observations.
const PRIOR_FADES_OVER: f64 = 10.0;
/// How finely a completion time is known, in seconds: about the shortest
/// wait between polls.
const RESOLUTION: f64 = 0.1;
/// The observations kept per model (the most recent), so that an estimate
/// follows a service that speeds up or slows down.
pub(crate) const WINDOW: usize = 32;
/// Models kept in a store, so that a store read from disk stays small.
const MAX_MODELS: usize = 64;
/// The version of [`CompletionTimes::to_json`]'s format.
const FORMAT_VERSION: u32 = 1;

/// The distribution of one model's completion times (submit to COMPLETED):
/// a mixture of log-normal kernels, one around the prior and one around each
/// observation.
///
/// ```
/// use std::time::Duration;
/// use ideogram::CompletionEstimate;
///
/// let prior = CompletionEstimate::prior(Some(Duration::from_secs(12)));
/// assert!((prior.survival(Duration::from_secs(12)) - 0.5).abs() < 0.01);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionEstimate {
    /// (mean of ln seconds, its standard deviation, weight)
    kernels: Vec<(f64, f64, f64)>,
}

impl CompletionEstimate {
    /// What is known before any job finished: a log-normal around the
    /// model's typical time (σ 0.3 in log space), or, without one, around
    /// 10 s with a wide spread (σ 0.8).
    pub fn prior(typical: Option<Duration>) -> Self {
        let kernel = match typical.map(|t| t.as_secs_f64()).filter(|s| *s > 0.0) {
            Some(seconds) => (seconds.ln(), PRIOR_SIGMA, PRIOR_WEIGHT),
            None => (GENERIC_MEDIAN_SECONDS.ln(), GENERIC_SIGMA, PRIOR_WEIGHT),
        };
        Self {
            kernels: vec![kernel],
        }
    }

    /// The prior updated by `observed` completion times: each adds a kernel
    /// whose width follows Silverman's rule on the observations' spread,
    /// while the prior fades out over the first ten.
    pub fn learned(typical: Option<Duration>, observed: &[Duration]) -> Self {
        let mut estimate = Self::prior(typical);
        let logs: Vec<f64> = observed
            .iter()
            .map(Duration::as_secs_f64)
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(f64::ln)
            .collect();
        if logs.is_empty() {
            return estimate;
        }
        let n = logs.len() as f64;
        // The prior fades out as observations come in, so that a model
        // slower or faster than documented is followed within a few jobs.
        let prior_weight = PRIOR_WEIGHT * (1.0 - n / PRIOR_FADES_OVER).max(0.0);
        if prior_weight > 0.0 {
            estimate.kernels[0].2 = prior_weight;
        } else {
            estimate.kernels.clear();
        }
        let mean = logs.iter().sum::<f64>() / n;
        let spread = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Narrow enough to follow a tight model, never so narrow that one
        // observation is taken as certain, nor finer than polls can tell
        // times apart (RESOLUTION, a large share of a short time).
        let width = (0.9 * spread.max(0.05) * n.powf(-0.2)).max(0.04);
        // Each kernel centred so that its mean is its observation: the
        // estimate's mean is then the observations' (and the prior's).
        estimate.kernels.extend(logs.into_iter().map(|x| {
            let width = width.max(RESOLUTION / x.exp());
            (x - width * width / 2.0, width, 1.0)
        }));
        estimate
    }

    /// Whether this is a prior alone, with nothing observed.
    pub fn is_prior(&self) -> bool {
        self.kernels.len() == 1 && self.kernels[0].2 == PRIOR_WEIGHT
    }

    fn total_weight(&self) -> f64 {
        self.kernels.iter().map(|k| k.2).sum()
    }

    /// The probability that a job is still running after `t`.
    pub fn survival(&self, t: Duration) -> f64 {
        self.survival_at(t.as_secs_f64())
    }

    pub(crate) fn survival_at(&self, seconds: f64) -> f64 {
        if seconds <= 0.0 {
            return 1.0;
        }
        let x = seconds.ln();
        let sum: f64 = self
            .kernels
            .iter()
            .map(|(mu, sigma, w)| w * upper_tail((x - mu) / sigma))
            .sum();
        sum / self.total_weight()
    }

    /// The survival and the probability density (per second) at `seconds`,
    /// in one pass; kernels more than 8 widths away count as whole or none.
    pub(crate) fn survival_and_density_at(&self, seconds: f64) -> (f64, f64) {
        if seconds <= 0.0 {
            return (1.0, 0.0);
        }
        let x = seconds.ln();
        let (mut survival, mut density) = (0.0, 0.0);
        for (mu, sigma, w) in &self.kernels {
            let z = (x - mu) / sigma;
            if z < -8.0 {
                survival += w;
            } else if z <= 8.0 {
                survival += w * upper_tail(z);
                density += w * (-0.5 * z * z).exp() / (sigma * seconds);
            }
        }
        let total = self.total_weight();
        (
            survival / total,
            density / (total * (2.0 * std::f64::consts::PI).sqrt()),
        )
    }

    /// The expected completion time.
    pub fn mean(&self) -> Duration {
        let sum: f64 = self
            .kernels
            .iter()
            .map(|(mu, sigma, w)| w * (mu + sigma * sigma / 2.0).exp())
            .sum();
        Duration::try_from_secs_f64(sum / self.total_weight()).unwrap_or(Duration::MAX)
    }
}

/// P(Z > z) for a standard normal Z.
fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Completion times learned per model, shared by a client's clones (and by
/// any client built with the same store), so that each finished job sharpens
/// the polls of the next. [`to_json`](Self::to_json) and
/// [`from_json`](Self::from_json) keep it across runs (the CLI stores it in
/// the user's cache folder).
///
/// ```
/// use std::time::Duration;
/// use ideogram::CompletionTimes;
///
/// let times = CompletionTimes::default();
/// times.record("/v2/ideogram-3", Duration::from_secs(9));
/// let restored = CompletionTimes::from_json(&times.to_json()).unwrap();
/// assert_eq!(restored.observed("/v2/ideogram-3"), [Duration::from_secs(9)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CompletionTimes {
    models: Arc<Mutex<BTreeMap<String, VecDeque<Duration>>>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    version: u32,
    /// Seconds per model key, oldest first.
    models: BTreeMap<String, Vec<f64>>,
}

impl CompletionTimes {
    /// Records that a job of `model` (its queue operation's path) took
    /// `took` from submit to completion; the oldest observation beyond the
    /// last 32 is forgotten.
    pub fn record(&self, model: &str, took: Duration) {
        if took.is_zero() {
            return;
        }
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if !models.contains_key(model) && models.len() >= MAX_MODELS {
            return;
        }
        let times = models.entry(model.to_owned()).or_default();
        if times.len() == WINDOW {
            times.pop_front();
        }
        times.push_back(took);
    }

    /// Records everything `other` observed, as if seen here after what is
    /// (a store read from disk into a client's).
    pub fn extend(&self, other: &CompletionTimes) {
        let theirs = other
            .models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (model, times) in theirs {
            for took in times {
                self.record(&model, took);
            }
        }
    }

    /// The observations kept for `model`, oldest first.
    pub fn observed(&self, model: &str) -> Vec<Duration> {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        models
            .get(model)
            .map(|t| t.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The estimate for `model`: its prior around `typical`, updated by what
    /// was observed.
    pub fn estimate(&self, model: &str, typical: Option<Duration>) -> CompletionEstimate {
        CompletionEstimate::learned(typical, &self.observed(model))
    }

    /// The store as versioned JSON (a few KB at most).
    pub fn to_json(&self) -> String {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let saved = Saved {
            version: FORMAT_VERSION,
            models: models
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().map(Duration::as_secs_f64).collect()))
                .collect(),
        };
        serde_json::to_string(&saved).expect("a map of numbers serializes")
    }

    /// A store from [`to_json`](Self::to_json)'s text; `None` when it is not
    /// that format or another version of it (a cache to be ignored). Values
    /// that are not positive, finite and under a day are dropped.
    pub fn from_json(text: &str) -> Option<Self> {
        let saved: Saved = serde_json::from_str(text).ok()?;
        if saved.version != FORMAT_VERSION {
            return None;
        }
        let times = Self::default();
        for (model, seconds) in saved.models.iter().take(MAX_MODELS) {
            let start = seconds.len().saturating_sub(WINDOW);
            for s in &seconds[start..] {
                if let Ok(took) = Duration::try_from_secs_f64(*s)
                    && took < Duration::from_secs(86_400)
                {
                    times.record(model, took);
                }
            }
        }
        Some(times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_function_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - want).abs() < 1e-7 * want.max(1.0), "erfc({x})");
        }
    }

    #[test]
    fn a_prior_is_centred_on_the_typical_time_and_integrates_to_one() {
        let prior = CompletionEstimate::prior(Some(Duration::from_secs_f64(12.37)));
        assert!((prior.survival_at(12.37) - 0.5).abs() < 1e-6);
        let (mut integral, dt) = (0.0, 0.01);
        let mut t = dt / 2.0;
        while t < 100.0 {
            integral += prior.survival_and_density_at(t).1 * dt;
            t += dt;
        }
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
        let mean = prior.mean().as_secs_f64();
        assert!((mean - 12.37 * (0.045f64).exp()).abs() < 1e-6, "{mean}");
    }

    #[test]
    fn observations_move_the_estimate_towards_them() {
        let slow: Vec<Duration> = (0..20)
            .map(|i| Duration::from_secs_f64(24.0 + f64::from(i % 5) * 0.5))
            .collect();
        let learned = CompletionEstimate::learned(Some(Duration::from_secs(12)), &slow);
        // Most of the mass now lies past the prior's median.
        assert!(learned.survival_at(12.0) > 0.85);
        assert!(learned.survival_at(30.0) < 0.05);
    }

    #[test]
    fn a_store_keeps_a_window_and_survives_a_round_trip() {
        let times = CompletionTimes::default();
        for i in 1..=40 {
            times.record("m", Duration::from_secs(i));
        }
        let kept = times.observed("m");
        assert_eq!(kept.len(), WINDOW);
        assert_eq!(kept[0], Duration::from_secs(9));
        let restored = CompletionTimes::from_json(&times.to_json()).expect("round trip");
        assert_eq!(restored.observed("m"), kept);
        // Another version, another format, nonsense values: ignored.
        assert!(CompletionTimes::from_json(r#"{"version":2,"models":{}}"#).is_none());
        assert!(CompletionTimes::from_json("not json").is_none());
        let odd = CompletionTimes::from_json(r#"{"version":1,"models":{"m":[-1, 0, 1e300, 3.5]}}"#)
            .expect("read");
        assert_eq!(odd.observed("m"), [Duration::from_secs_f64(3.5)]);
    }

    #[test]
    fn clones_share_what_they_learn() {
        let times = CompletionTimes::default();
        times.clone().record("m", Duration::from_secs(5));
        assert_eq!(times.observed("m").len(), 1);
        let other = CompletionTimes::default();
        other.record("m", Duration::from_secs(6));
        other.record("n", Duration::from_secs(7));
        times.extend(&other);
        assert_eq!(times.observed("m"), [5, 6].map(Duration::from_secs));
        assert_eq!(times.observed("n"), [Duration::from_secs(7)]);
    }
}

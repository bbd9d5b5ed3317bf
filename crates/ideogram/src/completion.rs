//! How long queued jobs take: a per-model estimate from the spec's typical
//! time and every job seen finish, which [`crate::PollSchedule`] plans on.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The prior's σ of ln seconds around a documented time: wide, for a model 3x off.
const PRIOR_SIGMA: f64 = 0.6;
/// Without a documented time: a median of 10 s, σ 1.0.
const GENERIC: (f64, f64) = (10.0, 1.0);
/// The prior's share of jobs served at once (a cache, a mock), around 0.3 s.
const FAST: (f64, f64, f64) = (-1.2, 0.5, 0.02);
/// The prior counts as 2 observed jobs, fading to none over 10.
const PRIOR_WEIGHT: f64 = 2.0;
const PRIOR_FADES_OVER: f64 = 10.0;
/// How finely polls tell completion times apart, in seconds.
const RESOLUTION: f64 = 0.25;
/// Observations kept per model (the latest): estimates follow a changing service.
pub(crate) const WINDOW: usize = 32;
/// Jobs between plans once the prior faded: a plan costs far more than a job's exchanges.
const REPLAN_AFTER: u64 = (WINDOW / 4) as u64;
/// Models kept in a store, so that one read from disk stays small.
const MAX_MODELS: usize = 64;
/// The version of [`CompletionTimes::to_json`]'s format.
const FORMAT_VERSION: u32 = 1;

/// One model's completion times (submit to COMPLETED): a mixture of log-normal
/// kernels, one around the prior and one around each observation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionEstimate {
    /// (mean of ln seconds, its standard deviation, weight)
    kernels: Vec<(f64, f64, f64)>,
}

impl CompletionEstimate {
    /// Before any job finished: a log-normal around `typical` (σ 0.6 of ln s;
    /// without one 10 s, σ 1.0), and a small chance of being served at once.
    pub fn prior(typical: Option<Duration>) -> Self {
        let seconds = typical.map(|t| t.as_secs_f64()).filter(|s| *s > 0.0);
        let (median, sigma) = seconds.map_or(GENERIC, |s| (s, PRIOR_SIGMA));
        let (w, fast) = (PRIOR_WEIGHT, FAST.2 * PRIOR_WEIGHT);
        Self {
            kernels: vec![(median.ln(), sigma, w - fast), (FAST.0, FAST.1, fast)],
        }
    }

    /// The prior updated by `observed` completion times: each adds a kernel
    /// (width by Silverman's rule) while the prior fades over the first ten.
    pub fn learned(typical: Option<Duration>, observed: &[Duration]) -> Self {
        let mut estimate = Self::prior(typical);
        let logs = observed.iter().map(|t| t.as_secs_f64().ln());
        let logs: Vec<f64> = logs.filter(|x| x.is_finite()).collect();
        if logs.is_empty() {
            return estimate;
        }
        let n = logs.len() as f64;
        // So that a model slower or faster than documented is followed soon.
        let fade = (1.0 - n / PRIOR_FADES_OVER).max(0.0);
        estimate.kernels.iter_mut().for_each(|k| k.2 *= fade);
        estimate.kernels.retain(|k| k.2 > 0.0);
        let mean = logs.iter().sum::<f64>() / n;
        let spread = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Never so narrow that one observation is certain, nor finer than polls tell.
        let width = (0.9 * spread.max(0.1) * n.powf(-0.2)).max(0.05);
        // Each kernel centred so that its mean is its observation.
        estimate.kernels.extend(logs.into_iter().map(|x| {
            let width = width.max(RESOLUTION / x.exp());
            (x - width * width / 2.0, width, 1.0)
        }));
        estimate
    }

    /// The chance that a job still runs after `t` (kernels 8 widths off count whole or not).
    pub fn survival(&self, t: Duration) -> f64 {
        if t.is_zero() {
            return 1.0;
        }
        let x = t.as_secs_f64().ln();
        let (mut sum, mut total) = (0.0, 0.0);
        for (mu, sigma, w) in &self.kernels {
            let z = (x - mu) / sigma;
            total += w;
            if z < -8.0 {
                sum += w;
            } else if z <= 8.0 {
                // P(Z > z), logistic fit (error below 1.5e-4).
                sum += w / (1.0 + (z * (1.5976 + 0.070_566 * z * z)).exp());
            }
        }
        sum / total
    }
}

/// Completion times learned per model, shared by a client's clones (and any
/// client built with this store): each finished job sharpens the polls of
/// the next and of those in flight. [`to_json`](Self::to_json) and
/// [`from_json`](Self::from_json) keep it across runs (the CLI's cache).
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
    models: Arc<Mutex<BTreeMap<String, Learned>>>,
}

/// What a store knows of one model.
#[derive(Debug, Default, Clone)]
struct Learned {
    times: VecDeque<Duration>,
    /// Observations ever recorded.
    count: u64,
    /// The last plan, with the count and schedule settings it was made for.
    plan: Option<(u64, [Duration; 2], Arc<[Duration]>)>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    version: u32,
    /// Seconds per model key, oldest first.
    models: BTreeMap<String, Vec<f64>>,
}

impl CompletionTimes {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Learned>> {
        self.models.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that a `model` job (its queue path) took `took` from submit to
    /// completion; the last 32 are kept.
    pub fn record(&self, model: &str, took: Duration) {
        let mut models = self.lock();
        if took.is_zero() || !models.contains_key(model) && models.len() >= MAX_MODELS {
            return;
        }
        let learned = models.entry(model.to_owned()).or_default();
        if learned.times.len() == WINDOW {
            learned.times.pop_front();
        }
        learned.times.push_back(took);
        learned.count += 1;
    }

    /// Records everything `other` (a store read from disk) observed, after what is here.
    pub fn extend(&self, other: &CompletionTimes) {
        let theirs = other.lock().clone();
        for (model, learned) in theirs {
            for took in learned.times {
                self.record(&model, took);
            }
        }
    }

    /// The observations kept for `model`, oldest first.
    pub fn observed(&self, model: &str) -> Vec<Duration> {
        self.lock()
            .get(model)
            .map_or_else(Vec::new, |l| l.times.clone().into())
    }

    /// How many `model` jobs were ever recorded: a job in flight sees it change, to re-plan.
    pub fn count(&self, model: &str) -> u64 {
        self.lock().get(model).map_or(0, |l| l.count)
    }

    /// The plan `make` draws on `model`'s estimate, shared per schedule `key`: remade on each
    /// of the first ten observations (they move it most), then every [`REPLAN_AFTER`].
    pub(crate) fn plan(
        &self,
        model: &str,
        typical: Option<Duration>,
        key: [Duration; 2],
        make: impl FnOnce(&CompletionEstimate) -> Arc<[Duration]>,
    ) -> Arc<[Duration]> {
        let mut models = self.lock();
        if !models.contains_key(model) && models.len() >= MAX_MODELS {
            return make(&CompletionEstimate::prior(typical));
        }
        let learned = models.entry(model.to_owned()).or_default();
        let past = learned.count.saturating_sub(PRIOR_FADES_OVER as u64);
        let epoch = learned.count - past % REPLAN_AFTER;
        match &learned.plan {
            Some((made, k, plan)) if *made == epoch && *k == key => plan.clone(),
            _ => {
                let times = learned.times.make_contiguous();
                let plan = make(&CompletionEstimate::learned(typical, times));
                learned.plan = Some((epoch, key, plan.clone()));
                plan
            }
        }
    }

    /// The store as versioned JSON (a few KB at most).
    pub fn to_json(&self) -> String {
        let seconds = |l: &Learned| l.times.iter().map(Duration::as_secs_f64).collect();
        let kept = self.lock();
        let models = kept.iter().filter(|(_, l)| !l.times.is_empty());
        let models = models.map(|(k, l)| (k.clone(), seconds(l))).collect();
        let saved = Saved {
            version: FORMAT_VERSION,
            models,
        };
        serde_json::to_string(&saved).expect("a map of numbers serializes")
    }

    /// A store from [`to_json`](Self::to_json)'s text; `None` for another format or version
    /// (a cache to ignore). Values not positive, finite and under a day are dropped.
    pub fn from_json(text: &str) -> Option<Self> {
        let saved: Saved = serde_json::from_str(text).ok()?;
        if saved.version != FORMAT_VERSION {
            return None;
        }
        let times = Self::default();
        for (model, seconds) in saved.models.iter().take(MAX_MODELS) {
            for s in &seconds[seconds.len().saturating_sub(WINDOW)..] {
                match Duration::try_from_secs_f64(*s) {
                    Ok(took) if took.as_secs() < 86_400 => times.record(model, took),
                    _ => {}
                }
            }
        }
        Some(times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds)
    }

    #[test]
    fn the_normal_tail_matches_known_values() {
        let standard = CompletionEstimate {
            kernels: vec![(0.0, 1.0, 1.0)],
        };
        for (z, want) in [
            (0.0, 0.5),
            (0.5, 0.308_537_539),
            (1.0, 0.158_655_254),
            (2.0, 0.022_750_132),
            (3.0, 0.001_349_898),
            (-1.0, 0.841_344_746),
        ] {
            let got = standard.survival(at(f64::exp(z)));
            assert!((got - want).abs() < 1.5e-4, "P(Z > {z}) = {got}");
        }
    }

    #[test]
    fn a_prior_is_centred_on_the_typical_time_with_a_little_mass_at_once() {
        let prior = CompletionEstimate::prior(Some(at(12.37)));
        // 2 % of it on jobs served at once, the rest around 12.37 s.
        assert!((prior.survival(at(12.37)) - 0.49).abs() < 1e-3);
        assert!((prior.survival(at(2.0)) - 0.98).abs() < 3e-3);
        // Wide: a job 3x slower or faster than documented is not ruled out.
        assert!(prior.survival(at(3.0 * 12.37)) > 0.02);
        assert!(prior.survival(at(12.37 / 3.0)) < 0.97);
        let generic = CompletionEstimate::prior(None);
        assert!((generic.survival(at(10.0)) - 0.49).abs() < 1e-3);
    }

    #[test]
    fn observations_move_the_estimate_towards_them() {
        let slow: Vec<Duration> = (0..20).map(|i| at(24.0 + f64::from(i % 5) * 0.5)).collect();
        let learned = CompletionEstimate::learned(Some(at(12.0)), &slow);
        // Most of the mass now lies past the prior's median.
        assert!(learned.survival(at(12.0)) > 0.85);
        assert!(learned.survival(at(30.0)) < 0.05);
    }

    #[test]
    fn a_store_counts_what_it_records_and_saves_only_models_seen() {
        let times = CompletionTimes::default();
        let plan = |_: &CompletionEstimate| -> Arc<[Duration]> { Arc::new([]) };
        times.plan("unseen", None, [Duration::ZERO; 2], plan);
        assert_eq!(times.count("m"), 0);
        for _ in 0..40 {
            times.record("m", at(1.0));
        }
        assert_eq!(times.count("m"), 40);
        assert_eq!(
            times.to_json(),
            r#"{"version":1,"models":{"m":[1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0]}}"#
        );
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
    fn a_plan_is_made_each_job_while_the_prior_fades_then_every_quarter_window() {
        let times = CompletionTimes::default();
        let made = std::sync::atomic::AtomicUsize::new(0);
        let plan = || {
            times.plan("m", None, [Duration::ZERO; 2], |_| {
                made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Arc::new([])
            })
        };
        let mut counts = Vec::new();
        for _ in 0..=40 {
            let before = made.load(std::sync::atomic::Ordering::Relaxed);
            plan();
            plan();
            if made.load(std::sync::atomic::Ordering::Relaxed) > before {
                counts.push(times.count("m"));
            }
            times.record("m", at(1.0));
        }
        assert_eq!(counts, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 26, 34]);
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

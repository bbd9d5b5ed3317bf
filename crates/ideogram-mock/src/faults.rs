//! Faults injected on purpose: per test (a queue of faults for the next
//! matching requests) or at random (a seeded rate over chosen kinds).

use std::time::Duration;

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// A way for an answer to go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with a JSON error body; nothing is billed.
    Status(u16),
    /// Close the connection before doing anything; nothing is billed.
    DropBeforeBilling,
    /// Generate and bill, then close the connection without answering.
    DropAfterBilling,
    /// Wait this long before doing the work (a client that gives up first
    /// cancels it, unbilled).
    SlowHeaders(Duration),
    /// Send the headers, then the body in pieces spread over this long.
    SlowBody(Duration),
    /// Bill, send the headers and half the body, then close.
    TruncatedBody,
    /// Bill, then answer 200 with a body that is not valid JSON.
    MalformedJson,
    /// Answer 307 to the same path on the image origin (another origin).
    Redirect,
    /// Accept the request and answer its queue id; the queued work (an
    /// Ideogram v2 generation, a Segmind job) then FAILS, unbilled, as a
    /// prompt with [`FAIL_TRIGGER`](crate::FAIL_TRIGGER) makes it: for the
    /// operations that take no prompt (remove-object). A request answered
    /// at once is not struck.
    FailQueued,
}

impl Fault {
    /// Every kind, with representative settings, for random fault plans.
    pub fn all_kinds() -> Vec<Fault> {
        vec![
            Self::Status(500),
            Self::Status(502),
            Self::Status(504),
            Self::DropBeforeBilling,
            Self::DropAfterBilling,
            Self::SlowHeaders(Duration::from_millis(50)),
            Self::SlowBody(Duration::from_millis(50)),
            Self::TruncatedBody,
            Self::MalformedJson,
            Self::Redirect,
        ]
    }

    /// Whether this fault keeps a whole answer from the client.
    pub fn breaks_answer(&self) -> bool {
        matches!(
            self,
            Self::DropAfterBilling | Self::TruncatedBody | Self::MalformedJson
        )
    }

    /// Whether the generation is billed before this fault strikes.
    pub fn bills(&self) -> bool {
        matches!(
            self,
            Self::DropAfterBilling | Self::SlowBody(_) | Self::TruncatedBody | Self::MalformedJson
        )
    }
}

/// Whether queued work with `prompt`, struck by `fault`, fails when it
/// runs (unbilled).
pub(crate) fn queued_fails(prompt: &str, fault: Option<&Fault>) -> bool {
    prompt.contains(crate::FAIL_TRIGGER) || fault == Some(&Fault::FailQueued)
}

/// Which requests a queued fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any request to the API origin.
    Any,
    /// Requests to the API origin whose path starts with this.
    PathPrefix(String),
    /// Requests to the API origin with this method (`POST`, `GET`).
    Method(String),
    /// Downloads from the image origin whose path starts with this
    /// (`/images/` for all of them). Random faults never strike there.
    ImagePath(String),
}

/// Which of the mock's two origins a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Api,
    Images,
}

impl Target {
    fn matches(&self, origin: Origin, method: &str, path: &str) -> bool {
        match (self, origin) {
            (Self::Any, Origin::Api) => true,
            (Self::PathPrefix(prefix), Origin::Api) => path.starts_with(prefix.as_str()),
            (Self::Method(m), Origin::Api) => m.eq_ignore_ascii_case(method),
            (Self::ImagePath(prefix), Origin::Images) => path.starts_with(prefix.as_str()),
            _ => false,
        }
    }
}

/// The faults waiting to strike.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    queued: Vec<(Target, Fault)>,
    random: Option<(f64, Vec<Fault>, u64)>,
    /// Requests seen per key, so a retried request draws afresh.
    seen: HashMap<u64, u64>,
}

impl FaultPlan {
    pub(crate) fn push(&mut self, target: Target, fault: Fault) {
        self.queued.push((target, fault));
    }

    pub(crate) fn set_random(&mut self, rate: f64, kinds: Vec<Fault>, seed: u64) {
        self.random = (rate > 0.0 && !kinds.is_empty()).then_some((rate, kinds, seed));
        self.seen.clear();
    }

    pub(crate) fn clear(&mut self) {
        self.queued.clear();
        self.random = None;
    }

    /// The fault for this request, if any: the first queued one that matches,
    /// else a random draw. The draw depends on the seed, the request's `key`
    /// (its body, or its path) and how often that key was seen, never on
    /// arrival order, so a concurrent run is reproducible.
    pub(crate) fn take(
        &mut self,
        origin: Origin,
        method: &str,
        path: &str,
        key: &[u8],
    ) -> Option<Fault> {
        if let Some(i) = self
            .queued
            .iter()
            .position(|(t, _)| t.matches(origin, method, path))
        {
            return Some(self.queued.remove(i).1);
        }
        if origin == Origin::Images {
            return None;
        }
        let (rate, kinds, seed) = self.random.as_ref()?;
        let key = fnv(method.as_bytes().iter().chain(path.as_bytes()).chain(key));
        let seen = self.seen.entry(key).or_default();
        *seen += 1;
        let mut rng = StdRng::seed_from_u64(seed ^ key ^ seen.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if rng.random::<f64>() < *rate {
            Some(kinds[rng.random_range(0..kinds.len())].clone())
        } else {
            None
        }
    }
}

/// FNV-1a over bytes.
fn fnv<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

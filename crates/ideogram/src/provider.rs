//! Who runs a generation, with what each spec says of it.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::invalid::InvalidInput;

/// Who runs the generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// Segmind's hosted API (`x-api-key`, v1 sync and v2 queue).
    Segmind,
    /// Ideogram's own API, or a gateway that re-serves it.
    Ideogram,
}

impl Provider {
    /// Both providers.
    pub const ALL: [Self; 2] = [Self::Segmind, Self::Ideogram];

    /// The seeds this provider accepts, read from its spec's `Seed` schema.
    pub fn seed_range(self) -> RangeInclusive<u32> {
        let range = match self {
            Self::Segmind => ideogram_raw::segmind::limits::SEED,
            Self::Ideogram => ideogram_raw::ideogram::limits::SEED,
        };
        as_u32(&range)
    }

    /// Where this provider's API is, unless a client is told otherwise.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Segmind => ideogram_raw::SEGMIND_BASE_URL,
            Self::Ideogram => ideogram_raw::IDEOGRAM_BASE_URL,
        }
    }

    /// How long after submission this provider keeps a queued request's
    /// status and result (its spec's `x-result-ttl-seconds`: Segmind's
    /// hour); `None` where its spec says nothing of a queue.
    pub fn result_ttl(self) -> Option<std::time::Duration> {
        self.operations().iter().find_map(|op| op.result_ttl)
    }

    /// Its spec's operation table: the raw tables, not the catalog (which
    /// names providers itself).
    fn operations(self) -> &'static [ideogram_raw::operation::Operation] {
        match self {
            Self::Segmind => ideogram_raw::segmind::operations::ALL,
            Self::Ideogram => ideogram_raw::ideogram::operations::ALL,
        }
    }

    /// [`result_ttl`](Self::result_ttl) in words: `1 hour`, `2 hours`,
    /// `90 minutes`.
    pub fn result_ttl_text(self) -> Option<String> {
        let minutes = self.result_ttl()?.as_secs() / 60;
        Some(match (minutes / 60, minutes % 60) {
            (1, 0) => "1 hour".to_owned(),
            (hours, 0) if hours > 1 => format!("{hours} hours"),
            _ if minutes == 1 => "1 minute".to_owned(),
            _ => format!("{minutes} minutes"),
        })
    }

    /// How long one run of this provider's operation `id` (a [`Quote`]'s
    /// `operation`) typically takes, where its spec says
    /// (`x-typical-seconds`): the operation's own figure, else that of the
    /// queued operation its route names (Segmind's pages time the model,
    /// which both its sync and its queued calls run).
    ///
    /// [`Quote`]: crate::Quote
    pub fn typical(self, id: &str) -> Option<std::time::Duration> {
        let find = |id: &str| self.operations().iter().find(|op| op.id == id);
        let op = find(id)?;
        op.typical
            .or_else(|| find(op.route?.queue?).and_then(|queued| queued.typical))
    }

    /// The environment variable a key is read from.
    pub fn key_variable(self) -> &'static str {
        match self {
            Self::Segmind => "SEGMIND_API_KEY",
            Self::Ideogram => "IDEOGRAM_API_KEY",
        }
    }
}

/// A spec's integer range as `u32`s (the specs' seeds and weights fit).
pub(crate) fn as_u32(range: &RangeInclusive<i64>) -> RangeInclusive<u32> {
    let fit = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    fit(*range.start())..=fit(*range.end())
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Segmind => "segmind",
            Self::Ideogram => "ideogram",
        })
    }
}

impl FromStr for Provider {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        let message = || format!("{s:?} is not a provider; use segmind or ideogram");
        let provider = Self::ALL.into_iter().find(|p| p.to_string() == name);
        provider.ok_or_else(|| InvalidInput::new("provider", message()))
    }
}

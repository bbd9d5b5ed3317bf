//! The account's money, and the answer a call gets when it would pass it:
//! the older credits model ([`MockConfig::credits`](crate::MockConfig::credits)
//! per image), and a balance and a daily limit in millionths of a dollar,
//! charged with each billed entry's spec price ([`Billed::usd_micros`]).
//! An operation the spec does not price costs nothing against those two.

use axum::response::Response;
use chrono::{NaiveDate, Utc};

use crate::ledger::Billed;
use crate::serve::{error, json};

/// Why the account cannot pay a call: each is answered unbilled, Ideogram's
/// as 402 with its `reject_reason`, Segmind's as 406.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Short {
    /// Fewer credits left than the call costs.
    Credits,
    /// The balance in dollars is smaller than the call's price.
    Funds,
    /// The call would pass what may be spent today (UTC).
    DailyLimit,
}

impl Short {
    /// Ideogram's answer: the spec's `PaymentRequired`, its body the
    /// generated `ErrorBody` with the `reject_reason` the spec names.
    pub(crate) fn ideogram(self) -> Response {
        use ideogram_raw::ideogram::types::RejectReason;
        let (words, reason) = match self {
            Self::Credits | Self::Funds => ("Insufficient funds", RejectReason::InsufficientFunds),
            Self::DailyLimit => ("Daily spending limit reached", RejectReason::DailyLimit),
        };
        let body = ideogram_raw::ideogram::types::ErrorBody {
            error: Some(words.to_owned()),
            reject_reason: Some(reason.to_string()),
            max_inflight_requests: None,
            task_completion_speed: None,
        };
        json(
            402,
            serde_json::to_value(body).expect("a generated body is JSON"),
        )
    }

    /// Segmind's answer: the spec's `NotAcceptable` with its credits words
    /// (Segmind has no daily limit of its own; the mock's says so too).
    pub(crate) fn segmind(self) -> Response {
        error(406, NO_CREDITS)
    }
}

/// Segmind's words when the credits run out (a 406's, or a queued job's
/// failure).
pub(crate) const NO_CREDITS: &str = "Insufficient credits";

/// What the account holds and has spent today.
#[derive(Debug)]
pub(crate) struct Funds {
    credits: f64,
    /// Millionths of a dollar left; `None`: no end.
    balance: Option<u64>,
    /// The UTC day and what was spent on it, in millionths of a dollar.
    today: (NaiveDate, u64),
}

impl Funds {
    /// An account holding `credits` and `balance`.
    pub(crate) fn new(credits: f64, balance: Option<u64>) -> Self {
        Self {
            credits,
            balance,
            today: (Utc::now().date_naive(), 0),
        }
    }

    pub(crate) fn credits(&self) -> f64 {
        self.credits
    }

    pub(crate) fn set_credits(&mut self, credits: f64) {
        self.credits = credits;
    }

    pub(crate) fn balance(&self) -> Option<u64> {
        self.balance
    }

    pub(crate) fn set_balance(&mut self, balance: Option<u64>) {
        self.balance = balance;
    }

    /// What was spent today (UTC), in millionths of a dollar.
    pub(crate) fn spent_today(&self) -> u64 {
        match self.today {
            (day, spent) if day == Utc::now().date_naive() => spent,
            _ => 0,
        }
    }

    /// Why a call costing `cost` credits and priced `usd_micros` cannot be
    /// paid under `daily_limit`, if it cannot.
    pub(crate) fn short_of(
        &self,
        cost: f64,
        usd_micros: Option<u64>,
        daily_limit: Option<u64>,
    ) -> Option<Short> {
        let price = usd_micros.unwrap_or(0);
        if self.credits + 1e-9 < cost {
            Some(Short::Credits)
        } else if self.balance.is_some_and(|left| left < price) {
            Some(Short::Funds)
        } else if daily_limit.is_some_and(|limit| self.spent_today().saturating_add(price) > limit)
        {
            Some(Short::DailyLimit)
        } else {
            None
        }
    }

    /// Charges a billed entry: its credits and its price.
    pub(crate) fn charge(&mut self, entry: &Billed) {
        self.credits -= entry.cost;
        let price = entry.usd_micros.unwrap_or(0);
        if let Some(left) = &mut self.balance {
            *left = left.saturating_sub(price);
        }
        let spent = self.spent_today();
        self.today = (Utc::now().date_naive(), spent.saturating_add(price));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(usd_micros: u64) -> Billed {
        let spec = crate::image::ImageSpec {
            width: 1,
            height: 1,
            seed: 0,
            palette: vec![],
            transparent: false,
        };
        Billed {
            usd_micros: Some(usd_micros),
            ..crate::state::billed(
                "x",
                crate::ledger::Service::Ideogram,
                "/x",
                "",
                &spec,
                Default::default(),
            )
        }
    }

    #[test]
    fn a_call_that_would_pass_the_balance_or_the_day_is_short() {
        let mut funds = Funds::new(10.0, Some(100_000));
        assert_eq!(funds.short_of(0.0, Some(100_000), None), None);
        funds.charge(&priced(60_000));
        assert_eq!(funds.balance(), Some(40_000));
        assert_eq!(funds.short_of(0.0, Some(60_000), None), Some(Short::Funds));
        assert_eq!(funds.short_of(0.0, Some(40_000), None), None);
        assert_eq!(
            funds.short_of(0.0, Some(30_000), Some(80_000)),
            Some(Short::DailyLimit)
        );
        assert_eq!(funds.short_of(0.0, Some(20_000), Some(80_000)), None);
        assert_eq!(funds.short_of(11.0, None, None), Some(Short::Credits));
    }
}

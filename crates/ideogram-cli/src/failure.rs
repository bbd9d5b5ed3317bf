//! Every way a command can fail, as one line with a hint and an exit code
//! per class (see `EXIT_CODES`).

use std::fmt;

use ideogram::raw::ideogram::types::RejectReason;
use ideogram::{ConfigError, Error, InvalidInput, Provider};

/// A failed command: what to print and how to exit.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

pub(crate) const OTHER: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const INVALID: u8 = 3;
pub(crate) const AUTH: u8 = 4;
pub(crate) const CREDITS: u8 = 5;
pub(crate) const RATE_LIMITED: u8 = 6;
pub(crate) const FAILED: u8 = 7;
pub(crate) const NETWORK: u8 = 8;
pub(crate) const NOT_SAVED: u8 = 9;
/// The client's configuration (a base URL, a proxy) is unusable.
pub(crate) const CONFIG: u8 = 10;
/// A network failure before anything reached the service: not billed.
pub(crate) const NOT_SENT: u8 = 11;
/// Refused before sending: the request could cost more than `--max-usd`
/// allows, or its price is not known. Nothing was sent or billed.
pub(crate) const OVER_BUDGET: u8 = 12;
pub(crate) const INTERRUPTED: u8 = 130;

/// The command that waits for `provider`'s job `id` and saves it. `job`
/// alone asks Segmind (its queue is the default there), so another
/// provider's job is named with its `--provider`.
pub(crate) fn wait_command(provider: Provider, id: &str) -> String {
    let named = match provider {
        Provider::Segmind => String::new(),
        other => format!(" --provider {other}"),
    };
    format!("ideogram job wait {}{named}", crate::shell::quoted(id))
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Self::new(OTHER, format!("{what}: {err}"))
    }

    /// Which of two failures a command that had both ends with: the one a
    /// person must act on first (credits before a network hiccup).
    pub(crate) fn graver(self, other: Self) -> Self {
        fn rank(code: u8) -> usize {
            [
                CONFIG,
                AUTH,
                CREDITS,
                OVER_BUDGET,
                NOT_SAVED,
                RATE_LIMITED,
                NETWORK,
                NOT_SENT,
                FAILED,
                INVALID,
                OTHER,
            ]
            .iter()
            .position(|c| *c == code)
            .unwrap_or(usize::MAX)
        }
        if rank(other.code) < rank(self.code) {
            other
        } else {
            self
        }
    }

    /// A library error, with the usual fix for `provider`. A failed check on
    /// a queued job is classed by what failed.
    pub(crate) fn from_error(err: Error, provider: Provider) -> Self {
        if let Error::Validation(input) = err {
            return input.into();
        }
        let variable = provider.key_variable();
        let (code, hint) = match err.root() {
            Error::Validation(_) | Error::Rejected { .. } => (INVALID, None),
            Error::Config(ConfigError::MissingKey { .. }) => (
                AUTH,
                Some(format!(
                    "set {variable} or pass --api-key-file FILE, or add --offline"
                )),
            ),
            Error::Config(ConfigError::InvalidKey(_)) => (
                AUTH,
                Some(format!("check the key in {variable} (or --api-key-file)")),
            ),
            Error::Config(
                ConfigError::BaseUrl { .. }
                | ConfigError::InsecureHttp { .. }
                | ConfigError::Scheme { .. },
            ) => (
                CONFIG,
                Some("check --base-url: https, or http on a loopback host".to_owned()),
            ),
            Error::Config(ConfigError::Proxy(_)) => (
                CONFIG,
                Some("check HTTPS_PROXY, HTTP_PROXY and ALL_PROXY".to_owned()),
            ),
            Error::Config(_) => (CONFIG, None),
            Error::Unauthorized { .. } | Error::Forbidden { .. } => (
                AUTH,
                Some(format!(
                    "check the key in {variable} (or --api-key-file) is for {provider}"
                )),
            ),
            Error::InsufficientCredits { reason, .. } => {
                (CREDITS, Some(credits_hint(provider, reason.as_deref())))
            }
            Error::RateLimited { retry_after, .. } => (
                RATE_LIMITED,
                Some(match retry_after {
                    Some(wait) => format!(
                        "wait {} s and run again, or lower --concurrency",
                        wait.as_secs().max(1)
                    ),
                    None => "wait a moment and run again, or lower --concurrency".to_owned(),
                }),
            ),
            Error::SafetyRejected { .. } => (FAILED, Some("rephrase the prompt".to_owned())),
            Error::JobFailed { .. } => (FAILED, None),
            Error::JobTimeout { id, .. } => (
                FAILED,
                Some(format!("`{}` fetches it", wait_command(provider, id))),
            ),
            Error::Expired { .. } => (FAILED, None),
            Error::NotFound { .. } => (
                FAILED,
                Some(format!(
                    "check the path of --base-url: {provider}'s API is at {}",
                    provider.base_url()
                )),
            ),
            Error::Transport { sent: true, .. }
            | Error::Server { .. }
            | Error::Redirected { .. }
            | Error::Gateway { .. }
            | Error::InvalidResponse { .. } => (
                NETWORK,
                Some(
                    "the request may have been billed: check your account before sending it again"
                        .to_owned(),
                ),
            ),
            Error::Transport { sent: false, .. } => {
                (NOT_SENT, Some("check the network or --base-url".to_owned()))
            }
            Error::Download { .. } | Error::Withheld | Error::Missing => (NOT_SAVED, None),
            // Billed: what it pointed at goes in the message.
            Error::Undecoded { urls, .. } => (
                NOT_SAVED,
                Some(if urls.is_empty() {
                    "it was billed, and the answer held no image URL to fetch".to_owned()
                } else {
                    "it was billed: `ideogram fetch URL -o FILE` fetches each URL it held"
                        .to_owned()
                }),
            ),
            _ => (OTHER, None),
        };
        let hint = match (&err, hint) {
            // The job was accepted: whatever the check ran into, it runs on.
            (Error::Polling { id, .. }, _) => Some(format!(
                "the job runs on whatever the check ran into: `{}` fetches it",
                wait_command(provider, id)
            )),
            (_, hint) => hint,
        };
        let message = match err.root() {
            Error::Transport { source, .. } => format!("{err}{}", chain(source)),
            Error::Undecoded { urls, .. } if !urls.is_empty() => {
                format!("{err}; the URLs it held: {}", urls.join(" "))
            }
            // The library's words name its own switch, which the command
            // line does not offer: the hint says what to do here.
            Error::Config(ConfigError::InsecureHttp { url }) => format!(
                "configuration: the base URL {url} is plain http on a non-loopback host: \
                 the key would cross the network in the clear"
            ),
            // Out of money is answered before anything runs.
            Error::InsufficientCredits { .. } => format!("{err}; billed: no"),
            _ => err.to_string(),
        };
        Self {
            code,
            message,
            hint,
        }
    }
}

/// What to do about a refusal for want of money or plan (Ideogram's 402,
/// Segmind's 406), by the `reject_reason` the service gave: only a want of
/// funds is fixed by topping up. A reason this build does not know is
/// shown as the service spelled it.
fn credits_hint(provider: Provider, reason: Option<&str>) -> String {
    let top_up = || format!("top up your {provider} account");
    let Some(reason) = reason else {
        return top_up();
    };
    match reason.parse::<RejectReason>() {
        Ok(RejectReason::InsufficientFunds) => top_up(),
        Ok(RejectReason::DailyLimit) => format!(
            "the {provider} account's daily spending limit is reached: \
             run again tomorrow (UTC) or raise the limit"
        ),
        Ok(RejectReason::InflightLimit) => format!(
            "the {provider} account has as many generations in flight as it may: \
             run again when some have finished"
        ),
        // The plan's refusals: money alone may not fix them.
        Ok(RejectReason::SubscriptionRequired) => format!(
            "this needs a {provider} subscription the account does not have \
             ({reason}): check the account's plan"
        ),
        Ok(RejectReason::PriorityCreditRequired) => format!(
            "this needs priority credits the {provider} account does not have \
             ({reason}): check the account's plan and balance"
        ),
        Ok(RejectReason::FeatureLimit) => format!(
            "the {provider} account's plan allows no more of this ({reason}): \
             check the account's plan"
        ),
        // One the spec adds later, or one it does not name.
        _ => format!(
            "the {provider} account refused the call ({reason}): check its plan and balance"
        ),
    }
}

/// The causes below an error, `: cause: cause`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}

impl From<InvalidInput> for Failure {
    fn from(err: InvalidInput) -> Self {
        // A list of the field's values helps with a bad value, not with a
        // field the model has no place for.
        let hint = match err.field.as_ref() {
            _ if err.is_not_taken() => Some("ideogram models shows what each model takes"),
            "resolution" => Some("ideogram resolutions lists the legal sizes"),
            "color_palette" | "palette" => Some("ideogram palettes lists the presets"),
            _ => None,
        };
        let failure = Self::new(INVALID, err.to_string());
        match hint {
            Some(hint) => failure.hint(hint),
            None => failure,
        }
    }
}

impl Failure {
    /// The class of the exit code, as `--json` names it.
    pub(crate) fn class(&self) -> &'static str {
        match self.code {
            USAGE => "usage",
            INVALID => "invalid_request",
            AUTH => "authentication",
            CREDITS => "credits",
            RATE_LIMITED => "rate_limited",
            FAILED => "generation_failed",
            NETWORK => "network",
            NOT_SENT => "not_sent",
            OVER_BUDGET => "over_budget",
            NOT_SAVED => "billed_not_saved",
            CONFIG => "configuration",
            INTERRUPTED => "interrupted",
            _ => "other",
        }
    }

    /// The failure as one JSON object, for `--json`: class, exit code,
    /// message and hint.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "class": self.class(),
                "exit_code": self.code,
                "message": self.message,
                "hint": self.hint,
            }
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a want of funds is told to top up: a plan's refusal says what
    /// the plan lacks, and a reason not known here is shown as given.
    #[test]
    fn a_refusal_for_money_or_plan_is_told_what_fixes_it() {
        let hint = |reason| credits_hint(Provider::Ideogram, reason);
        for funds in [None, Some("insufficient_funds")] {
            assert_eq!(hint(funds), "top up your ideogram account");
        }
        assert!(hint(Some("daily_limit")).contains("daily spending limit"));
        assert!(hint(Some("inflight_limit")).contains("in flight"));
        for plan in [
            "subscription_required",
            "priority_credit_required",
            "feature_limit",
        ] {
            let hint = hint(Some(plan));
            assert!(!hint.contains("top up"), "{plan}: {hint}");
            assert!(
                hint.contains(plan) && hint.contains("plan"),
                "{plan}: {hint}"
            );
        }
        let unknown = hint(Some("new_reason"));
        assert!(
            unknown.contains("(new_reason)") && !unknown.contains("top up"),
            "{unknown}"
        );
    }
}

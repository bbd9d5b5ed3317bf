//! The one path every text the tool prints or writes goes through on its
//! way out (stdout, stderr, `--json`, `-v` traces, sidecars, the agent
//! server's answers): every key this process knows is replaced by
//! `[REDACTED]`, in any letter case, with invisible characters inserted or
//! percent-encoded ([`ideogram::raw::redact`]).
//!
//! The keys are learned once, from the environment at start (so `fetch`,
//! which sends no key, still hides one a URL carries) and from
//! `--api-key-file` when it is read.

use std::borrow::Cow;
use std::sync::RwLock;

use ideogram::raw::redact::{Secret, redact};
use serde_json::Value;

/// Every key this process knows.
static SECRETS: RwLock<Vec<Secret>> = RwLock::new(Vec::new());

/// Adds `key` to what is redacted.
pub(crate) fn learn(key: &str) {
    let Some(secret) = Secret::new(key.trim()) else {
        return;
    };
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.contains(&secret) {
        secrets.push(secret);
    }
}

/// Learns the keys in every provider's variable.
pub(crate) fn learn_environment() {
    for provider in ideogram::Provider::ALL {
        if let Ok(key) = std::env::var(provider.key_variable()) {
            learn(&key);
        }
    }
}

/// `text` with every known key redacted.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if let Cow::Owned(redacted) = redact(&out, secret) {
            out = Cow::Owned(redacted);
        }
    }
    out
}

/// Whether `text` holds a known key: a URL that cannot be printed whole.
pub(crate) fn holds_key(text: &str) -> bool {
    matches!(self::text(text), Cow::Owned(_))
}

/// `value` with every known key redacted from its strings and field names,
/// before it is serialized (so that no JSON escape splits a key).
pub(crate) fn json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(text(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (text(k).into_owned(), json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `value` with every known key redacted from every string it serializes
/// to: for an answer built elsewhere (the agent server's tool results).
pub(crate) fn serialized<T: serde::Serialize + serde::de::DeserializeOwned>(value: T) -> T {
    let plain = serde_json::to_value(&value).expect("an answer serializes");
    let redacted = json(&plain);
    if redacted == plain {
        return value;
    }
    serde_json::from_value(redacted).expect("a redacted answer reads back")
}

/// Stderr for `-v` traces, each event redacted as it is written (the
/// subscriber writes an event whole in one call).
pub(crate) struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(text(&line).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_redacted_everywhere_in_json() {
        learn("sk-unit-redact-1");
        let value = serde_json::json!({"a": ["x SK-UNIT-REDACT-1 y"], "sk-unit-redact-1": 1});
        let out = json(&value).to_string();
        assert!(!out.to_ascii_lowercase().contains("unit-redact"), "{out}");
        assert!(holds_key("https://x.test/a.png?k=sk%2Dunit-redact-1"));
        assert!(!holds_key("https://x.test/a.png"));
    }
}

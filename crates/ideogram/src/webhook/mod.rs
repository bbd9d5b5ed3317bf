//! Ideogram's signed webhook deliveries: a request made with `webhook_url`
//! is answered later by a JSON `POST` to that URL, signed with Ed25519.
//! [`verify`] checks one against a key set ([`PublicKeys`]; [`KeySet`]
//! fetches and keeps the service's): every header the signature covers is
//! present, the timestamp within a window (default 300 s either way, so a
//! captured delivery cannot be replayed later), the signature verified by
//! the key the delivery names first and then by every other key, the body
//! a delivery whose `generation_id` (or, where it has none, a name the
//! spec lists for it in `x-aliases`, as some of Ideogram's pages name it)
//! is the signed header's.
//!
//! The message signed is built by [`signed_message`] alone: its layout is
//! unconfirmed by Ideogram's pages (see there).
//!
//! A verified delivery may still arrive twice (the service retries):
//! whatever it saves is keyed on its generation id.
//!
//! ```
//! use ed25519_dalek::{Signer as _, SigningKey};
//! use ideogram::webhook::{PublicKeys, Verifier, signed_message};
//! use reqwest::header::HeaderMap;
//!
//! let signer = SigningKey::from_bytes(&[7; 32]);
//! let keys = PublicKeys::from_keys([("k1".to_owned(), signer.verifying_key())]);
//! let body = br#"{"generation_id":"g1","data":[]}"#;
//! let now = std::time::SystemTime::now();
//! let stamp = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
//! let signature = signer.sign(&signed_message("g1", "u1", &stamp, body));
//!
//! use ideogram::raw::ideogram::headers as h;
//! let mut headers = HeaderMap::new();
//! headers.insert(h::X_IDEOGRAM_WEBHOOK_GENERATION_ID, "g1".parse().unwrap());
//! headers.insert(h::X_IDEOGRAM_WEBHOOK_USER_ID, "u1".parse().unwrap());
//! headers.insert(h::X_IDEOGRAM_WEBHOOK_TIMESTAMP, stamp.parse().unwrap());
//! headers.insert(h::X_IDEOGRAM_WEBHOOK_KEY_ID, "k1".parse().unwrap());
//! let hex: String = signature.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
//! headers.insert(h::X_IDEOGRAM_WEBHOOK_SIGNATURE, hex.parse().unwrap());
//!
//! let verified = Verifier::default().verify(&headers, body, &keys, now).unwrap();
//! assert_eq!(verified.delivery.generation_id, "g1");
//! assert_eq!(verified.key_id, "k1");
//! ```

mod error;
mod keys;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::Signature;
use ideogram_raw::alias::rename_aliases;
use ideogram_raw::ideogram::headers as names;
use ideogram_raw::ideogram::types::WebhookDelivery;
use reqwest::header::{HeaderMap, HeaderName};
use subtle::ConstantTimeEq as _;

pub use error::WebhookError;
pub use ideogram_raw::webhook::signed_message;
pub use keys::{KeySet, PublicKeys};

/// The default timestamp window: Ideogram documents none; 300 s is what
/// third-party verifiers pick.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// A delivery that passed [`verify`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The body, decoded.
    pub delivery: WebhookDelivery,
    /// The account that made the request (the User-Id header).
    pub user_id: String,
    /// When it was signed, in Unix seconds.
    pub timestamp: i64,
    /// The id of the key that verified it.
    pub key_id: String,
}

/// How deliveries are checked: the timestamp window.
#[derive(Debug, Clone)]
pub struct Verifier {
    window: Duration,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
        }
    }
}

impl Verifier {
    /// How far a delivery's timestamp may be from now, before or after
    /// (default [`DEFAULT_WINDOW`]).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Checks a delivery (its headers and its body exactly as received)
    /// against `keys` at time `now`; see the module's doc for what is
    /// checked, in that order.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        keys: &PublicKeys,
        now: SystemTime,
    ) -> Result<VerifiedDelivery, WebhookError> {
        let generation_id = header(headers, names::X_IDEOGRAM_WEBHOOK_GENERATION_ID)?;
        let user_id = header(headers, names::X_IDEOGRAM_WEBHOOK_USER_ID)?;
        let stamp = header(headers, names::X_IDEOGRAM_WEBHOOK_TIMESTAMP)?;
        let key_id = header(headers, names::X_IDEOGRAM_WEBHOOK_KEY_ID)?;
        let signature = header(headers, names::X_IDEOGRAM_WEBHOOK_SIGNATURE)?;
        let timestamp = self.check_time(stamp, now)?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(signature, &mut bytes).map_err(WebhookError::BadSignatureHex)?;
        let signature = Signature::from_bytes(&bytes);
        if keys.is_empty() {
            return Err(WebhookError::NoKeys);
        }
        let message = signed_message(generation_id, user_id, stamp, raw_body);
        let mut tried = Vec::new();
        let verified_by = keys.in_order(key_id).find_map(|(kid, key)| {
            tried.push(kid.clone());
            key.verify_strict(&message, &signature).ok().map(|()| kid)
        });
        let Some(verified_by) = verified_by else {
            return Err(WebhookError::NoKeyVerifies {
                key_id: key_id.to_owned(),
                tried,
            });
        };
        let delivery = delivery_of(raw_body)?;
        if !bool::from(
            delivery
                .generation_id
                .as_bytes()
                .ct_eq(generation_id.as_bytes()),
        ) {
            return Err(WebhookError::IdMismatch {
                header: generation_id.to_owned(),
                body: delivery.generation_id,
            });
        }
        Ok(VerifiedDelivery {
            delivery,
            user_id: user_id.to_owned(),
            timestamp,
            key_id: verified_by.clone(),
        })
    }

    /// The timestamp header's seconds, if within the window of `now`.
    fn check_time(&self, stamp: &str, now: SystemTime) -> Result<i64, WebhookError> {
        let bad = WebhookError::BadHeader {
            header: names::X_IDEOGRAM_WEBHOOK_TIMESTAMP,
            expected: "Unix seconds in decimal",
        };
        if stamp.is_empty() || !stamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad);
        }
        let Ok(timestamp) = stamp.parse::<i64>() else {
            return Err(bad);
        };
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(since) => since.as_secs() as i64,
            Err(before) => -(before.duration().as_secs() as i64),
        };
        let window = self.window.as_secs();
        let offset = now.saturating_sub(timestamp);
        if offset > 0 && offset.unsigned_abs() > window {
            return Err(WebhookError::Stale {
                age: offset.unsigned_abs(),
                window,
            });
        }
        if offset < 0 && offset.unsigned_abs() > window {
            return Err(WebhookError::Future {
                ahead: offset.unsigned_abs(),
                window,
            });
        }
        Ok(timestamp)
    }
}

/// [`Verifier::default`]'s [`Verifier::verify`]: the 300 s window.
pub fn verify(
    headers: &HeaderMap,
    raw_body: &[u8],
    keys: &PublicKeys,
    now: SystemTime,
) -> Result<VerifiedDelivery, WebhookError> {
    Verifier::default().verify(headers, raw_body, keys, now)
}

/// The schema of a delivery's body, as the spec names it.
const DELIVERY: &str = "WebhookDelivery";

/// The signed body as a delivery, each field the body gives under another
/// name the spec lists (`x-aliases`: some endpoint pages call the
/// `generation_id` `request_id`) taken under the spec's: a paid result
/// refused for its spelling would not be delivered again.
fn delivery_of(raw_body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let mut body: serde_json::Value =
        serde_json::from_slice(raw_body).map_err(WebhookError::Body)?;
    if let Some(fields) = body.as_object_mut() {
        rename_aliases(ideogram_raw::ideogram::aliases::ALL, DELIVERY, fields);
    }
    serde_json::from_value(body).map_err(WebhookError::Body)
}

/// A header's value as text; an absent or non-text one is an error naming it.
fn header(headers: &HeaderMap, name: HeaderName) -> Result<&str, WebhookError> {
    let Some(value) = headers.get(&name) else {
        return Err(WebhookError::MissingHeader(name));
    };
    value.to_str().map_err(|_| WebhookError::BadHeader {
        header: name,
        expected: "visible ASCII",
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Every other name the spec gives a delivery's field is read as that
    /// field: the ones it lists now (`request_id`) and any added later.
    #[test]
    fn a_body_naming_a_field_by_a_spec_alias_is_delivered() {
        let table = ideogram_raw::ideogram::aliases::ALL;
        let aliases: Vec<_> = table.iter().filter(|a| a.schema == DELIVERY).collect();
        assert!(
            aliases.iter().any(|a| a.field == "generation_id"),
            "{table:?}"
        );
        // Every field of a delivery, as the spec's example gives them.
        let canonical = json!({
            "generation_id": "Z2VuLTEyMzQ1Njc4",
            "created": "2026-11-01T04:56:07+00:00",
            "data": [{"url": "https://ideogram.ai/api/images/ephemeral/x.png",
                "prompt": "a beach", "resolution": "1024x1024", "seed": 12345,
                "is_image_safe": true}],
        });
        let decoded = |body: &Value| {
            let delivery = delivery_of(&serde_json::to_vec(body).expect("JSON"));
            serde_json::to_value(delivery.expect("delivered")).expect("JSON")
        };
        for alias in aliases {
            for name in alias.aliases {
                let mut body = canonical.clone();
                let fields = body.as_object_mut().expect("an object");
                let value = fields.remove(alias.field).expect("a field of the example");
                fields.insert((*name).to_owned(), value);
                assert_eq!(decoded(&body), decoded(&canonical), "{name}");
            }
        }
        // The spec's own name wins over an alias given beside it.
        let both = br#"{"generation_id":"mine","request_id":"other","data":[]}"#;
        assert_eq!(delivery_of(both).expect("delivered").generation_id, "mine");
    }
}

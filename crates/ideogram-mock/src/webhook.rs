//! Ideogram's signed webhook deliveries, as the mock makes them: its own
//! Ed25519 keys (deterministic, one per rotation), served as a JWKS at the
//! spec's `get_webhook_jwks` path, and deliveries signed over
//! [`ideogram_raw::webhook::signed_message`] and POSTed to a URL, with
//! faults (a broken signature, a stale timestamp, the same delivery twice).
//!
//! For a v2 request carrying `webhook_url`, the route calls
//! `state.webhooks.deliver(url, &delivery, None)` once its images are
//! published; tests drive the same through [`MockServer`](crate::MockServer)'s
//! `webhook_*` methods.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use ideogram_raw::ideogram::headers as names;
use ideogram_raw::ideogram::types::{Jwk, Jwks, WebhookDelivery};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The account id the mock's deliveries carry (URL-safe base64, as the
/// service's).
pub const WEBHOOK_USER_ID: &str = "bW9jay11c2Vy";

/// The most of a receiver's answer read.
const ANSWER_LIMIT: u64 = 64 * 1024;

/// How long a delivery may take before it counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// What goes wrong with a delivery, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookFault {
    /// The signature has one bit flipped: no key verifies it.
    BadSignature,
    /// Signed an hour ago: outside any sane replay window.
    Stale,
    /// The same delivery (same headers, same body) is sent twice, as a
    /// service retrying after a lost answer does; the second answer's
    /// status is returned.
    Redelivered,
}

/// One of the mock's signing keys.
struct Key {
    kid: String,
    key: SigningKey,
    /// Whether the JWKS lists it.
    listed: bool,
}

/// The mock's webhook signer: its keys (the last signs) and delivery.
pub(crate) struct Signer {
    keys: Mutex<Vec<Key>>,
}

impl Default for Signer {
    fn default() -> Self {
        Self {
            keys: Mutex::new(vec![key(1)]),
        }
    }
}

/// Key number `n`: the same bytes in every run.
fn key(n: u8) -> Key {
    let mut seed = [0x5a; 32];
    seed[0] = n;
    Key {
        kid: format!("mock-webhook-{n}"),
        key: SigningKey::from_bytes(&seed),
        listed: true,
    }
}

impl Signer {
    /// The key set the JWKS endpoint serves.
    pub(crate) fn jwks(&self) -> Jwks {
        let keys = self.keys.lock().expect("webhook keys");
        Jwks {
            keys: keys
                .iter()
                .filter(|k| k.listed)
                .map(|k| Jwk {
                    alg: "EdDSA".into(),
                    crv: "Ed25519".into(),
                    kid: k.kid.clone(),
                    kty: "OKP".into(),
                    use_: "sig".into(),
                    x: base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(k.key.verifying_key().as_bytes()),
                })
                .collect(),
        }
    }

    /// The id of the key that signs now.
    pub(crate) fn key_id(&self) -> String {
        let keys = self.keys.lock().expect("webhook keys");
        keys.last().expect("a key").kid.clone()
    }

    /// A new key signs from now on; the older ones stay listed when
    /// `keep_old`, else they leave the JWKS. Returns the new key's id.
    pub(crate) fn rotate(&self, keep_old: bool) -> String {
        let mut keys = self.keys.lock().expect("webhook keys");
        let next = key(u8::try_from(keys.len() + 1).expect("fewer than 255 rotations"));
        for old in keys.iter_mut() {
            old.listed &= keep_old;
        }
        let kid = next.kid.clone();
        keys.push(next);
        kid
    }

    /// The headers of a delivery of `body` about `generation_id` signed at
    /// `timestamp` (Unix seconds) by the current key.
    pub(crate) fn headers(
        &self,
        body: &[u8],
        generation_id: &str,
        timestamp: i64,
        fault: Option<WebhookFault>,
    ) -> Vec<(String, String)> {
        let timestamp = timestamp.to_string();
        let message =
            ideogram_raw::webhook::signed_message(generation_id, WEBHOOK_USER_ID, &timestamp, body);
        let (kid, mut signature) = {
            let keys = self.keys.lock().expect("webhook keys");
            let current = keys.last().expect("a key");
            (current.kid.clone(), current.key.sign(&message).to_bytes())
        };
        if fault == Some(WebhookFault::BadSignature) {
            signature[0] ^= 1;
        }
        vec![
            (
                names::X_IDEOGRAM_WEBHOOK_GENERATION_ID.to_string(),
                generation_id.to_owned(),
            ),
            (
                names::X_IDEOGRAM_WEBHOOK_USER_ID.to_string(),
                WEBHOOK_USER_ID.to_owned(),
            ),
            (names::X_IDEOGRAM_WEBHOOK_TIMESTAMP.to_string(), timestamp),
            (names::X_IDEOGRAM_WEBHOOK_KEY_ID.to_string(), kid),
            (
                names::X_IDEOGRAM_WEBHOOK_SIGNATURE.to_string(),
                hex::encode(signature),
            ),
        ]
    }

    /// Signs `delivery` now (an hour ago for [`WebhookFault::Stale`]) and
    /// POSTs it to `url` (plain `http://`, as a loopback receiver is);
    /// returns the receiver's status (the second's, when redelivered).
    pub(crate) async fn deliver(
        &self,
        url: &str,
        delivery: &WebhookDelivery,
        fault: Option<WebhookFault>,
    ) -> std::io::Result<u16> {
        let body = serde_json::to_vec(delivery).map_err(std::io::Error::other)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let timestamp = match fault {
            Some(WebhookFault::Stale) => now - 3600,
            _ => now,
        };
        let headers = self.headers(&body, &delivery.generation_id, timestamp, fault);
        let times = if fault == Some(WebhookFault::Redelivered) {
            2
        } else {
            1
        };
        let mut status = 0;
        for _ in 0..times {
            status = tokio::time::timeout(DELIVERY_TIMEOUT, post(url, &headers, &body))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "delivery timed out")
                })??;
        }
        Ok(status)
    }
}

/// POSTs `body` as JSON to `url` over HTTP/1.1; the answer's status.
async fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> std::io::Result<u16> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("the mock delivers to http:// URLs only"))?;
    let (host, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    stream.take(ANSWER_LIMIT).read_to_end(&mut answer).await?;
    let line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    let status = std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no HTTP status in the answer",
            )
        })?;
    Ok(status)
}

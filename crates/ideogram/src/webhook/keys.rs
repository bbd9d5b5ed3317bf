//! The signing keys: a JWKS parsed ([`PublicKeys`]), and kept fresh from
//! the service ([`KeySet`]).

use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use ideogram_raw::ideogram::types::Jwks;

use super::WebhookError;
use crate::{Billing, Client};

/// Ed25519 public keys by key id, as a JWKS lists them.
#[derive(Debug, Clone, Default)]
pub struct PublicKeys {
    keys: Vec<(String, VerifyingKey)>,
}

impl PublicKeys {
    /// The Ed25519 keys of `jwks` (`kty` `OKP`, `crv` `Ed25519`, `x` 32
    /// bytes of unpadded base64url); keys of another kind, or malformed,
    /// are left out (a rotation may add kinds this client cannot use).
    pub fn from_jwks(jwks: &Jwks) -> Self {
        let keys = jwks
            .keys
            .iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| {
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(k.x.trim_end_matches('='))
                    .ok()?;
                let key = VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()?;
                Some((k.kid.clone(), key))
            })
            .collect();
        Self { keys }
    }

    /// A set of the given keys (tests; keys known out of band).
    pub fn from_keys(keys: impl IntoIterator<Item = (String, VerifyingKey)>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// Whether it holds a key with this id.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == kid)
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys in the order to try them: the one named `first`, then
    /// every other.
    pub(super) fn in_order<'a>(
        &'a self,
        first: &'a str,
    ) -> impl Iterator<Item = &'a (String, VerifyingKey)> {
        let named = self.keys.iter().filter(move |(id, _)| id == first);
        named.chain(self.keys.iter().filter(move |(id, _)| id != first))
    }
}

/// The service's signing keys, fetched through a [`Client`] (its base URL,
/// key, retries and bounded answer) from the spec's JWKS operation, kept,
/// and fetched again when a delivery names a key id the set lacks (a
/// rotation) but at most once per [`KeySet::refetch_interval`], so that
/// forged key ids cannot make it hammer the service.
///
/// ```no_run
/// # async fn run(headers: reqwest::header::HeaderMap, body: bytes::Bytes) -> Result<(), Box<dyn std::error::Error>> {
/// use ideogram::webhook::{KeySet, Verifier};
///
/// let client = ideogram::Client::ideogram_from_env()?;
/// let keys = KeySet::new(&client);
/// let verified = keys.verify(&Verifier::default(), &headers, &body).await?;
/// println!("generation {} delivered", verified.delivery.generation_id);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct KeySet {
    client: Client,
    refetch_interval: Duration,
    cached: tokio::sync::Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    keys: PublicKeys,
    /// Whether the set was ever fetched.
    fetched: bool,
    /// When an unknown key id last made it fetched again.
    refetched: Option<Instant>,
    /// When a fetch of a set never fetched last failed.
    failed: Option<Instant>,
}

impl KeySet {
    /// The keys of `client`'s service (an Ideogram client), fetched on
    /// first use.
    pub fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
            refetch_interval: Duration::from_secs(60),
            cached: Default::default(),
        }
    }

    /// The least time between two fetches an unknown key id causes
    /// (default 60 s).
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// The keys held, fetched first if never fetched; while never
    /// fetched, tried at most once per refetch interval
    /// ([`WebhookError::KeysUnavailable`] in between).
    pub async fn keys(&self) -> Result<PublicKeys, WebhookError> {
        let mut cached = self.cached.lock().await;
        if !cached.fetched {
            if let Some(at) = cached
                .failed
                .filter(|at| at.elapsed() < self.refetch_interval)
            {
                return Err(WebhookError::KeysUnavailable {
                    ago: at.elapsed().as_secs(),
                    interval: self.refetch_interval.as_secs(),
                });
            }
            // Marked before the answer, as an unknown key id's fetch is.
            cached.failed = Some(Instant::now());
            self.fetch(&mut cached).await?;
            cached.failed = None;
        }
        Ok(cached.keys.clone())
    }

    /// Fetches the set again now, whenever it was last fetched.
    pub async fn refresh(&self) -> Result<PublicKeys, WebhookError> {
        let mut cached = self.cached.lock().await;
        self.fetch(&mut cached).await?;
        Ok(cached.keys.clone())
    }

    /// [`Verifier::verify`](super::Verifier::verify) with these keys, now:
    /// a delivery naming a key id the set lacks, that no held key
    /// verifies, makes the set fetched again (unless it was within the
    /// refetch interval) and the delivery tried once more.
    pub async fn verify(
        &self,
        verifier: &super::Verifier,
        headers: &reqwest::header::HeaderMap,
        raw_body: &[u8],
    ) -> Result<super::VerifiedDelivery, WebhookError> {
        let keys = self.keys().await?;
        let now = std::time::SystemTime::now();
        match verifier.verify(headers, raw_body, &keys, now) {
            Err(WebhookError::NoKeyVerifies { .. } | WebhookError::NoKeys)
                if !keys.contains(&key_id_of(headers)) || keys.is_empty() =>
            {
                let keys = {
                    let mut cached = self.cached.lock().await;
                    let recent = cached
                        .refetched
                        .is_some_and(|at| at.elapsed() < self.refetch_interval);
                    if !recent {
                        tracing::debug!(
                            "a delivery names an unknown key id: fetching the keys again"
                        );
                        // Marked before the answer: a failing fetch also
                        // waits its turn.
                        cached.refetched = Some(Instant::now());
                        self.fetch(&mut cached).await?;
                    }
                    cached.keys.clone()
                };
                verifier.verify(headers, raw_body, &keys, now)
            }
            other => other,
        }
    }

    async fn fetch(&self, cached: &mut Cached) -> Result<(), WebhookError> {
        let keys_error = |e: crate::Error| WebhookError::Keys(Box::new(e));
        let api = self.client.raw_ideogram().map_err(keys_error)?;
        let answer = self
            .client
            .call(Billing::Free, 0, || api.get_webhook_jwks().send())
            .await
            .map_err(keys_error)?;
        cached.keys = PublicKeys::from_jwks(&answer.into_inner());
        cached.fetched = true;
        tracing::debug!(keys = cached.keys.len(), "webhook signing keys fetched");
        Ok(())
    }
}

/// The Key-Id header's value, or nothing.
fn key_id_of(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(ideogram_raw::ideogram::headers::X_IDEOGRAM_WEBHOOK_KEY_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

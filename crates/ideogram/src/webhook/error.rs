//! Why a delivery was refused.

/// Why [`verify`](super::verify) refused a delivery: each names what
/// failed. Nothing of a refused delivery is to be trusted or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header the signature needs is absent.
    #[error("the delivery has no {0} header")]
    MissingHeader(reqwest::header::HeaderName),
    /// A header is there but cannot be what it should be.
    #[error("the {header} header is not {expected}")]
    BadHeader {
        /// The header's name.
        header: reqwest::header::HeaderName,
        /// What it should hold.
        expected: &'static str,
    },
    /// The signature header is not 64 bytes of hex.
    #[error("the signature is not hex of 64 bytes (128 digits): {0}")]
    BadSignatureHex(#[source] hex::FromHexError),
    /// Signed longer ago than the window allows: a replay, or a delivery
    /// held up too long.
    #[error("the timestamp is {age} s old, past the {window} s window")]
    Stale {
        /// How old, in seconds.
        age: u64,
        /// The window, in seconds.
        window: u64,
    },
    /// Signed later than now, by more than the window allows.
    #[error("the timestamp is {ahead} s in the future, past the {window} s window")]
    Future {
        /// How far ahead, in seconds.
        ahead: u64,
        /// The window, in seconds.
        window: u64,
    },
    /// The key set holds no Ed25519 key.
    #[error("the key set holds no Ed25519 key to verify with")]
    NoKeys,
    /// No key of the set verifies the signature: a forged or damaged
    /// delivery, or one signed by a key the set does not (yet) hold.
    #[error("no key verifies the signature (the delivery names key {key_id:?}; tried {tried:?})")]
    NoKeyVerifies {
        /// The key id the delivery names.
        key_id: String,
        /// The key ids tried, in order.
        tried: Vec<String>,
    },
    /// The signed body is not a delivery's JSON.
    #[error("the body is not a webhook delivery's JSON: {0}")]
    Body(#[source] serde_json::Error),
    /// The Generation-Id header (signed) names another generation than
    /// the body.
    #[error("the header's generation id {header:?} is not the body's {body:?}")]
    IdMismatch {
        /// The header's.
        header: String,
        /// The body's.
        body: String,
    },
    /// The key set could not be fetched.
    #[error("the webhook signing keys could not be fetched")]
    Keys(#[source] Box<crate::Error>),
    /// The key set was never fetched, and the last try failed within the
    /// refetch interval: it is not asked for again before the interval
    /// has passed, so that deliveries (forged or not) cannot make a
    /// receiver hammer the service. Nothing can be verified meanwhile.
    #[error(
        "the webhook signing keys could not be fetched {ago} s ago; asked for again once {interval} s have passed"
    )]
    KeysUnavailable {
        /// Seconds since the failed try.
        ago: u64,
        /// The refetch interval, in seconds.
        interval: u64,
    },
}

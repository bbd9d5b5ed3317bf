//! What an Ideogram webhook delivery's signature signs: the one place that
//! knows the layout, for the verifier (`ideogram::webhook`) and the mock's
//! signer alike.

use sha2::{Digest as _, Sha256};

/// The bytes a delivery's Ed25519 signature signs: four values joined by
/// single `\n`, UTF-8, in this order:
///
/// 1. the `X-Ideogram-Webhook-Generation-Id` header's value,
/// 2. the `X-Ideogram-Webhook-User-Id` header's value,
/// 3. the `X-Ideogram-Webhook-Timestamp` header's value, as sent,
/// 4. the lowercase hex SHA-256 of the raw body, exactly as received
///    (never JSON parsed and serialised again).
///
/// **Unconfirmed:** Ideogram's webhooks page says the message is four
/// values in a fixed order joined by newlines with the body hashed as
/// received, but its stored copy lost the list itself; which four values,
/// in this order, comes from two independent third-party integration
/// guides. Should the service sign another layout, this function is the
/// only one to change (the mock's signer calls it too, so the tests follow).
pub fn signed_message(
    generation_id: &str,
    user_id: &str,
    timestamp: &str,
    raw_body: &[u8],
) -> Vec<u8> {
    let digest = hex::encode(Sha256::digest(raw_body));
    [generation_id, user_id, timestamp, &digest]
        .join("\n")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_four_lines_ending_in_the_body_hash() {
        let message = signed_message("gen", "user", "1700000000", b"");
        // SHA-256 of nothing, lowercase.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            String::from_utf8(message).unwrap(),
            format!("gen\nuser\n1700000000\n{empty}")
        );
    }
}

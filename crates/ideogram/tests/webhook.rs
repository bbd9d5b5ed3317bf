//! `ideogram::webhook`: deliveries signed by the mock's signer, and one
//! built here from the documented layout alone, verified or refused for
//! the reason that applies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer as _, SigningKey};
use ideogram::raw::ideogram::headers as names;
use ideogram::webhook::{KeySet, PublicKeys, Verifier, WebhookError, verify};
use ideogram_mock::{MockConfig, MockServer, WEBHOOK_USER_ID};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::Digest as _;

const DEADLINE: Duration = Duration::from_secs(30);

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

fn body_of(generation_id: &str) -> Vec<u8> {
    format!(
        r#"{{"generation_id":"{generation_id}","created":"2026-11-01T04:56:07Z","data":[{{"url":"https://example.invalid/a.png","prompt":"a fox","resolution":"1024x1024","seed":7,"is_image_safe":true}}]}}"#
    )
    .into_bytes()
}

/// The mock, its keys as a set, and a body signed now by its current key.
async fn signed() -> (MockServer, PublicKeys, Vec<u8>, HeaderMap) {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let body = body_of("Z2VuLTE");
    let headers = header_map(&mock.sign_webhook(&body, "Z2VuLTE", now_secs()));
    (mock, keys, body, headers)
}

#[tokio::test]
async fn a_delivery_the_mock_signed_verifies() {
    let (mock, keys, body, headers) = signed().await;
    let verified = verify(&headers, &body, &keys, SystemTime::now()).expect("verified");
    assert_eq!(verified.delivery.generation_id, "Z2VuLTE");
    assert_eq!(verified.delivery.data[0].seed, 7);
    assert_eq!(verified.user_id, WEBHOOK_USER_ID);
    assert_eq!(verified.key_id, mock.webhook_key_id());
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let (_mock, keys, mut body, headers) = signed().await;
    let at = body.iter().position(|b| *b == b'7').unwrap();
    body[at] = b'8';
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    assert!(
        matches!(refused, WebhookError::NoKeyVerifies { .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn a_signature_no_key_of_the_set_made_is_refused() {
    let (mock, _keys, body, headers) = signed().await;
    let other = SigningKey::from_bytes(&[9; 32]);
    let keys = PublicKeys::from_keys([(mock.webhook_key_id(), other.verifying_key())]);
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    let WebhookError::NoKeyVerifies { key_id, tried } = refused else {
        panic!("{refused}");
    };
    assert_eq!(tried, vec![key_id]);
}

#[tokio::test]
async fn the_named_key_is_tried_first_then_every_other() {
    let (mock, _keys, mut body, headers) = signed().await;
    let real = PublicKeys::from_jwks(&mock.webhook_jwks());
    assert_eq!(real.len(), 1);
    let decoy = SigningKey::from_bytes(&[3; 32]).verifying_key();
    let mock_key = ideogram_mock_key(&mock);
    let keys = PublicKeys::from_keys([
        ("decoy".to_owned(), decoy),
        (mock.webhook_key_id(), mock_key),
    ]);
    // Named: tried first (a tampered body shows the order tried).
    body.push(b' ');
    let WebhookError::NoKeyVerifies { tried, .. } =
        verify(&headers, &body, &keys, SystemTime::now()).unwrap_err()
    else {
        panic!("refused otherwise");
    };
    assert_eq!(tried, vec![mock.webhook_key_id(), "decoy".to_owned()]);
    body.pop();
    // Naming a key the set lacks: every key is tried, and one verifies.
    let mut renamed = headers.clone();
    renamed.insert(
        names::X_IDEOGRAM_WEBHOOK_KEY_ID,
        HeaderValue::from_static("gone"),
    );
    let verified = verify(&renamed, &body, &keys, SystemTime::now()).expect("another key");
    assert_eq!(verified.key_id, mock.webhook_key_id());
}

/// The mock's current public key, read from its JWKS.
fn ideogram_mock_key(mock: &MockServer) -> ed25519_dalek::VerifyingKey {
    use base64::Engine as _;
    let jwks = mock.webhook_jwks();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&jwks.keys[0].x)
        .unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap()
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_refused_within_a_configurable_window() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let body = body_of("g");
    let now = now_secs();
    let old = header_map(&mock.sign_webhook(&body, "g", now - 301));
    match verify(&old, &body, &keys, SystemTime::now()).unwrap_err() {
        WebhookError::Stale { age, window } => {
            assert!((301..=303).contains(&age), "{age}");
            assert_eq!(window, 300);
        }
        other => panic!("{other}"),
    }
    let ahead = header_map(&mock.sign_webhook(&body, "g", now + 400));
    assert!(matches!(
        verify(&ahead, &body, &keys, SystemTime::now()).unwrap_err(),
        WebhookError::Future { .. }
    ));
    // A wider window takes both.
    let wide = Verifier::default().window(Duration::from_secs(600));
    wide.verify(&old, &body, &keys, SystemTime::now())
        .expect("within 600 s");
    wide.verify(&ahead, &body, &keys, SystemTime::now())
        .expect("within 600 s");
}

#[tokio::test]
async fn each_missing_header_is_named() {
    let (_mock, keys, body, headers) = signed().await;
    for name in [
        names::X_IDEOGRAM_WEBHOOK_GENERATION_ID,
        names::X_IDEOGRAM_WEBHOOK_USER_ID,
        names::X_IDEOGRAM_WEBHOOK_TIMESTAMP,
        names::X_IDEOGRAM_WEBHOOK_KEY_ID,
        names::X_IDEOGRAM_WEBHOOK_SIGNATURE,
    ] {
        let mut without = headers.clone();
        without.remove(&name);
        let refused = verify(&without, &body, &keys, SystemTime::now()).unwrap_err();
        assert!(
            matches!(&refused, WebhookError::MissingHeader(missing) if *missing == name),
            "{refused}"
        );
        assert!(refused.to_string().contains(name.as_str()), "{refused}");
    }
}

#[tokio::test]
async fn a_signature_that_is_not_hex_is_refused_as_such() {
    let (_mock, keys, body, mut headers) = signed().await;
    headers.insert(
        names::X_IDEOGRAM_WEBHOOK_SIGNATURE,
        HeaderValue::from_static("zz"),
    );
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    assert!(
        matches!(refused, WebhookError::BadSignatureHex(_)),
        "{refused}"
    );
}

#[tokio::test]
async fn a_signed_header_id_other_than_the_bodys_is_refused() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let body = body_of("the-body-id");
    let headers = header_map(&mock.sign_webhook(&body, "another-id", now_secs()));
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    assert!(
        matches!(&refused, WebhookError::IdMismatch { header, body } if header == "another-id" && body == "the-body-id"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_signed_body_that_is_not_a_delivery_is_refused() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let body = b"not json".to_vec();
    let headers = header_map(&mock.sign_webhook(&body, "g", now_secs()));
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    assert!(matches!(refused, WebhookError::Body(_)), "{refused}");
}

/// Built from the documented layout with dalek and sha2 alone, not with
/// the crate's `signed_message` nor the mock's signer.
#[test]
fn a_vector_built_from_the_documented_layout_verifies() {
    let key = SigningKey::from_bytes(&[0x11; 32]);
    let body = body_of("aWQtMQ");
    let stamp = now_secs().to_string();
    let digest: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let message = format!("aWQtMQ\ndXNlci0x\n{stamp}\n{digest}");
    let signature: String = key
        .sign(message.as_bytes())
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let headers = header_map(&[
        ("X-Ideogram-Webhook-Generation-Id".into(), "aWQtMQ".into()),
        ("X-Ideogram-Webhook-User-Id".into(), "dXNlci0x".into()),
        ("X-Ideogram-Webhook-Timestamp".into(), stamp),
        ("X-Ideogram-Webhook-Key-Id".into(), "k".into()),
        ("X-Ideogram-Webhook-Signature".into(), signature),
    ]);
    let keys = PublicKeys::from_keys([("k".to_owned(), key.verifying_key())]);
    let verified = verify(&headers, &body, &keys, SystemTime::now()).expect("verified");
    assert_eq!(verified.user_id, "dXNlci0x");
}

/// The JWKS is fetched through the client; a delivery signed by a key
/// rotated in since makes it fetched again, but not again within the
/// refetch interval, whatever key ids deliveries name.
#[tokio::test]
async fn a_rotated_key_is_fetched_again_but_not_more_than_once_an_interval() {
    tokio::time::timeout(DEADLINE, async {
        let mock = MockServer::start(MockConfig::default()).await.unwrap();
        let client = ideogram::Client::builder(ideogram::Provider::Ideogram)
            .base_url(mock.api_url())
            .api_key(mock.api_key())
            .build()
            .unwrap();
        let keys = KeySet::new(&client).refetch_interval(Duration::from_secs(3600));
        let verifier = Verifier::default();
        let first = keys.keys().await.expect("fetched");
        assert!(first.contains(&mock.webhook_key_id()));

        let rotated = mock.rotate_webhook_key(false);
        assert!(!first.contains(&rotated));
        let body = body_of("g2");
        let headers = header_map(&mock.sign_webhook(&body, "g2", now_secs()));
        let verified = keys
            .verify(&verifier, &headers, &body)
            .await
            .expect("after a refetch");
        assert_eq!(verified.key_id, rotated);

        // Another rotation within the interval: the set is not fetched again.
        let again = mock.rotate_webhook_key(false);
        let headers = header_map(&mock.sign_webhook(&body, "g2", now_secs()));
        let refused = keys.verify(&verifier, &headers, &body).await.unwrap_err();
        assert!(
            matches!(refused, WebhookError::NoKeyVerifies { .. }),
            "{refused}"
        );
        assert!(!keys.keys().await.unwrap().contains(&again));
        // Asked for explicitly, it is.
        assert!(keys.refresh().await.unwrap().contains(&again));
        keys.verify(&verifier, &headers, &body)
            .await
            .expect("verified");
    })
    .await
    .expect("within the deadline");
}

/// While the key set cannot be fetched (the service answers 503), every
/// request reaching a receiver, forged or not, must not cost a fetch:
/// the set is tried again at most once per refetch interval, as for an
/// unknown key id; the deliveries meanwhile are refused as unverifiable
/// for want of keys (a receiver answers them 503, the service retries).
#[tokio::test]
async fn keys_that_cannot_be_fetched_are_not_fetched_again_within_the_interval() {
    tokio::time::timeout(DEADLINE, async {
        let jwks = workspace_tests::CaptureServer::start(|_| {
            workspace_tests::Canned::json(503, serde_json::json!({"error": "down"}))
        })
        .await;
        let client = ideogram::Client::builder(ideogram::Provider::Ideogram)
            .base_url(jwks.base_url())
            .api_key("k-not-shown")
            .retry(ideogram::RetryPolicy::none())
            .build()
            .unwrap();
        let keys = KeySet::new(&client).refetch_interval(Duration::from_secs(3600));
        let verifier = Verifier::default();
        let body = body_of("g3");
        // Forged: any five headers will do.
        let forged = header_map(&[
            (
                names::X_IDEOGRAM_WEBHOOK_GENERATION_ID.to_string(),
                "g3".into(),
            ),
            (names::X_IDEOGRAM_WEBHOOK_USER_ID.to_string(), "u".into()),
            (
                names::X_IDEOGRAM_WEBHOOK_TIMESTAMP.to_string(),
                now_secs().to_string(),
            ),
            (
                names::X_IDEOGRAM_WEBHOOK_KEY_ID.to_string(),
                "forged".into(),
            ),
            (
                names::X_IDEOGRAM_WEBHOOK_SIGNATURE.to_string(),
                "00".repeat(64),
            ),
        ]);
        for _ in 0..5 {
            let refused = keys.verify(&verifier, &forged, &body).await.unwrap_err();
            assert!(
                refused.to_string().contains("keys could not be fetched"),
                "{refused}"
            );
        }
        assert_eq!(jwks.requests().len(), 1, "fetched once, not per delivery");
    })
    .await
    .expect("within the deadline");
}

/// Ideogram's pages disagree on the body's id: the webhooks guide says
/// `generation_id`, the 4.5 endpoint pages `request_id`. A signed
/// delivery in the second reading is the paid result all the same: it
/// verifies (refused, a receiver would answer 4xx and the service would
/// not deliver it again).
#[tokio::test]
async fn a_signed_delivery_naming_its_id_request_id_verifies() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let keys = PublicKeys::from_jwks(&mock.webhook_jwks());
    let body = String::from_utf8(body_of("Z2VuLTI"))
        .unwrap()
        .replace("\"generation_id\"", "\"request_id\"")
        .into_bytes();
    let headers = header_map(&mock.sign_webhook(&body, "Z2VuLTI", now_secs()));
    let verified = verify(&headers, &body, &keys, SystemTime::now()).expect("verified");
    assert_eq!(verified.delivery.generation_id, "Z2VuLTI");
    assert_eq!(verified.delivery.data.len(), 1);
    // Another id under that name is still another generation's.
    let body = String::from_utf8(body_of("b3RoZXI"))
        .unwrap()
        .replace("\"generation_id\"", "\"request_id\"")
        .into_bytes();
    let headers = header_map(&mock.sign_webhook(&body, "Z2VuLTI", now_secs()));
    let refused = verify(&headers, &body, &keys, SystemTime::now()).unwrap_err();
    assert!(
        matches!(refused, WebhookError::IdMismatch { .. }),
        "{refused}"
    );
}

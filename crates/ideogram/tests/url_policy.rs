//! Input image URLs under a public-only policy: a redirect from an allowed
//! host to an address the policy keeps out is refused, once, and nothing is
//! sent to the service.

use std::sync::{Arc, OnceLock};

use ideogram::{Client, Error, ImageInput, InputUrlPolicy, Provider};
use workspace_tests::{Canned, CaptureServer};

#[tokio::test]
async fn a_redirect_to_a_kept_out_address_is_refused_and_not_asked_again() {
    // The host is allowed by name (`localhost`); it redirects to its own
    // address written as an IP, which the policy keeps out.
    let target: Arc<OnceLock<String>> = Arc::default();
    let host = CaptureServer::start({
        let target = target.clone();
        move |_| {
            let to = target.get().expect("the target is set before any request");
            Canned::bytes(302, "text/plain", b"").with_header("location", to)
        }
    })
    .await;
    target.set(format!("{}/in.png", host.base_url())).unwrap();
    let api = CaptureServer::start(|_| Canned::json(200, serde_json::json!({}))).await;
    let client = Client::builder(Provider::Ideogram)
        .base_url(api.base_url())
        .api_key("sk-test")
        .input_urls(InputUrlPolicy::public_only().allow_host("localhost"))
        .build()
        .unwrap();
    let named = host.base_url().replace("127.0.0.1", "localhost") + "/start.png";
    let err = client.describe(&ImageInput::url(named)).await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(err.to_string().contains("loopback, private"), "{err}");
    assert_eq!(host.requests().len(), 1, "a refusal is not asked again");
    assert!(api.requests().is_empty(), "nothing was sent to the service");
}

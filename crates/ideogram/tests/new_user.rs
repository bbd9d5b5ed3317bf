//! What a new user writes from the crate docs alone, pointed at loopback
//! servers standing in for each provider: it must produce an image file.

mod common;

use common::{Canned, CaptureServer, PNG, ideogram_answer};
use ideogram::{AuthScheme, Client, GenerateRequest, Model, PalettePreset, Provider};

#[tokio::test]
async fn segmind_from_the_docs() -> Result<(), ideogram::Error> {
    // Segmind's queue is the default: the mock serves it.
    let mock = ideogram_mock::MockServer::start(Default::default())
        .await
        .expect("mock");
    let dir = tempfile::tempdir().expect("temp dir");

    let client = Client::builder(Provider::Segmind)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()?;
    let request = GenerateRequest::new("a lighthouse at dawn, travel poster")
        .model(Model::V2a)
        .resolution("1280x768".parse()?)
        .seed(4242);
    let generation = client.generate(&request).await?;
    let path = generation.images[0]
        .save(dir.path().join("lighthouse.jpg"))
        .await?;

    assert!(ideogram::sniff_image(&std::fs::read(path).expect("saved")).is_some());
    let ledger = mock.ledger();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].delivery, ideogram_mock::Delivery::Queued);
    Ok(())
}

#[tokio::test]
async fn an_ideogram_gateway_from_the_docs() -> Result<(), ideogram::Error> {
    let cdn = CaptureServer::start(|_| Canned::bytes(200, "image/png", PNG)).await;
    let url = format!("{}/i/1.png", cdn.base_url());
    let gateway = CaptureServer::start(move |_| ideogram_answer(&[url.as_str()])).await;
    let dir = tempfile::tempdir().expect("temp dir");

    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("{}/ideogram", gateway.base_url()))
        .auth_scheme(AuthScheme::Bearer)
        .api_key("my-key")
        .build()?;
    let request = GenerateRequest::new("a neon sign that says \"open late\"")
        .model(Model::V2Turbo)
        .aspect_ratio("16:9".parse()?)
        .palette(PalettePreset::Ember);
    let generation = client.generate(&request).await?;
    let path = generation.images[0]
        .save(dir.path().join("sign.png"))
        .await?;

    assert_eq!(std::fs::read(path).expect("saved"), PNG);
    Ok(())
}

//! Prices before paying, against the mock: Ideogram's dry runs (free,
//! nothing run or billed) for generations and edits, a request the spec
//! cannot price refused before anything is sent, and the usage cost a
//! polled generation reports.

use std::time::Duration;

use ideogram::raw::ideogram::types::PriceQualifier;
use ideogram::{
    Client, EditRequest, Error, GenerateRequest, ImageInput, Model, PollSchedule, Provider,
    QuoteSource,
};
use ideogram_mock::{ImageSpec, MockConfig, MockServer};

async fn mock(config: MockConfig) -> (MockServer, Client) {
    let mock = MockServer::start(config).await.unwrap();
    let client = Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .poll_schedule(PollSchedule::fixed(Duration::from_millis(20)))
        .build()
        .unwrap();
    (mock, client)
}

/// The spec's price of `id` for a body of `fields`: what the mock's dry run
/// answers, read from the same table.
fn spec_price(id: &str, fields: serde_json::Value) -> (u64, u64) {
    let ops = ideogram::raw::ideogram::operations::ALL;
    let op = ops.iter().find(|op| op.id == id).expect(id);
    let fields = fields.as_object().cloned().expect("an object");
    op.price
        .expect("priced")
        .of(&fields)
        .expect("a priced value")
}

#[tokio::test]
async fn a_dry_run_prices_the_request_and_bills_nothing() {
    let (mock, client) = mock(MockConfig::default()).await;
    let request = GenerateRequest::new("a lighthouse at dawn")
        .model(Model::V4_5)
        .set("quality", "medium")
        .num_images(2);
    let quote = client.quote(&request).await.unwrap();
    assert_eq!(quote.operation, "post_generate_v2_ideogram_4_5");
    assert_eq!(quote.source, QuoteSource::Service);
    assert_eq!(quote.qualifier, PriceQualifier::Exact);
    let (quantity, usd) = spec_price(
        quote.operation,
        serde_json::json!({"quality": "medium", "num_images": 2}),
    );
    assert_eq!((quote.quantity, quote.usd_micros), (quantity, usd));
    assert_eq!((quote.quantity, quote.usd_micros), (2, 120_000));
    // The documentation's rate: 60000 micro-dollars are 6000 credit millis.
    assert_eq!(quote.credit_millis, Some(12_000));
    assert_eq!(
        quote.to_string(),
        "$0.12 (2 x ideogram_4_5_generate, exact)"
    );
    assert!(mock.ledger().entries.is_empty(), "a dry run bills nothing");
    // The same request, run: billed what it was quoted.
    client.generate(&request).await.unwrap();
    assert_eq!(mock.ledger().entries[0].usd_micros, Some(quote.usd_micros));
}

#[tokio::test]
async fn a_multipart_edit_is_priced_by_its_own_dry_run() {
    let (mock, client) = mock(MockConfig::default()).await;
    let spec = ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![],
        transparent: false,
    };
    let request = EditRequest::remove_background(ImageInput::bytes(spec.png().to_vec()));
    let quote = client.quote_edit(&request).await.unwrap();
    assert_eq!(quote.operation, "post_remove_background_v2");
    assert_eq!(quote.source, QuoteSource::Service);
    assert_eq!(
        (quote.quantity, quote.usd_micros),
        spec_price(quote.operation, serde_json::json!({}))
    );
    assert!(mock.ledger().entries.is_empty());
}

#[tokio::test]
async fn without_a_dry_run_the_spec_prices_or_refuses_and_nothing_is_sent() {
    // Nothing listens here: a request sent would fail to connect, not be refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::builder(Provider::Ideogram)
        .base_url(dead)
        .api_key("a-key")
        .build()
        .unwrap();
    // Ideogram 3.0 without `async` is sent to v1, which takes no dry run:
    // the spec's price, marked an estimate with its source.
    let request = GenerateRequest::new("a fox, woodcut")
        .model(Model::V3)
        .set("rendering_speed", "QUALITY");
    let quote = client.quote(&request).await.unwrap();
    assert_eq!(quote.operation, "post_generate_image_v3");
    assert_eq!(
        (quote.usd_micros, quote.qualifier),
        (90_000, PriceQualifier::Estimate)
    );
    assert!(matches!(quote.source, QuoteSource::Spec { source, .. } if source.contains("2026")));
    // Segmind's pages give 3.0 a range: its top is the most it may cost.
    let segmind = Client::builder(Provider::Segmind)
        .base_url(client.base_url())
        .api_key("a-key")
        .build()
        .unwrap();
    let ranged = segmind
        .quote(&GenerateRequest::new("a fox").model(Model::V3))
        .await
        .unwrap();
    assert_eq!(
        (ranged.usd_micros, ranged.most_usd_micros()),
        (37_000, 113_000)
    );
    // v1's upscale has no price anywhere in the spec: refused, naming why.
    let spec = ImageSpec {
        width: 32,
        height: 32,
        seed: 1,
        palette: vec![],
        transparent: false,
    };
    let upscale = EditRequest::upscale(ImageInput::bytes(spec.png().to_vec()));
    let err = client.quote_edit(&upscale).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e.field == "price"),
        "{err:?}"
    );
    // A value the table lacks is refused by the schema first, naming the field.
    let odd = GenerateRequest::new("a kite")
        .model(Model::V4_5)
        .set("quality", "ultra");
    let err = client.quote(&odd).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e.field == "quality"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_polled_generation_reports_what_it_cost() {
    let config = MockConfig {
        usage_costs: true,
        ..MockConfig::default()
    };
    let (mock, client) = mock(config).await;
    let request = GenerateRequest::new("a fox, woodcut")
        .model(Model::V3)
        .set("rendering_speed", "turbo")
        .num_images(2);
    let generation = client.submit(&request).await.unwrap().wait().await.unwrap();
    let billed = mock.ledger().entries[0].usd_micros;
    assert_eq!(billed, Some(60_000));
    assert_eq!(generation.usage_cost_usd_micros, billed);
}

#[tokio::test]
async fn describe_and_layerize_text_are_priced_and_an_estimate_sends_nothing() {
    let (mock, client) = mock(MockConfig::default()).await;
    let spec = ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![],
        transparent: false,
    };
    let image = ImageInput::bytes(spec.png().to_vec());
    // Layerize-text is v1 3.0's, priced by the spec.
    let layerize = ideogram::LayerizeRequest::new(image.clone()).prompt("a poster");
    let layers = client.quote_layerize(&layerize).await;
    let layers = layers.unwrap();
    assert_eq!(layers.qualifier, PriceQualifier::Estimate);
    assert!(layers.usd_micros > 0);
    // v1's describe has no price: refused, naming why.
    let describe = ideogram::DescribeRequest::new(image.clone());
    let err = client.quote_describe(&describe).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e.field == "price"),
        "{err:?}"
    );
    // A prepared request's estimate is the spec's price, even where the
    // operation takes a dry run, and sends nothing.
    let request = GenerateRequest::new("a lighthouse")
        .model(Model::V4_5)
        .set("quality", "medium")
        .num_images(2);
    let prepared = client.prepare(&request).await.unwrap();
    let estimate = prepared.estimate().unwrap();
    assert!(matches!(estimate.source, QuoteSource::Spec { .. }));
    assert_eq!(estimate.usd_micros, 120_000);
    assert!(mock.ledger().entries.is_empty(), "nothing billed");
}

//! `Client::call` runs a generated operation with the facade's guarantees,
//! the spec's check of its body included: a body the spec refuses is an
//! [`Error::Validation`] naming the field and what it allows, and nothing
//! reaches the service (issue #26: seed -5 once did).

use ideogram::raw::ideogram::types::{
    GenerateImageRequest, ImageRequest, InitialImageRequest, RemixImageRequest,
};
use ideogram::raw::multipart::FilePart;
use ideogram::raw::segmind::types::Ideogram2aTxt2ImgRequest;
use ideogram::{Billing, Client, Error, Provider};
use ideogram_mock::{MockConfig, MockServer};

/// A client of `provider` pointed at `mock`.
fn client(provider: Provider, mock: &MockServer) -> Client {
    Client::builder(provider)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .expect("a client")
}

/// The error's field and message, for a validation error: the service's
/// own refusal (a 400, had the body been sent) is another variant.
fn refused(err: Error) -> (String, String) {
    match err {
        Error::Validation(invalid) => (invalid.field.into_owned(), invalid.message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_raw_body_out_of_the_spec_s_range_is_refused_unsent() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();

    // Segmind: a seed below the spec's range, queued and synchronous.
    let segmind = client(Provider::Segmind, &mock);
    let api = segmind.raw_segmind().unwrap();
    let min = *Provider::Segmind.seed_range().start();
    let body = Ideogram2aTxt2ImgRequest::builder()
        .prompt("a raw call")
        .seed(Some((-5).into()));
    let Err(err) = segmind
        .call(Billing::Billed, 1, || {
            api.submit_ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
    else {
        panic!("seed -5 is outside the spec's range")
    };
    let (field, message) = refused(err);
    assert_eq!(field, "seed");
    assert!(
        message.contains("-5") && message.contains(&min.to_string()),
        "{message}"
    );
    let Err(err) = segmind
        .call(Billing::Billed, 1, || {
            api.ideogram_2a_txt_2_img().body(body.clone()).send()
        })
        .await
    else {
        panic!("seed -5 is outside the spec's range")
    };
    assert_eq!(refused(err).0, "seed");

    // Ideogram: a nested body's field is named by its path.
    let ideogram = client(Provider::Ideogram, &mock);
    let api = ideogram.raw_ideogram().unwrap();
    let max = *Provider::Ideogram.seed_range().end();
    let body = GenerateImageRequest::builder().image_request(
        ImageRequest::builder()
            .prompt("a raw call")
            .seed(Some((i64::from(max) + 1).into())),
    );
    let Err(err) = ideogram
        .call(Billing::Billed, 1, || {
            api.post_generate_image().body(body.clone()).send()
        })
        .await
    else {
        panic!("a seed past the spec's range")
    };
    let (field, message) = refused(err);
    assert_eq!(field, "image_request.seed");
    assert!(message.contains(&max.to_string()), "{message}");

    // A multipart body too: its value parts are checked, its file taken as
    // what it is.
    let body = RemixImageRequest::builder()
        .image_file(FilePart::new(
            &b"\x89PNG\r\n\x1a\n"[..],
            "in.png",
            "image/png",
        ))
        .image_request(
            InitialImageRequest::builder()
                .prompt("a raw remix")
                .seed(Some((i64::from(max) + 1).into())),
        );
    let Err(err) = ideogram
        .call(Billing::Billed, 1, || {
            api.post_remix_image().body(body.clone()).send()
        })
        .await
    else {
        panic!("a seed past the spec's range")
    };
    assert_eq!(refused(err).0, "image_request.seed");

    mock.settled().await;
    assert!(mock.ledger().entries.is_empty(), "nothing was billed");
}

//! A deprecated operation's answers are noticed once per operation per
//! process: the mock announces the spec's deprecated edit, a server's
//! `Deprecation`/`Sunset` on an operation the spec does not mark is
//! noticed too, and an answer with neither header notices nothing. One
//! test: the notices are the process's.

mod common;

use std::sync::{Arc, Mutex};

use common::{CaptureServer, client, ideogram_answer};
use ideogram::{Client, EditRequest, GenerateRequest, ImageInput, Provider};
use ideogram_mock::{ImageSpec, MockConfig, MockServer};

fn mock_client(mock: &MockServer) -> Client {
    Client::builder(Provider::Ideogram)
        .base_url(mock.api_url())
        .api_key(mock.api_key())
        .build()
        .expect("client")
}

#[tokio::test]
async fn deprecation_headers_are_noticed_once_per_operation() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let listener = heard.clone();
    assert!(ideogram::deprecation::listen(move |notice| {
        listener.lock().unwrap().push(notice.clone());
    }));
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let mocked = mock_client(&mock);

    // No header: nothing noticed.
    mocked
        .generate(&GenerateRequest::new("a lighthouse"))
        .await
        .unwrap();
    assert_eq!(ideogram::deprecation::seen(), []);

    // The spec's deprecated edit, twice: one notice, naming the replacement
    // the spec gives.
    let spec = ideogram::raw::ideogram::operations::ALL
        .iter()
        .find(|op| op.path == "/v1/ideogram-v3/edit")
        .and_then(|op| op.deprecation)
        .expect("the spec deprecates the edit");
    for _ in 0..2 {
        let edit = EditRequest::edit(
            ImageInput::bytes(mock_png()),
            ImageInput::bytes(mock_png()),
            "a red door",
        );
        mocked.edit(&edit).await.unwrap();
    }
    let seen = ideogram::deprecation::seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/v1/ideogram-v3/edit");
    assert_eq!(seen[0].since.as_deref(), spec.since);
    assert_eq!(seen[0].replacement.as_deref(), spec.replacement);
    assert_eq!(*heard.lock().unwrap(), seen);
    mock.shutdown().await;

    // Any answer's headers count, not only the spec's marks: the older
    // `true` form, and a Sunset, on the legacy generate.
    let server = CaptureServer::start(|_| {
        ideogram_answer(&["https://cdn.example/g.png"])
            .with_header("deprecation", "true")
            .with_header("sunset", "Fri, 01 Jan 2027 00:00:00 GMT")
            .with_header(
                "link",
                "<https://api.example/v2/generate>; rel=\"successor-version\"",
            )
    })
    .await;
    let other = client(Provider::Ideogram, &server);
    for _ in 0..2 {
        other
            .generate(&GenerateRequest::new("a harbour"))
            .await
            .unwrap();
    }
    let seen = ideogram::deprecation::seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let notice = &seen[1];
    assert_eq!(notice.since, None);
    assert_eq!(notice.sunset.as_deref(), Some("2027-01-01"));
    assert_eq!(
        notice.replacement.as_deref(),
        Some("https://api.example/v2/generate")
    );
    assert!(
        notice
            .to_string()
            .contains("use https://api.example/v2/generate instead"),
        "{notice}"
    );
    assert_eq!(*heard.lock().unwrap(), seen);
}

/// A gray PNG the mock decodes: an image, and a mask for it.
fn mock_png() -> Vec<u8> {
    ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![[128, 128, 128]],
        transparent: false,
    }
    .png()
}

//! Generated answers made into `Generation`s without a network: what the
//! services said is kept, the key is not, and answers without an image are
//! errors.

use ideogram::raw::ideogram::types::GenerateImageResponse;
use ideogram::raw::segmind::types::QueueResultResponse;
use ideogram::{Client, Error, ImageData, Model, Provider};
use serde_json::json;

const KEY: &str = "sk-live-0123456789abcdef";

fn client(provider: Provider) -> Client {
    Client::builder(provider)
        .base_url("http://127.0.0.1:9")
        .api_key(KEY)
        .build()
        .unwrap()
}

#[test]
fn ideogram_answers_keep_their_metadata_and_lose_the_key() {
    let answer: GenerateImageResponse = serde_json::from_value(json!({
        "created": "2026-12-01T00:00:00Z",
        "data": [
            {"url": format!("https://cdn.invalid/a.png?k={KEY}"), "prompt": format!("echo {KEY}"),
             "resolution": "1024x1024", "is_image_safe": true, "seed": 12, "style_type": "DESIGN"},
            {"url": "https://cdn.invalid/b.png", "prompt": "p", "resolution": "1024x1024",
             "is_image_safe": false, "seed": 13}
        ]
    }))
    .unwrap();
    let generation = client(Provider::Ideogram)
        .generation_from_ideogram(Model::V3, answer)
        .unwrap();
    assert_eq!(
        (generation.provider, generation.model),
        (Provider::Ideogram, Model::V3)
    );
    let [safe, unsafe_] = &generation.images[..] else {
        panic!("two images")
    };
    assert_eq!(
        (safe.seed, safe.resolution.as_deref(), safe.style.as_deref()),
        (Some(12), Some("1024x1024"), Some("DESIGN"))
    );
    assert_eq!(
        unsafe_.data,
        ImageData::Withheld,
        "an unsafe image's URL is withheld"
    );
    let shown = format!("{generation:?}");
    assert!(!shown.contains(KEY), "{shown}");

    let empty: GenerateImageResponse =
        serde_json::from_value(json!({"created": "2026-12-01T00:00:00Z", "data": []})).unwrap();
    let err = client(Provider::Ideogram)
        .generation_from_ideogram(Model::V3, empty)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
}

#[test]
fn segmind_queue_results_give_every_url_and_refuse_unfinished_jobs() {
    let segmind = client(Provider::Segmind);
    let done: QueueResultResponse = serde_json::from_value(json!({
        "request_id": "r-1",
        "status": "COMPLETED",
        "output": {"images": [{"url": "https://cdn.invalid/a.jpg"}, "https://cdn.invalid/b.jpg"]}
    }))
    .unwrap();
    let generation = segmind
        .generation_from_segmind_queue(Model::V2a, "a fox", done)
        .unwrap();
    let urls: Vec<_> = generation.images.iter().map(|i| i.data.clone()).collect();
    assert_eq!(
        urls,
        [
            ImageData::Url("https://cdn.invalid/a.jpg".into()),
            ImageData::Url("https://cdn.invalid/b.jpg".into())
        ]
    );
    assert_eq!(generation.request_id.as_deref(), Some("r-1"));
    assert_eq!(generation.images[0].prompt, "a fox");

    for (status, output) in [
        ("PROCESSING", json!(null)),
        ("COMPLETED", json!({"note": "no url"})),
    ] {
        let answer: QueueResultResponse = serde_json::from_value(
            json!({"request_id": "r-2", "status": status, "output": output}),
        )
        .unwrap();
        let err = segmind
            .generation_from_segmind_queue(Model::V2a, "a fox", answer)
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidResponse { .. }) && err.to_string().contains("r-2"),
            "{err}"
        );
    }
}

#[test]
fn ideogram_4_answers_become_generations_too() {
    use ideogram::raw::ideogram::types::ImageGenerationResponseV4;
    let answer: ImageGenerationResponseV4 = serde_json::from_value(json!({
        "created": "2026-12-01T00:00:00Z",
        "data": [{"url": "https://cdn.invalid/v4.png", "prompt": "a fox", "resolution": "1024x1024",
                  "is_image_safe": true, "seed": 7}]
    }))
    .unwrap();
    let generation = client(Provider::Ideogram)
        .generation_from_ideogram(Model::V4, answer)
        .unwrap();
    assert_eq!(generation.model, Model::V4);
    assert_eq!(generation.images[0].seed, Some(7));
    assert_eq!(
        generation.images[0].data,
        ImageData::Url("https://cdn.invalid/v4.png".into())
    );
}

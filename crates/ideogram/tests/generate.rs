//! The facade end to end against loopback servers: what it sends for each
//! provider and model (pinned by snapshots), what it returns, and saving.

mod common;

use common::*;
use ideogram::{
    AuthScheme, Client, GenerateRequest, ImageData, ImageInput, ImageWeight, MagicPrompt, Model,
    Provider, RenderingSpeed, StyleType,
};
use serde_json::json;

#[tokio::test]
async fn a_generation_records_the_prompt_its_body_sent() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    let client = client(Provider::Segmind, &server);
    let request = GenerateRequest::new("a red fox, woodcut").model(Model::V2Turbo);
    let generation = client.generate(&request).await.unwrap();
    assert_eq!(generation.images[0].prompt, "a red fox, woodcut");

    // Changed on the prepared body: what was sent is what is recorded.
    let mut prepared = client.prepare(&request).await.unwrap();
    let fields = prepared.wire_mut().body_mut();
    fields.insert("prompt".into(), json!("a grey wolf, woodcut"));
    let generation = prepared.generate().await.unwrap();
    assert_eq!(
        body(&server.requests()[1])["prompt"],
        "a grey wolf, woodcut"
    );
    assert_eq!(generation.images[0].prompt, "a grey wolf, woodcut");
}

#[tokio::test]
async fn segmind_text_to_image_returns_the_image_and_its_metadata() {
    let server = CaptureServer::start(|_| segmind_image()).await;
    let request = GenerateRequest::new("a red fox, woodcut")
        .model(Model::V2Turbo)
        .resolution("1280x768".parse().unwrap())
        .palette("#ff5500:0.6,#0af".parse::<ideogram::Palette>().unwrap())
        .style(StyleType::Design)
        .magic_prompt(MagicPrompt::Off)
        .negative_prompt("blurry")
        .seed(4242);
    let generation = client(Provider::Segmind, &server)
        .generate(&request)
        .await
        .unwrap();

    assert_eq!(generation.credits_left, Some(12.5));
    assert_eq!(generation.request_id.as_deref(), Some("seg-req-1"));
    let image = &generation.images[0];
    assert_eq!(image.seed, Some(4242));
    assert_eq!(
        image.data,
        ImageData::Bytes {
            bytes: JPEG.into(),
            content_type: "image/jpeg".into()
        }
    );

    let sent = server.single_request();
    assert_eq!(sent.path, "/v1/ideogram-turbo-txt-2-img");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    insta::assert_json_snapshot!("segmind_v2_turbo_txt2img", body(&sent));
}

#[tokio::test]
async fn each_segmind_model_goes_to_its_slug_with_only_what_it_takes() {
    let cases = [
        (Model::V2, false, "/v1/ideogram-txt-2-img"),
        (Model::V2Turbo, false, "/v1/ideogram-turbo-txt-2-img"),
        (Model::V2a, false, "/v1/ideogram-2a-txt-2-img"),
        (Model::V2, true, "/v1/ideogram-img-2-img"),
        (Model::V2Turbo, true, "/v1/ideogram-turbo-img-2-img"),
        (Model::V2a, true, "/v1/ideogram-2a-img-2-img"),
        (Model::V3, false, "/v1/ideogram-3"),
        (Model::V3, true, "/v1/ideogram-3-remix"),
        (Model::V4, false, "/v1/ideogram-4"),
    ];
    // Input URLs are fetched and checked before Segmind is paid to fetch them.
    let images = CaptureServer::start(|_| Canned::bytes(200, "image/png", PNG)).await;
    let input = format!("{}/in.png", images.base_url());
    for (model, img2img, path) in cases {
        let server = CaptureServer::start(|_| segmind_image()).await;
        let mut request = GenerateRequest::new("a lighthouse")
            .model(model)
            .seed(100)
            .aspect_ratio("16:9".parse().unwrap());
        if img2img {
            request = request
                .image(ImageInput::url(&input))
                .image_weight(ImageWeight::new(70).unwrap());
        }
        client(Provider::Segmind, &server)
            .generate(&request)
            .await
            .unwrap();
        let sent = server.single_request();
        assert_eq!(sent.path, path);
        let mut sent = body(&sent);
        if img2img {
            // 2.x bodies call it `image_file`, 3.0's `image`.
            let field = if model == Model::V3 {
                "image"
            } else {
                "image_file"
            };
            assert_eq!(sent[field], input.as_str(), "the URL itself is sent");
            sent[field] = json!("https://example.com/in.png");
        }
        insta::assert_json_snapshot!(format!("segmind{}", path.replace('/', "_")), sent);
    }
    assert_eq!(images.requests().len(), 4);
}

#[tokio::test]
async fn segmind_sends_local_images_as_base64() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    std::fs::write(&input, PNG).unwrap();
    let server = CaptureServer::start(|_| segmind_image()).await;
    let request = GenerateRequest::new("the same, at night")
        .model(Model::V2a)
        .image(ImageInput::file(&input));
    client(Provider::Segmind, &server)
        .generate(&request)
        .await
        .unwrap();
    let sent = body(&server.single_request());
    use base64::Engine as _;
    assert_eq!(
        sent["image_file"],
        base64::engine::general_purpose::STANDARD.encode(PNG)
    );
    assert_eq!(sent["image_weight"], 50);
}

#[tokio::test]
async fn segmind_character_and_style_references_go_in_the_json_body() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(PNG);
    let server = CaptureServer::start(|_| segmind_image()).await;
    let client = client(Provider::Segmind, &server);
    let character = GenerateRequest::new("the same woman, reading")
        .model(Model::V3)
        .character_reference(ImageInput::bytes(PNG), None)
        .aspect_ratio("9:16".parse().unwrap())
        .style(StyleType::Realistic)
        .rendering_speed(RenderingSpeed::Quality)
        .magic_prompt(MagicPrompt::Off)
        .seed(500);
    client.generate(&character).await.unwrap();
    let styled = GenerateRequest::new("a harbour, in this style")
        .model(Model::V3)
        .style_reference(ImageInput::bytes(PNG))
        .style_reference(ImageInput::bytes(PNG));
    client.generate(&styled).await.unwrap();

    let sent = server.requests();
    assert_eq!(sent[0].path, "/v1/ideogram-character");
    let mut body0 = body(&sent[0]);
    assert_eq!(body0["character_reference_image"], encoded.as_str());
    body0["character_reference_image"] = json!("<base64>");
    // The page's title case, matched from the facade's upper case.
    insta::assert_json_snapshot!("segmind_v1_ideogram-character", body0);
    assert_eq!(sent[1].path, "/v1/ideogram-3");
    let body1 = body(&sent[1]);
    assert_eq!(body1["style_reference_images"], json!([encoded, encoded]));
}

#[tokio::test]
async fn ideogram_4_goes_to_its_own_endpoint_on_both_providers() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/4.png"])).await;
    let request = GenerateRequest::new("a lighthouse, poster")
        .model(Model::V4)
        .resolution("1024x1024".parse().unwrap())
        .rendering_speed(RenderingSpeed::Turbo)
        .seed(7);
    let generation = client(Provider::Ideogram, &server)
        .generate(&request)
        .await
        .unwrap();
    assert_eq!(generation.model, Model::V4);
    let sent = server.single_request();
    assert_eq!(sent.path, "/v1/ideogram-v4/generate");
    insta::assert_json_snapshot!("ideogram_v4_generate", sent.wire_record());

    let segmind = CaptureServer::start(|_| segmind_image()).await;
    let request = GenerateRequest::new("a lighthouse, poster")
        .model(Model::V4)
        .aspect_ratio("3:4".parse().unwrap())
        .magic_prompt(MagicPrompt::Off);
    client(Provider::Segmind, &segmind)
        .generate(&request)
        .await
        .unwrap();
    let sent = body(&segmind.single_request());
    assert_eq!(sent["image_size"], "portrait_4_3");
    assert_eq!(sent["enable_prompt_expansion"], false);
}

#[tokio::test]
async fn segmind_json_answers_with_a_url_are_understood() {
    let server =
        CaptureServer::start(|_| Canned::json(200, json!({"image": "https://cdn.example/x.jpg"})))
            .await;
    let generation = client(Provider::Segmind, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    assert_eq!(
        generation.images[0].data,
        ImageData::Url("https://cdn.example/x.jpg".into())
    );
}

#[tokio::test]
async fn ideogram_legacy_v3_and_remix_send_what_each_takes() {
    let server = CaptureServer::start(|_| {
        ideogram_answer(&["https://cdn.example/a.png", "https://cdn.example/b.png"])
    })
    .await;
    let client = client(Provider::Ideogram, &server);

    let legacy = GenerateRequest::new("a beach at dusk")
        .model(Model::V2)
        .aspect_ratio("16:9".parse().unwrap())
        .palette(ideogram::PalettePreset::Pastel)
        .style(StyleType::Realistic)
        .num_images(2)
        .seed(0);
    let generation = client.generate(&legacy).await.unwrap();
    assert_eq!(generation.images.len(), 2);
    assert_eq!(generation.images[1].seed, Some(1001));
    assert_eq!(
        generation.images[0].resolution.as_deref(),
        Some("1024x1024")
    );

    let v3 = GenerateRequest::new("a cat on a couch")
        .model(Model::V3)
        .resolution("800x1280".parse().unwrap())
        .rendering_speed(RenderingSpeed::Turbo)
        .magic_prompt(MagicPrompt::On)
        .negative_prompt("dogs")
        .style_preset(ideogram::StylePreset::ArtDeco)
        .custom_model_uri("model/cats/version/2");
    client.generate(&v3).await.unwrap();

    let remix = GenerateRequest::new("the same beach in watercolour")
        .model(Model::V2Turbo)
        .image(ImageInput::bytes(PNG))
        .image_weight(ImageWeight::new(30).unwrap());
    client.generate(&remix).await.unwrap();

    let remix_v3 = GenerateRequest::new("the same beach, at night")
        .model(Model::V3)
        .image(ImageInput::bytes(PNG))
        .aspect_ratio("1:1".parse().unwrap())
        .seed(9);
    client.generate(&remix_v3).await.unwrap();

    let sent = server.requests();
    let paths: Vec<_> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/generate",
            "/v1/ideogram-v3/generate",
            "/remix",
            "/v1/ideogram-v3/remix"
        ]
    );
    for request in &sent {
        assert_eq!(request.header("api-key"), Some(KEY));
    }
    insta::assert_json_snapshot!("ideogram_legacy", sent[0].wire_record());
    insta::assert_json_snapshot!("ideogram_v3", sent[1].wire_record());
    insta::assert_json_snapshot!("ideogram_remix", sent[2].wire_record());
    insta::assert_json_snapshot!("ideogram_remix_v3", sent[3].wire_record());
}

#[tokio::test]
async fn ideogram_images_that_failed_safety_are_withheld() {
    let server = CaptureServer::start(|_| {
        Canned::json(200, json!({"created": "2026-11-01T00:00:00Z", "data": [
            {"url": null, "prompt": "p", "resolution": "1024x1024", "is_image_safe": false, "seed": 7}
        ]}))
    })
    .await;
    let generation = client(Provider::Ideogram, &server)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    let image = &generation.images[0];
    assert!(!image.is_safe);
    assert_eq!(image.data, ImageData::Withheld);
    let dir = tempfile::tempdir().unwrap();
    let err = image.save(dir.path().join("x.png")).await.unwrap_err();
    assert!(matches!(err, ideogram::Error::Withheld), "{err:?}");
    assert!(!err.certainly_not_billed(), "it came in a 200 answer");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn gateways_take_a_bearer_token_under_their_own_path() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/g.png"])).await;
    let client = Client::builder(Provider::Ideogram)
        .base_url(format!("{}/ideogram/", server.base_url()))
        .auth_scheme(AuthScheme::Bearer)
        .api_key(KEY)
        .build()
        .unwrap();
    client
        .generate(&GenerateRequest::new("a cat"))
        .await
        .unwrap();
    let sent = server.single_request();
    assert_eq!(sent.path, "/ideogram/generate");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("api-key"), None);
}

/// A gateway's credentials in the base URL go as basic auth, as reqwest's
/// builder always sent them, and never in the request line.
#[tokio::test]
async fn gateway_credentials_in_the_base_url_go_as_basic_auth() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/g.png"])).await;
    let base = server.base_url().replace("http://", "http://alice:s3cret@");
    for base in [base.clone(), format!("{base}/gw")] {
        let client = Client::builder(Provider::Ideogram)
            .base_url(base)
            .api_key(KEY)
            .build()
            .unwrap();
        client
            .generate(&GenerateRequest::new("a cat"))
            .await
            .unwrap();
    }
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    for sent in sent {
        // base64("alice:s3cret")
        assert_eq!(sent.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));
        assert_eq!(sent.header("api-key"), Some(KEY));
        assert!(!sent.path.contains("s3cret"), "{}", sent.path);
    }
}

#[tokio::test]
async fn saving_streams_a_url_to_the_path_without_the_key() {
    let (cdn, generation) = generation_served_by(Canned::bytes(200, "image/png", PNG)).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.png");
    let saved = generation.images[0].save(&path).await.unwrap();
    assert_eq!(saved, path);
    assert_eq!(std::fs::read(&path).unwrap(), PNG);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out.png"], "no temporary file left");

    let download = cdn.single_request();
    assert_eq!(download.path, "/images/a.png");
    for name in ["api-key", "x-api-key", "authorization"] {
        assert_eq!(download.header(name), None, "{name} sent to the image host");
    }
    assert!(!format!("{:?}", download.headers).contains(KEY));
}

#[tokio::test]
async fn a_failed_download_leaves_the_target_untouched() {
    let (cdn, generation) =
        generation_served_by(Canned::json(404, json!({"error": "expired"}))).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.png");
    std::fs::write(&path, b"previous").unwrap();
    let err = generation.images[0].save(&path).await.unwrap_err();
    assert!(
        matches!(err, ideogram::Error::Download { ref reason, .. } if reason.contains("404")),
        "{err:?}"
    );
    assert!(!err.certainly_not_billed(), "the image was paid for");
    assert_eq!(
        cdn.requests().len(),
        1,
        "an expired link is not asked again"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"previous");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[tokio::test]
async fn a_download_cut_short_leaves_no_file() {
    // The body is shorter than its declared length: the connection ends early.
    let cut = Canned::bytes(200, "image/png", PNG).with_header("content-length", "100000");
    let (cdn, generation) = generation_served_by(cut).await;

    let dir = tempfile::tempdir().unwrap();
    let err = generation.images[0]
        .save(dir.path().join("cut.png"))
        .await
        .unwrap_err();
    assert!(matches!(err, ideogram::Error::Download { .. }), "{err:?}");
    assert_eq!(
        cdn.requests().len(),
        1 + 4,
        "a download cut short is asked again, as the retry policy allows"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial or temporary file"
    );
}

#[tokio::test]
async fn each_ideogram_model_sends_its_name() {
    for model in Model::ALL {
        let server =
            CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/m.png"])).await;
        let mut request = GenerateRequest::new("a lighthouse")
            .model(model)
            .seed(12345);
        if model.takes(Provider::Ideogram, false, "style_type") {
            request = request.style(StyleType::General);
        }
        client(Provider::Ideogram, &server)
            .generate(&request)
            .await
            .unwrap();
        let sent = server.single_request();
        insta::assert_json_snapshot!(
            format!("ideogram_{}", model.to_string().to_lowercase()),
            sent.wire_record()
        );
    }
}

/// An Ideogram generation whose image URL is served by a separate "CDN"
/// server answering `cdn`; returns that server to inspect what it was sent.
async fn generation_served_by(cdn: Canned) -> (CaptureServer, ideogram::Generation) {
    let cdn_server = CaptureServer::start(move |_| cdn.clone()).await;
    let url = format!("{}/images/a.png", cdn_server.base_url());
    let api = CaptureServer::start(move |_| ideogram_answer(&[url.as_str()])).await;
    let generation = client(Provider::Ideogram, &api)
        .generate(&GenerateRequest::new("x"))
        .await
        .unwrap();
    (cdn_server, generation)
}

#[tokio::test]
async fn a_field_the_facade_has_no_setter_for_is_reached_through_the_body() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/p.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let request = GenerateRequest::new("a lighthouse, poster").model(Model::V3);

    // `style_codes`: a field of the spec with no setter on the facade,
    // set by its spec name on the request...
    let coded = request.clone().set("style_codes", ["AAFF5733"]);
    client.generate(&coded).await.unwrap();
    let sent = body(&server.single_request());
    assert_eq!(sent["style_codes"], json!(["AAFF5733"]));
    assert_eq!(sent["prompt"], "a lighthouse, poster");

    // ...or on the prepared body.
    let mut prepared = client.prepare(&request).await.unwrap();
    assert_eq!(prepared.wire().operation().id, "post_generate_image_v3");
    prepared
        .wire_mut()
        .body_mut()
        .insert("style_codes".into(), json!(["0133FF57"]));
    prepared.generate().await.unwrap();
    assert_eq!(
        body(&server.requests()[1])["style_codes"],
        json!(["0133FF57"])
    );

    // What is set there is checked against the spec before it is sent.
    let mut prepared = client.prepare(&request).await.unwrap();
    prepared
        .wire_mut()
        .body_mut()
        .insert("seed".into(), json!(-5));
    let err = prepared.generate().await.unwrap_err();
    assert_eq!(err.to_string(), "invalid seed: -5 is below the minimum 0");
    // So are the fields that exclude each other (the spec's `x-exclusive`).
    // A prepared request borrows the client only: a temporary request will do.
    let mut prepared = client
        .prepare(&request.clone().style(StyleType::Design))
        .await
        .unwrap();
    prepared
        .wire_mut()
        .body_mut()
        .insert("style_codes".into(), json!(["AAFF5733"]));
    let err = prepared.generate().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid style_type: cannot be given with style_codes"
    );
    assert_eq!(server.requests().len(), 2, "nothing more was sent");
}

#[tokio::test]
async fn a_request_converts_to_its_body_with_the_same_checks_as_sending() {
    let request = GenerateRequest::new("a fox")
        .model(Model::V2a)
        .seed(4242)
        .resolution("1280x768".parse().unwrap());
    let segmind = request.to_wire(Provider::Segmind).await.unwrap();
    assert_eq!(segmind.operation().id, "ideogram_2a_txt_2_img");
    assert_eq!(segmind.schema(), "Ideogram2aTxt2ImgRequest");
    assert_eq!(
        serde_json::to_value(&segmind).unwrap(),
        json!({"prompt": "a fox", "seed": 4242, "resolution": "RESOLUTION_1280_768"})
    );
    let legacy = request.to_wire(Provider::Ideogram).await.unwrap();
    assert_eq!(legacy.operation().id, "post_generate_image");
    assert_eq!(legacy.body()["image_request"]["model"], "V_2A");
    let err = GenerateRequest::new("x")
        .seed(5)
        .to_wire(Provider::Segmind)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid seed: 5 is below the minimum 100");
}

#[tokio::test]
async fn ideogram_3_takes_references_as_multipart_and_transparency_as_its_own_call() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/r.png"])).await;
    let client = client(Provider::Ideogram, &server);
    let references = GenerateRequest::new("a knight in the rain")
        .model(Model::V3)
        .aspect_ratio("16:9".parse().unwrap())
        .style_reference(ImageInput::bytes(PNG))
        .style_reference(ImageInput::bytes(JPEG))
        .character_reference(ImageInput::bytes(PNG), None);
    client.generate(&references).await.unwrap();
    let transparent = GenerateRequest::new("a paper lantern")
        .model(Model::V3)
        .transparent()
        .upscale(ideogram::UpscaleFactor::X2)
        .rendering_speed(RenderingSpeed::Turbo);
    client.generate(&transparent).await.unwrap();
    let sent = server.requests();
    insta::assert_json_snapshot!("ideogram_v3_references", sent[0].wire_record());
    insta::assert_json_snapshot!("ideogram_v3_transparent", sent[1].wire_record());
}

/// v2's 3.0 transparent generate takes an `upscale_factor` (x1, x2, x4:
/// `GenerateImageIdeogramV3TransparentRequest` of Ideogram's OpenAPI of
/// 2026-10-07). The spec once assumed it took none, so this call was refused
/// before sending; the v1 enum's `X2` goes in v2's own case.
#[tokio::test]
async fn ideogram_3_transparent_on_v2_takes_its_upscale_factor() {
    let server = CaptureServer::start(|_| ideogram_answer(&["https://cdn.example/t.png"])).await;
    let request = GenerateRequest::new("a paper lantern")
        .model(Model::V3)
        .transparent()
        .upscale(ideogram::UpscaleFactor::X2)
        .operation("post_generate_v2_ideogram_3_transparent");
    client(Provider::Ideogram, &server)
        .generate(&request)
        .await
        .unwrap();
    let sent = server.single_request();
    assert_eq!(body(&sent)["upscale_factor"], "x2");
    insta::assert_json_snapshot!("ideogram_v2_3_transparent", sent.wire_record());
}

/// The facade's seed check is each body's own range in the spec: its ends
/// are taken and one past them refused, for every model and provider.
#[tokio::test]
async fn every_models_seed_range_is_its_bodys_in_the_spec() {
    for provider in Provider::ALL {
        let spec = match provider {
            Provider::Segmind => ideogram_raw::schema::segmind(),
            _ => ideogram_raw::schema::ideogram(),
        };
        for model in Model::ALL {
            let request = |seed: Option<u32>| {
                let request = GenerateRequest::new("x").model(model);
                match seed {
                    Some(seed) => request.seed(seed),
                    None => request,
                }
            };
            let Ok(wire) = request(None).to_wire(provider).await else {
                continue; // not served there
            };
            // Ideogram's legacy body holds its fields in `image_request`.
            let body = match wire.schema() {
                "GenerateImageRequest" => "ImageRequest",
                body => body,
            };
            let range = spec
                .field_range(body, "seed")
                .unwrap_or_else(|| panic!("{body} has a seed range"));
            let (start, end) = (*range.start() as u32, *range.end() as u32);
            let mut cases = vec![(start, true), (end, true), (end + 1, false)];
            if start > 0 {
                cases.push((start - 1, false));
            }
            for (seed, taken) in cases {
                let got = request(Some(seed)).to_wire(provider).await;
                assert_eq!(
                    got.is_ok(),
                    taken,
                    "{model} on {provider}, seed {seed}: {got:?}"
                );
            }
        }
    }
}

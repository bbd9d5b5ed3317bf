//! The mock serves what the specs' operation tables list, and its ledger
//! records what reached the wire: every routable operation of Ideogram's
//! table, at the root and under `/ideogram`, answers a body made from its
//! schema alone (the fields it requires, or its example, and an image for
//! each file it requires), and bills it with the fields as sent; the
//! ledger served over HTTP holds the same; an image sent to Segmind as
//! base64 is recorded as a stand-in, not its bytes.

use std::time::Duration;

use ideogram_mock::{ImageSpec, LEDGER_PATH, MockConfig, MockServer};
use ideogram_raw::auth::{ApiKey, Auth};
use ideogram_raw::multipart::FilePart;
use ideogram_raw::operation::Operation;
use ideogram_raw::schema::Schemas;
use ideogram_raw::send::{Payload, send};
use serde_json::{Map, Value, json};

/// A bound on every wait of these tests.
const DEADLINE: Duration = Duration::from_secs(30);

/// A small gray PNG: a fine image, and a fine mask for it.
fn gray_png() -> Vec<u8> {
    ImageSpec {
        width: 64,
        height: 64,
        seed: 1,
        palette: vec![[128, 128, 128]],
        transparent: false,
    }
    .png()
}

/// A schema with its `$ref` followed.
fn resolve<'a>(spec: &'a Schemas, schema: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => spec.get(name).expect("a referenced schema"),
        None => schema,
    }
}

/// Whether a property is a file (or a list of files).
fn is_file(spec: &Schemas, property: &Value) -> bool {
    let property = resolve(spec, property);
    property["format"] == "binary" || resolve(spec, &property["items"])["format"] == "binary"
}

/// A value the schema accepts, from the schema alone: its example, its
/// first enum value, its minimum, or an object of its required fields.
fn sample(spec: &Schemas, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if schema["type"] == "object" || schema["properties"].is_object() {
        let mut object = schema["example"].as_object().cloned().unwrap_or_default();
        for field in schema["required"].as_array().into_iter().flatten() {
            let name = field.as_str().expect("a field name");
            let property = &schema["properties"][name];
            if !is_file(spec, property) && !object.contains_key(name) {
                object.insert(name.to_owned(), sample(spec, property));
            }
        }
        return Value::Object(object);
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("boolean") => json!(true),
        Some("array") => json!([sample(spec, &schema["items"])]),
        _ => json!("a lighthouse at dawn"),
    }
}

/// What `op` is sent: its body's sample, and an image for each file it
/// requires (or needs unless an identifier stands in for it).
fn payload(spec: &Schemas, op: &Operation) -> Payload {
    let body = spec.get(op.body.expect("a body")).expect("its schema");
    let fields = match sample(spec, body) {
        Value::Object(fields) => fields,
        other => panic!("{}: {other}", op.id),
    };
    // A file an asset identifier may stand in for (`x-in-place-of`) is
    // one of two the body needs: the file is sent.
    let stood_in = (body["properties"].as_object().into_iter().flatten())
        .filter_map(|(_, property)| property["x-in-place-of"].as_str());
    let files = body["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .chain(stood_in)
        .filter(|name| is_file(spec, &body["properties"][*name]))
        .map(|name| {
            let image = FilePart::new(gray_png(), "input.png", "image/png");
            (name.to_owned().into(), image)
        })
        .collect();
    Payload {
        fields,
        files,
        query: Vec::new(),
    }
}

/// `GET path` on `base` over plain HTTP/1.1: the answer's JSON body.
async fn get_json(base: &str, path: &str) -> Value {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = base.strip_prefix("http://").expect("an http URL");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split_once("\r\n\r\n").expect("a body").1;
    serde_json::from_str(body).expect("JSON")
}

#[tokio::test]
async fn every_routable_ideogram_operation_is_served_and_billed_as_sent() {
    tokio::time::timeout(DEADLINE, async {
        let mock = MockServer::start(MockConfig::default()).await.unwrap();
        let spec = ideogram_raw::schema::ideogram();
        let key = || Auth::ideogram(ApiKey::new(mock.api_key()));
        let routable: Vec<&Operation> = ideogram_raw::ideogram::operations::ALL
            .iter()
            .filter(|op| op.method == "POST" && op.route.is_some())
            .collect();
        assert!(routable.len() >= 15, "{}", routable.len());
        for prefix in ["", "/ideogram"] {
            let client =
                ideogram_raw::ideogram::Client::new(&format!("{}{prefix}", mock.api_url()), key());
            for op in &routable {
                let sent = payload(spec, op);
                let answer = send(&client, op, &[], &sent).await;
                if let Ok(answer) = &answer {
                    // The spec's deprecation is announced, and only there.
                    let announced: Vec<(String, String)> = answer
                        .headers()
                        .iter()
                        .filter(|(name, _)| {
                            [
                                ideogram_raw::deprecation::DEPRECATION,
                                ideogram_raw::deprecation::SUNSET,
                                axum::http::header::LINK,
                            ]
                            .contains(name)
                        })
                        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                        .collect();
                    let expected: Vec<(String, String)> =
                        ideogram_raw::deprecation::headers_for(op)
                            .into_iter()
                            .map(|(name, value)| (name.to_string(), value))
                            .collect();
                    assert_eq!(announced, expected, "{prefix}{}", op.path);
                }
                if let Err(e) = answer {
                    let detail = match e {
                        ideogram_raw::ideogram::Error::ErrorResponse(answer) => {
                            let status = answer.status();
                            let mut body = answer.into_inner().into_inner();
                            let mut text = Vec::new();
                            while let Some(Ok(chunk)) = futures::StreamExt::next(&mut body).await {
                                text.extend_from_slice(&chunk);
                            }
                            format!("{status}: {}", String::from_utf8_lossy(&text))
                        }
                        other => other.to_string(),
                    };
                    panic!("{prefix}{} ({}): {detail}", op.path, op.id);
                }
                mock.settled().await;
                let ledger = mock.ledger();
                let billed = ledger.entries.last().expect("billed");
                assert_eq!(
                    billed.operation,
                    format!("{prefix}{}", op.path),
                    "{}",
                    op.id
                );
                for (name, value) in &sent.fields {
                    assert_eq!(&billed.fields[name], value, "{}: {name}", op.id);
                }
                for (name, file) in &sent.files {
                    let stand_in = json!(format!("<file, {} bytes>", file.bytes().len()));
                    // A list field records a list of stand-ins.
                    let list = op
                        .body
                        .and_then(|b| spec.property(b, name))
                        .is_some_and(|p| p["type"] == "array");
                    let stand_in = if list { json!([stand_in]) } else { stand_in };
                    assert_eq!(billed.fields[&**name], stand_in, "{}: {name}", op.id);
                }
                let expected = sent.fields.len() + sent.files.len();
                assert_eq!(
                    billed.fields.len(),
                    expected,
                    "{}: {:?}",
                    op.id,
                    billed.fields
                );
            }
        }
        assert_eq!(mock.ledger().entries.len(), 2 * routable.len());
        // The client saw each deprecated operation once, by its path.
        let deprecated: Vec<&str> = routable
            .iter()
            .filter(|op| op.deprecation.is_some())
            .map(|op| op.path)
            .collect();
        assert!(!deprecated.is_empty());
        let seen: Vec<&str> = ideogram_raw::deprecation::seen()
            .iter()
            .map(|notice| notice.path)
            .collect();
        assert_eq!(seen, deprecated);
        // The ledger a process reads over HTTP holds the same fields.
        let served = get_json(mock.api_url(), LEDGER_PATH).await;
        let entries = served["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 2 * routable.len());
        for (served, billed) in entries.iter().zip(mock.ledger().entries) {
            assert_eq!(served["fields"], Value::Object(billed.fields));
        }
        mock.shutdown().await;
    })
    .await
    .expect("within the deadline");
}

#[tokio::test]
async fn the_ledger_keeps_segmind_fields_and_not_base64_images() {
    tokio::time::timeout(DEADLINE, async {
        use base64::Engine as _;
        let mock = MockServer::start(MockConfig::default()).await.unwrap();
        let spec = ideogram_raw::schema::segmind();
        let op = ideogram_raw::segmind::operations::ALL
            .iter()
            .find(|op| {
                op.path.starts_with("/v1/")
                    && op
                        .route
                        .is_some_and(|r| r.task == "remix" && r.image.is_some())
            })
            .expect("a synchronous remix");
        let image_field = op.route.and_then(|r| r.image).expect("its image field");
        let image = gray_png();
        let mut fields: Map<String, Value> = match sample(spec, spec.get(op.body.unwrap()).unwrap())
        {
            Value::Object(fields) => fields,
            other => panic!("{other}"),
        };
        fields.insert("prompt".into(), json!("the same beach, at night"));
        fields.insert(
            image_field.into(),
            json!(base64::engine::general_purpose::STANDARD.encode(&image)),
        );
        let client = ideogram_raw::segmind::Client::new(
            mock.api_url(),
            Auth::segmind(ApiKey::new(mock.api_key())),
        );
        let sent = Payload {
            fields: fields.clone(),
            files: Vec::new(),
            query: Vec::new(),
        };
        send(&client, op, &[], &sent).await.expect("served");
        mock.settled().await;
        let billed = &mock.ledger().entries[0];
        assert_eq!(
            billed.fields[image_field],
            json!(format!("<file, {} bytes>", image.len()))
        );
        for (name, value) in fields.iter().filter(|(name, _)| *name != image_field) {
            assert_eq!(&billed.fields[name], value, "{name}");
        }
        assert_eq!(billed.fields.len(), fields.len());
        mock.shutdown().await;
    })
    .await
    .expect("within the deadline");
}

/// A base64 image of its field's `x-max-bytes` is served; one byte more is
/// answered 400, naming the field and the size, and not billed: the mock
/// holds a body sent past the client to what the spec says.
#[tokio::test]
async fn a_segmind_base64_image_over_its_field_s_size_is_refused_unbilled() {
    tokio::time::timeout(DEADLINE, async {
        use base64::Engine as _;
        let mock = MockServer::start(MockConfig::default()).await.unwrap();
        let spec = ideogram_raw::schema::segmind();
        let op = ideogram_raw::segmind::operations::ALL
            .iter()
            .find(|op| op.path.starts_with("/v1/") && op.route.is_some_and(|r| r.image.is_some()))
            .expect("a synchronous operation on an image");
        let (body, field) = (op.body.unwrap(), op.route.and_then(|r| r.image).unwrap());
        let max = spec
            .field_facts(body, field)
            .and_then(|f| f.max_bytes)
            .unwrap();
        let client = ideogram_raw::segmind::Client::new(
            mock.api_url(),
            Auth::segmind(ApiKey::new(mock.api_key())),
        );
        let with_image_of = |len: u64| {
            let mut image = gray_png();
            image.resize(len as usize, 0);
            let mut fields: Map<String, Value> = match sample(spec, spec.get(body).unwrap()) {
                Value::Object(fields) => fields,
                other => panic!("{other}"),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(&image);
            fields.insert(field.into(), json!(encoded));
            Payload {
                fields,
                files: Vec::new(),
                query: Vec::new(),
            }
        };
        send(&client, op, &[], &with_image_of(max))
            .await
            .expect("served");
        mock.settled().await;
        assert_eq!(mock.ledger().entries.len(), 1);
        let Err(err) = send(&client, op, &[], &with_image_of(max + 1)).await else {
            panic!("an image over its size was served");
        };
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
        let text = match err {
            ideogram_raw::segmind::Error::ErrorResponse(answer) => {
                use futures::TryStreamExt as _;
                let chunks: Vec<_> = answer
                    .into_inner()
                    .into_inner()
                    .try_collect()
                    .await
                    .unwrap();
                String::from_utf8(chunks.concat()).unwrap()
            }
            other => panic!("{other}"),
        };
        let expected = format!("{field}: larger than {} MB", max >> 20);
        assert!(text.contains(&expected), "{text}");
        mock.settled().await;
        assert_eq!(mock.ledger().entries.len(), 1, "nothing more billed");
        mock.shutdown().await;
    })
    .await
    .expect("within the deadline");
}

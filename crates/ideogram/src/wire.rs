//! What goes on the wire: a lowered request's body with its images read in
//! (a JSON body's as URLs or base64, a multipart body's as file parts), for
//! the operation it goes to. Open to changes before sending, checked against
//! the spec again if changed.

use ideogram_raw::multipart::{FilePart, image_size, is_grayscale};
use ideogram_raw::operation::Operation;
use ideogram_raw::send::Payload;
use serde_json::{Map, Value};

use crate::download::Downloader;
use crate::error::Error;
use crate::image_input::{Loaded, MAX_IMAGE_BYTES, load};
use crate::invalid::InvalidInput;
use crate::lowering::Lowered;

/// The body a request becomes, for the operation it goes to: what the
/// service receives. The operation and its body schema come from the
/// spec's `x-route`s; the body's fields are the spec's.
///
/// ```no_run
/// # async fn run() -> Result<(), ideogram::Error> {
/// use ideogram::{GenerateRequest, Model, Provider};
///
/// let request = GenerateRequest::new("a lighthouse").model(Model::V3);
/// let wire = request.to_wire(Provider::Ideogram).await?;
/// println!("{} {}", wire.operation().id, serde_json::to_string(wire.body()).unwrap());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WireRequest {
    lowered: Lowered,
    payload: Payload,
    /// Whether the body is as the lowering checked it.
    checked: bool,
}

impl serde::Serialize for WireRequest {
    /// The JSON body (a multipart body's value parts).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.payload.fields.serialize(serializer)
    }
}

impl WireRequest {
    /// The operation it is sent to.
    pub fn operation(&self) -> &'static Operation {
        self.lowered.operation
    }

    /// The JSON Schema name of its body in its spec
    /// ([`ideogram_raw::schema`]).
    pub fn schema(&self) -> &'static str {
        self.lowered.schema()
    }

    /// The body's fields as sent: a JSON body whole, a multipart body's
    /// value parts (its files are [`files`](Self::files)).
    pub fn body(&self) -> &Map<String, Value> {
        &self.payload.fields
    }

    /// The body's fields, to change one the request has no value for; the
    /// body is checked against its schema again before it is sent.
    pub fn body_mut(&mut self) -> &mut Map<String, Value> {
        self.checked = false;
        &mut self.payload.fields
    }

    /// A multipart body's files, by field.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[FilePart])> {
        self.payload
            .files
            .iter()
            .map(|(field, files)| (field.as_str(), files.as_slice()))
    }

    /// The provider whose spec the body is of.
    pub(crate) fn provider(&self) -> crate::provider::Provider {
        self.lowered.provider
    }

    /// What is sent.
    pub(crate) fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The body, checked against the spec again if it changed.
    pub(crate) fn checked(&self) -> Result<&Self, InvalidInput> {
        if !self.checked {
            let mut body = self.payload.fields.clone();
            for (field, files) in &self.payload.files {
                let pending = |_: &FilePart| Value::from("data:image/png;base64,");
                let value = match self.lowered.images.iter().find(|i| i.field == field) {
                    Some(image) if !image.list => files.first().map(pending).unwrap_or_default(),
                    _ => files.iter().map(pending).collect(),
                };
                body.insert(field.clone(), value);
            }
            let lowered = Lowered {
                body,
                images: Vec::new(),
                ..self.lowered.clone()
            };
            lowered.recheck()?;
        }
        Ok(self)
    }

    /// `lowered` with its images read through `downloader`: a multipart
    /// body's as file parts (checked as Ideogram documents: 10 MB in all
    /// per field, a mask grayscale and its image's size), a JSON body's as
    /// the URL or a local file's base64.
    pub(crate) async fn read(lowered: Lowered, downloader: &Downloader) -> Result<Self, Error> {
        let mut payload = Payload {
            fields: lowered.body.clone(),
            files: Vec::new(),
        };
        let mut loaded: Vec<(&'static str, Vec<Loaded>)> = Vec::new();
        for image in &lowered.images {
            if image.file {
                let mut files = Vec::new();
                for input in &image.inputs {
                    files.push(load(downloader, input, image.named).await?);
                }
                total(image.field, &files)?;
                loaded.push((image.field, files));
            } else {
                let mut values = Vec::new();
                for input in &image.inputs {
                    values.push(Value::from(input.segmind_value().await?));
                }
                let value = if image.list {
                    Value::Array(values)
                } else {
                    values.into_iter().next().unwrap_or_default()
                };
                payload.fields.insert(image.field.to_owned(), value);
            }
        }
        check_masks(&loaded, lowered.operation)?;
        for (field, files) in loaded {
            let list = lowered.images.iter().any(|i| i.field == field && i.list);
            let parts = files
                .iter()
                .enumerate()
                .map(|(i, image)| part(image, field, list.then_some(i)))
                .collect();
            payload.files.push((field.to_owned(), parts));
        }
        Ok(Self {
            lowered,
            payload,
            checked: true,
        })
    }
}

/// A mask (`mask`, `<field>_mask`) is grayscale and the size of its image
/// (the operation's input image, `<field>`), as Ideogram documents.
fn check_masks(loaded: &[(&'static str, Vec<Loaded>)], op: &Operation) -> Result<(), InvalidInput> {
    let find = |field: &str| loaded.iter().find(|(f, _)| *f == field).map(|(_, l)| l);
    for (field, masks) in loaded {
        let Some(of) = (match *field {
            "mask" => op.route.and_then(|r| r.image),
            other => other.strip_suffix("_mask"),
        }) else {
            continue;
        };
        let images = find(of);
        for (i, mask) in masks.iter().enumerate() {
            if !is_grayscale(&mask.bytes) {
                return Err(InvalidInput::new(
                    *field,
                    "a mask is black and white (grayscale); this one is not, or does not decode",
                ));
            }
            if let Some(image) = images.and_then(|images| images.get(i))
                && image_size(&mask.bytes) != image_size(&image.bytes)
            {
                let shown = |size: Option<(u32, u32)>| {
                    size.map_or("unknown".to_owned(), |(w, h)| format!("{w}x{h}"))
                };
                return Err(InvalidInput::new(
                    *field,
                    format!(
                        "is {}, the {of} {}: a mask is its image's size",
                        shown(image_size(&mask.bytes)),
                        shown(image_size(&image.bytes))
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// At most 10 MB in all.
fn total(field: &'static str, images: &[Loaded]) -> Result<(), InvalidInput> {
    let total: usize = images.iter().map(|i| i.bytes.len()).sum();
    if total > MAX_IMAGE_BYTES {
        return Err(InvalidInput::new(
            field,
            format!(
                "{:.1} MB in all; at most {} MB is accepted",
                total as f64 / 1_048_576.0,
                MAX_IMAGE_BYTES / 1_048_576
            ),
        ));
    }
    Ok(())
}

/// A loaded image as the file part of `field`, named after it (and its
/// place in a list) with its type's extension.
fn part(image: &Loaded, field: &str, index: Option<usize>) -> FilePart {
    let ext = image.file_name.rsplit('.').next().unwrap_or("png");
    let name = match index {
        Some(i) => format!("{field}-{}.{ext}", i + 1),
        None => format!("{field}.{ext}"),
    };
    FilePart::new(image.bytes.clone(), name, image.content_type)
}

//! What goes on the wire: a lowered request's body with its images read in,
//! open to changes before sending, checked against the spec again if changed.

use ideogram_raw::multipart::{FilePart, image_size, is_grayscale};
use ideogram_raw::operation::Operation;
use ideogram_raw::send::Payload;
use serde_json::{Map, Value};

use crate::download::Downloader;
use crate::error::Error;
use crate::image_input::{load, load_now};
use crate::invalid::InvalidInput;
use crate::lowering::{ImageField, Lowered};

/// The body a request becomes for the operation the spec's `x-route`s give it: what the
/// service receives (example: [`GenerateRequest::to_wire`](crate::GenerateRequest::to_wire)).
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

    /// The name of its body's schema in its spec.
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

    /// A multipart body's files, in order, each with its field.
    pub fn files(&self) -> impl Iterator<Item = (&str, &FilePart)> {
        let files = self.payload.files.iter();
        files.map(|(field, file)| (&**field, file))
    }

    /// The prompt the body sends (empty where it sends none): what a
    /// generation records, as sent, also after [`body_mut`](Self::body_mut).
    pub(crate) fn prompt(&self) -> &str {
        let fields = &self.payload.fields;
        let body = match self.lowered.operation.route.and_then(|r| r.nest) {
            Some(nest) => fields.get(nest).and_then(Value::as_object),
            None => Some(fields),
        };
        let prompt = body.and_then(|body| body.get("prompt"));
        prompt.and_then(Value::as_str).unwrap_or_default()
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
            // A JSON body's images are in its fields; files hold a place.
            let images = self.lowered.images.iter().filter(|i| i.file).cloned();
            let lowered = Lowered {
                body: self.payload.fields.clone(),
                images: images.collect(),
                ..self.lowered.clone()
            };
            drop(lowered.recheck()?);
        }
        Ok(self)
    }

    /// `lowered` with its images read: file parts for a multipart body (each
    /// of its field's size and kind, and in all what the spec's
    /// `x-max-total-bytes` allows a field; masks checked), the URL or a file's base64 for a JSON body.
    pub(crate) async fn read(mut lowered: Lowered, downloader: &Downloader) -> Result<Self, Error> {
        // The body lives in the payload from here on (a recheck reads it there).
        let mut payload = Payload {
            fields: std::mem::take(&mut lowered.body),
            files: Vec::new(),
            query: Vec::new(),
        };
        let files: usize = lowered
            .images
            .iter()
            .filter(|i| i.file)
            .map(|i| i.inputs.len())
            .sum();
        payload.files.reserve_exact(files);
        for image in &lowered.images {
            // Sized once: growing from empty was a reallocation a field.
            let count = image.inputs.len();
            let mut values = Vec::with_capacity(if image.file { 0 } else { count });
            let mut total = 0;
            for (i, input) in image.inputs.iter().enumerate() {
                if !image.file {
                    values.push(Value::from(input.segmind_value(image.accepts).await?));
                    continue;
                }
                let file = match load_now(input, image.named, image.accepts) {
                    Some(loaded) => loaded?,
                    None => load(downloader, input, image.named, image.accepts).await?,
                };
                let name = part_name(image.field, image.list.then_some(i + 1), file.extension());
                total += file.bytes.len();
                // Refused as soon as the files read pass it, the rest unread.
                if let Some(max) = image.max_total_bytes
                    && total as u64 > max
                {
                    let (total, max) = (total as f64 / 1_048_576.0, max as f64 / 1_048_576.0);
                    let n = i + 1;
                    let message = format!(
                        "{total:.1} MB in its first {n}; at most {max} MB is accepted in all"
                    );
                    return Err(InvalidInput::new(image.field, message).into());
                }
                let part = FilePart::new(file.bytes, name, file.content_type);
                payload.files.push((image.field.into(), part));
            }
            if image.file {
                continue;
            }
            if image.list {
                payload.fields.insert(image.field.to_owned(), values.into());
            } else {
                let value = values.into_iter().next().unwrap_or_default();
                payload.fields.insert(image.field.to_owned(), value);
            }
        }
        check_masks(&lowered.images, &payload)?;
        Ok(Self {
            lowered,
            payload,
            checked: true,
        })
    }
}

/// The file name a part is sent with: `field.ext`, or `field-n.ext` in a
/// list. Built in place: `format!` was ~0.7k instructions a part.
fn part_name(field: &str, n: Option<usize>, ext: &str) -> String {
    let mut name = String::with_capacity(field.len() + ext.len() + 8);
    name.push_str(field);
    if let Some(n) = n {
        use std::fmt::Write as _;
        let _ = write!(name, "-{n}");
    }
    name.push('.');
    name.push_str(ext);
    name
}

/// A mask (a field the spec's `x-masks` pairs with another) is grayscale
/// and the size of its image, as Ideogram documents.
fn check_masks(images: &[ImageField], payload: &Payload) -> Result<(), InvalidInput> {
    let files = |field: &'static str| {
        let files = payload.files.iter().filter(move |(f, _)| f == field);
        files.map(|(_, file)| file)
    };
    for (field, of) in images.iter().filter_map(|i| Some((i.field, i.mask_of?))) {
        for (i, mask) in files(field).enumerate() {
            if !is_grayscale(mask.bytes()) {
                let message =
                    "a mask is black and white (grayscale); this one is not, or does not decode";
                return Err(InvalidInput::new(field, message));
            }
            let shown = |image: &FilePart| match image_size(image.bytes()) {
                Some((w, h)) => format!("{w}x{h}"),
                None => "unknown".to_owned(),
            };
            if let Some(image) = files(of).nth(i)
                && image_size(mask.bytes()) != image_size(image.bytes())
            {
                let (mask, image) = (shown(mask), shown(image));
                let message = format!("is {mask}, the {of} {image}: a mask is its image's size");
                return Err(InvalidInput::new(field, message));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_part_is_named_by_its_field_and_place_in_a_list() {
        assert_eq!(super::part_name("mask", None, "png"), "mask.png");
        assert_eq!(super::part_name("images", Some(12), "jpg"), "images-12.jpg");
    }
}

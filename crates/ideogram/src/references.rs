//! Reference images of an Ideogram 3.0 generation: images whose style to
//! follow, and a character to keep (with an optional mask). Loaded and
//! checked as Ideogram documents (one character image; a mask of its size,
//! grayscale; 10 MB in all per list), then attached to the multipart body
//! of `/v1/ideogram-v3/generate` as its file parts.

use ideogram_raw::ideogram::types as wire;
use ideogram_raw::multipart::{FilePart, image_size, is_grayscale};

use crate::download::Downloader;
use crate::error::Error;
use crate::image_input::{ImageInput, Loaded, MAX_IMAGE_BYTES, load};
use crate::invalid::InvalidInput;

/// The reference images a request names, not yet read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct References {
    pub(crate) style: Vec<ImageInput>,
    pub(crate) character: Option<ImageInput>,
    pub(crate) character_mask: Option<ImageInput>,
}

impl References {
    pub(crate) fn is_empty(&self) -> bool {
        self.style.is_empty() && self.character.is_none()
    }

    /// Reads and checks the images, then turns Ideogram 3.0's JSON body
    /// into its multipart form with them attached.
    pub(crate) async fn attach(
        &self,
        body: &wire::GenerateImageRequestV3,
        downloader: &Downloader,
    ) -> Result<wire::GenerateImageRequestV3Multipart, Error> {
        let mut style = Vec::new();
        for image in &self.style {
            style.push(load(downloader, image, "style_reference_images").await?);
        }
        let character = match &self.character {
            Some(image) => Some(load(downloader, image, "character_reference_images").await?),
            None => None,
        };
        let mask = match &self.character_mask {
            Some(image) => Some(load(downloader, image, "character_reference_images_mask").await?),
            None => None,
        };
        total("style_reference_images", &style)?;
        if let (Some(character), Some(mask)) = (&character, &mask) {
            if image_size(&mask.bytes) != image_size(&character.bytes) {
                return Err(InvalidInput::new(
                    "character_reference_images_mask",
                    "a character mask is its image's size",
                )
                .into());
            }
            if !is_grayscale(&mask.bytes) {
                return Err(InvalidInput::new(
                    "character_reference_images_mask",
                    "a character mask is grayscale",
                )
                .into());
            }
        }
        // The JSON body's fields are the multipart body's, less the files.
        let json = serde_json::to_value(body).expect("a generated body is JSON");
        let mut multipart: wire::GenerateImageRequestV3Multipart = serde_json::from_value(json)
            .map_err(|e| InvalidInput::new("request", e.to_string()))?;
        multipart.style_reference_images = parts(&style, "style");
        multipart.character_reference_images = parts(character.as_slice(), "character");
        multipart.character_reference_images_mask = parts(mask.as_slice(), "character-mask");
        Ok(multipart)
    }
}

/// At most 10 MB in all.
pub(crate) fn total(field: &'static str, images: &[Loaded]) -> Result<(), InvalidInput> {
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

/// A loaded image as a file part named `name` with its type's extension.
pub(crate) fn part(image: &Loaded, name: &str) -> FilePart {
    let ext = image.file_name.rsplit('.').next().unwrap_or("png");
    FilePart::new(
        image.bytes.clone(),
        format!("{name}.{ext}"),
        image.content_type,
    )
}

/// Loaded images as file parts named `role1`, `role2`, ...
pub(crate) fn parts(images: &[Loaded], role: &str) -> Vec<FilePart> {
    images
        .iter()
        .enumerate()
        .map(|(i, image)| part(image, &format!("{role}{}", i + 1)))
        .collect()
}

//! What each model can do on each provider, found by asking the same checks
//! a request goes through: the table `ideogram models` prints and the
//! README shows cannot drift from the code.

use crate::edit::EditRequest;
use crate::image_input::ImageInput;
use crate::model::Model;
use crate::provider::Provider;
use crate::request::GenerateRequest;
use crate::resolution::Resolution;

/// Something a model may be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// Text to image.
    Generate,
    /// An input image and a prompt (remix).
    ImageToImage,
    /// Style reference images.
    StyleReferences,
    /// A character reference image.
    CharacterReference,
    /// A transparent background.
    Transparent,
    /// Repaint under a mask.
    Edit,
    /// Extend to a resolution.
    Reframe,
    /// Replace the background.
    ReplaceBackground,
    /// Enlarge.
    Upscale,
}

impl Capability {
    /// Every capability, in the table's order.
    pub const ALL: [Self; 9] = [
        Self::Generate,
        Self::ImageToImage,
        Self::StyleReferences,
        Self::CharacterReference,
        Self::Transparent,
        Self::Edit,
        Self::Reframe,
        Self::ReplaceBackground,
        Self::Upscale,
    ];

    /// The capability's name, as the table heads it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::ImageToImage => "image to image",
            Self::StyleReferences => "style refs",
            Self::CharacterReference => "character ref",
            Self::Transparent => "transparent",
            Self::Edit => "edit",
            Self::Reframe => "reframe",
            Self::ReplaceBackground => "replace background",
            Self::Upscale => "upscale",
        }
    }

    /// Whether `model` can do this on `provider`: whether a request for it
    /// passes the checks made before sending (no image is read).
    pub fn available(self, model: Model, provider: Provider) -> bool {
        let image = || ImageInput::url("https://example.invalid/in.png");
        let generate = GenerateRequest::new("x").model(model);
        let edit =
            |request: EditRequest| model == EditRequest::MODEL && request.check(provider).is_ok();
        match self {
            Self::Generate => generate.check(provider).is_ok(),
            Self::ImageToImage => generate.image(image()).check(provider).is_ok(),
            Self::StyleReferences => generate.style_reference(image()).check(provider).is_ok(),
            Self::CharacterReference => generate
                .character_reference(image(), None)
                .check(provider)
                .is_ok(),
            Self::Transparent => generate.transparent().check(provider).is_ok(),
            Self::Edit => edit(EditRequest::edit(image(), image(), "x")),
            Self::Reframe => edit(EditRequest::reframe(image(), Resolution::SQUARE_1024)),
            Self::ReplaceBackground => edit(EditRequest::replace_background(image(), "x")),
            Self::Upscale => edit(EditRequest::upscale(image())),
        }
    }
}

/// The providers that let `model` do `capability`, as the table writes them
/// (`-` for none).
fn cell(model: Model, capability: Capability) -> String {
    let providers: Vec<String> = Provider::ALL
        .iter()
        .filter(|p| capability.available(model, **p))
        .map(ToString::to_string)
        .collect();
    if providers.is_empty() {
        "-".to_owned()
    } else {
        providers.join(", ")
    }
}

/// The capability table as Markdown: a row per model, a column per
/// capability, each cell the providers that offer it.
///
/// ```
/// let table = ideogram::capability_table();
/// assert!(table.starts_with("| model | generate |"));
/// ```
pub fn capability_table() -> String {
    let mut out = String::from("| model |");
    for capability in Capability::ALL {
        out.push_str(&format!(" {} |", capability.name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Capability::ALL.len()));
    out.push('\n');
    for model in Model::ALL {
        out.push_str(&format!("| {model} |"));
        for capability in Capability::ALL {
            out.push_str(&format!(" {} |", cell(model, capability)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_what_the_checks_allow() {
        assert!(Capability::Generate.available(Model::V2a, Provider::Segmind));
        assert!(Capability::Generate.available(Model::V3, Provider::Segmind));
        assert!(Capability::Generate.available(Model::V4, Provider::Segmind));
        assert!(!Capability::Generate.available(Model::V1, Provider::Segmind));
        assert!(Capability::ImageToImage.available(Model::V3, Provider::Ideogram));
        assert!(!Capability::ImageToImage.available(Model::V4, Provider::Ideogram));
        assert!(Capability::CharacterReference.available(Model::V3, Provider::Segmind));
        assert!(Capability::Reframe.available(Model::V3, Provider::Segmind));
        assert!(!Capability::Edit.available(Model::V3, Provider::Segmind));
        assert!(!Capability::Transparent.available(Model::V3, Provider::Segmind));
        assert!(Capability::Edit.available(Model::V3, Provider::Ideogram));
        assert!(!Capability::Edit.available(Model::V2, Provider::Ideogram));
        assert!(!Capability::StyleReferences.available(Model::V2, Provider::Ideogram));
        assert!(Capability::Transparent.available(Model::V3, Provider::Ideogram));
        let table = capability_table();
        assert_eq!(table.lines().count(), 2 + Model::ALL.len());
    }
}

//! What each model can do on each provider, read from the specs' routes:
//! the table `ideogram models` prints and the README shows.

use crate::catalog;
use crate::edit::EditRequest;
use crate::model::Model;
use crate::provider::Provider;

/// Declares [`Capability`]: each variant's column name, task, the request value its
/// body must take (`None`: any body of the task), and whether it is an [`EditRequest`].
macro_rules! capabilities {
    ($($(#[$doc:meta])*
        $variant:ident => $name:literal, $task:literal, $value:expr, $edit:literal;)*) => {
        /// Something a model may be asked to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Capability {
            $($(#[$doc])* $variant,)*
        }

        impl Capability {
            /// Every capability, in the table's order.
            pub const ALL: [Self; 11] = [$(Self::$variant),*];

            /// The capability's name, as the table heads it.
            pub fn name(self) -> &'static str {
                self.route().0
            }

            fn route(self) -> (&'static str, &'static str, Option<&'static str>, bool) {
                match self {
                    $(Self::$variant => ($name, $task, $value, $edit),)*
                }
            }
        }
    };
}

capabilities! {
    /// Text to image.
    Generate => "generate", "generate", None, false;
    /// An input image and a prompt (remix).
    ImageToImage => "image to image", "remix", None, false;
    /// Style reference images.
    StyleReferences => "style refs", "generate", Some("style_reference_images"), false;
    /// A character reference image.
    CharacterReference => "character ref", "generate", Some("character_reference_images"), false;
    /// A transparent background.
    Transparent => "transparent", "transparent", None, false;
    /// Repaint under a mask.
    Edit => "edit", "edit", None, true;
    /// Extend to a resolution.
    Reframe => "reframe", "reframe", None, true;
    /// Replace the background.
    ReplaceBackground => "replace background", "replace-background", None, true;
    /// Enlarge.
    Upscale => "upscale", "upscale", None, true;
    /// Make the background transparent.
    RemoveBackground => "remove background", "remove-background", None, true;
    /// Remove what a mask marks.
    RemoveObject => "remove object", "remove-object", None, true;
}

impl Capability {
    /// Whether `model` can do this on `provider`: an operation of the task
    /// runs it, its body taking what is needed (an edit whose operations
    /// name no model: [`EditRequest::MODEL`]'s row).
    pub fn available(self, model: Model, provider: Provider) -> bool {
        let (_, task, value, edit) = self.route();
        let named = |op: &ideogram_raw::operation::Operation| {
            op.route.is_some_and(|r| !r.models.is_empty())
        };
        let modelless = !catalog::routes(provider, task, None).any(named);
        if edit && modelless && model != EditRequest::MODEL {
            return false;
        }
        let model = model.to_string();
        let takes = |op| value.is_none_or(|v| catalog::taking(provider, op, v, &model).is_some());
        catalog::routes(provider, task, Some(&model)).any(takes)
    }
}

// Here, not in provider.rs: the routes are read through the catalog,
// which itself names providers (an import circle otherwise).
impl Provider {
    /// Whether this provider runs `task` (a spec route's task: `generate`,
    /// `reframe`, `describe`, ...) with any model.
    ///
    /// ```
    /// use ideogram::Provider;
    /// assert!(Provider::Segmind.runs("reframe") && !Provider::Segmind.runs("upscale"));
    /// ```
    pub fn runs(self, task: &str) -> bool {
        catalog::routes(self, task, None).next().is_some()
    }
}

/// The capability table as Markdown: a row per model, a column per
/// capability, each cell the providers that offer it (`-` for none).
///
/// ```
/// let table = ideogram::capability_table();
/// assert!(table.starts_with("| model | generate |"));
/// ```
pub fn capability_table() -> String {
    let names = Capability::ALL.map(|c| format!(" {} |", c.name())).concat();
    let rule = "---|".repeat(Capability::ALL.len());
    let mut out = format!("| model |{names}\n|---|{rule}");
    for model in Model::ALL {
        out.push_str(&format!("\n| {model} |"));
        for capability in Capability::ALL {
            let offers = |p: Provider| capability.available(model, p).then(|| p.to_string());
            let cell: Vec<String> = Provider::ALL.into_iter().filter_map(offers).collect();
            let cell = cell.join(", ");
            out.push_str(&format!(" {} |", if cell.is_empty() { "-" } else { &cell }));
        }
    }
    out + "\n"
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
        // v2 remixes with 4.0 on Ideogram's API; nobody remixes with P-Image.
        assert!(Capability::ImageToImage.available(Model::V4, Provider::Ideogram));
        assert!(!Capability::ImageToImage.available(Model::PImage, Provider::Ideogram));
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

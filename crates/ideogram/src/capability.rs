//! What each model can do on each provider, read from the specs' routes:
//! the table `ideogram models` prints and the README shows.

use crate::catalog;
use crate::edit::EditRequest;
use crate::model::Model;
use crate::provider::Provider;

/// Declares [`Capability`]: each variant's column name, task, and the
/// request value its body must take (`None`: any body of the task).
macro_rules! capabilities {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $task:literal, $value:expr;)*) => {
        /// Something a model may be asked to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Capability {
            $($(#[$doc])* $variant,)*
        }

        impl Capability {
            /// Every capability, in the table's order.
            pub const ALL: [Self; 9] = [$(Self::$variant),*];

            /// The capability's name, as the table heads it.
            pub fn name(self) -> &'static str {
                self.route().0
            }

            fn route(self) -> (&'static str, &'static str, Option<&'static str>) {
                match self {
                    $(Self::$variant => ($name, $task, $value),)*
                }
            }
        }
    };
}

capabilities! {
    /// Text to image.
    Generate => "generate", "generate", None;
    /// An input image and a prompt (remix).
    ImageToImage => "image to image", "remix", None;
    /// Style reference images.
    StyleReferences => "style refs", "generate", Some("style_reference_images");
    /// A character reference image.
    CharacterReference => "character ref", "generate", Some("character_reference_images");
    /// A transparent background.
    Transparent => "transparent", "transparent", None;
    /// Repaint under a mask.
    Edit => "edit", "edit", None;
    /// Extend to a resolution.
    Reframe => "reframe", "reframe", None;
    /// Replace the background.
    ReplaceBackground => "replace background", "replace-background", None;
    /// Enlarge.
    Upscale => "upscale", "upscale", None;
}

impl Capability {
    /// Whether `model` can do this on `provider`: an operation of the task
    /// runs it, its body taking what is needed (edits: [`EditRequest::MODEL`]).
    pub fn available(self, model: Model, provider: Provider) -> bool {
        let (_, task, value) = self.route();
        let edit = matches!(
            self,
            Self::Edit | Self::Reframe | Self::ReplaceBackground | Self::Upscale
        );
        if edit && model != EditRequest::MODEL {
            return false;
        }
        let model = model.to_string();
        let takes = |op| value.is_none_or(|v| catalog::taking(provider, op, v, &model).is_some());
        catalog::routes(provider, task, Some(&model)).any(takes)
    }
}

// Here, not in provider.rs: the catalog itself names providers.
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
    let mut out = String::from("| model |");
    for capability in Capability::ALL {
        out.push_str(&format!(" {} |", capability.name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Capability::ALL.len()));
    for model in Model::ALL {
        out.push_str(&format!("\n| {model} |"));
        for capability in Capability::ALL {
            let offers = |p: Provider| capability.available(model, p).then(|| p.to_string());
            let cell: Vec<String> = Provider::ALL.into_iter().filter_map(offers).collect();
            let cell = cell.join(", ");
            out.push_str(&format!(" {} |", if cell.is_empty() { "-" } else { &cell }));
        }
    }
    out.push('\n');
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

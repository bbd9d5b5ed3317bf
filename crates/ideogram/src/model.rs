//! Ideogram's models, and what each takes on each provider.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::LazyLock;

use ideogram_raw::{ideogram::types::ModelEnum, operation::Operation};

use crate::catalog;
use crate::invalid::InvalidInput;
use crate::provider::{Provider, as_u32};

/// The model used when none is chosen: Ideogram 2.0, both APIs' default.
pub const DEFAULT_MODEL: Model = Model::V2;

/// An Ideogram model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Model {
    /// Ideogram 1.0.
    V1,
    /// Ideogram 1.0 Turbo.
    V1Turbo,
    /// Ideogram 2.0: palettes, negative prompts, strong typography.
    V2,
    /// Ideogram 2.0 Turbo.
    V2Turbo,
    /// Ideogram 2a: cheaper and faster; no palette, no negative prompt.
    V2a,
    /// Ideogram 2a Turbo.
    V2aTurbo,
    /// Ideogram 3.0: resolutions as `<w>x<h>`, rendering speeds, style
    /// codes and references, edits.
    V3,
    /// Ideogram 4.0: Ideogram's `/v1/ideogram-v4/generate` and v2's
    /// `ideogram-4`, Segmind's `ideogram-4`.
    V4,
    /// Ideogram 4.5 (v2 only): sizes as `size`, `quality` for speed and price,
    /// source images to edit, and its precise edit.
    V4_5,
    /// P-Image for Ideogram (v2 only): fast, priced by `quality`.
    PImage,
}

impl Model {
    /// Every model.
    pub const ALL: [Self; 10] = [
        Self::V1,
        Self::V1Turbo,
        Self::V2,
        Self::V2Turbo,
        Self::V2a,
        Self::V2aTurbo,
        Self::V3,
        Self::V4,
        Self::V4_5,
        Self::PImage,
    ];

    /// The model as Ideogram's generated `ModelEnum` (whose spelling is
    /// this type's [`Display`](fmt::Display)); `None` for 4.0 and later,
    /// whose operations name them in their paths.
    pub fn to_wire(self) -> Option<ModelEnum> {
        Some(match self {
            Self::V1 => ModelEnum::V1,
            Self::V1Turbo => ModelEnum::V1Turbo,
            Self::V2 => ModelEnum::V2,
            Self::V2Turbo => ModelEnum::V2Turbo,
            Self::V2a => ModelEnum::V2a,
            Self::V2aTurbo => ModelEnum::V2aTurbo,
            Self::V3 => ModelEnum::V3,
            Self::V4 | Self::V4_5 | Self::PImage => return None,
        })
    }

    /// Whether this model on `provider` takes the body field `field`, with
    /// an input image when `img2img`: as the spec's bodies and their
    /// `x-field-models` say.
    ///
    /// ```
    /// use ideogram::{Model, Provider};
    ///
    /// assert!(Model::V2.takes(Provider::Ideogram, false, "color_palette"));
    /// assert!(!Model::V2a.takes(Provider::Segmind, false, "color_palette"));
    /// assert!(!Model::V1.takes(Provider::Ideogram, false, "style_type"));
    /// ```
    pub fn takes(self, provider: Provider, img2img: bool, field: &str) -> bool {
        let mut routes = self.routes(provider, img2img);
        routes.any(|op| catalog::takes(provider, op, field, self.name()))
    }

    /// The seeds this model's body on `provider` takes (Segmind's 4.0 takes
    /// more), else the provider's ([`Provider::seed_range`]).
    pub fn seed_range(self, provider: Provider, img2img: bool) -> RangeInclusive<u32> {
        let mut routes = self.routes(provider, img2img);
        let seeds = routes.find_map(|op| {
            let name = catalog::fields_schema(provider, op)?;
            catalog::schemas(provider).field_range(name, "seed")
        });
        seeds.map_or_else(|| provider.seed_range(), |range| as_u32(&range))
    }

    /// The operations running this model on `provider` (`img2img`: remix).
    fn routes(self, provider: Provider, img2img: bool) -> impl Iterator<Item = &'static Operation> {
        let task = if img2img { "remix" } else { "generate" };
        catalog::routes(provider, task, Some(self.name()))
    }

    /// Its API name, spelled once per process: lowering sends it per request.
    pub(crate) fn name(self) -> &'static str {
        static NAMES: LazyLock<[String; Model::ALL.len()]> =
            LazyLock::new(|| Model::ALL.map(|m| m.to_string()));
        &NAMES[self as usize]
    }
}

/// The model a Segmind slug runs (`ideogram-3-remix` runs `V_3`).
fn model_of_slug(slug: &str) -> Option<Model> {
    let mut operations = catalog::operations(Provider::Segmind).iter();
    let op =
        operations.find(|op| op.route.is_some() && op.path.strip_prefix("/v1/") == Some(slug))?;
    let name = op.route?.models.first()?;
    Model::ALL.into_iter().find(|m| m.name() == *name)
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_wire() {
            Some(wire) => wire.fmt(f),
            // The spec's routes name them so (`x-route.models`).
            None => f.write_str(match self {
                Self::V4_5 => "V_4_5",
                Self::PImage => "P_IMAGE",
                _ => "V_4",
            }),
        }
    }
}

impl FromStr for Model {
    type Err = InvalidInput;

    /// Accepts the API names (`V_2_TURBO`) and short forms (`2-turbo`, `2a`,
    /// `3`), in any case; a Segmind slug names its model too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `V_2A_TURBO`, `v2a-turbo` and `2a turbo` all come to `2ATURBO`.
        let key = |text: &str| -> String {
            let upper = text.trim().to_ascii_uppercase();
            let bare = upper.strip_prefix('V').unwrap_or(&upper);
            bare.chars().filter(char::is_ascii_alphanumeric).collect()
        };
        let named = Self::ALL.into_iter().find(|m| key(m.name()) == key(s));
        model_of_slug(&s.trim().to_ascii_lowercase())
            .or(named)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(ToString::to_string).collect();
                let why = format!("{s:?} is not a model; models: {}", names.join(", "));
                InvalidInput::new("model", why)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_parse_from_their_names_and_slugs() {
        for m in Model::ALL {
            assert_eq!(m.to_string().parse::<Model>().unwrap(), m);
            assert_eq!(m.to_string().to_lowercase().parse::<Model>().unwrap(), m);
        }
        assert_eq!("2a".parse::<Model>().unwrap(), Model::V2a);
        assert_eq!("v2-turbo".parse::<Model>().unwrap(), Model::V2Turbo);
        assert_eq!(
            "ideogram-2a-img-2-img".parse::<Model>().unwrap(),
            Model::V2a
        );
        assert_eq!(
            "ideogram-turbo-txt-2-img".parse::<Model>().unwrap(),
            Model::V2Turbo
        );
        assert_eq!("4".parse::<Model>().unwrap(), Model::V4);
        assert_eq!("4.5".parse::<Model>().unwrap(), Model::V4_5);
        assert_eq!("p-image".parse::<Model>().unwrap(), Model::PImage);
        assert_eq!("ideogram-4".parse::<Model>().unwrap(), Model::V4);
        assert_eq!("ideogram-3-remix".parse::<Model>().unwrap(), Model::V3);
        let err = "V_5".parse::<Model>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: \"V_5\" is not a model; models: V_1, V_1_TURBO, V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3, V_4, V_4_5, P_IMAGE"
        );
    }

    #[test]
    fn every_model_of_the_spec_but_auto_is_a_facade_model() {
        // 4.0 is an operation of its own, not a value of the legacy enum.
        let facade: Vec<String> = Model::ALL
            .iter()
            .filter_map(|m| m.to_wire())
            .map(|m| m.to_string())
            .collect();
        let mut spec = ideogram_raw::enums::values::<ModelEnum>();
        spec.retain(|m| m != "AUTO");
        assert_eq!(facade, spec, "add the spec's new model to `Model`");
    }

    #[test]
    fn every_model_a_route_runs_is_a_facade_model() {
        for provider in Provider::ALL {
            for op in catalog::operations(provider) {
                for model in op.route.iter().flat_map(|r| r.models) {
                    assert!(
                        model.parse::<Model>().is_ok_and(|m| m.name() == *model),
                        "{provider} {}: add {model} to `Model`",
                        op.id
                    );
                }
            }
        }
    }

    #[test]
    fn capabilities_are_the_specs() {
        let palette: Vec<_> = Model::ALL
            .into_iter()
            .filter(|m| m.takes(Provider::Ideogram, false, "color_palette"))
            .collect();
        assert_eq!(palette, [Model::V2, Model::V2Turbo, Model::V3]);
        assert!(!Model::V2a.takes(Provider::Segmind, false, "negative_prompt"));
        assert!(Model::V2Turbo.takes(Provider::Segmind, false, "negative_prompt"));
        assert!(Model::V3.takes(Provider::Ideogram, true, "image_weight"));
        // Ideogram's v2 remixes with 4.0; v1 did not.
        assert!(Model::V4.takes(Provider::Ideogram, true, "prompt"));
        assert!(!Model::V4_5.takes(Provider::Segmind, false, "prompt"));
        assert!(!Model::V4.takes(Provider::Segmind, false, "resolution"));
        assert_eq!(Provider::Segmind.seed_range(), 100..=999_999);
    }
}

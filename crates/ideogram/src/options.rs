//! The smaller request options: the specs' enums, a seed and the image weight.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::invalid::InvalidInput;
use crate::provider::Provider;

/// The style to aim for: Ideogram's legacy `style_type`, the widest of the
/// specs' (a model takes those of the `style_type` enum of its body).
pub use ideogram_raw::ideogram::types::StyleType;

/// Whether Ideogram rewrites the prompt into a richer one first.
pub use ideogram_raw::ideogram::types::MagicPromptOption as MagicPrompt;

/// Ideogram 3.0's speed, quality and price trade-off.
pub use ideogram_raw::ideogram::types::RenderingSpeed;

/// One of Ideogram 3.0's named looks (`ART_DECO`, `POP_ART`, ...).
pub use ideogram_raw::ideogram::types::StylePresetV3 as StylePreset;

/// How much generate-transparent enlarges its images (X2 and X4 cost extra).
pub use ideogram_raw::ideogram::types::UpscaleFactor;

/// An enum of the specs, as the facade takes it: the generated type, its
/// values in the spec's order, and a forgiving parser (any case, `-` for
/// `_`) whose error names the field and every value.
///
/// ```
/// use ideogram::{SpecEnum, StyleType};
///
/// assert_eq!(StyleType::parse_loose("render-3d")?, StyleType::Render3d);
/// assert!(StyleType::values().contains(&StyleType::Fiction));
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
pub trait SpecEnum: Sized + Copy + PartialEq + FromStr + fmt::Display + JsonSchema {
    /// The request field it fills, as errors name it.
    const FIELD: &'static str;

    /// Every value, in the spec's order.
    fn values() -> Vec<Self> {
        let values = ideogram_raw::enums::values::<Self>();
        values.iter().filter_map(|v| v.parse().ok()).collect()
    }

    /// The value `text` names, in any case, `-` or `_`.
    fn parse_loose(text: &str) -> Result<Self, InvalidInput> {
        let key = text.trim().to_ascii_uppercase().replace('-', "_");
        key.parse().map_err(|_| {
            let names: Vec<String> = Self::values().iter().map(ToString::to_string).collect();
            let why = format!("{text:?} is not allowed; use one of {}", names.join(", "));
            InvalidInput::new(Self::FIELD, why)
        })
    }
}

/// Each enum's [`SpecEnum::FIELD`].
macro_rules! spec_enums {
    ($($type:ty: $field:literal),*) => {
        $(impl SpecEnum for $type {
            const FIELD: &'static str = $field;
        })*
    };
}
spec_enums!(
    StyleType: "style",
    MagicPrompt: "magic_prompt",
    RenderingSpeed: "rendering_speed",
    StylePreset: "style_preset",
    UpscaleFactor: "upscale",
    ideogram_raw::ideogram::types::ColorPalettePresetName: "palette"
);

/// A seed: the same request with the same seed gives the same image. Its
/// range depends on the provider, checked by [`Seed::check_for`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Seed(pub u32);

impl Seed {
    /// Checks the seed against `provider`'s shared range (the range most of
    /// its models take).
    pub fn check_for(self, provider: Provider) -> Result<Self, InvalidInput> {
        let range = provider.seed_range();
        if range.contains(&self.0) {
            return Ok(self);
        }
        let (start, end) = (range.start(), range.end());
        let why = format!("{self} is outside {start}..={end} accepted by {provider}");
        Err(InvalidInput::new("seed", why))
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Seed {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(Self).map_err(|_| {
            let ranges = Provider::ALL.map(|p| {
                let range = p.seed_range();
                format!("{p} takes {} to {}", range.start(), range.end())
            });
            let why = format!("{s:?} is not a whole number ({})", ranges.join(", "));
            InvalidInput::new("seed", why)
        })
    }
}

/// How closely image to image follows the input, from loosely to closely
/// ([`ImageWeight::range`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "u32")]
#[schemars(
    description = "How closely image to image follows the input, from loosely to closely.",
    extend("minimum" = *Self::range().start(), "maximum" = *Self::range().end()),
    extend("default" = Self::DEFAULT.get())
)]
pub struct ImageWeight(u8);

impl ImageWeight {
    /// The services' default (the spec's `ImageWeight.default`).
    pub const DEFAULT: Self = Self(ideogram_raw::segmind::limits::IMAGE_WEIGHT_DEFAULT as u8);

    /// The weights the specs accept (`ImageWeight`).
    pub fn range() -> std::ops::RangeInclusive<u32> {
        crate::provider::as_u32(&ideogram_raw::segmind::limits::IMAGE_WEIGHT)
    }

    /// A weight in [`ImageWeight::range`].
    pub fn new(weight: u32) -> Result<Self, InvalidInput> {
        let range = Self::range();
        match u8::try_from(weight) {
            Ok(w) if range.contains(&weight) => Ok(Self(w)),
            _ => {
                let why = format!("{weight} is outside {}..={}", range.start(), range.end());
                Err(InvalidInput::new("image_weight", why))
            }
        }
    }

    /// The weight.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u32> for ImageWeight {
    type Error = InvalidInput;

    fn try_from(weight: u32) -> Result<Self, InvalidInput> {
        Self::new(weight)
    }
}

impl FromStr for ImageWeight {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.trim().parse::<u32>().map_err(|_| {
            let range = Self::range();
            let (start, end) = (range.start(), range.end());
            let why = format!("{s:?} is not a whole number in {start}..={end}");
            InvalidInput::new("image_weight", why)
        })?;
        Self::new(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_loosely_and_list_their_values() {
        assert_eq!(
            StyleType::parse_loose("render-3d").unwrap(),
            StyleType::Render3d
        );
        assert_eq!(MagicPrompt::parse_loose("off").unwrap(), MagicPrompt::Off);
        let err = MagicPrompt::parse_loose("loud").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid magic_prompt: \"loud\" is not allowed; use one of AUTO, ON, OFF"
        );
    }

    #[test]
    fn one_image_weight_serves_every_body_that_takes_one() {
        use ideogram_raw::{ideogram::limits as ideogram, segmind::limits as segmind};
        for range in [
            ideogram::INITIAL_IMAGE_REQUEST_IMAGE_WEIGHT,
            ideogram::REMIX_IMAGE_REQUEST_V3_IMAGE_WEIGHT,
        ] {
            assert_eq!(crate::provider::as_u32(&range), ImageWeight::range());
        }
        assert_eq!(
            i64::from(ImageWeight::DEFAULT.get()),
            ideogram::INITIAL_IMAGE_REQUEST_IMAGE_WEIGHT_DEFAULT
        );
        assert_eq!(
            segmind::IMAGE_WEIGHT_DEFAULT,
            ideogram::INITIAL_IMAGE_REQUEST_IMAGE_WEIGHT_DEFAULT
        );
    }

    #[test]
    fn ranges_name_the_field_and_the_range() {
        assert_eq!(
            Seed(99)
                .check_for(Provider::Segmind)
                .unwrap_err()
                .to_string(),
            "invalid seed: 99 is outside 100..=999999 accepted by segmind"
        );
        assert!(Seed(0).check_for(Provider::Ideogram).is_ok());
        assert!(Seed(2_147_483_648).check_for(Provider::Ideogram).is_err());
        assert_eq!(
            ImageWeight::new(0).unwrap_err().to_string(),
            "invalid image_weight: 0 is outside 1..=100"
        );
        assert!(ImageWeight::new(100).is_ok() && ImageWeight::new(101).is_err());
        let err = "x".parse::<Seed>().unwrap_err().to_string();
        assert!(err.contains("segmind takes 100 to 999999"), "{err}");
    }

    #[test]
    fn the_default_weight_is_both_specs_default() {
        use ideogram_raw::{ideogram, segmind};
        let default = i64::from(ImageWeight::DEFAULT.get());
        assert_eq!(default, segmind::limits::IMAGE_WEIGHT_DEFAULT);
        assert_eq!(
            default,
            ideogram::limits::INITIAL_IMAGE_REQUEST_IMAGE_WEIGHT_DEFAULT
        );
        // And within both specs' range.
        assert!(ImageWeight::new(ImageWeight::DEFAULT.get().into()).is_ok());
        assert!(ideogram::limits::INITIAL_IMAGE_REQUEST_IMAGE_WEIGHT.contains(&default));
    }
}

//! The smaller request options: style, magic prompt, seed, image weight,
//! image count and Ideogram 3.0's rendering speed.

use std::fmt;
use std::str::FromStr;

use crate::invalid::InvalidInput;
use crate::model::{Model, Provider};

/// Declares a closed option enum with its API spelling, parsing (any case,
/// `-` or `_`) and an error listing the allowed values.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal, { $($(#[$vmeta:meta])* $variant:ident => $api:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as the APIs spell it.
            pub fn api_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $api),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.api_name())
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let key = s.trim().to_ascii_uppercase().replace('-', "_");
                Self::ALL.iter().copied().find(|v| v.api_name() == key).ok_or_else(|| {
                    let names: Vec<_> = Self::ALL.iter().map(|v| v.api_name()).collect();
                    InvalidInput::new($field, format!("{s:?} is not allowed; use one of {}", names.join(", ")))
                })
            }
        }
    };
}

api_enum!(
    /// The look to aim for. Which models take which styles is checked by
    /// [`StyleType::check_for`].
    StyleType, "style", {
        /// Let the model choose (Ideogram's API only).
        Auto => "AUTO",
        /// No particular style.
        General => "GENERAL",
        /// Photographic.
        Realistic => "REALISTIC",
        /// Graphic design, logos, posters.
        Design => "DESIGN",
        /// 3D render (2.x models only).
        Render3d => "RENDER_3D",
        /// Anime (2.x models only).
        Anime => "ANIME",
        /// Fiction (Ideogram's API only).
        Fiction => "FICTION",
        /// A custom style (Ideogram's API only).
        Custom => "CUSTOM",
        /// Stylized (Ideogram's API only).
        Stylized => "STYLIZED",
    }
);

impl StyleType {
    /// Checks that `model` on `provider` takes this style.
    pub fn check_for(self, model: Model, provider: Provider) -> Result<Self, InvalidInput> {
        let allowed: &[Self] = match (provider, model) {
            (_, Model::V1 | Model::V1Turbo) => &[],
            (Provider::Segmind, _) => &[
                Self::General,
                Self::Realistic,
                Self::Design,
                Self::Render3d,
                Self::Anime,
            ],
            (Provider::Ideogram, Model::V3) => &[
                Self::Auto,
                Self::General,
                Self::Realistic,
                Self::Design,
                Self::Custom,
                Self::Fiction,
                Self::Stylized,
            ],
            (Provider::Ideogram, _) => Self::ALL,
        };
        if allowed.contains(&self) {
            return Ok(self);
        }
        let names: Vec<_> = allowed.iter().map(|s| s.api_name()).collect();
        let message = if names.is_empty() {
            format!("{model} takes no style")
        } else {
            format!(
                "{model} on {provider} does not take {self}; it takes {}",
                names.join(", ")
            )
        };
        Err(InvalidInput::new("style", message))
    }
}

api_enum!(
    /// Whether Ideogram rewrites the prompt into a richer one first.
    MagicPrompt, "magic_prompt", {
        /// Let Ideogram decide.
        Auto => "AUTO",
        /// Always rewrite.
        On => "ON",
        /// Never rewrite.
        Off => "OFF",
    }
);

api_enum!(
    /// Ideogram 3.0's speed, quality and price trade-off.
    RenderingSpeed, "rendering_speed", {
        /// Fastest, cheapest.
        Flash => "FLASH",
        /// Fast.
        Turbo => "TURBO",
        /// Between turbo and default.
        Balanced => "BALANCED",
        /// The default.
        Default => "DEFAULT",
        /// Slowest, best.
        Quality => "QUALITY",
    }
);

/// A seed: the same request with the same seed gives the same image. Its
/// range depends on the provider, checked by [`Seed::check_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seed(pub u32);

impl Seed {
    /// Checks the seed against `provider`'s range.
    pub fn check_for(self, provider: Provider) -> Result<Self, InvalidInput> {
        let range = provider.seed_range();
        if range.contains(&self.0) {
            Ok(self)
        } else {
            Err(InvalidInput::new(
                "seed",
                format!(
                    "{} is outside {}..={} accepted by {provider}",
                    self.0,
                    range.start(),
                    range.end()
                ),
            ))
        }
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
            InvalidInput::new(
                "seed",
                format!("{s:?} is not a whole number from 0 to 2147483647"),
            )
        })
    }
}

/// How closely image to image follows the input, 1 (loosely) to 100 (closely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageWeight(u8);

impl ImageWeight {
    /// The services' default, 50.
    pub const DEFAULT: Self = Self(50);

    /// The weights the specs accept (`ImageWeight`: 1 to 100).
    pub fn range() -> std::ops::RangeInclusive<u32> {
        crate::model::as_u32(&ideogram_raw::segmind::limits::IMAGE_WEIGHT)
    }

    /// A weight in [`ImageWeight::range`].
    pub fn new(weight: u32) -> Result<Self, InvalidInput> {
        let range = Self::range();
        match u8::try_from(weight) {
            Ok(w) if range.contains(&weight) => Ok(Self(w)),
            _ => Err(InvalidInput::new(
                "image_weight",
                format!("{weight} is outside {}..={}", range.start(), range.end()),
            )),
        }
    }

    /// The weight.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl FromStr for ImageWeight {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.trim().parse::<u32>().map_err(|_| {
            let range = Self::range();
            InvalidInput::new(
                "image_weight",
                format!(
                    "{s:?} is not a whole number in {}..={}",
                    range.start(),
                    range.end()
                ),
            )
        })?;
        Self::new(n)
    }
}

/// How many images one call generates: 1 to 8 on Ideogram's API, always 1 on
/// Segmind. Each image is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NumImages(u8);

impl NumImages {
    /// One image.
    pub const ONE: Self = Self(1);

    /// The counts Ideogram accepts (its `NumImages` schema).
    pub fn range() -> std::ops::RangeInclusive<u32> {
        crate::model::as_u32(&ideogram_raw::ideogram::limits::NUM_IMAGES)
    }

    /// A count, checked against `provider`. Segmind's bodies have no count
    /// (one image a request): asking it for any is refused.
    pub fn new(count: u32, provider: Provider) -> Result<Self, InvalidInput> {
        if provider == Provider::Segmind {
            return Err(InvalidInput::new(
                "num_images",
                "Segmind takes no count: it makes one image a request",
            ));
        }
        let range = Self::range();
        match u8::try_from(count) {
            Ok(n) if range.contains(&count) => Ok(Self(n)),
            _ => Err(InvalidInput::new(
                "num_images",
                format!(
                    "{count} is outside {}..={} accepted by {provider}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// The count.
    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_loosely_and_list_their_values() {
        assert_eq!(
            "render-3d".parse::<StyleType>().unwrap(),
            StyleType::Render3d
        );
        assert_eq!("off".parse::<MagicPrompt>().unwrap(), MagicPrompt::Off);
        let err = "loud".parse::<MagicPrompt>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid magic_prompt: \"loud\" is not allowed; use one of AUTO, ON, OFF"
        );
    }

    #[test]
    fn styles_are_checked_per_model_and_provider() {
        assert!(
            StyleType::Anime
                .check_for(Model::V2a, Provider::Segmind)
                .is_ok()
        );
        let err = StyleType::Auto
            .check_for(Model::V2, Provider::Segmind)
            .unwrap_err();
        assert!(
            err.message.contains("V_2 on segmind does not take AUTO"),
            "{err}"
        );
        assert!(
            StyleType::Anime
                .check_for(Model::V3, Provider::Ideogram)
                .is_err()
        );
        assert_eq!(
            StyleType::General
                .check_for(Model::V1, Provider::Ideogram)
                .unwrap_err()
                .message,
            "V_1 takes no style"
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
        assert!(NumImages::new(1, Provider::Segmind).is_err());
        assert_eq!(NumImages::new(8, Provider::Ideogram).unwrap().get(), 8);
    }
}

//! Ideogram's models and providers, and what each accepts.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::invalid::InvalidInput;
use crate::resolution::SizeFamily;

/// Who runs the generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Segmind's hosted API (`x-api-key`, v1 sync and v2 queue).
    Segmind,
    /// Ideogram's own API, or a gateway that re-serves it.
    Ideogram,
}

impl Provider {
    /// The seeds this provider accepts.
    /// Read from each spec's `Seed` schema.
    pub fn seed_range(self) -> RangeInclusive<u32> {
        let range = match self {
            Self::Segmind => ideogram_raw::segmind::limits::SEED,
            Self::Ideogram => ideogram_raw::ideogram::limits::SEED,
        };
        as_u32(&range)
    }

    /// The environment variable a key is read from.
    pub fn key_variable(self) -> &'static str {
        match self {
            Self::Segmind => "SEGMIND_API_KEY",
            Self::Ideogram => "IDEOGRAM_API_KEY",
        }
    }
}

/// A spec's integer range as `u32`s (the specs' seeds and weights fit).
pub(crate) fn as_u32(range: &RangeInclusive<i64>) -> RangeInclusive<u32> {
    let fit = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    fit(*range.start())..=fit(*range.end())
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Segmind => "segmind",
            Self::Ideogram => "ideogram",
        })
    }
}

impl FromStr for Provider {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "segmind" => Ok(Self::Segmind),
            "ideogram" => Ok(Self::Ideogram),
            _ => Err(InvalidInput::new(
                "provider",
                format!("{s:?} is not a provider; use segmind or ideogram"),
            )),
        }
    }
}

/// An Ideogram model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Ideogram 3.0 (Ideogram's API only).
    V3,
}

impl Model {
    /// Every model.
    pub const ALL: [Self; 7] = [
        Self::V1,
        Self::V1Turbo,
        Self::V2,
        Self::V2Turbo,
        Self::V2a,
        Self::V2aTurbo,
        Self::V3,
    ];

    /// The name Ideogram's API uses: `V_2_TURBO`.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::V1 => "V_1",
            Self::V1Turbo => "V_1_TURBO",
            Self::V2 => "V_2",
            Self::V2Turbo => "V_2_TURBO",
            Self::V2a => "V_2A",
            Self::V2aTurbo => "V_2A_TURBO",
            Self::V3 => "V_3",
        }
    }

    /// Whether the model takes a colour palette.
    pub fn takes_palette(self) -> bool {
        matches!(self, Self::V2 | Self::V2Turbo | Self::V3)
    }

    /// Whether the model takes a negative prompt.
    pub fn takes_negative_prompt(self) -> bool {
        matches!(
            self,
            Self::V1 | Self::V1Turbo | Self::V2 | Self::V2Turbo | Self::V3
        )
    }

    /// Whether the model takes a style type.
    pub fn takes_style(self) -> bool {
        !matches!(self, Self::V1 | Self::V1Turbo)
    }

    /// The sizes the model renders.
    pub fn size_family(self) -> SizeFamily {
        if self == Self::V3 {
            SizeFamily::V3
        } else {
            SizeFamily::Legacy
        }
    }

    /// Segmind's slugs for this model (text to image, image to image), if
    /// Segmind serves it.
    pub fn segmind_slugs(self) -> Option<(&'static str, &'static str)> {
        Some((
            crate::wire::segmind_slug(self, false)?,
            crate::wire::segmind_slug(self, true)?,
        ))
    }

    /// Checks that `provider` serves this model.
    pub fn check_provider(self, provider: Provider) -> Result<(), InvalidInput> {
        if provider == Provider::Segmind && self.segmind_slugs().is_none() {
            return Err(InvalidInput::new(
                "model",
                format!("Segmind does not serve {self}; it serves V_2, V_2_TURBO and V_2A"),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

impl FromStr for Model {
    type Err = InvalidInput;

    /// Accepts the API names (`V_2_TURBO`) and short forms (`2-turbo`, `2a`,
    /// `3`), in any case; a Segmind slug names its model too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .to_ascii_uppercase()
            .trim_start_matches("V")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let by_slug = crate::wire::model_of_slug(&s.trim().to_ascii_lowercase());
        let found = by_slug.or(match key.as_str() {
            "1" => Some(Self::V1),
            "1TURBO" => Some(Self::V1Turbo),
            "2" => Some(Self::V2),
            "2TURBO" => Some(Self::V2Turbo),
            "2A" => Some(Self::V2a),
            "2ATURBO" => Some(Self::V2aTurbo),
            "3" => Some(Self::V3),
            _ => None,
        });
        found.ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|m| m.api_name()).collect();
            InvalidInput::new(
                "model",
                format!("{s:?} is not a model; models: {}", names.join(", ")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_parse_from_their_names_and_slugs() {
        for m in Model::ALL {
            assert_eq!(m.api_name().parse::<Model>().unwrap(), m);
            assert_eq!(m.api_name().to_lowercase().parse::<Model>().unwrap(), m);
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
        let err = "V_4".parse::<Model>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: \"V_4\" is not a model; models: V_1, V_1_TURBO, V_2, V_2_TURBO, V_2A, V_2A_TURBO, V_3"
        );
    }

    #[test]
    fn capabilities_follow_the_documentation() {
        let palette: Vec<_> = Model::ALL
            .into_iter()
            .filter(|m| m.takes_palette())
            .collect();
        assert_eq!(palette, [Model::V2, Model::V2Turbo, Model::V3]);
        assert!(!Model::V2a.takes_negative_prompt() && Model::V2Turbo.takes_negative_prompt());
        assert!(Model::V3.check_provider(Provider::Segmind).is_err());
        assert!(Model::V2a.check_provider(Provider::Segmind).is_ok());
        assert_eq!(Provider::Segmind.seed_range(), 100..=999_999);
    }
}

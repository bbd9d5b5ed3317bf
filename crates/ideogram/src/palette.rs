//! Colour palettes: one of Ideogram's presets, or 1 to [`PaletteColors::MAX`]
//! colours with optional weights, as the spec's `ColorPalette` says.

use std::fmt;
use std::str::FromStr;

use ideogram_raw::ideogram::types as spec;
use serde::{Deserialize, Serialize};

use crate::invalid::InvalidInput;
use crate::options::SpecEnum;

/// Ideogram's preset palettes: the spec's generated `ColorPalettePresetName`.
pub use ideogram_raw::ideogram::types::ColorPalettePresetName as PalettePreset;

/// Four colours close to a preset's, as RGB (Ideogram does not publish them).
pub use ideogram_raw::presets::colors as preset_colors;

/// A palette refused for `why`.
fn invalid(why: String) -> InvalidInput {
    InvalidInput::new("palette", why)
}

/// One colour of a custom palette, checked when made or deserialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedColor")]
pub struct PaletteColor {
    hex: String,
    weight: Option<f64>,
}

/// A colour as read, before it is checked.
#[derive(Deserialize)]
struct UncheckedColor {
    hex: String,
    weight: Option<f64>,
}

impl TryFrom<UncheckedColor> for PaletteColor {
    type Error = InvalidInput;

    fn try_from(color: UncheckedColor) -> Result<Self, Self::Error> {
        Self::new(&color.hex, color.weight)
    }
}

impl PaletteColor {
    /// The colour weights the specs accept (`ColorPaletteMember.color_weight`).
    pub const WEIGHTS: std::ops::RangeInclusive<f64> =
        ideogram_raw::ideogram::limits::COLOR_PALETTE_MEMBER_COLOR_WEIGHT;

    /// `hex` (`#rgb` or `#rrggbb`) with an optional weight in 0.05..=1.0.
    pub fn new(hex: &str, weight: Option<f64>) -> Result<Self, InvalidInput> {
        let hex = hex.trim();
        // The spec's own pattern, held by its generated `ColorHex`.
        if hex.parse::<spec::ColorHex>().is_err() {
            let why = format!("{hex:?} is not a colour: write #rgb or #rrggbb, such as #ff5500");
            return Err(invalid(why));
        }
        if let Some(w) = weight.filter(|w| !Self::WEIGHTS.contains(w)) {
            let (start, end) = (Self::WEIGHTS.start(), Self::WEIGHTS.end());
            let why = format!("weight {w} of {hex} is outside {start:?}..={end:?}");
            return Err(invalid(why));
        }
        let hex = hex.to_ascii_lowercase();
        Ok(Self { hex, weight })
    }

    /// The colour as given, lower-cased: `#ff5500` or `#f50`.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The weight, if one was given.
    pub fn weight(&self) -> Option<f64> {
        self.weight
    }

    /// The colour as 8-bit red, green and blue.
    pub fn rgb(&self) -> [u8; 3] {
        let digits: String = match &self.hex[1..] {
            short if short.len() == 3 => short.chars().flat_map(|c| [c, c]).collect(),
            long => long.to_owned(),
        };
        std::array::from_fn(|i| {
            u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("validated hex")
        })
    }
}

/// 1 to [`PaletteColors::MAX`] colours, checked when made or deserialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<PaletteColor>")]
pub struct PaletteColors(Vec<PaletteColor>);

impl PaletteColors {
    /// Most colours a palette holds (the specs' `ColorPaletteMembers.members`).
    pub const MAX: usize = *ideogram_raw::ideogram::limits::COLOR_PALETTE_MEMBERS_MEMBERS.end();

    /// 1 to [`PaletteColors::MAX`] colours.
    pub fn new(colors: Vec<PaletteColor>) -> Result<Self, InvalidInput> {
        let (max, n) = (Self::MAX, colors.len());
        if n == 0 || n > max {
            let why = format!("a custom palette holds 1 to {max} colours, not {n}");
            return Err(invalid(why));
        }
        Ok(Self(colors))
    }
}

impl std::ops::Deref for PaletteColors {
    type Target = [PaletteColor];

    fn deref(&self) -> &[PaletteColor] {
        &self.0
    }
}

impl TryFrom<Vec<PaletteColor>> for PaletteColors {
    type Error = InvalidInput;

    fn try_from(colors: Vec<PaletteColor>) -> Result<Self, Self::Error> {
        Self::new(colors)
    }
}

/// A colour palette: parses `ember` (a preset, any case) or
/// `#ff5500:0.6,#00aaff` (colours, optional weights); (de)serialises as the
/// APIs' JSON (`{"name": "EMBER"}` or `{"members": [...]}`), checked.
///
/// ```
/// use ideogram::Palette;
///
/// let warm: Palette = "ember".parse()?;
/// let custom: Palette = "#ff5500:0.6, #0af".parse()?;
/// assert_eq!(custom.to_string(), "#ff5500:0.6,#0af");
/// assert!("#ff5500:2".parse::<Palette>().is_err());
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, schemars::JsonSchema)]
#[schemars(with = "spec::ColorPalette")]
pub enum Palette {
    /// One of the presets.
    Preset(PalettePreset),
    /// 1 to [`PaletteColors::MAX`] colours.
    Custom(PaletteColors),
}

impl Serialize for Palette {
    /// As the APIs take it: `{"name": "EMBER"}` or `{"members": [...]}`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_ideogram().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Palette {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Member {
            color_hex: String,
            color_weight: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged, deny_unknown_fields)]
        enum Wire {
            Preset { name: String },
            Members { members: Vec<Member> },
            // The command line's form: `ember`, `#ff5500:0.6,#0af`.
            Text(String),
        }
        use serde::de::Error as _;
        let palette = match Wire::deserialize(deserializer)? {
            Wire::Text(text) => text.parse(),
            Wire::Preset { name } => {
                return name
                    .parse()
                    .map(Self::Preset)
                    .map_err(|_| D::Error::custom(format!("{name:?} is not a preset")));
            }
            Wire::Members { members } => members
                .into_iter()
                .map(|m| PaletteColor::new(&m.color_hex, m.color_weight))
                .collect::<Result<_, _>>()
                .and_then(Self::custom),
        };
        palette.map_err(D::Error::custom)
    }
}

impl Palette {
    /// A custom palette, checked for 1 to [`PaletteColors::MAX`] colours.
    pub fn custom(colors: Vec<PaletteColor>) -> Result<Self, InvalidInput> {
        PaletteColors::new(colors).map(Self::Custom)
    }

    /// The palette as the spec's generated `ColorPalette` (Segmind's alike).
    pub fn to_ideogram(&self) -> spec::ColorPalette {
        let colors = match self {
            Palette::Preset(name) => {
                return spec::ColorPalette::Preset(spec::ColorPalettePreset { name: *name });
            }
            Palette::Custom(colors) => colors,
        };
        let member = |c: &PaletteColor| spec::ColorPaletteMember {
            color_hex: c.hex.parse().expect("checked against the spec's pattern"),
            color_weight: c.weight,
        };
        let members = colors.iter().map(member).collect();
        spec::ColorPalette::Members(spec::ColorPaletteMembers { members })
    }
}

impl From<PalettePreset> for Palette {
    fn from(preset: PalettePreset) -> Self {
        Self::Preset(preset)
    }
}

impl fmt::Display for Palette {
    /// The form [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Preset(p) => f.write_str(&p.to_string().to_ascii_lowercase()),
            Self::Custom(colors) => {
                let colors = colors.iter().map(|c| match c.weight {
                    Some(w) => format!("{}:{w}", c.hex),
                    None => c.hex.clone(),
                });
                f.write_str(&colors.collect::<Vec<_>>().join(","))
            }
        }
    }
}

impl FromStr for Palette {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if !text.starts_with('#') {
            return PalettePreset::parse_loose(text).map(Self::Preset).map_err(|_| {
                let name = |preset| Self::Preset(preset).to_string();
                let names: Vec<String> = PalettePreset::values().into_iter().map(name).collect();
                let names = names.join(", ");
                invalid(format!(
                    "{text:?} is neither a preset ({names}) nor colours such as #ff5500:0.6,#00aaff"
                ))
            });
        }
        let color = |item: &str| match item.split_once(':') {
            None => PaletteColor::new(item, None),
            Some((hex, weight)) => match weight.trim().parse() {
                Ok(weight) => PaletteColor::new(hex, Some(weight)),
                Err(_) => Err(invalid(format!(
                    "weight {weight:?} of {hex} is not a number"
                ))),
            },
        };
        Self::custom(text.split(',').map(color).collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_in_any_case_and_reach_the_wire() {
        for preset in PalettePreset::values() {
            let palette: Palette = preset.to_string().to_lowercase().parse().unwrap();
            assert_eq!(palette, Palette::Preset(preset));
            let wire = serde_json::json!({"name": preset.to_string()});
            assert_eq!(serde_json::to_value(&palette).unwrap(), wire);
            assert_eq!(serde_json::to_value(palette.to_ideogram()).unwrap(), wire);
            let segmind: ideogram_raw::segmind::types::ColorPalette =
                serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(serde_json::to_value(segmind).unwrap(), wire);
        }
    }

    #[test]
    fn custom_palettes_round_trip_through_text_and_wire() {
        let palette: Palette = "#FF5500:0.6, #0af:0.4,#123".parse().unwrap();
        assert_eq!(palette.to_string(), "#ff5500:0.6,#0af:0.4,#123");
        assert_eq!(palette.to_string().parse::<Palette>().unwrap(), palette);
        assert_eq!(
            serde_json::to_value(&palette).unwrap(),
            serde_json::json!({"members": [
                {"color_hex": "#ff5500", "color_weight": 0.6},
                {"color_hex": "#0af", "color_weight": 0.4},
                {"color_hex": "#123"}
            ]})
        );
        let Palette::Custom(colors) = &palette else {
            unreachable!()
        };
        assert_eq!(colors[1].rgb(), [0x00, 0xaa, 0xff]);
        let json = serde_json::to_value(&palette).unwrap();
        assert_eq!(serde_json::from_value::<Palette>(json).unwrap(), palette);
    }

    #[test]
    fn deserialising_checks_like_the_constructors() {
        let bad = [
            serde_json::json!({"hex": "#zzzzzz", "weight": null}),
            serde_json::json!({"hex": "#fff", "weight": 7.0}),
        ];
        for color in bad {
            assert!(
                serde_json::from_value::<PaletteColor>(color.clone()).is_err(),
                "{color}"
            );
        }
        let good: PaletteColor =
            serde_json::from_value(serde_json::json!({"hex": "#FFF", "weight": 0.5})).unwrap();
        assert_eq!(good.rgb(), [255, 255, 255]);
        for palette in [
            serde_json::json!({"members": []}),
            serde_json::json!({"members": [{"color_hex": "#12"}]}),
            serde_json::json!({"members": [{"color_hex": "#123", "color_weight": 0.0}]}),
            serde_json::json!({"name": "NEON"}),
            serde_json::json!({"name": "EMBER", "members": [{"color_hex": "#123"}]}),
            serde_json::json!({"members": (0..9).map(|_| serde_json::json!({"color_hex": "#123"})).collect::<Vec<_>>()}),
        ] {
            assert!(
                serde_json::from_value::<Palette>(palette.clone()).is_err(),
                "{palette}"
            );
            assert!(
                serde_json::from_value::<PaletteColors>(palette["members"].clone()).is_err()
                    || palette["members"].is_null()
            );
        }
        assert_eq!(
            serde_json::from_value::<Palette>(serde_json::json!({"name": "EMBER"})).unwrap(),
            Palette::Preset(PalettePreset::Ember)
        );
    }

    #[test]
    fn bad_palettes_say_what_is_allowed() {
        let cases = [
            ("emberr", "neither a preset (ember, fresh"),
            ("#ff550", "is not a colour"),
            ("#gggggg", "is not a colour"),
            ("#ff5500:0.01", "outside 0.05..=1.0"),
            ("#ff5500:1.5", "outside 0.05..=1.0"),
            ("#ff5500:x", "is not a number"),
            (
                "#111,#222,#333,#444,#555,#666,#777,#888,#999",
                "1 to 8 colours, not 9",
            ),
        ];
        for (text, expected) in cases {
            let err = text.parse::<Palette>().unwrap_err();
            assert_eq!(err.field, "palette");
            assert!(err.message.contains(expected), "{text}: {err}");
        }
        assert!("#ff5500:0.05,#00ff00:1".parse::<Palette>().is_ok());
    }
}

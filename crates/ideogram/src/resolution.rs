//! Output sizes as the specs' `Resolution`, `ResolutionV3` and
//! `ResolutionV4` enums list them, with their shapes and nearest sizes.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use ideogram_raw::ideogram::types as wire;

use crate::aspect::{AspectRatio, pairs, parse_pair};
use crate::invalid::InvalidInput;

/// Each family's sizes, in [`SizeFamily::ALL`]'s order.
static SIZES: LazyLock<[Vec<Resolution>; 3]> = LazyLock::new(|| {
    let size = |(w, h): (u32, u32)| Resolution {
        width: w as u16,
        height: h as u16,
    };
    [
        pairs::<wire::Resolution>().map(size).collect(),
        pairs::<wire::ResolutionV3>().map(size).collect(),
        pairs::<wire::ResolutionV4>().map(size).collect(),
    ]
});

/// Which list of sizes a model draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizeFamily {
    /// Ideogram 1.x and 2.x, and every Segmind Ideogram slug: 78 sizes.
    Legacy,
    /// Ideogram 3.0: 69 sizes.
    V3,
    /// Ideogram 4.0 on Ideogram's API (`ResolutionV4`).
    V4,
}

impl SizeFamily {
    /// Every family.
    pub const ALL: [Self; 3] = [Self::Legacy, Self::V3, Self::V4];
}

/// A legal output size: one of the 2.x models' 78 sizes or Ideogram 3.0's 69
/// (most sizes are in both).
///
/// ```
/// use ideogram::{Resolution, SizeFamily};
///
/// let r: Resolution = "1280x768".parse()?;
/// assert_eq!(r, "RESOLUTION_1280_768".parse()?);
/// assert_eq!(r.aspect_ratio().to_string(), "5:3");
/// assert_eq!(Resolution::nearest(1920, 1080, SizeFamily::Legacy).to_string(), "1280x720");
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resolution {
    width: u16,
    height: u16,
}

impl Resolution {
    /// 1024x1024, every model's default.
    pub const SQUARE_1024: Self = Self {
        width: 1024,
        height: 1024,
    };

    /// `width` x `height`, if some model renders that size.
    pub fn new(width: u16, height: u16) -> Result<Self, InvalidInput> {
        let size = Self { width, height };
        if SIZES.iter().flatten().any(|&known| known == size) {
            return Ok(size);
        }
        let all = Self::every().len();
        let near = Self::nearest(u32::from(width), u32::from(height), SizeFamily::Legacy);
        let why =
            format!("{size} is not one of the {all} sizes Ideogram renders; the nearest is {near}");
        Err(InvalidInput::new("resolution", why))
    }

    /// Width in pixels.
    pub fn width(self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(self) -> u16 {
        self.height
    }

    /// Whether `family` renders this size (a request is checked against its
    /// model's own enum when lowered).
    pub fn is_in(self, family: SizeFamily) -> bool {
        SIZES[family as usize].contains(&self)
    }

    /// The reduced aspect ratio (1280x768 is 5:3).
    pub fn aspect_ratio(self) -> AspectRatio {
        AspectRatio::reduced(u32::from(self.width), u32::from(self.height))
    }

    /// Every size of `family`, in the specs' order.
    pub fn all_in(family: SizeFamily) -> impl Iterator<Item = Self> {
        SIZES[family as usize].iter().copied()
    }

    /// Every size some model renders, each once, in order.
    pub(crate) fn every() -> BTreeSet<Self> {
        SIZES.iter().flatten().copied().collect()
    }

    /// The legal size of `family` closest to `width` x `height`: the closest
    /// shape first, then the closest pixel count.
    pub fn nearest(width: u32, height: u32, family: SizeFamily) -> Self {
        let sizes = SIZES[family as usize]
            .iter()
            .map(|r| (r.width.into(), r.height.into()));
        let (w, h) = nearest_in(width, height, sizes).expect("every family has sizes");
        Self {
            width: w as u16,
            height: h as u16,
        }
    }

    /// The spelling of the 2.x enums: `RESOLUTION_1024_1024`.
    pub fn legacy_name(self) -> String {
        format!("RESOLUTION_{}_{}", self.width, self.height)
    }
}

impl fmt::Display for Resolution {
    /// `1024x1024`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for Resolution {
    type Err = InvalidInput;

    /// Accepts `1024x1024` (also with `X` or `*`) and `RESOLUTION_1024_1024`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let side = |n: u32| u16::try_from(n).ok().filter(|&n| n > 0);
        let sides = parse_pair(text, "RESOLUTION_", &['X', '*']);
        let Some((width, height)) = sides.and_then(|(w, h)| Some((side(w)?, side(h)?))) else {
            let why = "is not a size: write it as 1024x1024 or RESOLUTION_1024_1024";
            return Err(InvalidInput::new("resolution", format!("{text:?} {why}")));
        };
        Self::new(width, height)
    }
}

/// Of `sizes`, the one closest to `width` x `height`: the closest shape
/// (a 1% shape error outweighs any size difference), then pixel count.
pub(crate) fn nearest_in(
    width: u32,
    height: u32,
    sizes: impl IntoIterator<Item = (u32, u32)>,
) -> Option<(u32, u32)> {
    let (width, height) = (width.max(1), height.max(1));
    let want_shape = (f64::from(width) / f64::from(height)).ln();
    let want_area = (f64::from(width) * f64::from(height)).ln();
    let score = |&(w, h): &(u32, u32)| {
        let shape = (f64::from(w) / f64::from(h.max(1))).ln() - want_shape;
        let area = (f64::from(w) * f64::from(h)).ln() - want_area;
        shape.abs() * 100.0 + area.abs()
    };
    sizes
        .into_iter()
        .min_by(|a, b| score(a).total_cmp(&score(b)))
}

/// A size of about a megapixel in the shape of `ratio`.
pub(crate) fn megapixel(ratio: AspectRatio) -> (u32, u32) {
    let (w, h) = ratio.parts();
    let scale = (1024.0 * 1024.0 / (f64::from(w) * f64::from(h))).sqrt();
    let side = |n: u32| (f64::from(n) * scale).round() as u32;
    (side(w), side(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_parses_from_every_spelling() {
        for family in [SizeFamily::Legacy, SizeFamily::V3] {
            for r in Resolution::all_in(family) {
                assert_eq!(r.to_string().parse::<Resolution>().unwrap(), r);
                assert_eq!(r.legacy_name().parse::<Resolution>().unwrap(), r);
                assert_eq!(
                    r.legacy_name()
                        .to_lowercase()
                        .parse::<Resolution>()
                        .unwrap(),
                    r
                );
                assert_eq!(
                    format!(" {}X{} ", r.width, r.height)
                        .parse::<Resolution>()
                        .unwrap(),
                    r
                );
            }
        }
    }

    #[test]
    fn every_size_is_named_by_the_specs_enums() {
        for r in Resolution::all_in(SizeFamily::Legacy) {
            let name = r.legacy_name();
            let segmind: ideogram_raw::segmind::types::Resolution = name.parse().unwrap();
            assert_eq!(segmind.to_string(), name);
            assert_eq!(name.parse::<wire::Resolution>().unwrap().to_string(), name);
        }
        for r in Resolution::all_in(SizeFamily::V3) {
            let v3: wire::ResolutionV3 = r.to_string().parse().unwrap();
            assert_eq!(v3.to_string(), r.to_string());
        }
    }

    #[test]
    fn the_families_differ_as_documented() {
        let only_legacy = Resolution::all_in(SizeFamily::Legacy)
            .filter(|r| !r.is_in(SizeFamily::V3))
            .count();
        assert_eq!(only_legacy, 10);
        let v3_only: Vec<_> = Resolution::all_in(SizeFamily::V3)
            .filter(|r| !r.is_in(SizeFamily::Legacy))
            .collect();
        assert_eq!(
            v3_only,
            [Resolution {
                width: 800,
                height: 1280
            }]
        );
    }

    #[test]
    fn illegal_sizes_name_the_field_and_a_legal_neighbour() {
        let err = "1000x1000".parse::<Resolution>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid resolution: 1000x1000 is not one of the 105 sizes Ideogram renders; the nearest is 1024x1024"
        );
        for bad in [
            "",
            "big",
            "1024",
            "0x1024",
            "x",
            "RESOLUTION_1024",
            "99999x1",
        ] {
            assert_eq!(
                bad.parse::<Resolution>().unwrap_err().field,
                "resolution",
                "{bad}"
            );
        }
    }

    #[test]
    fn nearest_prefers_shape_then_size() {
        assert_eq!(
            Resolution::nearest(1024, 1024, SizeFamily::Legacy),
            Resolution::SQUARE_1024
        );
        assert_eq!(
            Resolution::nearest(4096, 4096, SizeFamily::V3),
            Resolution::SQUARE_1024
        );
        assert_eq!(
            Resolution::nearest(1920, 1080, SizeFamily::Legacy).to_string(),
            "1280x720"
        );
        assert_eq!(
            Resolution::nearest(1080, 1920, SizeFamily::V3).to_string(),
            "736x1312"
        );
        assert_eq!(
            Resolution::nearest(0, 0, SizeFamily::Legacy),
            Resolution::SQUARE_1024
        );
        for r in Resolution::all_in(SizeFamily::Legacy) {
            let (w, h) = (u32::from(r.width()), u32::from(r.height()));
            assert_eq!(Resolution::nearest(w, h, SizeFamily::Legacy), r);
        }
    }

    #[test]
    fn a_megapixel_of_a_shape_lands_on_the_shape() {
        let sizes = |family| -> Vec<(u32, u32)> {
            Resolution::all_in(family)
                .map(|r| (u32::from(r.width()), u32::from(r.height())))
                .collect()
        };
        let (w, h) = megapixel("16:9".parse().unwrap());
        assert_eq!(
            nearest_in(w, h, sizes(SizeFamily::Legacy)),
            Some((1280, 720))
        );
        let (w, h) = megapixel("1:1".parse().unwrap());
        assert_eq!(nearest_in(w, h, sizes(SizeFamily::V3)), Some((1024, 1024)));
    }

    #[test]
    fn aspect_ratios_are_reduced() {
        assert_eq!(Resolution::SQUARE_1024.aspect_ratio().to_string(), "1:1");
        assert_eq!(
            "1280x720"
                .parse::<Resolution>()
                .unwrap()
                .aspect_ratio()
                .to_string(),
            "16:9"
        );
    }
}

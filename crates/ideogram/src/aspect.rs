//! Aspect ratios: Ideogram's `ASPECT_16_9` and `16x9` values, and the shape of
//! any resolution.

use std::fmt;
use std::str::FromStr;

use std::sync::LazyLock;

use ideogram_raw::enums;
use ideogram_raw::ideogram::types as wire;

use crate::invalid::InvalidInput;

/// A width:height shape such as 16:9.
///
/// Ideogram's legacy models take 11 ratios and Ideogram 3.0 takes 15; the
/// conversions say which. Written as `16:9`, `16x9` or `ASPECT_16_9`.
///
/// ```
/// let wide: ideogram::AspectRatio = "16:9".parse()?;
/// assert_eq!(wide, "ASPECT_16_9".parse()?);
/// assert!(wide.to_ideogram().is_ok());
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AspectRatio {
    width: u32,
    height: u32,
}

/// The legacy models' ratios (`ASPECT_<w>_<h>` in the spec).
static LEGACY: LazyLock<Vec<(u32, u32)>> = LazyLock::new(|| {
    enums::values::<wire::AspectRatio>()
        .iter()
        .filter_map(|v| enums::pair(v))
        .collect()
});

/// Ideogram 3.0's ratios (`<w>x<h>` in the spec).
static V3: LazyLock<Vec<(u32, u32)>> = LazyLock::new(|| {
    enums::values::<wire::AspectRatioV3>()
        .iter()
        .filter_map(|v| enums::pair(v))
        .collect()
});

impl AspectRatio {
    /// `width`:`height` as given (10:16 stays 10:16, as Ideogram spells it).
    pub fn new(width: u32, height: u32) -> Result<Self, InvalidInput> {
        if width == 0 || height == 0 {
            return Err(InvalidInput::new(
                "aspect_ratio",
                "both sides must be positive, as in 16:9",
            ));
        }
        Ok(Self { width, height })
    }

    /// The shape of `width` x `height`, reduced (1280x768 is 5:3).
    pub fn reduced(width: u32, height: u32) -> Self {
        let divisor = gcd(width.max(1), height.max(1));
        Self {
            width: width.max(1) / divisor,
            height: height.max(1) / divisor,
        }
    }

    /// `(width, height)`.
    pub fn parts(self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The ratios the legacy models take.
    pub fn legacy() -> impl Iterator<Item = Self> {
        LEGACY.iter().map(|&(width, height)| Self { width, height })
    }

    /// The ratios Ideogram 3.0 takes.
    pub fn v3() -> impl Iterator<Item = Self> {
        V3.iter().map(|&(width, height)| Self { width, height })
    }

    /// Ideogram's legacy enum value (`ASPECT_16_9`), if the legacy models take it.
    pub fn to_ideogram(self) -> Result<wire::AspectRatio, InvalidInput> {
        format!("ASPECT_{}_{}", self.width, self.height)
            .parse()
            .map_err(|_| {
                InvalidInput::new(
                    "aspect_ratio",
                    format!(
                        "{self} is not taken by the legacy models; they take {}",
                        list(Self::legacy())
                    ),
                )
            })
    }

    /// Ideogram 3.0's enum value (`16x9`), if Ideogram 3.0 takes it.
    pub fn to_ideogram_v3(self) -> Result<wire::AspectRatioV3, InvalidInput> {
        format!("{}x{}", self.width, self.height)
            .parse()
            .map_err(|_| {
                InvalidInput::new(
                    "aspect_ratio",
                    format!(
                        "{self} is not taken by Ideogram 3.0; it takes {}",
                        list(Self::v3())
                    ),
                )
            })
    }
}

fn list(ratios: impl Iterator<Item = AspectRatio>) -> String {
    ratios.map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl fmt::Display for AspectRatio {
    /// `16:9`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.width, self.height)
    }
}

impl FromStr for AspectRatio {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let parts = match upper.strip_prefix("ASPECT_") {
            Some(rest) => rest.split_once('_'),
            None => upper.split_once([':', 'X', '/']),
        };
        let parsed =
            parts.and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
        match parsed {
            Some((width, height)) => Self::new(width, height),
            None => Err(InvalidInput::new(
                "aspect_ratio",
                format!("{s:?} is not a ratio: write it as 16:9, 16x9 or ASPECT_16_9"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_ratio_converts_to_its_enum() {
        for r in AspectRatio::legacy() {
            assert_eq!(
                r.to_ideogram().unwrap().to_string(),
                format!("ASPECT_{}_{}", r.width, r.height)
            );
            assert_eq!(r.to_string().parse::<AspectRatio>().unwrap(), r);
        }
        for r in AspectRatio::v3() {
            assert_eq!(
                r.to_ideogram_v3().unwrap().to_string(),
                format!("{}x{}", r.width, r.height)
            );
        }
    }

    #[test]
    fn unsupported_ratios_list_the_allowed_ones() {
        let err = "4:5"
            .parse::<AspectRatio>()
            .unwrap()
            .to_ideogram()
            .unwrap_err();
        assert_eq!(err.field, "aspect_ratio");
        assert!(err.message.contains("10:16, 16:10, 9:16"), "{err}");
        assert!(
            "5:4"
                .parse::<AspectRatio>()
                .unwrap()
                .to_ideogram_v3()
                .is_ok()
        );
        for bad in ["", "16", "0:9", "a:b", "16:-9"] {
            assert!(bad.parse::<AspectRatio>().is_err(), "{bad}");
        }
    }
}

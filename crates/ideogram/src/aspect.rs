//! Aspect ratios: Ideogram's `ASPECT_16_9` and `16x9` values, and the shape of
//! any resolution.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use ideogram_raw::enums;
use ideogram_raw::ideogram::types as wire;

use crate::invalid::InvalidInput;

/// A width:height shape such as 16:9, written `16:9`, `16x9` or
/// `ASPECT_16_9`; a request is checked against its model's enum when lowered.
///
/// ```
/// let wide: ideogram::AspectRatio = "16:9".parse()?;
/// assert_eq!(wide, "ASPECT_16_9".parse()?);
/// assert!(ideogram::AspectRatio::legacy().any(|r| r == wide));
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AspectRatio {
    width: u32,
    height: u32,
}

/// The legacy models' ratios (`ASPECT_<w>_<h>`), then Ideogram 3.0's (`<w>x<h>`).
static RATIOS: LazyLock<[Vec<AspectRatio>; 2]> = LazyLock::new(|| {
    let ratio = |(width, height)| AspectRatio { width, height };
    [
        pairs::<wire::AspectRatio>().map(ratio).collect(),
        pairs::<wire::AspectRatioV3>().map(ratio).collect(),
    ]
});

/// The `(width, height)` of each value of the spec's enum `T`, in its order.
pub(crate) fn pairs<T: schemars::JsonSchema>() -> impl Iterator<Item = (u32, u32)> {
    let values = enums::values::<T>();
    values.into_iter().filter_map(|v| enums::pair(&v))
}

impl AspectRatio {
    /// `width`:`height` as given (10:16 stays 10:16, as Ideogram spells it).
    pub fn new(width: u32, height: u32) -> Result<Self, InvalidInput> {
        if width == 0 || height == 0 {
            let why = "both sides must be positive, as in 16:9";
            return Err(InvalidInput::new("aspect_ratio", why));
        }
        Ok(Self { width, height })
    }

    /// The shape of `width` x `height`, reduced (1280x768 is 5:3).
    pub fn reduced(width: u32, height: u32) -> Self {
        let (width, height) = (width.max(1), height.max(1));
        let (mut a, mut b) = (width, height);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Self {
            width: width / a,
            height: height / a,
        }
    }

    /// `(width, height)`.
    pub fn parts(self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The ratios the legacy models take.
    pub fn legacy() -> impl Iterator<Item = Self> {
        RATIOS[0].iter().copied()
    }

    /// The ratios Ideogram 3.0 takes.
    pub fn v3() -> impl Iterator<Item = Self> {
        RATIOS[1].iter().copied()
    }
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
        let Some((width, height)) = parse_pair(s, "ASPECT_", &[':', 'X', '/']) else {
            let why = "is not a ratio: write it as 16:9, 16x9 or ASPECT_16_9";
            return Err(InvalidInput::new("aspect_ratio", format!("{s:?} {why}")));
        };
        Self::new(width, height)
    }
}

/// `(width, height)` from `<prefix><w>_<h>` or `<w><sep><h>`, any case and spacing.
pub(crate) fn parse_pair(text: &str, prefix: &str, seps: &[char]) -> Option<(u32, u32)> {
    let upper = text.trim().to_ascii_uppercase();
    let (w, h) = match upper.strip_prefix(prefix) {
        Some(rest) => rest.split_once('_')?,
        None => upper.split_once(seps)?,
    };
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_ratio_reads_back_from_its_enum() {
        for r in AspectRatio::legacy() {
            let name = format!("ASPECT_{}_{}", r.width, r.height);
            assert_eq!(name.parse::<wire::AspectRatio>().unwrap().to_string(), name);
            assert_eq!(name.parse::<AspectRatio>().unwrap(), r);
            assert_eq!(r.to_string().parse::<AspectRatio>().unwrap(), r);
        }
        for r in AspectRatio::v3() {
            let name = format!("{}x{}", r.width, r.height);
            assert_eq!(
                name.parse::<wire::AspectRatioV3>().unwrap().to_string(),
                name
            );
            assert_eq!(name.parse::<AspectRatio>().unwrap(), r);
        }
    }

    #[test]
    fn the_lists_differ_and_bad_ratios_do_not_parse() {
        let ratio = |text: &str| text.parse::<AspectRatio>().unwrap();
        let legacy: Vec<String> = AspectRatio::legacy().map(|r| r.to_string()).collect();
        assert!(
            legacy.join(", ").contains("10:16, 16:10, 9:16"),
            "{legacy:?}"
        );
        assert!(!AspectRatio::legacy().any(|r| r == ratio("4:5")));
        assert!(AspectRatio::v3().any(|r| r == ratio("5:4")));
        assert_eq!(AspectRatio::reduced(1280, 768).to_string(), "5:3");
        assert_eq!(AspectRatio::reduced(0, 0).to_string(), "1:1");
        for bad in ["", "16", "0:9", "a:b", "16:-9"] {
            assert!(bad.parse::<AspectRatio>().is_err(), "{bad}");
        }
    }
}

//! The values of the generated string enums, read from their JSON Schema:
//! code that needs the list (every legal resolution, every aspect ratio)
//! takes it from the spec through here instead of keeping a copy.

/// The values `T` accepts, in the spec's order.
///
/// ```
/// use ideogram_raw::{enums, segmind::types::Resolution};
///
/// let sizes = enums::values::<Resolution>();
/// assert_eq!(sizes.len(), 78);
/// assert_eq!(sizes[0], "RESOLUTION_512_1536");
/// ```
pub fn values<T: schemars::JsonSchema>() -> Vec<String> {
    let schema = serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON");
    schema["enum"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `(width, height)` from `RESOLUTION_1024_768`, `1024x768`, `ASPECT_16_9`,
/// `16x9` or `16:9`.
pub fn pair(text: &str) -> Option<(u32, u32)> {
    let rest = text
        .strip_prefix("RESOLUTION_")
        .or_else(|| text.strip_prefix("ASPECT_"));
    let (w, h) = match rest {
        Some(rest) => rest.split_once('_')?,
        None => text.split_once('x').or_else(|| text.split_once(':'))?,
    };
    Some((w.parse().ok()?, h.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ideogram::types as ideogram;

    #[test]
    fn enum_values_come_from_the_spec() {
        assert_eq!(values::<ideogram::ResolutionV3>().len(), 69);
        assert_eq!(values::<ideogram::AspectRatio>().len(), 11);
        assert_eq!(values::<ideogram::AspectRatioV3>().len(), 15);
        assert_eq!(pair("RESOLUTION_1024_768"), Some((1024, 768)));
        assert_eq!(pair("16x9"), Some((16, 9)));
        assert_eq!(pair("9:16"), Some((9, 16)));
        assert_eq!(pair("ASPECT_10_16"), Some((10, 16)));
        assert_eq!(pair("1024"), None);
    }
}

//! What the preset palettes look like, roughly: Ideogram names its presets
//! (the spec's `ColorPalettePresetName`) but does not publish their colours.
//! These approximations are what `ideogram palettes` shows and what the mock
//! paints; they are never sent.

use crate::ideogram::types::ColorPalettePresetName;

/// Four colours close to `preset`'s, as RGB; a grey ramp for a preset this
/// version does not know.
///
/// ```
/// use ideogram_raw::{ideogram::types::ColorPalettePresetName, presets};
///
/// assert_eq!(presets::colors(ColorPalettePresetName::Ember)[0], [0xff, 0x5a, 0x1f]);
/// ```
pub fn colors(preset: ColorPalettePresetName) -> [[u8; 3]; 4] {
    use ColorPalettePresetName as P;
    match preset {
        P::Ember => [
            [0xff, 0x5a, 0x1f],
            [0xc0, 0x28, 0x1c],
            [0xff, 0xb3, 0x47],
            [0x5c, 0x1a, 0x0b],
        ],
        P::Fresh => [
            [0xb8, 0xf2, 0xe6],
            [0x5e, 0xc8, 0xa5],
            [0xae, 0xd9, 0xe0],
            [0xff, 0xa6, 0x9e],
        ],
        P::Jungle => [
            [0x1b, 0x43, 0x32],
            [0x2d, 0x6a, 0x4f],
            [0x52, 0xb7, 0x88],
            [0x95, 0xd5, 0xb2],
        ],
        P::Magic => [
            [0x7b, 0x2c, 0xbf],
            [0xc7, 0x7d, 0xff],
            [0xe0, 0xaa, 0xff],
            [0x3c, 0x09, 0x6c],
        ],
        P::Melon => [
            [0xff, 0x8f, 0xa3],
            [0xc9, 0xe4, 0xca],
            [0x87, 0xbb, 0xa2],
            [0xff, 0xcc, 0xd5],
        ],
        P::Mosaic => [
            [0xe6, 0x39, 0x46],
            [0xf1, 0xc4, 0x53],
            [0x2a, 0x9d, 0x8f],
            [0x26, 0x46, 0x53],
        ],
        P::Pastel => [
            [0xff, 0xd6, 0xe0],
            [0xc1, 0xfb, 0xa4],
            [0xff, 0xef, 0x9f],
            [0x90, 0xf1, 0xef],
        ],
        P::Ultramarine => [
            [0x03, 0x04, 0x5e],
            [0x00, 0x77, 0xb6],
            [0x00, 0xb4, 0xd8],
            [0x90, 0xe0, 0xef],
        ],
        #[allow(unreachable_patterns, reason = "a preset a later spec adds")]
        _ => [[0x40; 3], [0x80; 3], [0xb0; 3], [0xe0; 3]],
    }
}

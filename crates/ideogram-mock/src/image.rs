//! Real, deterministic images: bands of the palette's colours (or colours
//! drawn from the seed), shaded top to bottom, at exactly the requested size.

use std::io::Cursor;

/// An image to render (serialized as the mock keeps a queued job's
/// image in its job folder).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImageSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The seed; the same spec renders the same bytes.
    pub seed: u64,
    /// Palette colours as RGB; empty for colours drawn from the seed.
    pub palette: Vec<[u8; 3]>,
    /// A PNG with an alpha channel: the subject (a centred ellipse) opaque,
    /// the background transparent, as Ideogram's generate-transparent makes.
    pub transparent: bool,
}

impl ImageSpec {
    /// The pixels, RGB, row by row.
    pub fn pixels(&self) -> Vec<u8> {
        let colors = if self.palette.is_empty() {
            seed_colors(self.seed)
        } else {
            self.palette.clone()
        };
        let band = (self.width / 16).max(1);
        let offset = (self.seed % u64::from(self.width.max(1))) as u32;
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 3);
        for y in 0..self.height {
            // Shade from full brightness at the top to 60% at the bottom.
            let shade = 100 - (40 * y / self.height.max(1));
            for x in 0..self.width {
                let c = colors[(((x + offset) / band) as usize) % colors.len()];
                out.extend(c.iter().map(|&v| (u32::from(v) * shade / 100) as u8));
            }
        }
        out
    }

    /// The image as PNG (with alpha when [`transparent`](Self::transparent)).
    pub fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(Cursor::new(&mut out), self.width, self.height);
        let pixels = if self.transparent {
            encoder.set_color(png::ColorType::Rgba);
            self.with_alpha()
        } else {
            encoder.set_color(png::ColorType::Rgb);
            self.pixels()
        };
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header");
        writer.write_image_data(&pixels).expect("PNG data");
        writer.finish().expect("PNG end");
        out
    }

    /// The pixels as RGBA: opaque inside the centred ellipse, transparent
    /// outside it.
    fn with_alpha(&self) -> Vec<u8> {
        let (w, h) = (f64::from(self.width.max(1)), f64::from(self.height.max(1)));
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 4);
        for (i, rgb) in self.pixels().chunks(3).enumerate() {
            let (x, y) = (
                (i % self.width as usize) as f64,
                (i / self.width as usize) as f64,
            );
            let (dx, dy) = ((x + 0.5) / w - 0.5, (y + 0.5) / h - 0.5);
            let inside = dx * dx + dy * dy <= 0.16;
            out.extend_from_slice(rgb);
            out.push(if inside { 255 } else { 0 });
        }
        out
    }

    /// The image as JPEG (what Segmind's v1 answers with).
    pub fn jpeg(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = jpeg_encoder::Encoder::new(&mut out, 85);
        let (w, h) = (
            u16::try_from(self.width).expect("width"),
            u16::try_from(self.height).expect("height"),
        );
        encoder
            .encode(&self.pixels(), w, h, jpeg_encoder::ColorType::Rgb)
            .expect("JPEG");
        out
    }
}

/// Four colours drawn from the seed.
fn seed_colors(seed: u64) -> Vec<[u8; 3]> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    (0..4)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bytes = (state >> 16).to_le_bytes();
            [bytes[0], bytes[1], bytes[2]]
        })
        .collect()
}

/// A palette's colours: preset names map to fixed colours, members to theirs.
pub(crate) fn palette_colors(palette: &serde_json::Value) -> Vec<[u8; 3]> {
    if let Some(name) = palette["name"].as_str() {
        return preset_colors(name);
    }
    palette["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|m| hex_rgb(m["color_hex"].as_str()?))
                .collect()
        })
        .unwrap_or_default()
}

/// The colours the mock paints a preset palette with (`EMBER`, ...): the
/// raw crate's approximation, since Ideogram does not publish them.
pub(crate) fn preset_colors(name: &str) -> Vec<[u8; 3]> {
    name.parse()
        .map(|preset| ideogram_raw::presets::colors(preset).to_vec())
        .unwrap_or_default()
}

fn hex_rgb(hex: &str) -> Option<[u8; 3]> {
    let digits = hex.strip_prefix('#')?;
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match digits.len() {
        3 => {
            let c: Vec<u8> = digits
                .chars()
                .map(|c| channel(&c.to_string()).map(|v| v * 17))
                .collect::<Option<_>>()?;
            Some([c[0], c[1], c[2]])
        }
        6 => Some([
            channel(&digits[0..2])?,
            channel(&digits[2..4])?,
            channel(&digits[4..6])?,
        ]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_have_the_size_and_colours_asked_for_and_are_deterministic() {
        let spec = ImageSpec {
            width: 64,
            height: 32,
            seed: 7,
            palette: vec![[255, 0, 0], [0, 0, 255]],
            transparent: false,
        };
        let png = spec.png();
        assert_eq!(png, spec.png(), "deterministic");
        let decoder = png::Decoder::new(Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (64, 32));
        let pixels = spec.pixels();
        assert!(
            pixels
                .chunks(3)
                .all(|p| p == [255, 0, 0] || p == [0, 0, 255] || p[1] == 0),
            "only palette colours, shaded"
        );
        let other = ImageSpec {
            seed: 8,
            ..spec.clone()
        };
        assert_ne!(other.pixels(), spec.pixels(), "the seed moves the bands");
        let jpeg = spec.jpeg();
        assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]));
    }

    #[test]
    fn palettes_map_to_colours() {
        assert_eq!(
            palette_colors(
                &serde_json::json!({"members": [{"color_hex": "#0af"}, {"color_hex": "#ff5500"}]})
            ),
            vec![[0, 170, 255], [255, 85, 0]]
        );
        assert_eq!(
            palette_colors(&serde_json::json!({"name": "EMBER"})).len(),
            4
        );
    }
}

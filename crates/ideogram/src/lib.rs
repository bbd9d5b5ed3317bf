//! Ideogram image generation for Rust, through Segmind or Ideogram's own API.
#![deny(missing_docs)]

mod aspect;
mod invalid;
mod model;
mod options;
mod palette;
mod resolution;

pub use aspect::AspectRatio;
pub use invalid::InvalidInput;
pub use model::{Model, Provider};
pub use options::{ImageWeight, MagicPrompt, NumImages, RenderingSpeed, Seed, StyleType};
pub use palette::{Palette, PaletteColor, PalettePreset};
pub use resolution::{Resolution, SizeFamily};

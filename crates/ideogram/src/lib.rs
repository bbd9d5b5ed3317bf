//! Ideogram image generation for Rust, through Segmind or Ideogram's own API.
#![deny(missing_docs)]

mod aspect;
mod client;
mod error;
mod generation;
mod image_input;
mod invalid;
mod model;
mod options;
mod palette;
mod queue;
mod request;
mod resolution;
mod retry;

pub use aspect::AspectRatio;
pub use client::{Client, ClientBuilder};
pub use error::Error;
pub use generation::{GeneratedImage, Generation, ImageData};
pub use ideogram_raw::QueueStatus;
pub use ideogram_raw::auth::AuthScheme;
pub use image_input::{ImageInput, MAX_IMAGE_BYTES};
pub use invalid::InvalidInput;
pub use model::{Model, Provider};
pub use options::{ImageWeight, MagicPrompt, NumImages, RenderingSpeed, Seed, StyleType};
pub use palette::{Palette, PaletteColor, PalettePreset};
pub use queue::{Job, JobStatus, PollSchedule};
pub use request::{DEFAULT_MODEL, GenerateRequest};
pub use resolution::{Resolution, SizeFamily};
pub use retry::RetryPolicy;

//! Ideogram image generation for Rust, through Segmind or Ideogram's own API
//! (or a gateway): requests checked against the spec before a byte is sent
//! ([`Error::Validation`] names the field and what is allowed), one
//! [`Generation`] and one [`Error`] whatever the provider, no POST sent again
//! when it may have billed ([`Error::certainly_not_billed`]), and the key in
//! no text. The README says the rest.
//!
//! ```no_run
//! use ideogram::{AuthScheme, Client, GenerateRequest, Model, PalettePreset, Provider};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), ideogram::Error> {
//!     // Reads SEGMIND_API_KEY; `Client::segmind(key)` takes it directly.
//!     let client = Client::segmind_from_env()?;
//!     let request = GenerateRequest::new("a lighthouse at dawn, travel poster")
//!         .model(Model::V2a)
//!         .resolution("1280x768".parse()?)
//!         .seed(4242);
//!     let generation = client.generate(&request).await?;
//!     generation.images[0].save("lighthouse.jpg").await?;
//!     // Queued (v2): the id comes back at once; wait, or resume later by id.
//!     let job = client.submit(&request).await?;
//!     let generation = client.job(job.id()).wait().await?;
//!     generation.images[0].save("lighthouse-queued.jpg").await?;
//!
//!     // Ideogram's API (IDEOGRAM_API_KEY), here through a gateway.
//!     let client = Client::builder(Provider::Ideogram)
//!         .base_url("https://gw.example/ideogram")
//!         .auth_scheme(AuthScheme::Bearer)
//!         .build()?;
//!     let request = GenerateRequest::new("a neon sign that says \"open late\"")
//!         .model(Model::V2Turbo)
//!         .aspect_ratio("16:9".parse()?)
//!         .palette(PalettePreset::Ember)
//!         .num_images(2);
//!     for (i, image) in client.generate(&request).await?.images.iter().enumerate() {
//!         image.save(format!("sign-{i}.png")).await?;
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Without a key or a credit, the `ideogram-mock` crate's
//! [stand-in service](https://docs.rs/ideogram-mock) runs on loopback, with
//! a ledger of what it billed:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = ideogram_mock::MockServer::start(Default::default()).await?;
//! let client = ideogram::Client::builder(ideogram::Provider::Ideogram)
//!     .base_url(mock.api_url())
//!     .api_key(mock.api_key())
//!     .build()?;
//! let generation = client.generate(&ideogram::GenerateRequest::new("a fox")).await?;
//! assert_eq!(generation.images.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! [`tracing`](https://docs.rs/tracing) (the CLI's `-v`): at DEBUG an `http`
//! span per exchange inside an `attempt` span, each retry, poll, download and
//! save; at TRACE also the prompt and the poll waits. Never the key or image
//! bytes.
#![deny(missing_docs)]

/// Builder-style setters, each `name(arg: Type) => field = value;` (the value
/// stored) or `name(arg: Type) => set "field" = value;` (a body field set by
/// its spec name).
macro_rules! setters {
    () => {};
    ($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => set $field:literal = $value:expr; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(self, $arg: $ty) -> Self {
            self.set($field, $value)
        }
        setters! { $($rest)* }
    };
    ($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $($field:ident).+ = $value:expr; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.$($field).+ = $value;
            self
        }
        setters! { $($rest)* }
    };
}

mod answers;
mod aspect;
mod capability;
mod catalog;
mod client;
mod completion;
mod connection;
mod deadline;
mod download;
mod edit;
mod error;
mod file_kind;
mod generation;
mod image_input;
mod image_text;
mod invalid;
mod json_form;
mod lowering;
mod model;
mod options;
mod pace;
mod palette;
mod poll;
#[cfg(test)]
mod prop_support;
mod provider;
mod queue;
mod quote;
mod request;
mod resolution;
mod retry;
mod url_guard;
pub mod webhook;
mod wire;

pub use aspect::AspectRatio;
pub use capability::{Capability, capability_table};
pub use catalog::field_values;
pub use client::{Client, ClientBuilder, IDEOGRAM_IN_FLIGHT_LIMIT, Prepared, TextLayers};

/// The generated layer this crate is built on (both services' raw clients,
/// types, `limits` and `schema`); call its operations through [`Client::call`].
pub use ideogram_raw as raw;

/// Operations the service says are deprecated: a `Deprecation` or `Sunset`
/// header on any answer is a `tracing::warn!` once per operation per
/// process, kept in [`deprecation::seen`] and handed to the function given
/// to [`deprecation::listen`] (the CLI prints one line there).
pub use ideogram_raw::deprecation;

pub use completion::{CompletionEstimate, CompletionTimes};
pub use download::MAX_DOWNLOAD_BYTES;
pub use edit::{EditKind, EditRequest};
pub use error::{ConfigError, Error};
pub use file_kind::sniff as sniff_image;
pub use generation::{GeneratedImage, Generation, ImageData, SaveOptions, temp_file_prefix};
pub use ideogram_raw::QueueStatus;
pub use ideogram_raw::auth::AuthScheme;
pub use image_input::{AssetIdentifier, ImageInput, MAX_IMAGE_BYTES};
pub use image_text::{DescribeRequest, LayerizeRequest, PlacedText, TextBlocks};
pub use invalid::InvalidInput;
pub use model::{DEFAULT_MODEL, Model};
pub use options::{
    ImageWeight, MagicPrompt, RenderingSpeed, Seed, SpecEnum, StylePreset, StyleType, UpscaleFactor,
};
pub use palette::{Palette, PaletteColor, PaletteColors, PalettePreset, preset_colors};
pub use poll::{PollSchedule, PollTimes};
pub use provider::Provider;
pub use queue::{Job, JobStatus};
pub use quote::{Quote, QuoteSource, dollars, usd_micros_from_dollars};
pub use request::GenerateRequest;
pub use resolution::{Resolution, SizeFamily};
pub use retry::{Billing, RetryPolicy};
/// The JSON Schema derive every generated type carries, for tool
/// definitions: `schemars::schema_for!(raw::segmind::types::IdeogramTxt2ImgRequest)`.
pub use schemars;
pub use url_guard::InputUrlPolicy;
pub use wire::WireRequest;

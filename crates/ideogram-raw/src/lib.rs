//! The raw client for Ideogram image generation, generated from the specs in
//! `openapi/` by `cargo xtask generate` (progenitor), plus the parts the
//! generator cannot write.
//!
//! Most users want the facade crate built on top of this one. Use this crate
//! when you want the wire types exactly as the specs describe them, for
//! example to publish a request type's JSON Schema as a tool definition.
//!
//! - [`segmind`]: Segmind's v1 (sync) and v2 (queue) endpoints for the Ideogram
//!   models; generated.
//! - [`ideogram`]: Ideogram's own `/generate`, `/v1/ideogram-v3/generate`
//!   and the multipart `/remix` ([`ideogram::Client::post_remix_image`]);
//!   generated, multipart by the xtask (progenitor has none).
//! - [`multipart`]: the file parts and forms of the multipart operations.
//! - [`auth`]: which header carries the key; applied to every request by the
//!   clients' hooks, marked sensitive, never printed.
//! - [`checked`]: the spec's check of each JSON body a generated method
//!   sends, for the calls wrapped in it (the facade's `Client::call`).
//! - [`http`]: a `reqwest::Client` with timeouts sized for generations and
//!   redirects that never carry the key to another origin.
//! - [`deprecation`]: a `Deprecation` or `Sunset` header on any answer,
//!   warned of once per operation, and seen by [`deprecation::seen`] and
//!   [`deprecation::listen`].
//! - [`operation`]: each spec's operations as data (`segmind::operations`,
//!   `ideogram::operations`), for code that routes by path, such as a mock.
//! - [`alias`]: other names the service gives a field (`ideogram::aliases`),
//!   renamed to the spec's by a reader of what it sends.
//!
//! ```no_run
//! use ideogram_raw::{auth::{ApiKey, Auth}, http, segmind, SEGMIND_BASE_URL};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = segmind::Client::new_with_client(
//!     SEGMIND_BASE_URL,
//!     http::client()?,
//!     Auth::segmind(ApiKey::new("sg_...")),
//! );
//! let body = segmind::types::Ideogram2aTxt2ImgRequest::builder()
//!     .prompt("a lighthouse at dawn, poster".parse::<segmind::types::Prompt>()?)
//!     .resolution(segmind::types::Resolution::Resolution10241024);
//! let image = client.ideogram_2a_txt_2_img().body(body).send().await?;
//! println!("{:?}", image.headers().get("content-type"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

/// Segmind's Ideogram endpoints: generated from `openapi/segmind.yaml`.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[path = "generated/segmind.rs"]
pub mod segmind;

/// Ideogram's own API: generated from `openapi/ideogram.yaml`.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[path = "generated/ideogram.rs"]
pub mod ideogram;

pub mod alias;
pub mod answer;
pub mod auth;
pub mod checked;
pub mod deprecation;
pub mod enums;
mod hooks;
pub mod http;
#[cfg(feature = "rustls")]
mod lazy_tls;
pub mod limit;
pub mod media;
pub mod multipart;
pub mod not_null;
pub mod operation;
mod pattern;
pub mod presets;
mod queue_status;
pub mod redact;
pub mod schema;
pub mod send;
pub mod webhook;

pub use queue_status::QueueStatus;

/// Segmind's API, where [`segmind::Client`] goes unless told otherwise.
pub const SEGMIND_BASE_URL: &str = "https://api.segmind.com";

/// Ideogram's API, where [`ideogram::Client`] goes unless told otherwise.
pub const IDEOGRAM_BASE_URL: &str = "https://api.ideogram.ai";

//! The option groups several commands flatten in: where requests go
//! ([`Connection`]), where images are saved ([`SaveArgs`]) and the image
//! options ([`Options`], [`BodyOptions`]). They stand below the command
//! line (`args`), which assembles them with the agent server's own options,
//! so that what acts on them (connecting, the journal, requests, the agent
//! server) depends on them alone. Values stay text here, checked by the
//! value parsers of `values`.

use std::path::PathBuf;

use clap::Args;

use crate::values::Values;

// A doc attribute clap does not read (not a string literal): a command
// that flattens these options keeps its own about, also when clap builds
// it deferred (`#[command(defer = true)]` in args.rs).
#[doc = concat!(
    "Where requests go and with which key: taken by the commands that call ",
    "a service (before or after the command's name), by no other."
)]
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(next_help_heading = "Network")]
pub(crate) struct Connection {
    /// `segmind` or `ideogram` (default: the one whose key is set; segmind
    /// when both are, said on stderr; ideogram when none is; segmind for
    /// `job`); for generate and quote also `cheapest`: the provider whose
    /// quote may cost least, said on stderr.
    #[arg(long)]
    pub provider: Option<String>,
    /// Another base URL: a gateway, a proxy, a mock.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Send the key as `Authorization: Bearer` (gateways re-serving Ideogram).
    #[arg(long)]
    pub bearer: bool,
    /// Read the key from this file instead of SEGMIND_API_KEY / IDEOGRAM_API_KEY.
    #[arg(long)]
    pub api_key_file: Option<PathBuf>,
    /// Use the built-in mock service: no key, no network, no cost (each
    /// answer takes 300 ms, as a fast service's would).
    #[arg(long)]
    pub offline: bool,
    /// Retries after a rate limit or a failure that cannot have billed
    /// [default: 4].
    #[arg(long)]
    pub retries: Option<u32>,
    /// Segmind: send to its sync v1 API, which answers with the image
    /// itself, instead of its queue. The queue is the default (v1 is in
    /// maintenance mode): the request id is journaled in the output folder
    /// right after the submit, so a rerun of a killed command waits for
    /// the same job instead of paying again. Batches and `job` always
    /// queue.
    #[arg(long)]
    pub sync: bool,
}

impl Connection {
    /// The retries asked for, or the default.
    pub(crate) fn retries(&self) -> u32 {
        self.retries.unwrap_or(4)
    }

    /// These options, with those given after the command's name winning.
    pub(crate) fn merged(&self, after: &Self) -> Self {
        Self {
            provider: after.provider.clone().or_else(|| self.provider.clone()),
            base_url: after.base_url.clone().or_else(|| self.base_url.clone()),
            bearer: self.bearer || after.bearer,
            api_key_file: after
                .api_key_file
                .clone()
                .or_else(|| self.api_key_file.clone()),
            offline: self.offline || after.offline,
            retries: after.retries.or(self.retries),
            sync: self.sync || after.sync,
        }
    }
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "Where a command that generates saves its images."
)]
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct SaveArgs {
    /// A file, or a folder (ending in `/` or existing) for generated names.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace existing images and sidecars at the output names.
    #[arg(long)]
    pub overwrite: bool,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "Body fields every image command takes (generate, remix, the operations ",
    "on an image, batch, job submit): each flag is the kebab case of the ",
    "spec's field name, and `--set` reaches every other field. A command ",
    "whose operation has no place for one refuses it, naming who takes it."
)]
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(next_help_heading = "Image options")]
pub(crate) struct BodyOptions {
    // Numbers take `-1` as a value (for the spec's range to refuse by
    // name), not as a flag.
    /// How many images (each billed).
    #[arg(long, allow_negative_numbers = true)]
    pub num_images: Option<String>,
    /// The seed, for reproducible images.
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<String>,
    #[command(flatten)]
    pub enums: EnumFields,
    /// Whether the prompt is rewritten first.
    #[arg(long, value_parser = Values::field(&["magic_prompt", "magic_prompt_option"]))]
    pub magic_prompt: Option<String>,
    /// A preset, or colours: '#ff5500:0.6,#00aaff'.
    #[arg(long, visible_alias = "palette", value_parser = Values::palette())]
    pub color_palette: Option<String>,
    /// An image whose style to follow (repeatable; 10 MB in all).
    #[arg(long, visible_alias = "style-ref", value_name = "FILE")]
    pub style_reference_images: Vec<String>,
    /// Any field of the request by its spec name (repeatable): VALUE is
    /// read as JSON, else as text (`--set style_codes='["AAFF5733"]'`,
    /// `--set magic_prompt_version=V_0`). A field the operation's body
    /// lacks is refused before sending, naming who takes it.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "Enum body fields sent as given (their values are the spec's, checked ",
    "while the command line is read): read back by serde, as `TextFields`."
)]
#[derive(Debug, Clone, Default, PartialEq, Args, serde::Serialize)]
#[command(next_help_heading = "Image options")]
pub(crate) struct EnumFields {
    /// Ideogram 3.0's speed, quality and price trade-off.
    #[arg(long, visible_alias = "speed", value_parser = Values::field(&["rendering_speed"]))]
    pub rendering_speed: Option<String>,
    /// The style (which a model takes depends on the model).
    #[arg(long, visible_alias = "style", value_parser = Values::field(&["style_type"]))]
    pub style_type: Option<String>,
    /// One of Ideogram 3.0's named looks.
    #[arg(long, value_parser = Values::field(&["style_preset"]))]
    pub style_preset: Option<String>,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "Generation options, shared by generate, remix, batch and job submit."
)]
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(next_help_heading = "Image options")]
pub(crate) struct Options {
    /// The Ideogram version (short forms like 2a and 4, and Segmind slugs,
    /// work too).
    #[arg(long, value_parser = Values::model())]
    pub model: Option<String>,
    /// The spec id of the operation to send to (`ideogram_3`; an unknown
    /// one is refused with the list), instead of the first of the task and
    /// model that takes the request: for an operation a spec adds beside
    /// another.
    #[arg(long, value_name = "ID")]
    pub operation: Option<String>,
    /// An exact size: 1024x576 or RESOLUTION_1024_576.
    #[arg(long, conflicts_with = "aspect_ratio")]
    pub resolution: Option<String>,
    /// A shape (which a model takes: `ideogram models`).
    #[arg(long, visible_alias = "aspect", value_parser = Values::aspect())]
    pub aspect_ratio: Option<String>,
    /// A character to keep (model 3; priced higher).
    #[arg(long, visible_alias = "character-ref", value_name = "FILE")]
    pub character_reference_images: Option<String>,
    /// Where the character is in --character-reference-images: grayscale,
    /// its size.
    #[arg(
        long,
        visible_alias = "character-mask",
        value_name = "FILE",
        requires = "character_reference_images"
    )]
    pub character_reference_images_mask: Option<String>,
    /// A transparent background: PNGs with alpha (model 3 on Ideogram's API).
    #[arg(long)]
    pub transparent: bool,
    #[command(flatten)]
    pub text: TextFields,
    #[command(flatten)]
    pub body: BodyOptions,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "The options of a command on an uploaded image: the model and operation ",
    "(for the operations that run several), and the body's fields."
)]
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(next_help_heading = "Image options")]
pub(crate) struct EditOptions {
    /// The model, where the operation runs several (default 3; 4.5 for its
    /// precise edit).
    #[arg(long, value_parser = Values::model())]
    pub model: Option<String>,
    /// The spec id of the operation to send to, instead of the first that
    /// takes the request (`post_inpaint_v2_ideogram_3`).
    #[arg(long, value_name = "ID")]
    pub operation: Option<String>,
    #[command(flatten)]
    pub body: BodyOptions,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "The options of describe and layerize-text: the model or operation they ",
    "run on (v1 unless one only v2 runs is asked for), and any body field."
)]
#[derive(Debug, Clone, Default, PartialEq, Args)]
#[command(next_help_heading = "Options")]
pub(crate) struct TargetOptions {
    /// The model (describe: 4.0 runs v2's describe, whose one description
    /// is a json_prompt; layerize-text: 3.0).
    #[arg(long, value_parser = Values::model())]
    pub model: Option<String>,
    /// The spec id of the operation to send to, instead of the first that
    /// takes the request (`post_describe_v2_ideogram_3`,
    /// `post_layerize_v2_ideogram_3`).
    #[arg(long, value_name = "ID")]
    pub operation: Option<String>,
    /// Any field of the body by its spec name (repeatable): VALUE is read
    /// as JSON, else as text (`--set include_tags=true`, `--set async=true`).
    /// A field the operation's body lacks is refused before sending.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
}

// Not a string literal, so clap does not read it (see `Connection`).
#[doc = concat!(
    "Body fields sent as given: each is named as the spec names it, and read ",
    "back by serde (`request::verbatim`), so no list repeats the names."
)]
#[derive(Debug, Clone, Default, PartialEq, Args, serde::Serialize)]
#[command(next_help_heading = "Image options")]
pub(crate) struct TextFields {
    /// What to keep out of the image.
    #[arg(long, visible_alias = "negative")]
    pub negative_prompt: Option<String>,
    /// A custom model, model/<name>/version/<version> (models 3 and 4 on
    /// Ideogram's API).
    #[arg(long, visible_alias = "custom-model")]
    pub custom_model_uri: Option<String>,
    /// Enlarge a transparent image (X2 and X4 cost extra).
    #[arg(
        long,
        visible_alias = "upscale",
        requires = "transparent",
        value_parser = Values::field(&["upscale_factor"])
    )]
    pub upscale_factor: Option<String>,
    /// A public HTTPS URL Ideogram POSTs the signed result to once done
    /// (v2; the call then runs asynchronously, and is still waited for).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
}

// Not a string literal, so clap does not take it for the about of every
// command that flattens it (see `Connection`).
#[doc = concat!("`--max-usd` and `--quote`, on every command that spends.")]
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Budget")]
pub(crate) struct BudgetArgs {
    /// The most this may cost, in US dollars (`0.50`): the request is
    /// priced first (Ideogram's free dry run, or the spec's price) and
    /// refused, nothing sent, when it could cost more or has no known
    /// price (exit 12). A batch prices every line before sending any, and
    /// never lets what its journal says was spent plus the next item pass
    /// it, resumed runs included.
    #[arg(long = "max-usd", value_name = "AMOUNT")]
    pub max_usd: Option<String>,
    /// Print what this would cost and send nothing that runs or bills:
    /// the request is checked and priced exactly as it would be sent
    /// (Ideogram's free dry run where the operation takes one, else the
    /// spec's price, sending nothing at all); `--json` prints the quote
    /// as the library's `Quote`. No file is written. A batch prices every
    /// line it would send and prints the total and the most expensive
    /// lines. With --max-usd, a price past it exits 12.
    #[arg(long)]
    pub quote: bool,
}

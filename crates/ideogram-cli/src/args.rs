//! The command line, as clap reads it: the commands, each with the option
//! groups of `options` it takes. Option values stay text, checked by value
//! parsers built on the library's types (`values`): `--help` lists what the
//! specs allow, and a bad value is an invalid request (exit 3) with the
//! library's message.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::options::{BudgetArgs, Connection, EditOptions, Options, SaveArgs, TargetOptions};

pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (files, ...)
  2  usage error (unknown option, missing argument)
  3  invalid request (an option's value, checked before sending, or refused
     by the service)
  4  authentication (no key, wrong key, forbidden)
  5  out of credits
  6  rate limited
  7  generation failed (safety rejection, failed or expired job, timeout)
  8  network or service error (the request may have been billed)
  9  billed but not saved: every paid image's URL and the command that
     fetches it are printed (`ideogram fetch URL -o PATH`)
  10 configuration (a base URL or a proxy that cannot be used)
  11 network error before anything was sent (not billed: safe to run again)
  12 over budget: the request could cost more than --max-usd allows, or
     its price is not known (nothing was sent)
  130 interrupted (run the same command again to resume)

Environment:
  SEGMIND_API_KEY, IDEOGRAM_API_KEY  the providers' keys
  IDEOGRAM_POLL_CACHE  where queued jobs' learned completion times are kept
     (default: the user's cache folder, ideogram/completion-times.json; not
     kept for --offline or a loopback --base-url unless this is set)
  IDEOGRAM_OFFLINE_JOBS  where --offline keeps queued jobs, so that job
     status and job wait find them (default: the user's cache folder,
     ideogram/offline-jobs)
  RUST_LOG             tracing filter when no -v is given";

/// Images from Ideogram's models, through Segmind or Ideogram's own API.
#[derive(Debug, Parser)]
#[command(name = "ideogram", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Network options given before the command (they may also follow it).
    #[command(flatten)]
    pub connection: Connection,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Trace what the client does on stderr: -v requests, retries, polls
    /// and downloads; -vv also prompts and waits. RUST_LOG is honoured
    /// when no -v is given (`RUST_LOG=ideogram=debug`).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The parser. Each command that runs a spec route's task says which
    /// providers run it, read from the routes, so help cannot name one that
    /// does not. With `for_help`, a command's help also leaves out the body
    /// options none of its bodies takes (given anyway, they are refused
    /// naming who takes them); that reads the schemas, so only for help.
    pub(crate) fn parser(for_help: bool) -> clap::Command {
        let mut command = <Self as clap::CommandFactory>::command();
        let names: Vec<String> = command
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        let fields = |task: &str| -> std::collections::BTreeSet<String> {
            let all = ideogram::Provider::ALL.into_iter();
            all.flat_map(|p| body_fields(p, task)).collect()
        };
        let tasks: Vec<String> = names
            .into_iter()
            .filter(|name| ideogram::Provider::ALL.iter().any(|p| p.runs(name)))
            .collect();
        if for_help {
            // Every command's options, which `defer` builds only when needed.
            command.build();
        }
        let every_field: std::collections::BTreeSet<String> = if for_help {
            tasks.iter().flat_map(|t| fields(t)).collect()
        } else {
            Default::default()
        };
        for name in tasks {
            let on: Vec<String> = ideogram::Provider::ALL
                .into_iter()
                .filter(|p| p.runs(&name))
                .map(|p| p.to_string())
                .collect();
            let taken = if for_help {
                fields(&name)
            } else {
                Default::default()
            };
            command = command.mut_subcommand(&name, |mut sub| {
                let about = sub.get_about().map(ToString::to_string);
                let about = about.unwrap_or_default();
                // Inside a closing parenthesis, if the text ends in one.
                let text = match about.strip_suffix(')') {
                    Some(open) => format!("{open}; "),
                    None => format!("{about} ("),
                };
                sub = sub.about(format!("{text}runs on {})", on.join(", ")));
                if for_help {
                    sub = note_stand_ins(sub, &name);
                }
                sub.mut_args(|a| {
                    let id = a.get_id().as_str();
                    let untaken = every_field.contains(id) && !taken.contains(id);
                    if untaken { a.hide(true) } else { a }
                })
            });
        }
        if for_help {
            // `job submit --image` queues a remix.
            command = command.mut_subcommand("job", |job| {
                job.mut_subcommand("submit", |submit| note_stand_ins(submit, "remix"))
            });
        }
        command
    }

    /// The command line, parsed by [`parser`](Self::parser).
    pub(crate) fn try_parse() -> Result<Self, clap::Error> {
        let help = std::env::args_os().any(|a| a == "-h" || a == "--help" || a == "help");
        let matches = Self::parser(help).try_get_matches()?;
        <Self as clap::FromArgMatches>::from_arg_matches(&matches)
    }
}

/// The body fields `provider`'s operations for `task` take, by the
/// spec's names (the request's JSON Schema's properties).
fn body_fields(provider: ideogram::Provider, task: &str) -> std::collections::BTreeSet<String> {
    let schema = match task {
        "generate" | "remix" => ideogram::GenerateRequest::json_schema(provider),
        task => ideogram::EditRequest::json_schema(provider, task),
    };
    let keys = schema["properties"].as_object().map(|o| o.keys().cloned());
    keys.into_iter().flatten().collect()
}

/// `command`'s help, for each image argument it may go without (an
/// optional one: the command reads the asset identifier `--set` gives in
/// its place), names that field (the spec's `x-in-place-of` the image)
/// and the providers whose bodies for `task` take it.
fn note_stand_ins(command: clap::Command, task: &str) -> clap::Command {
    let notes: Vec<(String, String)> = command
        .get_arguments()
        .filter(|arg| !arg.is_required_set())
        .filter_map(|arg| {
            let id = arg.get_id().as_str();
            let field = ideogram::ImageInput::asset_field(id)?;
            let on: Vec<String> = ideogram::Provider::ALL
                .into_iter()
                .filter(|p| body_fields(*p, task).contains(field))
                .map(|p| p.to_string())
                .collect();
            let note = format!(
                "Or leave it out and give `--set {field}=JSON`: an image the \
                 service already holds (--provider {})",
                on.join("|")
            );
            (!on.is_empty()).then(|| (id.to_owned(), note))
        })
        .collect();
    // In place: `mut_arg` would move a positional argument after the others.
    command.mut_args(|arg| {
        let Some((_, note)) = notes.iter().find(|(id, _)| arg.get_id() == id.as_str()) else {
            return arg;
        };
        // A sentence of its own: clap drops a lone sentence's full stop.
        let said = |text: Option<&clap::builder::StyledStr>| {
            text.map(|text| {
                let text = text.to_string();
                let text = text.trim_end();
                let stop = if text.ends_with('.') { "" } else { "." };
                format!("{text}{stop} {note}")
            })
        };
        let (help, long) = (said(arg.get_help()), said(arg.get_long_help()));
        let arg = arg.help(help.unwrap_or_else(|| note.clone()));
        match long {
            Some(long) => arg.long_help(long),
            None => arg,
        }
    })
}

// `defer`: a command's options are built only when it runs (or its help
// or the completions are asked for), not every command's on every start.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum Command {
    /// Generate images from a prompt.
    ///
    /// The folder and file names are checked before anything is sent. An
    /// existing file is never replaced: the next free name is taken
    /// (`x-2.png`) unless --overwrite is given. Each image's sidecar JSON,
    /// holding its URL, is written before the download starts.
    ///
    /// On Segmind this and the other image commands go through its queue
    /// (its sync v1 is in maintenance mode): the request id is journaled
    /// in the output folder right after the submit, so running a killed
    /// command again waits for the same job instead of paying twice.
    /// Segmind keeps a queued result for 1 hour. --sync pins sync v1.
    Generate {
        /// What to draw.
        prompt: String,
        #[command(flatten)]
        options: Options,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// What `generate` with the same arguments would cost, sending nothing
    /// that runs: Ideogram's dry run (free) where the operation takes one,
    /// else the spec's price for it, marked as an estimate with its source.
    ///
    /// The same as `generate --quote`; every command that spends takes
    /// `--quote`.
    Quote {
        /// What to draw.
        prompt: String,
        /// Price it on every provider that can serve it (Ideogram direct,
        /// Segmind), each with its typical time, and name the cheapest
        /// (the lowest most-it-may-cost); a provider without a key says so.
        /// Not with `--provider` (but `cheapest`): every provider is priced.
        #[arg(long)]
        compare: bool,
        #[command(flatten)]
        options: Options,
        #[command(flatten)]
        connection: Connection,
    },
    /// Generate from an input image (a URL or a local file) and a prompt.
    Remix {
        /// The input image: an http(s) URL or a file (JPEG, PNG or WebP, at most 10 MB).
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        /// What to make of it.
        #[arg(value_name = "PROMPT")]
        prompt: Option<String>,
        /// How closely to follow the input, 1 to 100 (default 50).
        #[arg(long, visible_alias = "weight", allow_negative_numbers = true)]
        image_weight: Option<String>,
        #[command(flatten)]
        options: Options,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Repaint where MASK is black, from the prompt (Ideogram 3.0).
    ///
    /// MASK is a grayscale image of IMAGE's size. Both are read and checked
    /// before anything is sent.
    Edit {
        /// The image to edit: an http(s) URL or a file (JPEG, PNG or WebP, at most 10 MB on 3.0; more where the operation takes more).
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        /// Where to repaint: black is repainted, white kept; IMAGE's size.
        #[arg(value_name = "MASK")]
        mask: Option<String>,
        /// What to paint there.
        #[arg(value_name = "PROMPT")]
        prompt: Option<String>,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Extend a square image outwards to a resolution (Ideogram 3.0).
    Reframe {
        /// The square image: an http(s) URL or a file.
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        /// The size to extend to, one of Ideogram 3.0's (`ideogram resolutions --family v3`).
        #[arg(value_name = "RESOLUTION")]
        resolution: Option<String>,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Keep an image's subject and paint a new background from the prompt
    /// (Ideogram 3.0).
    ReplaceBackground {
        /// The image: an http(s) URL or a file.
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        /// The new background.
        #[arg(value_name = "PROMPT")]
        prompt: Option<String>,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Enlarge an image.
    Upscale {
        /// The image: an http(s) URL or a file.
        image: String,
        /// What the image shows, to guide the detail added.
        #[arg(long)]
        prompt: Option<String>,
        /// How closely to keep the input, 1 to 100 (default 50).
        #[arg(long, allow_negative_numbers = true)]
        resemblance: Option<String>,
        /// How much detail to add, 1 to 100 (default 50).
        #[arg(long, allow_negative_numbers = true)]
        detail: Option<String>,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Make an image's background transparent (Ideogram's v2; billed).
    RemoveBackground {
        /// The image: an http(s) URL or a file.
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Remove from an image what MASK marks white (Ideogram's v2; billed).
    RemoveObject {
        /// The image: an http(s) URL or a file.
        image: String,
        /// What to remove: white is removed, black kept; IMAGE's size.
        mask: String,
        #[command(flatten)]
        options: EditOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Separate an image's text into layers: saves the image without its
    /// text and prints each text block (Ideogram 3.0; billed).
    LayerizeText {
        /// The image: an http(s) URL or a file.
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        /// What the image shows (v1; written by the service when absent).
        #[arg(long)]
        prompt: Option<String>,
        #[command(flatten)]
        options: TargetOptions,
        #[command(flatten)]
        save: SaveArgs,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Words for an image, each usable as a prompt (billed).
    Describe {
        /// The image: an http(s) URL or a file.
        #[arg(value_name = "IMAGE")]
        image: Option<String>,
        #[command(flatten)]
        options: TargetOptions,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Serve every operation as tools for AI agents: an MCP server on
    /// stdin and stdout (logs on stderr).
    ///
    /// Images are saved with their sidecars in --out under new names, never over a
    /// file; each paid call is journaled there (`.ideogram-mcp.jsonl`)
    /// before anything is downloaded, and a call repeated with the same
    /// `idempotency_key` is answered from it instead of paying again. The
    /// key comes from SEGMIND_API_KEY / IDEOGRAM_API_KEY or --api-key-file,
    /// never from a tool's arguments; --offline serves every tool from the
    /// built-in mock. Local image files are read only from --out and the
    /// folders given with --read.
    #[command(after_help = crate::mcp::tools_help())]
    Mcp {
        /// The folder images and sidecars are saved in (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A folder whose images tools may read (repeatable); besides it,
        /// only --out. URLs and data: URLs are not affected.
        #[arg(long, value_name = "DIR")]
        read: Vec<PathBuf>,
        /// What results show and what URLs tools may fetch.
        #[command(flatten)]
        agent: crate::mcp::AgentOptions,
        #[command(flatten)]
        connection: Connection,
    },
    /// Generate one image set per line of FILE (a prompt, or a JSON object
    /// with per-item options), resuming where an earlier run stopped.
    ///
    /// Blank lines and lines starting with `#` are skipped; write `\#` for a
    /// prompt that starts with `#` (or a JSON line). A UTF-8 byte-order mark
    /// is ignored.
    ///
    /// Before the first request is sent, every line is checked: its fields
    /// and their values, against what the provider and model take; and
    /// every image it names (image, mask, style and character references)
    /// is read (a file: a regular one, not a FIFO or a device) or fetched
    /// (a URL, within the download cap and timeouts), and checked for type
    /// (JPEG, PNG or WebP), size, and for an edit the mask against the
    /// image. One bad line, and nothing is sent. Items an earlier run saved,
    /// or whose paid result its journal holds, are not checked again. Images
    /// are read again when their item is sent.
    ///
    /// The journal is a file this tool created: a new or empty file, or
    /// one starting with its header line; any other file (and the batch's
    /// own file) is refused. A journal whose items were never sent is taken
    /// by an edited batch; one that may have paid for items is another
    /// batch's. One batch runs per journal at a time: a second one refuses,
    /// or with --wait waits its turn.
    Batch {
        /// One prompt per line, or JSON lines: {"prompt": ..., "seed": ..., ...}.
        file: PathBuf,
        /// Options every item starts from.
        #[command(flatten)]
        options: Options,
        /// The folder for images, sidecars and the journal.
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
        /// Items generated at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// The journal that makes the batch resumable (default: OUTPUT/.ideogram-batch.jsonl).
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Send again items an interrupted run may have paid for without
        /// getting an answer (they could be billed twice): all of them, or
        /// the items numbered (`--resend-uncertain=3,7`).
        #[arg(long, value_name = "ITEMS", num_args = 0..=1, require_equals = true, default_missing_value = "all")]
        resend_uncertain: Option<String>,
        /// Send with this provider items an earlier run sent to another one
        /// (they could be billed by both).
        #[arg(long)]
        switch_provider: bool,
        /// Wait for another batch on the same journal to end instead of
        /// refusing.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Download images already paid for, from the URLs a failed save printed
    /// (no key is needed; Ideogram's links expire after 24 hours).
    Fetch {
        /// The image URLs.
        #[arg(required = true)]
        urls: Vec<String>,
        /// A file (one URL), or a folder.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Replace an existing file at the output name.
        #[arg(long)]
        overwrite: bool,
        /// A file whose first line is a key to hide from everything this
        /// prints (repeatable; nothing is sent with it): the fetch commands
        /// the tool prints pass the key file a URL's key was read from.
        /// The keys in SEGMIND_API_KEY and IDEOGRAM_API_KEY are hidden
        /// without it.
        #[arg(long, value_name = "FILE")]
        api_key_file: Vec<PathBuf>,
    },
    /// Queue a job, check on it or wait for it by its id: Segmind's queue,
    /// or with --provider ideogram a v2 generation made with `async`.
    Job {
        #[command(subcommand)]
        action: JobAction,
    },
    /// Receive Ideogram's signed webhook deliveries and save their images.
    Webhook {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// What the paid calls recorded in a folder cost, by day, provider and
    /// model: the costs its journals record (a batch's) and its images'
    /// sidecars hold (the service's figure where it gave one, else the
    /// quote taken before sending). Nothing is sent; no key is needed.
    Spend {
        /// The folder (default: the current one).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// List the legal sizes with their aspect ratios.
    Resolutions {
        /// `legacy` (2.x models and Segmind's 2.x slugs), `v3` or `v4`; default
        /// all.
        #[arg(long)]
        family: Option<String>,
    },
    /// Show the preset palettes.
    Palettes,
    /// What each model can do on each provider (no key needed).
    Models,
    /// Run the mock service on loopback, for your own tests: both
    /// providers' paths, real images, the queue, faults and a billing
    /// ledger, no key of yours, no cost. Prints `api URL cdn URL key KEY
    /// ledger URL` on stdout and serves until Ctrl-C.
    #[cfg(feature = "mock")]
    Mock(ideogram_mock::standalone::MockArgs),
    /// Print a shell completion script: `ideogram completions bash >
    /// ~/.local/share/bash-completion/completions/ideogram`.
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Whether the command serves others (`ideogram mock`).
    pub(crate) fn serves(&self) -> bool {
        if let Self::Mcp { .. } | Self::Webhook { .. } = self {
            return true;
        }
        #[cfg(feature = "mock")]
        if let Self::Mock(_) = self {
            return true;
        }
        false
    }

    /// The price options (`--max-usd`, `--quote`) of a command that
    /// spends; `None` for one that does not.
    pub(crate) fn budget(&self) -> Option<&BudgetArgs> {
        match self {
            Self::Generate { budget, .. }
            | Self::Remix { budget, .. }
            | Self::Edit { budget, .. }
            | Self::Reframe { budget, .. }
            | Self::ReplaceBackground { budget, .. }
            | Self::Upscale { budget, .. }
            | Self::RemoveBackground { budget, .. }
            | Self::RemoveObject { budget, .. }
            | Self::LayerizeText { budget, .. }
            | Self::Describe { budget, .. }
            | Self::Batch { budget, .. }
            | Self::Job {
                action: JobAction::Submit { budget, .. },
            } => Some(budget),
            _ => None,
        }
    }

    /// The network options given after the command's name; `None` for a
    /// command that calls no service.
    pub(crate) fn connection(&self) -> Option<&Connection> {
        match self {
            Self::Generate { connection, .. }
            | Self::Quote { connection, .. }
            | Self::Remix { connection, .. }
            | Self::Edit { connection, .. }
            | Self::Reframe { connection, .. }
            | Self::ReplaceBackground { connection, .. }
            | Self::Upscale { connection, .. }
            | Self::RemoveBackground { connection, .. }
            | Self::RemoveObject { connection, .. }
            | Self::LayerizeText { connection, .. }
            | Self::Describe { connection, .. }
            | Self::Mcp { connection, .. }
            | Self::Batch { connection, .. } => Some(connection),
            Self::Job { action } => Some(match action {
                JobAction::Submit { connection, .. }
                | JobAction::Status { connection, .. }
                | JobAction::Wait { connection, .. } => connection,
            }),
            Self::Webhook {
                action: WebhookAction::Serve { connection, .. },
            } => Some(connection),
            #[cfg(feature = "mock")]
            Self::Mock(_) => None,
            Self::Fetch { .. }
            | Self::Spend { .. }
            | Self::Resolutions { .. }
            | Self::Palettes
            | Self::Models
            | Self::Completions { .. } => None,
        }
    }
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
pub(crate) enum JobAction {
    /// Queue a generation, or with --image a remix, and print its request
    /// id at once (stdout: the id alone); `job wait ID` (with the same
    /// --provider) fetches it. Billed when it runs.
    Submit {
        /// What to draw.
        prompt: String,
        /// An input image (an http(s) URL or a file): queues a remix.
        #[arg(long)]
        image: Option<String>,
        /// How closely to follow the input image, 1 to 100 (default 50).
        /// Only with an input image.
        #[arg(long, visible_alias = "weight", allow_negative_numbers = true)]
        image_weight: Option<String>,
        #[command(flatten)]
        options: Options,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        connection: Connection,
    },
    /// Print a job's state.
    Status {
        /// The request id `submit` returned.
        id: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Wait for a job and save its image.
    Wait {
        /// The request id.
        id: String,
        /// A file, or a folder.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Seconds to wait at most.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Replace an existing image and sidecar at the output name.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum WebhookAction {
    /// Receive deliveries on --listen and save their images in --output.
    ///
    /// A request sent with a `webhook_url` is delivered, once its images are
    /// done, as a signed POST. Each delivery's Ed25519 signature is checked
    /// against Ideogram's signing keys (fetched from the service at
    /// --base-url, again when a delivery names a key not seen yet), its
    /// timestamp against --window: a delivery that fails is answered 401
    /// and nothing of it is saved. A verified one is journaled by its
    /// generation id in the output folder before its images are
    /// downloaded, and answered 200 only once they are on disk (a failure
    /// answers 500 so that the service delivers again). The same delivery
    /// again saves nothing twice; a server restarted after a crash first
    /// downloads what its journal holds unsaved. One line per delivery on
    /// stdout (JSON with --json). Ctrl-C stops after the deliveries under
    /// way.
    ///
    /// The service delivers over HTTPS to a public host: put this behind a
    /// reverse proxy or tunnel that terminates TLS.
    Serve {
        /// The address to listen on (`127.0.0.1:8080`; port 0 picks one,
        /// printed on stderr).
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// The folder the images, their sidecars and the journal go in.
        #[arg(short, long)]
        output: PathBuf,
        /// How many seconds a delivery's timestamp may be from now, before
        /// or after (Ideogram documents none).
        #[arg(long, default_value_t = 300)]
        window: u64,
        #[command(flatten)]
        connection: Connection,
    },
}

/// What `ideogram --version` prints: clap's version line (the command's
/// name and this crate's version), built without clap.
pub(crate) const VERSION_LINE: &str = concat!("ideogram ", env!("CARGO_PKG_VERSION"), "\n");

/// Whether the arguments are `--version` or `-V` alone: printed at once
/// (`VERSION_LINE`), before clap builds its root command, which would take
/// more instructions than the rest of such a process. Every other form,
/// `-V` among other arguments too, is clap's to read.
pub(crate) fn asks_only_version(mut args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let _program = args.next();
    matches!((args.next(), args.next()), (Some(arg), None) if arg == "--version" || arg == "-V")
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Subcommand};

    use super::{Cli, JobAction, VERSION_LINE, WebhookAction, asks_only_version};

    /// The line printed without clap is the one clap prints.
    #[test]
    fn the_version_line_is_clap_s() {
        assert_eq!(VERSION_LINE, Cli::command().render_version());
    }

    /// Only `--version` or `-V` alone skips clap.
    #[test]
    fn only_a_lone_version_flag_skips_clap() {
        let args = |list: &[&str]| {
            list.iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        let asks = |list: &[&str]| asks_only_version(args(list).into_iter());
        assert!(asks(&["ideogram", "--version"]));
        assert!(asks(&["ideogram", "-V"]));
        assert!(!asks(&["ideogram"]));
        assert!(!asks(&["ideogram", "--version", "--json"]));
        assert!(!asks(&["ideogram", "--json", "-V"]));
        assert!(!asks(&["ideogram", "generate", "--version"]));
        assert!(!asks(&["ideogram", "--versions"]));
        assert!(!asks(&["ideogram", "-v"]));
    }

    /// Each subcommand's name, about and long about (clap's own `help`
    /// left out: it is added when a command is built).
    fn abouts(command: &clap::Command) -> Vec<String> {
        let text = |s: Option<&clap::builder::StyledStr>| s.map(ToString::to_string);
        let subcommands = command.get_subcommands().filter(|s| s.get_name() != "help");
        subcommands
            .map(|sub| {
                let (about, long) = (text(sub.get_about()), text(sub.get_long_about()));
                format!("{} {about:?} {long:?}", sub.get_name())
            })
            .collect()
    }

    #[test]
    fn commands_are_built_when_used_and_keep_their_own_about() {
        let mut command = Cli::command();
        // A process builds only the command it runs: the others' options
        // are not made at start.
        let generate = command.find_subcommand("generate").unwrap();
        assert_eq!(generate.get_arguments().count(), 0);
        let before = abouts(&command);
        let jobs_before = abouts(&JobAction::augment_subcommands(clap::Command::new("job")));
        let webhook = clap::Command::new("webhook");
        let webhooks_before = abouts(&WebhookAction::augment_subcommands(webhook));
        command.build();
        let generate = command.find_subcommand("generate").unwrap();
        assert!(generate.get_arguments().any(|a| a.get_id() == "prompt"));
        // The option groups a command flattens do not replace its about.
        assert_eq!(abouts(&command), before);
        assert_eq!(abouts(command.find_subcommand("job").unwrap()), jobs_before);
        let webhook = command.find_subcommand("webhook").unwrap();
        assert_eq!(abouts(webhook), webhooks_before);
    }
}

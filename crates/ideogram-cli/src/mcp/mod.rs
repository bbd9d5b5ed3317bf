//! `ideogram mcp`: the client's operations as tools for AI agents, served
//! over MCP on stdio. Stdout carries the protocol alone; notes and traces
//! go to stderr.
//!
//! A tool's input schema is the library's request schema, read from the
//! spec bodies (each body field by its spec name, with the specs' enums and
//! bounds); a call is checked against that very schema, then its arguments
//! are read as the library's type and checked whole before anything is
//! sent: a refusal
//! is a tool error naming the field and what it allows, and costs nothing.
//! Paid calls run as the CLI's commands do and are journaled in the output
//! folder as a batch's items are (`.ideogram-mcp.jsonl`, or
//! `.ideogram-mcp.N.jsonl` when other servers share the folder; see
//! [`shared`]): about to send, then the queue id or the image URLs before
//! anything is downloaded, then what was saved. A call repeated with the
//! same `idempotency_key` is answered from that journal, never sent twice.
//! Every result and error says whether it was billed.

mod answer;
mod budget;
mod call;
mod kept;
mod lifecycle;
mod server;
mod shared;
mod thumbnail;
mod tools;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ResourceContents, ServerCapabilities, ServerConfig, Tool as McpTool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt as _};

use crate::failure::{Failure, OTHER};
use crate::options::Connection;
use crate::output::tell;
use crate::signals::Signals;

use answer::{Refused, success};
use call::Call;
use lifecycle::InFlight;
use server::{Progress, Server};
use tools::Tool;

/// What every paid tool shares, said once (at `initialize`) rather than in
/// each tool's description.
const INSTRUCTIONS: &str = "Ideogram image generation. Call `models` for the tables (what each model takes, \
every resolution, palettes, style presets). Every argument is checked before anything is sent: a \
refusal names the field and what it allows, and costs nothing. Input images are http(s) URLs, \
data: URLs, or files in the folders this server may read (its output folder and the folders its \
user allowed). Images are saved in the server's output folder under new names with a JSON \
sidecar, never over a file; results give their paths, a thumbnail, and a resource to read. \
Every result says whether it was billed (`billed`). Pass an idempotency_key to paid tools: the \
same key again returns what the first call paid for instead of paying again. `quote` prices a call for free; paid results say what the servers on this output folder have `spent`, restarts included (and, under its user's budget, what is `left`: a call that could pass it is refused unsent).";

/// The tools `tools/list` publishes, named for `ideogram mcp --help` from
/// the same table, so that the help never lists other tools.
pub(crate) fn tools_help() -> String {
    let names: Vec<&str> = Tool::ALL.into_iter().map(Tool::name).collect();
    format!("Tools: {}.", names.join(", "))
}

// A doc attribute clap does not read (not a string literal): a command
// that flattens these options keeps its own about, also when clap builds
// it deferred (`#[command(defer = true)]` in args.rs).
#[doc = concat!(
    "`ideogram mcp`'s own options: what results show, which URLs tools ",
    "may fetch."
)]
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AgentOptions {
    /// Inline thumbnails of saved images in results (`small`: at most
    /// 512 px on the long side, under 1 MiB per result), or `none`.
    #[arg(long, value_name = "KIND", default_value = "small", value_parser = ["small", "none"])]
    pub(crate) thumbnails: String,
    /// A host whose URLs tools may fetch although it is loopback, private
    /// or link-local (repeatable); others such are refused.
    #[arg(long, value_name = "HOST")]
    pub(crate) allow_url_host: Vec<String>,
    /// The most the servers on this output folder may spend, in dollars
    /// (such as 12.50): each paid call is priced first (a free dry run,
    /// or the spec's price) and refused, unsent, when the most it can cost
    /// would pass what is left. Counted from what the folder's server
    /// journals record as spent, all time, read again at every call (a
    /// restart or a crash gives none of it back, and servers sharing the
    /// folder keep to it together): a fresh budget is a fresh --out folder.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub(crate) max_usd: Option<String>,
}

/// Serves the tools on stdio until the client closes it or an interrupt
/// arrives, saving images in `out`. Either way, calls in flight run to
/// their end (a second interrupt abandons them, journaled as sent).
pub(crate) async fn serve(
    connection: Connection,
    out: &Path,
    read: &[PathBuf],
    agent: AgentOptions,
    signals: Signals,
) -> Result<(), Failure> {
    let max_usd = agent
        .max_usd
        .as_deref()
        .map(|text| ideogram::usd_micros_from_dollars(text, "--max-usd"))
        .transpose()
        .map_err(|invalid| Failure::new(crate::failure::INVALID, invalid.to_string()))?;
    let mut server = Server::open(connection, out, read, signals.clone()).await?;
    // The spend: what this folder's server journals record, read again
    // as they grow.
    let journals = shared::journals(&server.out).collect();
    let own = server.journal.path().to_path_buf();
    server.budget = budget::Budget::new(max_usd, journals, own);
    let (spent, _) = server.budget.spent();
    server.input_urls = agent
        .allow_url_host
        .iter()
        .fold(server.input_urls, |policy, host| policy.allow_host(host));
    // Several servers may share the folder, each with its own journal.
    let journal = server.journal.path().display().to_string();
    let budget = max_usd.map_or_else(String::new, |max| {
        format!(
            ", spending at most {} ({} of it spent already, as this folder's server journals record)",
            ideogram::dollars(max),
            spent.said()
        )
    });
    tell(&format!(
        "ideogram mcp: serving on stdio, saving in {} (journal {journal}){budget}{}",
        server.out.display(),
        if server.offline.is_some() {
            " (offline: the built-in mock, nothing is billed)"
        } else {
            ""
        }
    ));
    let calls = InFlight::new();
    let (stdio, written) = transport::stdio();
    let server = Arc::new(server);
    let handler = Handler {
        server: server.clone(),
        calls: calls.clone(),
        thumbnails: agent.thumbnails != "none",
    };
    let running = handler
        .serve(stdio)
        .await
        .map_err(|e| Failure::new(OTHER, format!("MCP session did not start: {e}")))?;
    let stop = running.cancellation_token();
    let interrupted = tokio::select! {
        ended = running.waiting() => {
            ended.map_err(|e| Failure::new(OTHER, format!("MCP session failed: {e}")))?;
            false
        }
        () = signals.reached(1) => {
            // Stop reading calls; those in flight run on.
            stop.cancel();
            true
        }
    };
    let why = if interrupted {
        "interrupted"
    } else {
        "stdin closed"
    };
    if calls.count() > 0 {
        tell(&format!(
            "ideogram mcp: {why}: taking no more calls; waiting for the {} still running \
             (interrupt again to abandon them)",
            calls.count()
        ));
    }
    let abandoned = signals.unless(2, calls.idle()).await.is_none();
    let delivered = written.flushed(lifecycle::FLUSH).await;
    // Paid images no place took are lost with the process: tried once more.
    let kept = server.last_attempt().await;
    if abandoned {
        return Err(Failure::new(
            crate::failure::INTERRUPTED,
            format!(
                "interrupted twice: calls still running were abandoned; they are in the journal \
                 ({journal}) as sent, and a repeat with their idempotency_key is not sent again"
            ),
        ));
    }
    if !delivered {
        return Err(Failure::new(
            OTHER,
            format!(
                "ideogram mcp: {why}, and stdout was not read for {} s: answers were left \
                 unwritten (every paid call is in the journal, {journal})",
                lifecycle::FLUSH.as_secs()
            ),
        ));
    }
    tell(&format!(
        "ideogram mcp: {why}; every call ran to its end (the journal, {journal}, says what each paid for)"
    ));
    server.leave_unused();
    if kept > 0 {
        return Err(Failure::new(
            crate::failure::NOT_SAVED,
            format!(
                "{kept} paid image(s) no place took were still kept in memory at the end: \
                 each is listed above, saved or lost"
            ),
        ));
    }
    if interrupted {
        return Err(Failure::new(
            crate::failure::INTERRUPTED,
            format!(
                "interrupted; every call in flight ran to its end (see the journal, {journal})"
            ),
        ));
    }
    Ok(())
}

/// The server as rmcp runs it.
struct Handler {
    server: Arc<Server>,
    /// The calls running now, which the server waits for before it ends.
    calls: InFlight,
    /// Whether results carry thumbnails.
    thumbnails: bool,
}

impl ServerHandler for Handler {
    // Logging (deprecated by 2026-07-28's SEP-2577) tells a client where a
    // call it cancelled left its images.
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("ideogram", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = Tool::ALL
            .into_iter()
            .map(|tool| {
                // Only what differs from the hints' defaults (not read
                // only, destructive, not idempotent, open world): every
                // byte of tools/list is in the agent's context.
                let annotations = if tool.paid() {
                    ToolAnnotations::new().destructive(false)
                } else if tool == Tool::Models {
                    ToolAnnotations::new()
                        .read_only(true)
                        .idempotent(true)
                        .open_world(false)
                } else {
                    // Open world, the default: they ask the service.
                    ToolAnnotations::new().read_only(true).idempotent(true)
                };
                McpTool::new(tool.name(), tool.description(), tool.input_schema())
                    .with_raw_output_schema(tool.output_schema())
                    .annotate(annotations)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = Tool::named(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool named {:?}", request.name),
                None,
            ));
        };
        let progress = Progress::of(&context);
        // Checked against the very schema tools/list publishes: lengths
        // (nothing past them is read, sent or repeated whole), bounds,
        // unknown fields.
        let mut arguments = request.arguments.unwrap_or_default();
        let checked = tool
            .check(&mut arguments)
            .and_then(|()| Call::read(arguments));
        let outcome = match checked {
            Ok(call) => {
                // rmcp wants a `Send` future, and rustc cannot prove some
                // of the library's (describe, a job's wait) to be for every
                // lifetime; so the call runs to its end on a thread of its
                // own, on this runtime.
                // Counted until the call ends, not until rmcp stops waiting
                // for it: the server ends only once every paid call has.
                let running = self.calls.enter();
                let server = self.server.clone();
                let thumbnails = self.thumbnails;
                let runtime = tokio::runtime::Handle::current();
                // Thumbnails are made on that thread too: decoding is work.
                tokio::task::spawn_blocking(move || {
                    let _running = running;
                    let (peer, ct) = (progress.peer.clone(), progress.ct.clone());
                    runtime.block_on(async {
                        let work = server.call(tool, call, progress);
                        let outcome = server.signals.unless(2, work).await.unwrap_or_else(|| {
                            Err(Failure::new(
                                crate::failure::INTERRUPTED,
                                "abandoned (interrupted twice): if it was sent, the journal says so and a repeat is not sent again",
                            )
                            .into())
                        });
                        if ct.is_cancelled() {
                            lifecycle::report(&peer, tool.name(), &outcome).await;
                        }
                        outcome.map(|answer| success(answer, thumbnails))
                    })
                })
                .await
                .map_err(|e| {
                    ErrorData::internal_error(format!("the call ended early: {e}"), None)
                })?
            }
            Err(invalid) => Err(Refused::invalid(invalid)),
        };
        let result = match outcome {
            Ok(result) => result,
            Err(refused) => refused.result(),
        };
        Ok(crate::redact::serialized(result).into())
    }

    /// The images this folder's journal says were saved, newest first.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = self
            .server
            .saved()
            .iter()
            .map(|path| answer::resource(path))
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    /// A saved image (or its sidecar), by the `file://` URI a result or
    /// `resources/list` gave; nothing else on the machine.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let unknown = || {
            ErrorData::resource_not_found(
                format!(
                    "{} is not an image this server saved; resources/list lists them",
                    request.uri
                ),
                None,
            )
        };
        let path = answer::path_of_uri(&request.uri).ok_or_else(unknown)?;
        let ours = self
            .server
            .saved()
            .iter()
            .any(|saved| *saved == path || crate::naming::Stem::sidecar_of(saved) == path);
        if !ours {
            return Err(unknown());
        }
        let bytes = read_bounded(&path)
            .map_err(|failure| ErrorData::internal_error(failure.message, None))?;
        let mime = answer::mime_of(&path);
        let contents = if mime == "application/json" {
            ResourceContents::TextResourceContents {
                uri: request.uri.clone(),
                mime_type: Some(mime.to_owned()),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                meta: None,
            }
        } else {
            use base64::Engine as _;
            ResourceContents::BlobResourceContents {
                uri: request.uri.clone(),
                mime_type: Some(mime.to_owned()),
                blob: base64::engine::general_purpose::STANDARD.encode(bytes),
                meta: None,
            }
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

/// A saved file's bytes, if it is a regular file of at most the library's
/// download bound (nothing it saved is larger).
fn read_bounded(path: &Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read as _;
    let file = crate::connect::open_regular(path, OTHER)?;
    let mut bytes = Vec::new();
    file.take(ideogram::MAX_DOWNLOAD_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use answer::file_uri;
    use call::{canonical, fingerprint};
    use ideogram::GenerateRequest;
    use serde_json::{Value, json};
    use tools::{MAX_KEY, MAX_WAIT};

    fn call(args: Value) -> Call {
        match args {
            Value::Object(map) => Call::read(map).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn schemas_are_the_library_types_with_the_call_fields() {
        let generate = Tool::Generate.input_schema();
        let properties = generate["properties"].as_object().unwrap();
        for field in [
            "prompt",
            "model",
            "resolution",
            "aspect_ratio",
            "seed",
            "provider",
            "idempotency_key",
        ] {
            assert!(properties.contains_key(field), "{field}: {generate:?}");
        }
        assert_eq!(generate["required"], json!(["prompt"]));
        for tool in Tool::ALL {
            let text = Value::Object((*tool.input_schema()).clone()).to_string();
            assert!(!text.contains("$ref"), "{}: {text}", tool.name());
        }
        let model = &generate["properties"]["model"];
        assert!(model.to_string().contains("V_2A_TURBO"), "{model}");
        assert_eq!(
            Tool::Remix.input_schema()["required"],
            json!(["prompt", "image"])
        );
        let status = Tool::JobStatus.input_schema();
        assert!(
            !status["properties"]
                .as_object()
                .unwrap()
                .contains_key("provider")
        );
        // The operation's fields beside the others, by their spec names.
        let reframe = Tool::Reframe.input_schema();
        assert!(
            reframe["properties"]["resolution"].is_object(),
            "{reframe:?}"
        );
        assert!(
            reframe["properties"].get("operation").is_none(),
            "{reframe:?}"
        );
        assert!(reframe["properties"].get("mask").is_none(), "{reframe:?}");
        assert_eq!(reframe["required"], json!(["image", "resolution"]));
        assert_eq!(Tool::Reframe.nested(), ["resolution"]);
        // v2's removals: their bodies' fields (without `async`: the tool
        // waits) and the call's own.
        let fields = |tool: Tool| {
            let schema = tool.input_schema();
            let mut fields: Vec<String> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            fields.sort();
            (fields, schema["required"].clone())
        };
        assert_eq!(
            fields(Tool::RemoveBackground),
            (
                ["idempotency_key", "image", "provider"]
                    .map(String::from)
                    .to_vec(),
                json!(["image"])
            )
        );
        // Remove-object's `seed` is its body's (Ideogram's OpenAPI of
        // 2026-10-07), reaching the tool through the spec.
        assert_eq!(
            fields(Tool::RemoveObject),
            (
                ["idempotency_key", "image", "mask", "provider", "seed"]
                    .map(String::from)
                    .to_vec(),
                json!(["image", "mask"])
            )
        );
        assert_eq!(Tool::RemoveObject.nested(), ["mask"]);
    }

    #[test]
    fn refusals_name_the_field_and_what_it_allows() {
        let err = call(json!({"prompt": "a fox", "resolution": "1000x1000"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert_eq!(err.field, "resolution");
        assert!(!err.message.starts_with("invalid"), "{err}");
        let mut args = json!({"prompt": "a fox", "colour": "red"})
            .as_object()
            .unwrap()
            .clone();
        let err = Tool::Generate.check(&mut args).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let mut args = json!({"prompt": "a fox", "seed": "many"})
            .as_object()
            .unwrap()
            .clone();
        let err = Tool::Generate.check(&mut args).unwrap_err();
        assert_eq!(err.field, "seed");
        let mut args = json!({"prompt": "x", "provider": "openai"})
            .as_object()
            .unwrap()
            .clone();
        let err = Tool::Generate.check(&mut args).unwrap_err();
        assert_eq!(err.field, "provider");
        assert!(err.to_string().contains("segmind, ideogram"), "{err}");
        let refused = Refused::invalid(err).result();
        assert_eq!(refused.is_error, Some(true));
        assert_eq!(refused.structured_content.unwrap()["billed"], "no");
    }

    /// What tools/list publishes is what a call is checked against: each
    /// bound in a schema refuses the value past it, and the value at it
    /// passes (issue 23, item 5).
    #[test]
    fn calls_are_checked_against_the_published_schemas() {
        let check = |tool: Tool, args: Value| {
            let mut args = args.as_object().unwrap().clone();
            tool.check(&mut args).map(|()| Value::Object(args))
        };
        let image = "https://example.com/a.png";
        let refused = [
            (
                Tool::JobWait,
                json!({"request_id": "r", "timeout_seconds": 0}),
                "timeout_seconds",
            ),
            (
                Tool::JobWait,
                json!({"request_id": "r", "timeout_seconds": MAX_WAIT + 1}),
                "timeout_seconds",
            ),
            (Tool::Models, json!({"x": 1}), "x"),
            (
                Tool::Upscale,
                json!({"image": image, "color_palette": {"name": "EMBER"}}),
                "color_palette",
            ),
            (
                Tool::Edit,
                json!({"image": image, "num_images": 0, "mask": image, "prompt": "x"}),
                "num_images",
            ),
            (
                Tool::Edit,
                json!({"image": image, "num_images": 9, "mask": image, "prompt": "x"}),
                "num_images",
            ),
            (Tool::Edit, json!({"image": image, "prompt": "x"}), "mask"),
            (Tool::RemoveObject, json!({"image": image}), "mask"),
            (
                Tool::RemoveBackground,
                json!({"image": image, "prompt": "x"}),
                "prompt",
            ),
            (
                Tool::Upscale,
                json!({"image": image, "detail": 101}),
                "detail",
            ),
            (
                Tool::Upscale,
                json!({"image": image, "resemblance": 0}),
                "resemblance",
            ),
            (
                Tool::Upscale,
                json!({"image": image, "resemblance": 1000}),
                "resemblance",
            ),
            (
                Tool::Upscale,
                json!({"image": image, "operation": {"resemblance": 50}}),
                "operation",
            ),
            (
                Tool::Generate,
                json!({"prompt": "x", "seed": "42.0"}),
                "seed",
            ),
            (
                Tool::Generate,
                json!({"prompt": "x", "seed": " 42"}),
                "seed",
            ),
            (
                Tool::Generate,
                json!({"prompt": "x", "seed": "4e3"}),
                "seed",
            ),
            (
                Tool::Generate,
                json!({"prompt": "x", "idempotency_key": "k".repeat(MAX_KEY + 1)}),
                "idempotency_key",
            ),
        ];
        for (tool, args, field) in refused {
            let err = check(tool, args.clone()).expect_err(&args.to_string());
            assert_eq!(err.field, field, "{}: {err}", tool.name());
        }
        // Texts past their bounds, and unknown fields, are refused without
        // being repeated whole.
        let long = "x".repeat(10 << 20);
        for (tool, args) in [
            (Tool::JobStatus, json!({"request_id": long})),
            (Tool::Generate, json!({"prompt": long})),
            (Tool::Generate, json!({"prompt": "x", "resolution": long})),
            (Tool::Models, json!({ long.clone(): 1 })),
        ] {
            let err = check(tool, args).unwrap_err();
            let text = err.to_string();
            assert!(text.len() < 300, "{}: {:.300}", tool.name(), text);
        }
        let passed = check(
            Tool::Generate,
            json!({"prompt": "x", "seed": "4242", "style": null}),
        )
        .unwrap();
        assert_eq!(passed, json!({"prompt": "x", "seed": 4242}));
        let published = Value::Object((*Tool::Upscale.input_schema()).clone());
        let detail = &published["properties"]["detail"];
        let range = ideogram::raw::ideogram::limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL;
        assert_eq!(detail["maximum"], *range.end(), "{detail}");
        assert!(
            check(
                Tool::Upscale,
                json!({"image": image, "detail": *range.end()})
            )
            .is_ok()
        );
        assert!(
            check(Tool::Upscale, json!({"image": image})).is_ok(),
            "upscale's operation is optional"
        );
        for field in ["palette", "color_palette", "style_reference_images"] {
            assert!(published["properties"].get(field).is_none(), "{published}");
        }
    }

    /// tools/list fits an agent's context: no 105-value enums repeated,
    /// no Rust names, no CLI commands (issue 23, item 12).
    #[test]
    fn tool_definitions_are_small_and_speak_to_an_agent() {
        let mut total = 0;
        for tool in Tool::ALL {
            let text = format!(
                "{} {} {}",
                tool.description(),
                Value::Object((*tool.input_schema()).clone()),
                Value::Object((*tool.output_schema()).clone())
            );
            total += text.len();
            for rust in ["::", "limits", "Option<", "`ColorPalette", "uint32"] {
                assert!(!text.contains(rust), "{}: {rust} in {text}", tool.name());
            }
            for cli in ["ideogram models", "--overwrite", "--wait", "--provider"] {
                assert!(!text.contains(cli), "{}: {cli} in {text}", tool.name());
            }
            assert!(!text.contains("$ref"), "{}: {text}", tool.name());
        }
        // v2's operations added about 1 KB (issue 29), its two removal tools
        // 0.7 KB more (the other descriptions shortened to make room for some
        // of it), describe's `model` (its three models) 50 bytes, `quote`
        // 0.4 KB (its arguments are another tool's, checked by that tool's
        // schema, not a copy), layerize_text's `operation` 90 bytes (room
        // made by dropping a merged field's choices another takes every
        // value of, and a shorter `operation` description), v2's
        // custom-model and transparent variants 0.5 KB
        // (`stacked_custom_models`, `output_resolution`; their asset
        // identifiers no tool offers), made room for by shorter first
        // sentences in the specs; `quote` of describe and layerize_text and
        // remove_object's `seed` 40 bytes, made room for by shorter magic
        // prompt descriptions; the wire stays under 17 KB
        // (tests/python/mcp_client.py).
        assert!(total < 15_250, "{total} bytes of tool definitions");
        assert!(Tool::named("layerize_text").is_some());
    }

    #[test]
    fn a_call_reads_the_same_whatever_its_key_order() {
        let one = json!({"prompt": "a fox", "palette": {"name": "EMBER", "x": 1}});
        let two = json!({"palette": {"x": 1, "name": "EMBER"}, "prompt": "a fox"});
        let text = |v: Value| canonical(Tool::Generate, v.as_object().unwrap());
        assert_eq!(text(one.clone()), text(two));
        assert_ne!(
            text(one.clone()),
            canonical(Tool::Remix, one.as_object().unwrap())
        );
        // Journals outlive binaries: the fingerprint of a text never changes.
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/tmp/a fox#1.png")),
            "file:///tmp/a%20fox%231.png"
        );
    }
}

//! `ideogram mcp`: the client's operations as tools for AI agents, served
//! over MCP on stdio. Stdout carries the protocol alone; notes and traces
//! go to stderr.
//!
//! A tool's input schema is the library's request type's JSON Schema (the
//! specs' enums and bounds, which model takes what), and its arguments are
//! read as that type and checked whole before anything is sent: a refusal
//! is a tool error naming the field and what it allows, and costs nothing.
//! Paid calls run as the CLI's commands do and are journaled in the output
//! folder as a batch's items are (`.ideogram-mcp.jsonl`, or
//! `.ideogram-mcp.N.jsonl` when other servers share the folder; see
//! [`shared`]): about to send, then the queue id or the image URLs before
//! anything is downloaded, then what was saved. A call repeated with the
//! same `idempotency_key` is answered from that journal, never sent twice.
//! Every result and error says whether it was billed.

mod answer;
mod bounds;
mod call;
mod lifecycle;
mod server;
mod shared;
mod tools;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool as McpTool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt as _};

use crate::args::Connection;
use crate::failure::{Failure, OTHER};
use crate::output::tell;
use crate::signals::Signals;

use answer::{Refused, success};
use call::Call;
use lifecycle::InFlight;
use server::{Progress, Server};
use tools::Tool;

/// The journal's name in the output folder (the first server's; see
/// [`shared`] for the others').
pub(crate) const JOURNAL: &str = ".ideogram-mcp.jsonl";

/// The longest idempotency key, in bytes.
pub(super) const MAX_KEY: usize = 200;

/// The longest wait a `job_wait` call may ask for, in seconds.
pub(super) const MAX_WAIT: u64 = 3600;

/// The longest sidecar read back for a repeated call, in bytes.
pub(super) const MAX_SIDECAR: u64 = 1 << 20;

/// Serves the tools on stdio until the client closes it or an interrupt
/// arrives, saving images in `out`. Either way, calls in flight run to
/// their end (a second interrupt abandons them, journaled as sent).
pub(crate) async fn serve(
    connection: Connection,
    out: &Path,
    read: &[PathBuf],
    signals: Signals,
) -> Result<(), Failure> {
    let server = Server::open(connection, out, read, signals.clone()).await?;
    // Several servers may share the folder, each with its own journal.
    let journal = server.journal.path().display().to_string();
    tell(&format!(
        "ideogram mcp: serving on stdio, saving in {} (journal {journal}){}",
        server.out.display(),
        if server.offline.is_some() {
            " (offline: the built-in mock, nothing is billed)"
        } else {
            ""
        }
    ));
    let calls = InFlight::new();
    let (stdio, written) = transport::stdio();
    let handler = Handler {
        server: Arc::new(server),
        calls: calls.clone(),
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
}

impl ServerHandler for Handler {
    // Logging (deprecated by 2026-07-28's SEP-2577) tells a client where a
    // call it cancelled left its images.
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new("ideogram", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Ideogram image generation. Call `models` first to see what each model takes. \
                 Images are saved on the server's machine; results give their paths. Every \
                 result says whether it was billed; pass an idempotency_key to paid tools so a \
                 repeated call never pays twice.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = Tool::ALL
            .into_iter()
            .map(|tool| {
                let annotations = ToolAnnotations::new()
                    .read_only(!tool.paid())
                    .destructive(false)
                    .idempotent(!tool.paid())
                    .open_world(tool != Tool::Models);
                McpTool::new(tool.name(), tool.description(), Arc::new(tool.schema()))
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
        // The published schema's lengths first: nothing past them is read,
        // sent or repeated whole.
        let arguments = request.arguments.unwrap_or_default();
        let checked = bounds::check(&tool.schema(), &arguments).map(|()| arguments);
        let outcome = match checked.and_then(|arguments| Call::read(Some(arguments))) {
            Ok(call) => {
                // rmcp wants a `Send` future, and rustc cannot prove some
                // of the library's (describe, a job's wait) to be for every
                // lifetime; so the call runs to its end on a thread of its
                // own, on this runtime.
                // Counted until the call ends, not until rmcp stops waiting
                // for it: the server ends only once every paid call has.
                let running = self.calls.enter();
                let server = self.server.clone();
                let runtime = tokio::runtime::Handle::current();
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
                        outcome
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
            Ok(answer) => success(answer),
            Err(refused) => refused.result(),
        };
        Ok(crate::redact::serialized(result).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use answer::file_uri;
    use call::{canonical, fingerprint};
    use ideogram::GenerateRequest;
    use serde_json::{Value, json};

    fn call(args: Value) -> Call {
        match args {
            Value::Object(map) => Call::read(Some(map)).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn schemas_are_the_library_types_with_the_call_fields() {
        let generate = Tool::Generate.schema();
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
            let text = Value::Object(tool.schema()).to_string();
            assert!(!text.contains("$ref"), "{}: {text}", tool.name());
        }
        let model = &generate["properties"]["model"];
        assert!(model.to_string().contains("V_2A_TURBO"), "{model}");
        assert_eq!(Tool::Remix.schema()["required"], json!(["prompt", "image"]));
        let status = Tool::JobStatus.schema();
        assert!(
            !status["properties"]
                .as_object()
                .unwrap()
                .contains_key("provider")
        );
        let reframe = Tool::Reframe.schema();
        let operation = &reframe["properties"]["operation"];
        assert!(
            operation["properties"]["resolution"].is_object(),
            "{operation}"
        );
        assert!(operation["properties"].get("mask").is_none(), "{operation}");
    }

    #[test]
    fn refusals_name_the_field_and_what_it_allows() {
        let err = call(json!({"prompt": "a fox", "resolution": "1000x1000"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert_eq!(err.field, "resolution");
        assert!(!err.message.starts_with("invalid"), "{err}");
        let err = call(json!({"prompt": "a fox", "colour": "red"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = call(json!({"prompt": "a fox", "seed": "many"}))
            .parse::<GenerateRequest>()
            .unwrap_err();
        assert_eq!(err.field, "seed");
        let err = Call::read(Some(
            json!({"prompt": "x", "provider": "openai"})
                .as_object()
                .unwrap()
                .clone(),
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("segmind or ideogram"), "{err}");
        let refused = Refused::invalid(err).result();
        assert_eq!(refused.is_error, Some(true));
        assert_eq!(refused.structured_content.unwrap()["billed"], "no");
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

//! `-v`, `-vv` and `RUST_LOG`: the library's tracing on stderr, redacted.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// What `-v` and `-vv` show: the client's spans and events, not the HTTP
/// stack's, nor the deprecation warning the CLI prints as its own line.
const VERBOSE: &str = "ideogram=debug,ideogram_raw=debug,ideogram_raw::deprecation=off";
const VERY_VERBOSE: &str = "ideogram=trace,ideogram_raw=trace,ideogram_raw::deprecation=off";

/// Sends traces to stderr: by `-v` (`verbose` times), else by `RUST_LOG`,
/// else none at all.
pub(crate) fn init(verbose: u8) {
    let filter = match verbose {
        0 => match std::env::var("RUST_LOG") {
            Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
            _ => return,
        },
        1 => EnvFilter::new(VERBOSE),
        _ => EnvFilter::new(VERY_VERBOSE),
    };
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::redact::Stderr)
        .with_ansi(colour)
        .init();
}

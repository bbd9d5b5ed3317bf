//! The calls running now, and how the server ends: on stdin closed, SIGINT
//! or SIGTERM it stops taking calls, lets every call in flight finish (a
//! paid image saved and journaled), says on stderr what became of each, and
//! exits non-zero only when one was abandoned (a second interrupt).

use std::sync::Arc;
use std::time::Duration;

#[allow(deprecated)]
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::output::tell;

use super::answer::Refused;

/// How long answers may wait to be written once the session is over.
pub(super) const FLUSH: Duration = Duration::from_secs(5);

/// The calls running now, counted.
#[derive(Clone)]
pub(super) struct InFlight(Arc<watch::Sender<usize>>);

/// One call running; counted out when dropped, however it ends.
pub(super) struct Running(Arc<watch::Sender<usize>>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl InFlight {
    pub(super) fn new() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }

    /// Counts a call in.
    pub(super) fn enter(&self) -> Running {
        self.0.send_modify(|n| *n += 1);
        Running(self.0.clone())
    }

    /// Calls running now.
    pub(super) fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Resolves once no call runs.
    pub(super) async fn idle(&self) {
        let mut watch = self.0.subscribe();
        let _ = watch.wait_for(|n| *n == 0).await;
    }
}

/// Where a call that ended after its client stopped waiting left what it
/// paid for, in a line.
pub(super) fn summary(tool: &str, outcome: &Result<Value, Refused>) -> String {
    match outcome {
        Ok(answer) => {
            let paths: Vec<&str> = answer["images"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|image| image["path"].as_str())
                .collect();
            if paths.is_empty() {
                format!("{tool} ended: {answer}")
            } else {
                format!(
                    "{tool} ended (billed: {}); saved {}",
                    answer["billed"].as_str().unwrap_or("yes"),
                    paths.join(", ")
                )
            }
        }
        Err(refused) => format!(
            "{tool} ended: {} (billed: {})",
            refused.failure.message,
            refused.billed.text()
        ),
    }
}

/// Tells the client (a log notification, when it still listens) and
/// stderr what became of a call it cancelled or left behind. (Logging is
/// deprecated by the 2026-07-28 revision, SEP-2577, but is how a client of
/// 2025-11-25, every client today, hears of a call it no longer waits for.)
#[allow(deprecated)]
pub(super) async fn report(
    peer: &rmcp::Peer<rmcp::service::RoleServer>,
    tool: &str,
    outcome: &Result<Value, Refused>,
) {
    let line = summary(tool, outcome);
    tell(&format!(
        "ideogram mcp: a call no longer waited for: {line}"
    ));
    let data = match outcome {
        Ok(answer) => json!({"tool": tool, "message": line, "result": answer}),
        Err(refused) => {
            json!({"tool": tool, "message": line, "billed": refused.billed.text()})
        }
    };
    let _ = peer
        .notify_logging_message(
            LoggingMessageNotificationParam::new(LoggingLevel::Notice, data)
                .with_logger("ideogram"),
        )
        .await;
}

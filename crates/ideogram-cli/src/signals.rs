//! Ctrl-C and `kill`, counted: the first asks a command to stop what it can
//! stop without losing a paid result, later ones escalate (a batch prints
//! what it still waits for on the second and abandons on the third).

use tokio::sync::watch;

/// How many interrupts (SIGINT or SIGTERM) have arrived.
#[derive(Clone)]
pub(crate) struct Signals(watch::Receiver<u32>);

impl Signals {
    /// Starts counting interrupts; from now on they no longer end the
    /// process by themselves.
    pub(crate) fn listen() -> Self {
        let (sender, receiver) = watch::channel(0u32);
        // Registered here, before anything is sent, not when the counting
        // task first runs: an interrupt in between would end the process.
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = interrupt.recv() => {}
                            _ = terminate.recv() => {}
                        }
                        sender.send_modify(|n| *n += 1);
                    }
                });
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                sender.send_modify(|n| *n += 1);
            }
        });
        Self(receiver)
    }

    /// Counts interrupts that never come: for tests of code that takes
    /// them, without taking the process's signals.
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        let (sender, receiver) = watch::channel(0u32);
        // Kept: a dropped sender would read as the count's end.
        Box::leak(Box::new(sender));
        Self(receiver)
    }

    /// Interrupts so far.
    pub(crate) fn count(&self) -> u32 {
        *self.0.borrow()
    }

    /// Resolves once at least `n` interrupts have arrived.
    pub(crate) async fn reached(&self, n: u32) {
        let mut watch = self.0.clone();
        let _ = watch.wait_for(|count| *count >= n).await;
    }

    /// Runs `work` unless `n` interrupts arrive first.
    pub(crate) async fn unless<T>(&self, n: u32, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            value = work => Some(value),
            () = self.reached(n) => None,
        }
    }
}

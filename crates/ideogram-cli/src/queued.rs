//! A one-shot command (`generate`, `remix`, `edit`, ...) on Segmind's queue,
//! the default there: the request is journaled as sending, submitted, and
//! its id journaled at once, before any wait, in a journal of its own in the
//! output folder (`.ideogram-queued-<hash>.jsonl`, the batch journal's
//! format, keyed by the command's request and output). A rerun of a command
//! killed after its submit finds the id and waits for that job instead of
//! paying again; a rerun of one killed before its id reached the disk
//! refuses to send again (it may have been billed). The journal is removed
//! once the images are saved.
//!
//! Segmind keeps a queued result for an hour after submission
//! ([`ideogram::Provider::result_ttl`]): a job resumed near the end of that
//! is told to be fetched now ([`expiry_note`]).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ideogram::{Generation, Prepared, Provider};

use crate::clock::now;
use crate::connect::Session;
use crate::failure::{FAILED, Failure, INTERRUPTED, NOT_SAVED};
use crate::journal::{Entry, ItemState, Journal};
use crate::output::tell;
use crate::signals::Signals;

/// What to tell of job `id`, submitted at `submitted` (Unix seconds), when
/// it is resumed: with less than a sixth of Segmind's retention left (10
/// minutes of the hour), to fetch it now and how long is left. Nothing when
/// the time is unknown, or plenty is left; nothing either once it is past,
/// where the service's answer (`Expired`) says so.
pub(crate) fn expiry_note(provider: Provider, id: &str, submitted: Option<u64>) -> Option<String> {
    let ttl = provider.result_ttl()?;
    let gone = Duration::from_secs(now().saturating_sub(submitted?));
    let left = ttl.checked_sub(gone).filter(|left| !left.is_zero())?;
    if left > ttl / 6 {
        return None;
    }
    let minutes = left.as_secs().div_ceil(60);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    Some(format!(
        "warning: job {id}: fetch now: {} keeps results for {} after submission, {minutes} {unit} left",
        match provider {
            Provider::Segmind => "Segmind",
            _ => "Ideogram",
        },
        provider.result_ttl_text()?
    ))
}

/// The journal of one command's queued request (item 0).
pub(crate) struct Single {
    journal: Journal,
    state: ItemState,
}

impl Single {
    /// The journal in `dir` of the request `key` names (what is asked, of
    /// which provider, saved where), reopened where an earlier run left it,
    /// else created when `create` (once the request is checked, so that a
    /// refused one leaves no file); `None` when the session does not queue
    /// (Segmind with `--sync`). Another run of the same
    /// command at once is refused, not waited for.
    pub(crate) fn open(
        session: &Session,
        dir: &Path,
        key: &str,
        create: bool,
    ) -> Result<Option<Self>, Failure> {
        if !session.queues() {
            return Ok(None);
        }
        let fingerprint = crate::journal::fnv1a(key.bytes());
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let path = dir.join(format!(".ideogram-queued-{fingerprint}.jsonl"));
        if !create && std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let (journal, mut states) = Journal::open(&path, &fingerprint, 1, false)?;
        let state = states.remove(&0).unwrap_or_default();
        Ok(Some(Self { journal, state }))
    }

    /// The job an earlier run of this command queued, waited for (nothing
    /// sent); `None` when there is none. Refused when an earlier run sent
    /// the request and recorded no id: it may have been billed.
    pub(crate) async fn resume(
        &self,
        session: &Session,
        signals: &Signals,
    ) -> Result<Option<Generation>, Failure> {
        if let Some(id) = &self.state.request_id {
            tell(&format!(
                "note: an earlier run of this command queued job {id}: waiting for it, nothing is sent again"
            ));
            if let Some(note) = expiry_note(session.provider, id, self.state.submitted_at) {
                tell(&note);
            }
            return self.wait(session, signals, id).await.map(Some);
        }
        if self.state.uncertain() {
            return Err(Failure::new(
                FAILED,
                "not sent again: an earlier run of this command sent it and may have been billed without recording its request id",
            )
            .hint(format!(
                "remove {} to send it anyway (which may pay twice)",
                self.path().display()
            )));
        }
        Ok(None)
    }

    /// Journals the request as sending, submits it (not interruptible: its
    /// id must reach the journal), journals the id and when, and waits.
    pub(crate) async fn submit_and_wait(
        &self,
        session: &Session,
        signals: &Signals,
        prepared: Prepared<'_>,
        room: crate::room::Reservation,
    ) -> Result<Generation, Failure> {
        let provider = session.provider;
        self.journal
            .commit(&Entry::Sending {
                item: 0,
                provider: Some(provider.to_string()),
                key: None,
                most_usd_micros: None,
            })
            .await?;
        let job = match prepared.submit().await {
            Ok(job) => job,
            Err(err) => {
                let maybe_billed = !err.certainly_not_billed();
                let failure = Failure::from_error(err, provider);
                self.failed(&failure, maybe_billed, false);
                return Err(failure);
            }
        };
        let id = job.id().to_owned();
        self.journal
            .commit(&Entry::Submitted {
                item: 0,
                request_id: id.clone(),
                model: None,
                prompt: None,
                at: Some(now()),
            })
            .await
            .map_err(|failure| {
                Failure::new(
                    NOT_SAVED,
                    format!(
                        "{}; it was queued as {id} and bills when it runs: `{}` fetches it (within the hour)",
                        failure.message,
                        session.wait_command(&id)
                    ),
                )
            })?;
        let generation = self.waiting(session, signals, &id, job.wait()).await;
        // The room reserved for its images, given back to save them.
        room.release();
        generation
    }

    /// Waits for job `id`, resumed by id.
    async fn wait(
        &self,
        session: &Session,
        signals: &Signals,
        id: &str,
    ) -> Result<Generation, Failure> {
        let job = session.client.job(id);
        self.waiting(session, signals, id, job.wait()).await
    }

    /// `waiting` unless interrupted: the job runs on, and this command
    /// (or `job wait`) fetches it later.
    async fn waiting(
        &self,
        session: &Session,
        signals: &Signals,
        id: &str,
        waiting: impl Future<Output = Result<Generation, ideogram::Error>>,
    ) -> Result<Generation, Failure> {
        match signals.unless(1, waiting).await {
            Some(Ok(generation)) => Ok(generation),
            Some(Err(err)) => {
                let expired = matches!(err.root(), ideogram::Error::Expired { .. });
                // A FAILED job was not billed: a rerun sends it afresh.
                let maybe_billed = !err.certainly_not_billed();
                let mut failure = session.job_failure(err, id);
                self.failed(&failure, maybe_billed, expired);
                if expired {
                    // Paid for and gone: only a new request (a new charge)
                    // makes the images now.
                    failure = failure.hint(format!(
                        "remove {} to send it again, which pays again",
                        self.path().display()
                    ));
                }
                Err(failure)
            }
            None => Err(Failure::new(
                INTERRUPTED,
                format!(
                    "interrupted; job {id} runs on and bills: run this command again, or `{}`, to fetch it",
                    session.wait_command(id)
                ),
            )),
        }
    }

    /// Journals that the request failed; one that certainly cost nothing
    /// leaves nothing to resume, so its journal is removed.
    fn failed(&self, failure: &Failure, maybe_billed: bool, expired: bool) {
        if maybe_billed {
            let _ = self.journal.record(&Entry::Failed {
                item: 0,
                error: failure.message.clone(),
                maybe_billed,
                expired,
            });
        } else {
            let _ = std::fs::remove_file(self.path());
        }
    }

    /// The journal's path.
    fn path(&self) -> PathBuf {
        self.journal.path().to_path_buf()
    }

    /// The images are saved: the journal has nothing left to resume.
    pub(crate) fn done(self) {
        let path = self.path();
        drop(self.journal);
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_job_near_the_end_of_the_hour_is_told_to_be_fetched_now() {
        let ago = |minutes: u64| Some(now() - minutes * 60);
        let note = expiry_note(Provider::Segmind, "r-1", ago(55)).expect("5 minutes left");
        assert!(
            note.contains("job r-1: fetch now: Segmind keeps results for 1 hour after submission, 5 minutes left"),
            "{note}"
        );
        assert!(
            expiry_note(Provider::Segmind, "r-1", ago(59))
                .unwrap()
                .contains("1 minute left")
        );
        // Plenty left, past it (the service's 404 says so), or unknown.
        for submitted in [ago(10), ago(61), None] {
            assert_eq!(expiry_note(Provider::Segmind, "r-1", submitted), None);
        }
    }
}

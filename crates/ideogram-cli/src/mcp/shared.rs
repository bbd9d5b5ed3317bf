//! Several servers on one output folder (two agent windows sharing one
//! config). Each holds the folder's lock shared (a batch takes it alone),
//! keeps its own journal, the first free of `.ideogram-mcp.jsonl`,
//! `.ideogram-mcp.1.jsonl`, ... (held for its life, so a restarted server
//! takes a free one again), and picks its files' names by creating them.
//! An idempotency key is locked across servers while its call runs
//! (`.ideogram-mcp.keys/<hash>.lock`), and looked up in the other servers'
//! journals too (read-only), so that a repeat on another server returns
//! the first call's images instead of paying again.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::failure::{Failure, INVALID, OTHER};
use crate::journal::{Entry, ItemState, Journal, Opened, fnv1a};

use super::JOURNAL;
use super::answer::Refused;
use super::server::Server;

/// The most servers one folder serves at once (journals tried).
const SERVERS: usize = 64;

/// The folder of the key locks, in the output folder.
const KEYS: &str = ".ideogram-mcp.keys";

/// What every server's journal calls its batch.
const FINGERPRINT: &str = "ideogram-mcp";

/// The server journals' paths in `out`, the first [`JOURNAL`] itself.
fn journals(out: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let (stem, ext) = JOURNAL.rsplit_once('.').unwrap_or((JOURNAL, "jsonl"));
    (0..SERVERS).map(move |n| match n {
        0 => out.join(JOURNAL),
        n => out.join(format!("{stem}.{n}.{ext}")),
    })
}

/// Opens the first journal in `out` no other server holds, and what it
/// records per item.
pub(super) fn open_journal(out: &Path) -> Result<Opened, Failure> {
    Journal::open_first_free(journals(out), FINGERPRINT)?.ok_or_else(|| {
        Failure::new(
            OTHER,
            format!(
                "{SERVERS} ideogram mcp servers already save into {}; nothing was sent",
                out.display()
            ),
        )
        .hint("end one of them, or give this one another output folder")
    })
}

/// A key's lock, held while its call runs, by whichever server runs it.
pub(super) struct KeyLock(#[allow(dead_code, reason = "held for its lock")] File);

/// Locks `key` across the servers on `out`; `None` when a call with it
/// runs now (on this server or another).
pub(super) fn lock_key(out: &Path, key: &str) -> Result<Option<KeyLock>, Failure> {
    let dir = out.join(KEYS);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
    let path = dir.join(format!("{}.lock", fnv1a(key.bytes())));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Failure::io(format!("cannot open {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(KeyLock(file))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// How far a journaled item got: saved, then paid for (images or a queue
/// id to fetch it by), then sent with no answer (maybe billed), then
/// anything else (refused, failed unbilled).
fn progress(state: &ItemState) -> u8 {
    if state.saved.is_some() {
        3
    } else if state.images.is_some() || state.request_id.is_some() {
        2
    } else if state.uncertain() {
        1
    } else {
        0
    }
}

/// The latest item of `states` journaled under `key` (as `KEY#PRINT`).
pub(super) fn keyed<'a>(
    states: impl Iterator<Item = (&'a usize, &'a ItemState)>,
    key: &str,
) -> Option<(usize, ItemState)> {
    let prefix = format!("{key}#");
    states
        .filter(|(_, state)| state.key.as_deref().is_some_and(|k| k.starts_with(&prefix)))
        .max_by_key(|(item, _)| **item)
        .map(|(item, state)| (*item, state.clone()))
}

impl Server {
    /// What the journals of the servers on this folder say of `key`, its
    /// call now locked to this one (see [`lock_key`]): this server's item,
    /// unless another server's journal got further with it (saved, or paid
    /// for), in which case that item's state is answered with, under an
    /// item of this journal. A paid-for item another server did not save is
    /// taken over: this journal records it as its own (its queue id, its
    /// images' URLs) before anything is fetched. A key another server used
    /// for another request is answered with that request's state (the
    /// caller refuses it, as it does its own).
    pub(super) async fn earlier(
        &self,
        key: &str,
        journal_key: Option<&str>,
    ) -> Result<Option<(usize, ItemState)>, Refused> {
        let own = self.items.lock().expect("items").keyed(key);
        if own.as_ref().is_some_and(|(_, state)| progress(state) == 3) {
            return Ok(own);
        }
        let own_path = self.journal.path().to_path_buf();
        let (out, wanted) = (self.out.clone(), key.to_owned());
        let peers = tokio::task::spawn_blocking(move || {
            journals(&out)
                .filter(|path| *path != own_path && path.is_file())
                .filter_map(|path| Journal::peek(&path, FINGERPRINT))
                .filter_map(|states| keyed(states.iter(), &wanted))
                .map(|(_, state)| state)
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| {
            Refused::from(Failure::new(
                OTHER,
                format!("the other servers' journals could not be read: {e}"),
            ))
        })?;
        let (same, other): (Vec<ItemState>, Vec<ItemState>) = peers
            .into_iter()
            .partition(|state| state.key.as_deref() == journal_key);
        // Theirs when it got further than ours, or when this server never
        // had the key: a call another server sent and never heard back
        // from is refused here as there (it may have been billed).
        let best = same.into_iter().max_by_key(progress);
        let theirs = match best {
            Some(theirs)
                if own
                    .as_ref()
                    .is_none_or(|(_, ours)| progress(&theirs) > progress(ours)) =>
            {
                theirs
            }
            _ => {
                return Ok(match (own, other.into_iter().next()) {
                    // The key used there for another request: the caller
                    // refuses it.
                    (None, Some(another)) => {
                        let item = self.items.lock().expect("items").reserve();
                        Some((item, another))
                    }
                    (own, _) => own,
                });
            }
        };
        let item = match &own {
            Some((item, _)) => *item,
            None => self.items.lock().expect("items").reserve(),
        };
        if progress(&theirs) != 2 {
            // Saved there: its files are the answer. Maybe billed there:
            // the caller refuses it. Nothing paid for: sent afresh under
            // this item.
            return Ok(Some((item, theirs)));
        }
        if own.is_none() {
            self.journal(Entry::Sending {
                item,
                provider: theirs.provider.clone(),
                key: theirs.key.clone(),
            })
            .await?;
        }
        if let Some(request_id) = &theirs.request_id {
            self.journal(Entry::Submitted {
                item,
                request_id: request_id.clone(),
            })
            .await?;
        }
        if let Some(images) = &theirs.images {
            self.journal(Entry::Generated {
                item,
                images: images.clone(),
            })
            .await?;
        }
        Ok(Some((item, theirs)))
    }
}

/// The refusal of a call whose key runs now, here or on another server.
pub(super) fn still_running(key: &str) -> Refused {
    Failure::new(
        INVALID,
        format!("a call with idempotency_key {key:?} is still running"),
    )
    .hint("call again with the same key when it has ended: it answers with that call's images")
    .into()
}

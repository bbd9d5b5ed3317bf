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
use crate::journal::{ItemState, Journal, Opened, fnv1a};

use super::answer::Refused;

/// The journal's name in the output folder (the first server's; the
/// others' are numbered).
const JOURNAL: &str = ".ideogram-mcp.jsonl";

/// The most servers one folder serves at once (journals tried).
const SERVERS: usize = 64;

/// The folder of the key locks, in the output folder.
const KEYS: &str = ".ideogram-mcp.keys";

/// What every server's journal calls its batch.
const FINGERPRINT: &str = "ideogram-mcp";

/// The server journals' paths in `out`, the first [`JOURNAL`] itself.
pub(super) fn journals(out: &Path) -> impl Iterator<Item = PathBuf> + '_ {
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

/// The file of `key`'s lock in `out` (in the folder of the key locks).
pub(super) fn key_lock(out: &Path, key: &str) -> PathBuf {
    out.join(KEYS).join(format!("{}.lock", fnv1a(key.bytes())))
}

/// Locks `key` across the servers on `out`; `None` when a call with it
/// runs now (on this server or another).
pub(super) fn lock_key(out: &Path, key: &str) -> Result<Option<KeyLock>, Failure> {
    let path = key_lock(out, key);
    let dir = out.join(KEYS);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
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

/// Whether `state`'s call got as far as a call goes: its images saved.
pub(super) fn saved(state: &ItemState) -> bool {
    progress(state) == 3
}

/// What the journals of the other servers on `out` (all but `own`, this
/// server's) say of `key`: each one's latest item under it, read-only.
pub(super) async fn peers(out: &Path, own: &Path, key: &str) -> Result<Vec<ItemState>, Refused> {
    let (out, own, wanted) = (out.to_path_buf(), own.to_path_buf(), key.to_owned());
    let found = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        for path in journals(&out).filter(|path| *path != own && path.is_file()) {
            // One too large to read may hold the key: not taken as free.
            let length = std::fs::metadata(&path).map_or(0, |m| m.len());
            if length > crate::journal::MAX_JOURNAL {
                return Err(crate::journal::too_large(&path, length));
            }
            let states = Journal::peek(&path, FINGERPRINT);
            found.extend(states.and_then(|states| keyed(states.iter(), &wanted)));
        }
        Ok(found.into_iter().map(|(_, state)| state).collect())
    })
    .await
    .map_err(|e| {
        Refused::from(Failure::new(
            OTHER,
            format!("the other servers' journals could not be read: {e}"),
        ))
    })?;
    found.map_err(Refused::from)
}

/// Whose state answers a keyed call (see [`earlier`]).
pub(super) enum Earlier {
    /// This server's own item under the key, if any: no other server's
    /// journal got further with it.
    Own(Option<(usize, ItemState)>),
    /// Another server's state, answered with under this server's item
    /// `own` (a new item when `None`).
    Theirs {
        own: Option<usize>,
        state: ItemState,
        /// Paid for there and not saved: this server's journal records it
        /// as its own (its queue id, its images' URLs) before anything is
        /// fetched.
        take_over: bool,
    },
}

/// Whose state answers a call with the key that journals name
/// `journal_key`, from this server's item under the key (`own`) and the
/// other servers' ([`peers`]): another server's, when its journal got
/// further with the key (saved, or paid for) or this server never had it,
/// else this server's own. A key another server used for another request
/// is answered with that request's state (the caller refuses it, as it
/// does its own).
pub(super) fn earlier(
    own: Option<(usize, ItemState)>,
    peers: Vec<ItemState>,
    journal_key: Option<&str>,
) -> Earlier {
    let (same, other): (Vec<ItemState>, Vec<ItemState>) = peers
        .into_iter()
        .partition(|state| state.key.as_deref() == journal_key);
    // Theirs when it got further than ours, or when this server never
    // had the key: a call another server sent and never heard back
    // from is refused here as there (it may have been billed).
    match same.into_iter().max_by_key(progress) {
        Some(theirs)
            if own
                .as_ref()
                .is_none_or(|(_, ours)| progress(&theirs) > progress(ours)) =>
        {
            Earlier::Theirs {
                own: own.map(|(item, _)| item),
                // Saved there: its files are the answer. Maybe billed
                // there: the caller refuses it. Nothing paid for: sent
                // afresh under this server's item.
                take_over: progress(&theirs) == 2,
                state: theirs,
            }
        }
        _ => match (own, other.into_iter().next()) {
            // The key used there for another request: the caller refuses
            // it.
            (None, Some(another)) => Earlier::Theirs {
                own: None,
                state: another,
                take_over: false,
            },
            (own, _) => Earlier::Own(own),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An item journaled under `key`: saved, paid for (queued), sent
    /// with no answer, or refused, by `progress` 3 down to 0.
    fn state(key: &str, progress: u8) -> ItemState {
        let mut state = ItemState {
            key: Some(key.to_owned()),
            ..ItemState::default()
        };
        match progress {
            3 => state.saved = Some(vec![PathBuf::from("a.png")]),
            2 => state.request_id = Some("r".to_owned()),
            1 => state.sending = true,
            _ => {}
        }
        state
    }

    fn theirs(answer: Earlier) -> Option<(Option<usize>, u8, Option<String>, bool)> {
        match answer {
            Earlier::Own(_) => None,
            Earlier::Theirs {
                own,
                state,
                take_over,
            } => Some((own, progress(&state), state.key, take_over)),
        }
    }

    #[test]
    fn another_servers_state_answers_only_where_it_got_further() {
        let k = Some("k#1");
        // Paid for there, unknown here: taken over under a new item.
        let answer = earlier(None, vec![state("k#1", 2)], k);
        assert_eq!(theirs(answer), Some((None, 2, Some("k#1".into()), true)));
        // Saved there, only sent here: answered with under our item.
        let answer = earlier(Some((5, state("k#1", 1))), vec![state("k#1", 3)], k);
        assert_eq!(
            theirs(answer),
            Some((Some(5), 3, Some("k#1".into()), false))
        );
        // Sent with no answer there, unknown here: refused as there.
        let answer = earlier(None, vec![state("k#1", 1)], k);
        assert_eq!(theirs(answer), Some((None, 1, Some("k#1".into()), false)));
        // Not further than ours: ours.
        let answer = earlier(Some((5, state("k#1", 2))), vec![state("k#1", 2)], k);
        assert!(matches!(answer, Earlier::Own(Some((5, _)))));
        // The key used there for another request, unknown here: that one's
        // state (the caller refuses it); known here: ours.
        let answer = earlier(None, vec![state("k#2", 2)], k);
        assert_eq!(theirs(answer), Some((None, 2, Some("k#2".into()), false)));
        let answer = earlier(Some((5, state("k#1", 0))), vec![state("k#2", 2)], k);
        assert!(matches!(answer, Earlier::Own(Some((5, _)))));
        // Nowhere: nothing.
        assert!(matches!(earlier(None, vec![], k), Earlier::Own(None)));
    }
}

//! The batch journal: an append-only JSON-lines file, each line synced to
//! disk before anything depends on it, that records what was paid for before it is fetched (the queue id,
//! or the image URLs) and what was saved, so a killed batch resumes without
//! paying twice.
//!
//! One run at a time: a run holds an exclusive lock on the journal for its
//! whole life. Paths are stored relative to the journal's folder, so a rerun
//! from another directory finds them. Reading survives anything a kill or a
//! full disk leaves: a torn or garbled line is skipped, the rest is kept.
//!
//! The journal is ours or nothing: a file is written to only when it is new
//! (or empty) or starts with this tool's header line ([`Entry::Journal`]);
//! a journal of an earlier version, which has no header, is known by its
//! first line, the batch entry every version wrote first. Anything else is
//! refused before a request is sent, naming the file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::failure::{Failure, INVALID};

/// The journal's name in a batch's output folder.
pub(crate) const FILE_NAME: &str = ".ideogram-batch.jsonl";

/// The lock a batch holds on its output folder, wherever its journal is.
pub(crate) const FOLDER_LOCK: &str = ".ideogram-batch.lock";

/// The longest journal line read, in bytes; a longer one is skipped.
pub(crate) const MAX_LINE: u64 = 1 << 20;

/// The most of a journal read, in bytes. A journal past it is refused
/// whole, never read in part: what lies past the cut may say an item was
/// paid for ([`too_large`]).
pub(crate) const MAX_JOURNAL: u64 = 256 << 20;

/// Room kept below [`MAX_JOURNAL`] for what calls already sent still
/// record (their ids, URLs, saves and costs): no new paid call is
/// journaled as sending once a journal is this close to the cap, so a
/// journal in use never grows past what is read.
const HEADROOM: u64 = 64 << 20;

/// What the header line calls the journal's format.
const FORMAT: &str = "ideogram-journal";

/// The format's version this binary writes and reads; a journal of a later
/// one is refused, not guessed at.
const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// The header, the first line of a journal this version creates: what
    /// the file is, so that no other file is ever taken for one.
    Journal { format: String, version: u32 },
    /// The batch it belongs to: its file's fingerprint.
    Batch { fingerprint: String, items: usize },
    /// A run started: its temporary files carry `tag`.
    Run {
        tag: String,
        #[serde(default)]
        provider: Option<String>,
    },
    /// About to send a paid request (its in-flight slot held): until its
    /// answer is journaled, the item may have been billed without this run
    /// knowing.
    Sending {
        item: usize,
        #[serde(default)]
        provider: Option<String>,
        /// The caller's name for the request (`ideogram mcp`'s
        /// `idempotency_key`): the same key again is answered from here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// The most the request can cost, as its quote said (`ideogram
        /// mcp`'s, or a budgeted batch's): until a `cost` entry (or a
        /// failure that certainly was not billed) follows, `ideogram
        /// spend` and the servers' budget count it as maybe billed up to
        /// this; absent, at a price not known ([`crate::bills`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        most_usd_micros: Option<u64>,
    },
    /// Queued on Segmind: the job can be resumed from this id; the model
    /// and prompt it was queued with, for its images' sidecars (`ideogram
    /// mcp`'s; a batch reads them from its file).
    Submitted {
        item: usize,
        request_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        /// When it was submitted, in Unix seconds: how much of the
        /// queue's retention is left when it is resumed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u64>,
    },
    /// Generated (and billed): the images wait at these URLs.
    Generated {
        item: usize,
        images: Vec<JournalImage>,
    },
    /// About to save the item's images under these stems (relative to the
    /// journal): files there are this batch's own.
    Saving { item: usize, stems: Vec<PathBuf> },
    /// Every image of the item is on disk (paths relative to the journal).
    Saved { item: usize, paths: Vec<PathBuf> },
    /// The item failed; `maybe_billed` when it may have been paid for,
    /// `expired` when its queued result is gone.
    Failed {
        item: usize,
        error: String,
        maybe_billed: bool,
        #[serde(default)]
        expired: bool,
    },
    /// A run gave up waiting for the answer to this item's request.
    Abandoned { item: usize },
    /// A paid call whose answer is not images (`ideogram mcp`'s describe,
    /// layerize-text's text blocks) was answered with this.
    Answered {
        item: usize,
        answer: serde_json::Value,
    },
    /// What the item's paid call cost: the service's figure, else the
    /// quote taken before it was sent, marked which. A journal of this
    /// version without it stays readable by earlier ones, which skip the
    /// line as one they do not know.
    Cost {
        item: usize,
        cost: crate::cost::Cost,
    },
}

/// What is needed to fetch and describe a generated image later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JournalImage {
    pub url: Option<String>,
    pub seed: Option<u64>,
    pub resolution: Option<String>,
    pub is_safe: bool,
    pub prompt: String,
}

impl JournalImage {
    /// What the journal keeps of a paid generation's images, before they
    /// are downloaded; `None` when no image has a URL to fetch it by
    /// (Segmind v1's bytes).
    pub(crate) fn of(generation: &ideogram::Generation) -> Option<Vec<Self>> {
        let images: Vec<Self> = generation
            .images
            .iter()
            .map(|image| Self {
                url: match &image.data {
                    ideogram::ImageData::Url(url) => Some(url.clone()),
                    _ => None,
                },
                seed: image.seed,
                resolution: image.resolution.clone(),
                is_safe: image.is_safe,
                prompt: image.prompt.clone(),
            })
            .collect();
        images.iter().any(|i| i.url.is_some()).then_some(images)
    }
}

/// Rebuilds a paid-for generation of `model` from the journal, to download
/// it through `client` (which never sends the key to the image host).
pub(crate) fn restore(
    client: &ideogram::Client,
    model: ideogram::Model,
    images: Vec<JournalImage>,
) -> ideogram::Generation {
    let images = images
        .into_iter()
        .map(|j| {
            // A key the journal holds as its marker, put back.
            let url = j.url.as_deref().map(crate::redact::unjournaled);
            let url = url.map(|u| u.into_owned()).unwrap_or_default();
            let mut image = client.remote_image(url, j.prompt);
            image.seed = j.seed;
            image.resolution = j.resolution;
            image.is_safe = j.is_safe;
            image.data = match (j.is_safe, &j.url) {
                (false, _) => ideogram::ImageData::Withheld,
                // Paid for, yet the answer held no image for it.
                (true, None) => ideogram::ImageData::Missing,
                (true, Some(_)) => image.data,
            };
            image
        })
        .collect();
    ideogram::Generation::new(client.provider(), model, images)
}

/// What the journal says of one item.
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemState {
    pub request_id: Option<String>,
    pub images: Option<Vec<JournalImage>>,
    pub saved: Option<Vec<PathBuf>>,
    pub reserved: Vec<PathBuf>,
    pub sending: bool,
    pub provider: Option<String>,
    pub failed_maybe_billed: bool,
    pub expired: bool,
    /// The caller's idempotency key, when it gave one.
    pub key: Option<String>,
    /// The model and prompt a job was queued with.
    pub model: Option<String>,
    pub prompt: Option<String>,
    /// When the job was submitted, in Unix seconds, where journaled.
    pub submitted_at: Option<u64>,
    /// The answer of a call whose answer is not images.
    pub answer: Option<serde_json::Value>,
    /// What its paid call cost, where journaled.
    pub cost: Option<crate::cost::Cost>,
}

impl Entry {
    /// The item an entry is about; `None` for the journal's own entries.
    pub(crate) fn item(&self) -> Option<usize> {
        match self {
            Self::Sending { item, .. }
            | Self::Submitted { item, .. }
            | Self::Generated { item, .. }
            | Self::Saving { item, .. }
            | Self::Saved { item, .. }
            | Self::Failed { item, .. }
            | Self::Abandoned { item }
            | Self::Answered { item, .. }
            | Self::Cost { item, .. } => Some(*item),
            Self::Journal { .. } | Self::Batch { .. } | Self::Run { .. } => None,
        }
    }
}

impl ItemState {
    /// What `entry`, about this item, says of it; paths relative to `dir`
    /// (the journal's folder) as the journal keeps them. Reading a journal
    /// and a server keeping its items in memory both come here.
    pub(crate) fn apply(&mut self, entry: Entry, dir: &Path) {
        match entry {
            Entry::Sending { provider, key, .. } => {
                self.sending = true;
                self.provider = provider;
                self.key = key;
                // Another request: an earlier one's cost is not its.
                self.cost = None;
                self.failed_maybe_billed = false;
                self.expired = false;
            }
            Entry::Submitted {
                request_id,
                model,
                prompt,
                at,
                ..
            } => {
                self.request_id = Some(request_id);
                self.submitted_at = at.or(self.submitted_at.take());
                self.model = model.or(self.model.take());
                self.prompt = prompt.or(self.prompt.take());
            }
            Entry::Answered { answer, .. } => self.answer = Some(answer),
            Entry::Cost { cost, .. } => self.cost = Some(cost),
            Entry::Generated { images, .. } => self.images = Some(images),
            Entry::Saving { stems, .. } => {
                self.reserved.extend(stems.iter().map(|s| dir.join(s)));
            }
            Entry::Saved { paths, .. } => {
                self.saved = Some(paths.iter().map(|p| dir.join(p)).collect());
            }
            Entry::Failed {
                maybe_billed,
                expired,
                ..
            } => {
                self.sending = false;
                self.failed_maybe_billed = maybe_billed;
                self.expired = expired;
                if !maybe_billed {
                    // Not paid (a FAILED job, a refusal): the next run
                    // sends it afresh instead of asking after it, and a
                    // cost recorded when it was queued is void.
                    self.request_id = None;
                    self.images = None;
                    self.cost = None;
                }
            }
            Entry::Abandoned { .. } => self.sending = true,
            Entry::Journal { .. } | Entry::Batch { .. } | Entry::Run { .. } => {}
        }
    }

    /// Sent (or maybe sent) and possibly billed, with nothing to fetch it
    /// by: sending it again could pay twice.
    pub(crate) fn uncertain(&self) -> bool {
        self.expired
            || ((self.sending || self.failed_maybe_billed)
                && self.request_id.is_none()
                && self.images.is_none()
                && self.answer.is_none())
    }

    /// Whether anything the journal says of the item could have cost money
    /// or named files: sent (or maybe sent), queued, generated, saving or
    /// saved. An item only ever refused, or failed unbilled, says nothing.
    pub(crate) fn may_be_billed(&self) -> bool {
        self.sending
            || self.failed_maybe_billed
            || self.expired
            || self.request_id.is_some()
            || self.images.is_some()
            || self.saved.is_some()
            || !self.reserved.is_empty()
    }
}

/// An opened journal and what it records per item.
pub(crate) type Opened = (Journal, HashMap<usize, ItemState>);

/// What opening a journal another run holds does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Waits for that run to end.
    Wait,
    /// Refuses, saying so.
    Refuse,
    /// Leaves it (for the next free one).
    Skip,
}

/// An open, locked journal.
pub(crate) struct Journal {
    path: PathBuf,
    dir: PathBuf,
    file: Mutex<Appender>,
    /// Held by the one task syncing for all (see [`Journal::commit`]).
    syncer: tokio::sync::Mutex<()>,
    tags: Vec<String>,
}

/// The journal file and how much of it is written, and known on disk.
struct Appender {
    file: Arc<File>,
    /// Bytes written (the file's length).
    written: u64,
    /// Bytes known synced to disk.
    durable: u64,
    /// Bumped whenever a failed sync cuts unsynced lines off.
    cuts: u64,
}

impl Journal {
    /// Opens (or creates) the journal for a batch whose file has
    /// `fingerprint`, locked for this run (waiting for another run's lock
    /// when `wait`), and returns what it already records per item.
    ///
    /// Refused, with nothing written, when the file is not this tool's
    /// journal (see the module's doc), or when it records items that may
    /// have been billed for another batch. A journal whose items were never
    /// sent (a run refused before its first request, say) belongs to no
    /// batch yet: it is taken over by this one, so a batch refused for a bad
    /// line can be fixed and run again.
    pub(crate) fn open(
        path: &Path,
        fingerprint: &str,
        items: usize,
        wait: bool,
    ) -> Result<(Self, HashMap<usize, ItemState>), Failure> {
        let held = if wait { Held::Wait } else { Held::Refuse };
        Self::open_locked(path, fingerprint, items, held)
            .map(|opened| opened.expect("waited or refused"))
    }

    /// The first of `paths` no other run holds, opened as
    /// [`Journal::open`] opens it, with its path; `None` when every one is
    /// held. A file that is not this tool's journal is refused, not
    /// skipped (see the module's doc).
    pub(crate) fn open_first_free(
        paths: impl IntoIterator<Item = PathBuf>,
        fingerprint: &str,
    ) -> Result<Option<Opened>, Failure> {
        for path in paths {
            if let Some(opened) = Self::open_locked(&path, fingerprint, 0, Held::Skip)? {
                return Ok(Some(opened));
            }
        }
        Ok(None)
    }

    /// What the journal at `path`, which another run may hold and be
    /// writing, records for `fingerprint`: read without locking or writing
    /// it (bounded as every read of a journal is). `None` when it is not
    /// this tool's journal, or not that fingerprint's.
    pub(crate) fn peek(path: &Path, fingerprint: &str) -> Option<HashMap<usize, ItemState>> {
        let dir = std::path::absolute(path.parent()?).ok()?;
        let mut file = File::open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        check_ours(&mut file, path).ok()?;
        let (lines, _) = read_lines(&mut file).ok()?;
        let recorded = read_entries(&lines, fingerprint, path, &dir).ok()?;
        recorded.known.then_some(recorded.states)
    }

    /// Every entry of the journal at `path`, read without locking or
    /// writing it (bounded as every read of a journal is): `None` when it
    /// is not this tool's journal. A line that does not parse is skipped.
    pub(crate) fn entries(path: &Path) -> Option<Vec<Entry>> {
        let mut file = File::open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        check_ours(&mut file, path).ok()?;
        let (lines, _) = read_lines(&mut file).ok()?;
        Some(
            lines
                .iter()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect(),
        )
    }

    /// [`Journal::open`], what to do when another run holds the journal
    /// said by `held`; `None` when it is held and `held` is [`Held::Skip`].
    fn open_locked(
        path: &Path,
        fingerprint: &str,
        items: usize,
        held: Held,
    ) -> Result<Option<Opened>, Failure> {
        let dir = crate::durable::holder_of(path).to_path_buf();
        crate::durable::create_folders(&dir)
            .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
        // Absolute, so that paths inside it are stored relative to it
        // whatever the current directory.
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let cannot = |e| Failure::io(format!("cannot open {}", path.display()), e);
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.is_file()
        {
            return Err(Failure::new(
                INVALID,
                format!("{} is not a regular file", path.display()),
            ));
        }
        let mut file = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(path)
            .map_err(cannot)?;
        match held {
            Held::Skip => match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Failure::io(format!("cannot lock {}", path.display()), e));
                }
            },
            Held::Wait | Held::Refuse => lock(&file, path, &dir, held == Held::Wait)?,
        }
        let new = check_ours(&mut file, path)?;
        let length = file.metadata().map_err(cannot)?.len();
        if length > MAX_JOURNAL {
            return Err(too_large(path, length));
        }

        let (lines, torn) = read_lines(&mut file).map_err(cannot)?;
        let Recorded {
            states,
            tags,
            known,
        } = read_entries(&lines, fingerprint, path, &dir)?;
        // End a line a kill or a full disk cut short, so the next entry
        // starts cleanly.
        if torn {
            file.write_all(b"\n").map_err(cannot)?;
        }
        let written = file.metadata().map_err(cannot)?.len();
        let journal = Self {
            path: path.to_path_buf(),
            dir,
            file: Mutex::new(Appender {
                file: Arc::new(file),
                written,
                durable: written,
                cuts: 0,
            }),
            syncer: tokio::sync::Mutex::new(()),
            tags,
        };
        if new {
            journal.record(&Entry::Journal {
                format: FORMAT.to_owned(),
                version: VERSION,
            })?;
            // A new journal is in its folder for good only once the folder
            // is synced (the folders made for it were, as they were made):
            // else a crash before the next sync of the folder could lose
            // the journal with the paid results it records.
            let dir = &journal.dir;
            let cannot = |e| Failure::io(format!("cannot sync the folder {}", dir.display()), e);
            crate::durable::sync_folder(dir).map_err(cannot)?;
        }
        if !known {
            journal.record(&Entry::Batch {
                fingerprint: fingerprint.to_owned(),
                items,
            })?;
        }
        Ok(Some((journal, states)))
    }

    /// Appends an entry and syncs it to disk before returning. A write that
    /// fails half-way (a full disk) is cut back off, so the journal stays
    /// readable line by line.
    pub(crate) fn record(&self, entry: &Entry) -> Result<(), Failure> {
        let line = line_of(entry);
        let mut out = self.file.lock().expect("journal");
        self.room_for(entry, out.written)?;
        let before = out.written;
        let written = (&*out.file)
            .write_all(line.as_bytes())
            .and_then(|()| out.file.sync_data());
        match written {
            Ok(()) => {
                out.written += line.len() as u64;
                // The sync took everything written so far to disk.
                out.durable = out.written;
                Ok(())
            }
            Err(e) => {
                let _ = out.file.set_len(before);
                Err(self.cannot_write(e))
            }
        }
    }

    /// [`Journal::record`] for work running at once: the same promise (the
    /// entry is on disk when this returns `Ok`), but the sync runs off the
    /// async threads, and one sync serves every entry written before it
    /// started (group commit), so concurrent items do not queue behind each
    /// other's syncs. A failed sync cuts off every line not known on disk,
    /// and each of their writers gets the error.
    pub(crate) async fn commit(&self, entry: &Entry) -> Result<(), Failure> {
        let (end, cuts) = self.write(entry)?;
        self.sync_through(end, cuts).await
    }

    /// Appends an entry without waiting for it to reach the disk: the next
    /// [`Journal::commit`] or [`Journal::sync`] takes it there. For entries
    /// a commit follows before anything depends on them, or whose loss in a
    /// crash costs only a check on the next run.
    pub(crate) fn append(&self, entry: &Entry) -> Result<(), Failure> {
        self.write(entry).map(drop)
    }

    /// Waits until everything appended so far is on disk.
    pub(crate) async fn sync(&self) -> Result<(), Failure> {
        let (end, cuts) = {
            let out = self.file.lock().expect("journal");
            (out.written, out.cuts)
        };
        self.sync_through(end, cuts).await
    }

    /// Writes an entry's line (cut back off when the write fails half-way);
    /// returns where it ends and the cut count it was written under.
    fn write(&self, entry: &Entry) -> Result<(u64, u64), Failure> {
        let line = line_of(entry);
        let mut out = self.file.lock().expect("journal");
        self.room_for(entry, out.written)?;
        let before = out.written;
        if let Err(e) = (&*out.file).write_all(line.as_bytes()) {
            let _ = out.file.set_len(before);
            return Err(self.cannot_write(e));
        }
        out.written += line.len() as u64;
        Ok((out.written, out.cuts))
    }

    /// Returns once the journal is on disk up to `end` (written under cut
    /// count `cuts`), syncing it unless another sync already did.
    async fn sync_through(&self, end: u64, cuts: u64) -> Result<(), Failure> {
        let _turn = self.syncer.lock().await;
        let (target, file) = {
            let out = self.file.lock().expect("journal");
            if out.cuts != cuts {
                return Err(
                    self.cannot_write(std::io::Error::other("a failed sync cut the entry off"))
                );
            }
            if out.durable >= end {
                // Another entry's sync, started after this one was written.
                return Ok(());
            }
            (out.written, out.file.clone())
        };
        let synced = tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .expect("journal sync");
        let mut out = self.file.lock().expect("journal");
        match synced {
            Ok(()) => {
                out.durable = out.durable.max(target);
                Ok(())
            }
            Err(e) => {
                // Nothing past `durable` is known on disk: cut it all off,
                // so the journal says only what is.
                let durable = out.durable;
                let _ = out.file.set_len(durable);
                out.written = durable;
                out.cuts += 1;
                Err(self.cannot_write(e))
            }
        }
    }

    /// Refuses a new paid call's `sending` entry once the journal, at
    /// `written` bytes, is within [`HEADROOM`] of [`MAX_JOURNAL`]: the
    /// call is not sent. Every other entry is written, so what was sent is
    /// still recorded.
    fn room_for(&self, entry: &Entry, written: u64) -> Result<(), Failure> {
        if matches!(entry, Entry::Sending { .. }) && written > MAX_JOURNAL - HEADROOM {
            return Err(Failure::new(
                INVALID,
                format!(
                    "{} is full ({} MiB; this tool reads journals of up to {} MiB): \
                     nothing more is sent with it, so that what it records stays readable",
                    self.path.display(),
                    written >> 20,
                    MAX_JOURNAL >> 20
                ),
            )
            .hint("save into another output folder (or name another --journal)"));
        }
        Ok(())
    }

    fn cannot_write(&self, e: std::io::Error) -> Failure {
        Failure::io(format!("cannot write {}", self.path.display()), e)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// `path` as the journal stores it: relative to its folder when inside it.
    pub(crate) fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }

    /// The tags of earlier runs' temporary files.
    pub(crate) fn tags(&self) -> &[String] {
        &self.tags
    }
}

/// An entry as its line, newline included. A key a server echoed (in an image's URL, say) is
/// written as where it is read from, never itself
/// ([`crate::redact::journaled`]; [`restore`] puts it back in a URL).
fn line_of(entry: &Entry) -> String {
    let mut line = serde_json::to_string(entry).expect("journal entry");
    if let std::borrow::Cow::Owned(_) = crate::redact::journaled(&line) {
        // Replaced in the strings, not the line: no JSON escape is broken.
        let mut value = serde_json::to_value(entry).expect("journal entry");
        journaled(&mut value);
        line = serde_json::to_string(&value).expect("journal entry");
    }
    line.push('\n');
    line
}

/// `value` with every key in its strings replaced by its marker.
fn journaled(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(marked) = crate::redact::journaled(text) {
                *text = marked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(journaled),
        Value::Object(fields) => fields.values_mut().for_each(journaled),
        _ => {}
    }
}

/// Locks the journal for this run: at once, or after waiting when `wait`.
fn lock(file: &File, path: &Path, dir: &Path, wait: bool) -> Result<(), Failure> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) if wait => {
            crate::output::tell(&format!(
                "waiting for the batch running on {} to end...",
                dir.display()
            ));
            file.lock()
                .map_err(|e| Failure::io(format!("cannot lock {}", path.display()), e))
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(busy(dir)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// `dir` as a message shows it.
fn shown(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

/// A batch refused because another batch holds its journal or folder (a
/// batch has `--wait`).
fn busy(dir: &Path) -> Failure {
    Failure::new(
        INVALID,
        format!(
            "another ideogram batch is running on {} (it holds the lock); nothing was sent",
            shown(dir).display()
        ),
    )
    .hint("wait for it to end, or pass --wait to start when it does")
}

/// A batch refused because `ideogram mcp` servers save into its folder.
fn served(dir: &Path) -> Failure {
    Failure::new(
        INVALID,
        format!(
            "an ideogram mcp server is saving into {} (it holds the folder's lock, shared); \
             nothing was sent",
            shown(dir).display()
        ),
    )
    .hint("stop the server (close its client), or pass --wait to start when it has ended")
}

/// A command that shares a folder (`ideogram mcp`, `job wait`) refused
/// because a batch runs there; `again` says what to do once it ended
/// (no flag: these commands have none for it).
fn batch_running(dir: &Path, again: &str) -> Failure {
    Failure::new(
        INVALID,
        format!(
            "an ideogram batch is running on {} (it holds the folder's lock); nothing was sent",
            shown(dir).display()
        ),
    )
    .hint(format!("wait for the batch to end, then {again}"))
}

/// Opens (creating it) the lock file of the output folder `dir`.
fn folder_lock_file(dir: &Path) -> Result<(File, PathBuf), Failure> {
    let path = shown(dir).join(FOLDER_LOCK);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Failure::io(format!("cannot open {}", path.display()), e))?;
    Ok((file, path))
}

/// A batch's lock on its output folder (`.ideogram-batch.lock` there), held
/// for its whole run whichever journal it keeps, so that a batch writes a
/// folder alone (no other batch, no `ideogram mcp` server): at once, or
/// after waiting when `wait`.
pub(crate) fn lock_output(dir: &Path, wait: bool) -> Result<File, Failure> {
    relocked(dir, || lock_output_once(dir, wait))
}

/// The lock `lock` takes on `dir`'s lock file, taken again (a few times
/// at most) while the file locked is no longer the one there: a run
/// refused before sending removes the lock file it made with the folder
/// it made, and a lock on the removed file would keep no other run out.
fn relocked(dir: &Path, lock: impl Fn() -> Result<File, Failure>) -> Result<File, Failure> {
    let path = shown(dir).join(FOLDER_LOCK);
    let mut tries = 0;
    loop {
        let file = lock()?;
        tries += 1;
        if still_at(&file, &path) || tries >= 16 {
            return Ok(file);
        }
    }
}

/// Whether `file` is still the file at `path`.
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// [`lock_output`], once.
fn lock_output_once(dir: &Path, wait: bool) -> Result<File, Failure> {
    let (file, path) = folder_lock_file(dir)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        // Held shared (servers) or alone (a batch): said as it is.
        Err(std::fs::TryLockError::WouldBlock) => {
            let servers = file.try_lock_shared().is_ok();
            if !wait {
                return Err(if servers { served(dir) } else { busy(dir) });
            }
            if servers {
                let _ = file.unlock();
                crate::output::tell(&format!(
                    "waiting for the ideogram mcp server saving into {} to end...",
                    shown(dir).display()
                ));
                file.lock()
                    .map_err(|e| Failure::io(format!("cannot lock {}", path.display()), e))?;
                return Ok(file);
            }
        }
        Err(_) => {}
    }
    lock(&file, &path, dir, wait)?;
    Ok(file)
}

/// The output folder's lock shared, as `ideogram mcp` servers hold it for
/// their whole life: any number of servers at once (each picks its files'
/// names by creating them, and keeps its own journal), no batch.
pub(crate) fn share_output(dir: &Path) -> Result<File, Failure> {
    relocked(dir, || share_output_once(dir))
}

/// [`share_output`], once.
fn share_output_once(dir: &Path) -> Result<File, Failure> {
    let (file, path) = folder_lock_file(dir)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(batch_running(
            dir,
            "start the server again (or give it another output folder)",
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// Holds the lock of a batch folder `dir`, if it is one, shared, while a
/// command other than a batch writes there (`job wait`): refuses while a
/// batch runs; shares the folder with `ideogram mcp` servers.
pub(crate) fn lock_folder(dir: &Path) -> Result<Option<File>, Failure> {
    let dir = shown(dir);
    let path = dir.join(FOLDER_LOCK);
    let Ok(file) = OpenOptions::new().read(true).open(&path) else {
        return Ok(None);
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(batch_running(dir, "run job wait again")),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// The refusal of the journal at `path`, `length` bytes long: past
/// [`MAX_JOURNAL`], it is not read at all, since reading only its start
/// would forget what the rest says was paid for.
pub(crate) fn too_large(path: &Path, length: u64) -> Failure {
    Failure::new(
        INVALID,
        format!(
            "{} is {} MiB, larger than the {} MiB this tool reads of a journal; \
             it was not read, as what it records past that may have been paid for; nothing was sent",
            path.display(),
            length >> 20,
            MAX_JOURNAL >> 20
        ),
    )
    .hint("save into another output folder (or name another --journal); keep this one to look up what it records")
}

/// The journal's lines that are whole text (at most [`MAX_LINE`] bytes
/// each), and whether its last line was torn; an error of kind
/// `FileTooLarge` for a journal past [`MAX_JOURNAL`], of which nothing is
/// taken.
fn read_lines(file: &mut File) -> std::io::Result<(Vec<String>, bool)> {
    if file.metadata()?.len() > MAX_JOURNAL {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    file.seek(std::io::SeekFrom::Start(0))?;
    // Bounded even if the file grows while it is read.
    let mut reader = BufReader::new(file.take(MAX_JOURNAL + 1));
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut torn = false;
    let mut total = 0u64;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        total += read as u64;
        let whole = buf.last() == Some(&b'\n');
        if !whole && read as u64 > MAX_LINE {
            // Past the line cap: skipped to its end, a bounded piece at a time.
            loop {
                buf.clear();
                let more = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf)?;
                total += more as u64;
                if more == 0 || buf.last() == Some(&b'\n') {
                    break;
                }
            }
            if total > MAX_JOURNAL {
                return Err(std::io::ErrorKind::FileTooLarge.into());
            }
            continue;
        }
        if total > MAX_JOURNAL {
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        torn = !whole;
        if let Ok(text) = std::str::from_utf8(&buf) {
            lines.push(text.trim_end().to_owned());
        }
    }
    Ok((lines, torn))
}

/// Whether the open journal `file` is new (empty: the header goes first),
/// or this tool's: its first line our header, of a version this binary
/// reads, or the batch entry an earlier version's journal starts with.
/// Anything else is another file, refused (and left untouched).
pub(crate) fn check_ours(file: &mut File, path: &Path) -> Result<bool, Failure> {
    let cannot = |e| Failure::io(format!("cannot read {}", path.display()), e);
    file.seek(std::io::SeekFrom::Start(0)).map_err(cannot)?;
    let mut first = Vec::new();
    BufReader::new(file.take(MAX_LINE + 1))
        .read_until(b'\n', &mut first)
        .map_err(cannot)?;
    if first.is_empty() {
        return Ok(true);
    }
    let not_ours = |why: String| {
        Failure::new(
            INVALID,
            format!(
                "{} is not an ideogram journal ({why}); it was left as it is and nothing was sent",
                path.display()
            ),
        )
        .hint("name a new file with --journal, or move that file away")
    };
    match serde_json::from_slice::<Entry>(first.trim_ascii_end()) {
        Ok(Entry::Journal { format, version }) if format == FORMAT && version <= VERSION => {
            Ok(false)
        }
        Ok(Entry::Journal { format, version }) if format == FORMAT => Err(not_ours(format!(
            "it is of format version {version}, from a later version of this tool; this one reads {VERSION}"
        ))),
        // Every earlier version began a journal with its batch entry.
        Ok(Entry::Batch { .. }) => Ok(false),
        _ => Err(not_ours(
            "its first line is not the header this tool writes".to_owned(),
        )),
    }
}

/// What a journal's lines say for one batch.
struct Recorded {
    /// The batch's items.
    states: HashMap<usize, ItemState>,
    /// The tags of every run's temporary files.
    tags: Vec<String>,
    /// Whether the journal's last batch entry is this batch's.
    known: bool,
}

/// What a journal's `lines` record for the batch with `fingerprint`.
///
/// The lines after a batch entry are that batch's. Those of another batch
/// are an error when they may have been billed (sending this batch's items
/// under their numbers could pay twice or take their files), and are
/// dropped when they were never sent.
fn read_entries(
    lines: &[String],
    fingerprint: &str,
    path: &Path,
    dir: &Path,
) -> Result<Recorded, Failure> {
    // This batch's item states, and the states of the other batch whose
    // lines are being read (with the line its batch entry is on).
    let mut ours: HashMap<usize, ItemState> = HashMap::new();
    let mut other: Option<(usize, HashMap<usize, ItemState>)> = None;
    let mut tags = Vec::new();
    let mut batched = false;
    let another = |other: Option<(usize, HashMap<usize, ItemState>)>| {
        match other {
        Some((line, states)) if states.values().any(ItemState::may_be_billed) => Err(Failure::new(
            INVALID,
            format!(
                "{} belongs to another batch: another file, or other options (line {line}); nothing was sent",
                path.display(),
            ),
        )
        .hint(
            "this journal resumes only the batch file and options it was written for, unchanged; \
             put fixed or new lines in a batch file of their own with its own --journal (this file \
             under another --output folder or --journal would send every line again, billing \
             again what this journal says was paid for)",
        )),
        _ => Ok(()),
    }
    };
    for (n, line) in lines.iter().enumerate() {
        let Ok(entry) = serde_json::from_str::<Entry>(line) else {
            continue;
        };
        match entry {
            Entry::Batch { fingerprint: f, .. } => {
                another(other.take())?;
                batched = true;
                if f != fingerprint {
                    other = Some((n + 1, HashMap::new()));
                }
            }
            Entry::Run { tag, .. } => tags.push(tag),
            Entry::Journal { .. } => {}
            entry => {
                if let Some(item) = entry.item() {
                    let states = other.as_mut().map_or(&mut ours, |(_, states)| states);
                    states.entry(item).or_default().apply(entry, dir);
                }
            }
        }
    }
    let known = batched && other.is_none();
    another(other)?;
    Ok(Recorded {
        states: ours,
        tags,
        known,
    })
}

/// Refuses `journal` when it is `input`, the batch's own file, by any name
/// (a link, another path): its entries would be appended to the prompts.
pub(crate) fn not_the_input(journal: &Path, input: &Path) -> Result<(), Failure> {
    // Links followed: the files themselves are compared.
    let (Ok(a), Ok(b)) = (std::fs::metadata(journal), std::fs::metadata(input)) else {
        // A journal that does not exist yet is no input.
        return Ok(());
    };
    if same_file(&a, &b) {
        return Err(Failure::new(
            INVALID,
            format!(
                "{} is the batch's own file {}: the journal must be another file; nothing was sent",
                journal.display(),
                input.display()
            ),
        )
        .hint("leave out --journal to keep it in the output folder"));
    }
    Ok(())
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// A fingerprint of the batch: its file's items and the command line's
/// options every item takes (FNV-1a over the lines, then the options when
/// any is set, so a journal of a batch without options keeps its print).
/// A run with other options is another batch: its journal's answers and
/// file names would not be what it asks for.
pub(crate) fn fingerprint(lines: &[String], options: &crate::options::Options) -> String {
    let set = (*options != crate::options::Options::default()).then(|| format!("{options:?}"));
    let texts = lines.iter().chain(set.as_ref());
    fnv1a(texts.flat_map(|text| text.bytes().chain(std::iter::once(b'\n'))))
}

/// A stable 64-bit FNV-1a hash of `bytes`, as hex: journals outlive the
/// binary that wrote them, so no std hasher.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> String {
    let hash = bytes
        .into_iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_stay_what_earlier_journals_hold() {
        assert_eq!(fnv1a(*b"a"), "af63dc4c8601ec8c");
        let lines = ["a".to_owned(), "b".to_owned()];
        let options = crate::options::Options::default();
        assert_eq!(fingerprint(&lines, &options), "78ed6781f136a14e");
    }

    #[test]
    fn entries_survive_a_reopen_and_a_line_torn_mid_character() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, states) = Journal::open(&path, "abc", 2, false).unwrap();
        assert!(states.is_empty());
        journal
            .record(&Entry::Submitted {
                item: 0,
                request_id: "seg-1".into(),
                model: None,
                prompt: None,
                at: None,
            })
            .unwrap();
        journal
            .record(&Entry::Saved {
                item: 1,
                paths: vec!["a.png".into()],
            })
            .unwrap();
        drop(journal);
        // A prompt in another script, cut inside a character.
        let line = r#"{"event":"generated","item":1,"images":[{"url":null,"seed":null,"resolution":null,"is_safe":true,"prompt":"東京"#;
        let cut = &line.as_bytes()[..line.len() - 1];
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(cut)
            .unwrap();
        let (journal, states) = Journal::open(&path, "abc", 2, false).unwrap();
        assert_eq!(states[&0].request_id.as_deref(), Some("seg-1"));
        journal
            .record(&Entry::Saved {
                item: 0,
                paths: vec!["b.png".into()],
            })
            .unwrap();
        drop(journal);
        let (_, states) = Journal::open(&path, "abc", 2, false).unwrap();
        assert!(
            states[&0].saved.is_some(),
            "an entry after a torn line is kept"
        );
        assert_eq!(
            states[&1].saved.as_deref(),
            Some(&[dir.path().join("a.png")][..]),
            "paths resolve against the journal's folder"
        );
        let err = Journal::open(&path, "other", 2, false).err().unwrap();
        assert!(err.message.contains("another batch"), "{}", err.message);
    }

    #[test]
    fn only_our_files_are_journals_and_one_never_sent_takes_another_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let later = r#"{"event":"journal","format":"ideogram-journal","version":99}"#;
        for (text, why) in [
            ("notes\n", "first line is not the header"),
            (
                r#"{"event":"run","tag":"x"}"#,
                "first line is not the header",
            ),
            (later, "format version 99"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = Journal::open(&path, "abc", 1, false).err().unwrap();
            assert!(err.message.contains(why), "{text}: {}", err.message);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        std::fs::remove_file(&path).unwrap();
        // Sent nothing (an item refused, another unbilled): the journal is
        // taken by the next batch, and the old items are not its own.
        let (journal, _) = Journal::open(&path, "abc", 2, false).unwrap();
        for entry in [
            Entry::Sending {
                item: 0,
                provider: None,
                key: None,
                most_usd_micros: None,
            },
            Entry::Failed {
                item: 0,
                error: "refused".into(),
                maybe_billed: false,
                expired: false,
            },
        ] {
            journal.record(&entry).unwrap();
        }
        drop(journal);
        let (journal, states) = Journal::open(&path, "def", 2, false).unwrap();
        assert!(states.is_empty());
        // Once this one may have paid, the first one is refused.
        journal
            .record(&Entry::Sending {
                item: 1,
                provider: None,
                key: None,
                most_usd_micros: None,
            })
            .unwrap();
        drop(journal);
        let err = Journal::open(&path, "abc", 2, false).err().unwrap();
        assert!(err.message.contains("another batch"), "{}", err.message);
        let (_, states) = Journal::open(&path, "def", 2, false).unwrap();
        assert!(states[&1].uncertain());
    }

    #[test]
    fn one_run_per_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (first, _) = Journal::open(&path, "abc", 1, false).unwrap();
        let err = Journal::open(&path, "abc", 1, false).err().unwrap();
        assert!(
            err.message.contains("another ideogram batch"),
            "{}",
            err.message
        );
        drop(first);
        assert!(Journal::open(&path, "abc", 1, false).is_ok());
        // The folder's own lock, whatever journal a batch keeps.
        assert!(
            lock_folder(dir.path()).unwrap().is_none(),
            "not a batch folder yet"
        );
        let held = lock_output(dir.path(), false).unwrap();
        assert!(lock_output(dir.path(), false).is_err());
        let err = lock_folder(dir.path()).err().unwrap();
        assert!(!err.to_string().contains("--"), "{err}");
        let err = share_output(dir.path()).err().unwrap();
        assert!(!err.to_string().contains("--"), "{err}");
        drop(held);
        // Servers and job waits share the folder; a batch waits for all.
        let (one, two) = (
            share_output(dir.path()).unwrap(),
            share_output(dir.path()).unwrap(),
        );
        assert!(lock_folder(dir.path()).unwrap().is_some());
        let err = lock_output(dir.path(), false).err().unwrap();
        assert!(
            err.message.contains("an ideogram mcp server"),
            "{}",
            err.message
        );
        drop((one, two));
        assert!(lock_output(dir.path(), false).is_ok());
    }

    #[test]
    fn servers_take_the_first_free_journal_and_read_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let paths = || (0..3).map(|n| dir.path().join(format!("j.{n}.jsonl")));
        let (first, _) = Journal::open_first_free(paths(), "s").unwrap().unwrap();
        let (second, _) = Journal::open_first_free(paths(), "s").unwrap().unwrap();
        assert_eq!(second.path(), dir.path().join("j.1.jsonl"));
        first
            .record(&Entry::Submitted {
                item: 4,
                request_id: "r".into(),
                model: None,
                prompt: None,
                at: None,
            })
            .unwrap();
        let peeked = Journal::peek(first.path(), "s").unwrap();
        assert_eq!(peeked[&4].request_id.as_deref(), Some("r"));
        assert!(Journal::peek(first.path(), "other").is_none());
        // Freed on drop: the next server takes it again.
        drop(first);
        let (again, states) = Journal::open_first_free(paths(), "s").unwrap().unwrap();
        assert_eq!(again.path(), dir.path().join("j.0.jsonl"));
        assert!(states.contains_key(&4));
        let _third = Journal::open_first_free(paths(), "s").unwrap().unwrap();
        assert!(Journal::open_first_free(paths(), "s").unwrap().is_none());
    }

    #[test]
    fn a_failed_job_that_was_not_billed_is_sent_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, _) = Journal::open(&path, "abc", 1, false).unwrap();
        for entry in [
            Entry::Sending {
                item: 0,
                provider: Some("segmind".into()),
                key: None,
                most_usd_micros: None,
            },
            Entry::Submitted {
                item: 0,
                request_id: "r-1".into(),
                model: None,
                prompt: None,
                at: None,
            },
            Entry::Failed {
                item: 0,
                error: "FAILED".into(),
                maybe_billed: false,
                expired: false,
            },
        ] {
            journal.record(&entry).unwrap();
        }
        drop(journal);
        let (_, states) = Journal::open(&path, "abc", 1, false).unwrap();
        assert_eq!(states[&0].request_id, None);
        assert!(!states[&0].uncertain());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Words as a user, a server or another tool may give them.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,24}",
            "[\"\\\\\n\r\t\u{0}\u{2028}a-z]{0,12}",
            Just("東京\n\"}".to_owned())
        ]
    }

    /// Any journal entry.
    fn entry() -> impl Strategy<Value = Entry> {
        let item = 0usize..1_000;
        let image = (
            prop::option::of(text()),
            prop::option::of(any::<u64>()),
            prop::option::of(text()),
            any::<bool>(),
            text(),
        )
            .prop_map(|(url, seed, resolution, is_safe, prompt)| JournalImage {
                url,
                seed,
                resolution,
                is_safe,
                prompt,
            });
        let paths = || prop::collection::vec(text().prop_map(PathBuf::from), 0..3);
        prop_oneof![
            (text(), any::<usize>())
                .prop_map(|(fingerprint, items)| Entry::Batch { fingerprint, items }),
            (text(), prop::option::of(text()))
                .prop_map(|(tag, provider)| Entry::Run { tag, provider }),
            (
                item.clone(),
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(any::<u64>())
            )
                .prop_map(|(item, provider, key, most_usd_micros)| Entry::Sending {
                    item,
                    provider,
                    key,
                    most_usd_micros
                }),
            (
                item.clone(),
                text(),
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(any::<u64>())
            )
                .prop_map(|(item, request_id, model, prompt, at)| Entry::Submitted {
                    item,
                    request_id,
                    model,
                    prompt,
                    at
                }),
            (item.clone(), prop::collection::vec(image, 0..3))
                .prop_map(|(item, images)| Entry::Generated { item, images }),
            (item.clone(), paths()).prop_map(|(item, stems)| Entry::Saving { item, stems }),
            (item.clone(), paths()).prop_map(|(item, paths)| Entry::Saved { item, paths }),
            (item.clone(), text(), any::<bool>(), any::<bool>()).prop_map(
                |(item, error, maybe_billed, expired)| Entry::Failed {
                    item,
                    error,
                    maybe_billed,
                    expired
                }
            ),
            item.prop_map(|item| Entry::Abandoned { item }),
        ]
    }

    proptest! {
        /// Whatever a journal holds (a torn write, another tool's file,
        /// garbage), reading it never panics: it opens or says why not.
        #[test]
        fn any_journal_content_reads_without_panicking(
            lines in prop::collection::vec(prop_oneof![
                "\\PC{0,40}",
                Just(r#"{"event":"submitted","item":0,"request_id":"x"}"#.to_owned()),
                Just(r#"{"event":"saved","item":18446744073709551615,"paths":[]}"#.to_owned()),
                Just(r#"{"event":"batch","fingerprint":"f","items":1}"#.to_owned()),
                Just(r#"{"event":"generated","item":1,"images":[{"url":null,"seed":null,"resolution":null,"is_safe":false,"prompt":""}]}"#.to_owned()),
            ], 0..12),
            tail in prop::collection::vec(any::<u8>(), 0..16),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("j.jsonl");
            let mut bytes = lines.join("\n").into_bytes();
            bytes.extend(tail);
            std::fs::write(&path, bytes).unwrap();
            let _ = Journal::open(&path, "f", 1, false);
        }

        /// Every entry, whatever its words hold (newlines, quotes, any
        /// script), is written as exactly one line that reads back as it.
        #[test]
        fn every_entry_is_one_line_that_reads_back(entry in entry()) {
            let line = line_of(&entry);
            prop_assert!(line.ends_with('\n'));
            prop_assert_eq!(line.matches('\n').count(), 1, "{}", line);
            prop_assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), entry);
        }

        /// Entries recorded between other tools' lines, with a torn line at
        /// the end, are all there on the next open: each item's last
        /// request id, whatever it holds.
        #[test]
        fn recorded_entries_survive_foreign_and_torn_lines(
            steps in prop::collection::vec((0usize..4, text(), prop::option::of("[^\n]{0,30}")), 1..10),
            torn in prop::collection::vec(any::<u8>(), 0..24),
        ) {
            use std::io::Write as _;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("j.jsonl");
            let (journal, _) = Journal::open(&path, "f", 4, false).unwrap();
            let mut expected = std::collections::HashMap::new();
            for (item, request_id, foreign) in &steps {
                journal.record(&Entry::Submitted { item: *item, request_id: request_id.clone(), model: None, prompt: None, at: None }).unwrap();
                expected.insert(*item, request_id.clone());
                if let Some(foreign) = foreign {
                    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
                    writeln!(file, "{foreign}").unwrap();
                }
            }
            drop(journal);
            let torn: Vec<u8> = torn.into_iter().filter(|b| *b != b'\n').collect();
            std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&torn).unwrap();
            let (_, states) = Journal::open(&path, "f", 4, false).unwrap();
            for (item, request_id) in expected {
                prop_assert_eq!(states[&item].request_id.as_deref(), Some(request_id.as_str()));
            }
        }
    }
}

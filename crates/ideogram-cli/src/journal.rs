//! The batch journal: an append-only JSON-lines file, synced after every
//! line, that records what was paid for before it is fetched (the queue id,
//! or the image URLs) and what was saved, so a killed batch resumes without
//! paying twice.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::failure::{Failure, INVALID};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// The batch it belongs to: its file's fingerprint.
    Batch { fingerprint: String, items: usize },
    /// About to send a paid request: until its answer is journaled, the item
    /// may have been billed without this run knowing.
    Sending { item: usize },
    /// Queued on Segmind: the job can be resumed from this id.
    Submitted { item: usize, request_id: String },
    /// Generated (and billed) by Ideogram: the images wait at these URLs.
    Generated {
        item: usize,
        images: Vec<JournalImage>,
    },
    /// Every image of the item is on disk.
    Saved { item: usize, paths: Vec<PathBuf> },
    /// The item failed; `maybe_billed` when it may have been paid for.
    Failed {
        item: usize,
        error: String,
        maybe_billed: bool,
    },
}

/// What is needed to fetch and describe a generated image later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalImage {
    pub url: Option<String>,
    pub seed: Option<u64>,
    pub resolution: Option<String>,
    pub is_safe: bool,
    pub prompt: String,
}

/// What the journal says of one item.
#[derive(Debug, Clone, Default)]
pub struct ItemState {
    pub request_id: Option<String>,
    pub images: Option<Vec<JournalImage>>,
    pub saved: Option<Vec<PathBuf>>,
    pub sending: bool,
    pub failed_maybe_billed: bool,
}

impl ItemState {
    /// Sent (or maybe sent) and possibly billed, with nothing to fetch it
    /// by: sending it again could pay twice.
    pub fn uncertain(&self) -> bool {
        (self.sending || self.failed_maybe_billed)
            && self.request_id.is_none()
            && self.images.is_none()
    }
}

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) the journal for a batch whose file has
    /// `fingerprint`, and returns what it already records per item.
    pub fn open(
        path: &Path,
        fingerprint: &str,
        items: usize,
    ) -> Result<(Self, HashMap<usize, ItemState>), Failure> {
        let mut states: HashMap<usize, ItemState> = HashMap::new();
        let mut known = false;
        if let Ok(file) = File::open(path) {
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line =
                    line.map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
                // A line cut short by a kill is the last one: skip it.
                let Ok(entry) = serde_json::from_str::<Entry>(&line) else {
                    continue;
                };
                match entry {
                    Entry::Batch { fingerprint: f, .. } => {
                        if f != fingerprint {
                            return Err(Failure::new(
                                INVALID,
                                format!(
                                    "{} belongs to another batch file (line {})",
                                    path.display(),
                                    n + 1
                                ),
                            )
                            .hint("use another --output folder or --journal"));
                        }
                        known = true;
                    }
                    Entry::Sending { item } => {
                        let state = states.entry(item).or_default();
                        state.sending = true;
                        state.failed_maybe_billed = false;
                    }
                    Entry::Submitted { item, request_id } => {
                        states.entry(item).or_default().request_id = Some(request_id)
                    }
                    Entry::Generated { item, images } => {
                        states.entry(item).or_default().images = Some(images)
                    }
                    Entry::Saved { item, paths } => {
                        states.entry(item).or_default().saved = Some(paths)
                    }
                    Entry::Failed {
                        item, maybe_billed, ..
                    } => {
                        let state = states.entry(item).or_default();
                        state.sending = false;
                        state.failed_maybe_billed = maybe_billed;
                    }
                }
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Failure::io(format!("cannot open {}", path.display()), e))?;
        // End a line a kill cut short, so the next entry starts cleanly.
        let torn = std::fs::read(path)
            .map(|b| b.last().is_some_and(|&c| c != b'\n'))
            .unwrap_or(false);
        if torn {
            file.write_all(b"\n")
                .map_err(|e| Failure::io(format!("cannot write {}", path.display()), e))?;
        }
        let journal = Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        if !known {
            journal.record(&Entry::Batch {
                fingerprint: fingerprint.to_owned(),
                items,
            })?;
        }
        Ok((journal, states))
    }

    /// Appends an entry and syncs it to disk before returning.
    pub fn record(&self, entry: &Entry) -> Result<(), Failure> {
        let mut line = serde_json::to_string(entry).expect("journal entry");
        line.push('\n');
        let mut file = self.file.lock().expect("journal");
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| Failure::io(format!("cannot write {}", self.path.display()), e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A fingerprint of the batch file's items (FNV-1a over the lines).
pub fn fingerprint(lines: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        for byte in line.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
            ..ProptestConfig::default()
        })]

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
            let _ = Journal::open(&path, "f", 1);
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (journal, states) = Journal::open(&path, "abc", 2).unwrap();
        assert!(states.is_empty());
        journal
            .record(&Entry::Submitted {
                item: 0,
                request_id: "seg-1".into(),
            })
            .unwrap();
        journal
            .record(&Entry::Saved {
                item: 1,
                paths: vec!["a.png".into()],
            })
            .unwrap();
        drop(journal);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"event\": \"sav")
            .unwrap();
        let (journal, states) = Journal::open(&path, "abc", 2).unwrap();
        assert_eq!(states[&0].request_id.as_deref(), Some("seg-1"));
        journal
            .record(&Entry::Saved {
                item: 0,
                paths: vec!["b.png".into()],
            })
            .unwrap();
        drop(journal);
        let (_, states) = Journal::open(&path, "abc", 2).unwrap();
        assert!(
            states[&0].saved.is_some(),
            "an entry after a torn line is kept"
        );
        assert_eq!(
            states[&1].saved.as_deref(),
            Some(&[PathBuf::from("a.png")][..])
        );
        let err = Journal::open(&path, "other", 2).err().unwrap();
        assert!(err.message.contains("another batch"), "{}", err.message);
    }
}

//! What `webhook serve` keeps in its output folder: a journal of the
//! deliveries by generation id (the batch journal's format and entries),
//! written to disk before a delivery's images are downloaded, and the
//! images with their sidecars, saved as every command saves them (never
//! over a file, each image's URL on disk before its download starts).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ideogram::raw::ideogram::types::WebhookDelivery;
use serde_json::json;

use crate::failure::Failure;
use crate::journal::{Entry, ItemState, Journal, JournalImage};
use crate::naming::{self, Plan};
use crate::output::Asked;
use crate::signals::Signals;

/// The journal's name in the output folder.
const JOURNAL: &str = ".ideogram-webhook.jsonl";

/// What the journal calls its batch.
const FINGERPRINT: &str = "ideogram-webhook";

/// What became of a verified delivery.
pub(crate) enum Kept {
    /// Its images were saved now, at these paths.
    Saved(Vec<PathBuf>),
    /// It was saved before (a redelivery): nothing was saved again.
    AlreadySaved(Vec<PathBuf>),
}

/// What the journal records per generation id.
#[derive(Default)]
struct Items {
    /// Each generation id's item and state.
    by_id: HashMap<String, (usize, ItemState)>,
    /// The next item's number.
    next: usize,
}

/// The journal, what it records per generation id, and the folder's lock.
pub(crate) struct Store {
    journal: Journal,
    dir: PathBuf,
    items: Mutex<Items>,
    /// Held while a generation is saved: a redelivery arriving meanwhile
    /// waits for it, then finds it saved. An id's entry is removed when
    /// its last holder is done ([`Turn`]).
    busy: Busy,
    /// This run's temporary files' tag (journaled, so that the next run
    /// removes what a kill left).
    tag: String,
    /// The output folder's lock, shared (no batch runs there meanwhile).
    _folder: File,
}

/// A generation's turn ([`Store::turn`]). Dropped, it releases the
/// generation's lock, and removes its entry once no one else holds or
/// waits for it, so that a long-running receiver keeps none per delivery.
struct Turn<'a> {
    busy: &'a Busy,
    id: String,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.held.take());
        // A poisoned map is left as it is: a panic in a drop would abort.
        let Ok(mut busy) = self.busy.lock() else {
            return;
        };
        if let Some((_, holders)) = busy.get_mut(&self.id) {
            *holders -= 1;
            if *holders == 0 {
                busy.remove(&self.id);
            }
        }
    }
}

/// Each generation's lock while some delivery of it is handled, with how
/// many hold it or wait for it.
type Busy = Mutex<HashMap<String, (Arc<tokio::sync::Mutex<()>>, usize)>>;

impl Store {
    /// Opens the journal in `dir` (created if missing); refused when
    /// another server holds it or a batch runs there.
    pub(crate) fn open(dir: &Path) -> Result<Self, Failure> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
        let folder = crate::journal::share_output(dir)?;
        let Some((journal, states)) = Journal::open_first_free([dir.join(JOURNAL)], FINGERPRINT)?
        else {
            return Err(Failure::new(
                crate::failure::OTHER,
                format!(
                    "another ideogram webhook serve saves into {} (it holds the journal)",
                    dir.display()
                ),
            )
            .hint("stop it, or give this one another output folder"));
        };
        crate::batch::sweep_own_leftovers(dir, journal.tags());
        let tag = format!("w{:08x}", rand::random::<u32>());
        journal.record(&Entry::Run {
            tag: tag.clone(),
            provider: Some(ideogram::Provider::Ideogram.to_string()),
        })?;
        let next = states.keys().max().map_or(1, |last| last + 1);
        let by_id = states
            .into_iter()
            .filter_map(|(item, state)| Some((state.request_id.clone()?, (item, state))))
            .collect();
        Ok(Self {
            journal,
            dir: dir.to_path_buf(),
            items: Mutex::new(Items { by_id, next }),
            busy: Mutex::default(),
            tag,
            _folder: folder,
        })
    }

    /// The generation ids the journal holds paid for but not saved (a
    /// server killed mid-download).
    pub(crate) fn unsaved(&self) -> Vec<String> {
        let items = self.items.lock().expect("items");
        let mut ids: Vec<(usize, String)> = items
            .by_id
            .iter()
            .filter(|(_, (_, state))| state.images.is_some() && state.saved.is_none())
            .map(|(id, (item, _))| (*item, id.clone()))
            .collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// Keeps a verified delivery: journaled (on disk) first if new, then
    /// its images saved unless they were.
    pub(crate) async fn keep(
        &self,
        delivery: &WebhookDelivery,
        client: &ideogram::Client,
        signals: &Signals,
    ) -> Result<Kept, Failure> {
        let id = &delivery.generation_id;
        let _turn = self.turn(id).await;
        // Journaled means its images are: an id whose images never reached
        // the journal (killed between the two lines) is journaled again,
        // under the item it has.
        match self.state(id) {
            Some((_, state)) if state.images.is_some() => {}
            known => {
                self.journal_new(delivery, known.map(|(item, _)| item))
                    .await?
            }
        }
        self.save(id, client, signals).await
    }

    /// Saves the images the journal holds for generation `id`, unless
    /// saved already.
    pub(crate) async fn resume(
        &self,
        id: &str,
        client: &ideogram::Client,
        signals: &Signals,
    ) -> Result<Kept, Failure> {
        let _turn = self.turn(id).await;
        self.save(id, client, signals).await
    }

    /// Generation `id`'s turn: held until dropped, once every earlier
    /// holder of it is done.
    async fn turn(&self, id: &str) -> Turn<'_> {
        let lock = {
            let mut busy = self.busy.lock().expect("busy");
            let (lock, holders) = busy.entry(id.to_owned()).or_default();
            *holders += 1;
            lock.clone()
        };
        // Counted before the wait: a caller that stops waiting (a second
        // interrupt) is done with the id too.
        let mut turn = Turn {
            busy: &self.busy,
            id: id.to_owned(),
            held: None,
        };
        turn.held = Some(lock.lock_owned().await);
        turn
    }

    fn state(&self, id: &str) -> Option<(usize, ItemState)> {
        self.items.lock().expect("items").by_id.get(id).cloned()
    }

    /// Records a delivery's images, synced to disk, under `item` (the one
    /// the journal already gave its id) or a new one.
    async fn journal_new(
        &self,
        delivery: &WebhookDelivery,
        item: Option<usize>,
    ) -> Result<(), Failure> {
        let images: Vec<JournalImage> = delivery
            .data
            .iter()
            .map(|image| JournalImage {
                url: image.url.clone().filter(|url| !url.is_empty()),
                seed: u64::try_from(image.seed).ok(),
                resolution: Some(image.resolution.clone()),
                is_safe: image.is_image_safe,
                prompt: image.prompt.clone(),
            })
            .collect();
        let item = item.unwrap_or_else(|| {
            let mut items = self.items.lock().expect("items");
            items.next += 1;
            items.next - 1
        });
        let submitted = Entry::Submitted {
            item,
            request_id: delivery.generation_id.clone(),
            model: None,
            prompt: delivery.data.first().map(|image| image.prompt.clone()),
            // Delivered: no queue retention to count down.
            at: None,
        };
        let generated = Entry::Generated { item, images };
        self.journal.append(&submitted)?;
        self.journal.commit(&generated).await?;
        let mut state = ItemState::default();
        for entry in [submitted, generated] {
            state.apply(entry, &self.dir);
        }
        let mut items = self.items.lock().expect("items");
        items
            .by_id
            .insert(delivery.generation_id.clone(), (item, state));
        Ok(())
    }

    /// Downloads generation `id`'s journaled images (if not saved yet)
    /// and journals where they went.
    async fn save(
        &self,
        id: &str,
        client: &ideogram::Client,
        signals: &Signals,
    ) -> Result<Kept, Failure> {
        let Some((item, state)) = self.state(id) else {
            return Err(Failure::new(
                crate::failure::OTHER,
                format!("generation {id} is not in the journal"),
            ));
        };
        if let Some(paths) = state.saved {
            return Ok(Kept::AlreadySaved(paths));
        }
        let images = state.images.unwrap_or_default();
        let prompt = state.prompt.unwrap_or_default();
        // A delivery names no model: the sidecars say so (null), and the
        // generation's model is a placeholder nothing shows.
        let mut generation = crate::journal::restore(client, ideogram::DEFAULT_MODEL, images);
        generation.request_id = Some(id.to_owned());
        let mut fields = serde_json::Map::new();
        fields.insert("model".into(), json!(null));
        let asked = Asked {
            prompt: prompt.clone(),
            provider: ideogram::Provider::Ideogram,
            fields,
        };
        let plan = Plan::from_output(Some(&self.dir.join("")), &naming::slug(&prompt))?;
        let (records, unsaved) = self
            .save_at(item, &state.reserved, &plan, &generation, &asked, signals)
            .await?;
        if !unsaved.is_empty() {
            crate::paid::report_unsaved(&unsaved, generation.images.len());
            return Err(crate::paid::not_saved(&unsaved, generation.images.len()));
        }
        let paths: Vec<PathBuf> = records
            .iter()
            .filter_map(|r| r["path"].as_str())
            .map(PathBuf::from)
            .collect();
        let relative = paths.iter().map(|p| self.journal.relative(p)).collect();
        let saved = Entry::Saved {
            item,
            paths: relative,
        };
        self.journal.commit(&saved).await?;
        let mut items = self.items.lock().expect("items");
        if let Some((_, state)) = items.by_id.get_mut(id) {
            state.apply(saved, &self.dir);
        }
        Ok(Kept::Saved(paths))
    }

    /// Saves `generation` under names of its own, journaled before the
    /// downloads start: a run killed mid-download leaves names the next
    /// run reuses (removing what was left there), never a second set. New
    /// names are claimed (their sidecars created) before they are
    /// journaled, so that deliveries saved at once, whose prompts give
    /// them the same names, never pick one name twice (nor take another's
    /// as theirs to remove).
    async fn save_at(
        &self,
        item: usize,
        reserved: &[PathBuf],
        plan: &Plan,
        generation: &ideogram::Generation,
        asked: &Asked,
        signals: &Signals,
    ) -> Result<(Vec<serde_json::Value>, Vec<crate::paid::Unsaved>), Failure> {
        use crate::batch::{absolute, same_stem};
        let ours = |path: &Path| reserved.iter().any(|stem| same_stem(stem, path));
        let count = generation.images.len();
        let (stems, claimed) = if reserved.is_empty() {
            crate::commands::stems_for(plan, count, false)
        } else {
            (plan.stems(count, false, &ours), false)
        };
        let relative = stems
            .iter()
            .map(|s| {
                self.journal
                    .relative(&absolute(&s.image.with_extension("")))
            })
            .collect();
        let saving = Entry::Saving {
            item,
            stems: relative,
        };
        if let Err(failure) = self.journal.commit(&saving).await {
            // Not journaled: the names are not this delivery's to keep.
            for stem in stems.iter().filter(|_| claimed) {
                naming::release_claim(&stem.sidecar);
            }
            return Err(failure);
        }
        if let Some((_, state)) = self
            .items
            .lock()
            .expect("items")
            .by_id
            .get_mut(&generation.request_id.clone().unwrap_or_default())
        {
            state.apply(saving, &self.dir);
        }
        for stem in &stems {
            for path in naming::files_of_stem(&stem.image) {
                if ours(&path) && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let saving = crate::paid::Saving {
            asked,
            replace: false,
            temp_tag: Some(self.tag.clone()),
            started: SystemTime::now(),
            // The Generated entry, synced, holds the URLs.
            journaled: true,
            cost: None,
            claimed,
        };
        // The first interrupt lets the downloads under way finish; a
        // second one stops them (the journal still holds the URLs).
        signals
            .unless(2, crate::paid::save_all(generation, &stems, &saving))
            .await
            .ok_or_else(|| {
                Failure::new(
                    crate::failure::INTERRUPTED,
                    "interrupted while downloading; the journal holds the images: start the server again to save them",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use ideogram_mock::{MockConfig, MockServer};

    use super::*;

    /// How many generation ids hold an entry in the map.
    fn entries(store: &Store) -> usize {
        store.busy.lock().expect("busy").len()
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(&dir.path().join("out")).expect("opened");
        (dir, store)
    }

    #[tokio::test]
    async fn an_id_s_entry_goes_with_its_last_holder_or_waiter() {
        let (_dir, store) = open();
        let first = store.turn("a").await;
        let mut second = Box::pin(store.turn("a"));
        assert!(futures::poll!(&mut second).is_pending(), "waits its turn");
        let other = store.turn("b").await;
        assert_eq!(entries(&store), 2);
        drop(other);
        assert_eq!(entries(&store), 1, "b's holder was its last");
        drop(first);
        assert_eq!(entries(&store), 1, "the second still waits");
        let second = second.await;
        drop(second);
        assert_eq!(entries(&store), 0);
        // A caller that stops waiting (interrupted) is done with it too.
        let first = store.turn("c").await;
        let mut waiter = Box::pin(store.turn("c"));
        assert!(futures::poll!(&mut waiter).is_pending(), "waits its turn");
        drop(waiter);
        drop(first);
        assert_eq!(entries(&store), 0);
    }

    #[tokio::test]
    async fn the_map_is_empty_once_deliveries_are_kept() {
        let mock = MockServer::start(MockConfig::default())
            .await
            .expect("mock");
        let client = ideogram::Client::builder(ideogram::Provider::Ideogram)
            .base_url(mock.api_url())
            .api_key(mock.api_key())
            .build()
            .expect("client");
        let signals = Signals::never();
        let (dir, store) = open();
        let one = mock.webhook_delivery("a lighthouse", 1);
        let two = mock.webhook_delivery("a fox", 2);
        // One delivered twice at once (a retry), beside another.
        let (a, b, c) = tokio::join!(
            store.keep(&one, &client, &signals),
            store.keep(&one, &client, &signals),
            store.keep(&two, &client, &signals),
        );
        let saved = [a, b, c].map(|kept| match kept.expect("kept") {
            Kept::Saved(paths) | Kept::AlreadySaved(paths) => paths.len(),
        });
        assert_eq!(saved, [1, 1, 2]);
        assert_eq!(entries(&store), 0, "no entry outlives its deliveries");
        drop(dir);
    }
}

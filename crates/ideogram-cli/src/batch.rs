//! `ideogram batch`: many prompts, a bounded number at once, with progress
//! and a journal that lets a killed batch resume without paying twice.
//!
//! On Segmind every item goes through the queue, so its id is journaled
//! before any waiting; on Ideogram's API (which has no ids) the image URLs
//! are journaled as soon as the answer arrives, before downloading.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::StreamExt as _;
use ideogram::{Client, GenerateRequest, Generation, ImageData, Provider};
use serde_json::Value;

use crate::args::Options;
use crate::connect::Session;
use crate::failure::{Failure, INTERRUPTED, INVALID};
use crate::journal::{Entry, ItemState, Journal, JournalImage, fingerprint};
use crate::output::{self, Asked};
use crate::progress::Progress;
use crate::request;

pub struct Batch {
    pub file: PathBuf,
    pub options: Options,
    pub output: PathBuf,
    pub concurrency: usize,
    pub journal: Option<PathBuf>,
    pub resend_uncertain: bool,
    pub json: bool,
}

struct Item {
    index: usize,
    asked: Asked,
    request: GenerateRequest,
}

pub async fn run(session: &Session, batch: Batch) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&batch.file)
        .map_err(|e| Failure::io(format!("cannot read {}", batch.file.display()), e))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("{} holds no prompts", batch.file.display()),
        ));
    }
    // Check every item before anything is sent: a bad line costs nothing.
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let checked = request::batch_item(line, &batch.options).and_then(|(prompt, options)| {
            let request = request::build(&prompt, &options)?;
            request.check(session.provider)?;
            Ok(Item {
                index,
                asked: Asked {
                    prompt,
                    provider: session.provider,
                    options,
                },
                request,
            })
        });
        match checked {
            Ok(item) => items.push(item),
            Err(err) => problems.push(format!("item {}: {err}", index + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("nothing was sent; {}", problems.join("; ")),
        ));
    }

    let journal_path = batch
        .journal
        .clone()
        .unwrap_or_else(|| batch.output.join(".ideogram-batch.jsonl"));
    sweep_partial_files(&batch.output);
    let (journal, states) = Journal::open(&journal_path, &fingerprint(&lines), lines.len())?;
    let progress = Arc::new(Mutex::new(Progress::new(items.len(), batch.json)));
    let mut pending = Vec::new();
    for item in items {
        let state = states.get(&item.index).cloned().unwrap_or_default();
        let on_disk = state
            .saved
            .as_ref()
            .is_some_and(|paths| paths.iter().all(|p| p.exists()));
        if on_disk {
            progress.lock().expect("progress").skip(1);
        } else if state.uncertain() && !batch.resend_uncertain {
            progress.lock().expect("progress").finish(false, &format!(
                "item {}: not sent again: an earlier run sent it and may have been billed without getting an answer \
                 (--resend-uncertain sends it anyway)",
                item.index + 1
            ));
        } else {
            pending.push((item, state));
        }
    }

    let stop = Stop::on_signals();
    let ctx = Context {
        client: &session.client,
        journal: &journal,
        output: &batch.output,
        progress: &progress,
        stop: &stop,
    };
    let records: Vec<Value> = futures::stream::iter(pending)
        .map(|(item, state)| ctx.item(item, state))
        .buffer_unordered(batch.concurrency.max(1))
        .filter_map(|result| async move { result })
        .collect::<Vec<Vec<Value>>>()
        .await
        .into_iter()
        .flatten()
        .collect();

    let progress = progress.lock().expect("progress");
    progress.close();
    let (done, failed) = progress.counts();
    if stop.stopped() {
        return Err(Failure::new(
            INTERRUPTED,
            format!("interrupted with {done} of {} items done", lines.len()),
        )
        .hint(
            "run the same command again to resume; what was paid for is fetched, not sent again",
        ));
    }
    if batch.json {
        println!("{}", serde_json::to_string_pretty(&records).expect("JSON"));
    }
    eprintln!(
        "{done} done, {failed} failed; journal: {}",
        journal.path().display()
    );
    if failed > 0 {
        return Err(Failure::new(
            crate::failure::FAILED,
            format!("{failed} of {} items failed", done + failed),
        )
        .hint("run the same command again to retry them; nothing already paid for is sent again"));
    }
    Ok(())
}

/// Removes the temporary files a killed run left mid-write (`*.part`): the
/// images they were becoming are fetched again from the journal.
fn sweep_partial_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

struct Context<'a> {
    client: &'a Client,
    journal: &'a Journal,
    output: &'a Path,
    progress: &'a Arc<Mutex<Progress>>,
    stop: &'a Stop,
}

/// Set by SIGINT or SIGTERM: no new request is sent, a request already sent
/// is let finish until its answer is journaled, and waiting stops.
#[derive(Clone)]
struct Stop(Arc<tokio::sync::watch::Sender<bool>>);

impl Stop {
    fn on_signals() -> Self {
        let (sender, _) = tokio::sync::watch::channel(false);
        let stop = Self(Arc::new(sender));
        let signalled = stop.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            signalled.0.send_replace(true);
        });
        stop
    }

    fn stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is asked for.
    async fn asked(&self) {
        let mut watch = self.0.subscribe();
        let _ = watch.wait_for(|stopped| *stopped).await;
    }

    /// Runs `work` unless a stop comes first.
    async fn unless<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            value = work => Some(value),
            () = self.asked() => None,
        }
    }
}

/// How one item ended, short of an error.
enum Outcome {
    Saved(Vec<Value>),
    Interrupted,
}

impl Context<'_> {
    /// Runs one item to its images on disk; `None` when it failed (reported)
    /// or was interrupted.
    async fn item(&self, item: Item, state: ItemState) -> Option<Vec<Value>> {
        if self.stop.stopped() {
            return None;
        }
        self.progress.lock().expect("progress").start();
        let started = SystemTime::now();
        let result = self.produce(&item, state, started).await;
        let mut progress = self.progress.lock().expect("progress");
        match result {
            Ok(Outcome::Saved(records)) => {
                let line = records
                    .iter()
                    .map(output::describe)
                    .collect::<Vec<_>>()
                    .join("\n");
                progress.finish(true, &line);
                Some(records)
            }
            Ok(Outcome::Interrupted) => {
                progress.interrupted();
                None
            }
            Err((failure, maybe_billed)) => {
                let _ = self.journal.record(&Entry::Failed {
                    item: item.index,
                    error: failure.message.clone(),
                    maybe_billed,
                });
                progress.finish(false, &format!("item {}: {failure}", item.index + 1));
                None
            }
        }
    }

    async fn produce(
        &self,
        item: &Item,
        state: ItemState,
        started: SystemTime,
    ) -> Result<Outcome, (Failure, bool)> {
        let provider = self.client.provider();
        let lib = |e: ideogram::Error| {
            let maybe_billed = !e.certainly_not_billed();
            (Failure::from_error(e, provider), maybe_billed)
        };
        let journal = |entry: &Entry| self.journal.record(entry).map_err(|f| (f, true));
        let mut generation = match (provider, state.request_id, state.images) {
            (_, _, Some(images)) => self.restore(item, images),
            (Provider::Segmind, Some(id), _) => {
                match self.stop.unless(self.client.job(id).wait()).await {
                    Some(result) => result.map_err(lib)?,
                    None => return Ok(Outcome::Interrupted),
                }
            }
            (Provider::Segmind, None, _) => {
                if self.stop.stopped() {
                    return Ok(Outcome::Interrupted);
                }
                journal(&Entry::Sending { item: item.index })?;
                // Not interruptible: the id must reach the journal once sent.
                let job = self.client.submit(&item.request).await.map_err(lib)?;
                journal(&Entry::Submitted {
                    item: item.index,
                    request_id: job.id().to_owned(),
                })?;
                match self.stop.unless(job.wait()).await {
                    Some(result) => result.map_err(lib)?,
                    None => return Ok(Outcome::Interrupted),
                }
            }
            (Provider::Ideogram, _, None) => {
                if self.stop.stopped() {
                    return Ok(Outcome::Interrupted);
                }
                journal(&Entry::Sending { item: item.index })?;
                // Not interruptible: the URLs must reach the journal once paid for.
                let generation = self.client.generate(&item.request).await.map_err(lib)?;
                let images = generation
                    .images
                    .iter()
                    .map(|image| JournalImage {
                        url: match &image.data {
                            ImageData::Url(url) => Some(url.clone()),
                            _ => None,
                        },
                        seed: image.seed,
                        resolution: image.resolution.clone(),
                        is_safe: image.is_safe,
                        prompt: image.prompt.clone(),
                    })
                    .collect();
                journal(&Entry::Generated {
                    item: item.index,
                    images,
                })?;
                generation
            }
        };
        // A job resumed by id alone does not know its model; this item does.
        generation.model = item.request.chosen_model();
        let stem = format!("{:04}-{}", item.index + 1, output::slug(&item.asked.prompt));
        let count = generation.images.len();
        let mut records = Vec::new();
        for (i, image) in generation.images.iter().enumerate() {
            if !image.is_safe {
                continue;
            }
            let path = output::target(
                Some(self.output),
                &stem,
                i,
                count,
                output::expected_extension(image),
            );
            match self
                .stop
                .unless(output::save(image, &generation, &item.asked, path, started))
                .await
            {
                Some(record) => records.push(record.map_err(|f| (f, true))?),
                None => return Ok(Outcome::Interrupted),
            }
        }
        let paths = records
            .iter()
            .filter_map(|r| r["path"].as_str().map(PathBuf::from))
            .collect();
        journal(&Entry::Saved {
            item: item.index,
            paths,
        })?;
        Ok(Outcome::Saved(records))
    }

    /// Rebuilds a paid-for generation from the journal, to download it.
    fn restore(&self, item: &Item, images: Vec<JournalImage>) -> Generation {
        let images = images
            .into_iter()
            .map(|j| {
                let mut image = self
                    .client
                    .remote_image(j.url.clone().unwrap_or_default(), j.prompt);
                image.seed = j.seed;
                image.resolution = j.resolution;
                image.is_safe = j.is_safe && j.url.is_some();
                if !image.is_safe {
                    image.data = ImageData::Withheld;
                }
                image
            })
            .collect();
        Generation {
            provider: self.client.provider(),
            model: item.request.chosen_model(),
            request_id: None,
            credits_left: None,
            images,
        }
    }
}

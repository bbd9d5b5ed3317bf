//! Saving what was paid for. Every image of a generation is fetched on its
//! own (one failing does not stop its siblings); an image at a URL gets its
//! sidecar first, holding the URL, so that the paid result is recorded on
//! disk before the download starts; an image that cannot be saved is
//! reported with its URL and the command that fetches it later. An image
//! held in memory (no URL) whose target fails goes to the first rescue
//! place that takes it, or is reported as lost, with each place tried:
//! never with a command or URL that does not exist.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ideogram::{GeneratedImage, Generation, ImageData, SaveOptions};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::naming::Stem;
use crate::output::{self, Asked, fetch_command, tell};

/// How to save.
pub(crate) struct Saving<'a> {
    /// What was asked, for the sidecars.
    pub asked: &'a Asked,
    /// Replace files at the targets (they are ours, or `--overwrite`).
    pub replace: bool,
    /// Names temporary files, so that their owner can clean up after a kill.
    pub temp_tag: Option<String>,
    /// When the work started, for the sidecar's timings.
    pub started: SystemTime,
    /// The URLs are already on disk elsewhere (a batch's journal): the
    /// sidecar written before a download need not be synced too.
    pub journaled: bool,
    /// The stems were claimed for this work ([`crate::naming::Plan::claim_stems`]):
    /// their sidecars are ours to write over, and a claim left unused
    /// (an image withheld) is removed.
    pub claimed: bool,
    /// What the call cost, for the sidecars (each image its share).
    pub cost: Option<&'a crate::cost::Cost>,
}

/// `record`, a sidecar of the `number`th of `generation`'s images, with
/// its share of what the call cost where that is known.
fn costed(saving: &Saving<'_>, mut record: Value, number: usize, generation: &Generation) -> Value {
    if let Some(cost) = saving.cost {
        let count = generation.images.len();
        record["cost"] = cost.sidecar(number - 1, count, saving.journaled);
    }
    record
}

/// A paid image that is not on disk.
#[derive(Debug, Clone)]
pub(crate) struct Unsaved {
    /// Its position in the generation, from 1.
    pub number: usize,
    /// What went wrong.
    pub reason: String,
    /// Where it was going.
    pub target: PathBuf,
    /// Where it can be fetched, and the command that does.
    pub url: Option<String>,
    /// A copy saved elsewhere when the target could not be written.
    pub rescued: Option<PathBuf>,
    /// An image held only in memory (no URL) that no place took: each
    /// place tried and why it failed. It is lost when this process ends.
    pub tried: Vec<String>,
}

impl Unsaved {
    /// The command that fetches it later, when there is a URL.
    pub(crate) fn fetch(&self) -> Option<String> {
        self.url
            .as_deref()
            .map(|url| fetch_command(url, &self.target))
    }

    /// Lines for stderr: what failed and how to get the image.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("  image {}: {}", self.number, self.reason)];
        if let Some(fetch) = self.fetch() {
            lines.push(format!("    fetch it later: {fetch}"));
        }
        if let Some(rescued) = &self.rescued {
            lines.push(format!("    saved instead at {}", rescued.display()));
        }
        if self.lost() {
            lines.push(
                "    lost: it has no URL to fetch it by, and no place took its bytes:".to_owned(),
            );
            lines.extend(self.tried.iter().map(|t| format!("      {t}")));
        }
        lines
    }

    /// Whether nothing is left of it: no URL, no copy.
    pub(crate) fn lost(&self) -> bool {
        self.url.is_none() && self.rescued.is_none()
    }

    /// The same as JSON, for `--json`.
    pub(crate) fn json(&self) -> Value {
        json!({
            "status": "not_saved",
            "image": self.number,
            "target": self.target.display().to_string(),
            "error": self.reason,
            "source_url": self.url,
            "fetch": self.fetch(),
            "rescued": self.rescued.as_ref().map(|p| p.display().to_string()),
            "lost": self.lost(),
            "tried": self.tried,
        })
    }
}

/// Saves every image of `generation` at `stems` (one each, in order).
/// Returns the sidecar records of the saved images and the unsaved ones;
/// images withheld by the safety check are noted and skipped.
pub(crate) async fn save_all(
    generation: &Generation,
    stems: &[Stem],
    saving: &Saving<'_>,
) -> (Vec<Value>, Vec<Unsaved>) {
    let jobs = generation
        .images
        .iter()
        .zip(stems)
        .enumerate()
        .map(|(i, (image, stem))| save_one(generation, image, i + 1, stem, saving));
    let mut records = Vec::new();
    let mut unsaved = Vec::new();
    for outcome in futures::future::join_all(jobs).await {
        match outcome {
            Some(Ok(record)) => records.push(record),
            Some(Err(lost)) => unsaved.push(lost),
            None => {}
        }
    }
    (records, unsaved)
}

async fn save_one(
    generation: &Generation,
    image: &GeneratedImage,
    number: usize,
    stem: &Stem,
    saving: &Saving<'_>,
) -> Option<Result<Value, Unsaved>> {
    if !image.is_safe || matches!(image.data, ImageData::Withheld) {
        tell(&format!(
            "note: image {number} failed the safety check and was withheld (not saved)"
        ));
        if saving.claimed {
            crate::naming::release_claim(&stem.sidecar);
        }
        return None;
    }
    let url = match &image.data {
        ImageData::Url(url) => Some(url.clone()),
        _ => None,
    };
    let lost = |reason: String, rescued: Result<PathBuf, Vec<String>>| Unsaved {
        number,
        reason,
        target: stem.image.clone(),
        url: url.clone(),
        tried: rescued.as_ref().err().cloned().unwrap_or_default(),
        rescued: rescued.ok(),
    };
    let base = costed(
        saving,
        output::record(image, generation, saving.asked, &stem.image, saving.started),
        number,
        generation,
    );
    // The URL on disk before the download starts: if this process dies, the
    // sidecar still says where the paid image is.
    let mut sidecar_ours = saving.replace || saving.claimed;
    if url.is_some() {
        let mut pending = base.clone();
        pending["status"] = json!("downloading");
        pending["fetch"] = json!(url.as_deref().map(|u| fetch_command(u, &stem.image)));
        match output::write_sidecar_off(
            &stem.sidecar,
            &pending,
            sidecar_ours,
            saving.temp_tag.clone(),
            !saving.journaled,
        )
        .await
        {
            Ok(()) => sidecar_ours = true,
            Err(failure) => tell(&format!("warning: {}", failure.message)),
        }
    }
    let mut options = SaveOptions::new()
        .replace(saving.replace)
        .fix_extension(true);
    if let Some(tag) = &saving.temp_tag {
        options = options.temp_tag(tag.clone());
    }
    match image.save_with(&stem.image, &options).await {
        Ok(saved) => {
            let mut record = costed(
                saving,
                output::record(image, generation, saving.asked, &saved, saving.started),
                number,
                generation,
            );
            if saved != stem.image {
                tell(&format!(
                    "note: {} holds a {} image, saved as {}",
                    stem.image.display(),
                    saved
                        .extension()
                        .map(|e| e.to_string_lossy().to_uppercase())
                        .unwrap_or_default(),
                    saved.display()
                ));
            }
            let sidecar = Stem::sidecar_of(&saved);
            if let Err(failure) = output::write_sidecar_off(
                &sidecar,
                &record,
                sidecar_ours,
                saving.temp_tag.clone(),
                true,
            )
            .await
            {
                // The image is safe; only its description is missing.
                tell(&format!("warning: {}", failure.message));
                record["sidecar_error"] = json!(failure.message);
            }
            Some(Ok(record))
        }
        Err(err) => {
            let reason = err.to_string();
            let rescued = match &image.data {
                ImageData::Bytes { .. } => rescue(image, generation, number, &stem.image).await,
                _ => Err(Vec::new()),
            };
            if let Ok(copy) = &rescued {
                // The copy is described where it is, as a saved image is.
                let mut record = costed(
                    saving,
                    output::record(image, generation, saving.asked, copy, saving.started),
                    number,
                    generation,
                );
                record["rescued_from"] = json!(stem.image.display().to_string());
                if let Err(failure) = output::write_sidecar(&Stem::sidecar_of(copy), &record, false)
                {
                    tell(&format!("warning: {}", failure.message));
                }
            }
            let lost = lost(reason, rescued);
            if sidecar_ours {
                let mut failed = base;
                failed["status"] = json!("not_saved");
                failed["error"] = json!(lost.reason);
                failed["fetch"] = json!(lost.fetch());
                let _ = output::write_sidecar(&stem.sidecar, &failed, true);
            }
            Some(Err(lost))
        }
    }
}

/// The folders a paid image held in memory (it has no URL to fetch it
/// again by) is written to when its target failed, in order: beside the
/// target under another name, the user's data folder, the user's cache
/// folder, the temporary folder.
fn rescue_places(target: &Path) -> Vec<PathBuf> {
    let beside = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let ours = |dir: PathBuf| dir.join("ideogram").join("rescued");
    let mut places = vec![beside];
    places.extend(dirs::data_dir().map(ours));
    places.extend(dirs::cache_dir().map(ours));
    places.push(std::env::temp_dir());
    places
}

/// Writes an image held in memory into the first of [`rescue_places`] that
/// takes it: where it went, or each place tried and why it failed.
async fn rescue(
    image: &GeneratedImage,
    generation: &Generation,
    number: usize,
    target: &Path,
) -> Result<PathBuf, Vec<String>> {
    let id = generation
        .request_id
        .as_deref()
        .map(crate::naming::slug)
        .unwrap_or_else(|| std::process::id().to_string());
    // A short stem: the rescue name must fit wherever the target's did not.
    let stem: String = target
        .file_stem()
        .map(|s| s.to_string_lossy().chars().take(48).collect())
        .unwrap_or_else(|| "image".to_owned());
    let options = SaveOptions::new().replace(false).fix_extension(true);
    let mut tried = Vec::new();
    for place in rescue_places(target) {
        let name = format!(
            "{stem}.rescued-{id}-{number}-{:08x}.png",
            rand::random::<u32>()
        );
        let path = place.join(name);
        // Folders made for it are synced into theirs, as any record of paid
        // images (the save syncs the file and its own folder).
        let saved = match crate::durable::create_folders(&place) {
            Ok(_) => image
                .save_with(&path, &options)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot create {}: {e}", place.display())),
        };
        match saved {
            Ok(saved) => return Ok(saved),
            Err(reason) => tried.push(reason),
        }
    }
    Err(tried)
}

/// The failure of a paid generation `unsaved` of whose `total` images were
/// not saved (exit 9), with a hint that says only what is true of them:
/// which have a command that fetches them, a copy elsewhere, or neither.
pub(crate) fn not_saved(unsaved: &[Unsaved], total: usize) -> Failure {
    let failure = Failure::new(
        crate::failure::NOT_SAVED,
        format!("{} of {total} images billed but not saved", unsaved.len()),
    );
    let fetchable = unsaved.iter().filter(|u| u.url.is_some()).count();
    let rescued = unsaved.iter().filter(|u| u.rescued.is_some()).count();
    let lost = unsaved
        .iter()
        .filter(|u| u.url.is_none() && u.rescued.is_none())
        .count();
    let mut hints = Vec::new();
    if fetchable > 0 {
        hints.push(format!(
            "{fetchable} can be fetched with the commands listed (links last a limited time: Ideogram's 24 hours)"
        ));
    }
    if rescued > 0 {
        hints.push(format!("{rescued} saved instead where listed"));
    }
    if lost > 0 {
        hints.push(format!(
            "{lost} lost: no URL exists to fetch it by and no folder took its bytes, as listed"
        ));
    }
    failure.hint(hints.join("; "))
}

/// What a paid answer that did not decode points at: a generation of the
/// URLs it held, to record, report and fetch as any paid image that could
/// not be saved. `None` for any other error, and for an answer that held
/// no URL (the error alone says it was billed).
pub(crate) fn undecoded(
    client: &ideogram::Client,
    err: &ideogram::Error,
    model: ideogram::Model,
    prompt: &str,
) -> Option<Generation> {
    let ideogram::Error::Undecoded { urls, .. } = err.root() else {
        return None;
    };
    let images: Vec<GeneratedImage> = urls
        .iter()
        .map(|url| client.remote_image(url.clone(), prompt.to_owned()))
        .collect();
    (!images.is_empty()).then(|| Generation::new(client.provider(), model, images))
}

/// The images of an answer that did not decode (a generation from
/// [`undecoded`]) as not saved, each with its sidecar at its stem (status
/// `not_saved`, the URL and the command that fetches it), so the record is
/// on disk as for any paid image that could not be saved.
pub(crate) fn record_undecoded(
    generation: &Generation,
    stems: &[Stem],
    reason: &str,
    saving: &Saving<'_>,
) -> Vec<Unsaved> {
    generation
        .images
        .iter()
        .zip(stems)
        .enumerate()
        .map(|(i, (image, stem))| {
            let lost = Unsaved {
                number: i + 1,
                reason: reason.to_owned(),
                target: stem.image.clone(),
                url: match &image.data {
                    ImageData::Url(url) => Some(url.clone()),
                    _ => None,
                },
                rescued: None,
                tried: Vec::new(),
            };
            let mut record = costed(
                saving,
                output::record(image, generation, saving.asked, &stem.image, saving.started),
                i + 1,
                generation,
            );
            record["status"] = json!("not_saved");
            record["error"] = json!(lost.reason);
            record["fetch"] = json!(lost.fetch());
            let ours = saving.replace || saving.claimed;
            if let Err(failure) = output::write_sidecar(&stem.sidecar, &record, ours) {
                tell(&format!("warning: {}", failure.message));
            }
            lost
        })
        .collect()
}

/// Prints the unsaved images of a paid generation on stderr.
pub(crate) fn report_unsaved(unsaved: &[Unsaved], total: usize) {
    if unsaved.is_empty() {
        return;
    }
    tell(&format!(
        "error: {} of {total} images billed but not saved (the generation was paid for):",
        unsaved.len()
    ));
    for lost in unsaved {
        for line in lost.lines() {
            tell(&line);
        }
    }
}

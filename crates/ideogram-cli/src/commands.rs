//! The one-shot commands: generate, remix, job status and wait, fetch, and
//! the resolution and palette tables.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ideogram::{
    EditRequest, GenerateRequest, GeneratedImage, Generation, Palette, PalettePreset, Provider,
    Resolution, SizeFamily,
};
use serde_json::{Value, json};

use crate::budget::Pricing;
use crate::connect::Session;
use crate::cost::Cost;
use crate::failure::{Failure, INTERRUPTED, INVALID, NETWORK};
use crate::naming::{self, Plan};
use crate::output::{self, Asked, say, tell};
use crate::paid::{self, Saving};
use crate::progress::Spinner;
use crate::queued::Single;
use crate::signals::Signals;

/// Where and how a command saves its images.
pub(crate) struct Save<'a> {
    /// `-o`: a file or a folder.
    pub output: Option<&'a Path>,
    /// `--overwrite`.
    pub overwrite: bool,
    /// `--json`.
    pub json: bool,
    /// `--max-usd` and `--quote`.
    pub pricing: Pricing,
}

impl<'a> Save<'a> {
    /// What the command line asked, with `--json`.
    pub(crate) fn new(args: &'a crate::options::SaveArgs, json: bool) -> Self {
        Self {
            output: args.output.as_deref(),
            overwrite: args.overwrite,
            json,
            pricing: Pricing::default(),
        }
    }

    /// The same, priced as `pricing` asks (`--max-usd`, `--quote`).
    pub(crate) fn within(self, pricing: Pricing) -> Self {
        Self { pricing, ..self }
    }
}

/// What a prepared request will cost, before it is sent: with a budget,
/// its quote (Ideogram's dry run, or the spec's price), refused when it
/// could cost more or has no price (nothing sent); without one, only the
/// spec's price, which sends nothing, for the sidecars (`None` where the
/// spec gives none).
pub(crate) async fn priced(
    session: &Session,
    signals: &Signals,
    prepared: &ideogram::Prepared<'_>,
    budget: Option<u64>,
) -> Result<Option<ideogram::Quote>, Failure> {
    let Some(budget) = budget else {
        return Ok(prepared.estimate().ok());
    };
    crate::budget::checked(signals, prepared.quote(), budget, session.provider)
        .await
        .map(Some)
}

/// Generates (or remixes) and saves every image with its sidecar.
///
/// Before anything is sent the output folder must take files and the names
/// be valid. Once the service has answered, every image is saved on its own;
/// an image that cannot be is reported with its URL and the command that
/// fetches it (exit 9). Ctrl-C before sending stops at once; while a request
/// is in flight the first one waits for its answer (it may be billed), a
/// second abandons it; during downloads it stops them and prints the URLs.
pub(crate) async fn generate(
    session: &Session,
    request: GenerateRequest,
    save: Save<'_>,
    signals: &Signals,
) -> Result<(), Failure> {
    let provider = session.provider;
    let asked = Asked::generate(&request, provider);
    let count = request.num_images_asked().unwrap_or(1) as usize;
    let key = single_key(session, &request, &save);
    let prepare = session.client.prepare(&request);
    send_and_save(
        session,
        signals,
        (asked, save),
        count,
        request.chosen_model(),
        key,
        prepare,
    )
    .await
}

/// What `generate` and the edits share once their request is built: the
/// output checked and its room reserved, a job an earlier run of the same
/// command queued waited for, else the request prepared (interruptible,
/// nothing sent) and sent (journaled first where it is queued), then every
/// image saved with its sidecar. With `--quote`, the request prepared is
/// priced and printed instead, before any file is looked at or written.
async fn send_and_save<'a>(
    session: &'a Session,
    signals: &Signals,
    (asked, save): (Asked, Save<'_>),
    count: usize,
    model: ideogram::Model,
    key: String,
    prepare: impl std::future::Future<Output = Result<ideogram::Prepared<'a>, ideogram::Error>>,
) -> Result<(), Failure> {
    let provider = session.provider;
    if save.pricing.quote {
        let prepared = signals
            .unless(1, prepare)
            .await
            .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))?
            .map_err(|e| Failure::from_error(e, provider))?;
        let asked = (save.pricing.max_usd, save.json);
        return crate::budget::quoted(signals, prepared.quote(), asked, provider).await;
    }
    let plan = Plan::from_output(save.output, &naming::slug(&asked.prompt))?;
    // A folder made for it goes again if the command is refused unsent.
    let created = plan.check(count)?;
    let room = crate::room::reserve(&plan.dir, count)?;
    let started = SystemTime::now();
    let earlier = Single::open(session, &plan.dir, &key, false)?;
    let quote;
    let (generation, single) = match resumed(session, signals, earlier.as_ref(), model, room)
        .await?
    {
        Ok(generation) => {
            created.keep();
            // For its sidecars' cost: the spec's price, sending nothing.
            let prepared = signals.unless(1, prepare).await.and_then(Result::ok);
            quote = prepared.and_then(|prepared| prepared.estimate().ok());
            (generation, earlier)
        }
        Err(room) => {
            let prepared = signals
                .unless(1, prepare)
                .await
                .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))?
                .map_err(|e| Failure::from_error(e, provider))?;
            quote = priced(session, signals, &prepared, save.pricing.max_usd).await?;
            created.keep();
            let single = match earlier {
                Some(single) => Some(single),
                None if prepared.queued() => Single::open(session, &plan.dir, &key, true)?,
                None => None,
            };
            let fail = |e| {
                let estimate = Generation::new(provider, model, Vec::new());
                let cost = Cost::of(&estimate, quote.as_ref());
                let paid = (started, cost.as_ref());
                paid_failure(session, e, model, &plan, &asked, &save, paid)
            };
            let answer = answer(session, signals, single.as_ref(), prepared, room, fail);
            (answer.await?, single)
        }
    };
    let cost = Cost::paid(&generation, quote.as_ref());
    let paid = (started, Some(&cost));
    save_paid(&generation, &plan, &asked, &save, paid, signals, None).await?;
    if let Some(single) = single {
        single.done();
    }
    Ok(())
}

/// What names a one-shot command's request for its queue journal
/// ([`Single`]): the provider, the request as JSON (its input images by
/// path or URL), and where it saves.
fn single_key(session: &Session, request: &impl serde::Serialize, save: &Save<'_>) -> String {
    let output = save.output.map(|p| p.display().to_string());
    let request = serde_json::to_string(request).unwrap_or_default();
    format!(
        "{}\n{request}\n{}",
        session.provider,
        output.unwrap_or_default()
    )
}

/// The job an earlier run of this command queued, waited for, as `model`'s
/// (the room for its images given back); else the room, to send anew.
async fn resumed(
    session: &Session,
    signals: &Signals,
    single: Option<&Single>,
    model: ideogram::Model,
    room: crate::room::Reservation,
) -> Result<Result<Generation, crate::room::Reservation>, Failure> {
    let Some(single) = single else {
        return Ok(Err(room));
    };
    match single.resume(session, signals).await? {
        Some(mut generation) => {
            room.release();
            generation.model = model;
            Ok(Ok(generation))
        }
        None => Ok(Err(room)),
    }
}

/// The paid answer to `prepared`: through Segmind's queue, its id journaled
/// at once ([`Single::submit_and_wait`]), where the command queues and the
/// operation has a queue; else sent and awaited ([`paid_answer`]).
async fn answer(
    session: &Session,
    signals: &Signals,
    single: Option<&Single>,
    prepared: ideogram::Prepared<'_>,
    room: crate::room::Reservation,
    fail: impl FnOnce(ideogram::Error) -> Failure,
) -> Result<Generation, Failure> {
    match single {
        Some(single) if prepared.queued() => {
            single
                .submit_and_wait(session, signals, prepared, room)
                .await
        }
        _ => paid_answer(session, signals, prepared.generate(), room, fail).await,
    }
}

/// An operation on an image: checked and its images read (interruptible,
/// nothing sent), then sent and saved as `generate` does.
pub(crate) async fn edit(
    session: &Session,
    request: EditRequest,
    asked: Asked,
    save: Save<'_>,
    signals: &Signals,
) -> Result<(), Failure> {
    let count = request.images_asked() as usize;
    let key = single_key(session, &request, &save);
    let prepare = session.client.prepare_edit(&request);
    send_and_save(
        session,
        signals,
        (asked, save),
        count,
        request.chosen_model(),
        key,
        prepare,
    )
    .await
}

/// The answer to a sent request that may be billed: a first interrupt waits
/// for it (so its images are not lost), a second abandons it. The room
/// reserved for its images is given back once it has answered, before
/// anything of it is written.
async fn paid_answer(
    session: &Session,
    signals: &Signals,
    sending: impl std::future::Future<Output = Result<Generation, ideogram::Error>>,
    room: crate::room::Reservation,
    fail: impl FnOnce(ideogram::Error) -> Failure,
) -> Result<Generation, Failure> {
    tokio::pin!(sending);
    let answer = match signals.unless(1, &mut sending).await {
        Some(answer) => answer,
        None => {
            tell(&format!(
                "stopping: waiting for the answer to a request that may be billed (at most {} s), \
                 so the images are not lost; Ctrl-C again abandons it",
                session.client.timeout().as_secs()
            ));
            signals.unless(2, &mut sending).await.ok_or_else(|| {
                Failure::new(
                    INTERRUPTED,
                    "abandoned a request that may have been billed; its images cannot be fetched",
                )
            })?
        }
    };
    room.release();
    answer.map_err(fail)
}

/// A paid call that failed, as its failure: an answer that did not decode
/// is billed, and the URLs it held are reported as images not saved (each
/// with its sidecar and the command that fetches it, `--json` printing
/// them as the images); any other error as the library says.
fn paid_failure(
    session: &Session,
    err: ideogram::Error,
    model: ideogram::Model,
    plan: &Plan,
    asked: &Asked,
    save: &Save<'_>,
    (started, cost): (SystemTime, Option<&Cost>),
) -> Failure {
    let Some(generation) = paid::undecoded(&session.client, &err, model, &asked.prompt) else {
        return Failure::from_error(err, session.provider);
    };
    let (stems, claimed) = stems_for(plan, generation.images.len(), save.overwrite);
    let saving = Saving {
        asked,
        replace: save.overwrite,
        temp_tag: None,
        started,
        journaled: false,
        claimed,
        cost,
    };
    let unsaved = paid::record_undecoded(&generation, &stems, &err.to_string(), &saving);
    if save.json {
        let all: Vec<Value> = unsaved.iter().map(paid::Unsaved::json).collect();
        say(&serde_json::to_string_pretty(&all).expect("JSON"));
    }
    paid::report_unsaved(&unsaved, unsaved.len());
    paid::not_saved(&unsaved, unsaved.len())
}

/// Separates an image's text into layers: saves the image without its text
/// (and v2's design beside it) as `generate` saves images, then prints each
/// text block (`--json`: the blocks as the spec describes them).
pub(crate) async fn layerize_text(
    session: &Session,
    request: ideogram::LayerizeRequest,
    prompt: Option<&str>,
    save: Save<'_>,
    signals: &Signals,
) -> Result<(), Failure> {
    let provider = session.provider;
    // Waited for here with nothing journaled between the call and its result:
    // one answered later would leave a paid generation unrecorded if killed.
    if let Some(fields) = request.answers_later(provider)? {
        return Err(Failure::new(
            INVALID,
            format!(
                "layerize-text waits for its result itself: send it without {}; billed: no",
                fields.join(" or ")
            ),
        ));
    }
    if save.pricing.quote {
        let pricing = session.client.quote_layerize(&request);
        let asked = (save.pricing.max_usd, save.json);
        return crate::budget::quoted(signals, pricing, asked, provider).await;
    }
    let plan = Plan::from_output(save.output, &naming::slug(prompt.unwrap_or("text-layers")))?;
    // A folder made for it goes again if the command is refused unsent.
    let created = plan.check(1)?;
    let room = crate::room::reserve(&plan.dir, 1)?;
    let started = SystemTime::now();
    let asked = Asked {
        prompt: prompt.unwrap_or_default().to_owned(),
        provider,
        fields: Default::default(),
    };
    let model = request
        .chosen_model()
        .unwrap_or(ideogram::LayerizeRequest::MODEL);
    let quote = match save.pricing.max_usd {
        Some(budget) => {
            let pricing = session.client.quote_layerize(&request);
            Some(crate::budget::checked(signals, pricing, budget, provider).await?)
        }
        // For its sidecar's cost: the spec's price, sending nothing.
        None => session.client.estimate_layerize(&request).ok(),
    };
    created.keep();
    let layers = signals
        .unless(1, session.client.layerize(&request))
        .await
        .ok_or_else(|| {
            Failure::new(
                INTERRUPTED,
                "interrupted: if the image had been sent, the call was billed",
            )
        })?;
    room.release();
    let layers = layers.map_err(|e| {
        let cost = Cost::of(
            &Generation::new(provider, model, Vec::new()),
            quote.as_ref(),
        );
        let paid = (started, cost.as_ref());
        paid_failure(session, e, model, &plan, &asked, &save, paid)
    })?;
    let images = std::iter::once(layers.base).chain(layers.design).collect();
    let generation = Generation::new(provider, model, images);
    let blocks = serde_json::to_value(&layers.blocks).expect("JSON");
    let cost = Cost::paid(&generation, quote.as_ref());
    save_paid(
        &generation,
        &plan,
        &asked,
        &save,
        (started, Some(&cost)),
        signals,
        Some(("text_blocks", blocks)),
    )
    .await?;
    if !save.json {
        for block in layers.blocks.placed() {
            let height = block
                .height
                .map_or_else(|| "?".to_owned(), |h| h.to_string());
            say(&format!(
                "{}x{height} at {},{}: {}",
                block.width, block.x, block.y, block.text
            ));
        }
    }
    Ok(())
}

/// Prints what each model can do on each provider: the library's table, or
/// with `--json` one object per model and capability.
pub(crate) fn models(json: bool) {
    if json {
        say(&serde_json::to_string_pretty(&models_json()).expect("JSON"));
    } else {
        say(ideogram::capability_table().trim_end());
    }
}

/// Each model with the providers that serve each capability, as JSON.
pub(crate) fn models_json() -> Value {
    let rows: Vec<Value> = ideogram::Model::ALL
        .iter()
        .map(|model| {
            let capabilities: serde_json::Map<String, Value> = ideogram::Capability::ALL
                .iter()
                .map(|c| {
                    let providers: Vec<String> = Provider::ALL
                        .iter()
                        .filter(|p| c.available(*model, **p))
                        .map(ToString::to_string)
                        .collect();
                    (c.name().to_owned(), json!(providers))
                })
                .collect();
            json!({"model": model.to_string(), "capabilities": capabilities})
        })
        .collect();
    Value::Array(rows)
}

/// Prints the descriptions of an image, one a line (`--json`: an array);
/// Ideogram 4.0's one description is its json_prompt, as JSON text. With
/// `--quote`, what that would cost instead.
pub(crate) async fn describe(
    session: &Session,
    request: ideogram::DescribeRequest,
    (json, pricing): (bool, Pricing),
    signals: &Signals,
) -> Result<(), Failure> {
    let provider = session.provider;
    if pricing.quote {
        let quote = session.client.quote_describe(&request);
        return crate::budget::quoted(signals, quote, (pricing.max_usd, json), provider).await;
    }
    if let Some(budget) = pricing.max_usd {
        let quote = session.client.quote_describe(&request);
        crate::budget::checked(signals, quote, budget, provider).await?;
    }
    let texts = signals
        .unless(1, session.client.describe_request(&request))
        .await
        .ok_or_else(|| {
            Failure::new(
                INTERRUPTED,
                "interrupted: if the image had been sent, the description was billed",
            )
        })?
        .map_err(|e| Failure::from_error(e, session.provider))?;
    // Paid for, and printed nowhere else: a stdout that is gone loses nothing.
    if json {
        crate::output::deliver(&crate::output::json_text(&serde_json::json!(texts)))
    } else if texts.is_empty() {
        Ok(())
    } else {
        crate::output::deliver(&texts.join("\n"))
    }
}

/// Saves a paid generation's images as `plan` says, reporting any that
/// cannot be saved (or were interrupted) with the command that fetches them.
/// With `--json`, `extra` (a name and a value) goes beside the images in
/// one object; without it the images are the array printed.
async fn save_paid(
    generation: &Generation,
    plan: &Plan,
    asked: &Asked,
    save: &Save<'_>,
    paid: (SystemTime, Option<&Cost>),
    signals: &Signals,
    extra: Option<(&str, Value)>,
) -> Result<Vec<Value>, Failure> {
    let (records, unsaved) =
        save_costed(generation, plan, asked, save.overwrite, paid, signals).await?;
    if save.json {
        let mut all = records.clone();
        all.extend(unsaved.iter().map(paid::Unsaved::json));
        let printed = match extra {
            Some((name, value)) => json!({"images": all, name: value}),
            None => Value::Array(all),
        };
        say(&crate::output::json_text(&serde_json::json!(printed)));
    } else {
        output::report(&records, false);
    }
    if unsaved.is_empty() {
        return Ok(records);
    }
    paid::report_unsaved(&unsaved, generation.images.len());
    Err(paid::not_saved(&unsaved, generation.images.len()))
}

/// Saves a paid generation's images under `plan`'s next free names (or
/// over them with `overwrite`), printing nothing on stdout: the sidecar
/// records of the saved images, and the images that could not be saved,
/// each with the command that fetches it. Downloads stop at the next
/// interrupt, which is a failure listing those commands on stderr.
/// The names `count` paid images are saved (or recorded) under: claimed
/// by creating their sidecars, so that commands and servers saving into
/// one folder at once never pick the same one, or else (with `overwrite`,
/// or when no claim can be made) as [`Plan::stems`] picks them. The flag
/// says whether they were claimed.
pub(crate) fn stems_for(plan: &Plan, count: usize, overwrite: bool) -> (Vec<naming::Stem>, bool) {
    let none = |_: &Path| false;
    let claimed = (!overwrite && plan.sidecars)
        .then(|| plan.claim_stems(count))
        .flatten();
    let is_claimed = claimed.is_some();
    let stems = claimed.unwrap_or_else(|| plan.stems(count, overwrite, &none));
    (stems, is_claimed)
}

pub(crate) async fn save_generation(
    generation: &Generation,
    plan: &Plan,
    asked: &Asked,
    overwrite: bool,
    started: SystemTime,
    signals: &Signals,
) -> Result<(Vec<Value>, Vec<paid::Unsaved>), Failure> {
    let paid = (started, None);
    save_costed(generation, plan, asked, overwrite, paid, signals).await
}

/// [`save_generation`], each sidecar with its share of `cost`.
async fn save_costed(
    generation: &Generation,
    plan: &Plan,
    asked: &Asked,
    overwrite: bool,
    (started, cost): (SystemTime, Option<&Cost>),
    signals: &Signals,
) -> Result<(Vec<Value>, Vec<paid::Unsaved>), Failure> {
    let (stems, is_claimed) = stems_for(plan, generation.images.len(), overwrite);
    let asked_for = plan.dir.join(format!(
        "{}.{}",
        plan.stem,
        plan.ext.as_deref().unwrap_or("png")
    ));
    if generation.images.len() == 1 && !overwrite && stems[0].image != asked_for {
        // The requested name, if it is there; else what took it (its
        // sidecar, or the image in another type).
        let there: Vec<String> = if std::fs::symlink_metadata(&asked_for).is_ok() {
            vec![asked_for.display().to_string()]
        } else {
            let there = plan.existing(&plan.stem);
            there.iter().map(|f| f.display().to_string()).collect()
        };
        let verb = if there.len() == 1 { "exists" } else { "exist" };
        tell(&format!(
            "note: {} {verb}: saving as {} (--overwrite replaces it)",
            there.join(" and "),
            stems[0].image.display()
        ));
    }
    let saving = Saving {
        asked,
        replace: overwrite,
        temp_tag: None,
        started,
        journaled: false,
        claimed: is_claimed,
        cost,
    };
    // Images already in memory are written whatever happens; downloads stop
    // at the next interrupt (one that came while waiting for the answer
    // has been spent on that wait).
    let saving_all = paid::save_all(generation, &stems, &saving);
    let outcome = if generation
        .images
        .iter()
        .any(|image| url_of(image).is_some())
    {
        signals.unless(signals.count() + 1, saving_all).await
    } else {
        Some(saving_all.await)
    };
    outcome.ok_or_else(|| {
        // The downloads were dropped, their temporary files with them.
        let lines: Vec<String> = generation
            .images
            .iter()
            .zip(&stems)
            .filter_map(|(image, stem)| {
                url_of(image).map(|url| output::fetch_command(url, &stem.image))
            })
            .collect();
        tell("interrupted while downloading images that were billed; fetch them later with:");
        for line in &lines {
            tell(&format!("  {line}"));
        }
        Failure::new(
            INTERRUPTED,
            format!(
                "interrupted: the generation was billed but not saved; fetch it with: {}",
                lines.join(" ; ")
            ),
        )
    })
}

fn url_of(image: &GeneratedImage) -> Option<&str> {
    match &image.data {
        ideogram::ImageData::Url(url) => Some(url),
        _ => None,
    }
}

/// Queues `request` and prints its id: alone on stdout (or as
/// JSON), with how to fetch it on stderr. Once queued the job runs and
/// bills whatever happens to this process, so the id is printed at once.
/// With `--quote`, what queuing it would cost instead.
pub(crate) async fn job_submit(
    session: &Session,
    request: &ideogram::GenerateRequest,
    (json, pricing): (bool, Pricing),
    signals: &Signals,
) -> Result<(), Failure> {
    let failed = |e| Failure::from_error(e, session.provider);
    // Ctrl-C while the request is checked and its images read sends
    // nothing; once it is sent, the id is what the user needs.
    let prepared = signals
        .unless(1, session.client.prepare_job(request))
        .await
        .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))?
        .map_err(failed)?;
    // One that cannot be queued is refused before it is priced.
    prepared.check_submit().map_err(failed)?;
    if pricing.quote {
        let asked = (pricing.max_usd, json);
        return crate::budget::quoted(signals, prepared.quote(), asked, session.provider).await;
    }
    if pricing.max_usd.is_some() {
        priced(session, signals, &prepared, pricing.max_usd).await?;
    }
    let job = prepared.submit().await.map_err(failed)?;
    let id = job.id();
    // Paid for, and the id is all there is to fetch it by: said on stderr
    // first (a note under --json), so a stdout that is gone loses nothing.
    tell(&format!(
        "queued on {}; `{}` fetches it",
        session.provider,
        session.wait_command(id)
    ));
    if json {
        say(&json!({"request_id": id, "status": "QUEUED"}).to_string());
    } else {
        say(id);
    }
    Ok(())
}

pub(crate) async fn job_status(session: &Session, id: &str, json: bool) -> Result<(), Failure> {
    let status = session
        .client
        .job(id)
        .status()
        .await
        .map_err(|e| session.job_failure(e, id))?;
    if json {
        say(&json!({"request_id": id, "status": status.status.to_string(), "error": status.error, "inference_time": status.inference_time}).to_string());
    } else {
        let detail = status.error.map(|e| format!(": {e}")).unwrap_or_default();
        say(&format!("{id} {}{detail}", status.status));
    }
    Ok(())
}

/// Waits for the queued job `id` (at most `timeout` seconds) and saves its
/// images. Into a batch's folder only while no batch runs there (the
/// journal's lock is held meanwhile).
pub(crate) async fn job_wait(
    session: &Session,
    id: &str,
    timeout: u64,
    save: Save<'_>,
    signals: &Signals,
) -> Result<(), Failure> {
    let plan = Plan::from_output(save.output, &naming::slug(id))?;
    // A folder made for it goes again if the job cannot be had.
    let created = plan.check(1)?;
    let _batch_lock = crate::journal::lock_folder(&plan.dir)?;
    let job = session.client.job(id);
    let schedule = session
        .client
        .poll_schedule()
        .clone()
        .deadline(Duration::from_secs(timeout));
    let mut spinner = Spinner::new(save.json);
    let started = SystemTime::now();
    let result = signals
        .unless(
            1,
            job.wait_with(&schedule, |status| {
                spinner.update(id, status.status.as_str())
            }),
        )
        .await;
    spinner.close();
    let generation = result
        .ok_or_else(|| {
            Failure::new(
                INTERRUPTED,
                format!(
                    "interrupted; the job runs on: `{}`",
                    session.wait_command(id)
                ),
            )
        })?
        .map_err(|e| session.job_failure(e, id))?;
    created.keep();
    // A job known by its id alone names no model: the sidecars say so
    // (null), not the placeholder the generation carries.
    let mut fields = serde_json::Map::new();
    fields.insert("model".into(), json!(null));
    let asked = Asked {
        prompt: String::new(),
        provider: session.provider,
        fields,
    };
    // One wait of this job saves it into this folder; another one (at once
    // or later) says where it is, unless told to overwrite.
    let dir = plan.dir.clone();
    let owned_id = id.to_owned();
    let claiming = tokio::task::spawn_blocking(move || crate::job_claim::take(&dir, &owned_id));
    let mut claim = signals
        .unless(1, claiming)
        .await
        .ok_or_else(|| {
            Failure::new(
                INTERRUPTED,
                format!(
                    "interrupted; the job is paid for: `{}` fetches it",
                    session.wait_command(id)
                ),
            )
        })?
        .expect("claim task")?;
    if let Some(paths) = claim.saved().filter(|_| !save.overwrite) {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        tell(&format!(
            "job {id} is already saved here by an earlier `ideogram job wait`: {}",
            shown.join(", ")
        ));
        if save.json {
            let records: Vec<Value> = shown
                .iter()
                .map(|path| json!({"path": path, "request_id": id, "already_saved": true}))
                .collect();
            say(&serde_json::to_string_pretty(&records).expect("JSON"));
        } else {
            for path in &shown {
                say(&format!("already saved {path}"));
            }
        }
        return Ok(());
    }
    // Paid: the service's figure where it gave one, else said to be paid
    // at a price not known here (the job's model is not).
    let cost = Cost::of_job(&generation);
    let paid = (started, Some(&cost));
    let records = save_paid(&generation, &plan, &asked, &save, paid, signals, None).await?;
    let paths: Vec<PathBuf> = records
        .iter()
        .filter_map(|r| r["path"].as_str())
        .map(PathBuf::from)
        .collect();
    claim.record(&paths);
    Ok(())
}

/// Downloads images already paid for, from their URLs, never replacing a
/// file unless told to.
pub(crate) async fn fetch(
    urls: &[String],
    output: Option<&Path>,
    overwrite: bool,
    json: bool,
) -> Result<(), Failure> {
    let stem = urls
        .first()
        .and_then(|u| u.rsplit('/').next())
        .map(|name| naming::slug(name.split(['?', '#']).next().unwrap_or(name)))
        .unwrap_or_else(|| "image".into());
    let mut plan = Plan::from_output(output, &stem)?;
    plan.sidecars = false;
    if urls.len() > 1 && plan.ext.is_some() {
        plan.numbered = true;
    }
    plan.check(urls.len())?.keep();
    let images = urls
        .iter()
        .map(|url| {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Failure::new(
                    INVALID,
                    format!("invalid url: {url:?} is not an http(s) URL"),
                ));
            }
            GeneratedImage::from_url(url).map_err(|e| Failure::new(NETWORK, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let none = |_: &Path| false;
    let stems = plan.stems(images.len(), overwrite, &none);
    let options = ideogram::SaveOptions::new()
        .replace(overwrite)
        .fix_extension(true);
    let saves = images
        .iter()
        .zip(&stems)
        .map(|(image, stem)| image.save_with(&stem.image, &options));
    let mut gravest: Option<Failure> = None;
    let mut saved = Vec::new();
    for (result, url) in futures::future::join_all(saves).await.into_iter().zip(urls) {
        match result {
            Ok(path) => saved.push(json!({"path": path.display().to_string(), "source_url": url})),
            Err(err) => {
                let failure = Failure::from_error(err, Provider::Ideogram);
                tell(&failure.to_string());
                gravest = Some(match gravest {
                    Some(g) => g.graver(failure),
                    None => failure,
                });
            }
        }
    }
    if json {
        say(&crate::output::json_text(&serde_json::json!(saved)));
    } else {
        for record in &saved {
            say(&format!(
                "saved {}",
                record["path"].as_str().unwrap_or_default()
            ));
        }
    }
    match gravest {
        None => Ok(()),
        Some(failure) => Err(Failure::new(
            failure.code,
            format!(
                "{} of {} images not fetched",
                urls.len() - saved.len(),
                urls.len()
            ),
        )),
    }
}

pub(crate) fn resolutions(family: Option<&str>, json: bool) -> Result<(), Failure> {
    let families = match family.map(str::to_ascii_lowercase).as_deref() {
        None => SizeFamily::ALL.to_vec(),
        Some("legacy" | "2" | "v2") => vec![SizeFamily::Legacy],
        Some("v3" | "3") => vec![SizeFamily::V3],
        Some("v4" | "4") => vec![SizeFamily::V4],
        Some(other) => {
            return Err(Failure::new(
                INVALID,
                format!("invalid family: {other:?} is not legacy, v3 or v4"),
            ));
        }
    };
    let sizes = sizes_of(&families);
    if json {
        say(&serde_json::to_string_pretty(&resolutions_json(&sizes)).expect("JSON"));
        return Ok(());
    }
    say("SIZE        ASPECT  2.x     3.0     4.0");
    for r in sizes {
        let mark = |yes: bool| if yes { "yes" } else { "-" };
        say(&format!(
            "{:<11} {:<7} {:<7} {:<7} {}",
            r.to_string(),
            r.aspect_ratio().to_string(),
            mark(r.is_in(SizeFamily::Legacy)),
            mark(r.is_in(SizeFamily::V3)),
            mark(r.is_in(SizeFamily::V4))
        ));
    }
    Ok(())
}

/// Every size of `families`, each once, smallest first.
pub(crate) fn sizes_of(families: &[SizeFamily]) -> Vec<Resolution> {
    let mut sizes: Vec<Resolution> = families
        .iter()
        .flat_map(|f| Resolution::all_in(*f))
        .collect();
    sizes.sort_by_key(|r| (r.width(), r.height()));
    sizes.dedup();
    sizes
}

/// `sizes` with their aspect ratios and the families that render them.
pub(crate) fn resolutions_json(sizes: &[Resolution]) -> Value {
    sizes
        .iter()
        .map(|r| json!({"resolution": r.to_string(), "aspect_ratio": r.aspect_ratio().to_string(), "legacy": r.is_in(SizeFamily::Legacy), "v3": r.is_in(SizeFamily::V3), "v4": r.is_in(SizeFamily::V4)}))
        .collect()
}

/// The preset palettes with their (approximate) colours, as JSON.
pub(crate) fn palettes_json() -> Value {
    <PalettePreset as ideogram::SpecEnum>::values()
        .into_iter()
        .map(|preset| {
            let hex: Vec<String> = ideogram::preset_colors(preset)
                .iter()
                .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
                .collect();
            json!({"name": Palette::from(preset).to_string(), "colors": hex})
        })
        .collect()
}

pub(crate) fn palettes(json: bool) {
    if json {
        say(&serde_json::to_string_pretty(&palettes_json()).expect("JSON"));
        return;
    }
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for preset in <PalettePreset as ideogram::SpecEnum>::values() {
        let colors = ideogram::preset_colors(preset);
        let name = Palette::from(preset).to_string();
        let hex: Vec<String> = colors
            .iter()
            .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
            .collect();
        let swatches: String = if colour {
            colors
                .iter()
                .map(|[r, g, b]| format!("\x1b[48;2;{r};{g};{b}m    \x1b[0m"))
                .collect()
        } else {
            String::new()
        };
        say(&format!("{name:<12} {swatches} {}", hex.join(" ")));
    }
    say(
        "(colours are approximate: Ideogram does not publish its presets; custom: '#ff5500:0.6,#00aaff')",
    );
}

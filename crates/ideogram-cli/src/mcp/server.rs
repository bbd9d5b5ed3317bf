//! The server's state and its paid calls: the journal's items, the
//! clients, checking, journaling, sending and saving.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ideogram::{EditRequest, GenerateRequest, Generation, ImageInput, InvalidInput, Provider};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::{Value, json};

use crate::args::{Connection, Options};
use crate::connect::{self, Offline, Session};
use crate::failure::{Failure, INVALID, NOT_SAVED, OTHER};
use crate::journal::{Entry, ItemState, Journal, JournalImage};
use crate::naming::{self, Plan};
use crate::output::{Asked, tell};
use crate::paid::undecoded;
use crate::request::{Ready, Work};
use crate::signals::Signals;

use super::MAX_WAIT;
use super::answer::{Billed, Refused, read_sidecar};
use super::call::{Call, Paid, asked, canonical, fingerprint, parse_args, request_field};
use super::tools::{DescribeArgs, JobArgs, JobWaitArgs, Tool};

/// The journal's items, as read at the start and added to since.
#[derive(Default)]
pub(super) struct Items {
    states: HashMap<usize, ItemState>,
    /// Idempotency keys of calls running now.
    running: Vec<String>,
}

impl Items {
    /// A new item number, taken at once so that calls running together
    /// never share one.
    pub(super) fn reserve(&mut self) -> usize {
        let item = self.states.keys().max().map_or(0, |n| n + 1);
        self.states.insert(item, ItemState::default());
        item
    }

    /// The latest item journaled under `key` (its journal name is
    /// `KEY#FINGERPRINT`), with that name.
    pub(super) fn keyed(&self, key: &str) -> Option<(usize, ItemState)> {
        super::shared::keyed(self.states.iter(), key)
    }

    pub(super) fn of_job(&self, id: &str) -> Option<(usize, ItemState)> {
        self.states
            .iter()
            .find(|(_, state)| state.request_id.as_deref() == Some(id))
            .map(|(item, state)| (*item, state.clone()))
    }
}

/// The server: where images go, the clients (one per provider, made at
/// first use), the journal.
pub(super) struct Server {
    pub(super) connection: Connection,
    pub(super) out: PathBuf,
    pub(super) offline: Option<Arc<Offline>>,
    pub(super) sessions: tokio::sync::Mutex<Vec<(Provider, Arc<Session>)>>,
    pub(super) journal: Journal,
    pub(super) items: Mutex<Items>,
    pub(super) signals: Signals,
    /// The folders local image files may be read from (real paths): the
    /// output folder and `--read`'s. An agent cannot make the server upload
    /// any other file of the user's.
    readable: Vec<PathBuf>,
    /// The output folder's lock, shared, held for the server's life:
    /// other servers may save there meanwhile, a batch may not.
    pub(super) _folder: std::fs::File,
}

/// Releases a running idempotency key when its call ends, however.
pub(super) struct Running<'a> {
    items: &'a Mutex<Items>,
    key: Option<String>,
    /// The key's lock across the servers on this folder.
    _lock: Option<super::shared::KeyLock>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(key) = &self.key {
            self.items
                .lock()
                .expect("items")
                .running
                .retain(|k| k != key);
        }
    }
}

/// Progress notifications for one call, when its client asked for them.
pub(super) struct Progress {
    pub(super) peer: rmcp::Peer<RoleServer>,
    token: Option<ProgressToken>,
    done: Arc<Mutex<f64>>,
    /// Cancelled when the client cancels the call or the session ends.
    pub(super) ct: tokio_util::sync::CancellationToken,
}

impl Progress {
    pub(super) fn of(context: &RequestContext<RoleServer>) -> Self {
        Self {
            peer: context.peer.clone(),
            token: context.meta.get_progress_token(),
            done: Arc::new(Mutex::new(0.0)),
            ct: context.ct.clone(),
        }
    }

    /// Whether the client no longer waits for the call (it cancelled it,
    /// or the session ended).
    pub(super) fn cancelled(&self) -> bool {
        self.ct.is_cancelled()
    }

    /// Tells the client `message` (sent off this task: a slow client
    /// never holds up a paid call).
    pub(super) fn say(&self, message: String) {
        let Some(token) = self.token.clone() else {
            return;
        };
        if self.cancelled() {
            // The request is over for the client: no progress for it.
            return;
        }
        let progress = {
            let mut done = self.done.lock().expect("progress");
            *done += 1.0;
            *done
        };
        let peer = self.peer.clone();
        tokio::spawn(async move {
            let _ = peer
                .notify_progress(
                    ProgressNotificationParam::new(token, progress).with_message(message),
                )
                .await;
        });
    }
}

impl Server {
    pub(super) async fn open(
        connection: Connection,
        out: &Path,
        read: &[PathBuf],
        signals: Signals,
    ) -> Result<Self, Failure> {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::io(format!("cannot create {}", out.display()), e))?;
        let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        naming::writable(&out, 64)?;
        // The provider and key are checked at each call, so that a server
        // with one provider's key serves that one.
        connect::provider(&connection, false)?;
        let offline = if connection.offline {
            Some(connect::offline().await?)
        } else {
            None
        };
        let readable = std::iter::once(out.as_path())
            .chain(read.iter().map(PathBuf::as_path))
            .map(|dir| {
                std::fs::canonicalize(dir).map_err(|e| {
                    Failure::io(format!("cannot read the folder {}", dir.display()), e)
                })
            })
            .collect::<Result<_, _>>()?;
        let folder = crate::journal::share_output(&out)?;
        let (journal, states) = super::shared::open_journal(&out)?;
        Ok(Self {
            connection,
            out,
            offline,
            sessions: tokio::sync::Mutex::new(Vec::new()),
            journal,
            items: Mutex::new(Items {
                states,
                running: Vec::new(),
            }),
            signals,
            readable,
            _folder: folder,
        })
    }

    /// The client for `provider` (the server's default when `None`).
    pub(super) async fn session(
        &self,
        provider: Option<Provider>,
    ) -> Result<Arc<Session>, Failure> {
        let provider = match provider {
            Some(provider) => provider,
            None => connect::provider(&self.connection, false)?,
        };
        let mut sessions = self.sessions.lock().await;
        if let Some((_, session)) = sessions.iter().find(|(p, _)| *p == provider) {
            return Ok(session.clone());
        }
        let session = Arc::new(connect::session(
            &self.connection,
            provider,
            self.offline.clone(),
        )?);
        sessions.push((provider, session.clone()));
        Ok(session)
    }

    /// Journals `entry`, updating what the server knows of its item.
    pub(super) async fn journal(&self, entry: Entry) -> Result<(), Failure> {
        self.journal.commit(&entry).await?;
        let mut items = self.items.lock().expect("items");
        if let Some(item) = entry.item() {
            let state = items.states.entry(item).or_default();
            state.apply(entry, &self.out);
        }
        Ok(())
    }

    /// Refuses a local file outside the folders this server may read
    /// (followed through links to where it really is): nothing is sent.
    fn readable_only<'a>(
        &self,
        images: impl Iterator<Item = (&'static str, &'a ImageInput)>,
    ) -> Result<(), Refused> {
        for (field, image) in images {
            let ImageInput::File(path) = image else {
                continue;
            };
            let inside = std::fs::canonicalize(path)
                .is_ok_and(|real| self.readable.iter().any(|dir| real.starts_with(dir)));
            if !inside {
                let folders: Vec<String> = self
                    .readable
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect();
                return Err(Refused::invalid(InvalidInput::new(
                    field,
                    format!(
                        "{} is not an image in a folder this server may read ({}); give a URL, \
                         or start the server with --read DIR",
                        path.display(),
                        folders.join(", ")
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Claims `key` for this call; a call with the same key still running
    /// (here or on another server on this folder) is refused (nothing
    /// sent), not joined.
    pub(super) fn claim(&self, key: Option<&str>) -> Result<Running<'_>, Refused> {
        let Some(key) = key else {
            return Ok(Running {
                items: &self.items,
                key: None,
                _lock: None,
            });
        };
        {
            let mut items = self.items.lock().expect("items");
            if items.running.iter().any(|k| k == key) {
                return Err(super::shared::still_running(key));
            }
            items.running.push(key.to_owned());
        }
        let mut running = Running {
            items: &self.items,
            key: Some(key.to_owned()),
            _lock: None,
        };
        // Released with `running` if the key runs on another server.
        running._lock = Some(
            super::shared::lock_key(&self.out, key)?
                .ok_or_else(|| super::shared::still_running(key))?,
        );
        Ok(running)
    }

    pub(super) async fn call(
        &self,
        tool: Tool,
        call: Call,
        progress: Progress,
    ) -> Result<Value, Refused> {
        match tool {
            Tool::Models => Ok(json!({
                "models": crate::commands::models_json(),
                "resolutions": crate::commands::resolutions_json(&crate::commands::sizes_of(&ideogram::SizeFamily::ALL)),
                "palettes": crate::commands::palettes_json(),
            })),
            Tool::Describe => {
                let args: DescribeArgs = call.parse().map_err(Refused::invalid)?;
                self.readable_only([("image", &args.image)].into_iter())?;
                let session = self.session(call.provider).await?;
                let texts = session
                    .client
                    .describe(&args.image)
                    .await
                    .map_err(|e| Refused::error(e, session.provider))?;
                Ok(json!({"descriptions": texts, "billed": "yes"}))
            }
            Tool::JobStatus => {
                let args: JobArgs = call.parse().map_err(Refused::invalid)?;
                let session = self.session(Some(Provider::Segmind)).await?;
                let status = session
                    .client
                    .job(&args.request_id)
                    .status()
                    .await
                    .map_err(|e| Refused::error(e, session.provider))?;
                Ok(json!({
                    "request_id": args.request_id,
                    "status": status.status.to_string(),
                    "error": status.error,
                    "inference_time": status.inference_time,
                    "billed": "no",
                }))
            }
            Tool::JobWait => {
                let args: JobWaitArgs = call.parse().map_err(Refused::invalid)?;
                let timeout = args.timeout_seconds.unwrap_or(600).clamp(1, MAX_WAIT);
                self.job_wait(&args.request_id, timeout, &progress).await
            }
            Tool::Generate | Tool::Remix | Tool::JobSubmit => {
                let request: GenerateRequest = call.parse().map_err(Refused::invalid)?;
                if tool == Tool::Remix && request_field(&call, "image").is_none() {
                    return Err(Refused::invalid(InvalidInput::new(
                        "image",
                        "remix needs an input image",
                    )));
                }
                let asked = asked(
                    request.prompt().to_owned(),
                    &call.args,
                    request.chosen_model(),
                );
                let provider = if tool == Tool::JobSubmit {
                    Some(Provider::Segmind)
                } else {
                    call.provider
                };
                let paid = Paid {
                    request: canonical(tool, &call.args),
                    work: Work::Generate(request),
                    asked,
                    provider,
                    key: call.key,
                    queue: tool == Tool::JobSubmit,
                };
                self.paid(paid, &progress).await
            }
            Tool::Edit | Tool::Reframe | Tool::ReplaceBackground | Tool::Upscale => {
                let op = tool.edit_op().unwrap_or_default();
                let mut args = call.args.clone();
                let operation = args.entry("operation").or_insert_with(|| json!({}));
                if let Value::Object(operation) = operation {
                    operation.entry("op").or_insert_with(|| json!(op));
                }
                let request: EditRequest =
                    parse_args(Value::Object(args.clone())).map_err(Refused::invalid)?;
                if request.kind().name() != op {
                    return Err(Refused::invalid(InvalidInput::new(
                        "operation.op",
                        format!("this tool is {op}: leave op out or give {op:?}"),
                    )));
                }
                let named = args["operation"]["prompt"]
                    .as_str()
                    .map_or_else(|| op.to_owned(), str::to_owned);
                let paid = Paid {
                    request: canonical(tool, &args),
                    asked: asked(named, &args, EditRequest::MODEL),
                    work: Work::Edit(request),
                    provider: call.provider,
                    key: call.key,
                    queue: false,
                };
                self.paid(paid, &progress).await
            }
        }
    }

    /// A paid call: answered from the journal when its key is there,
    /// else checked, journaled, sent, journaled again and saved.
    pub(super) async fn paid(&self, paid: Paid, progress: &Progress) -> Result<Value, Refused> {
        let session = self.session(paid.provider).await?;
        let provider = session.provider;
        paid.work.check(provider).map_err(Refused::invalid)?;
        match &paid.work {
            Work::Generate(request) => self.readable_only(request.input_images())?,
            Work::Edit(request) => self.readable_only(request.input_images())?,
        }
        let asked = Asked {
            provider,
            ..paid.asked
        };
        let _running = self.claim(paid.key.as_deref())?;
        // Journaled as KEY#FINGERPRINT: the same key with other arguments
        // (or another provider) is another request, refused.
        let journal_key = paid.key.as_deref().map(|key| {
            format!(
                "{key}#{}",
                fingerprint(&format!("{provider} {}", paid.request))
            )
        });
        let earlier = match paid.key.as_deref() {
            Some(key) => self.earlier(key, journal_key.as_deref()).await?,
            None => None,
        };
        let (item, state) = match earlier {
            Some((_, state)) if state.key != journal_key => {
                return Err(Failure::new(
                    INVALID,
                    format!(
                        "idempotency_key {:?} was used for another request (other arguments or provider)",
                        paid.key.as_deref().unwrap_or_default()
                    ),
                )
                .hint("a new request needs a new key")
                .into());
            }
            Some((item, state)) => (item, Some(state)),
            None => (self.items.lock().expect("items").reserve(), None),
        };
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(&asked.prompt))?;
        plan.check(paid.work.images())?;
        crate::room::check(&plan.dir, paid.work.images())?;
        let resumed = match &state {
            Some(state) if state.saved.is_some() => {
                return Ok(self.saved_again(state));
            }
            Some(state) if state.images.is_some() => {
                progress.say("answered from the journal: fetching the images it paid for".into());
                let images = state.images.clone().unwrap_or_default();
                Some(crate::journal::restore(
                    &session.client,
                    paid.work.model(),
                    images,
                ))
            }
            Some(state) if state.request_id.is_some() => {
                let id = state.request_id.clone().unwrap_or_default();
                if paid.queue {
                    return Ok(
                        json!({"request_id": id, "status": "QUEUED", "billed": "when it runs", "repeated": true}),
                    );
                }
                // Queued by an earlier call: its result, not a new bill.
                progress.say(format!("answered from the journal: waiting for job {id}"));
                let job = session.client.job(id).wait().await;
                Some(job.map_err(|e| Refused::error(e, provider))?)
            }
            Some(state) if state.uncertain() => {
                return Err(Refused::new(
                    Failure::new(
                        OTHER,
                        format!(
                            "a call with idempotency_key {:?} was sent and its answer never reached the journal: it may have been billed, and is not sent again",
                            paid.key.as_deref().unwrap_or_default()
                        ),
                    )
                    .hint("check your account; a new key sends it afresh"),
                    Billed::Maybe,
                ));
            }
            _ => None,
        };
        let started = SystemTime::now();
        let from_journal = resumed.is_some();
        let mut generation = match resumed {
            Some(generation) => generation,
            None => {
                let prepared = match &paid.work {
                    Work::Generate(request) => {
                        session.client.prepare(request).await.map(Ready::Generate)
                    }
                    Work::Edit(request) => {
                        session.client.prepare_edit(request).await.map(Ready::Edit)
                    }
                }
                .map_err(|e| Refused::error(e, provider))?;
                self.unless_stopped(progress)?;
                self.journal(Entry::Sending {
                    item,
                    provider: Some(provider.to_string()),
                    key: journal_key.clone(),
                })
                .await?;
                if paid.queue {
                    return self.submit(item, prepared, provider).await;
                }
                progress.say("sent; waiting for the answer".into());
                match prepared.generate().await {
                    Ok(generation) => generation,
                    Err(err) => {
                        let model = paid.work.model();
                        return Err(
                            match undecoded(&session.client, &err, model, &asked.prompt) {
                                Some(generation) => {
                                    self.undecoded(item, &err, &generation, &plan, &asked, started)
                                        .await
                                }
                                None => self.failed(item, err, provider).await,
                            },
                        );
                    }
                }
            }
        };
        generation.model = paid.work.model();
        self.keep(item, &generation, &plan).await?;
        progress.say("paid; saving the images".into());
        let mut answer = self.save(item, &generation, &plan, &asked, started).await?;
        if from_journal {
            // Paid for by the earlier call; this one only fetched it.
            answer["billed"] = json!("earlier");
            answer["repeated"] = json!(true);
        }
        Ok(answer)
    }

    /// Refuses to send a call its client cancelled, or any once the server
    /// is stopping (stdin closed, an interrupt): nothing is sent.
    fn unless_stopped(&self, progress: &Progress) -> Result<(), Refused> {
        let why = if self.signals.count() > 0 {
            "the server is stopping (interrupted)"
        } else if progress.cancelled() {
            "the call was cancelled"
        } else {
            return Ok(());
        };
        Err(
            Failure::new(OTHER, format!("{why} before it was sent: nothing was sent"))
                .hint("call again to send it")
                .into(),
        )
    }

    /// Journals that a sent request failed, and whether it may have been
    /// billed (so that a repeat sends again only what certainly was not).
    pub(super) async fn failed(
        &self,
        item: usize,
        err: ideogram::Error,
        provider: Provider,
    ) -> Refused {
        let refused = Refused::error(err, provider);
        let entry = Entry::Failed {
            item,
            error: refused.failure.message.clone(),
            maybe_billed: refused.billed != Billed::No,
            expired: false,
        };
        if let Err(failure) = self.journal(entry).await {
            tell(&format!("warning: {}", failure.message));
        }
        refused
    }

    /// A paid answer that did not decode (`generation`: the URLs it held):
    /// journaled as the call's images, so a repeat fetches them without
    /// sending, and answered as billed with each URL, its sidecar and the
    /// command that fetches it.
    pub(super) async fn undecoded(
        &self,
        item: usize,
        err: &ideogram::Error,
        generation: &Generation,
        plan: &Plan,
        asked: &Asked,
        started: SystemTime,
    ) -> Refused {
        if let Err(refused) = self.keep(item, generation, plan).await {
            return refused;
        }
        let (stems, claimed) = crate::commands::stems_for(plan, generation.images.len(), false);
        let saving = crate::paid::Saving {
            asked,
            replace: false,
            temp_tag: None,
            started,
            journaled: true,
            claimed,
        };
        let unsaved = crate::paid::record_undecoded(generation, &stems, &err.to_string(), &saving);
        let mut refused =
            Refused::new(crate::paid::not_saved(&unsaved, unsaved.len()), Billed::Yes);
        let images: Vec<Value> = unsaved.iter().map(crate::paid::Unsaved::json).collect();
        refused.detail = Some(json!({ "images": images }));
        refused
    }

    /// Queues a checked, journaled request on Segmind and journals its id.
    pub(super) async fn submit(
        &self,
        item: usize,
        prepared: Ready<'_>,
        provider: Provider,
    ) -> Result<Value, Refused> {
        let job = match prepared.submit().await {
            Ok(job) => job,
            Err(err) => return Err(self.failed(item, err, provider).await),
        };
        let id = job.id().to_owned();
        let answer = json!({"request_id": id, "status": "QUEUED", "billed": "when it runs"});
        if let Err(failure) = self
            .journal(Entry::Submitted {
                item,
                request_id: id.clone(),
            })
            .await
        {
            tell(&format!("warning: {}", failure.message));
        }
        Ok(answer)
    }

    /// Journals a paid generation's URLs before anything is downloaded;
    /// when that fails, the error carries the commands that fetch them.
    pub(super) async fn keep(
        &self,
        item: usize,
        generation: &Generation,
        plan: &Plan,
    ) -> Result<(), Refused> {
        let Some(images) = JournalImage::of(generation) else {
            return Ok(());
        };
        self.journal(Entry::Generated { item, images })
            .await
            .map_err(|failure| {
                Refused::new(
                    Failure::new(
                        NOT_SAVED,
                        format!(
                            "{}; it was billed: {}",
                            failure.message,
                            crate::batch::fetch_commands(generation, plan)
                        ),
                    ),
                    Billed::Yes,
                )
            })
    }

    /// Saves a paid generation as the CLI does, journals what was saved,
    /// and answers with the records; images that could not be saved are a
    /// billed error listing their URLs and fetch commands.
    pub(super) async fn save(
        &self,
        item: usize,
        generation: &Generation,
        plan: &Plan,
        asked: &Asked,
        started: SystemTime,
    ) -> Result<Value, Refused> {
        // Names are claimed as files: calls and servers saving at once
        // never pick the same one.
        let saved = crate::commands::save_generation(
            generation,
            plan,
            asked,
            false,
            started,
            &self.signals,
        )
        .await;
        let (records, unsaved) = saved.map_err(|failure| Refused::new(failure, Billed::Yes))?;
        if !unsaved.is_empty() {
            let mut refused = Refused::new(
                crate::paid::not_saved(&unsaved, generation.images.len()),
                Billed::Yes,
            );
            let mut all = records.clone();
            all.extend(unsaved.iter().map(crate::paid::Unsaved::json));
            refused.detail = Some(json!({"images": all}));
            return Err(refused);
        }
        let paths = records
            .iter()
            .filter_map(|r| r["path"].as_str())
            .map(|p| self.journal.relative(Path::new(p)))
            .collect();
        if let Err(failure) = self.journal(Entry::Saved { item, paths }).await {
            tell(&format!("warning: {}", failure.message));
        }
        Ok(json!({"images": records, "billed": "yes"}))
    }

    /// The answer to a repeated call whose images are on disk: their
    /// sidecars, read again (bounded).
    pub(super) fn saved_again(&self, state: &ItemState) -> Value {
        let records: Vec<Value> = state
            .saved
            .iter()
            .flatten()
            .map(|path| {
                let sidecar = naming::Stem::sidecar_of(path);
                read_sidecar(&sidecar).unwrap_or_else(
                    || json!({"status": "saved", "path": path.display().to_string()}),
                )
            })
            .collect();
        json!({"images": records, "billed": "earlier", "repeated": true})
    }

    /// Waits for a queued job (progress notifications on each poll) and
    /// saves its images; a job this server already saved answers with its
    /// files.
    pub(super) async fn job_wait(
        &self,
        id: &str,
        timeout: u64,
        progress: &Progress,
    ) -> Result<Value, Refused> {
        let session = self.session(Some(Provider::Segmind)).await?;
        let earlier = self.items.lock().expect("items").of_job(id);
        if let Some((_, state)) = &earlier
            && state.saved.is_some()
        {
            return Ok(self.saved_again(state));
        }
        let item = match &earlier {
            Some((item, _)) => *item,
            None => {
                let item = self.items.lock().expect("items").reserve();
                self.journal(Entry::Submitted {
                    item,
                    request_id: id.to_owned(),
                })
                .await?;
                item
            }
        };
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(id))?;
        plan.check(1)?;
        let schedule = session
            .client
            .poll_schedule()
            .clone()
            .deadline(Duration::from_secs(timeout));
        let started = SystemTime::now();
        let job = session.client.job(id);
        let waited = job.wait_with(&schedule, |status| {
            progress.say(format!("job {id}: {}", status.status));
        });
        let generation = tokio::select! {
            generation = waited => generation.map_err(|err| Refused::error(err, Provider::Segmind))?,
            () = progress.ct.cancelled() => {
                // Waiting bills nothing: the job goes on, and job_wait
                // again picks it up.
                return Err(Failure::new(OTHER, format!("stopped waiting for job {id}: the call was cancelled"))
                    .hint("call job_wait again for its images")
                    .into());
            }
        };
        self.keep(item, &generation, &plan).await?;
        let asked = Asked {
            prompt: String::new(),
            provider: Provider::Segmind,
            options: Options::default(),
        };
        self.save(item, &generation, &plan, &asked, started).await
    }
}

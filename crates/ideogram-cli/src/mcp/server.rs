//! The server's state and its paid calls: the journal's items, the
//! clients, checking, journaling, sending and saving.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ideogram::{EditRequest, GenerateRequest, Generation, ImageInput, InvalidInput, Provider};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::{Map, Value, json};

use crate::connect::{self, Offline, Session};
use crate::failure::{Failure, INVALID, NOT_SAVED, OTHER};
use crate::journal::{Entry, ItemState, Journal, JournalImage};
use crate::naming::{self, Plan};
use crate::options::Connection;
use crate::output::{Asked, tell};
use crate::paid::undecoded;
use crate::request::Work;
use crate::signals::Signals;

use super::answer::{Billed, Refused, read_sidecar};
use super::budget::{Budget, Charge, Hold};
use super::call::{Call, Paid, canonical, fingerprint, parse_args, request_field};
use super::kept::{Kept, KeptCall};
use super::shared::{self, Earlier};
use super::tools::{DescribeArgs, JobArgs, JobWaitArgs, LayerizeArgs, Tool};

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
        shared::keyed(self.states.iter(), key)
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
    /// Paid images held only in memory that no place took, by item: a
    /// repeat with the call's key, or the server's end, saves them.
    pub(super) kept: Mutex<Kept>,
    pub(super) signals: Signals,
    /// The folders local image files may be read from (real paths): the
    /// output folder and `--read`'s. An agent cannot make the server upload
    /// any other file of the user's.
    readable: Vec<PathBuf>,
    /// Which addresses input image URLs may reach: public ones, and the
    /// hosts `--allow-url-host` names. An agent cannot make the server
    /// fetch from its loopback, private network or cloud metadata.
    pub(super) input_urls: ideogram::InputUrlPolicy,
    /// What the paid calls cost, and `--max-usd`'s budget.
    pub(super) budget: Budget,
    /// The output folder's lock, shared, held for the server's life:
    /// other servers may save there meanwhile, a batch may not.
    pub(super) _folder: std::fs::File,
    /// The folder, when this server made it, with the files it made there
    /// (its journal, the folder's lock, key locks): removed at its end if
    /// it sent nothing ([`Server::leave_unused`]).
    created: Mutex<naming::NewFolders>,
}

/// Releases a running idempotency key when its call ends, however.
pub(super) struct Running<'a> {
    items: &'a Mutex<Items>,
    key: Option<String>,
    /// The key's lock across the servers on this folder.
    _lock: Option<shared::KeyLock>,
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
        let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        let mut created = naming::writable(&out, 64)?;
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
        created.created(&out.join(crate::journal::FOLDER_LOCK));
        let (journal, states) = shared::open_journal(&out)?;
        created.created(journal.path());
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
            kept: Mutex::new(Kept::default()),
            signals,
            readable,
            input_urls: ideogram::InputUrlPolicy::public_only(),
            budget: Budget::default(),
            _folder: folder,
            created: Mutex::new(created),
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
        let session = Arc::new(connect::session_with(
            &self.connection,
            provider,
            self.offline.clone(),
            self.input_urls.clone(),
        )?);
        sessions.push((provider, session.clone()));
        Ok(session)
    }

    /// Every image the journal says was saved here, newest first.
    pub(super) fn saved(&self) -> Vec<PathBuf> {
        let items = self.items.lock().expect("items");
        let mut saved: Vec<(usize, &Vec<PathBuf>)> = items
            .states
            .iter()
            .filter_map(|(item, state)| state.saved.as_ref().map(|paths| (*item, paths)))
            .collect();
        saved.sort_by_key(|(item, _)| std::cmp::Reverse(*item));
        saved
            .into_iter()
            .flat_map(|(_, paths)| paths.clone())
            .collect()
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
    fn readable_only(&self, images: Vec<(String, ImageInput)>) -> Result<(), Refused> {
        for (field, image) in &images {
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
                // An edit tool's `mask` is given beside the others.
                let field = field.rsplit('.').next().unwrap_or(field).to_owned();
                return Err(Refused::invalid(InvalidInput::new(
                    field,
                    format!(
                        "{} is not an image in a folder this server may read ({}); give an \
                         http(s) or data: URL, or a file in one of those folders (its user \
                         chooses which folders it reads)",
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
                return Err(shared::still_running(key));
            }
            items.running.push(key.to_owned());
        }
        let mut running = Running {
            items: &self.items,
            key: Some(key.to_owned()),
            _lock: None,
        };
        // Released with `running` if the key runs on another server.
        running._lock =
            Some(shared::lock_key(&self.out, key)?.ok_or_else(|| shared::still_running(key))?);
        let lock = shared::key_lock(&self.out, key);
        let mut created = self.created.lock().expect("created");
        if let Some(keys) = lock.parent() {
            created.created_folder(keys);
        }
        created.created(&lock);
        Ok(running)
    }

    /// Removes the folder this server made, with what it made there, when
    /// it sent nothing (its journal records no call) and no other server
    /// or batch holds the folder: a server whose every call was refused
    /// leaves nothing behind. A folder another put anything in stays.
    pub(super) fn leave_unused(&self) {
        let created = std::mem::take(&mut *self.created.lock().expect("created"));
        let sent = Journal::entries(self.journal.path())
            .is_none_or(|entries| entries.iter().any(|entry| entry.item().is_some()));
        // Alone on the folder: the shared lock taken alone.
        if sent || self._folder.try_lock().is_err() {
            created.keep();
        }
    }

    /// Answers a call of `tool`; a paid tool's answer or error, and a
    /// quote, carry what this server spent (and has `left` under a
    /// budget).
    pub(super) async fn call(
        &self,
        tool: Tool,
        call: Call,
        progress: Progress,
    ) -> Result<Value, Refused> {
        let outcome = self.answer(tool, call, progress).await;
        if !tool.paid() && tool != Tool::Quote {
            return outcome;
        }
        let said = self.budget.said();
        match outcome {
            Ok(mut answer) => {
                if let (Value::Object(answer), Value::Object(said)) = (&mut answer, said) {
                    answer.extend(said);
                }
                Ok(answer)
            }
            Err(mut refused) => {
                refused.spend = Some(Box::new(said));
                Err(refused)
            }
        }
    }

    async fn answer(&self, tool: Tool, call: Call, progress: Progress) -> Result<Value, Refused> {
        match tool {
            Tool::Models => Ok(json!({
                "models": crate::commands::models_json(),
                "resolutions": crate::commands::resolutions_json(&crate::commands::sizes_of(&ideogram::SizeFamily::ALL)),
                "palettes": crate::commands::palettes_json(),
                "style_presets": <ideogram::StylePreset as ideogram::SpecEnum>::values()
                    .into_iter()
                    .map(|preset| preset.to_string())
                    .collect::<Vec<_>>(),
            })),
            Tool::Describe => {
                let args: DescribeArgs = call.parse().map_err(Refused::invalid)?;
                self.readable_only(vec![("image".to_owned(), args.image.clone())])?;
                let session = self.session(call.provider).await?;
                let provider = session.provider;
                let _running = self.claim(call.key.as_deref())?;
                let request = canonical(tool, &call.args);
                let journal_key = journal_key(call.key.as_deref(), provider, &request);
                let (item, state) = self
                    .item_for(call.key.as_deref(), journal_key.as_deref())
                    .await?;
                if let Some(state) = state {
                    if let Some(texts) = state.answer {
                        return Ok(
                            json!({"descriptions": texts, "billed": "earlier", "repeated": true}),
                        );
                    }
                    if state.uncertain() {
                        return Err(uncertain(call.key.as_deref()));
                    }
                }
                let request = args.request();
                let charge = Charge {
                    item,
                    provider,
                    model: args.model.map(|model| model.to_string()),
                };
                let priced = (
                    session.client.estimate_describe(&request),
                    session.client.quote_describe(&request),
                );
                let texts = self
                    .send_held(
                        (charge, journal_key),
                        priced,
                        session.client.describe_request(&request),
                    )
                    .await?;
                let answer = json!(texts);
                if let Err(failure) = self.journal(Entry::Answered { item, answer }).await {
                    tell(&format!("warning: {}", failure.message));
                }
                Ok(json!({"descriptions": texts, "billed": "yes"}))
            }
            Tool::LayerizeText => self.layerize(&call, &progress).await,
            Tool::JobStatus => {
                let args: JobArgs = call.parse().map_err(Refused::invalid)?;
                let session = self.session(Some(Provider::Segmind)).await?;
                // Asking is free, whatever the answer: never billed.
                let status = session
                    .client
                    .job(&args.request_id)
                    .status()
                    .await
                    .map_err(status_refused)?;
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
                let timeout = args.timeout_seconds.unwrap_or(DEFAULT_WAIT);
                self.job_wait(&args.request_id, timeout, &progress).await
            }
            Tool::Quote => self.quote(call).await,
            _ => {
                let paid = Self::paid_of(tool, call)?;
                self.paid(paid, &progress).await
            }
        }
    }

    /// A paid tool's call as the request it sends, checked as the
    /// library's type (nothing read or sent).
    fn paid_of(tool: Tool, call: Call) -> Result<Paid, Refused> {
        match tool {
            Tool::Generate | Tool::Remix | Tool::JobSubmit => {
                let request: GenerateRequest = call.parse().map_err(Refused::invalid)?;
                if tool == Tool::Remix && request_field(&call, "image").is_none() {
                    return Err(Refused::invalid(InvalidInput::new(
                        "image",
                        "remix needs an input image",
                    )));
                }
                let asked = Asked::generate(&request, Provider::Ideogram);
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
                Ok(paid)
            }
            Tool::Edit
            | Tool::Reframe
            | Tool::ReplaceBackground
            | Tool::Upscale
            | Tool::RemoveBackground
            | Tool::RemoveObject => {
                let op = tool.edit_op().unwrap_or_default();
                // The operation's fields, given beside the others, are
                // where the library reads them.
                let mut args = call.args.clone();
                let mut operation = Map::new();
                operation.insert("op".into(), json!(op));
                for field in tool.nested() {
                    if let Some(value) = args.remove(field) {
                        operation.insert(field.clone(), value);
                    }
                }
                args.insert("operation".into(), Value::Object(operation));
                let request: EditRequest =
                    parse_args(Value::Object(args.clone())).map_err(|mut invalid| {
                        if let Some(field) = invalid.field.strip_prefix("operation.") {
                            invalid.field = field.to_owned().into();
                        }
                        Refused::invalid(invalid)
                    })?;
                let named = call
                    .args
                    .get("prompt")
                    .and_then(Value::as_str)
                    .map_or_else(|| op.to_owned(), str::to_owned);
                let paid = Paid {
                    request: canonical(tool, &args),
                    asked: Asked::edit(named, &request, Provider::Ideogram),
                    work: Work::Edit(request),
                    provider: call.provider,
                    key: call.key,
                    queue: false,
                };
                Ok(paid)
            }
            _ => Err(Refused::invalid(InvalidInput::new(
                "tool",
                format!("{} sends no request that can be priced", tool.name()),
            ))),
        }
    }

    /// `quote`: what a call of a paid tool (`tool`, with its `arguments`,
    /// checked against that tool's own schema) would cost, from the
    /// library's quote: Ideogram's free dry run where the operation takes
    /// one, else the spec's price; a call nothing prices (Ideogram's
    /// describe) is refused, saying so. Nothing is billed or journaled.
    async fn quote(&self, call: Call) -> Result<Value, Refused> {
        let named = call.args.get("tool").and_then(Value::as_str);
        let Some(tool) = named.and_then(Tool::named).filter(|tool| tool.quotable()) else {
            let names: Vec<&str> = Tool::ALL
                .into_iter()
                .filter(|tool| tool.quotable())
                .map(Tool::name)
                .collect();
            return Err(Refused::invalid(InvalidInput::new(
                "tool",
                format!("must be one of {}", names.join(", ")),
            )));
        };
        let mut arguments = match call.args.get("arguments") {
            Some(Value::Object(arguments)) => arguments.clone(),
            _ => Map::new(),
        };
        let inner = tool
            .check(&mut arguments)
            .and_then(|()| Call::read(arguments))
            .map_err(|mut invalid| {
                // A field of `arguments`, as the quote's caller wrote it.
                if invalid.field != "arguments" {
                    invalid.field = format!("arguments.{}", invalid.field).into();
                }
                Refused::invalid(invalid)
            })?;
        let (quote, provider) = self.quoted(tool, inner).await?;
        let quote = quote.map_err(|err| match err {
            // Nothing prices it (Ideogram's describe): said so, not guessed.
            ideogram::Error::Validation(invalid) if invalid.field == "price" => {
                let refusal = match self.budget.limited() {
                    true => "; this server's budget refuses it unsent",
                    false => "",
                };
                let failure = Failure::new(
                    INVALID,
                    format!(
                        "no price known ({invalid}): a call would be billed at a price not \
                         known here{refusal}"
                    ),
                );
                Refused::new(failure, Billed::No)
            }
            err => Refused::error(err, provider),
        })?;
        let mut answer = serde_json::to_value(&quote).unwrap_or_default();
        answer["usd"] = json!(ideogram::dollars(quote.usd_micros));
        answer["most_usd"] = json!(ideogram::dollars(quote.most_usd_micros()));
        answer["most_usd_micros"] = json!(quote.most_usd_micros());
        answer["provider"] = json!(provider.to_string());
        answer["billed"] = json!("no");
        Ok(answer)
    }

    /// The quote of a call of `tool` (checked, its images read, nothing
    /// sent that bills), by the pricing its call is held with under a
    /// budget; the provider asked.
    async fn quoted(
        &self,
        tool: Tool,
        inner: Call,
    ) -> Result<(Result<ideogram::Quote, ideogram::Error>, Provider), Refused> {
        match tool {
            Tool::Describe => {
                let args: DescribeArgs = inner.parse().map_err(Refused::invalid)?;
                self.readable_only(vec![("image".to_owned(), args.image.clone())])?;
                let session = self.session(inner.provider).await?;
                let quote = session.client.quote_describe(&args.request()).await;
                return Ok((quote, session.provider));
            }
            Tool::LayerizeText => {
                let args: LayerizeArgs = inner.parse().map_err(Refused::invalid)?;
                self.readable_only(vec![("image".to_owned(), args.image.clone())])?;
                let session = self.session(Some(Provider::Ideogram)).await?;
                let request = args.request();
                request
                    .check(Provider::Ideogram)
                    .map_err(Refused::invalid)?;
                let quote = session.client.quote_layerize(&request).await;
                return Ok((quote, session.provider));
            }
            _ => {}
        }
        let paid = Self::paid_of(tool, inner)?;
        let session = self.session(paid.provider).await?;
        let provider = session.provider;
        paid.work.check(provider).map_err(Refused::invalid)?;
        match &paid.work {
            Work::Generate(request) => self.readable_only(request.input_images())?,
            Work::Edit(request) => self.readable_only(request.input_images())?,
            // Not a paid tool's work: `describe` and `layerize_text` are their own.
            Work::Describe(_) | Work::Layerize(_) => {}
        }
        let quote = match paid.work.prepare(&session.client).await {
            Ok(prepared) => prepared.quote().await,
            Err(err) => Err(err),
        };
        Ok((quote, provider))
    }

    /// A paid call: answered from the journal when its key is there,
    /// else checked, priced against the budget, journaled, sent, journaled
    /// again and saved. What it cost is counted as spent: a call that ends
    /// before its cost is known counts the most it could cost, unless it
    /// certainly was not billed.
    pub(super) async fn paid(&self, paid: Paid, progress: &Progress) -> Result<Value, Refused> {
        let mut hold = None;
        let outcome = self.paid_once(paid, progress, &mut hold).await;
        if let Some(hold) = hold {
            let cost = match &outcome {
                Ok(_) => Some(hold.settle(None)),
                Err(refused) => hold.settle_refused(refused.billed),
            };
            self.spent(cost).await;
        }
        outcome
    }

    /// Journals the `cost` entry of a call settled as billed, synced
    /// before the call is answered, so that a restarted server's budget
    /// and `ideogram spend` count it. Should that fail, its `sending`
    /// entry's most is what a restart counts.
    async fn spent(&self, cost: Option<Entry>) {
        if let Some(entry) = cost
            && let Err(failure) = self.journal(entry).await
        {
            tell(&format!("warning: {}", failure.message));
        }
    }

    /// Prices a prepared call and holds the most it can cost against the
    /// budget. Under a budget, the library's quote (Ideogram's free dry
    /// run where the operation takes one, else the spec's price); a call it
    /// cannot price is refused. Without one, the spec's price only
    /// (nothing is sent), none where the spec has none.
    async fn hold_for(
        &self,
        prepared: &ideogram::Prepared<'_>,
        charge: Charge,
    ) -> Result<Option<Hold<'_>>, Refused> {
        if !self.budget.limited() {
            let estimate = prepared.estimate().ok();
            return Ok(estimate.and_then(|quote| self.budget.hold(&quote, charge).ok()));
        }
        self.hold_quoted(prepared.quote().await, charge).map(Some)
    }

    /// A paid call sent as its journal entry says, priced by `estimate`
    /// (the spec's price, nothing sent) or, under a budget, by `quote`
    /// (awaited only then): the price held first, just before sending, so
    /// an earlier return spends nothing, and under a budget the call
    /// refused unsent when it would pass; then `item` journaled as sending
    /// (the hold released if that fails: nothing was sent), then `call`,
    /// the hold settled by how it ended and what it counted as billed
    /// journaled, with a budget or without (so `ideogram spend` counts it).
    async fn send_held<T>(
        &self,
        (charge, key): (Charge, Option<String>),
        (estimate, quote): (
            Result<ideogram::Quote, ideogram::Error>,
            impl std::future::Future<Output = Result<ideogram::Quote, ideogram::Error>>,
        ),
        call: impl std::future::Future<Output = Result<T, ideogram::Error>>,
    ) -> Result<T, Refused> {
        let (item, provider) = (charge.item, charge.provider);
        let unheld = charge.clone();
        let hold = match self.budget.limited() {
            true => Some(self.hold_quoted(quote.await, charge)?),
            // No budget refuses: a call the spec does not price is sent
            // unpriced.
            false => estimate
                .ok()
                .and_then(|quote| self.budget.hold(&quote, charge).ok()),
        };
        let sending = Entry::Sending {
            item,
            provider: Some(provider.to_string()),
            key,
            most_usd_micros: hold.as_ref().map(Hold::most),
        };
        if let Err(failure) = self.journal(sending).await {
            hold.into_iter().for_each(Hold::release);
            return Err(failure.into());
        }
        match call.await {
            Ok(answer) => {
                // Unpriced (no budget, and the spec has no price): paid at a
                // price nothing knows.
                let cost = match hold {
                    Some(hold) => hold.settle(None),
                    None => unheld.spent(None),
                };
                self.spent(Some(cost)).await;
                Ok(answer)
            }
            Err(err) => {
                let refused = self.failed(item, err, provider).await;
                let cost = match hold {
                    Some(hold) => hold.settle_refused(refused.billed),
                    None if refused.billed == Billed::Yes => Some(unheld.spent(None)),
                    None => None,
                };
                self.spent(cost).await;
                Err(refused)
            }
        }
    }

    /// Holds the most `quote` says a call can cost against the budget; a
    /// call the library could not price is refused (nothing sent).
    fn hold_quoted(
        &self,
        quote: Result<ideogram::Quote, ideogram::Error>,
        charge: Charge,
    ) -> Result<Hold<'_>, Refused> {
        let provider = charge.provider;
        match quote {
            Ok(quote) => self.budget.hold(&quote, charge),
            Err(ideogram::Error::Validation(invalid)) => Err(self
                .budget
                .unpriced(&invalid.to_string())
                .err()
                .unwrap_or_else(|| Refused::invalid(invalid))),
            Err(err) => Err(Refused::error(err, provider)),
        }
    }

    /// [`Server::paid`], `hold` set to the most the call can cost once
    /// it is priced, and settled where its cost is known.
    async fn paid_once<'s>(
        &'s self,
        paid: Paid,
        progress: &Progress,
        hold: &mut Option<Hold<'s>>,
    ) -> Result<Value, Refused> {
        let session = self.session(paid.provider).await?;
        let provider = session.provider;
        paid.work.check(provider).map_err(Refused::invalid)?;
        match &paid.work {
            Work::Generate(request) => self.readable_only(request.input_images())?,
            Work::Edit(request) => self.readable_only(request.input_images())?,
            // Not a paid tool's work: `describe` and `layerize_text` are their own.
            Work::Describe(_) | Work::Layerize(_) => {}
        }
        let asked = Asked {
            provider,
            ..paid.asked
        };
        let _running = self.claim(paid.key.as_deref())?;
        let journal_key = journal_key(paid.key.as_deref(), provider, paid.request.as_str());
        let (item, state) = self
            .item_for(paid.key.as_deref(), journal_key.as_deref())
            .await?;
        // Paid for by the earlier call, whose images no place took then:
        // saved now if a place takes them, nothing sent.
        let kept = self.kept.lock().expect("kept").take(item);
        if let Some(kept) = kept {
            progress
                .say("answered from this server's memory: saving the images it paid for".into());
            let mut answer = self.save_kept(item, kept).await?;
            answer["billed"] = json!("earlier");
            answer["repeated"] = json!(true);
            return Ok(answer);
        }
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(&asked.prompt))?;
        // The server's folder: made at its start.
        plan.check(paid.work.images())?.keep();
        // Held until the images are about to be saved (dropped on every
        // other way out).
        let room = crate::room::reserve(&plan.dir, paid.work.images())?;
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
                if let Some(note) = crate::queued::expiry_note(provider, &id, state.submitted_at) {
                    progress.say(note);
                }
                let job = session.client.job(id).wait().await;
                Some(job.map_err(|e| Refused::error(e, provider))?)
            }
            Some(state) if state.uncertain() => {
                return Err(uncertain(paid.key.as_deref()));
            }
            _ => None,
        };
        let started = SystemTime::now();
        let from_journal = resumed.is_some();
        let charge = Charge {
            item,
            provider,
            model: Some(paid.work.model().to_string()),
        };
        let mut generation = match resumed {
            Some(generation) => {
                room.release();
                generation
            }
            None => {
                let prepared = paid
                    .work
                    .prepare(&session.client)
                    .await
                    .map_err(|e| Refused::error(e, provider))?;
                *hold = self.hold_for(&prepared, charge.clone()).await?;
                self.unless_stopped(progress)?;
                self.journal(Entry::Sending {
                    item,
                    provider: Some(provider.to_string()),
                    key: journal_key.clone(),
                    most_usd_micros: hold.as_ref().map(Hold::most),
                })
                .await?;
                if paid.queue {
                    let asked = (paid.work.model(), asked.prompt.as_str());
                    return self.submit(item, prepared, provider, asked).await;
                }
                progress.say("sent; waiting for the answer".into());
                // Segmind's queue (the default there): the id journaled
                // before the wait, so a restart waits instead of paying again.
                let answer = if prepared.queued() {
                    let asked = (paid.work.model(), asked.prompt.as_str());
                    let job = self.submitted(item, prepared, provider, asked).await?;
                    job.wait().await
                } else {
                    prepared.generate().await
                };
                room.release();
                match answer {
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
        // Billed now: the service's figure where it gave one.
        let cost = generation.usage_cost_usd_micros;
        let cost = match hold.take() {
            Some(hold) => Some(hold.settle(cost)),
            None if !from_journal => Some(charge.spent(cost)),
            None => None,
        };
        self.spent(cost).await;
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
            cost: None,
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
        prepared: ideogram::Prepared<'_>,
        provider: Provider,
        asked: (ideogram::Model, &str),
    ) -> Result<Value, Refused> {
        let job = self.submitted(item, prepared, provider, asked).await?;
        Ok(json!({"request_id": job.id(), "status": "QUEUED", "billed": "when it runs"}))
    }

    /// [`Server::submit`]'s job: queued, its id journaled.
    pub(super) async fn submitted(
        &self,
        item: usize,
        prepared: ideogram::Prepared<'_>,
        provider: Provider,
        (model, prompt): (ideogram::Model, &str),
    ) -> Result<ideogram::Job, Refused> {
        let job = match prepared.submit().await {
            Ok(job) => job,
            Err(err) => return Err(self.failed(item, err, provider).await),
        };
        let id = job.id().to_owned();
        if let Err(failure) = self
            .journal(Entry::Submitted {
                item,
                request_id: id.clone(),
                model: Some(model.to_string()),
                prompt: Some(prompt.to_owned()),
                at: Some(crate::clock::now()),
            })
            .await
        {
            tell(&format!("warning: {}", failure.message));
        }
        Ok(job)
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
        self.save_with(item, generation, plan, asked, started, Vec::new())
            .await
    }

    /// Saves the images this server kept for `item` (see [`Server::save`]).
    pub(super) async fn save_kept(&self, item: usize, kept: KeptCall) -> Result<Value, Refused> {
        self.save_with(
            item,
            &kept.generation,
            &kept.plan,
            &kept.asked,
            kept.started,
            kept.saved,
        )
        .await
    }

    /// [`Server::save`], the records of the call's images saved `earlier`
    /// first. Images held only in memory that no place took are kept (up
    /// to [`super::kept::LIMIT`]) for a repeat with the call's key, and
    /// journaled as failed after billing, as a batch journals them.
    async fn save_with(
        &self,
        item: usize,
        generation: &Generation,
        plan: &Plan,
        asked: &Asked,
        started: SystemTime,
        earlier: Vec<Value>,
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
        let (saved, unsaved) = saved.map_err(|failure| Refused::new(failure, Billed::Yes))?;
        let mut records = earlier;
        records.extend(saved);
        if !unsaved.is_empty() {
            let in_memory: Vec<ideogram::GeneratedImage> = unsaved
                .iter()
                .filter(|u| u.lost())
                .filter_map(|u| generation.images.get(u.number - 1))
                .filter(|image| matches!(image.data, ideogram::ImageData::Bytes { .. }))
                .cloned()
                .collect();
            let kept = !in_memory.is_empty() && {
                let mut images = generation.clone();
                images.images = in_memory;
                let call = KeptCall {
                    generation: images,
                    plan: plan.clone(),
                    asked: asked.clone(),
                    started,
                    saved: records.clone(),
                };
                self.kept.lock().expect("kept").hold(item, call)
            };
            let failure = agent_hint(
                crate::paid::not_saved(&unsaved, generation.images.len()),
                &unsaved,
                kept,
            );
            if unsaved.iter().any(crate::paid::Unsaved::lost) {
                let entry = Entry::Failed {
                    item,
                    error: failure.to_string(),
                    maybe_billed: true,
                    expired: false,
                };
                if let Err(failure) = self.journal(entry).await {
                    tell(&format!("warning: {}", failure.message));
                }
            }
            let mut refused = Refused::new(failure, Billed::Yes);
            let mut all = records.clone();
            all.extend(unsaved.iter().map(|u| {
                let mut image = u.json();
                if u.lost() {
                    let held = kept
                        && matches!(
                            generation.images.get(u.number - 1).map(|i| &i.data),
                            Some(ideogram::ImageData::Bytes { .. })
                        );
                    image["kept"] = json!(held);
                }
                image
            }));
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

    /// At the server's end: one last save of every image still kept
    /// (through the same save and rescue places), a line on stderr for
    /// each saying where it went or that it is lost. How many there were.
    pub(super) async fn last_attempt(&self) -> usize {
        let calls = self.kept.lock().expect("kept").drain();
        let mut count = 0;
        for (item, call) in calls {
            let before = call.saved.len();
            let prompt = call.asked.prompt.clone();
            let outcome = self.save_kept(item, call).await;
            let images = match &outcome {
                Ok(answer) => answer["images"].clone(),
                Err(refused) => refused
                    .detail
                    .as_ref()
                    .map_or(Value::Null, |d| d["images"].clone()),
            };
            for (n, image) in images
                .as_array()
                .into_iter()
                .flatten()
                .skip(before)
                .enumerate()
            {
                count += 1;
                let said = if image["status"] != "not_saved"
                    && let Some(path) = image["path"].as_str()
                {
                    format!("saved at {path}")
                } else if let Some(copy) = image["rescued"].as_str() {
                    format!("saved instead at {copy}")
                } else {
                    format!(
                        "lost: no place took its bytes ({})",
                        image["tried"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                };
                tell(&format!(
                    "ideogram mcp: image {} of {prompt:?} (paid, kept in memory unsaved): {said}",
                    n + 1
                ));
            }
        }
        // What the last attempt kept again goes with the server.
        self.kept.lock().expect("kept").drain();
        count
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
        let named = earlier.as_ref().and_then(|(_, state)| state.prompt.clone());
        let plan = Plan::from_output(
            Some(&self.out.join("")),
            &naming::slug(named.as_deref().unwrap_or(id)),
        )?;
        plan.check(1)?.keep();
        let job = session.client.job(id);
        // A job this server did not queue is asked after first: an id the
        // service does not know is refused, free and unrecorded.
        if earlier.is_none() {
            job.status().await.map_err(status_refused)?;
        }
        let schedule = session
            .client
            .poll_schedule()
            .clone()
            .deadline(Duration::from_secs(timeout));
        let started = SystemTime::now();
        let waited = job.wait_with(&schedule, |status| {
            progress.say(format!("job {id}: {}", status.status));
        });
        let generation = tokio::select! {
            generation = waited => match generation {
                Ok(generation) => generation,
                // Queued by this server, whose journal counts it as billed
                // since: a job that FAILED (documented unbilled) is
                // journaled so, which voids that. Nothing else voids it: an
                // id no longer known may be a job billed and expired.
                Err(err) => return Err(match &earlier {
                    Some((item, _)) if matches!(err.root(), ideogram::Error::JobFailed { .. }) => {
                        self.failed(*item, err, Provider::Segmind).await
                    }
                    _ => Refused::error(err, Provider::Segmind),
                }),
            },
            () = progress.ct.cancelled() => {
                // Waiting bills nothing: the job goes on, and job_wait
                // again picks it up.
                return Err(Failure::new(OTHER, format!("stopped waiting for job {id}: the call was cancelled"))
                    .hint("call job_wait again for its images")
                    .into());
            }
        };
        // Queued by this server: its item, which knows the model and prompt;
        // else a new item, recorded now that the job has run.
        let (item, state) = match earlier {
            Some((item, state)) => {
                // Counted at its quote when it was queued: the service's
                // own figure, where it gave one, is the last word.
                if let Some(cost) = generation.usage_cost_usd_micros
                    && state
                        .cost
                        .as_ref()
                        .is_none_or(|c| c.most() != Some(cost) || c.usd_micros != cost)
                {
                    let charge = Charge {
                        item,
                        provider: Provider::Segmind,
                        model: state.model.clone(),
                    };
                    self.spent(Some(charge.spent(Some(cost)))).await;
                }
                (item, state)
            }
            None => {
                let item = self.items.lock().expect("items").reserve();
                self.journal(Entry::Submitted {
                    item,
                    request_id: id.to_owned(),
                    model: None,
                    prompt: None,
                    at: None,
                })
                .await?;
                // Paid, and not counted by this server when queued: its
                // cost as far as it is known (the job's model is not, so
                // nor its price, unless the service said it).
                let charge = Charge {
                    item,
                    provider: Provider::Segmind,
                    model: None,
                };
                let cost = generation.usage_cost_usd_micros;
                self.spent(Some(charge.spent(cost))).await;
                (item, ItemState::default())
            }
        };
        let model = state.model.as_deref().and_then(|m| m.parse().ok());
        let mut generation = generation;
        if let Some(model) = model {
            generation.model = model;
        }
        self.keep(item, &generation, &plan).await?;
        let asked = Asked {
            prompt: state.prompt.unwrap_or_default(),
            provider: Provider::Segmind,
            fields: state
                .model
                .map(|model| Map::from_iter([("model".to_owned(), Value::from(model))]))
                .unwrap_or_default(),
        };
        self.save(item, &generation, &plan, &asked, started).await
    }
}

/// How long `job_wait` waits when not told, in seconds.
const DEFAULT_WAIT: u64 = 600;

/// A call's name in the journal, `KEY#FINGERPRINT` of the request and its
/// provider: the same key with other arguments (or another provider) is
/// another request, refused.
fn journal_key(key: Option<&str>, provider: Provider, request: &str) -> Option<String> {
    key.map(|key| format!("{key}#{}", fingerprint(&format!("{provider} {request}"))))
}

/// A job's status that could not be had: asking is free, so never
/// billed; an id the service does not know is the caller's to fix.
fn status_refused(err: ideogram::Error) -> Refused {
    let unknown = matches!(
        err.root(),
        ideogram::Error::Expired { .. } | ideogram::Error::NotFound { .. }
    );
    let mut refused = Refused::error(err, Provider::Segmind);
    refused.billed = Billed::No;
    if unknown {
        refused.failure.code = INVALID;
        refused.failure.hint =
            Some("pass a request_id job_submit returned (Segmind keeps results an hour)".into());
    }
    refused
}

/// The refusal of a repeat whose first call was sent and never answered.
fn uncertain(key: Option<&str>) -> Refused {
    Refused::new(
        Failure::new(
            OTHER,
            format!(
                "a call with idempotency_key {:?} was sent and its answer never reached the journal: it may have been billed, and is not sent again",
                key.unwrap_or_default()
            ),
        )
        .hint("pass a new idempotency_key to send it afresh (the user can check the account first)"),
        Billed::Maybe,
    )
}

impl Server {
    /// What the journals of the servers on this folder say of `key`, its
    /// call now locked to this one (see [`shared::lock_key`]): this
    /// server's item, unless another server's journal got further with it
    /// (saved, or paid for), in which case that item's state is answered
    /// with, under an item of this journal ([`shared::earlier`]). A
    /// paid-for item another server did not save is taken over: this
    /// journal records it as its own (its queue id, its images' URLs)
    /// before anything is fetched.
    async fn earlier(
        &self,
        key: &str,
        journal_key: Option<&str>,
    ) -> Result<Option<(usize, ItemState)>, Refused> {
        let own = self.items.lock().expect("items").keyed(key);
        if own.as_ref().is_some_and(|(_, state)| shared::saved(state)) {
            return Ok(own);
        }
        let peers = shared::peers(&self.out, self.journal.path(), key).await?;
        let (own, theirs, take_over) = match shared::earlier(own, peers, journal_key) {
            Earlier::Own(own) => return Ok(own),
            Earlier::Theirs {
                own,
                state,
                take_over,
            } => (own, state, take_over),
        };
        let item = match own {
            Some(item) => item,
            None => self.items.lock().expect("items").reserve(),
        };
        if !take_over {
            return Ok(Some((item, theirs)));
        }
        if own.is_none() {
            // The other server's journal counts what the call cost.
            self.journal(Entry::Sending {
                item,
                provider: theirs.provider.clone(),
                key: theirs.key.clone(),
                most_usd_micros: None,
            })
            .await?;
        }
        if let Some(request_id) = &theirs.request_id {
            self.journal(Entry::Submitted {
                item,
                request_id: request_id.clone(),
                model: theirs.model.clone(),
                prompt: theirs.prompt.clone(),
                at: theirs.submitted_at,
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

    /// The journal item of a call: the one its key names (with what this
    /// server's or another server's journal on the folder says of it; see
    /// [`Server::earlier`]), or a new one. The same key for another request
    /// is refused.
    async fn item_for(
        &self,
        key: Option<&str>,
        journal_key: Option<&str>,
    ) -> Result<(usize, Option<ItemState>), Refused> {
        let earlier = match key {
            Some(key) => self.earlier(key, journal_key).await?,
            None => None,
        };
        match earlier {
            Some((_, state)) if state.key.as_deref() != journal_key => Err(Failure::new(
                INVALID,
                format!(
                    "idempotency_key {:?} was used for another request (other arguments or provider)",
                    key.unwrap_or_default()
                ),
            )
            .hint("a new request needs a new idempotency_key")
            .into()),
            Some((item, state)) => Ok((item, Some(state))),
            None => Ok((self.items.lock().expect("items").reserve(), None)),
        }
    }

    /// `layerize_text`: journaled and keyed as the other paid calls; the
    /// text blocks are journaled with the answer, the image saved as a
    /// generation's.
    async fn layerize(&self, call: &Call, progress: &Progress) -> Result<Value, Refused> {
        let args: LayerizeArgs = call.parse().map_err(Refused::invalid)?;
        self.readable_only(vec![("image".to_owned(), args.image.clone())])?;
        let session = self.session(Some(Provider::Ideogram)).await?;
        let provider = session.provider;
        let _running = self.claim(call.key.as_deref())?;
        let request = canonical(Tool::LayerizeText, &call.args);
        let journal_key = journal_key(call.key.as_deref(), provider, &request);
        let (item, state) = self
            .item_for(call.key.as_deref(), journal_key.as_deref())
            .await?;
        let named = args
            .prompt
            .clone()
            .unwrap_or_else(|| "text-layers".to_owned());
        let plan = Plan::from_output(Some(&self.out.join("")), &naming::slug(&named))?;
        plan.check(1)?.keep();
        let request = args.request();
        // Refused before anything is sent: one answered later (v2's
        // `async`, `webhook_url`; tools leave those out, `operation` aside).
        request
            .check(Provider::Ideogram)
            .map_err(Refused::invalid)?;
        let model = request
            .chosen_model()
            .unwrap_or(ideogram::LayerizeRequest::MODEL);
        let started = SystemTime::now();
        let (generation, blocks, billed) = match state {
            Some(state) if state.saved.is_some() => {
                let mut answer = self.saved_again(&state);
                answer["text_blocks"] = state.answer.unwrap_or_else(|| json!([]));
                return Ok(answer);
            }
            Some(state) if state.images.is_some() => {
                progress.say("answered from the journal: fetching the image it paid for".into());
                let images = state.images.unwrap_or_default();
                let generation = crate::journal::restore(&session.client, model, images);
                (
                    generation,
                    state.answer.unwrap_or_else(|| json!([])),
                    "earlier",
                )
            }
            Some(state) if state.uncertain() => return Err(uncertain(call.key.as_deref())),
            _ => {
                progress.say("sent; waiting for the answer".into());
                let charge = Charge {
                    item,
                    provider,
                    model: Some(model.to_string()),
                };
                let priced = (
                    session.client.estimate_layerize(&request),
                    session.client.quote_layerize(&request),
                );
                let layers = self
                    .send_held(
                        (charge, journal_key),
                        priced,
                        session.client.layerize(&request),
                    )
                    .await?;
                let blocks = serde_json::to_value(&layers.blocks).unwrap_or_default();
                let answer = blocks.clone();
                if let Err(failure) = self.journal(Entry::Answered { item, answer }).await {
                    tell(&format!("warning: {}", failure.message));
                }
                let images = std::iter::once(layers.base).chain(layers.design).collect();
                let generation = Generation::new(provider, model, images);
                (generation, blocks, "yes")
            }
        };
        self.keep(item, &generation, &plan).await?;
        let asked = Asked {
            prompt: args.prompt.unwrap_or_default(),
            provider,
            fields: Map::from_iter([("model".to_owned(), json!(model.to_string()))]),
        };
        let mut answer = self.save(item, &generation, &plan, &asked, started).await?;
        answer["text_blocks"] = blocks;
        answer["billed"] = json!(billed);
        if billed == "earlier" {
            answer["repeated"] = json!(true);
        }
        Ok(answer)
    }
}

/// The "billed but not saved" failure, with what an agent does next for
/// the images that have a URL (call again with the same key) and for those
/// held only in memory: `kept` by this server (call again with the same
/// key once there is room), or refused past its limit.
fn agent_hint(failure: Failure, unsaved: &[crate::paid::Unsaved], kept: bool) -> Failure {
    let mut said = failure.hint.clone().unwrap_or_default();
    if unsaved.iter().any(|u| u.url.is_some()) {
        said.push_str("; to fetch those with a URL, call again with the same idempotency_key");
    }
    if kept {
        said.push_str(
            "; those marked kept are held in this server's memory: free space in the output \
             folder, then call again with the same idempotency_key to save them (nothing is \
             sent again); they are tried once more when the server ends",
        );
    } else if unsaved.iter().any(|u| u.lost() && !u.tried.is_empty()) {
        said.push_str(&format!(
            "; not kept in memory either: this server already holds its limit of {} MiB of unsaved images",
            super::kept::LIMIT >> 20
        ));
    }
    failure.hint(said)
}

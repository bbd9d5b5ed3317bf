//! `ideogram batch`: many prompts, a bounded number at once, with progress
//! and a journal that lets a killed batch resume without paying twice.
//!
//! Every line is checked, and the output folder proven writable, before the
//! first request: its fields and values, then every image each item to be
//! sent names (see [`check_images`]). On Segmind every item goes through the queue, so its id is
//! journaled before any waiting; on Ideogram's API (which has no ids) the
//! image URLs are journaled as soon as the answer arrives, before
//! downloading. An item is marked "sending" only once its in-flight slot is
//! held, just before its bytes leave.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt as _;
use futures::future::Either;
use ideogram::{Client, Error, Generation, ImageData, Provider};
use serde_json::Value;

use crate::connect::Session;
use crate::failure::{Failure, INTERRUPTED, INVALID, NOT_SAVED};
use crate::journal::{self, Entry, ItemState, Journal, JournalImage, fingerprint};
use crate::naming::{self, Plan};
use crate::options::Options;
use crate::output::{self, Asked, tell};
use crate::paid::{self, Saving};
use crate::progress::Progress;
use crate::request::{self, Work};
use crate::signals::Signals;

/// The largest batch file read.
const MAX_BATCH_FILE: u64 = 64 << 20;

pub(crate) struct Batch {
    pub file: PathBuf,
    pub options: Options,
    pub output: PathBuf,
    pub concurrency: usize,
    pub journal: Option<PathBuf>,
    pub resend_uncertain: Option<String>,
    pub switch_provider: bool,
    pub wait: bool,
    pub json: bool,
    /// `--max-usd` and `--quote`.
    pub pricing: crate::budget::Pricing,
}

struct Item {
    index: usize,
    asked: Asked,
    work: Work,
}

pub(crate) async fn run(session: &Session, batch: Batch, signals: Signals) -> Result<(), Failure> {
    let lines = read_items(&batch.file)?;
    // Check every item, and where its images go, before anything is sent: a
    // bad line costs nothing. Items are made again as they are sent, not
    // kept: what a batch holds grows with its lines only by their text.
    let mut problems = Vec::new();
    let mut bad_names = None;
    // Every item's names, then the folder proven to take the longest of
    // them: once, not once per item (a file created and removed each).
    let mut longest = 0;
    for (index, line) in lines.iter().enumerate() {
        match parse_item(index, line, &batch.options, session.provider) {
            Ok(item) if problems.is_empty() && bad_names.is_none() => {
                let plan = plan_for(&batch.output, &item);
                match plan.check_names(item.work.images()) {
                    Ok(()) => longest = longest.max(plan.longest_name()),
                    Err(failure) => bad_names = Some(failure),
                }
            }
            Ok(_) => {}
            Err(err) => problems.push(format!("item {}: {err}", index + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("nothing was sent; {}", problems.join("; ")),
        ));
    }
    if let Some(failure) = bad_names {
        return Err(failure);
    }
    // A folder made for the batch goes again, with the journal and lock
    // made in it, if the batch is refused before it sends anything.
    let mut created = match batch.pricing.quote {
        false => naming::writable(&batch.output, longest)?,
        true => naming::NewFolders::default(),
    };
    let resend = Resend::parse(batch.resend_uncertain.as_deref(), lines.len())?;

    let journal_path = batch
        .journal
        .clone()
        .unwrap_or_else(|| batch.output.join(journal::FILE_NAME));
    journal::not_the_input(&journal_path, &batch.file)?;
    if batch.pricing.quote {
        let quoting = quote(session, &lines, &batch, &resend, &journal_path);
        return signals
            .unless(1, quoting)
            .await
            .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))?;
    }
    let _folder_lock = {
        let (output, wait) = (batch.output.clone(), batch.wait);
        tokio::task::spawn_blocking(move || journal::lock_output(&output, wait))
            .await
            .expect("lock task")?
    };
    created.created(&batch.output.join(journal::FOLDER_LOCK));
    let (journal_file, states) = {
        let (path, print, count, wait) = (
            journal_path,
            fingerprint(&lines, &batch.options),
            lines.len(),
            batch.wait,
        );
        tokio::task::spawn_blocking(move || Journal::open(&path, &print, count, wait))
            .await
            .expect("journal task")?
    };
    created.created(journal_file.path());
    // Every image an item to be sent names, before anything is: a bad one
    // costs nothing (and its journal, which says nothing was sent, takes
    // the batch once the line is fixed).
    let unreadable = signals
        .unless(1, check_images(session, &lines, &batch, &states, &resend))
        .await
        .ok_or_else(|| Failure::new(INTERRUPTED, "interrupted before anything was sent"))??;
    if !unreadable.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("nothing was sent; {}", unreadable.join("; ")),
        ));
    }
    // Under a budget, every line priced before anything is sent.
    let (quotes, spending) = match batch.pricing.max_usd {
        Some(budget) => {
            let pricing = price_all(session, &lines, &batch, &states, &resend, budget);
            let (quotes, spending) = signals.unless(1, pricing).await.ok_or_else(|| {
                Failure::new(INTERRUPTED, "interrupted before anything was sent")
            })??;
            (quotes, Some(spending))
        }
        None => (HashMap::new(), None),
    };
    created.keep();
    sweep_own_leftovers(&batch.output, journal_file.tags());
    let tag = format!("b{:08x}", rand::random::<u32>());
    journal_file.record(&Entry::Run {
        tag: tag.clone(),
        provider: Some(session.provider.to_string()),
    })?;

    let progress = Arc::new(Mutex::new(Progress::new(lines.len(), batch.json)));
    let mut failures: Vec<Failure> = Vec::new();
    let mut states = states;
    let in_flight = InFlight::new(session.client.timeout());
    let ctx = Context {
        client: &session.client,
        journal: &journal_file,
        output: &batch.output,
        progress: &progress,
        signals: &signals,
        in_flight: &in_flight,
        tag: &tag,
        quotes: &quotes,
        spending: spending.as_ref(),
    };
    // Each item's outcome is taken as it ends, not kept for all of them:
    // what a batch holds does not grow with its items beyond their state
    // (the records only when --json prints them).
    let mut records = Vec::new();
    let work = futures::stream::iter(lines.iter().enumerate())
        .map(|(index, line)| {
            let mut state = states.remove(&index).unwrap_or_default();
            if signals.count() > 0 {
                return Either::Left(std::future::ready(Ended::Interrupted));
            }
            // Checked above; made again here, as its turn comes.
            let item = match parse_item(index, line, &batch.options, session.provider) {
                Ok(item) => item,
                Err(err) => {
                    let failure = Failure::new(INVALID, format!("not sent: {err}"));
                    return Either::Left(std::future::ready(ctx.refuse(index, failure)));
                }
            };
            match decide(
                &item,
                &mut state,
                session.provider,
                &resend,
                batch.switch_provider,
            ) {
                Decision::Done => {
                    progress.lock().expect("progress").skip(1);
                    Either::Left(std::future::ready(Ended::Skipped))
                }
                Decision::Refuse(failure) => {
                    Either::Left(std::future::ready(ctx.refuse(index, failure)))
                }
                Decision::Run => Either::Right(ctx.item(item, state)),
            }
        })
        .buffer_unordered(batch.concurrency.max(1))
        .for_each(|ended| {
            match ended {
                Ended::Saved(saved) if batch.json => records.extend(saved),
                Ended::Saved(_) | Ended::Interrupted | Ended::Skipped => {}
                Ended::Failed(failure) => failures.push(failure),
            }
            std::future::ready(())
        });
    // The first interrupt stops sending, a second says what is still
    // awaited, a third abandons it.
    let abandon = async {
        signals.reached(1).await;
        tell(
            "stopping: no new requests are sent; paid requests in flight finish into the journal \
             (Ctrl-C again lists them, a third time abandons them)",
        );
        signals.reached(2).await;
        in_flight.report();
        signals.reached(3).await;
    };
    tokio::select! {
        () = work => {}
        () = abandon => {
            let items = in_flight.abandon(&journal_file);
            progress.lock().expect("progress").close();
            return Err(Failure::new(
                INTERRUPTED,
                format!(
                    "abandoned the answers to {} (they may have been billed; not sent again unless you pass --resend-uncertain)",
                    list_items(&items)
                ),
            ));
        }
    }

    // The entries appended without waiting (Saved) go to disk now.
    if let Err(failure) = journal_file.sync().await {
        tell(&format!("warning: {}", failure.message));
    }
    let progress = progress.lock().expect("progress");
    progress.close();
    let (done, failed) = progress.counts();
    if signals.count() > 0 {
        return Err(Failure::new(
            INTERRUPTED,
            format!("interrupted with {done} of {} items done", lines.len()),
        )
        .hint(
            "run the same command again to resume; what was paid for is fetched, not sent again",
        ));
    }
    if batch.json {
        output::say(&output::json_text(&Value::from(records)));
    }
    tell(&format!(
        "{done} done, {failed} failed; journal: {}",
        journal_file.path().display()
    ));
    let Some(gravest) = failures.into_iter().reduce(Failure::graver) else {
        return Ok(());
    };
    Err(Failure::new(
        gravest.code,
        format!("{failed} of {} items failed", done + failed),
    )
    .hint(match gravest.code {
        NOT_SAVED => "run the same command again to fetch what was paid for; nothing is sent again",
        _ => "run the same command again to retry them; nothing already paid for is sent again",
    }))
}

/// Item `index` of the batch, from its line: parsed and checked for
/// `provider`.
fn parse_item(
    index: usize,
    line: &str,
    options: &Options,
    provider: Provider,
) -> Result<Item, ideogram::InvalidInput> {
    let (named, work) = request::batch_work(line, options)?;
    work.check(provider)?;
    Ok(Item {
        index,
        asked: work.asked(named, provider),
        work,
    })
}

/// The batch file's items: at most 64 MiB of a regular file, a UTF-8
/// byte-order mark dropped, blank and `#` lines skipped, `\#` for a
/// prompt that starts with `#`.
fn read_items(path: &Path) -> Result<Vec<String>, Failure> {
    use std::io::Read as _;
    let file = crate::connect::open_regular(path, INVALID)?;
    let cannot = |e| Failure::io(format!("cannot read {}", path.display()), e);
    let mut bytes = Vec::new();
    file.take(MAX_BATCH_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_BATCH_FILE {
        return Err(Failure::new(
            INVALID,
            format!(
                "{} is larger than {} MiB",
                path.display(),
                MAX_BATCH_FILE >> 20
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::new(
            INVALID,
            format!("{} is not UTF-8 text: {e}", path.display()),
        )
    })?;
    // Lines end in LF, CR LF or a lone CR.
    let lines: Vec<String> = text
        .strip_prefix('\u{feff}')
        .unwrap_or(&text)
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix("\\#") {
            Some(rest) => format!("#{rest}"),
            None => l.to_owned(),
        })
        .collect();
    if lines.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("{} holds no prompts", path.display()),
        ));
    }
    Ok(lines)
}

/// Which uncertain items `--resend-uncertain` names.
enum Resend {
    None,
    All,
    Items(HashSet<usize>),
}

impl Resend {
    fn parse(text: Option<&str>, count: usize) -> Result<Self, Failure> {
        let Some(text) = text else {
            return Ok(Self::None);
        };
        if text.trim() == "all" {
            return Ok(Self::All);
        }
        let mut items = HashSet::new();
        for part in text.split(',') {
            let n: usize = part.trim().parse().map_err(|_| {
                Failure::new(
                    INVALID,
                    format!("invalid --resend-uncertain: {part:?} is not an item number"),
                )
            })?;
            if n == 0 || n > count {
                return Err(Failure::new(
                    INVALID,
                    format!("invalid --resend-uncertain: items are numbered 1 to {count}, not {n}"),
                ));
            }
            items.insert(n - 1);
        }
        Ok(Self::Items(items))
    }

    fn allows(&self, index: usize) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Items(items) => items.contains(&index),
        }
    }
}

enum Decision {
    Done,
    Run,
    Refuse(Failure),
}

/// What to do with an item, from what the journal says of it; an uncertain
/// item `resend` names loses what the earlier run left to fetch.
fn decide(
    item: &Item,
    state: &mut ItemState,
    provider: Provider,
    resend: &Resend,
    switch_provider: bool,
) -> Decision {
    let number = item.index + 1;
    if state.uncertain() && resend.allows(item.index) {
        // Asked to pay again: whatever the earlier run left to fetch (an
        // expired id, say) is given up.
        state.request_id = None;
        state.images = None;
    }
    if state
        .saved
        .as_ref()
        .is_some_and(|paths| paths.iter().all(|p| p.exists()))
    {
        return Decision::Done;
    }
    let other = state
        .provider
        .as_deref()
        .filter(|p| *p != provider.to_string());
    // URLs are fetched from anywhere; a queue id or an unanswered request
    // belongs to the provider it went to.
    if let Some(other) = other
        && state.images.is_none()
        && (state.request_id.is_some() || state.uncertain())
        && !switch_provider
    {
        return Decision::Refuse(Failure::new(
            INVALID,
            format!(
                "not sent again: an earlier run sent it to {other} (run with --provider {other} to fetch it, \
                 or --switch-provider to send it with {provider}, which may pay twice)"
            ),
        ));
    }
    if other.is_some() && switch_provider && state.images.is_none() {
        // The other provider's job id is not this one's to poll.
        state.request_id = None;
    }
    if state.uncertain() && !resend.allows(item.index) && !(other.is_some() && switch_provider) {
        let why = if state.expired {
            "its queued result expired after an earlier run paid for it"
        } else {
            "an earlier run sent it and may have been billed without getting an answer"
        };
        return Decision::Refuse(
            Failure::new(crate::failure::FAILED, format!("not sent again: {why}"))
                .hint(format!("--resend-uncertain={number} sends it anyway")),
        );
    }
    Decision::Run
}

/// Whether running an item in `state` sends a request (instead of fetching
/// what the journal holds: its images' URLs, its job id, or the answer of
/// a describe).
fn sends(state: &ItemState) -> bool {
    state.images.is_none() && state.request_id.is_none() && state.answer.is_none()
}

/// Every image, mask and reference of every item this run will send, each
/// checked as it will be sent (by the library's own preparation, which
/// reads a file, refusing a FIFO or a device; fetches a URL within the
/// download cap and timeouts; and checks type, size and, for an edit, the
/// mask against the image): the items that fail, each with why. Items
/// done, or whose paid result the journal holds, send nothing and are not
/// checked.
///
/// One item at a time, its images dropped once checked: memory holds one
/// item's images, not the batch's. A URL is not kept either: it is fetched
/// again when its item is sent (a temporary copy would be one more file to
/// own and clean up, and Segmind fetches its URLs itself anyway), so a
/// URL that changes in between refuses only its own item then.
async fn check_images(
    session: &Session,
    lines: &[String],
    batch: &Batch,
    states: &HashMap<usize, ItemState>,
    resend: &Resend,
) -> Result<Vec<String>, Failure> {
    let provider = session.provider;
    let mut problems = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        // Every line parsed above: one that does not now is not sent.
        let Ok(item) = parse_item(index, line, &batch.options, provider) else {
            continue;
        };
        if !item.work.reads_images() {
            continue;
        }
        let mut state = states.get(&index).cloned().unwrap_or_default();
        let runs = matches!(
            decide(&item, &mut state, provider, resend, batch.switch_provider),
            Decision::Run
        );
        if !runs || !sends(&state) {
            continue;
        }
        match item.work.check_images(&session.client).await {
            Ok(()) => {}
            Err(Error::Validation(invalid)) => {
                problems.push(format!("item {}: {invalid}", index + 1));
            }
            Err(other) => return Err(Failure::from_error(other, provider)),
        }
    }
    Ok(problems)
}

/// `batch --quote`: what a run would cost, printed, with nothing sent and
/// nothing written. The journal, if there is one, is read (not locked,
/// not written) for what earlier runs did; each line a run would send is
/// checked and priced as [`price_all`] prices it.
async fn quote(
    session: &Session,
    lines: &[String],
    batch: &Batch,
    resend: &Resend,
    journal_path: &Path,
) -> Result<(), Failure> {
    let print = fingerprint(lines, &batch.options);
    // Not priced as though nothing had been sent: a run refuses it too.
    if let Ok(meta) = std::fs::metadata(journal_path)
        && meta.len() > journal::MAX_JOURNAL
    {
        return Err(journal::too_large(journal_path, meta.len()));
    }
    let states = Journal::peek(journal_path, &print).unwrap_or_default();
    let unreadable = check_images(session, lines, batch, &states, resend).await?;
    if !unreadable.is_empty() {
        return Err(Failure::new(
            INVALID,
            format!("nothing was sent; {}", unreadable.join("; ")),
        ));
    }
    let priced = price_lines(session, lines, batch, &states, resend).await?;
    if !priced.unpriced.is_empty() {
        return Err(crate::budget::batch_unpriced(&priced.unpriced));
    }
    let sending = priced
        .to_send
        .iter()
        .map(|(index, _)| (*index, &priced.quotes[index]))
        .collect();
    let earlier = priced.spent.values().sum();
    let asked = (batch.pricing.max_usd, batch.json);
    crate::budget::batch_quoted(sending, earlier, asked)
}

/// A batch's lines priced ([`price_lines`]).
struct Priced {
    /// Each line priced, by index.
    quotes: HashMap<usize, ideogram::Quote>,
    /// Each line to send, with the most it can cost.
    to_send: Vec<(usize, u64)>,
    /// What earlier runs spent per item (an item with no cost recorded at
    /// the most its quote allows).
    spent: HashMap<usize, u64>,
    /// Each line to send that has no known price: `item N: why`.
    unpriced: Vec<String>,
}

/// Every line this run may send, and every line an earlier run may have
/// paid for without recording its cost, priced (at most `--concurrency`
/// at once; a dry run is free, the spec's price sends nothing); and the
/// budget's account, holding what the journal says earlier runs spent (an
/// item with no cost recorded at the most its quote allows). Refused,
/// nothing sent, when that plus the most the lines to send can cost passes
/// `budget`, or when a line to send has no known price.
async fn price_all(
    session: &Session,
    lines: &[String],
    batch: &Batch,
    states: &HashMap<usize, ItemState>,
    resend: &Resend,
    budget: u64,
) -> Result<(HashMap<usize, ideogram::Quote>, crate::budget::Spending), Failure> {
    let priced = price_lines(session, lines, batch, states, resend).await?;
    if !priced.unpriced.is_empty() {
        return Err(crate::budget::unpriced(&priced.unpriced.join("; ")));
    }
    let earlier: u64 = priced.spent.values().sum();
    crate::budget::batch_within(earlier, priced.to_send, budget)?;
    let spending = crate::budget::Spending::new(budget, priced.spent);
    Ok((priced.quotes, spending))
}

/// Every line this run may send, and every line an earlier run may have
/// paid for without recording its cost, priced (at most `--concurrency`
/// at once; a dry run is free, the spec's price sends nothing), with what
/// the journal says earlier runs spent.
async fn price_lines(
    session: &Session,
    lines: &[String],
    batch: &Batch,
    states: &HashMap<usize, ItemState>,
    resend: &Resend,
) -> Result<Priced, Failure> {
    let provider = session.provider;
    let client = &session.client;
    let pricing = lines.iter().enumerate().map(|(index, line)| async move {
        let item = parse_item(index, line, &batch.options, provider).ok()?;
        let mut state = states.get(&index).cloned().unwrap_or_default();
        let decision = decide(&item, &mut state, provider, resend, batch.switch_provider);
        let sends = matches!(decision, Decision::Run) && sends(&state);
        let unrecorded = state.cost.is_none() && state.may_be_billed();
        if !sends && !unrecorded {
            return None;
        }
        Some((index, sends, item.work.quote(client).await))
    });
    let priced: Vec<_> = futures::stream::iter(pricing)
        .buffer_unordered(batch.concurrency.max(1))
        .filter_map(std::future::ready)
        .collect()
        .await;
    let mut quotes = HashMap::new();
    let mut unpriced = Vec::new();
    let mut to_send = Vec::new();
    for (index, sends, quote) in priced {
        match quote {
            Ok(quote) => {
                if sends {
                    to_send.push((index, quote.most_usd_micros()));
                }
                quotes.insert(index, quote);
            }
            Err(Error::Validation(why)) => unpriced.push((index, why.to_string())),
            Err(other) => return Err(Failure::from_error(other, provider)),
        }
    }
    unpriced.sort_unstable();
    let unpriced: Vec<String> = unpriced
        .iter()
        .map(|(index, why)| format!("item {}: {why}", index + 1))
        .collect();
    let mut spent = HashMap::new();
    for (index, state) in states {
        let most = quotes.get(index).map(ideogram::Quote::most_usd_micros);
        match (&state.cost, most) {
            // A range counts at its top (what was billed within it is not
            // known); a price nothing knew, at the line's quote.
            (Some(cost), _) => {
                let counted = cost.most().or(most).unwrap_or(cost.usd_micros);
                spent.insert(*index, counted);
            }
            (None, Some(most)) if state.may_be_billed() => {
                spent.insert(*index, most);
            }
            _ => {}
        }
    }
    Ok(Priced {
        quotes,
        to_send,
        spent,
        unpriced,
    })
}

/// Where an item's images go: `NNNN-slug` in the output folder; a
/// describe's words go to `NNNN-slug.txt`, without a sidecar.
fn plan_for(output: &Path, item: &Item) -> Plan {
    let text = matches!(item.work, Work::Describe(_));
    Plan {
        dir: output.to_path_buf(),
        stem: format!("{:04}-{}", item.index + 1, naming::slug(&item.asked.prompt)),
        ext: text.then(|| "txt".to_owned()),
        numbered: false,
        sidecars: !text,
    }
}

/// Removes what earlier runs of this batch (their tags are in the journal)
/// left half-written when they were killed: only files this tool created,
/// named `.<name>.<tag>-<random>.part`.
pub(crate) fn sweep_own_leftovers(dir: &Path, tags: &[String]) {
    if tags.is_empty() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with('.')
            && name.ends_with(".part")
            && tags.iter().any(|tag| name.contains(&format!(".{tag}-")));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Requests sent and not yet answered, for the second and third interrupt,
/// and how long one may take.
struct InFlight(Mutex<HashMap<usize, Instant>>, Duration);

impl InFlight {
    fn new(timeout: Duration) -> Self {
        Self(Mutex::default(), timeout)
    }

    fn start(&self, index: usize) {
        self.0
            .lock()
            .expect("in flight")
            .insert(index, Instant::now());
    }

    fn end(&self, index: usize) {
        self.0.lock().expect("in flight").remove(&index);
    }

    /// Prints what is awaited and how long at most.
    fn report(&self) {
        let waiting = self.0.lock().expect("in flight").clone();
        if waiting.is_empty() {
            tell("stopping: no paid request is waiting for its answer");
            return;
        }
        let mut items: Vec<_> = waiting.into_iter().collect();
        items.sort();
        let timeout = self.1;
        let lines: Vec<String> = items
            .iter()
            .map(|(index, since)| {
                let left = timeout.saturating_sub(since.elapsed());
                format!("item {} (at most {} s more)", index + 1, left.as_secs())
            })
            .collect();
        tell(&format!(
            "stopping: waiting for the answers to {} paid request(s) so none is lost: {}; Ctrl-C again abandons them",
            lines.len(),
            lines.join(", ")
        ));
    }

    /// Marks every awaited item abandoned in the journal; returns them.
    fn abandon(&self, journal: &Journal) -> Vec<usize> {
        let mut items: Vec<usize> = self.0.lock().expect("in flight").keys().copied().collect();
        items.sort_unstable();
        for item in &items {
            let _ = journal.record(&Entry::Abandoned { item: *item });
        }
        items
    }
}

fn list_items(items: &[usize]) -> String {
    let numbers: Vec<String> = items.iter().map(|i| (i + 1).to_string()).collect();
    match numbers.len() {
        0 => "no request".to_owned(),
        1 => format!("item {}", numbers[0]),
        _ => format!("items {}", numbers.join(", ")),
    }
}

struct Context<'a> {
    client: &'a Client,
    journal: &'a Journal,
    output: &'a Path,
    progress: &'a Arc<Mutex<Progress>>,
    signals: &'a Signals,
    in_flight: &'a InFlight,
    tag: &'a str,
    /// Each line's price, taken before the run under a budget.
    quotes: &'a HashMap<usize, ideogram::Quote>,
    /// The account under `--max-usd`.
    spending: Option<&'a crate::budget::Spending>,
}

/// How one item ended.
enum Ended {
    Saved(Vec<Value>),
    Failed(Failure),
    Interrupted,
    /// Done by an earlier run.
    Skipped,
}

/// How producing an item stopped short.
enum Stopped {
    Interrupted,
    Failed {
        failure: Failure,
        maybe_billed: bool,
        expired: bool,
    },
}

impl Stopped {
    fn from_error(err: Error, provider: Provider) -> Self {
        Self::Failed {
            maybe_billed: !err.certainly_not_billed(),
            expired: matches!(err.root(), Error::Expired { .. }),
            failure: Failure::from_error(err, provider),
        }
    }

    /// A failure after the generation was paid for.
    fn billed(failure: Failure) -> Self {
        Self::Failed {
            failure,
            maybe_billed: true,
            expired: false,
        }
    }
}

impl Context<'_> {
    /// An item not sent, and why.
    fn refuse(&self, index: usize, failure: Failure) -> Ended {
        self.progress
            .lock()
            .expect("progress")
            .finish(false, &format!("item {}: {failure}", index + 1));
        Ended::Failed(failure)
    }

    /// Runs one item to its images on disk.
    async fn item(&self, item: Item, state: ItemState) -> Ended {
        if self.signals.count() > 0 {
            return Ended::Interrupted;
        }
        self.progress.lock().expect("progress").start();
        let result = self.produce(&item, state).await;
        if let Err(Stopped::Failed {
            failure,
            maybe_billed,
            expired,
        }) = &result
        {
            if let Some(spending) = self.spending.filter(|_| !*maybe_billed) {
                spending.release(item.index);
            }
            let _ = self
                .journal
                .commit(&Entry::Failed {
                    item: item.index,
                    error: failure.message.clone(),
                    maybe_billed: *maybe_billed,
                    expired: *expired,
                })
                .await;
        }
        let mut progress = self.progress.lock().expect("progress");
        match result {
            Ok(records) => {
                let line = records
                    .iter()
                    .map(output::describe)
                    .collect::<Vec<_>>()
                    .join("\n");
                progress.finish(true, &line);
                Ended::Saved(records)
            }
            Err(Stopped::Interrupted) => {
                progress.interrupted();
                Ended::Interrupted
            }
            Err(Stopped::Failed { failure, .. }) => {
                progress.finish(false, &format!("item {}: {failure}", item.index + 1));
                Ended::Failed(failure)
            }
        }
    }

    /// Journals `entry` about a paid item; when the journal cannot be
    /// written (a full disk), the failure carries `fetch`: what the user
    /// needs to get what was paid for.
    async fn record_paid(
        &self,
        entry: &Entry,
        fetch: impl FnOnce() -> String,
    ) -> Result<(), Stopped> {
        self.journal.commit(entry).await.map_err(|failure| {
            Stopped::billed(Failure::new(
                NOT_SAVED,
                format!("{}; it was billed: {}", failure.message, fetch()),
            ))
        })
    }

    async fn produce(&self, item: &Item, state: ItemState) -> Result<Vec<Value>, Stopped> {
        match &item.work {
            Work::Describe(request) => return self.describe(item, request, state).await,
            Work::Layerize(request) if sends(&state) => {
                return self.layerize(item, request, state).await;
            }
            _ => {}
        }
        let provider = self.client.provider();
        let lib = |e: Error| Stopped::from_error(e, provider);
        let mut quote = self.quotes.get(&item.index).cloned();
        let mut generation = match (provider, state.request_id.clone(), state.images.clone()) {
            (_, _, Some(images)) => {
                let generation = journal::restore(self.client, item.work.model(), images);
                if state.cost.is_none() {
                    // Killed between its URLs and its cost: the quote.
                    if quote.is_none() {
                        quote = self.estimate(item).await;
                    }
                    self.costed(item, &generation, quote.as_ref())?;
                }
                generation
            }
            (_, Some(id), _) => {
                if let Some(note) = crate::queued::expiry_note(provider, &id, state.submitted_at) {
                    tell(&format!("{note} (item {})", item.index + 1));
                }
                let generation = self.wait(self.client.job(id).wait()).await?;
                if quote.is_none() && generation.usage_cost_usd_micros.is_none() {
                    quote = self.estimate(item).await;
                }
                self.generated(item, &generation, quote.as_ref())?;
                generation
            }
            (_, None, _) => {
                let (prepared, room) = self.prepared(item).await?;
                if quote.is_none() {
                    quote = prepared.estimate().ok();
                }
                // Segmind's queue, and Ideogram's v2 calls that answer a
                // generation id: the id is journaled before the wait.
                if prepared.queued() {
                    // Not interruptible: the id must reach the journal once sent.
                    let job = prepared.submit().await;
                    self.in_flight.end(item.index);
                    let job = job.map_err(lib)?;
                    let id = job.id().to_owned();
                    let fetch = || match provider {
                        Provider::Segmind => format!(
                            "fetch it with `ideogram --provider segmind job wait {id}` (within an hour)"
                        ),
                        _ => {
                            format!("fetch it with `ideogram --provider {provider} job wait {id}`")
                        }
                    };
                    let submitted = Entry::Submitted {
                        item: item.index,
                        request_id: id.clone(),
                        model: None,
                        prompt: None,
                        at: Some(crate::clock::now()),
                    };
                    self.record_paid(&submitted, fetch).await?;
                    let generation = self.wait(job.wait()).await;
                    // The room reserved for its images, given back to save them.
                    room.release();
                    let generation = generation?;
                    self.generated(item, &generation, quote.as_ref())?;
                    generation
                } else {
                    // Not interruptible: the URLs must reach the journal once paid for.
                    let generation = prepared.generate().await;
                    self.in_flight.end(item.index);
                    // The room reserved for its images, given back to save them.
                    room.release();
                    let generation = match generation {
                        Ok(generation) => generation,
                        Err(err) => return Err(self.undecoded(item, err, quote.as_ref())),
                    };
                    self.generated(item, &generation, quote.as_ref())?;
                    generation
                }
            }
        };
        // A job resumed by id alone does not know its model; this item does.
        generation.model = item.work.model();
        let cost =
            (state.cost.clone()).or_else(|| crate::cost::Cost::of(&generation, quote.as_ref()));
        let records = self.save(item, &state, &generation, cost.as_ref()).await?;
        // A layerize resumed from its URLs: its text blocks, journaled.
        Ok(match (&item.work, state.answer) {
            (Work::Layerize(_), Some(blocks)) => with_blocks(records, blocks),
            _ => records,
        })
    }

    /// A layerize-text item sent: its layers' images journaled (with the
    /// text blocks) before they are downloaded, then saved as a
    /// generation's are. A rerun after a kill fetches them from the
    /// journal ([`Context::produce`]), sending nothing.
    async fn layerize(
        &self,
        item: &Item,
        request: &ideogram::LayerizeRequest,
        state: ItemState,
    ) -> Result<Vec<Value>, Stopped> {
        let mut quote = self.quotes.get(&item.index).cloned();
        if quote.is_none() {
            quote = self.estimate(item).await;
        }
        let room = self.sending(item).await?;
        // Not interruptible: the URLs must reach the journal once paid for.
        let layers = self.client.layerize(request).await;
        self.in_flight.end(item.index);
        room.release();
        let layers = match layers {
            Ok(layers) => layers,
            Err(err) => return Err(self.undecoded(item, err, quote.as_ref())),
        };
        let images = std::iter::once(layers.base).chain(layers.design).collect();
        let generation = Generation::new(self.client.provider(), item.work.model(), images);
        // The URLs first: whatever a kill leaves, a rerun fetches them.
        self.generated(item, &generation, quote.as_ref())?;
        let blocks = serde_json::to_value(&layers.blocks).unwrap_or_default();
        // Synced with the Generated entry, by the Saving entry's commit.
        let answered = Entry::Answered {
            item: item.index,
            answer: blocks.clone(),
        };
        if let Err(failure) = self.journal.append(&answered) {
            // The URLs are journaled: a rerun fetches them; the blocks are lost.
            tell(&format!(
                "warning: item {}: its text blocks: {}",
                item.index + 1,
                failure.message
            ));
        }
        let cost = crate::cost::Cost::of(&generation, quote.as_ref());
        let records = self.save(item, &state, &generation, cost.as_ref()).await?;
        Ok(with_blocks(records, blocks))
    }

    /// A describe item: sent unless the journal holds its answer, the
    /// answer journaled before anything is written, then its words saved
    /// to a text file of its own (never over another's).
    async fn describe(
        &self,
        item: &Item,
        request: &ideogram::DescribeRequest,
        state: ItemState,
    ) -> Result<Vec<Value>, Stopped> {
        let provider = self.client.provider();
        let mut quote = self.quotes.get(&item.index).cloned();
        let unpaid = Generation::new(provider, item.work.model(), Vec::new());
        let texts: Vec<String> = match &state.answer {
            Some(answer) => {
                if state.cost.is_none() {
                    // Killed between its answer and its cost: the quote.
                    if quote.is_none() {
                        quote = self.estimate(item).await;
                    }
                    self.costed(item, &unpaid, quote.as_ref())?;
                }
                serde_json::from_value(answer.clone()).unwrap_or_default()
            }
            None => {
                if quote.is_none() {
                    quote = self.estimate(item).await;
                }
                let room = self.sending(item).await?;
                // Not interruptible: the answer must reach the journal once paid for.
                let texts = self.client.describe_request(request).await;
                self.in_flight.end(item.index);
                room.release();
                let texts = texts.map_err(|e| Stopped::from_error(e, provider))?;
                let answered = Entry::Answered {
                    item: item.index,
                    answer: serde_json::json!(texts),
                };
                self.record_paid(&answered, || said(&texts)).await?;
                self.costed(item, &unpaid, quote.as_ref())?;
                texts
            }
        };
        let cost = (state.cost.clone()).or_else(|| crate::cost::Cost::of(&unpaid, quote.as_ref()));
        self.save_text(item, &state, &texts, cost.as_ref()).await
    }

    /// Writes a describe's words, one description a line, to the item's
    /// text file: a name no file but this batch's own holds, journaled
    /// before the file is created.
    async fn save_text(
        &self,
        item: &Item,
        state: &ItemState,
        texts: &[String],
        cost: Option<&crate::cost::Cost>,
    ) -> Result<Vec<Value>, Stopped> {
        let plan = plan_for(self.output, item);
        let reserved = &state.reserved;
        let ours = |path: &Path| reserved.iter().any(|stem| same_stem(stem, path));
        let stem = plan.stems(1, false, &ours).remove(0);
        let path = stem.image;
        let saving = Entry::Saving {
            item: item.index,
            stems: vec![self.journal.relative(&absolute(&path.with_extension("")))],
        };
        self.record_paid(&saving, || said(texts)).await?;
        // What an earlier run of this batch left there is ours to replace.
        if ours(&path) && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&path);
        }
        let mut text = texts.join("\n");
        text.push('\n');
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| {
                std::io::Write::write_all(&mut file, crate::redact::text(&text).as_bytes())?;
                file.sync_all()
            });
        if let Err(e) = written {
            return Err(Stopped::billed(Failure::new(
                NOT_SAVED,
                format!(
                    "cannot write {}: {e}; it was billed: {}",
                    path.display(),
                    said(texts)
                ),
            )));
        }
        let relative = self.journal.relative(&absolute(&path));
        if let Err(failure) = self.journal.append(&Entry::Saved {
            item: item.index,
            paths: vec![relative],
        }) {
            // The words are on disk; a rerun only checks them again.
            tell(&format!(
                "warning: item {}: {}",
                item.index + 1,
                failure.message
            ));
        }
        let mut record = serde_json::json!({
            "path": path.display().to_string(),
            "descriptions": texts,
            "provider": self.client.provider().to_string(),
            "model": item.work.model().to_string(),
        });
        if let Some(cost) = cost {
            record["cost"] = serde_json::to_value(cost).unwrap_or_default();
        }
        Ok(vec![record])
    }

    /// Waits for `work` unless the run is interrupted first.
    async fn wait<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Stopped> {
        let provider = self.client.provider();
        match self.signals.unless(1, work).await {
            Some(result) => result.map_err(|e| Stopped::from_error(e, provider)),
            None => Err(Stopped::Interrupted),
        }
    }

    /// The item checked and holding its in-flight slot (interruptible:
    /// nothing has been sent), then journaled as sending, with the room
    /// reserved for its images (held until they are about to be saved).
    async fn prepared<'a>(
        &'a self,
        item: &'a Item,
    ) -> Result<(ideogram::Prepared<'a>, crate::room::Reservation), Stopped> {
        let prepared = self.wait(item.work.prepare(self.client)).await?;
        let room = self.sending(item).await?;
        Ok((prepared, room))
    }

    /// Reserves room for the item's images and journals that its bytes are
    /// about to leave.
    async fn sending(&self, item: &Item) -> Result<crate::room::Reservation, Stopped> {
        // Within the budget, or it is not sent.
        if let Some(spending) = self.spending {
            let most = self
                .quotes
                .get(&item.index)
                .map(ideogram::Quote::most_usd_micros);
            let charged = match most {
                Some(most) => spending.charge(item.index, most),
                None => Err(crate::budget::unpriced("not priced before the run")),
            };
            charged.map_err(|failure| Stopped::Failed {
                failure,
                maybe_billed: false,
                expired: false,
            })?;
        }
        // Room for this item's images, or it is not sent.
        let room = crate::room::reserve(self.output, item.work.images()).map_err(|failure| {
            Stopped::Failed {
                failure,
                maybe_billed: false,
                expired: false,
            }
        })?;
        // In flight from the moment its sending line is written (before
        // the sync): an interrupt that finds the line lists the item too.
        self.in_flight.start(item.index);
        // Unjournaled, nothing is sent: the item is not billed.
        let committed = self
            .journal
            .commit(&Entry::Sending {
                item: item.index,
                provider: Some(self.client.provider().to_string()),
                key: None,
                // What `ideogram spend` counts it at until its outcome is
                // journaled (unpriced without a budget's quote).
                most_usd_micros: self
                    .quotes
                    .get(&item.index)
                    .map(ideogram::Quote::most_usd_micros),
            })
            .await;
        if let Err(failure) = committed {
            self.in_flight.end(item.index);
            return Err(Stopped::Failed {
                failure,
                maybe_billed: false,
                expired: false,
            });
        }
        Ok(room)
    }

    /// A sent item's failure. An answer that did not decode was billed:
    /// the URLs it held are journaled as the item's images (a rerun fetches
    /// them, sending nothing) and the failure lists their fetch commands.
    fn undecoded(&self, item: &Item, err: Error, quote: Option<&ideogram::Quote>) -> Stopped {
        let provider = self.client.provider();
        let prompt = &item.asked.prompt;
        let Some(generation) = paid::undecoded(self.client, &err, item.work.model(), prompt) else {
            return Stopped::from_error(err, provider);
        };
        if let Err(stopped) = self.generated(item, &generation, quote) {
            return stopped;
        }
        let plan = plan_for(self.output, item);
        Stopped::billed(Failure::new(
            NOT_SAVED,
            format!(
                "{err}; it was billed: {}",
                fetch_commands(&generation, &plan)
            ),
        ))
    }

    /// The spec's price of an item whose request this run did not
    /// prepare (resumed by its id or URLs), for its cost; nothing is sent.
    async fn estimate(&self, item: &Item) -> Option<ideogram::Quote> {
        item.work.estimate(self.client).await.ok()
    }

    /// Journals what a paid item cost (the service's figure, else
    /// `quote`), and settles it in the budget's account.
    fn costed(
        &self,
        item: &Item,
        generation: &Generation,
        quote: Option<&ideogram::Quote>,
    ) -> Result<(), Stopped> {
        // Paid at a price nothing knows (Ideogram's describe) is recorded
        // as such: spend then says "at least" instead of leaving it out.
        let mut cost = crate::cost::Cost::paid(generation, quote);
        // A job resumed by its id alone does not know its model; the item does.
        cost.model = Some(item.work.model().to_string());
        if let Some(spending) = self.spending {
            // A range settles at its top: what was billed within it is not known.
            spending.settle(item.index, cost.most().unwrap_or(cost.usd_micros));
        }
        let entry = Entry::Cost {
            item: item.index,
            cost,
        };
        // Synced with the entries that follow (the Saving entry's commit).
        self.journal.append(&entry).map_err(|failure| {
            let plan = plan_for(self.output, item);
            Stopped::billed(Failure::new(
                NOT_SAVED,
                format!(
                    "{}; it was billed: {}",
                    failure.message,
                    fetch_commands(generation, &plan)
                ),
            ))
        })
    }

    /// Journals a paid generation's URLs before anything is downloaded,
    /// and what it cost.
    fn generated(
        &self,
        item: &Item,
        generation: &Generation,
        quote: Option<&ideogram::Quote>,
    ) -> Result<(), Stopped> {
        // Segmind v1 bytes have no URL to journal; the queue's do.
        let Some(images) = JournalImage::of(generation) else {
            return self.costed(item, generation, quote);
        };
        // On disk before any download all the same: the Saving entry's
        // commit, which comes first, syncs it too (one sync for both).
        self.journal
            .append(&Entry::Generated {
                item: item.index,
                images,
            })
            .map_err(|failure| {
                let plan = plan_for(self.output, item);
                Stopped::billed(Failure::new(
                    NOT_SAVED,
                    format!(
                        "{}; it was billed: {}",
                        failure.message,
                        fetch_commands(generation, &plan)
                    ),
                ))
            })?;
        self.costed(item, generation, quote)
    }

    /// Saves the item's images under names of its own, never over a file
    /// this batch did not create.
    async fn save(
        &self,
        item: &Item,
        state: &ItemState,
        generation: &Generation,
        cost: Option<&crate::cost::Cost>,
    ) -> Result<Vec<Value>, Stopped> {
        let plan = plan_for(self.output, item);
        let reserved = &state.reserved;
        let ours = |path: &Path| reserved.iter().any(|stem| same_stem(stem, path));
        let stems = plan.stems(generation.images.len(), false, &ours);
        self.record_paid(
            &Entry::Saving {
                item: item.index,
                stems: stems
                    .iter()
                    .map(|s| {
                        self.journal
                            .relative(&absolute(&s.image.with_extension("")))
                    })
                    .collect(),
            },
            || fetch_commands(generation, &plan),
        )
        .await?;
        // What an earlier run of this batch left under these names is ours
        // to remove; a file anyone else puts there meanwhile is never
        // replaced (the save fails and says so).
        for stem in &stems {
            for path in naming::files_of_stem(&stem.image) {
                if ours(&path) && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let saving = Saving {
            asked: &item.asked,
            replace: false,
            temp_tag: Some(self.tag.to_owned()),
            started: SystemTime::now(),
            // The Generated entry, synced, holds the URLs.
            journaled: true,
            // The batch writes its folder alone; its stems are journaled.
            claimed: false,
            cost,
        };
        let Some((records, unsaved)) = self
            .signals
            .unless(1, paid::save_all(generation, &stems, &saving))
            .await
        else {
            return Err(Stopped::Interrupted);
        };
        if !unsaved.is_empty() {
            let mut lines = vec![format!(
                "{} of {} images billed but not saved:",
                unsaved.len(),
                generation.images.len()
            )];
            lines.extend(unsaved.iter().flat_map(paid::Unsaved::lines));
            return Err(Stopped::billed(Failure::new(NOT_SAVED, lines.join("\n"))));
        }
        let paths = records
            .iter()
            .filter_map(|r| r["path"].as_str())
            .map(|p| self.journal.relative(&absolute(Path::new(p))))
            .collect();
        // Not waited for: the next commit, or the end of the run, syncs it;
        // lost in a crash, the next run only downloads the image again.
        if let Err(failure) = self.journal.append(&Entry::Saved {
            item: item.index,
            paths,
        }) {
            // The images are on disk; a rerun only checks them again.
            tell(&format!(
                "warning: item {}: {}",
                item.index + 1,
                failure.message
            ));
        }
        Ok(records)
    }
}

/// A describe's words in a failure that lost them: what was paid for.
fn said(texts: &[String]) -> String {
    format!("its descriptions were: {}", texts.join(" | "))
}

/// A layerize's saved records, its text blocks beside the first (the base).
fn with_blocks(mut records: Vec<Value>, blocks: Value) -> Vec<Value> {
    if let Some(Value::Object(first)) = records.first_mut() {
        first.insert("text_blocks".to_owned(), blocks);
    }
    records
}

/// The commands that fetch a paid generation's images into `plan`'s names.
pub(crate) fn fetch_commands(generation: &Generation, plan: &Plan) -> String {
    let none = |_: &Path| false;
    let stems = plan.stems(generation.images.len(), false, &none);
    let commands: Vec<String> = generation
        .images
        .iter()
        .zip(&stems)
        .filter_map(|(image, stem)| match &image.data {
            ImageData::Url(url) => Some(output::fetch_command(url, &stem.image)),
            _ => None,
        })
        .collect();
    format!("fetch its images with: {}", commands.join(" ; "))
}

/// `path` made absolute against the current directory.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path` is `stem` with any extension.
pub(crate) fn same_stem(stem: &Path, path: &Path) -> bool {
    absolute(&path.with_extension("")) == absolute(stem)
}

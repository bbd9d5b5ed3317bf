//! Instruction counts (callgrind): CPU-bound figures that are the same on
//! every run, where CPU time on a shared machine varies several-fold.
//!
//! Each figure is a worker process (this binary's `count-worker`) run under
//! `valgrind --tool=callgrind` twice, with [`FEW`] and [`MANY`] calls after
//! the same warm-up; the difference over the extra calls is the steady cost
//! of one call, start-up and warm-up cancelling out. The mock runs in its
//! own process, outside the count.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use ideogram::{Client, EditRequest, GenerateRequest, ImageInput, Model, Provider};

use crate::overhead::{ExternalMock, Floor, capture};

/// Calls in the short run...
const FEW: usize = 10;
/// ...and in the long one on the current-thread runtime (the same count on
/// every run: one pair is enough)...
const MANY: usize = 110;
/// ...and on the multi-thread runtime, where a few polls more or less a
/// run follow the mock's real timing: over 1,000 calls that averages out.
const MANY_MULTI: usize = 1010;
/// ...but for a queued job, which sleeps until its first planned poll
/// (about a second of real time a job): 30 extra jobs, as before, so that
/// its row stays indicative (its five runs take minutes, not hours).
const MANY_MULTI_JOBS: usize = 40;
/// Runs of each length on the multi-thread runtime, the median taken.
const MULTI_RUNS: usize = 5;
/// Calls before either run counts, so that connections are open and every
/// lazily built table is built.
const WARM_UP: usize = 5;

/// An operation measured against its floor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    /// Segmind's sync v1 generate (the image in the answer).
    SyncV1,
    /// Ideogram 3.0 generate on Ideogram's API (JSON body, URLs back).
    Generate3,
    /// Ideogram 3.0 edit: a multipart body with an image and a mask.
    Edit,
    /// A Segmind queued job (submit, status, result) polled with the
    /// client's default schedule.
    Queue,
}

impl Op {
    pub(crate) const ALL: [Op; 4] = [Op::SyncV1, Op::Generate3, Op::Edit, Op::Queue];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::SyncV1 => "sync",
            Op::Generate3 => "generate3",
            Op::Edit => "edit",
            Op::Queue => "queue",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Op::SyncV1 => "sync call (Segmind v1)",
            Op::Generate3 => "Ideogram 3.0 generate",
            Op::Edit => "multipart edit (Ideogram 3.0)",
            Op::Queue => "queued job, default schedule (submit, status, result)",
        }
    }

    fn parse(name: &str) -> Op {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .unwrap_or_else(|| panic!("no operation {name:?}"))
    }
}

/// Instructions per call of the client and of the floor for `op` on one
/// runtime, or why they could not be counted.
pub(crate) fn per_call(mock: &ExternalMock, op: Op, multi: bool) -> Result<(f64, f64), String> {
    // On the multi-thread runtime only the work is counted (see
    // `WORK_ONLY`); a few polls more or less still follow the mock's
    // timing, so each long run makes a thousand calls and each length's
    // median over five runs is taken. The per-call figure is the
    // difference of the two lengths over the extra calls, start-up and
    // warm-up cancelling out. A current-thread run counts everything and
    // is the same every time: one of each length is enough.
    let (runs, many) = match (multi, op) {
        (true, Op::Queue) => (MULTI_RUNS, MANY_MULTI_JOBS),
        (true, _) => (MULTI_RUNS, MANY_MULTI),
        (false, _) => (1, MANY),
    };
    // The client's and the floor's runs alternate, so that a change in the
    // machine's load during the measurement falls on both alike.
    let mut counts: [[Vec<u64>; 2]; 2] = Default::default();
    for _ in 0..runs {
        for (who, counts) in ["client", "floor"].into_iter().zip(&mut counts) {
            counts[0].push(count(mock, who, op, multi, FEW)?);
            counts[1].push(count(mock, who, op, multi, many)?);
        }
    }
    let per_call = |[few, lots]: &mut [Vec<u64>; 2]| {
        median(lots).saturating_sub(median(few)) as f64 / (many - FEW) as f64
    };
    let [client, floor] = &mut counts;
    Ok((per_call(client), per_call(floor)))
}

/// The middle of `counts` (an odd number of them).
fn median(counts: &mut [u64]) -> u64 {
    counts.sort_unstable();
    counts[counts.len() / 2]
}

/// The instructions a whole process of `program args` executes (the
/// loader's work included), with `env` set, in a scratch folder.
pub(crate) fn process(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<u64, String> {
    counted(program, args, env, &[])
}

/// [`process`], counting as `options` (callgrind's) say.
fn counted(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    options: &[&str],
) -> Result<u64, String> {
    let dir = std::env::temp_dir().join(format!("ideogram-bench-count-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = callgrind(&dir, program, args, env, options);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What a multi-thread run counts: the calling thread's `block_on` (the
/// call's future, every line of the client that runs there) and each task
/// a worker polls (the connection's), not the workers' idle loop between
/// them (parking, searching for work, the drivers' turns while idle). How
/// often a worker idles follows the mock's real timing, not the code:
/// counted whole, two runs of the same build moved 3 to 5 %, of the
/// client and the floor alike; counted so, within 1 %. Collection is per
/// thread, so the two never nest.
const WORK_ONLY: [&str; 3] = [
    "--collect-atstart=no",
    "--toggle-collect=*CachedParkThread::block_on*",
    "--toggle-collect=*multi_thread::worker::Context::run_task*",
];

/// One worker run under callgrind: its instructions in all (on the
/// multi-thread runtime, its work: [`WORK_ONLY`]).
fn count(mock: &ExternalMock, who: &str, op: Op, multi: bool, n: usize) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let runtime = if multi { "multi" } else { "current" };
    let n = n.to_string();
    let args = [
        "count-worker",
        who,
        op.name(),
        runtime,
        &n,
        &mock.api,
        &mock.key,
    ];
    counted(&exe, &args, &[], if multi { &WORK_ONLY } else { &[] })
}

fn callgrind(
    dir: &Path,
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    options: &[&str],
) -> Result<u64, String> {
    let out = dir.join("callgrind.out");
    let run = Command::new("valgrind")
        .arg("--tool=callgrind")
        .args(options)
        // Valgrind runs one thread at a time; with its default lock the
        // kernel picks which thread runs next. Round-robin hand-over takes
        // that choice away; what is left of a multi-thread run's spread is
        // the mock's real timing (see `per_call`).
        .arg("--fair-sched=yes")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run valgrind (bench/run installs it): {e}"))?;
    if !run.status.success() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!("{} {args:?} failed: {tail:?}", program.display()));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals in {}", out.display()))
}

/// `count-worker WHO OP RUNTIME N API KEY`: `WARM_UP` + `N` calls of `OP`
/// by `WHO` (`client` or `floor`) on a `current` or `multi` runtime.
pub(crate) fn worker(args: &[String]) {
    let [who, op, runtime, n, api, key] = args else {
        panic!("count-worker WHO OP RUNTIME N API KEY, not {args:?}");
    };
    let (op, n, floor) = (
        Op::parse(op),
        n.parse::<usize>().expect("a count"),
        who == "floor",
    );
    let (api, key, multi) = (api.clone(), key.clone(), runtime == "multi");
    // Its own thread: `main` already runs on a runtime.
    std::thread::spawn(move || {
        let runtime = crate::overhead::runtime(multi);
        runtime.block_on(async {
            let call = Call::new(op, &api, &key);
            if floor {
                let floor = call.floor(&api, &key).await;
                for _ in 0..WARM_UP + n {
                    floor.run(op).await;
                }
            } else {
                for _ in 0..WARM_UP + n {
                    call.run().await;
                }
            }
        });
    })
    .join()
    .expect("the worker runs");
}

/// What the client sends for one operation.
struct Call {
    op: Op,
    provider: Provider,
    client: Client,
    generate: Arc<GenerateRequest>,
    edit: Arc<EditRequest>,
}

impl Call {
    fn new(op: Op, api: &str, key: &str) -> Self {
        let provider = match op {
            Op::SyncV1 | Op::Queue => Provider::Segmind,
            Op::Generate3 | Op::Edit => Provider::Ideogram,
        };
        // A 64x64 image, and a black and white mask of it.
        let image = |palette: Vec<[u8; 3]>| {
            let spec = ideogram_mock::ImageSpec {
                width: 64,
                height: 64,
                seed: 1,
                palette,
                transparent: false,
            };
            ImageInput::bytes(spec.png())
        };
        let mut generate = GenerateRequest::new("overhead");
        if matches!(op, Op::Generate3) {
            generate = generate.model(Model::V3);
        }
        Self {
            op,
            provider,
            client: client(provider, api, key),
            generate: Arc::new(generate),
            edit: Arc::new(EditRequest::edit(
                image(Vec::new()),
                image(vec![[0, 0, 0], [255, 255, 255]]),
                "overhead",
            )),
        }
    }

    async fn run(&self) {
        match self.op {
            Op::SyncV1 | Op::Generate3 => {
                self.client
                    .generate(&self.generate)
                    .await
                    .expect("generate");
            }
            Op::Edit => {
                self.client.edit(&self.edit).await.expect("edit");
            }
            Op::Queue => {
                let job = self.client.submit(&self.generate).await.expect("submit");
                job.wait().await.expect("wait");
            }
        }
    }

    /// The floor: the client's own first request, captured off the wire,
    /// replayed with plain reqwest.
    async fn floor(&self, api: &str, key: &str) -> Floor {
        let captured = capture(|url| {
            let call = Call {
                op: self.op,
                provider: self.provider,
                client: client(self.provider, &url, key),
                generate: self.generate.clone(),
                edit: self.edit.clone(),
            };
            async move {
                let _ = match call.op {
                    Op::SyncV1 | Op::Generate3 => call.client.generate(&call.generate).await.err(),
                    Op::Edit => call.client.edit(&call.edit).await.err(),
                    Op::Queue => call.client.submit(&call.generate).await.err(),
                };
            }
        })
        .await;
        Floor::new(api, captured.clone(), captured)
    }
}

fn client(provider: Provider, api: &str, key: &str) -> Client {
    Client::builder(provider)
        .base_url(api)
        .api_key(key)
        // `generate` measures Segmind's sync v1 (the queue is timed by
        // its own op, through `submit`).
        .segmind_sync(true)
        .build()
        .expect("client")
}

impl Floor {
    /// One call of `op`, as plainly as reqwest allows.
    async fn run(&self, op: Op) {
        match op {
            Op::Queue => self.queue().await,
            _ => self.sync().await,
        }
    }
}

//! `--offline` runs the queue as a user types it: `job submit`, then
//! `job status` and `job wait` in processes of their own, each starting its
//! own mock, all answering from the jobs the offline mock keeps in its
//! folder (here a temporary one, through `IDEOGRAM_OFFLINE_JOBS`).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{code, run, stderr, stdout};

/// Where the offline mock keeps its jobs (see the README's offline section).
const JOBS: &str = "IDEOGRAM_OFFLINE_JOBS";

/// How long the test's job processes: long enough that a status asked
/// at once finds it queued or processing, short enough to wait for.
const PROCESSING_MS: u64 = 3000;

#[tokio::test]
async fn submit_status_and_wait_work_offline_from_separate_processes() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let env = [(JOBS, jobs.path().to_str().unwrap())];
    let prompt = format!("a lighthouse at dawn mock:ms={PROCESSING_MS}");

    let submitted_at = Instant::now();
    let out = run(&["job", "submit", &prompt, "--offline"], &env, dir.path()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    assert!(!id.is_empty(), "no id printed");
    // The hint is a command that works: offline, it says --offline.
    assert!(
        stderr(&out).contains(&format!("ideogram job wait {id} --offline")),
        "{}",
        stderr(&out)
    );

    let out = run(&["job", "status", &id, "--offline"], &env, dir.path()).await;
    let asked_within = submitted_at.elapsed();
    assert_eq!(code(&out), 0, "status: {}", stderr(&out));
    let line = stdout(&out);
    assert!(line.starts_with(&format!("{id} ")), "{line}");
    // Timed from the submit: still under way unless the machine was so slow
    // that the whole processing time passed before the status was asked.
    let status = line.trim().rsplit(' ').next().unwrap().to_owned();
    if asked_within < Duration::from_millis(PROCESSING_MS) {
        assert!(
            status == "QUEUED" || status == "PROCESSING",
            "{line} after {asked_within:?}"
        );
    } else {
        assert!(
            ["QUEUED", "PROCESSING", "COMPLETED"].contains(&status.as_str()),
            "{line}"
        );
    }

    let out = run(
        &["job", "wait", &id, "--offline", "-o", "out/"],
        &env,
        dir.path(),
    )
    .await;
    assert_eq!(code(&out), 0, "wait: {}", stderr(&out));
    assert!(
        submitted_at.elapsed() >= Duration::from_millis(PROCESSING_MS),
        "the job ended before its processing time"
    );
    let images: Vec<_> = common::walk(&dir.path().join("out"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    assert_real_image(&images[0]);

    // Every file in the jobs folder is the tool's own: one per job.
    for entry in std::fs::read_dir(jobs.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("seg-") && name.ends_with(".json"),
            "{name}"
        );
    }
}

/// The image at `path` is what its extension says: a PNG or a JPEG.
fn assert_real_image(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{path:?}"),
        Some("jpg") => assert!(bytes.starts_with(&[0xff, 0xd8, 0xff]), "{path:?}"),
        other => panic!("unexpected image type {other:?}: {path:?}"),
    }
    let (width, height) = common::dimensions(path);
    assert!(width > 0 && height > 0);
}

#[tokio::test]
async fn concurrent_offline_submits_get_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let folder = jobs.path().to_str().unwrap().to_owned();
    let runs: Vec<_> = (0..6)
        .map(|i| {
            let dir = dir.path().to_path_buf();
            let folder = folder.clone();
            tokio::spawn(async move {
                run(
                    &["job", "submit", &format!("fox {i}"), "--offline"],
                    &[(JOBS, &folder)],
                    &dir,
                )
                .await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for handle in runs {
        let out = handle.await.unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        ids.insert(stdout(&out).trim().to_owned());
    }
    assert_eq!(ids.len(), 6, "{ids:?}");
    // Each is known to a later process.
    for id in &ids {
        let out = run(
            &["job", "status", id, "--offline"],
            &[(JOBS, &folder)],
            dir.path(),
        )
        .await;
        assert_eq!(code(&out), 0, "{id}: {}", stderr(&out));
    }
    let kept = std::fs::read_dir(jobs.path()).unwrap().count();
    assert_eq!(kept, 6, "one file per job");
}

/// What each mock sharing a job folder does: the one that took the submit
/// bills it then (once, answered through the queue), another answers its
/// status and result and bills nothing, a FAILED end is kept as FAILED
/// and unbilled, and past the retention the job is gone and its file
/// removed.
#[tokio::test]
async fn a_kept_job_is_billed_at_its_submit_and_answered_by_another_mock() {
    use ideogram_mock::{Delivery, FAIL_TRIGGER, MockConfig};
    let jobs = tempfile::tempdir().unwrap();
    let config = MockConfig {
        job_folder: Some(jobs.path().to_path_buf()),
        ..MockConfig::default()
    };
    let submitter = common::mock(config.clone()).await;
    let other = common::mock(config.clone()).await;
    let client = |mock: &ideogram_mock::MockServer| {
        ideogram::Client::builder(ideogram::Provider::Segmind)
            .base_url(mock.api_url())
            .api_key(mock.api_key())
            .build()
            .unwrap()
    };
    let job = client(&submitter)
        .submit(&ideogram::GenerateRequest::new("a fox"))
        .await
        .unwrap();
    let failing = client(&submitter)
        .submit(&ideogram::GenerateRequest::new(format!(
            "{FAIL_TRIGGER} it"
        )))
        .await
        .unwrap();
    let billed = submitter.ledger().entries;
    assert_eq!(billed.len(), 1, "{billed:?}");
    assert_eq!(billed[0].id, job.id());
    assert_eq!(billed[0].delivery, Delivery::Queued);

    let waited = tokio::time::timeout(Duration::from_secs(30), client(&other).job(job.id()).wait())
        .await
        .expect("the job ends")
        .unwrap();
    assert_eq!(waited.images.len(), 1);
    let failed = tokio::time::timeout(
        Duration::from_secs(30),
        client(&other).job(failing.id()).wait(),
    )
    .await
    .expect("the job ends");
    assert!(
        matches!(failed, Err(ideogram::Error::JobFailed { .. })),
        "{failed:?}"
    );
    assert!(other.ledger().entries.is_empty(), "billed twice");

    let expired = common::mock(MockConfig {
        retention: Duration::ZERO,
        ..config
    })
    .await;
    let gone = client(&expired).job(job.id()).status().await;
    assert!(gone.is_err(), "{gone:?}");
    assert!(
        !jobs.path().join(format!("{}.json", job.id())).exists(),
        "an expired job's file is removed"
    );
}

/// Issue 29: an offline Ideogram v2 generation asked with `async` is kept
/// as Segmind's queued jobs are (the same folder), so `job status` and
/// `job wait` in later processes find it: billed once, by the process that
/// took the call, its image served by the one that waits. Each process's
/// ids are its own, so two submits never share one.
#[tokio::test]
async fn an_offline_v2_generation_is_waited_for_from_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = tempfile::tempdir().unwrap();
    let env = [(JOBS, jobs.path().to_str().unwrap())];
    let ideogram = ["--offline", "--provider", "ideogram"];
    let submit = |prompt: &'static str| {
        let args = [
            &["job", "submit", prompt][..],
            &ideogram,
            &["--model", "4.5"],
        ]
        .concat();
        let (env, dir) = (env, dir.path().to_path_buf());
        async move {
            let args: Vec<&str> = args.to_vec();
            let out = run(&args, &env, &dir).await;
            assert_eq!(code(&out), 0, "submit: {}", stderr(&out));
            stdout(&out).trim().to_owned()
        }
    };
    let id = submit("a lighthouse on v2").await;
    let other = submit("another lighthouse on v2").await;
    assert!(!id.is_empty() && id != other, "{id} {other}");

    let args = [&["job", "status", &id][..], &ideogram].concat();
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "status: {}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!("{id} ")),
        "{}",
        stdout(&out)
    );

    let args = [&["job", "wait", &id][..], &ideogram, &["-o", "out/"]].concat();
    let out = run(&args, &env, dir.path()).await;
    assert_eq!(code(&out), 0, "wait: {}", stderr(&out));
    let images: Vec<_> = common::walk(&dir.path().join("out"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    assert_real_image(&images[0]);
}

/// A job waited for by its id alone (`job wait ID`) is saved with a
/// sidecar that names that id, and no model: nothing here knows which
/// model the job ran (the default model was written as if it had).
#[tokio::test]
async fn a_job_waited_for_by_its_id_alone_records_its_id_and_no_model_it_does_not_know() {
    for (provider, model) in [("ideogram", "V_3"), ("segmind", "V_3")] {
        let dir = tempfile::tempdir().unwrap();
        let jobs = tempfile::tempdir().unwrap();
        let env = [(JOBS, jobs.path().to_str().unwrap())];
        let network = ["--offline", "--provider", provider];
        let args = [
            &["job", "submit", "a lighthouse by id"][..],
            &network,
            &["--model", model],
        ]
        .concat();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "submit: {}", stderr(&out));
        let id = stdout(&out).trim().to_owned();
        let args = [&["job", "wait", &id][..], &network, &["-o", "out/"]].concat();
        let out = run(&args, &env, dir.path()).await;
        assert_eq!(code(&out), 0, "wait: {}", stderr(&out));
        let sidecars: Vec<_> = common::walk(&dir.path().join("out"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        assert_eq!(sidecars.len(), 1, "{sidecars:?}");
        let sidecar: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sidecars[0]).unwrap()).unwrap();
        assert_eq!(sidecar["request_id"], id.as_str(), "{provider}: {sidecar}");
        assert_eq!(
            sidecar["model"],
            serde_json::Value::Null,
            "{provider}: {sidecar}"
        );
    }
}

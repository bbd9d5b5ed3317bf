//! Fault soaks of the real binary, audited by the mock's billing ledger:
//! a 200-item batch run twice at once on one folder against a mock that
//! faults a fifth of its answers, and a batch into a folder that fills up.
//! The audit: no generation billed twice; every paid image on disk, or
//! printed with the command that fetches it, or (only when the mock broke
//! the answer that carried it) reported as possibly billed; no file touched
//! but the tool's own; the key in no output, file or error.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::*;
use ideogram_mock::{Delivery, Fault, Ledger, MockConfig, Target};

const SECRET: &str = "sk-SOAK-9d2f41";

/// Files a person had in the folder before any batch ran there.
const THEIRS: [(&str, &[u8]); 3] = [
    ("notes.txt", b"my notes"),
    ("download.part", b"another program's download"),
    (
        ".0001-prompt-number-0.jpg.b00c0ffee-00000001.part",
        b"not from this batch",
    ),
];

fn put_theirs(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in THEIRS {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn assert_theirs_untouched(dir: &Path) {
    for (name, bytes) in THEIRS {
        assert_eq!(
            std::fs::read(dir.join(name)).unwrap(),
            bytes,
            "{name} was touched"
        );
    }
}

/// Whether `name` is one of the tool's own files for a batch.
fn ours(name: &str) -> bool {
    name == ".ideogram-batch.jsonl"
        || name == ".ideogram-batch.lock"
        || (name.len() > 5
            && name[..4].bytes().all(|b| b.is_ascii_digit())
            && name.as_bytes()[4] == b'-'
            && [".jpg", ".png", ".json"].iter().any(|e| name.ends_with(e)))
}

/// A file in the audited folder: its name, its text (empty for an image)
/// and its size.
struct Listed {
    name: String,
    text: String,
    size: u64,
}

/// The size of the image the mock rendered for a ledger entry.
fn rendered_size(entry: &ideogram_mock::Billed) -> u64 {
    entry.rendered().len() as u64
}

/// The audit of one batch's folder against the ledger and what was printed.
fn audit(ledger: &Ledger, dir: &Path, count: usize, printed: &str, listing: &[Listed]) {
    let names: Vec<&str> = listing.iter().map(|l| l.name.as_str()).collect();
    let theirs: HashSet<&str> = THEIRS.iter().map(|(n, _)| *n).collect();
    for name in &names {
        assert!(
            ours(name) || theirs.contains(name),
            "{} holds {name}, which the tool did not create",
            dir.display()
        );
    }
    let mut on_disk = 0;
    for i in 0..count {
        let prompt = format!("prompt number {i}");
        let billed: Vec<_> = ledger.for_prompt(&prompt).collect();
        assert!(billed.len() <= 1, "{prompt} billed {} times", billed.len());
        let Some(entry) = billed.first() else {
            continue;
        };
        let stem = format!("{:04}-prompt-number-{i}", i + 1);
        // On disk means whole: the size the mock rendered.
        let saved = listing.iter().any(|l| {
            l.name.starts_with(&stem)
                && (l.name.ends_with(".jpg") || l.name.ends_with(".png"))
                && l.size == rendered_size(entry)
        });
        for l in listing
            .iter()
            .filter(|l| l.name.starts_with(&stem) && !l.name.ends_with(".json"))
        {
            assert_eq!(
                l.size,
                rendered_size(entry),
                "{} is not the whole image",
                l.name
            );
        }
        if saved {
            on_disk += 1;
            continue;
        }
        let fetchable = entry
            .outputs
            .iter()
            .all(|url| printed.contains(&format!("ideogram fetch {url}")))
            || printed.contains(&format!("job wait {}", entry.id));
        let unknowable =
            entry.delivery == Delivery::Broken && printed.contains(&format!("item {}: ", i + 1));
        assert!(
            fetchable || unknowable,
            "{prompt} was billed ({:?}), is not on disk and no command that fetches it was printed:\n{printed}",
            entry.delivery
        );
    }
    assert!(on_disk > 0, "nothing was saved at all:\n{printed}");
    for l in listing {
        assert!(
            !l.name.ends_with(".part") || theirs.contains(l.name.as_str()),
            "left {}",
            l.name
        );
        assert!(!l.text.contains(SECRET), "{} holds the key", l.name);
    }
    assert!(!printed.contains(SECRET), "the key was printed");
}

/// Every file in `dir`.
fn listing(dir: &Path) -> Vec<Listed> {
    files(dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_default();
            let size = bytes.len() as u64;
            let text = String::from_utf8(bytes).unwrap_or_default();
            Listed { name, text, size }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_faulted_batches_at_once_on_one_folder_never_pay_twice_nor_lose_a_paid_image() {
    let mock = mock(MockConfig {
        api_key: SECRET.to_owned(),
        latency: Duration::ZERO,
        queued_for: Duration::from_millis(5),
        processing_for: Duration::from_millis(10),
        ..MockConfig::default()
    })
    .await;
    let faults: Vec<Fault> = Fault::all_kinds()
        .into_iter()
        .map(|f| match f {
            Fault::SlowHeaders(_) => Fault::SlowHeaders(Duration::from_millis(20)),
            Fault::SlowBody(_) => Fault::SlowBody(Duration::from_millis(20)),
            other => other,
        })
        .collect();
    mock.inject_random(0.2, faults, 7);
    for _ in 0..20 {
        mock.inject(Target::ImagePath("/images/".into()), Fault::Status(503));
    }
    let dir = tempfile::tempdir().unwrap();
    let count = 200;
    let prompts: String = (0..count).map(|i| format!("prompt number {i}\n")).collect();
    std::fs::write(dir.path().join("p.txt"), prompts).unwrap();
    let out = dir.path().join("out");
    put_theirs(&out);
    let args = [
        "--provider",
        "segmind",
        "--base-url",
        mock.api_url(),
        "--retries",
        "8",
        "batch",
        "p.txt",
        "-o",
        "out",
        "--concurrency",
        "8",
    ];
    let env = [("SEGMIND_API_KEY", SECRET)];
    let mut printed = String::new();
    let mut refused = 0;
    for _ in 0..6 {
        // Two runs at once on one folder: one runs, the other refuses.
        let first = Running::start(&args, &env, dir.path());
        let second = Running::start(&args, &env, dir.path());
        let (a, b) = (first.finish().await, second.finish().await);
        refused += [&a, &b]
            .iter()
            .filter(|(_, err)| err.contains("another ideogram batch is running"))
            .count();
        printed = format!("{}\n{}", a.1, b.1);
        if a.0 == 0 || b.0 == 0 {
            break;
        }
    }
    assert!(refused > 0, "the two runs never met:\n{printed}");
    mock.settled().await;
    assert_theirs_untouched(&out);
    audit(&mock.ledger(), &out, count, &printed, &listing(&out));
    assert!(mock.cdn_requests().iter().all(|r| !r.had_credentials));
}

#[tokio::test]
async fn a_batch_into_a_folder_that_fills_up_loses_no_paid_image() {
    let mock = mock(MockConfig {
        api_key: SECRET.to_owned(),
        ..MockConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let count = 16;
    let prompts: String = (0..count).map(|i| format!("prompt number {i}\n")).collect();
    std::fs::write(dir.path().join("p.txt"), prompts).unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    // A 64 KiB filesystem of the test's own, in a mount namespace of its
    // own (no privileges needed where user namespaces are allowed): the
    // batch runs in it, and what it left there is listed before it goes.
    let script = r#"
        set -u
        mount -t tmpfs -o size=64k none "$1" || { echo "cannot mount a small filesystem: this test needs user namespaces (unshare -rm) or root" >&2; exit 97; }
        cd "$2"
        printf 'my notes' > "$1/notes.txt"
        "$3" --provider ideogram --base-url "$4" batch p.txt -o "$1" --concurrency 2
        echo "exit $?" >&2
        for f in "$1"/* "$1"/.[!.]*; do
            [ -e "$f" ] || continue
            printf '=== %s %s\n' "$(basename "$f")" "$(wc -c < "$f")"
            case "$f" in *.json|*.jsonl|*.txt) cat "$f";; esac
            printf '\n'
        done
    "#;
    let output = tokio::task::spawn_blocking({
        let (small, work, url) = (
            small.clone(),
            dir.path().to_path_buf(),
            mock.api_url().to_owned(),
        );
        move || {
            std::process::Command::new("unshare")
                .args(["-rm", "sh", "-c", script, "sh"])
                .arg(&small)
                .arg(&work)
                .arg(BIN)
                .arg(&url)
                .env_remove("SEGMIND_API_KEY")
                .env("IDEOGRAM_API_KEY", SECRET)
                // The disk is to fill up mid-run, not to refuse the first
                // item for want of room.
                .env("IDEOGRAM_MIN_FREE_PER_IMAGE", "0")
                .output()
                .expect("this test needs `unshare` (util-linux) for its mount namespace")
        }
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(output.status.code(), Some(97), "{printed}");
    assert!(
        printed.contains("exit 9"),
        "the disk never filled up:\n{printed}"
    );
    assert!(printed.contains("No space left on device"), "{printed}");
    let dump = String::from_utf8_lossy(&output.stdout).into_owned();
    let listing: Vec<Listed> = dump
        .split("=== ")
        .skip(1)
        .map(|part| {
            let (head, text) = part.split_once('\n').unwrap_or((part, ""));
            let (name, size) = head.trim().rsplit_once(' ').expect("name and size");
            Listed {
                name: name.to_owned(),
                text: text.to_owned(),
                size: size.trim().parse().expect("a size"),
            }
        })
        .collect();
    assert!(
        listing
            .iter()
            .any(|l| l.name == "notes.txt" && l.text.starts_with("my notes"))
    );
    let listing: Vec<Listed> = listing
        .into_iter()
        .filter(|l| l.name != "notes.txt")
        .collect();
    mock.settled().await;
    audit(&mock.ledger(), &small, count, &printed, &listing);
}

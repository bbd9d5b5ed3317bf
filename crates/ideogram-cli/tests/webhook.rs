//! `ideogram webhook serve` as a child process on loopback, the mock
//! delivering to it: a verified delivery saved once however often it
//! comes, a refused one saving nothing, and a server killed between its
//! journal and its download finishing the download when started again.

mod common;

use std::path::{Path, PathBuf};

use common::{DEADLINE, Running, file_holds, until, within};
use ideogram_mock::{Fault, MockConfig, MockServer, Target, WebhookFault};

const JOURNAL: &str = ".ideogram-webhook.jsonl";

/// The server started on a free port saving into `out`, and its URL.
async fn serve(mock: &MockServer, out: &Path, dir: &Path) -> (Running, String) {
    let key = mock.api_key();
    let mut server = Running::start(
        &[
            "webhook",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "-o",
            out.to_str().unwrap(),
            "--base-url",
            mock.api_url(),
            "--json",
        ],
        &[("IDEOGRAM_API_KEY", key.as_str())],
        dir,
    );
    server.printed("listening on http://").await;
    let text = server.stderr();
    let at = text.find("listening on http://").unwrap() + "listening on ".len();
    let url = text[at..]
        .split(['"', '\n', ' ', '}'])
        .next()
        .unwrap()
        .to_owned();
    (server, format!("{url}/hook"))
}

/// Interrupts a server and waits for it to end well (exit 0).
async fn stop(server: Running) {
    server.signal("INT");
    let (code, stderr) = within("the server's end", server.finish()).await;
    assert_eq!(code, 0, "{stderr}");
}

/// The images (not sidecars, not the journal) in `out`.
fn images(out: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    found.sort();
    found
}

fn journal_events(out: &Path, event: &str) -> usize {
    std::fs::read_to_string(out.join(JOURNAL))
        .unwrap_or_default()
        .matches(&format!("\"event\":\"{event}\""))
        .count()
}

#[tokio::test]
async fn a_delivery_is_saved_once_however_often_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let delivery = mock.webhook_delivery("a lighthouse at dawn", 2);
    // Sent twice, as a service retrying after a lost answer does.
    let status = within(
        "the deliveries",
        mock.deliver_webhook(&url, &delivery, Some(WebhookFault::Redelivered)),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    // Answered 200 only once durable: the images are there already.
    assert_eq!(images(&out).len(), 2, "{}", server.stderr());
    for image in images(&out) {
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(image.with_extension("json")).unwrap()).unwrap();
        assert_eq!(sidecar["status"], "saved");
        assert_eq!(sidecar["request_id"], delivery.generation_id.as_str());
        assert_eq!(sidecar["model"], serde_json::Value::Null);
        assert_eq!(common::dimensions(&image), (256, 256));
    }
    assert_eq!(journal_events(&out, "generated"), 1);
    assert_eq!(journal_events(&out, "saved"), 1);
    // Each image downloaded once.
    assert_eq!(mock.cdn_requests().len(), 2);
    until("two lines on stdout", || {
        server.stdout().lines().count() >= 2
    })
    .await;
    let lines: Vec<serde_json::Value> = server
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["status"], "saved");
    assert_eq!(lines[0]["generation_id"], delivery.generation_id.as_str());
    assert_eq!(lines[1]["status"], "already_saved");
    stop(server).await;
    mock.shutdown().await;
}

#[tokio::test]
async fn a_delivery_that_fails_verification_answers_401_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    for fault in [WebhookFault::BadSignature, WebhookFault::Stale] {
        let delivery = mock.webhook_delivery("a forged fox", 1);
        let status = within(
            "the delivery",
            mock.deliver_webhook(&url, &delivery, Some(fault)),
        )
        .await
        .unwrap();
        assert_eq!(status, 401, "{fault:?}");
    }
    until("two refusals on stdout", || {
        server.stdout().lines().count() >= 2
    })
    .await;
    for line in server.stdout().lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["status"], "refused", "{line}");
    }
    assert!(
        server.stdout().contains("no key verifies"),
        "{}",
        server.stdout()
    );
    assert!(
        server.stdout().contains("s old, past the 300 s window"),
        "{}",
        server.stdout()
    );
    assert!(images(&out).is_empty());
    assert_eq!(journal_events(&out, "generated"), 0);
    assert!(mock.cdn_requests().is_empty());
    // A key rotated in since the server fetched the set: fetched again.
    mock.rotate_webhook_key(false);
    let delivery = mock.webhook_delivery("a real fox", 1);
    let status = within("the delivery", mock.deliver_webhook(&url, &delivery, None))
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", server.stderr());
    assert_eq!(images(&out).len(), 1);
    server.signal("TERM");
    let (code, stderr) = within("the server's end", server.finish()).await;
    assert_eq!(code, 0, "{stderr}");
    mock.shutdown().await;
}

/// The paid result is on disk (journal) before its download starts: a
/// server killed mid-download saves it when started again, and the
/// delivery coming again then saves nothing twice.
#[tokio::test]
async fn a_server_killed_between_journal_and_download_saves_it_when_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    // The download hangs: the server is caught between the two.
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowHeaders(DEADLINE * 2),
    );
    let delivery = mock.webhook_delivery("a kept promise", 1);
    // The server dies before it answers.
    let mut sent = Box::pin(mock.deliver_webhook(&url, &delivery, None));
    // Journaled, and its download started: then killed.
    tokio::select! {
        answered = &mut sent => panic!("answered before the kill: {answered:?}"),
        () = async {
            file_holds(&out.join(JOURNAL), "\"event\":\"generated\"", 1).await;
            until("the download to start", || !mock.cdn_requests().is_empty()).await;
        } => {}
    }
    server.signal("KILL");
    let answer = within("the broken delivery", &mut sent).await;
    assert!(answer.is_err(), "{answer:?}");
    drop(sent);
    let _ = server.finish().await;
    assert!(images(&out).is_empty());
    assert_eq!(journal_events(&out, "saved"), 0);

    mock.clear_faults();
    let (again, url) = serve(&mock, &out, dir.path()).await;
    // Saved at start, from the journal alone: no delivery needed.
    until("the image saved at start", || images(&out).len() == 1).await;
    assert!(
        again.stderr().contains("journaled but not saved"),
        "{}",
        again.stderr()
    );
    until("its line", || again.stdout().contains("\"saved\"")).await;
    assert_eq!(journal_events(&out, "saved"), 1);
    // Under the name the killed run had journaled, its sidecar replaced:
    // no second name, no sidecar left saying "downloading", no temp file.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".ideogram-"))
        .collect();
    names.sort();
    assert_eq!(names, ["a-kept-promise.json", "a-kept-promise.png"]);
    let sidecar = std::fs::read_to_string(out.join("a-kept-promise.json")).unwrap();
    assert!(sidecar.contains("\"status\": \"saved\""), "{sidecar}");
    // The service delivering it again saves nothing twice.
    let status = within(
        "the redelivery",
        mock.deliver_webhook(&url, &delivery, None),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(images(&out).len(), 1);
    assert_eq!(journal_events(&out, "generated"), 1);
    until("its line", || again.stdout().contains("already_saved")).await;
    stop(again).await;
    mock.shutdown().await;
}

/// `request` sent raw to the server at `url`: the answer's status line.
async fn raw_status(url: &str, request: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    // The server may answer and close before the whole body is written.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = (&mut stream).take(4096).read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_oversized_body_or_another_method_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let body = vec![b' '; 2 << 20];
    let mut request = format!(
        "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let status = within("the answer", raw_status(&url, request)).await;
    assert!(status.contains(" 413 "), "{status}");
    let get = b"GET /hook HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_vec();
    let status = within("the answer", raw_status(&url, get)).await;
    assert!(status.contains(" 405 "), "{status}");
    assert!(images(&out).is_empty());
    assert_eq!(journal_events(&out, "generated"), 0);
    stop(server).await;
    mock.shutdown().await;
}

/// The first interrupt stops listening but lets a delivery under way be
/// saved and answered; a second server on the same folder is refused,
/// saying why.
#[tokio::test]
async fn an_interrupt_lets_the_delivery_under_way_finish() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let second = common::run(
        &[
            "webhook",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "-o",
            out.to_str().unwrap(),
            "--base-url",
            mock.api_url(),
        ],
        &[("IDEOGRAM_API_KEY", mock.api_key().as_str())],
        dir.path(),
    )
    .await;
    assert_eq!(common::code(&second), 1, "{}", common::stderr(&second));
    assert!(
        common::stderr(&second).contains("another ideogram webhook serve saves into"),
        "{}",
        common::stderr(&second)
    );
    mock.inject(
        Target::ImagePath("/images/".into()),
        Fault::SlowHeaders(std::time::Duration::from_secs(2)),
    );
    let delivery = mock.webhook_delivery("a patient heron", 1);
    let mut sent = Box::pin(mock.deliver_webhook(&url, &delivery, None));
    tokio::select! {
        answered = &mut sent => panic!("answered before the interrupt: {answered:?}"),
        () = until("the download to start", || !mock.cdn_requests().is_empty()) => {}
    }
    server.signal("INT");
    let status = within("the answer", &mut sent).await.unwrap();
    drop(sent);
    assert_eq!(status, 200);
    assert_eq!(images(&out).len(), 1);
    let (code, stderr) = within("the server's end", server.finish()).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("stopping after the deliveries under way"),
        "{stderr}"
    );
    mock.shutdown().await;
}

/// A server killed after the delivery's id reached the journal but before
/// its images did (the `submitted` line written, the `generated` one not)
/// leaves a journal that knows the id and no image: the delivery coming
/// again must journal and save its images, not answer 200 having saved
/// nothing (the service would never deliver the paid result again).
#[tokio::test]
async fn a_delivery_journaled_without_its_images_is_saved_when_it_comes_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let delivery = mock.webhook_delivery("a half-written promise", 1);
    let status = within("the delivery", mock.deliver_webhook(&url, &delivery, None))
        .await
        .unwrap();
    assert_eq!(status, 200);
    stop(server).await;
    // As the kill left it: the journal up to the `submitted` line, no image.
    let journal = std::fs::read_to_string(out.join(JOURNAL)).unwrap();
    let cut = journal.find("\"event\":\"submitted\"").unwrap();
    let end = cut + journal[cut..].find('\n').unwrap() + 1;
    std::fs::write(out.join(JOURNAL), &journal[..end]).unwrap();
    for image in images(&out) {
        std::fs::remove_file(image.with_extension("json")).unwrap();
        std::fs::remove_file(image).unwrap();
    }

    let (again, url) = serve(&mock, &out, dir.path()).await;
    let status = within(
        "the redelivery",
        mock.deliver_webhook(&url, &delivery, None),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", again.stderr());
    assert_eq!(images(&out).len(), 1, "{}", again.stdout());
    assert_eq!(journal_events(&out, "generated"), 1);
    stop(again).await;
    mock.shutdown().await;
}

/// A client that sends a delivery's headers and then nothing (a stalled
/// or hostile peer) holds no delivery under way: an interrupt stops the
/// server, whose read of that body is bounded in time as well as size.
#[tokio::test]
async fn a_stalled_body_does_not_hold_the_server_past_an_interrupt() {
    use tokio::io::AsyncWriteExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let mut stalled = tokio::net::TcpStream::connect(host).await.unwrap();
    stalled
        .write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    // A delivery after it is answered: the server reads on meanwhile.
    let delivery = mock.webhook_delivery("a prompt answer", 1);
    let status = within("the delivery", mock.deliver_webhook(&url, &delivery, None))
        .await
        .unwrap();
    assert_eq!(status, 200);
    stop(server).await;
    drop(stalled);
    mock.shutdown().await;
}

/// Deliveries of several generations made with one prompt (a request for
/// several, or the same prompt sent again) arrive together: each is saved
/// whole, under names of its own, and none over another's file.
#[tokio::test]
async fn deliveries_of_one_prompt_arriving_together_are_each_saved_under_their_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let (server, url) = serve(&mock, &out, dir.path()).await;
    let deliveries: Vec<_> = (0..6)
        .map(|_| mock.webhook_delivery("the same lighthouse", 2))
        .collect();
    let statuses = within(
        "the deliveries",
        futures::future::join_all(
            deliveries
                .iter()
                .map(|delivery| mock.deliver_webhook(&url, delivery, None)),
        ),
    )
    .await;
    for status in statuses {
        assert_eq!(status.unwrap(), 200, "{}", server.stdout());
    }
    assert_eq!(images(&out).len(), 12, "{}", server.stdout());
    assert_eq!(journal_events(&out, "saved"), 6);
    assert_eq!(mock.cdn_requests().len(), 12);
    // Each image's sidecar names its own generation.
    let mut ids: Vec<String> = images(&out)
        .iter()
        .map(|image| {
            let sidecar: serde_json::Value =
                serde_json::from_slice(&std::fs::read(image.with_extension("json")).unwrap())
                    .unwrap();
            assert_eq!(sidecar["status"], "saved", "{sidecar}");
            sidecar["request_id"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    stop(server).await;
    mock.shutdown().await;
}

//! The `ideogram-mock` binary as a test suite in another language would use
//! it: every flag documented with its default, the URLs and key printed once
//! it listens, the ledger served as JSON.

use std::io::BufRead as _;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ideogram-mock");

#[test]
fn help_describes_every_flag_with_its_default() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("--") && !l.starts_with("--help") && !l.starts_with("--version"))
        .collect();
    assert!(flags.len() >= 12, "{help}");
    for flag in flags {
        let name = flag.split_whitespace().next().unwrap();
        let described = help
            .split(name)
            .nth(1)
            .and_then(|rest| rest.split("\n      --").next())
            .unwrap_or_default();
        assert!(
            described.contains("[default: "),
            "{name} has no default:\n{help}"
        );
    }
}

#[test]
fn it_prints_where_it_listens_and_serves_its_ledger() {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--key",
            "k-test",
            "--credits",
            "7",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        (words[0], words[2], words[4], words[5], words[6]),
        ("api", "cdn", "key", "k-test", "ledger"),
        "{line}"
    );
    let ledger = words[7].strip_prefix("http://").unwrap();
    let (host, path) = ledger.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["entries"], serde_json::json!([]));
    assert_eq!(body["credits"], 7.0);
}

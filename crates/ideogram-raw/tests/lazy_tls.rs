//! The TLS configuration every client runs on: the system's roots are read
//! on the first handshake, not when a client is built, and a certificate
//! they do not vouch for is still refused.

#![cfg(feature = "rustls")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA: &[u8] = include_bytes!("tls/ca.pem");
const SERVER: (&[u8], &[u8]) = (
    include_bytes!("tls/server.pem"),
    include_bytes!("tls/server.key"),
);
const ROGUE: (&[u8], &[u8]) = (
    include_bytes!("tls/rogue.pem"),
    include_bytes!("tls/rogue.key"),
);

/// An https server on loopback presenting `identity` to one connection;
/// its port.
fn serve_once(identity: (&'static [u8], &'static [u8])) -> u16 {
    let cert = CertificateDer::from_pem_slice(identity.0).expect("cert");
    let key = PrivateKeyDer::from_pem_slice(identity.1).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Arc::new(config);
    std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let connection = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, socket);
        let mut request = [0u8; 4096];
        // A refused handshake ends here with an error: nothing to answer.
        if tls.read(&mut request).is_ok_and(|n| n > 0) {
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = tls.flush();
        }
    });
    port
}

/// Runs [`in_a_process_of_its_own`] in a child process whose certificate
/// variables point at a file that does not exist yet (the test cannot set
/// them in its own process without `unsafe`).
#[test]
fn roots_are_read_at_the_first_handshake_and_still_refuse_a_stranger() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "in_a_process_of_its_own",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", dir.path().join("roots.pem"))
        .env("SSL_CERT_DIR", dir.path().join("none"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

#[tokio::test]
#[ignore = "run by roots_are_read_at_the_first_handshake_and_still_refuse_a_stranger"]
async fn in_a_process_of_its_own() {
    let roots =
        std::path::PathBuf::from(std::env::var_os("SSL_CERT_FILE").expect("set by the parent"));
    // No roots exist yet: a client that read them now could not be built.
    let client = ideogram_raw::http::client().expect("built without reading any roots");
    let second = ideogram_raw::http::client().expect("and another");

    assert!(!roots.exists());
    std::fs::write(&roots, CA).unwrap();
    let trusted = serve_once(SERVER);
    let answer = client
        .get(format!("https://localhost:{trusted}/"))
        .send()
        .await
        .expect("a certificate the roots vouch for is accepted");
    assert_eq!(answer.text().await.unwrap(), "ok");

    let rogue = serve_once(ROGUE);
    let err = second
        .get(format!("https://localhost:{rogue}/"))
        .send()
        .await
        .expect_err("a self-signed certificate is refused");
    let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    assert!(chain.contains("certificate"), "{chain}");
}

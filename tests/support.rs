//! Helpers shared by the behaviour tests.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_test_runtime::prelude::*;

/// A connected client whose welcome frame was consumed, and that frame.
pub(crate) async fn connect_welcomed(server: &EmbeddedServer) -> Result<(WsClient, Value), ws_test_runtime::Error> {
    let mut client = server.connect().await?;
    let welcome = client.expect_type("connection_established").await?;
    Ok((client, welcome))
}

/// Receives `n` JSON messages.
pub(crate) async fn recv_n(client: &mut WsClient, n: usize) -> Result<Vec<Value>, ws_test_runtime::Error> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(client.recv_json().await?);
    }
    Ok(out)
}

/// The `type` of each value.
pub(crate) fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap_or("<no type>"))
        .collect()
}

/// A plain HTTP/1.1 response, read to the end.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl HttpResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends `GET path` with the extra header lines (each `Name: value`) and `Connection: close` semantics for
/// everything but a successful upgrade; reads the response head and body.
pub(crate) async fn http_get(addr: SocketAddr, path: &str, headers: &[&str]) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    // Read until the head and a body of Content-Length bytes are in (101 responses have no body).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(response) = parse_response(&raw) {
            return Ok(response);
        }
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
            .await
            .map_err(|_| {
                std::io::Error::other(format!("no complete response; got {:?}", String::from_utf8_lossy(&raw)))
            })??;
        if read == 0 {
            return parse_response(&raw).ok_or_else(|| {
                std::io::Error::other(format!(
                    "connection ended mid-response: {:?}",
                    String::from_utf8_lossy(&raw)
                ))
            });
        }
        raw.extend_from_slice(&buffer[..read]);
    }
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let response = HttpResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    (response.body.len() >= length).then_some(response)
}

/// The headers of a valid RFC 6455 upgrade request (the sample key of the RFC).
pub(crate) const UPGRADE: [&str; 4] = [
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
];

/// Waits until `observe` returns `Some`, checking every few milliseconds, for at most `within`; the error names
/// what was awaited and the last thing `describe` saw instead.
pub(crate) async fn wait_until<T>(
    awaited: &str,
    within: std::time::Duration,
    mut observe: impl FnMut() -> Result<T, String>,
) -> std::io::Result<T> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match observe() {
            Ok(value) => return Ok(value),
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                return Err(std::io::Error::other(format!(
                    "waited {within:?} for {awaited}; saw instead: {seen}"
                )));
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
}

/// Reads a raw stream until the peer ends it, for at most `within`; returns what it sent.
pub(crate) async fn read_until_closed(stream: &mut TcpStream, within: std::time::Duration) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => raw.extend_from_slice(&buffer[..read]),
            }
        }
    };
    match tokio::time::timeout(within, read_all).await {
        Ok(()) => Ok(raw),
        Err(_) => Err(std::io::Error::other(format!(
            "the server still held the connection after {within:?}; it had sent {:?}",
            String::from_utf8_lossy(&raw)
        ))),
    }
}

/// A certificate made the way people make one: `openssl req -x509 ...` (OpenSSL marks it `CA:TRUE`), for
/// `subject_alt_name` (the one-liner uses `IP:127.0.0.1,DNS:localhost`), in a directory of its own.
pub(crate) struct OpensslCertificate {
    /// `cert.pem`'s path.
    pub(crate) cert_path: std::path::PathBuf,
    /// `cert.pem`.
    pub(crate) cert_pem: String,
    /// `key.pem` (PKCS #8).
    pub(crate) key_pem: String,
}

/// Runs `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj /CN=CN -addext
/// subjectAltName=NAMES` in a fresh directory. `openssl` must be installed (CI has it); a missing one fails the
/// test saying so.
pub(crate) fn openssl_certificate(common_name: &str, subject_alt_name: &str) -> OpensslCertificate {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ws-test-openssl-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a directory for the certificate");
    let output = std::process::Command::new("openssl")
        .current_dir(&dir)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
        ])
        .args(["-subj", &format!("/CN={common_name}")])
        .args(["-addext", &format!("subjectAltName={subject_alt_name}")])
        .output()
        .unwrap_or_else(|error| panic!("these tests make certificates with the openssl command: {error}"));
    assert!(
        output.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("openssl wrote the file");
    OpensslCertificate {
        cert_path: dir.join("cert.pem"),
        cert_pem: read("cert.pem"),
        key_pem: read("key.pem"),
    }
}

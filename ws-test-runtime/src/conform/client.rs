//! The fuzzing client: grades a server, one connection per case.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Error;
use super::cases::{CaseDef, Script};
use super::deflate::{self, Negotiated};
use super::peer::{self, Http};
use super::report::{CaseResult, Report};
use super::wire::{Role, random_mask};
use crate::transport::{self, ConnectError, Stream};

/// How long the opening handshake may take (Autobahn's `openHandshakeTimeout`).
const OPEN_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The most an HTTP head may hold.
const MAX_HEAD: usize = 64 * 1024;

/// The server to grade and what its TLS certificate may be signed by.
pub(crate) struct Target {
    pub(crate) url: String,
    #[cfg(feature = "tls")]
    pub(crate) trust: crate::tls::Trust,
}

struct Endpoint {
    target: crate::client::Target,
    host_header: String,
    path: String,
}

fn endpoint(url: &str) -> Result<Endpoint, Error> {
    let uri = crate::client::websocket_uri(url, "a server to grade is a ws:// or wss:// URL")
        .map_err(|error| Error::Usage(error.to_string()))?;
    let host_header = match uri.port_u16() {
        Some(port) => format!("{}:{port}", uri.host().unwrap_or_default()),
        None => uri.host().unwrap_or_default().to_owned(),
    };
    let path = uri
        .path_and_query()
        .map_or("/".to_owned(), |path| path.as_str().to_owned());
    let path = if path.is_empty() { "/".to_owned() } else { path };
    Ok(Endpoint {
        target: crate::client::Target::of(&uri),
        host_header,
        path,
    })
}

/// Opens the byte stream to the server, TLS included.
async fn open(endpoint: &Endpoint, target: &Target) -> Result<Stream, String> {
    let stream = match transport::connect(&endpoint.target.host, endpoint.target.port).await {
        Ok(stream) => stream,
        Err(ConnectError::Retry(why) | ConnectError::NoSuchServer(why)) => return Err(why),
    };
    if !endpoint.target.secure {
        return Ok(stream);
    }
    #[cfg(feature = "tls")]
    {
        use crate::tls::Handshake;
        match target.trust.connect(&endpoint.target.host, stream).await {
            Ok(Handshake::Done(stream)) => Ok(stream),
            Ok(Handshake::Refused(why)) => Err(format!("TLS handshake refused: {why}")),
            Ok(Handshake::Failed(error)) => Err(format!("TLS handshake failed: {error}")),
            Err(error) => Err(error.to_string()),
        }
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = target;
        Err("wss:// needs the `tls` feature of ws-test-runtime".into())
    }
}

/// A `Sec-WebSocket-Key`.
fn key() -> String {
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(4) {
        chunk.copy_from_slice(&random_mask());
    }
    data_encoding::BASE64.encode(&bytes)
}

/// Reads an HTTP head (up to the blank line); the bytes after it are the WebSocket's.
pub(crate) async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            let rest = head.split_off(end + 4);
            return Ok((head, rest));
        }
        if head.len() > MAX_HEAD {
            return Err(format!("the HTTP head passed {MAX_HEAD} octets without ending"));
        }
        match stream.read(&mut buffer).await {
            Ok(0) => return Err("the connection closed during the opening handshake".into()),
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(error) => return Err(format!("the opening handshake failed: {error}")),
        }
    }
}

/// The server's answer to the upgrade: the agent (its `Server` header) and the compression it agreed to.
struct Answer {
    server: Option<String>,
    negotiated: Negotiated,
}

fn check_answer(head: &[u8], key: &str, offered: bool) -> Result<Answer, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err("the server's answer is not HTTP".into()),
    }
    if response.code != Some(101) {
        return Err(format!(
            "the server answered the upgrade with {} {} instead of 101",
            response.code.unwrap_or(0),
            response.reason.unwrap_or("")
        ));
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| String::from_utf8_lossy(header.value).trim().to_owned())
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    if header("sec-websocket-accept").as_deref() != Some(accept.as_str()) {
        return Err("the server's Sec-WebSocket-Accept does not answer the key".into());
    }
    let extensions = header("sec-websocket-extensions");
    let negotiated = if offered {
        deflate::parse_response(extensions.as_deref())?
    } else if let Some(extensions) = extensions {
        return Err(format!(
            "the server agreed to extensions that were not offered: {extensions}"
        ));
    } else {
        Negotiated::Off
    };
    Ok(Answer {
        server: header("server"),
        negotiated,
    })
}

/// Connects and upgrades for one case; `Err` says why the connection never opened.
async fn connect(
    endpoint: &Endpoint,
    target: &Target,
    def: &CaseDef,
) -> Result<(Stream, Vec<u8>, Answer, Http), (String, Http)> {
    let mut http = Http::default();
    let mut stream = open(endpoint, target).await.map_err(|why| (why, http.clone()))?;
    let key = key();
    let offers = match &def.script {
        Script::Compressed(compressed) => Some(deflate::offer_header(&compressed.offers)),
        _ => None,
    };
    let mut request = format!(
        "GET {} HTTP/1.1\r\nUser-Agent: ws-test/{} (conform)\r\nHost: {}\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        endpoint.path,
        env!("CARGO_PKG_VERSION"),
        endpoint.host_header
    );
    if let Some(offers) = &offers {
        request.push_str(&format!("Sec-WebSocket-Extensions: {offers}\r\n"));
    }
    request.push_str("\r\n");
    http.request = request.clone();
    let exchange = async {
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| format!("sending the upgrade failed: {error}"))?;
        read_head(&mut stream).await
    };
    let (head, rest) = match tokio::time::timeout(OPEN_HANDSHAKE_TIMEOUT, exchange).await {
        Ok(Ok(read)) => read,
        Ok(Err(why)) => return Err((why, http)),
        Err(_) => {
            return Err((
                format!("the server did not finish the opening handshake within {OPEN_HANDSHAKE_TIMEOUT:?}"),
                http,
            ));
        }
    };
    http.response = String::from_utf8_lossy(&head).into_owned();
    match check_answer(&head, &key, offers.is_some()) {
        Ok(answer) => Ok((stream, rest, answer, http)),
        Err(why) => Err((why, http)),
    }
}

pub(crate) async fn grade(
    target: Target,
    selected: &[&'static CaseDef],
    agent: Option<String>,
    on_case: Option<super::OnCase>,
) -> Result<Report, Error> {
    let endpoint = endpoint(&target.url)?;
    let url = target.url.as_str();
    let mut agent = agent;
    let mut results = Vec::with_capacity(selected.len());
    let started = Instant::now();
    for (index, &def) in selected.iter().enumerate() {
        let played = match connect(&endpoint, &target, def).await {
            Ok((stream, rest, answer, http)) => {
                if agent.is_none() {
                    agent = Some(answer.server.unwrap_or_else(|| "UnknownServer".to_owned()));
                }
                peer::play(stream, rest, Role::Client, def, answer.negotiated, http).await
            }
            Err((why, _)) if index == 0 => {
                return Err(Error::Unreachable(format!("cannot grade {url}: {why}")));
            }
            Err((why, http)) => peer::never_opened(def, Role::Client, &why, http),
        };
        let result = CaseResult::new(def, index + 1, played);
        if let Some(report) = &on_case {
            report(&result, index + 1, selected.len());
        }
        results.push(result);
    }
    Ok(Report::new(
        agent.unwrap_or_else(|| "UnknownServer".to_owned()),
        results,
        started.elapsed(),
    ))
}

//! [`Recorder`]: a recording proxy. Clients connect to it; it relays each one to the real server and records
//! every frame both ways, as a transcript ([`History`]) per session — what `ws-test record` runs.
//!
//! The recorder is an embedded server hosting one app: for each WebSocket upgrade it opens a connection to the
//! upstream server with the client's path, query and headers (an `Authorization` header passes through), answers
//! the client with the upstream's answer (its refusal too: a 401 stays a 401), then relays frames unchanged.
//! Each frame is written to the session's file as soon as it is relayed, so a frame already relayed is never
//! lost, not even if the process is killed; redacted fields are replaced in the recording, never in the relay.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::error::{Error, Result};
use crate::history::{Direction, FrameKind, Handshake, History, frame_line, header_line, redact};
use crate::server::EmbeddedServer;
use crate::wire::close_code;
use crate::{WsClient, timeout, wire};

mod files;
mod relay;

use relay::Proxy;

/// A recording proxy: relays every client that connects to an upstream WebSocket server and records each
/// session, frame by frame, both ways.
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::{Recorder, Replay};
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let real = EmbeddedServer::start().await?; // stands in for the real backend
/// let mut recorder = Recorder::builder(real.url()).redact("connection_id").start().await?;
/// let mut client = WsClient::connect(recorder.url()).await?; // the client talks to the real server through it
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "echo", "payload": "hi"})).await?;
/// client.expect_type("echo").await?;
/// client.close(1000, "done").await?;
/// recorder.shutdown().await?;
/// let sessions = recorder.sessions();
/// assert_eq!(sessions[0].received_events(), ["connection_established", "echo"]);
/// assert!(sessions[0].frames()[0].text().unwrap().contains("[redacted]"));
///
/// // The recording replays without the real server.
/// let mock = EmbeddedServer::builder().handler(Replay::from_history(&sessions[0])).start().await?;
/// # drop(mock);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct Recorder {
    server: EmbeddedServer,
    state: Arc<State>,
    url: String,
}

/// Configures a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecorderBuilder {
    upstream: String,
    listen: SocketAddr,
    out: Option<PathBuf>,
    har: Option<PathBuf>,
    redact: Vec<String>,
    sessions: Option<usize>,
    protocol: Option<std::result::Result<crate::protocol::SharedProtocol, String>>,
    #[cfg(feature = "tls")]
    trust: crate::tls::Trust,
}

/// What the proxy's tasks share.
#[derive(Debug)]
struct State {
    upstream: Uri,
    #[cfg(feature = "tls")]
    trust: crate::tls::Trust,
    redact: Vec<String>,
    out: Option<PathBuf>,
    /// The HAR file of every ended session, written again as each ends.
    har: Option<PathBuf>,
    limit: Option<usize>,
    /// Reads each session's frames (what they mean beside them, in the transcript).
    protocol: Option<crate::protocol::SharedProtocol>,
    admission: Mutex<Admission>,
    /// Each session's record, by number.
    records: Mutex<BTreeMap<usize, Arc<Mutex<Record>>>>,
    /// How many sessions have ended.
    ended: watch::Sender<usize>,
    stop: watch::Sender<bool>,
    relays: Mutex<JoinSet<()>>,
}

/// Sessions started, and upgrades still waiting for the upstream (they count against the limit).
#[derive(Debug, Default)]
struct Admission {
    started: usize,
    connecting: usize,
}

/// One session's transcript, and its file.
#[derive(Debug)]
struct Record {
    history: History,
    file: Option<(PathBuf, std::fs::File)>,
    write_error: Option<String>,
    /// Reads the relayed frames through the recorder's protocol.
    reader: Option<crate::protocol::Reader>,
}

impl Recorder {
    /// A recorder on `127.0.0.1`, a port the OS picks, relaying to `upstream` (a `ws://` or `wss://` URL), keeping the
    /// sessions in memory.
    pub async fn start(upstream: impl AsRef<str>) -> Result<Recorder> {
        Self::builder(upstream).start().await
    }

    /// A builder for the listen address, the output file, redactions and a session limit.
    pub fn builder(upstream: impl AsRef<str>) -> RecorderBuilder {
        RecorderBuilder {
            upstream: upstream.as_ref().to_owned(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            out: None,
            har: None,
            redact: Vec::new(),
            sessions: None,
            protocol: None,
            #[cfg(feature = "tls")]
            trust: crate::tls::Trust::default(),
        }
    }

    /// The URL clients connect to: the recorder's address with the upstream URL's path and query.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the recorder listens on (always TCP). A `Result` for the same shape as
    /// [`EmbeddedServer::local_addr`](crate::EmbeddedServer::local_addr).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Where session `number` (from 1) is written when the recorder writes to `out`: `out` itself for the first,
    /// `out.2`, `out.3`, ... for the others.
    pub fn session_path(out: &Path, number: usize) -> PathBuf {
        match number {
            0 | 1 => out.to_path_buf(),
            n => {
                let mut path = out.as_os_str().to_owned();
                path.push(format!(".{n}"));
                PathBuf::from(path)
            }
        }
    }

    /// A copy of every session's transcript so far (redacted), in the order they started.
    pub fn sessions(&self) -> Vec<History> {
        lock(&self.state.records)
            .values()
            .map(|record| lock(record).history.clone())
            .collect()
    }

    /// How many sessions have ended.
    pub fn sessions_ended(&self) -> usize {
        *self.state.ended.borrow()
    }

    /// Waits until `n` sessions have ended, or fails after `within` saying how many did.
    pub async fn wait_for_sessions(&self, n: usize, within: Duration) -> Result<()> {
        let mut ended = self.state.ended.subscribe();
        match tokio::time::timeout(within, ended.wait_for(|ended| *ended >= n)).await {
            Ok(_) => Ok(()),
            Err(_) => Err(Error::Timeout {
                awaited: format!("{n} recorded session(s) to end"),
                after: within,
                received: vec![format!(
                    "{} session(s) ended, {} started",
                    self.sessions_ended(),
                    lock(&self.state.admission).started
                )],
            }),
        }
    }

    /// Problems writing the recording files (the relay went on regardless), one sentence each.
    pub fn write_errors(&self) -> Vec<String> {
        lock(&self.state.records)
            .values()
            .filter_map(|record| lock(record).write_error.clone())
            .collect()
    }

    /// Stops: no new sessions; each open one gets close 1001 on both sides, is given the close timeout to
    /// finish its handshakes (every frame until then is relayed and recorded), and its file is complete; every
    /// session's transcript stays in [`sessions`](Self::sessions). Then says whether the recording is whole: an
    /// [`Error::ServerFailed`] lists the files that could not be written ([`write_errors`](Self::write_errors)).
    /// Shutting down twice is harmless. The same verb and shape as
    /// [`EmbeddedServer::shutdown`](crate::EmbeddedServer::shutdown).
    pub async fn shutdown(&mut self) -> Result<()> {
        self.state.stop.send_replace(true);
        let mut relays = std::mem::take(&mut *lock(&self.state.relays));
        let within = timeout::scaled(timeout::CLOSE) * 2;
        let drained = tokio::time::timeout(within, async { while relays.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            relays.abort_all();
        }
        let mut failures = self.write_errors();
        if let Err(Error::ServerFailed { failures: more, .. }) = self.server.shutdown().await {
            failures.extend(more);
        }
        if failures.is_empty() {
            return Ok(());
        }
        Err(Error::ServerFailed {
            server: format!("the recorder at {}", self.url),
            failures,
        })
    }
}

impl RecorderBuilder {
    /// Where to listen (default `127.0.0.1:0`: a port the OS picks), as [`ServerBuilder::bind`](crate::ServerBuilder::bind).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Writes each session to a file as it goes: the first to `out`, the next to `out.2`, `out.3`, ...
    /// (see [`Recorder::session_path`]).
    pub fn out(mut self, path: impl Into<PathBuf>) -> Self {
        self.out = Some(path.into());
        self
    }

    /// Also writes every session to one HAR file (HTTP Archive 1.2, as Chromium's DevTools write it), one WebSocket
    /// entry per session with its upgrade's request and response headers: written again each time a session
    /// ends, so the file is whole whenever the recorder is stopped. Browsers' DevTools import it; every reader of
    /// a recording here reads it (`--entry` to choose a session). `ws-test record --har FILE`.
    pub fn har(mut self, path: impl Into<PathBuf>) -> Self {
        self.har = Some(path.into());
        self
    }

    /// Replaces this JSON field (at any depth of a text frame, and as a query parameter of the recorded URL)
    /// with `"[redacted]"` in the recording, and a request header of that name in a HAR file; the relay passes it
    /// unchanged. Call again for more fields.
    pub fn redact(mut self, field: impl Into<String>) -> Self {
        self.redact.push(field.into());
        self
    }

    /// Takes at most `n` sessions; later upgrades are answered 503. [`Recorder::wait_for_sessions`] tells
    /// when they have ended (and [`Recorder::sessions`] holds their transcripts).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.sessions = Some(n);
        self
    }

    /// Trusts the certificates of this PEM text for a `wss://` upstream, besides the platform's roots and
    /// `SSL_CERT_FILE` (`ws-test record --ca-cert PATH`). Needs the `tls` feature.
    #[cfg(feature = "tls")]
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.trust.add(pem.as_ref());
        self
    }

    /// Reads every relayed session through `protocol` (a kit by value or by name, or your own): the
    /// transcripts keep each raw frame with what it meant beside it (an event, or the protocol's own frame), so
    /// `ws-test expect` and `bench --scenario` read the events. The relay itself stays byte for byte.
    pub fn protocol(mut self, protocol: impl crate::protocol::IntoProtocol) -> Self {
        self.protocol = Some(protocol.into_protocol().map_err(|error| error.to_string()));
        self
    }

    /// Starts listening.
    pub async fn start(self) -> Result<Recorder> {
        let protocol = self.protocol.transpose().map_err(Error::Config)?;
        let upstream = crate::client::websocket_uri(&self.upstream, "the recorder relays to a ws:// or wss:// server")?;
        if self.sessions == Some(0) {
            return Err(Error::Config("a recorder of 0 sessions would record nothing".into()));
        }
        let state = Arc::new(State {
            upstream,
            #[cfg(feature = "tls")]
            trust: self.trust,
            redact: self.redact,
            out: self.out,
            har: self.har,
            limit: self.sessions,
            protocol,
            admission: Mutex::default(),
            records: Mutex::default(),
            ended: watch::channel(0).0,
            stop: watch::channel(false).0,
            relays: Mutex::default(),
        });
        let server = EmbeddedServer::builder()
            .bind(self.listen)
            .app(Proxy(Arc::clone(&state)))
            .start()
            .await?;
        let path = state.upstream.path_and_query().map_or("/", |path| path.as_str());
        let url = format!("ws://{}{path}", server.local_addr()?);
        Ok(Recorder { server, state, url })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

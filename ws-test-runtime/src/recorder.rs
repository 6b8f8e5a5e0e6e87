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
use crate::history::{Direction, FrameKind, History, frame_line, header_line, redact};
use crate::server::EmbeddedServer;
use crate::wire::close_code;
use crate::{WsClient, timeout, wire};

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

    /// Replaces this JSON field (at any depth of a text frame, and as a query parameter of the recorded URL)
    /// with `"[redacted]"` in the recording; the relay passes it unchanged. Call again for more fields.
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

/// The app the recorder's server hosts: one call per HTTP request.
#[derive(Debug, Clone)]
struct Proxy(Arc<State>);

type ProxyResponse = Response<Full<Bytes>>;

impl tower_service::Service<Request<Incoming>> for Proxy {
    type Response = ProxyResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<ProxyResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let state = Arc::clone(&self.0);
        Box::pin(async move { Ok(state.upgrade(request).await) })
    }
}

/// Request headers the handshake to the upstream makes anew (or that belong to one hop).
const NOT_RELAYED: [&str; 12] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "te",
];

impl State {
    async fn upgrade(self: Arc<Self>, mut request: Request<Incoming>) -> ProxyResponse {
        let key = request
            .headers()
            .get(header::SEC_WEBSOCKET_KEY)
            .and_then(|key| key.to_str().ok())
            .map(str::to_owned);
        let is_upgrade = request
            .headers()
            .get(header::UPGRADE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
        let Some(key) = key.filter(|_| is_upgrade) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "ws-test record relays WebSocket upgrades to {}; this request is not one",
                    self.upstream
                ),
            );
        };
        if *self.stop.borrow() || !self.reserve() {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "ws-test record has taken all the sessions it records".to_owned(),
            );
        }
        let url = self.upstream_url(request.uri());
        let mut builder = WsClient::builder(&url).connect_timeout(timeout::scaled(timeout::CONNECT));
        #[cfg(feature = "tls")]
        {
            builder = builder.trust(&self.trust);
        }
        for (name, value) in request.headers() {
            if name == header::SEC_WEBSOCKET_PROTOCOL {
                for protocol in value.to_str().unwrap_or_default().split(',') {
                    builder = builder.subprotocol(protocol.trim());
                }
            } else if !NOT_RELAYED.contains(&name.as_str()) {
                if let Ok(value) = value.to_str() {
                    builder = builder.header(name.as_str(), value);
                }
            }
        }
        let (upstream, subprotocol) = match builder.open().await {
            Ok(opened) => opened,
            Err(error) => {
                self.release();
                return match error {
                    Error::Rejected { status, body, .. } => {
                        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                        text(status, body)
                    }
                    other => text(
                        StatusCode::BAD_GATEWAY,
                        format!("ws-test record could not reach the upstream server: {other}"),
                    ),
                };
            }
        };
        let number = self.admit();
        let on_upgrade = hyper::upgrade::on(&mut request);
        let state = Arc::clone(&self);
        let recorded_url = self.recorded_url(&url);
        crate::task::spawn_into(&mut lock(&self.relays), async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let config = wire::socket_config(None);
                    let client =
                        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    state.relay(number, recorded_url, client, upstream).await;
                }
                Err(error) => {
                    tracing::debug!(%error, "the client's upgrade did not complete");
                    state.session_ended();
                }
            }
        });
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        wire::switching_protocols(response.headers_mut(), &key, subprotocol.as_deref());
        response
    }

    /// Takes a place for a session being connected, unless the limit is reached.
    fn reserve(&self) -> bool {
        let mut admission = lock(&self.admission);
        if self
            .limit
            .is_some_and(|limit| admission.started + admission.connecting >= limit)
        {
            return false;
        }
        admission.connecting += 1;
        true
    }

    fn release(&self) {
        lock(&self.admission).connecting -= 1;
    }

    /// The upstream accepted: the session's number, from 1.
    fn admit(&self) -> usize {
        let mut admission = lock(&self.admission);
        admission.connecting -= 1;
        admission.started += 1;
        admission.started
    }

    fn session_ended(&self) {
        self.ended.send_modify(|ended| *ended += 1);
    }

    /// The upstream's scheme and authority with the client's path and query.
    fn upstream_url(&self, requested: &Uri) -> String {
        let path = requested.path_and_query().map_or("/", |path| path.as_str());
        let authority = self.upstream.authority().map_or("", |authority| authority.as_str());
        let scheme = self.upstream.scheme_str().unwrap_or("ws");
        format!("{scheme}://{authority}{path}")
    }

    /// `url` with redacted query parameters.
    fn recorded_url(&self, url: &str) -> String {
        let Some((base, query)) = url.split_once('?') else {
            return url.to_owned();
        };
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let redacted = self.redact.iter().any(|field| *field == name);
            serializer.append_pair(&name, if redacted { crate::history::REDACTED } else { &value });
        }
        format!("{base}?{}", serializer.finish())
    }

    /// Starts session `number`'s record (and its file, header first).
    fn open_record(&self, number: usize, url: String) -> Arc<Mutex<Record>> {
        let history = History::new().with_url(url);
        let mut record = Record {
            history,
            file: None,
            write_error: None,
            reader: self.protocol.as_deref().map(crate::protocol::Reader::new),
        };
        if let Some(out) = &self.out {
            let path = Recorder::session_path(out, number);
            match std::fs::File::create(&path) {
                Ok(file) => {
                    record.file = Some((path, file));
                    let header = header_line(&record.history);
                    record.write(&header);
                }
                Err(error) => record.write_error = Some(format!("cannot create {}: {error}", path.display())),
            }
        }
        let record = Arc::new(Mutex::new(record));
        lock(&self.records).insert(number, Arc::clone(&record));
        record
    }

    /// Relays one session until both sides are done (or the recorder stops), recording every frame after it
    /// is relayed.
    async fn relay<C>(
        &self,
        number: usize,
        url: String,
        mut client: WebSocketStream<C>,
        mut upstream: crate::client::Socket,
    ) where
        C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let record = self.open_record(number, url);
        let mut stop = self.stop.subscribe();
        let (mut from_client, mut from_upstream) = (Side::default(), Side::default());
        let mut stopping = false;
        // Once one side is done (or the recorder stops), the other has the close timeout to finish.
        let mut deadline: Option<Instant> = None;
        let grace = timeout::scaled(timeout::CLOSE);
        while !(from_client.done && from_upstream.done) {
            let until_deadline = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = client.next(), if !from_client.done => match frame {
                    Some(Ok(frame)) => self.pass(frame, &mut from_client, &mut upstream, &record, Direction::Out).await,
                    _ => {
                        from_client.end(&from_upstream, &mut upstream, "the client went away").await;
                        deadline.get_or_insert(Instant::now() + grace);
                    }
                },
                frame = upstream.next(), if !from_upstream.done => match frame {
                    Some(Ok(frame)) => self.pass(frame, &mut from_upstream, &mut client, &record, Direction::In).await,
                    _ => {
                        from_upstream.end(&from_client, &mut client, "the upstream server went away").await;
                        deadline.get_or_insert(Instant::now() + grace);
                    }
                },
                _ = stopped(&mut stop), if !stopping => {
                    stopping = true;
                    let reason = "ws-test record is stopping";
                    if from_client.open() {
                        let _ = client.send(close(close_code::GOING_AWAY, reason)).await;
                    }
                    if from_upstream.open() {
                        let _ = upstream.send(close(close_code::GOING_AWAY, reason)).await;
                    }
                    deadline.get_or_insert(Instant::now() + grace);
                },
                () = until_deadline => break,
            }
        }
        lock(&record).finish();
        self.session_ended();
    }
}

impl State {
    /// Relays a frame read from one side to the other, then records it.
    async fn pass<S>(&self, frame: WsMessage, from: &mut Side, to: &mut S, record: &Mutex<Record>, direction: Direction)
    where
        S: futures_util::Sink<WsMessage> + Unpin,
    {
        from.closed |= matches!(frame, WsMessage::Close(_));
        let kind = frame_kind(&frame, &self.redact);
        let _ = to.send(frame).await;
        lock(record).push(direction, kind);
    }
}

/// What one side of a relayed session did: ended (its stream is over), sent a close frame.
#[derive(Debug, Default)]
struct Side {
    done: bool,
    closed: bool,
}

impl Side {
    /// Whether the side may still take a close from the recorder.
    fn open(&self) -> bool {
        !self.done && !self.closed
    }

    /// The side's stream ended; when it went without a close frame, the other side is told with 1001.
    async fn end<S>(&mut self, other: &Side, to_other: &mut S, why: &str)
    where
        S: futures_util::Sink<WsMessage> + Unpin,
    {
        self.done = true;
        if !self.closed && !other.done {
            let _ = to_other.send(close(close_code::GOING_AWAY, why)).await;
        }
    }
}

impl Record {
    fn push(&mut self, direction: Direction, kind: FrameKind) {
        let decoded = self.reader.as_mut().and_then(|reader| reader.read(direction, &kind));
        let index = self.history.record(direction, kind);
        if let Some(decoded) = decoded {
            self.history.set_decoded(index, decoded);
        }
        let line = frame_line(&self.history.frames()[index]);
        self.write(&line);
    }

    /// Appends a line to the file, at once: what was relayed is on disk before the next frame is read.
    fn write(&mut self, line: &str) {
        use std::io::Write as _;
        let Some((path, file)) = &mut self.file else { return };
        let written = file.write_all(line.as_bytes()).and_then(|()| file.write_all(b"\n"));
        if let Err(error) = written {
            self.write_error
                .get_or_insert_with(|| format!("cannot write {}: {error}", path.display()));
        }
    }

    fn finish(&mut self) {
        if let Some((path, file)) = &mut self.file {
            if let Err(error) = file.sync_data() {
                self.write_error
                    .get_or_insert_with(|| format!("cannot write {}: {error}", path.display()));
            }
        }
    }
}

/// What a relayed frame is in the recording (text redacted).
fn frame_kind(frame: &WsMessage, fields: &[String]) -> FrameKind {
    match frame {
        WsMessage::Text(text) => FrameKind::Text(redact(text.as_str(), fields).unwrap_or_else(|| text.to_string())),
        WsMessage::Binary(bytes) => FrameKind::Binary(bytes.to_vec()),
        WsMessage::Ping(bytes) => FrameKind::Ping(bytes.to_vec()),
        WsMessage::Pong(bytes) => FrameKind::Pong(bytes.to_vec()),
        WsMessage::Close(frame) => match frame {
            Some(frame) => FrameKind::Close {
                code: frame.code.into(),
                reason: frame.reason.to_string(),
            },
            None => FrameKind::Close {
                code: close_code::NO_STATUS,
                reason: String::new(),
            },
        },
        WsMessage::Frame(frame) => FrameKind::Binary(frame.payload().to_vec()),
    }
}

/// Resolves once the recorder is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn close(code: u16, reason: &str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

fn text(status: StatusCode, body: String) -> ProxyResponse {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

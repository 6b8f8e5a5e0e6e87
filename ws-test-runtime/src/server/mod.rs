//! [`EmbeddedServer`]: an in-process WebSocket server on an ephemeral loopback port, one per test.
//!
//! The listener is a tokio socket with a large backlog; each accepted connection is served by hyper's HTTP/1.1
//! server with upgrades, the RFC 6455 handshake is answered here, and the upgraded stream runs through
//! tokio-tungstenite into the configured [`Handler`]. A registry of open connections feeds
//! [`broadcast`](EmbeddedServer::broadcast), [`metrics`](EmbeddedServer::metrics) and shutdown, which closes
//! every connection with 1001 and leaves no task or socket behind.

mod app;
mod builder;
mod connection;
#[cfg(feature = "fuzz")]
pub(crate) mod fuzzing;
mod hostile;
mod http;
mod registry;
mod upgrade;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_core::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use app::HostedApp;
use app::Upgraded;
use app::sealed::App;
pub use builder::{AppServerBuilder, ServerBuilder};
pub use hostile::TransportFault;
pub use registry::ConnectionInfo;
use registry::Registry;

use crate::client::{ClientBuilder, WsClient};
use crate::handler::DynHandler;
use crate::message::{CloseInfo, json_text};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::panics::panic_message;
use crate::session::Hub;
use crate::transport::{MemoryListener, Stream, Transport};
use crate::wire::close_code;
use crate::{Error, Result};

pub(crate) use crate::wire::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_PATH};

/// The listen backlog: tokio's default of 128 overflows when a test opens a thousand connections at once,
/// and the kernel's SYN retries then cost a full second.
const BACKLOG: u32 = 4096;
/// The default of [`ServerBuilder::max_pending`]: as many connections in their HTTP phase as the backlog holds.
pub(crate) const DEFAULT_MAX_PENDING: usize = BACKLOG as usize;

/// An embedded WebSocket server, listening until [`shutdown`](Self::shutdown) or drop.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?; // the built-in chat agent on 127.0.0.1:<free port>/ws
/// let mut client = WsClient::connect(&server.url()).await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(&json!({"type": "ping"})).await?;
/// client.expect_type("pong").await?;
/// assert_eq!(server.metrics().connections_active, 1);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub struct EmbeddedServer {
    /// The TCP address, or `None` over the in-memory transport.
    addr: Option<SocketAddr>,
    /// `127.0.0.1:PORT`, or the in-memory server's host.
    authority: String,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
    /// The network its clients go through ([`ServerBuilder::link`]).
    link: Option<crate::LinkControl>,
    /// What [`link`](Self::link) answers without one: controls no connection goes through.
    idle_link: crate::LinkControl,
}

impl std::fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("url", &self.url())
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// Settings of a server, fixed when it starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) path: String,
    pub(crate) token: Option<String>,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) max_message_size: usize,
    pub(crate) max_connections: Option<usize>,
    pub(crate) subprotocols: Vec<String>,
    /// How long a connection's HTTP request may take (explicit, or the scaled default).
    pub(crate) handshake_timeout: Duration,
    /// Close a WebSocket connection after this long without a frame from its client.
    pub(crate) idle_timeout: Option<Duration>,
    /// The most connections in their HTTP phase (accepted, not upgraded) at once.
    pub(crate) max_pending: usize,
    /// A transport-level misbehaviour on every connection.
    pub(crate) transport_fault: Option<TransportFault>,
    /// The protocol ws-test's own server speaks to its clients (its server side), if not plain frames.
    pub(crate) protocol: Option<crate::protocol::SharedProtocol>,
}

/// The front end of the listener core: what answers each connection it accepts.
#[derive(Clone)]
enum FrontEnd {
    /// ws-test's own HTTP side and WebSocket sessions, with this handler.
    Own(Arc<dyn DynHandler>),
    /// A hosted tower app, which answers every request itself.
    App(Arc<dyn App>),
}

/// What the server's tasks share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// What answers the connections the core accepts.
    front: FrontEnd,
    pub(crate) registry: Registry,
    /// The connections a hosted app upgraded.
    pub(crate) upgraded: Upgraded,
    pub(crate) metrics: Metrics,
    pub(crate) shutdown: watch::Sender<bool>,
    /// One permit per WebSocket connection, taken at the upgrade decision (with `max_connections`).
    pub(crate) connection_slots: Option<Arc<Semaphore>>,
    /// One permit per connection in its HTTP phase, taken at accept.
    pending_slots: Arc<Semaphore>,
    failures: Mutex<Vec<String>>,
    /// The certificate and acceptor of a TLS server.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ServerTls>,
}

impl Shared {
    pub(crate) fn record_panic(&self, message: String) {
        self.metrics.handler_panics.fetch_add(1, Ordering::Relaxed);
        self.record_error(message);
    }

    /// Whether this server speaks TLS.
    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    pub(crate) fn record_error(&self, message: String) {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(message);
    }
}

impl Hub for Shared {
    fn broadcast(&self, text: String) -> usize {
        self.registry.broadcast(text, &self.metrics)
    }

    fn record_panic(&self, message: String) {
        Shared::record_panic(self, message);
    }

    fn record_failure(&self, message: String) {
        self.record_error(message);
    }
}

impl EmbeddedServer {
    /// Starts the default server: the built-in [`ChatAgent`](crate::ChatAgent) on `127.0.0.1`, a port the OS picks, path `/ws`.
    pub async fn start() -> Result<Self> {
        Self::builder().start().await
    }

    /// A builder for every other configuration.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// A builder for a server that hosts your tower app (an `axum::Router`, any tower service): the same as
    /// `EmbeddedServer::builder().app(app)`.
    pub fn app(app: impl HostedApp) -> AppServerBuilder {
        Self::builder().app(app)
    }

    /// The WebSocket URL: `ws://127.0.0.1:PORT/ws` over TCP, `ws://memory-N.invalid/ws` over the in-memory
    /// transport (a name only clients of this process can reach); `wss://` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority, self.shared.config.path)
    }

    /// The HTTP base URL, `http://127.0.0.1:PORT` (for `/health`); `https://` for a TLS server.
    pub fn http_url(&self) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }

    /// Whether clients must speak TLS to this server (`ServerBuilder::tls_self_signed`, `ServerBuilder::tls`;
    /// the `tls` feature).
    pub fn is_tls(&self) -> bool {
        self.shared.is_tls()
    }

    /// The certificate a TLS server presents, as PEM (`None` without TLS): give it to a client to trust exactly
    /// this server — [`ClientBuilder::root_certificate`], Python's `ssl.create_default_context(cafile=...)`,
    /// Node's `ca` option, `SSL_CERT_FILE`. [`client`](Self::client) and [`connect`](Self::connect) trust it
    /// already.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::builder().tls_self_signed().start().await?;
    /// assert!(server.url().starts_with("wss://127.0.0.1:"));
    /// let pem = server.certificate_pem().expect("a TLS server has a certificate");
    /// assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    /// let mut client = server.connect().await?; // trusts exactly this certificate
    /// client.expect_type("connection_established").await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    #[cfg(feature = "tls")]
    pub fn certificate_pem(&self) -> Option<&str> {
        self.shared.tls.as_ref().map(crate::tls::ServerTls::certificate_pem)
    }

    /// The address the server listens on (for a raw `TcpStream`, an HTTP request, a port in a file name).
    ///
    /// Over [`Transport::Memory`] no address is bound: that is an [`Error::Config`] saying to use
    /// [`url`](Self::url), which works over both. The same shape as
    /// [`ServedServer::local_addr`](crate::ServedServer::local_addr) and `Recorder::local_addr`.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.addr.ok_or_else(|| {
            Error::Config(format!(
                "the embedded server at {} runs over the in-memory transport and has no socket address; use \
                 `server.url()`, which clients of this process can reach",
                self.url()
            ))
        })
    }

    /// How clients reach this server.
    pub fn transport(&self) -> Transport {
        match self.addr {
            Some(_) => Transport::Tcp,
            None => Transport::Memory,
        }
    }

    /// A client builder aimed at this server (add a token, a user id, timeouts, then `connect`); for a TLS
    /// server it trusts the server's certificate.
    pub fn client(&self) -> ClientBuilder {
        let mut builder = WsClient::builder(self.url());
        if let Some(link) = &self.link {
            builder = builder.link(link);
        }
        #[cfg(feature = "tls")]
        if let Some(pem) = self.certificate_pem() {
            return builder.root_certificate(pem);
        }
        builder
    }

    /// Connects a client with the default options.
    pub async fn connect(&self) -> Result<WsClient> {
        self.client().connect().await
    }

    /// The controls of the network between this server and its clients ([`ServerBuilder::link`],
    /// `#[ws_test(link = "...")]`): `server.link().stall(d)`, `.cut()`, `.heal()`, `.stats()`, plain methods.
    /// A server started without a link has no connection on one: its controls then say so on stderr when used,
    /// and affect nothing.
    pub fn link(&self) -> &crate::LinkControl {
        self.link.as_ref().unwrap_or(&self.idle_link)
    }

    /// The name of the event this server's handler sends first on every connection, if it sends one
    /// ([`Handler::welcome`](crate::Handler::welcome); a hosted app: none).
    pub fn welcome(&self) -> Option<&str> {
        match &self.shared.front {
            FrontEnd::Own(handler) => handler.welcome(),
            FrontEnd::App(_) => None,
        }
    }

    /// A copy of the server's counters now.
    pub fn metrics(&self) -> MetricsSnapshot {
        let mut snapshot = self.shared.metrics.snapshot();
        let free = self.shared.pending_slots.available_permits();
        snapshot.connections_pending = self.shared.config.max_pending.saturating_sub(free) as u64;
        snapshot
    }

    /// The open WebSocket connections, in the order they opened (for a hosted app: those it upgraded and
    /// still holds).
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        match self.shared.front {
            FrontEnd::App(_) => self.shared.upgraded.list(),
            FrontEnd::Own(_) => self.shared.registry.list(),
        }
    }

    /// Sends a JSON value to every open connection; returns how many connections it was queued for.
    ///
    /// It never waits for a slow peer: a connection whose outbound queue is full (its client stopped reading
    /// while 1,024 frames piled up) does not get the frame; it is closed with 1008 and the reason
    /// `"too slow: ..."` instead, and counted in [`MetricsSnapshot::closed_too_slow`]. So no frame is lost
    /// silently: the client either receives every broadcast or learns from the close that it missed some.
    ///
    /// A hosted app owns its connections, so on a server with [`app`](ServerBuilder::app) this is an
    /// [`Error::Config`]: broadcast from the app.
    pub async fn broadcast(&self, value: impl Serialize) -> Result<usize> {
        if let FrontEnd::App(_) = self.shared.front {
            return Err(Error::Config(
                "broadcast goes through ws-test's own handlers; a hosted app owns its connections, so \
                 broadcast from the app"
                    .into(),
            ));
        }
        let text = json_text(value)?;
        Ok(self.shared.registry.broadcast(text, &self.shared.metrics))
    }

    /// Panics of handlers and connection tasks, and failures handlers reported ([`Session::report_failure`](crate::Session::report_failure):
    /// a replay that diverged), so far, one sentence each.
    ///
    /// A test driver fails the test when this is not empty: a server-side panic must not vanish.
    pub fn failures(&self) -> Vec<String> {
        self.shared
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Stops the server: the listener closes (the port refuses connections from now on), every open connection
    /// gets close 1001, and every task is joined (those still running after a grace period are aborted). Then
    /// says whether the server ran without failure: an [`Error::ServerFailed`] lists its
    /// [`failures`](Self::failures) (a handler's panic, a replay that diverged), which a test must not lose.
    ///
    /// Calling it twice is harmless (the answer is the same); dropping the server stops it without waiting. The
    /// same verb and shape as [`ServedServer::shutdown`](crate::ServedServer::shutdown) and `Recorder::shutdown`.
    pub async fn shutdown(&mut self) -> Result<()> {
        self.shared.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                if error.is_panic() {
                    self.shared.record_panic(format!(
                        "the server task panicked: {}",
                        panic_message(error.into_panic().as_ref())
                    ));
                }
            }
        }
        let failures = self.failures();
        if failures.is_empty() {
            return Ok(());
        }
        Err(Error::ServerFailed {
            server: format!("the server at {}", self.url()),
            failures,
        })
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        // The accept task sees the signal, closes the listener and the connections, and ends by itself.
        self.shared.shutdown.send_replace(true);
    }
}

pub(crate) fn listen(addr: SocketAddr) -> Result<TcpListener> {
    let bind_error = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(bind_error)?;
    socket.set_reuseaddr(true).map_err(bind_error)?;
    socket.bind(addr).map_err(bind_error)?;
    socket.listen(BACKLOG).map_err(bind_error)
}

/// Where connections come from.
enum Listener {
    Tcp(TcpListener),
    Memory(MemoryListener),
}

impl Listener {
    /// The next connection; `None` when no more can come (an in-memory server whose name is gone).
    async fn accept(&mut self) -> Option<std::io::Result<Stream>> {
        match self {
            Listener::Tcp(listener) => Some(listener.accept().await.map(|(stream, peer)| {
                let _ = stream.set_nodelay(true);
                crate::logging::log!(trace, %peer, "accepted a TCP connection");
                Stream::Tcp(stream)
            })),
            Listener::Memory(listener) => listener.accept().await.map(|stream| Ok(Stream::Memory(stream))),
        }
    }
}

async fn accept_loop(mut listener: Listener, shared: Arc<Shared>, grace: Duration) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut shutdown) => break,
            Some(joined) = connections.join_next(), if !connections.is_empty() => reap(&shared, joined),
            accepted = listener.accept() => match accepted {
                Some(Ok(stream)) => {
                    let Ok(pending) = Arc::clone(&shared.pending_slots).try_acquire_owned() else {
                        shed(&shared, stream);
                        continue;
                    };
                    crate::task::spawn_into(&mut connections, serve(Arc::clone(&shared), stream, pending));
                }
                None => break,
                Some(Err(error)) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    crate::logging::log!(warn, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            },
        }
    }
    drop(listener);
    shared
        .registry
        .close_all(&CloseInfo::new(close_code::GOING_AWAY, "server shutting down"));
    shared.upgraded.close_all();
    let drained = tokio::time::timeout(grace, async {
        while let Some(joined) = connections.join_next().await {
            reap(&shared, joined);
        }
        shared.upgraded.released().await;
    })
    .await;
    if drained.is_err() {
        if shared.upgraded.len() > 0 {
            crate::logging::log!(
                warn,
                remaining = shared.upgraded.len(),
                "the hosted app still holds WebSocket streams that shutdown ended; its tasks did not finish"
            );
        }
        crate::logging::log!(
            warn,
            remaining = connections.len(),
            "aborting connections that outlived the shutdown grace period"
        );
        connections.abort_all();
        while let Some(joined) = connections.join_next().await {
            reap(&shared, joined);
        }
    }
}

/// One connection's task: the TLS handshake on a TLS server (within the handshake timeout), then the hosted app
/// or ws-test's own HTTP side.
async fn serve(shared: Arc<Shared>, stream: Stream, pending: tokio::sync::OwnedSemaphorePermit) {
    #[cfg(feature = "tls")]
    let stream = match &shared.tls {
        Some(tls) => match tls.accept(stream, shared.config.handshake_timeout).await {
            Ok(stream) => stream,
            Err(error) => {
                if error.kind() == std::io::ErrorKind::TimedOut {
                    shared.metrics.handshakes_timed_out.fetch_add(1, Ordering::Relaxed);
                }
                // A client that does not trust the certificate ends here: its side says why.
                crate::logging::log!(info, %error, "a TLS handshake failed");
                return;
            }
        },
        None => stream,
    };
    match shared.front.clone() {
        FrontEnd::App(app) => app::serve(shared, app, stream, pending).await,
        FrontEnd::Own(handler) => connection::serve(shared, handler, stream, pending).await,
    }
}

/// Answers a connection over the [`max_pending`](ServerBuilder::max_pending) cap with `503` without reading
/// its request (a best-effort write that never waits) and drops it.
fn shed(shared: &Shared, stream: Stream) {
    shared.metrics.connections_shed.fetch_add(1, Ordering::Relaxed);
    let body = format!(
        "the server already holds its maximum of {} connection(s) in their HTTP request \
         (ServerBuilder::max_pending)\n",
        shared.config.max_pending
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    crate::logging::log!(
        warn,
        max_pending = shared.config.max_pending,
        "shedding a connection over the pending cap"
    );
    // A TLS client would read the plain answer as a broken handshake: it just sees the connection end.
    if let (Stream::Tcp(stream), false) = (&stream, shared.is_tls()) {
        let _ = stream.try_write(response.as_bytes());
    }
}

fn reap(shared: &Shared, joined: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        if error.is_panic() {
            let message = panic_message(error.into_panic().as_ref());
            crate::logging::log!(error, panic = %message, "a connection task panicked");
            shared.record_panic(format!("a connection task panicked: {message}"));
        }
    }
}

/// Resolves once the shutdown signal is set (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

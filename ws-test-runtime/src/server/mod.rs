//! [`EmbeddedServer`]: an in-process WebSocket server on an ephemeral loopback port, one per test.
//!
//! The listener is a tokio socket with a large backlog; each accepted connection is served by hyper's HTTP/1.1
//! server with upgrades, the RFC 6455 handshake is answered here, and the upgraded stream runs through
//! tokio-tungstenite into the configured [`Handler`]. A registry of open connections feeds
//! [`broadcast`](EmbeddedServer::broadcast), [`metrics`](EmbeddedServer::metrics) and shutdown, which closes
//! every connection with 1001 and leaves no task or socket behind.

mod app;
mod connection;
pub(crate) mod fuzzing;
mod hostile;
mod registry;
mod upgrade;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use app::HostedApp;
use app::Upgraded;
use app::sealed::App;
pub use hostile::TransportFault;
pub use registry::ConnectionInfo;
use registry::Registry;

use crate::chat_agent::ChatAgent;
use crate::client::{ClientBuilder, WsClient};
use crate::handler::{DynHandler, Handler};
use crate::message::{CloseInfo, json_text};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::panics::panic_message;
use crate::protocol::{self, close_code};
use crate::session::Hub;
use crate::transport::{MemoryListener, Stream, Transport};
use crate::{Error, Result, timeout};

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
    /// Starts the default server: the built-in [`ChatAgent`] on `127.0.0.1`, a port the OS picks, path `/ws`.
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

    /// The address the server listens on.
    ///
    /// # Panics
    ///
    /// Over [`Transport::Memory`] no address is bound: use [`local_addr`](Self::local_addr), which says so
    /// with `None`, or [`url`](Self::url).
    pub fn addr(&self) -> SocketAddr {
        match self.addr {
            Some(addr) => addr,
            None => panic!(
                "the embedded server at {} runs over the in-memory transport and has no socket address; \
                 use `server.url()` (or `local_addr()`, which returns `None` here)",
                self.url()
            ),
        }
    }

    /// The address the server listens on, or `None` over the in-memory transport.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
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
        let builder = WsClient::builder(self.url());
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
    /// gets close 1001, and every task is joined (those still running after a grace period are aborted).
    ///
    /// Calling it twice is harmless; dropping the server does the same without waiting.
    pub async fn shutdown(&mut self) {
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
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        // The accept task sees the signal, closes the listener and the connections, and ends by itself.
        self.shared.shutdown.send_replace(true);
    }
}

/// Configures an [`EmbeddedServer`]; every setting has the `PROTOCOL.md` default.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::builder()
///     .path("/chat")
///     .token("s3cret")
///     .allow_origin("https://app.example")
///     .max_message_size(64 * 1024)
///     .max_connections(100)
///     .handler(ChatAgent::new().agent_name("Support"))
///     .start()
///     .await?;
/// let client = server.client().token("s3cret").user_id("alice").connect().await?;
/// # drop(client);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub struct ServerBuilder {
    core: Core,
    handler: Option<Arc<dyn DynHandler>>,
}

/// The settings of the listener core: binding, transports, the HTTP phase's limits, shutdown, TLS.
struct Core {
    bind: SocketAddr,
    transport: Transport,
    config: Config,
    /// Explicit values are taken as written; `None` is the scaled default.
    grace: Option<Duration>,
    handshake_timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::Certificate>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "tls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        f.debug_struct("Core")
            .field("bind", &self.bind)
            .field("transport", &self.transport)
            .field("config", &self.config)
            .field("tls", &tls)
            .finish()
    }
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("core", &self.core)
            .field("custom_handler", &self.handler.is_some())
            .finish()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            core: Core {
                bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                transport: Transport::Tcp,
                config: Config {
                    path: protocol::DEFAULT_PATH.to_owned(),
                    token: None,
                    allowed_origins: Vec::new(),
                    max_message_size: protocol::DEFAULT_MAX_MESSAGE_SIZE,
                    max_connections: None,
                    subprotocols: Vec::new(),
                    handshake_timeout: timeout::HANDSHAKE,
                    idle_timeout: None,
                    max_pending: DEFAULT_MAX_PENDING,
                    transport_fault: None,
                },
                grace: None,
                handshake_timeout: None,
                #[cfg(feature = "tls")]
                tls: None,
            },
            handler: None,
        }
    }
}

/// The settings of the listener core, the same on every front end: written once, expanded into each builder.
macro_rules! core_settings {
    () => {
        /// The address to listen on (default `127.0.0.1:0`: loopback, a port the OS picks).
        pub fn bind(mut self, addr: SocketAddr) -> Self {
            self.core.bind = addr;
            self
        }

        /// Listens on this port of the bind address (0, the default, lets the OS pick).
        pub fn port(mut self, port: u16) -> Self {
            self.core.bind.set_port(port);
            self
        }

        /// How clients reach the server (default [`Transport::Tcp`]); with [`Transport::Memory`] no port is bound
        /// and `bind`/`port` are not used.
        pub fn transport(mut self, transport: Transport) -> Self {
            self.core.transport = transport;
            self
        }

        /// The WebSocket path (default `/ws`); it must start with `/` and cannot be `/health`.
        pub fn path(mut self, path: impl Into<String>) -> Self {
            self.core.config.path = path.into();
            self
        }

        /// The most connections in their HTTP phase at once — accepted, not (yet) upgraded (default 4,096). A
        /// connection beyond it is answered `503` without reading its request and closed at once, so a flood of
        /// half-open requests cannot hold the server's memory; each of those holds a slot for at most the
        /// [`handshake_timeout`](Self::handshake_timeout).
        pub fn max_pending(mut self, max: usize) -> Self {
            self.core.config.max_pending = max;
            self
        }

        /// How long a connection may take to send a complete HTTP request head — the upgrade request included —
        /// before it is dropped (default 10 s, scaled by `WS_TEST_TIMEOUT_SCALE`; an explicit value is taken as
        /// written). The same deadline ends keep-alive connections that send nothing; the server keeps serving
        /// everyone else. Counted in [`MetricsSnapshot::handshakes_timed_out`]. Applies to hosted apps too.
        pub fn handshake_timeout(mut self, within: Duration) -> Self {
            self.core.handshake_timeout = Some(within);
            self
        }

        /// How long shutdown waits for connections to finish their close handshake before aborting them
        /// (default 2 s, scaled by `WS_TEST_TIMEOUT_SCALE`; an explicit value is taken as written).
        pub fn shutdown_grace(mut self, grace: Duration) -> Self {
            self.core.grace = Some(grace);
            self
        }

        /// Serves over TLS with a certificate made now for `localhost`, `127.0.0.1` and `::1` (and the bind address,
        /// or the in-memory server's name), so that clients which insist on `wss://` can be tested. The URL becomes
        /// `wss://...`; [`EmbeddedServer::certificate_pem`] is the certificate for the client to trust, and
        /// `server.client()` trusts it already. Needs the `tls` feature.
        ///
        /// ```
        /// use ws_test_runtime::prelude::*;
        ///
        /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
        /// let server = EmbeddedServer::builder().tls_self_signed().start().await?;
        /// let mut client = WsClient::builder(server.url())
        ///     .root_certificate(server.certificate_pem().unwrap())
        ///     .connect()
        ///     .await?;
        /// client.expect_type("connection_established").await?;
        /// # Ok(())
        /// # }
        /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
        /// ```
        #[cfg(feature = "tls")]
        pub fn tls_self_signed(mut self) -> Self {
            self.core.tls = Some(crate::tls::Certificate::SelfSigned);
            self
        }

        /// Serves over TLS with this certificate chain (PEM, the server's certificate first) and private key (PEM:
        /// PKCS #8, PKCS #1 or SEC1). A text without a certificate or key, or a key that does not match, fails
        /// [`start`](Self::start) with [`Error::Config`]. Needs the `tls` feature.
        #[cfg(feature = "tls")]
        pub fn tls(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
            self.core.tls = Some(crate::tls::Certificate::Pem {
                chain: cert_pem.as_ref().into(),
                key: key_pem.as_ref().into(),
            });
            self
        }
    };
}

impl ServerBuilder {
    core_settings!();

    /// Requires this token on every upgrade (`Authorization: Bearer TOKEN` or `?token=TOKEN`), else `401`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.core.config.token = Some(token.into());
        self
    }

    /// Adds an allowed `Origin`; once any is set, an upgrade with another `Origin` gets `403` (requests
    /// without an `Origin` header, as non-browser clients send them, are let through).
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.core.config.allowed_origins.push(origin.into());
        self
    }

    /// The largest message accepted, in bytes (default 1 MiB); a larger one is closed with 1009.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.core.config.max_message_size = bytes;
        self
    }

    /// The most WebSocket connections open at once; upgrades beyond it get `503` with a body naming this
    /// setting.
    ///
    /// A connection's slot is taken atomically when its upgrade is decided, before the `101` is sent, and given
    /// back when the connection has ended, so simultaneous upgrades cannot pass the limit together. Connections
    /// still in their HTTP request are capped separately by [`max_pending`](Self::max_pending).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.core.config.max_connections = Some(max);
        self
    }

    /// Misbehaves at the transport level on every connection, to test a client (see [`TransportFault`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::TransportFault;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::builder().transport_fault(TransportFault::HalfOpen).start().await?;
    /// let mut client = server.client().recv_timeout(Duration::from_millis(200)).connect().await?;
    /// let silent = client.expect_type("connection_established").await.unwrap_err();
    /// assert!(silent.to_string().contains("connection_established"), "{silent}");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn transport_fault(mut self, fault: TransportFault) -> Self {
        self.core.config.transport_fault = Some(fault);
        self
    }

    /// Closes a WebSocket connection with 1001 (reason `"idle for ..."`) when its client sent no frame (data,
    /// ping or pong) for this long (default: never). Counted in [`MetricsSnapshot::closed_idle`].
    pub fn idle_timeout(mut self, after: Duration) -> Self {
        self.core.config.idle_timeout = Some(after);
        self
    }

    /// Adds a subprotocol the server agrees to when a client offers it.
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.core.config.subprotocols.push(protocol.into());
        self
    }

    /// The handler of every connection (default: the built-in [`ChatAgent`]).
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// Hosts your own app — an `axum::Router` (with its state applied) or any tower service over
    /// `http::Request<hyper::body::Incoming>` — instead of ws-test's handler: every request goes to the app,
    /// with HTTP/1.1 upgrades enabled, so its routes, state, middleware, auth and `WebSocketUpgrade` handler run
    /// unchanged. Clients connect to [`path`](Self::path) (default `/ws`).
    ///
    /// ws-test watches the app from the transport side: [`metrics`](EmbeddedServer::metrics) counts the
    /// connections the app upgraded (`101`) or refused (any other answer to an upgrade request) and the
    /// WebSocket frames both ways; [`connections`](EmbeddedServer::connections) lists the upgraded ones;
    /// shutdown ends them at the transport (the app reads the end of its streams); and a panic in the app's
    /// task that holds a WebSocket lands in [`failures`](EmbeddedServer::failures) with its message.
    /// It returns an [`AppServerBuilder`], which offers only the settings of the listener core (path, transport,
    /// bind, limits of the HTTP phase, TLS): `token`, `allow_origin`, `subprotocol`, `max_message_size`,
    /// `max_connections`, `idle_timeout`, `transport_fault` and `handler` belong to ws-test's own server, so
    /// after `.app(..)` they do not compile (the app enforces its own); given before it, `start` refuses them.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::task::{Context, Poll};
    ///
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use hyper::{Request, Response, StatusCode, body::Incoming};
    /// use ws_test_runtime::prelude::*;
    ///
    /// /// A service that refuses every request with 403 (an `axum::Router` is hosted the same way).
    /// #[derive(Clone)]
    /// struct MembersOnly;
    ///
    /// impl tower_service::Service<Request<Incoming>> for MembersOnly {
    ///     type Response = Response<Full<Bytes>>;
    ///     type Error = Infallible;
    ///     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    ///
    ///     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
    ///         Poll::Ready(Ok(()))
    ///     }
    ///
    ///     fn call(&mut self, _: Request<Incoming>) -> Self::Future {
    ///         let mut response = Response::new(Full::new(Bytes::from("members only")));
    ///         *response.status_mut() = StatusCode::FORBIDDEN;
    ///         std::future::ready(Ok(response))
    ///     }
    /// }
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::builder().app(MembersOnly).path("/chat/ws").start().await?;
    /// let refused = server.connect().await.unwrap_err(); // at once: a refusal is an answer, not a retry
    /// assert!(refused.to_string().contains("403"), "{refused}");
    /// assert_eq!(server.metrics().connections_refused, 1);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn app(self, app: impl HostedApp) -> AppServerBuilder {
        let given = own_settings_given(&self.core.config, self.handler.is_some());
        AppServerBuilder {
            core: self.core,
            app: app.into_app(),
            given,
        }
    }

    /// Binds the listener and starts serving; the server is ready to accept when this returns.
    pub async fn start(self) -> Result<EmbeddedServer> {
        let config = &self.core.config;
        if config.path == "/health" {
            return Err(Error::Config(
                "the WebSocket path cannot be `/health`: ws-test's own server answers health checks there".into(),
            ));
        }
        if config.max_message_size == 0 {
            return Err(Error::Config(
                "the maximum message size must be at least one byte".into(),
            ));
        }
        if self.core.transport == Transport::Tcp && !self.core.bind.ip().is_loopback() && config.token.is_none() {
            tracing::warn!(
                bind = %self.core.bind,
                "listening beyond loopback without a token: anyone who can reach this address may connect \
                 (set a token with ServerBuilder::token or `ws-test serve --token`)"
            );
        }
        let handler = self.handler.unwrap_or_else(|| Arc::new(ChatAgent::new()));
        self.core.start(FrontEnd::Own(handler)).await
    }
}

/// Configures an [`EmbeddedServer`] that hosts your tower app ([`ServerBuilder::app`],
/// [`EmbeddedServer::app`]): only the settings of the listener core, which apply to every front end. The app
/// answers every request itself, so it enforces its own token, origins, subprotocols and limits.
pub struct AppServerBuilder {
    core: Core,
    app: Arc<dyn App>,
    /// ws-test's own settings given on the `ServerBuilder` before `.app(..)`: refused by `start`.
    given: Vec<&'static str>,
}

impl std::fmt::Debug for AppServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppServerBuilder")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl AppServerBuilder {
    core_settings!();

    /// Binds the listener and starts serving the app; the server is ready to accept when this returns.
    pub async fn start(self) -> Result<EmbeddedServer> {
        if !self.given.is_empty() {
            return Err(Error::Config(format!(
                "{} configure(s) ws-test's own server, but this server hosts an app, which answers every request \
                 itself: enforce it in the app (the clients still send a token with `client().token(..)`)",
                self.given.join(", ")
            )));
        }
        // A panic in the app's own WebSocket task is noticed when it drops the stream; the hook keeps its text.
        crate::panics::install_hook();
        self.core.start(FrontEnd::App(self.app)).await
    }
}

impl Core {
    /// The one accept/serve core: binds (TCP or memory), makes the TLS acceptor, and runs the accept loop with
    /// the pending limit, the handshake deadline and shutdown, handing each connection to `front`.
    async fn start(self, front: FrontEnd) -> Result<EmbeddedServer> {
        let Core {
            bind,
            transport,
            mut config,
            grace,
            handshake_timeout,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        let grace = grace.unwrap_or_else(|| timeout::scaled(timeout::SHUTDOWN_GRACE));
        config.handshake_timeout = handshake_timeout.unwrap_or_else(|| timeout::scaled(timeout::HANDSHAKE));
        if !config.path.starts_with('/') {
            return Err(Error::Config(format!(
                "the WebSocket path must start with `/`, but it is {:?}",
                config.path
            )));
        }
        check_limits(&config)?;
        let (listener, addr, authority) = match transport {
            Transport::Tcp => {
                let listener = listen(bind)?;
                let addr = listener.local_addr().map_err(|source| Error::Bind {
                    addr: bind.to_string(),
                    source,
                })?;
                (Listener::Tcp(listener), Some(addr), addr.to_string())
            }
            Transport::Memory => {
                let listener = MemoryListener::bind();
                let host = listener.host().to_owned();
                (Listener::Memory(listener), None, host)
            }
        };
        #[cfg(feature = "tls")]
        let tls = match &tls {
            Some(certificate) => Some(crate::tls::ServerTls::new(
                certificate,
                certificate_names(addr, &authority),
            )?),
            None => None,
        };
        let shared = Arc::new(Shared {
            front,
            registry: Registry::default(),
            upgraded: Upgraded::default(),
            metrics: Metrics::default(),
            shutdown: watch::channel(false).0,
            connection_slots: config.max_connections.map(|max| Arc::new(Semaphore::new(max))),
            pending_slots: Arc::new(Semaphore::new(config.max_pending)),
            config,
            failures: Mutex::new(Vec::new()),
            #[cfg(feature = "tls")]
            tls,
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), grace));
        tracing::debug!(%authority, "embedded server listening");
        Ok(EmbeddedServer {
            addr,
            authority,
            shared,
            task: Some(task),
        })
    }
}

/// The names a self-signed certificate is made for: loopback by name and address, and the address clients are
/// given (a specific bind address, or the in-memory server's host).
#[cfg(feature = "tls")]
fn certificate_names(addr: Option<SocketAddr>, authority: &str) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
    let own = match addr {
        Some(addr) if !addr.ip().is_unspecified() => addr.ip().to_string(),
        Some(_) => return names,
        None => authority.to_owned(),
    };
    if !names.contains(&own) {
        names.push(own);
    }
    names
}

/// Refuses limits that would refuse everything, naming the setting.
fn check_limits(config: &Config) -> Result<()> {
    let zero = [
        (config.max_connections == Some(0), "max_connections"),
        (config.max_pending == 0, "max_pending"),
        (config.handshake_timeout.is_zero(), "handshake_timeout"),
        (config.idle_timeout == Some(Duration::ZERO), "idle_timeout"),
    ];
    match zero.iter().find(|(is_zero, _)| *is_zero) {
        Some((_, setting)) => Err(Error::Config(format!(
            "{setting} is 0, so the server would refuse or drop every connection; give it a positive value"
        ))),
        None if config.max_connections.is_some_and(|max| max > Semaphore::MAX_PERMITS) => Err(Error::Config(format!(
            "max_connections is above the largest limit, {}",
            Semaphore::MAX_PERMITS
        ))),
        None if config.max_pending > Semaphore::MAX_PERMITS => Err(Error::Config(format!(
            "max_pending is above the largest limit, {}",
            Semaphore::MAX_PERMITS
        ))),
        None => Ok(()),
    }
}

/// The settings of ws-test's own server given on a builder, by name (refused when it then hosts an app).
fn own_settings_given(config: &Config, has_handler: bool) -> Vec<&'static str> {
    [
        (has_handler, "handler"),
        (config.token.is_some(), "token"),
        (!config.allowed_origins.is_empty(), "allow_origin"),
        (!config.subprotocols.is_empty(), "subprotocol"),
        (
            config.max_message_size != protocol::DEFAULT_MAX_MESSAGE_SIZE,
            "max_message_size",
        ),
        (config.max_connections.is_some(), "max_connections"),
        (config.transport_fault.is_some(), "transport_fault"),
        (config.idle_timeout.is_some(), "idle_timeout"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
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
                tracing::trace!(%peer, "accepted a TCP connection");
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
                    connections.spawn(serve(Arc::clone(&shared), stream, pending));
                }
                None => break,
                Some(Err(error)) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
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
            tracing::warn!(
                remaining = shared.upgraded.len(),
                "the hosted app still holds WebSocket streams that shutdown ended; its tasks did not finish"
            );
        }
        tracing::warn!(
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
                tracing::info!(%error, "a TLS handshake failed");
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
         (ServerBuilder::max_pending, `ws-test serve --max-pending`)\n",
        shared.config.max_pending
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    tracing::warn!(
        max_pending = shared.config.max_pending,
        "shedding a connection over the pending cap"
    );
    // A TLS client would read the plain answer as a broken handshake: it just sees the connection end.
    if let (Stream::Tcp(stream), false) = (&stream, shared.is_tls()) {
        let _ = stream.try_write(response.as_bytes());
    }
}

/// The HTTP phase of one connection: hyper's HTTP/1.1 server with upgrades and the handshake deadline (a
/// connection whose request head is not complete in time is dropped and counted). It ends when the connection
/// ends or is upgraded (`true`) or the server shuts down (`false`); then the pending slot goes back.
pub(crate) async fn serve_http<I, S, B>(
    shared: &Shared,
    io: I,
    service: S,
    pending: tokio::sync::OwnedSemaphorePermit,
) -> bool
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<hyper::Request<hyper::body::Incoming>, Response = hyper::Response<B>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(shared.config.handshake_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .with_upgrades();
    let mut shutdown = shared.shutdown.subscribe();
    let served = tokio::select! {
        result = connection => {
            if let Err(error) = result {
                http_error(shared, &error);
            }
            true
        }
        () = stopped(&mut shutdown) => false,
    };
    drop(pending);
    served
}

/// Logs how an HTTP connection ended with an error, and counts a handshake timeout.
fn http_error(shared: &Shared, error: &hyper::Error) {
    if error.is_timeout() {
        shared.metrics.handshakes_timed_out.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            within = ?shared.config.handshake_timeout,
            "dropped a connection whose HTTP request was not complete within the handshake timeout \
             (ServerBuilder::handshake_timeout, `ws-test serve --handshake-timeout`)"
        );
    } else {
        tracing::debug!(%error, "HTTP connection ended with an error");
    }
}

fn reap(shared: &Shared, joined: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        if error.is_panic() {
            let message = panic_message(error.into_panic().as_ref());
            tracing::error!(panic = %message, "a connection task panicked");
            shared.record_panic(format!("a connection task panicked: {message}"));
        }
    }
}

/// Resolves once the shutdown signal is set (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

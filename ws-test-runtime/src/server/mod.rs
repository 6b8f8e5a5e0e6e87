//! [`EmbeddedServer`]: an in-process WebSocket server on an ephemeral loopback port, one per test.
//!
//! The listener is a tokio socket with a large backlog; each accepted connection is served by hyper's HTTP/1.1
//! server with upgrades, the RFC 6455 handshake is answered here, and the upgraded stream runs through
//! tokio-tungstenite into the configured [`Handler`]. A registry of open connections feeds
//! [`broadcast`](EmbeddedServer::broadcast), [`metrics`](EmbeddedServer::metrics) and shutdown, which closes
//! every connection with 1001 and leaves no task or socket behind.

mod connection;
mod registry;
mod upgrade;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

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
use crate::{Error, Result, timeout};

/// The listen backlog: tokio's default of 128 overflows when a test opens a thousand connections at once,
/// and the kernel's SYN retries then cost a full second.
const BACKLOG: u32 = 4096;

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
    addr: SocketAddr,
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
}

/// What the server's tasks share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) registry: Registry,
    pub(crate) metrics: Metrics,
    pub(crate) shutdown: watch::Sender<bool>,
    failures: Mutex<Vec<String>>,
}

impl Shared {
    pub(crate) fn record_panic(&self, message: String) {
        self.metrics.handler_panics.fetch_add(1, Ordering::Relaxed);
        self.record_error(message);
    }

    pub(crate) fn record_error(&self, message: String) {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(message);
    }
}

impl Hub for Shared {
    fn broadcast(&self, text: String) -> Pin<Box<dyn Future<Output = usize> + Send + '_>> {
        Box::pin(self.registry.broadcast(text))
    }

    fn record_panic(&self, message: String) {
        Shared::record_panic(self, message);
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

    /// The WebSocket URL, `ws://127.0.0.1:PORT/ws`.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, self.shared.config.path)
    }

    /// The HTTP base URL, `http://127.0.0.1:PORT` (for `/health`).
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client builder aimed at this server (add a token, a user id, timeouts, then `connect`).
    pub fn client(&self) -> ClientBuilder {
        WsClient::builder(self.url())
    }

    /// Connects a client with the default options.
    pub async fn connect(&self) -> Result<WsClient> {
        self.client().connect().await
    }

    /// A copy of the server's counters now.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// The open WebSocket connections, in the order they opened.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.shared.registry.list()
    }

    /// Sends a JSON value to every open connection; returns how many connections it was queued for.
    pub async fn broadcast(&self, value: impl Serialize) -> Result<usize> {
        let text = json_text(value)?;
        Ok(self.shared.registry.broadcast(text).await)
    }

    /// Panics and errors of handlers and connection tasks so far, one sentence each.
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
                        panic_message(&error.into_panic())
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
    bind: SocketAddr,
    config: Config,
    handler: Option<Arc<dyn DynHandler>>,
    grace: Duration,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("bind", &self.bind)
            .field("config", &self.config)
            .field("custom_handler", &self.handler.is_some())
            .finish()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            config: Config {
                path: protocol::DEFAULT_PATH.to_owned(),
                token: None,
                allowed_origins: Vec::new(),
                max_message_size: protocol::DEFAULT_MAX_MESSAGE_SIZE,
                max_connections: None,
                subprotocols: Vec::new(),
            },
            handler: None,
            grace: Duration::from_secs(2),
        }
    }
}

impl ServerBuilder {
    /// The address to listen on (default `127.0.0.1:0`: loopback, a port the OS picks).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Listens on this port of the bind address (0, the default, lets the OS pick).
    pub fn port(mut self, port: u16) -> Self {
        self.bind.set_port(port);
        self
    }

    /// The WebSocket path (default `/ws`); it must start with `/` and cannot be `/health`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Requires this token on every upgrade (`Authorization: Bearer TOKEN` or `?token=TOKEN`), else `401`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.token = Some(token.into());
        self
    }

    /// Adds an allowed `Origin`; once any is set, an upgrade with another `Origin` gets `403` (requests
    /// without an `Origin` header, as non-browser clients send them, are let through).
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.config.allowed_origins.push(origin.into());
        self
    }

    /// The largest message accepted, in bytes (default 1 MiB); a larger one is closed with 1009.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// The most WebSocket connections open at once; upgrades beyond it get `503`.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = Some(max);
        self
    }

    /// Adds a subprotocol the server agrees to when a client offers it.
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.config.subprotocols.push(protocol.into());
        self
    }

    /// The handler of every connection (default: the built-in [`ChatAgent`]).
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// How long shutdown waits for connections to finish their close handshake before aborting them
    /// (default 2 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Binds the listener and starts serving; the server is ready to accept when this returns.
    pub async fn start(self) -> Result<EmbeddedServer> {
        let ServerBuilder {
            bind,
            config,
            handler,
            grace,
        } = self;
        if !config.path.starts_with('/') || config.path == "/health" {
            return Err(Error::Config(format!(
                "the WebSocket path must start with `/` and cannot be `/health`, but it is {:?}",
                config.path
            )));
        }
        if config.max_message_size == 0 {
            return Err(Error::Config(
                "the maximum message size must be at least one byte".into(),
            ));
        }
        let listener = listen(bind)?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let shared = Arc::new(Shared {
            config,
            handler: handler.unwrap_or_else(|| Arc::new(ChatAgent::new())),
            registry: Registry::default(),
            metrics: Metrics::default(),
            shutdown: watch::channel(false).0,
            failures: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), grace));
        tracing::debug!(%addr, "embedded server listening");
        Ok(EmbeddedServer {
            addr,
            shared,
            task: Some(task),
        })
    }
}

fn listen(addr: SocketAddr) -> Result<TcpListener> {
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

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, grace: Duration) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut shutdown) => break,
            Some(joined) = connections.join_next(), if !connections.is_empty() => reap(&shared, joined),
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::trace!(%peer, "accepted a TCP connection");
                    connections.spawn(connection::serve(Arc::clone(&shared), stream));
                }
                Err(error) => {
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
    let drained = tokio::time::timeout(timeout::scaled(grace), async {
        while let Some(joined) = connections.join_next().await {
            reap(&shared, joined);
        }
    })
    .await;
    if drained.is_err() {
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

fn reap(shared: &Shared, joined: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        if error.is_panic() {
            let message = panic_message(&error.into_panic());
            tracing::error!(panic = %message, "a connection task panicked");
            shared.record_panic(format!("a connection task panicked: {message}"));
        }
    }
}

/// Resolves once the shutdown signal is set (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

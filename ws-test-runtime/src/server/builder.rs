//! [`ServerBuilder`] and [`AppServerBuilder`]: the settings of an [`EmbeddedServer`], per front end, and the one
//! listener core they both start.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use super::app::sealed::App;
use super::app::{HostedApp, Upgraded};
use super::registry::Registry;
use super::{
    Config, DEFAULT_MAX_PENDING, EmbeddedServer, FrontEnd, Listener, Shared, TransportFault, accept_loop, listen,
};
use crate::handler::{DynHandler, Handler};
use crate::metrics::Metrics;
use crate::transport::{MemoryListener, Transport};
use crate::{Error, Result, timeout};

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
/// let client = server.client().token("s3cret").header("X-User-Id", "alice").connect().await?;
/// # drop(client);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub struct ServerBuilder {
    core: Core,
    handler: Option<Arc<dyn DynHandler>>,
    /// Why the protocol given cannot be used, reported by `start`.
    protocol_error: Option<String>,
}

/// The settings of the listener core: binding, transports, the HTTP phase's limits, shutdown, TLS.
struct Core {
    bind: SocketAddr,
    transport: Transport,
    config: Config,
    /// Explicit values are taken as written; `None` is the scaled default.
    grace: Option<Duration>,
    handshake_timeout: Option<Duration>,
    /// The network between the clients and the server, when one is set (or why the one given does not read).
    link: Option<Result<crate::Link>>,
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
                link: None,
                config: Config {
                    path: super::DEFAULT_PATH.to_owned(),
                    token: None,
                    allowed_origins: Vec::new(),
                    max_message_size: super::DEFAULT_MAX_MESSAGE_SIZE,
                    max_connections: None,
                    subprotocols: Vec::new(),
                    handshake_timeout: timeout::HANDSHAKE,
                    idle_timeout: None,
                    max_pending: DEFAULT_MAX_PENDING,
                    transport_fault: None,
                    protocol: None,
                },
                grace: None,
                handshake_timeout: None,
                #[cfg(feature = "tls")]
                tls: None,
            },
            handler: None,
            protocol_error: None,
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

        /// Puts a network between the server and the clients made by [`EmbeddedServer::client`] and
        /// [`connect`](EmbeddedServer::connect) (the `#[ws_test]` clients among them): latency, jitter,
        /// bandwidth, chunks, both ways or per direction; `"latency=50ms, chunk=7"` or a typed [`Link`](crate::Link)
        /// (`Link::new()` for an ideal one). [`EmbeddedServer::link`] then stalls, cuts and heals it at run time.
        pub fn link(mut self, link: impl crate::IntoLink) -> Self {
            self.core.link = Some(link.into_link());
            self
        }

        /// The WebSocket path (default `/ws`); it must start with `/` and cannot be one the handler answers plain
        /// HTTP GETs on (the chat agent's `/health`).
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
        /// everyone else. Counted in [`MetricsSnapshot::handshakes_timed_out`](crate::MetricsSnapshot::handshakes_timed_out). Applies to hosted apps too.
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
    /// ping or pong) for this long (default: never). Counted in [`MetricsSnapshot::closed_idle`](crate::MetricsSnapshot::closed_idle).
    pub fn idle_timeout(mut self, after: Duration) -> Self {
        self.core.config.idle_timeout = Some(after);
        self
    }

    /// Adds a subprotocol the server agrees to when a client offers it.
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.core.config.subprotocols.push(protocol.into());
        self
    }

    /// The handler of every connection (default: the built-in [`ChatAgent`](crate::ChatAgent)).
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// Serves a recording as [`handler`](Self::handler) does, where it was recorded: at the recording's path (a
    /// HAR entry's, a transcript's URL) unless [`path`](Self::path) gave another than the default `/ws`, agreeing to
    /// the subprotocol the recorded server chose. What `ws-test serve --replay` and `#[ws_test(replay = ..)]` do.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::{Direction, FrameKind, History, Replay};
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let mut recorded = History::new().with_url("ws://staging.example.com/v2/realtime");
    /// recorded.record(Direction::In, FrameKind::Text(r#"{"type":"hello"}"#.into()));
    /// let server = EmbeddedServer::builder().replay(Replay::from_history(&recorded)).start().await?;
    /// assert!(server.url().ends_with("/v2/realtime"));
    /// let mut client = server.connect().await?;
    /// client.expect_type("hello").await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn replay(mut self, replay: crate::Replay) -> Self {
        if self.core.config.path == crate::wire::DEFAULT_PATH {
            if let Some(path) = replay.recorded_path() {
                self.core.config.path = path;
            }
        }
        if let Some(subprotocol) = replay.recorded_subprotocol() {
            let subprotocol = subprotocol.to_owned();
            if !self.core.config.subprotocols.contains(&subprotocol) {
                self.core.config.subprotocols.push(subprotocol);
            }
        }
        self.handler(replay)
    }

    /// Speaks this protocol to the clients: a kit of [`ws_test_runtime::protocol`](crate::protocol) by value or
    /// by name (`"socket.io"`, `"graphql-transport-ws"`, `"jsonrpc"`), or your own whose
    /// [`server_session`](crate::protocol::Protocol::server_session) is given. The server sends the protocol's
    /// handshake and heartbeats and answers its control frames by itself; the handler gets each event the
    /// protocol decodes as JSON text and sends events (`session.send_json(json!({"event": "login", "data":
    /// ..}))`) that the protocol encodes into frames. A server whose path is the default `/ws` takes the
    /// protocol's path (`/socket.io/`); its subprotocol is accepted. A mock of a Socket.IO server:
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::Router;
    /// use ws_test_runtime::protocol::SocketIo;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let chat = Router::new().event_key("event").route("add user", |session: Session, event: Value| async move {
    ///     session.send_json(&json!({"event": "login", "data": {"numUsers": 1}})).await?;
    ///     session.broadcast(&json!({"event": "user joined", "data": {"username": event["data"]}})).await?;
    ///     Ok::<_, ws_test_runtime::Error>(())
    /// });
    /// let server = EmbeddedServer::builder().protocol(SocketIo::new()).handler(chat).start().await?;
    /// let mut client = server.client().protocol(SocketIo::new()).connect().await?;
    /// client.emit("add user", json!("alice")).await?;
    /// client.expect(Expect::events(["login", "user joined"])).await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn protocol(mut self, protocol: impl crate::protocol::IntoProtocol) -> Self {
        match protocol.into_protocol() {
            Ok(protocol) if protocol.server_session().is_some() => {
                self.core.config.protocol = Some(protocol);
                self.protocol_error = None;
            }
            Ok(protocol) => {
                self.protocol_error = Some(format!(
                    "the protocol {} has no server side (its `Protocol::server_session` is `None`): ws-test's own \
                     server cannot speak it",
                    protocol.name()
                ));
            }
            Err(error) => self.protocol_error = Some(error.to_string()),
        }
        self
    }

    /// [`handler`](Self::handler) for a handler already shared and type-erased.
    #[cfg(feature = "fuzz")]
    pub(crate) fn dyn_handler(mut self, handler: Arc<dyn DynHandler>) -> Self {
        self.handler = Some(handler);
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

    /// The event the handler sends first on every connection, if it declares one (the default handler's when
    /// none is set).
    pub(crate) fn welcome(&self) -> Option<String> {
        match &self.handler {
            Some(handler) => handler.welcome().map(str::to_owned),
            None => crate::default_handler().welcome().map(str::to_owned),
        }
    }

    /// Binds the listener and starts serving; the server is ready to accept when this returns.
    pub async fn start(mut self) -> Result<EmbeddedServer> {
        if let Some(why) = self.protocol_error.take() {
            return Err(Error::Config(why));
        }
        if let Some(protocol) = self.core.config.protocol.clone() {
            let config = &mut self.core.config;
            if config.path == super::DEFAULT_PATH {
                let url = protocol
                    .url("ws://localhost/ws")
                    .map_err(|why| Error::Config(format!("the protocol {}: {why}", protocol.name())))?;
                let path = url.parse::<hyper::Uri>().map(|uri| uri.path().to_owned());
                config.path = path.unwrap_or_else(|_| super::DEFAULT_PATH.to_owned());
            }
            if let Some(subprotocol) = protocol.subprotocol() {
                if !config.subprotocols.iter().any(|given| given == subprotocol) {
                    config.subprotocols.push(subprotocol.to_owned());
                }
            }
        }
        let config = &self.core.config;
        let handler = self.handler.unwrap_or_else(crate::default_handler);
        if handler.http_get(&config.path, &Default::default()).is_some() {
            return Err(Error::Config(format!(
                "the WebSocket path cannot be `{}`: the handler answers plain HTTP GETs there (the chat agent's health \
                 check is `/health`)",
                config.path
            )));
        }
        if config.max_message_size == 0 {
            return Err(Error::Config(
                "the maximum message size must be at least one byte".into(),
            ));
        }
        if self.core.transport == Transport::Tcp && !self.core.bind.ip().is_loopback() && config.token.is_none() {
            crate::logging::log!(warn,
                bind = %self.core.bind,
                "listening beyond loopback without a token: anyone who can reach this address may connect \
                 (set a token with ServerBuilder::token)"
            );
        }
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
            link,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        let link = link.transpose()?;
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
        let task = crate::task::spawn(accept_loop(listener, Arc::clone(&shared), grace));
        crate::logging::log!(debug, %authority, "embedded server listening");
        Ok(EmbeddedServer {
            addr,
            authority,
            shared,
            task: Some(task),
            link: link.map(crate::LinkControl::new),
            idle_link: crate::LinkControl::default(),
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
            config.max_message_size != super::DEFAULT_MAX_MESSAGE_SIZE,
            "max_message_size",
        ),
        (config.max_connections.is_some(), "max_connections"),
        (config.transport_fault.is_some(), "transport_fault"),
        (config.idle_timeout.is_some(), "idle_timeout"),
        (config.protocol.is_some(), "protocol"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
}

//! [`ServedServer`]: the user's own WebSocket server — actix-web, jsonrpsee, a tokio-tungstenite accept loop,
//! anything that serves a TCP listener — run on a listener ws-test has bound on `127.0.0.1:0`.
//!
//! ws-test binds the port (with the same large backlog as its own server), hands the listener to the user's
//! function, runs what it returns on the test's runtime, and at the end stops it at once: the future is dropped,
//! which closes the listener and, for servers with worker threads (actix-web), tells them to stop without a
//! graceful-shutdown wait. A function that errors or panics is a failure with its message; one that returns at
//! once is allowed (it may have spawned its server), and when nothing then listens, connecting says so.

use std::fmt::Debug;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures_util::FutureExt as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::{ClientBuilder, WsClient};
use crate::error::{Error, Result};
use crate::panics::panic_message;

/// The future of a running server, with its outcome in words.
type Running = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What calling the user's function gave: its outcome at once, or a server still to run.
#[doc(hidden)]
pub enum Started {
    /// A plain function returned (`()` or `Result`): its server, if any, runs in a task it spawned.
    Returned(Result<(), String>),
    /// A future to run until teardown (an `async fn`, actix-web's `dev::Server`).
    Running(Running),
}

impl Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Started::Returned(outcome) => f.debug_tuple("Returned").field(outcome).finish(),
            Started::Running(_) => f.write_str("Running(..)"),
        }
    }
}

/// The listener a served function takes: [`tokio::net::TcpListener`] or [`std::net::TcpListener`] (already
/// non-blocking, as tokio, jsonrpsee's `build_from_tcp` and actix-web's `listen` require).
#[diagnostic::on_unimplemented(
    message = "a `serve` function takes a `tokio::net::TcpListener` or a `std::net::TcpListener`, not `{Self}`",
    label = "not a listener ws-test can bind"
)]
pub trait ServeListener: Sized {
    /// Converts the listener ws-test bound.
    fn from_bound(listener: tokio::net::TcpListener) -> std::io::Result<Self>;
}

impl ServeListener for tokio::net::TcpListener {
    fn from_bound(listener: tokio::net::TcpListener) -> std::io::Result<Self> {
        Ok(listener)
    }
}

impl ServeListener for std::net::TcpListener {
    fn from_bound(listener: tokio::net::TcpListener) -> std::io::Result<Self> {
        // `into_std` leaves it non-blocking, as the servers that take a std listener expect.
        listener.into_std()
    }
}

/// What a served function may return: `()`, `Result<(), E>` with `E: Debug`, or a future of either (an
/// `async fn`, or a value that is itself a future, such as actix-web's `dev::Server`), or a `Result` of any of
/// these (`std::io::Result<actix_web::dev::Server>`).
#[diagnostic::on_unimplemented(
    message = "a `serve` function returns `()`, `Result<(), E>` with `E: Debug`, or a `Send` future of either; \
               `{Self}` is none of those",
    label = "not something ws-test can run as a server"
)]
pub trait ServeOutput<Shape> {
    /// The outcome now, or the server still to run.
    fn start(self) -> Started;
}

/// Markers that tell the [`ServeOutput`] implementations apart: the shape of what a `serve` function returns.
#[doc(hidden)]
pub mod shape {
    /// `()`
    #[derive(Debug)]
    pub struct Unit;
    /// `Result<T, E>` where `T` is of another shape (`()`, actix-web's `dev::Server`).
    #[derive(Debug)]
    pub struct Fallible<K>(std::marker::PhantomData<K>);
    /// A future of another shape.
    #[derive(Debug)]
    pub struct Future<K>(std::marker::PhantomData<K>);
}

impl ServeOutput<shape::Unit> for () {
    fn start(self) -> Started {
        Started::Returned(Ok(()))
    }
}

impl<T: ServeOutput<K>, E: Debug, K> ServeOutput<shape::Fallible<K>> for Result<T, E> {
    fn start(self) -> Started {
        match self {
            Ok(served) => served.start(),
            Err(error) => Started::Returned(Err(format!("{error:?}"))),
        }
    }
}

impl<F, K> ServeOutput<shape::Future<K>> for F
where
    F: Future + Send + 'static,
    F::Output: ServeOutput<K>,
{
    fn start(self) -> Started {
        Started::Running(Box::pin(async move {
            match self.await.start() {
                Started::Returned(outcome) => outcome,
                Started::Running(inner) => inner.await,
            }
        }))
    }
}

/// A function that runs a WebSocket server on a listener: what `#[ws_test(serve = ...)]` and
/// [`ServedServer::builder`] take. Plain or `async`, taking a tokio or a std `TcpListener`, returning `()`,
/// `Result<(), E>` or a future of either.
#[diagnostic::on_unimplemented(
    message = "`serve = ...` needs a function that takes a listener and runs a server, not `{Self}`",
    label = "not a serve function",
    note = "write `fn(tokio::net::TcpListener)` or `fn(std::net::TcpListener)`, plain or `async`, returning `()`, \
            `Result<(), E>` with `E: Debug`, or a future of either (actix-web's `dev::Server`)"
)]
pub trait ServeFn<Kind>: Send + 'static {
    /// Hands the listener to the function.
    fn call(self, listener: tokio::net::TcpListener) -> Started;
}

impl<F, L, R, K> ServeFn<(L, K)> for F
where
    F: FnOnce(L) -> R + Send + 'static,
    L: ServeListener,
    R: ServeOutput<K>,
{
    fn call(self, listener: tokio::net::TcpListener) -> Started {
        match L::from_bound(listener) {
            Ok(listener) => self(listener).start(),
            Err(error) => Started::Returned(Err(format!("the bound listener could not be handed over: {error}"))),
        }
    }
}

/// A serve function with its type erased, so the test driver is compiled once.
pub(crate) type ErasedServe = Box<dyn FnOnce(tokio::net::TcpListener) -> Started + Send>;

/// The last segment of a function's path (`my_server` of `tests::my_server`), to name it in messages.
pub(crate) fn function_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Erases a serve function's type (what `TestSpec::serve` keeps).
pub(crate) fn erase<K>(serve: impl ServeFn<K>) -> ErasedServe {
    Box::new(move |listener| serve.call(listener))
}

/// Checks that `serve = ...` names a serve function (the macro's compile-time check).
#[doc(hidden)]
pub fn check_serve<K>(_serve: impl ServeFn<K>) {}

/// Configures a [`ServedServer`]: the path clients connect to.
pub struct ServedBuilder {
    serve: ErasedServe,
    path: String,
    name: String,
    link: Option<Result<crate::Link>>,
}

impl Debug for ServedBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedBuilder")
            .field("serve", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl ServedBuilder {
    /// The WebSocket path clients connect to (default `/ws`; `"/"` for servers that take any path).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Puts a network between the server and the clients made by [`ServedServer::client`] and
    /// [`connect`](ServedServer::connect): a typed [`Link`](crate::Link) or its written form
    /// (`"latency=50ms, chunk=7"`); [`ServedServer::link`] stalls, cuts and heals it.
    pub fn link(mut self, link: impl crate::IntoLink) -> Self {
        self.link = Some(link.into_link());
        self
    }

    /// Binds `127.0.0.1:0`, hands the listener to the serve function and runs what it returns on the current
    /// tokio runtime. An error or a panic of the function itself, before it returns, is this call's error.
    pub async fn start(self) -> Result<ServedServer> {
        let ServedBuilder {
            serve,
            path,
            name,
            link,
        } = self;
        let link = link.transpose()?.map(crate::LinkControl::new);
        if !path.starts_with('/') {
            return Err(Error::Config(format!(
                "the WebSocket path must start with `/`, but it is {path:?}"
            )));
        }
        let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let listener = crate::server::listen(bind)?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let (report, ended) = watch::channel(None);
        crate::panics::install_hook();
        let started = match std::panic::catch_unwind(AssertUnwindSafe(|| serve(listener))) {
            Ok(started) => started,
            Err(payload) => Started::Returned(Err(panicked(payload.as_ref()))),
        };
        let task = match started {
            Started::Returned(Err(reason)) => {
                return Err(Error::Config(format!("the serve function {name} failed: {reason}")));
            }
            Started::Returned(Ok(())) => {
                report.send_replace(Some(Ok(())));
                None
            }
            Started::Running(running) => Some(crate::task::spawn(async move {
                let outcome = match AssertUnwindSafe(running).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(payload) => Err(panicked(payload.as_ref())),
                };
                report.send_replace(Some(outcome));
            })),
        };
        crate::logging::log!(debug, %addr, serve = %name, "served server listening");
        Ok(ServedServer {
            addr,
            path,
            name,
            task,
            stopped: false,
            ended,
            link,
            idle_link: crate::LinkControl::default(),
        })
    }
}

/// A panic's text, with its place when the hook saw it.
fn panicked(payload: &(dyn std::any::Any + Send)) -> String {
    let message = crate::panics::last_panic().unwrap_or_else(|| panic_message(payload));
    format!("it panicked: {message}")
}

/// The user's own server, running on a loopback port ws-test bound, until [`shutdown`](Self::shutdown) or drop.
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::ServedServer;
///
/// /// The simplest WebSocket server: a tokio-tungstenite accept loop that echoes.
/// async fn echo(listener: tokio::net::TcpListener) -> std::io::Result<()> {
///     loop {
///         let (stream, _) = listener.accept().await?;
///         tokio::spawn(async move {
///             use futures_util::{SinkExt as _, StreamExt as _};
///             let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { return };
///             while let Some(Ok(message)) = socket.next().await {
///                 if message.is_text() && socket.send(message).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// }
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let mut server = ServedServer::builder(echo).path("/").start().await?;
/// let mut client = server.connect().await?;
/// client.send_json(json!({"type": "hello"})).await?;
/// client.expect_type("hello").await?;
/// drop(client);
/// server.shutdown().await?; // the port is free again, the accept loop gone
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub struct ServedServer {
    addr: SocketAddr,
    path: String,
    name: String,
    task: Option<JoinHandle<()>>,
    stopped: bool,
    /// The function's outcome once it has one: `Ok` when it returned (or its future ended) cleanly.
    ended: watch::Receiver<Option<Result<(), String>>>,
    /// The network its clients go through ([`ServedBuilder::link`]).
    link: Option<crate::LinkControl>,
    /// What [`link`](Self::link) answers without one.
    idle_link: crate::LinkControl,
}

impl Debug for ServedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedServer")
            .field("url", &self.url())
            .field("serve", &self.name)
            .finish()
    }
}

impl ServedServer {
    /// A server run by `serve` (see [`ServeFn`]): set the path, then [`start`](ServedBuilder::start).
    pub fn builder<K, F: ServeFn<K>>(serve: F) -> ServedBuilder {
        Self::erased(erase(serve), function_name::<F>())
    }

    /// The builder of an erased function, named for messages.
    pub(crate) fn erased(serve: ErasedServe, name: &str) -> ServedBuilder {
        ServedBuilder {
            serve,
            path: crate::server::DEFAULT_PATH.to_owned(),
            name: name.to_owned(),
            link: None,
        }
    }

    /// `ws://127.0.0.1:PORT` and the path.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, self.path)
    }

    /// The address the listener is bound to (always TCP: a served function gets a `TcpListener`). A `Result`
    /// for the same shape as [`EmbeddedServer::local_addr`](crate::EmbeddedServer::local_addr), which has none
    /// over the in-memory transport.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.addr)
    }

    /// A client builder aimed at [`url`](Self::url) (over the server's [`link`](Self::link), when it has one).
    pub fn client(&self) -> ClientBuilder {
        let builder = WsClient::builder(self.url());
        match &self.link {
            Some(link) => builder.link(link),
            None => builder,
        }
    }

    /// The controls of the network between this server and its clients ([`ServedBuilder::link`],
    /// `#[ws_test(serve = ..., link = "...")]`): `stall`, `cut`, `heal`, `stats`, plain methods. Without a link
    /// they say so on stderr when used, and affect nothing.
    pub fn link(&self) -> &crate::LinkControl {
        self.link.as_ref().unwrap_or(&self.idle_link)
    }

    /// Connects a client with the default options (see [`connect_with`](Self::connect_with)).
    pub async fn connect(&self) -> Result<WsClient> {
        self.connect_with(self.client()).await
    }

    /// Connects `builder`'s client, watching the server meanwhile: if the serve function fails or panics first,
    /// that is the error; if it returned and nothing listens on the port, the error says so at once.
    pub async fn connect_with(&self, builder: ClientBuilder) -> Result<WsClient> {
        if self.stopped {
            return Err(Error::Config(format!(
                "the served server {} at {} was stopped",
                self.name, self.addr
            )));
        }
        if let Some(Ok(())) = self.outcome() {
            if tokio::net::TcpStream::connect(self.addr).await.is_err() {
                return Err(self.nothing_listens());
            }
        }
        let mut ended = self.ended.clone();
        let failed = async move {
            loop {
                if let Some(Err(reason)) = &*ended.borrow_and_update() {
                    return reason.clone();
                }
                if ended.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            connected = builder.connect() => match connected {
                Err(Error::Connect { .. }) if matches!(self.outcome(), Some(Ok(()))) => Err(self.nothing_listens()),
                other => other,
            },
            reason = failed => Err(self.failed(&reason)),
        }
    }

    fn nothing_listens(&self) -> Error {
        Error::Config(format!(
            "the serve function {} returned, and nothing listens on {}: keep the listener served (run the server \
             in the function's future, or in a task it spawns that owns the listener)",
            self.name, self.addr
        ))
    }

    fn failed(&self, reason: &str) -> Error {
        Error::ServerFailed {
            server: format!("the served server `{}`", self.name),
            failures: vec![reason.to_owned()],
        }
    }

    /// The function's outcome so far: `None` while it runs, `Some(Ok(()))` once it returned cleanly (its server may
    /// still run in a task it spawned), `Some(Err(..))` when it failed or panicked.
    pub fn outcome(&self) -> Option<Result<(), String>> {
        self.ended.borrow().clone()
    }

    /// Stops the server at once: the future is dropped (the listener closes, actix-web's workers are told to
    /// stop without a graceful wait) and its task joined. Returns the function's failure, if it failed or
    /// panicked while it ran, as an [`Error::ServerFailed`]. Calling it twice is harmless. The same verb and shape
    /// as [`EmbeddedServer::shutdown`](crate::EmbeddedServer::shutdown).
    pub async fn shutdown(&mut self) -> Result<()> {
        self.stopped = true;
        if let Some(task) = self.task.take() {
            task.abort();
            if let Err(error) = task.await {
                if error.is_panic() {
                    return Err(self.failed(&panicked(error.into_panic().as_ref())));
                }
            }
        }
        match self.outcome() {
            Some(Err(reason)) => Err(self.failed(&reason)),
            _ => Ok(()),
        }
    }
}

impl Drop for ServedServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

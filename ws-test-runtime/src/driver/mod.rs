//! The test driver: what `#[ws_test]` expands to, usable by hand too.
//!
//! [`run`] builds the tokio runtime, starts the embedded server (or picks the external URL), connects and
//! welcomes the clients, runs the body under its timeout, checks the declared events with the one matcher,
//! tears everything down even when the body panicked or failed, and then fails the test with a report (and a
//! transcript under `target/ws-test/`), or resumes the body's panic so `#[should_panic]` works. It is not
//! generic: a crate of a hundred tests compiles it once.
//!
//! ```
//! use ws_test_runtime::driver::{TestSpec, body, run};
//! use ws_test_runtime::prelude::*;
//!
//! async fn chat_flow(client: &mut WsClient) -> TestResult {
//!     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
//!     Ok(())
//! }
//!
//! // What `#[ws_test(events = [...])] async fn chat_flow(...)` does:
//! let events = Expect::events(ws_test_runtime::ChatEvent::CRITICAL);
//! run(TestSpec::new("docs::chat_flow").expect(events), body(chat_flow));
//! ```

mod context;
pub(crate) mod inject;
pub(crate) mod outcome;
mod transcript;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;

pub(crate) use context::Hooks;
pub use context::ProfileContext;
use inject::Injected;
pub use inject::{AppFuture, Body, TestFn, body};

use crate::expect::{Expect, Expectation};
use crate::history::History;
use crate::panics::panic_message;
use crate::served::{ErasedServe, ServeFn, ServedServer};
use crate::server::ServerBuilder;
use crate::transport::Transport;
use crate::{EmbeddedServer, Error, Replay, Tap, WsClient, timeout};

/// The environment variable that points tests without a fixed `url` at a live server.
pub const URL_ENV: &str = "WS_TEST_URL";

/// Which tokio runtime runs the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// One thread (the default: cheapest, and deterministic).
    #[default]
    CurrentThread,
    /// A multi-thread runtime with this many workers (`None`: tokio's default, one per core).
    MultiThread(Option<usize>),
}

/// Where the test's server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An embedded server started for the test (unless `WS_TEST_URL` is set).
    Embedded,
    /// This URL, always.
    Url(String),
    /// The URL in this environment variable (the test fails, saying so, when it is unset).
    UrlFromEnv(String),
    /// The URL in this environment variable when it is set, else an embedded server (a profile's `url_env`).
    UrlFromEnvOrEmbedded(String),
}

/// A serve function kept by a [`TestSpec`]: it makes a fresh erased function for each run, and names it.
#[derive(Clone)]
struct Serve {
    make: std::sync::Arc<dyn Fn() -> ErasedServe + Send + Sync + std::panic::RefUnwindSafe>,
    name: &'static str,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A decoder of binary frames, with its error in words.
type DecodeFn = dyn Fn(&[u8]) -> Result<serde_json::Value, String> + Send + Sync + std::panic::RefUnwindSafe;

/// A decoder of binary frames kept by a [`TestSpec`].
#[derive(Clone)]
struct Decode(std::sync::Arc<DecodeFn>);

impl std::fmt::Debug for Decode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decode(..)")
    }
}

/// Only implemented with the runtime's `contract` feature: `contract = ...` without it is a compile error that
/// says what to add.
#[cfg(not(feature = "contract"))]
#[diagnostic::on_unimplemented(
    message = "`contract = ...` needs ws-test-runtime's `contract` feature",
    note = "in Cargo.toml: ws-test-runtime = {{ version = \"...\", features = [\"contract\"] }}"
)]
pub trait NeedsContractFeature {}

/// Everything `#[ws_test(...)]` declares about one test.
#[derive(Debug, Clone)]
pub struct TestSpec {
    name: String,
    expectation: Option<Expectation>,
    hooks: Option<Hooks>,
    problems: Vec<String>,
    server: Option<fn() -> ServerBuilder>,
    handler: Option<fn(ServerBuilder) -> ServerBuilder>,
    app: Option<fn(ServerBuilder) -> AppFuture>,
    serve: Option<Serve>,
    subprotocol: Option<String>,
    protocol: Option<crate::protocol::SharedProtocol>,
    event_key: Option<crate::Field>,
    welcome: Option<String>,
    decode: Option<Decode>,
    /// A recording to serve: its name and its text.
    replay: Option<(String, &'static str)>,
    /// An AsyncAPI document every client's frames must conform to: its name and its text.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    contract: Option<(String, &'static str)>,
    ignore_fields: Vec<String>,
    path: Option<String>,
    transport: Option<Transport>,
    start_paused: bool,
    target: Target,
    clients: usize,
    /// The clients the declared events are checked on: one index, or every client (`None`).
    events_on: Option<usize>,
    headers: Vec<(String, String)>,
    token: Option<String>,
    skip_welcome: bool,
    timeout: Option<Duration>,
    event_timeout: Option<Duration>,
    flavor: Flavor,
}

impl TestSpec {
    /// A test named `name` (its full path, `module::function`) with every default: the built-in chat agent, one
    /// client, the welcome checked, no declared events.
    pub fn new(name: impl Into<String>) -> Self {
        TestSpec {
            name: name.into(),
            expectation: None,
            hooks: None,
            problems: Vec::new(),
            server: None,
            handler: None,
            app: None,
            serve: None,
            subprotocol: None,
            protocol: None,
            event_key: None,
            welcome: None,
            decode: None,
            replay: None,
            contract: None,
            ignore_fields: Vec::new(),
            path: None,
            transport: None,
            start_paused: false,
            target: Target::Embedded,
            clients: 1,
            headers: Vec::new(),
            events_on: Some(0),
            token: None,
            skip_welcome: false,
            timeout: None,
            event_timeout: None,
            flavor: Flavor::CurrentThread,
        }
    }

    /// The events that must arrive after the body (any [`Expectation`]: `#[ws_test(events = ...)]` builds
    /// `Expect::events([...])` with its `order`, `per` and `times`). Without its own deadline it gets the
    /// event timeout.
    pub fn expect(mut self, expectation: Expectation) -> Self {
        self.expectation = Some(expectation);
        self
    }

    /// Changes the declared events (the profile's, when a test sets only `order`, `per` or `times`).
    pub fn refine_events(mut self, refine: impl FnOnce(Expectation) -> Expectation) -> Self {
        match self.expectation.take() {
            Some(expectation) => self.expectation = Some(refine(expectation)),
            None => self
                .problems
                .push("the test sets `order`, `per` or `times`, but no events are declared".into()),
        }
        self
    }

    /// Runs these hooks around the test (what [`TestSpec::profile`] sets).
    pub(crate) fn with_hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// The server builder to start from (default [`EmbeddedServer::builder`]).
    pub fn server(mut self, server: fn() -> ServerBuilder) -> Self {
        self.server = Some(server);
        self
    }

    /// Sets the handler on the server builder (the macro's `handler = ...`).
    pub fn handler(mut self, handler: fn(ServerBuilder) -> ServerBuilder) -> Self {
        self.handler = Some(handler);
        self
    }

    /// Hosts the user's app on the embedded server (the macro's `app = ...`): `app` sets it on the builder,
    /// typically `|builder| with_app(builder, my_app)`. With an app, the clients send `token` and `user` but the
    /// app enforces them, and no `connection_established` welcome is expected.
    pub fn app(mut self, app: fn(ServerBuilder) -> AppFuture) -> Self {
        self.app = Some(app);
        self
    }

    /// Runs the user's own server (the macro's `serve = my_server`): `serve` takes a listener ws-test bound on
    /// `127.0.0.1:0` (a `tokio::net::TcpListener` or a non-blocking `std::net::TcpListener`), plain or `async`,
    /// and returns `()`, `Result<(), E>` or a future of either (see [`ServeFn`]). The clients connect to
    /// `ws://127.0.0.1:PORT` and the [`path`](Self::path) (default `/ws`); no welcome frame is awaited; at teardown
    /// the server is stopped at once (see [`ServedServer::shutdown`]), and an error or panic of it fails the test.
    ///
    /// ```
    /// use ws_test_runtime::driver::{TestSpec, body, run};
    /// use ws_test_runtime::prelude::*;
    ///
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
    /// async fn echoes(client: &mut WsClient) -> TestResult {
    ///     client.send_json(json!({"type": "ping"})).await?;
    ///     Ok(())
    /// }
    ///
    /// // What `#[ws_test(serve = echo, path = "/", events = ["ping"])] async fn echoes(...)` does:
    /// let spec = TestSpec::new("docs::echoes").serve(echo).path("/").expect(Expect::events(["ping"]));
    /// run(spec, body(echoes));
    /// ```
    pub fn serve<K, F: ServeFn<K> + Clone + Sync + std::panic::RefUnwindSafe>(mut self, serve: F) -> Self {
        self.serve = Some(Serve {
            make: std::sync::Arc::new(move || crate::served::erase(serve.clone())),
            name: crate::served::function_name::<F>(),
        });
        self
    }

    /// The subprotocol every client offers (`Sec-WebSocket-Protocol`, the macro's `subprotocol = "..."`); a
    /// server that agrees to none fails the connect, naming what it answered. ws-test's own server (the
    /// default, `handler`, `server`) is told to agree to it; an `app`, a `serve` server or a `url` decides.
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// The protocol every client speaks (the macro's `protocol = "socket.io"` or `protocol = EXPR`): a kit of
    /// [`ws_test_runtime::protocol`](crate::protocol) by value or by name, or your own
    /// [`Protocol`](crate::protocol::Protocol); see [`ClientBuilder::protocol`](crate::ClientBuilder::protocol).
    /// Its event key names the events unless [`event_key`](Self::event_key) says otherwise. A name that is no kit
    /// fails the test before it starts, naming the kits.
    pub fn protocol(mut self, protocol: impl crate::protocol::IntoProtocol) -> Self {
        match protocol.into_protocol() {
            Ok(protocol) => self.protocol = Some(protocol),
            Err(error) => self.problems.push(error.to_string()),
        }
        self
    }

    /// The field that names an event in this test (the macro's `event_key = "method"`): a key or a JSON pointer;
    /// default `"type"`. The clients read it ([`ClientBuilder::event_key`](crate::ClientBuilder::event_key)), so
    /// the declared events, the welcome, `expect_type` and every `expect` in the body that names no key of its
    /// own use it.
    pub fn event_key(mut self, key: impl Into<crate::Field>) -> Self {
        self.event_key = Some(key.into());
        self
    }

    /// Decodes every binary frame the clients receive into JSON (the macro's `decode = msgpack`, with
    /// `fn msgpack(bytes: &[u8]) -> Result<serde_json::Value, E>`): see
    /// [`ClientBuilder::decode`](crate::ClientBuilder::decode).
    pub fn decode<F, E>(mut self, decode: F) -> Self
    where
        F: Fn(&[u8]) -> Result<serde_json::Value, E> + Send + Sync + std::panic::RefUnwindSafe + 'static,
        E: std::fmt::Display,
    {
        self.decode = Some(Decode(std::sync::Arc::new(move |bytes: &[u8]| {
            decode(bytes).map_err(|error| error.to_string())
        })));
        self
    }

    /// The event the driver awaits on each client after connecting (the macro's `welcome = "session.created"`),
    /// named by the event key. Without it, only a welcome the server's handler declares is awaited — the
    /// built-in agent's `connection_established` ([`Handler::welcome`](crate::Handler::welcome)); with `app`,
    /// `serve` or `url`, none.
    pub fn welcome(mut self, event: impl Into<String>) -> Self {
        self.welcome = Some(event.into());
        self
    }

    /// Serves a recording with [`Replay`] (the macro's `replay = "tests/fixtures/chat.jsonl"`,
    /// which embeds the file): `name` names it in errors and close reasons, `recording` is its text. It is read
    /// when the test starts; a line that does not parse fails the test, naming the line. The clients wait for
    /// the `connection_established` welcome only when the recording's server sent one first.
    pub fn replay(mut self, name: impl Into<String>, recording: &'static str) -> Self {
        self.replay = Some((name.into(), recording));
        self
    }

    /// Every frame every client sends and receives must conform to this AsyncAPI 3.0 document (the macro's
    /// `contract = "api/chat.yaml"`, which embeds the file at compile time): each a message its channel allows
    /// that way, its payload satisfying the message's schema. Needs the runtime's `contract` feature. A document
    /// that does not read fails the test at setup; a frame that breaks it fails the test, naming the frame, the
    /// message and the JSON pointer.
    #[cfg(feature = "contract")]
    pub fn contract(mut self, name: impl Into<String>, document: &'static str) -> Self {
        self.contract = Some((name.into(), document));
        self
    }

    /// Without the runtime's `contract` feature, `contract = ...` is a compile error saying so.
    #[cfg(not(feature = "contract"))]
    pub fn contract<Name>(self, _name: Name, _document: &'static str) -> Self
    where
        Name: NeedsContractFeature,
    {
        self
    }

    /// JSON fields the replay leaves out when it compares the client's frames with the recorded ones (the
    /// macro's `ignore_fields = ["run_id"]`); see [`Replay::ignore_fields`](crate::Replay::ignore_fields).
    pub fn ignore_fields(mut self, fields: &[&str]) -> Self {
        self.ignore_fields
            .extend(fields.iter().map(|field| (*field).to_owned()));
        self
    }

    /// Where the clients connect on the embedded server (default `/ws`); it moves the built-in agent too.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// How the clients reach the embedded server (default [`Transport::Tcp`]).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Runs the test on a paused tokio clock that advances by itself whenever every task waits on a timer, so a
    /// 30 s heartbeat takes no real time. It needs [`Transport::Memory`] and the current-thread flavor (over real
    /// sockets a paused clock jumps ahead while the OS delivers bytes, so deadlines would fire early). Against an
    /// external server (`url`, `WS_TEST_URL`) the clock runs normally.
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// Where the server is.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// How many clients to connect (default 1).
    pub fn clients(mut self, n: usize) -> Self {
        self.clients = n;
        self
    }

    /// Checks the declared events on every client, each on its own whole session (the macro's
    /// `events_on = "all"`): for tests whose clients all receive the same events.
    pub fn events_on_every_client(mut self) -> Self {
        self.events_on = None;
        self
    }

    /// Checks the declared events on the client at `index` of the injected clients (the macro's
    /// `events_on = 1`); the default is 0, the first.
    pub fn events_on_client(mut self, index: usize) -> Self {
        self.events_on = Some(index);
        self
    }

    /// A header every client adds to its upgrade request (the macro's `headers = [("X-User-Id", "alice")]`);
    /// call again for several. A header of the same name given earlier (by a profile) is replaced: the test's
    /// own arguments win. See [`ClientBuilder::header`](crate::ClientBuilder::header).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(given, _)| !given.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// The token the clients send (`Authorization: Bearer`); the embedded server then requires it.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Leaves the `connection_established` frame to the body instead of consuming and checking it first.
    pub fn skip_welcome(mut self, skip: bool) -> Self {
        self.skip_welcome = skip;
        self
    }

    /// The body's timeout (default `WS_TEST_TIMEOUT`, else 30 s).
    pub fn timeout(mut self, within: Duration) -> Self {
        self.timeout = Some(within);
        self
    }

    /// How long the declared events (and the welcome) may take (default 5 s, scaled by
    /// `WS_TEST_TIMEOUT_SCALE`).
    pub fn event_timeout(mut self, within: Duration) -> Self {
        self.event_timeout = Some(within);
        self
    }

    /// The runtime flavor.
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn body_timeout(&self) -> Result<Duration, String> {
        match self.timeout {
            Some(within) => Ok(within),
            None => timeout::body_from_env().map_err(|error| error.to_string()),
        }
    }

    fn event_deadline(&self) -> Duration {
        self.event_timeout.unwrap_or_else(|| timeout::scaled(timeout::EVENTS))
    }

    fn external_url(&self) -> Result<Option<String>, String> {
        match &self.target {
            Target::Url(url) => Ok(Some(url.clone())),
            Target::UrlFromEnv(variable) => env_url(variable)
                .map(Some)
                .ok_or_else(|| format!("the test runs against `url = env(\"{variable}\")`, but {variable} is not set")),
            Target::UrlFromEnvOrEmbedded(variable) => Ok(env_url(variable).or_else(|| env_url(URL_ENV))),
            // A replay is the test's own mock: it stays local whatever WS_TEST_URL says.
            Target::Embedded if self.replay.is_some() => Ok(None),
            Target::Embedded => Ok(env_url(URL_ENV)),
        }
    }

    /// What `WS_TEST_URL` replaces in this test: the parts of its own server it configured, in words (`None`
    /// when the test targets a live server itself, or configured nothing).
    fn replaced_by_env(&self) -> Option<String> {
        if !matches!(self.target, Target::Embedded | Target::UrlFromEnvOrEmbedded(_)) {
            return None;
        }
        let configured = [
            (self.handler.is_some(), "handler"),
            (self.server.is_some(), "server"),
            (self.app.is_some(), "app"),
            (self.serve.is_some(), "serve"),
            (self.path.is_some(), "path"),
            (self.transport.is_some(), "transport"),
        ];
        let named: Vec<&str> = configured
            .iter()
            .filter(|(given, _)| *given)
            .map(|(_, name)| *name)
            .collect();
        (!named.is_empty()).then(|| named.join(", "))
    }
}

impl TestSpec {
    /// Whether the runtime starts with a paused clock, or why `start_paused` cannot be honoured.
    fn paused_clock(&self) -> Result<bool, String> {
        if !self.start_paused {
            return Ok(false);
        }
        if let (Some(serve), Ok(None)) = (&self.serve, self.external_url()) {
            return Err(format!(
                "`start_paused = true` cannot run `serve = {serve:?}`: a served server listens on a real socket, \
                 where a paused clock jumps ahead while the OS delivers bytes"
            ));
        }
        if let Ok(Some(url)) = self.external_url() {
            eprintln!(
                "ws-test: {} runs against the external server {url}, over real sockets: its clock runs normally \
                 (start_paused is for the in-memory transport)",
                self.name
            );
            return Ok(false);
        }
        if self.transport != Some(Transport::Memory) {
            return Err(
                "`start_paused = true` needs `transport = \"memory\"`: over real sockets a paused clock \
                        jumps ahead while the OS delivers bytes, so every deadline would fire early"
                    .into(),
            );
        }
        if self.flavor != Flavor::CurrentThread {
            return Err(
                "`start_paused = true` needs the current-thread flavor (tokio pauses only that runtime)".into(),
            );
        }
        Ok(true)
    }

    /// The event the clients await first: the test's `welcome`; else what the embedded server's handler declares
    /// ([`Handler::welcome`](crate::Handler::welcome)); against `WS_TEST_URL` in place of an embedded server, what
    /// that server's handler would have declared; with `app`, `serve`, `url` or `skip_welcome`, none.
    fn welcome_event(&self, server: Option<&EmbeddedServer>) -> Option<String> {
        if self.welcome.is_some() {
            return self.welcome.clone();
        }
        if self.skip_welcome || self.app.is_some() || self.serve.is_some() {
            return None;
        }
        if let Some(server) = server {
            return server.welcome().map(str::to_owned);
        }
        match self.target {
            Target::Url(_) | Target::UrlFromEnv(_) => None,
            // In place of the embedded server this test describes: the welcome its handler would send.
            Target::Embedded | Target::UrlFromEnvOrEmbedded(_) => match &self.replay {
                Some((name, text)) => self
                    .loaded_replay(name, text)
                    .ok()
                    .and_then(|replay| replay.opening_event().map(str::to_owned)),
                None => self.embedded_builder().welcome(),
            },
        }
    }

    /// The recording this test replays: through its protocol when the protocol has a server side (the server
    /// speaks it), its events named by the test's key.
    fn loaded_replay(&self, name: &str, text: &str) -> crate::Result<Replay> {
        let mut replay = Replay::from_named_json_lines(text, name)?.ignore_fields(&self.ignore_fields);
        if let Some(protocol) = self.protocol.as_ref().filter(|p| p.server_session().is_some()) {
            replay = replay.protocol(std::sync::Arc::clone(protocol))?;
        }
        Ok(replay.event_key(self.key()))
    }

    /// The field that names this test's events: `event_key`, else the protocol's, else `"type"`.
    fn key(&self) -> crate::Field {
        match (&self.event_key, &self.protocol) {
            (Some(key), _) => key.clone(),
            (None, Some(protocol)) => protocol.event_key(),
            (None, None) => crate::Field::type_key(),
        }
    }

    /// The embedded server's builder as the test configures it: `server`, then `handler`.
    fn embedded_builder(&self) -> ServerBuilder {
        let builder = self.server.map_or_else(EmbeddedServer::builder, |server| server());
        match self.handler {
            Some(handler) => handler(builder),
            None => builder,
        }
    }

    /// What cannot go with `serve` (a test built by hand or from a profile; the macro refuses the same at compile
    /// time).
    fn serve_conflicts(&self, serve: &Serve) -> Result<(), String> {
        let mut with = Vec::new();
        if self.handler.is_some() {
            with.push("handler");
        }
        if self.server.is_some() {
            with.push("server");
        }
        if self.app.is_some() {
            with.push("app");
        }
        if self.replay.is_some() {
            with.push("replay");
        }
        if !with.is_empty() {
            return Err(format!(
                "`serve = {serve:?}` runs your own server, so {} (ws-test's own server) cannot apply; keep one",
                with.join(", ")
            ));
        }
        if self.transport == Some(Transport::Memory) {
            return Err(format!(
                "`serve = {serve:?}` gets a real TCP listener, so `transport = \"memory\"` cannot apply"
            ));
        }
        Ok(())
    }
}

fn env_url(variable: &str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// Why a test failed, after teardown.
enum Failure {
    Setup(String),
    Teardown(String),
    Body(String),
    Timeout(Duration),
    Events(String),
    /// Frames that break the test's AsyncAPI contract.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    Contract(String),
}

/// What the driver saw, for the report and the transcript.
struct Evidence {
    failures: Vec<Failure>,
    panic: Option<Box<dyn std::any::Any + Send>>,
    server_failures: Vec<String>,
    /// The clients' records, read for a transcript only when the test fails.
    taps: Vec<Tap>,
}

/// Runs one test: the function `#[ws_test]` expands to. Panics (fails the test) with a readable report.
pub fn run(spec: TestSpec, body: Body) {
    let paused = match spec.paused_clock() {
        Ok(paused) => paused,
        Err(reason) => panic!("ws-test cannot run {}: {reason}", spec.name),
    };
    let runtime = match spec.flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(paused)
            .build(),
        Flavor::MultiThread(workers) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(workers) = workers {
                builder.worker_threads(workers);
            }
            builder.enable_all().build()
        }
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => panic!("ws-test could not build the tokio runtime for {}: {error}", spec.name),
    };
    let evidence = runtime.block_on(drive(&spec, body));
    drop(runtime);
    conclude(&spec, evidence, paused);
}

async fn drive(spec: &TestSpec, body: Body) -> Evidence {
    let mut evidence = Evidence {
        failures: Vec::new(),
        panic: None,
        server_failures: Vec::new(),
        taps: Vec::new(),
    };
    let mut injected = Injected::default();
    let mut taps: Vec<Tap> = Vec::new();
    match setup(spec, &mut injected, &mut taps).await {
        Ok(()) => run_body(spec, body, &mut injected, &taps, &mut evidence).await,
        Err(reason) => evidence.failures.push(Failure::Setup(reason)),
    }
    // Teardown, whatever happened: clients first (they say goodbye), then the server.
    evidence.taps = taps;
    let Injected {
        clients,
        server,
        served,
        external_url,
    } = injected;
    // Each client's goodbye, awaited (bounded by the close timeout): the server sees the clients' 1000 before it
    // shuts down, and no task is left for the runtime's drop to cancel.
    futures_util::future::join_all(clients.into_iter().map(WsClient::finish)).await;
    if let Some(hooks) = spec.hooks {
        let url = server
            .as_ref()
            .map(EmbeddedServer::url)
            .or_else(|| served.as_ref().map(ServedServer::url))
            .or(external_url)
            .unwrap_or_default();
        let context = ProfileContext {
            server: server.as_ref(),
            url: &url,
            test: &spec.name,
        };
        if let Err(reason) = hook(hooks.profile, "teardown", (hooks.teardown)(&context)).await {
            evidence.failures.push(Failure::Teardown(reason));
        }
    }
    if let Some(mut server) = server {
        if let Err(Error::ServerFailed { failures, .. }) = server.shutdown().await {
            evidence.server_failures = failures;
        }
    }
    if let Some(mut served) = served {
        if let Err(failure) = served.shutdown().await {
            evidence.server_failures.push(failure.to_string());
        }
    }
    evidence
}

/// Runs a profile's `setup` or `teardown` under [`timeout::HOOK`] (scaled); an error or the deadline is the
/// failure's sentence.
async fn hook(
    profile: &str,
    which: &str,
    run: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let within = timeout::scaled(timeout::HOOK);
    match tokio::time::timeout(within, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("the {which} of profile {profile} returned an error: {error}")),
        Err(_) => Err(format!(
            "the {which} of profile {profile} did not finish within {within:?} (timeout::HOOK, scaled by {})",
            timeout::SCALE_ENV
        )),
    }
}

async fn setup(spec: &TestSpec, injected: &mut Injected, taps: &mut Vec<Tap>) -> Result<(), String> {
    if !spec.ignore_fields.is_empty() && spec.replay.is_none() {
        // The macro refuses the same at compile time; a spec built by hand or from a profile is refused here.
        return Err(format!(
            "`ignore_fields = {:?}` leaves fields out when client frames are compared with a recording's, so it \
             needs `replay = \"FILE\"`; this test replays nothing",
            spec.ignore_fields
        ));
    }
    timeout::check_env().map_err(|error| error.to_string())?;
    let url = match (spec.external_url()?, &spec.serve) {
        (Some(url), _) => {
            if let Some(replaced) = spec.replaced_by_env() {
                // One line, so a test that configured its own server never runs elsewhere without a word.
                eprintln!(
                    "ws-test: {}: the live server {url} (WS_TEST_URL) replaces this test's {replaced}; a test keeps its \
                     own server only with `replay`, or when WS_TEST_URL is unset",
                    spec.name
                );
            }
            injected.external_url = Some(url.clone());
            url
        }
        (None, Some(serve)) => {
            spec.serve_conflicts(serve)?;
            let builder = ServedServer::erased((serve.make)(), serve.name).path(
                spec.path
                    .clone()
                    .unwrap_or_else(|| crate::server::DEFAULT_PATH.to_owned()),
            );
            let served = builder.start().await.map_err(|error| error.to_string())?;
            let url = served.url();
            injected.served = Some(served);
            url
        }
        (None, None) => {
            let mut builder = spec.embedded_builder();
            if let Some((name, text)) = &spec.replay {
                let loaded = spec
                    .loaded_replay(name, text)
                    .map_err(|error| format!("the recording to replay does not read: {error}"))?;
                builder = builder.handler(loaded);
            }
            // The core's settings first: `app` carries them over to the app's builder.
            if let Some(path) = &spec.path {
                builder = builder.path(path.clone());
            }
            if let Some(transport) = spec.transport {
                builder = builder.transport(transport);
            }
            // A hosted app enforces the token and picks the subprotocol itself; ws-test's own server is told to.
            let started = match spec.app {
                Some(app) => app(builder).await.start().await,
                None => {
                    if let Some(token) = &spec.token {
                        builder = builder.token(token.clone());
                    }
                    if let Some(protocol) = &spec.subprotocol {
                        builder = builder.subprotocol(protocol.clone());
                    }
                    // The test's protocol, spoken by both ends when it has a server side (the kits do).
                    if let Some(protocol) = spec.protocol.as_ref().filter(|p| p.server_session().is_some()) {
                        builder = builder.protocol(std::sync::Arc::clone(protocol));
                    }
                    builder.start().await
                }
            };
            let server = started.map_err(|error| format!("the embedded server did not start: {error}"))?;
            let url = server.url();
            injected.server = Some(server);
            url
        }
    };
    if let Some(problem) = spec.problems.first() {
        return Err(problem.clone());
    }
    if let Some(hooks) = spec.hooks {
        let context = ProfileContext {
            server: injected.server.as_ref(),
            url: &url,
            test: &spec.name,
        };
        hook(hooks.profile, "setup", (hooks.setup)(&context)).await?;
    }
    let welcome = spec.welcome_event(injected.server.as_ref());
    for _ in 0..spec.clients {
        // An embedded server's own builder trusts its certificate when it serves TLS.
        let mut builder = match &injected.server {
            Some(server) => server.client(),
            None => WsClient::builder(url.clone()),
        };
        for (name, value) in &spec.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(token) = &spec.token {
            builder = builder.token(token.clone());
        }
        if let Some(protocol) = &spec.subprotocol {
            builder = builder.subprotocol(protocol.clone());
        }
        if let Some(protocol) = &spec.protocol {
            builder = builder.protocol(std::sync::Arc::clone(protocol));
        }
        if let Some(key) = &spec.event_key {
            builder = builder.event_key(key);
        }
        if let Some(Decode(decode)) = &spec.decode {
            builder = builder.decoder(decode.clone());
        }
        let connected = match &injected.served {
            Some(served) => served.connect_with(builder).await,
            None => builder.connect().await,
        };
        let mut client = connected.map_err(|error| error.to_string())?;
        if let Some(welcome) = &welcome {
            let expected = Expect::events([welcome.as_str()]).within(spec.event_deadline());
            client.expect(&expected).await.map_err(|error| {
                format!(
                    "the server's welcome ({welcome}) did not arrive (use `skip_welcome = true` if it sends none):\n{error}"
                )
            })?;
        }
        taps.push(client.tap());
        injected.clients.push(client);
    }
    Ok(())
}

async fn run_body(spec: &TestSpec, body: Body, injected: &mut Injected, taps: &[Tap], evidence: &mut Evidence) {
    let within = match spec.body_timeout() {
        Ok(within) => within,
        Err(reason) => return evidence.failures.push(Failure::Setup(reason)),
    };
    let clients_before = injected.clients.len();
    let outcome = tokio::time::timeout(within, AssertUnwindSafe(body(injected)).catch_unwind()).await;
    match outcome {
        Err(_) => return evidence.failures.push(Failure::Timeout(within)),
        Ok(Err(payload)) => {
            evidence.panic = Some(payload);
            return;
        }
        Ok(Ok(Err(reason))) => return evidence.failures.push(Failure::Body(reason)),
        Ok(Ok(Ok(()))) => {}
    }
    #[cfg(feature = "contract")]
    if let Some((name, text)) = &spec.contract {
        match crate::contract::Contract::from_asyncapi_str(text, name) {
            Ok(contract) => {
                let event_key = spec.event_key.clone();
                let contract = match event_key {
                    Some(key) => contract.event_key(key),
                    None => contract,
                };
                for (number, tap) in taps.iter().enumerate() {
                    if let Err(violations) = contract.check_history(&tap.history()) {
                        let text = crate::contract::violations_error(violations).to_string();
                        let who = if taps.len() > 1 {
                            format!("client {number}: ")
                        } else {
                            String::new()
                        };
                        evidence.failures.push(Failure::Contract(format!("{who}{text}")));
                    }
                }
            }
            Err(error) => evidence
                .failures
                .push(Failure::Setup(format!("the contract does not read: {error}"))),
        }
    }
    let Some(expectation) = &spec.expectation else { return };
    let expectation = match expectation.deadline() {
        Some(_) => expectation.clone(),
        None => expectation.clone().within(spec.event_deadline()),
    };
    // Each checked client's whole session after the welcome, whatever the body read: its tap was made at
    // connect, and reads on whether the body still lends the client or took it.
    let checked: Vec<usize> = match spec.events_on {
        Some(index) => vec![index],
        None => (0..taps.len()).collect(),
    };
    if taps.is_empty() {
        return evidence.failures.push(Failure::Setup(
            "events were declared, but the test has no client".into(),
        ));
    }
    let still_lent = clients_before == injected.clients.len();
    for &index in &checked {
        let Some(tap) = taps.get(index) else {
            return evidence.failures.push(Failure::Setup(format!(
                "the events are checked on client {index} (`events_on`), but the test has {} client(s), \
                 numbered from 0",
                taps.len()
            )));
        };
        if let (Some(client), true) = (injected.clients.get_mut(index), still_lent) {
            if let Err(error) = client.flush().await {
                return evidence.failures.push(Failure::Events(error.to_string()));
            }
        }
        let who = if taps.len() > 1 {
            format!("on client {index} of {}: ", taps.len())
        } else {
            String::new()
        };
        match tap.clone().expect(&expectation).await {
            Err(Error::Expectation(failure)) => evidence.failures.push(Failure::Events(format!("{who}{failure}"))),
            Err(other) => evidence.failures.push(Failure::Events(format!("{who}{other}"))),
            Ok(_) => {}
        }
    }
}

fn conclude(spec: &TestSpec, evidence: Evidence, paused: bool) {
    let mut report = Vec::new();
    for failure in &evidence.failures {
        report.push(match failure {
            Failure::Setup(reason) => format!("setup failed: {reason}"),
            Failure::Teardown(reason) => format!("teardown failed: {reason}"),
            Failure::Body(reason) => format!("the test body returned an error: {reason}"),
            Failure::Timeout(within) if paused => format!(
                "the test body did not finish within {} of the paused clock's virtual time (a test that waits \
                 minutes of virtual time needs a `timeout = \"...\"` to match, or {})",
                humantime::format_duration(*within),
                timeout::BODY_ENV
            ),
            Failure::Timeout(within) => format!(
                "the test body did not finish within {} (set `timeout = \"...\"` on the test or {})",
                humantime::format_duration(*within),
                timeout::BODY_ENV
            ),
            Failure::Events(report) => format!("the declared events did not arrive as declared:\n{report}"),
            Failure::Contract(report) => format!("frames broke the contract:\n{report}"),
        });
    }
    if !evidence.server_failures.is_empty() {
        let mut text = "the server side failed while the test ran:".to_owned();
        for failure in &evidence.server_failures {
            text.push_str("\n  - ");
            text.push_str(failure);
        }
        report.push(text);
    }
    if let Some(payload) = evidence.panic {
        if !report.is_empty() {
            eprintln!(
                "ws-test: the body of {} panicked; also:\n{}",
                spec.name,
                report.join("\n\n")
            );
        }
        write_transcript(
            spec,
            &format!("the test body panicked: {}", panic_message(payload.as_ref())),
            &evidence.taps,
        );
        std::panic::resume_unwind(payload);
    }
    if report.is_empty() {
        return;
    }
    let mut message = report.join("\n\n");
    if let Some(path) = write_transcript(spec, &message, &evidence.taps) {
        message.push_str(&format!("\n\ntranscript: {}", path.display()));
    }
    panic!("{message}");
}

fn write_transcript(spec: &TestSpec, report: &str, taps: &[Tap]) -> Option<std::path::PathBuf> {
    let histories: Vec<History> = taps.iter().map(Tap::history).collect();
    match transcript::write(&spec.name, report, &histories) {
        Ok(path) => {
            eprintln!("ws-test: transcript of {} written to {}", spec.name, path.display());
            Some(path)
        }
        Err(reason) => {
            eprintln!("ws-test: could not write the transcript of {}: {reason}", spec.name);
            None
        }
    }
}

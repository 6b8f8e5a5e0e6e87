//! The spec: everything `#[ws_test(...)]` declares about one test, as a builder ([`TestSpec`]).

use std::time::Duration;

use super::context::Hooks;
use super::inject::AppFuture;
use crate::expect::Expectation;
use crate::served::{ErasedServe, ServeFn};
use crate::server::ServerBuilder;
use crate::transport::Transport;

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
pub(super) struct Serve {
    pub(super) make: std::sync::Arc<dyn Fn() -> ErasedServe + Send + Sync + std::panic::RefUnwindSafe>,
    pub(super) name: &'static str,
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
pub(super) struct Decode(pub(super) std::sync::Arc<DecodeFn>);

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
    pub(super) name: String,
    pub(super) expectation: Option<Expectation>,
    pub(super) hooks: Option<Hooks>,
    pub(super) problems: Vec<String>,
    pub(super) server: Option<fn() -> ServerBuilder>,
    pub(super) handler: Option<fn(ServerBuilder) -> ServerBuilder>,
    pub(super) app: Option<fn(ServerBuilder) -> AppFuture>,
    pub(super) serve: Option<Serve>,
    pub(super) subprotocol: Option<String>,
    pub(super) protocol: Option<crate::protocol::SharedProtocol>,
    pub(super) event_key: Option<crate::Field>,
    pub(super) welcome: Option<String>,
    pub(super) decode: Option<Decode>,
    /// A recording to serve: its name and its text.
    pub(super) replay: Option<(String, &'static str)>,
    /// Which WebSocket of a replayed HAR file (`entry = "..."`).
    pub(super) replay_entry: Option<String>,
    /// An AsyncAPI document every client's frames must conform to: its name and its text.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    pub(super) contract: Option<(String, &'static str)>,
    pub(super) ignore_fields: Vec<String>,
    pub(super) path: Option<String>,
    pub(super) transport: Option<Transport>,
    pub(super) link: Option<crate::Link>,
    pub(super) start_paused: bool,
    pub(super) target: Target,
    pub(super) clients: usize,
    /// The clients the declared events are checked on: one index, or every client (`None`).
    pub(super) events_on: Option<usize>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) token: Option<String>,
    pub(super) skip_welcome: bool,
    pub(super) timeout: Option<Duration>,
    pub(super) event_timeout: Option<Duration>,
    pub(super) flavor: Flavor,
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
            replay_entry: None,
            contract: None,
            ignore_fields: Vec::new(),
            path: None,
            transport: None,
            link: None,
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

    /// The server builder to start from (default [`EmbeddedServer::builder`](crate::EmbeddedServer::builder)).
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
    /// the server is stopped at once (see [`ServedServer::shutdown`](crate::ServedServer::shutdown)), and an error or panic of it fails the test.
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

    /// Serves a recording with [`Replay`](crate::Replay) (the macro's `replay = "tests/fixtures/chat.jsonl"`,
    /// which embeds the file): `name` names it in errors and close reasons, `recording` is its text. It is read
    /// when the test starts; a line that does not parse fails the test, naming the line. The clients wait for
    /// the `connection_established` welcome only when the recording's server sent one first.
    pub fn replay(mut self, name: impl Into<String>, recording: &'static str) -> Self {
        self.replay = Some((name.into(), recording));
        self
    }

    /// Which WebSocket of the replayed HAR file to serve (the macro's `entry = "..."`): its index in the HAR's
    /// `log.entries`, its URL, or a part of its URL only it has (see [`History::load_entry`](crate::History::load_entry)).
    /// A HAR with one WebSocket needs none.
    pub fn entry(mut self, entry: impl Into<String>) -> Self {
        self.replay_entry = Some(entry.into());
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

    /// A network between the clients and the server (`#[ws_test(link = "...")]`): a typed
    /// [`Link`](crate::Link) or its written form, `"latency=50ms, jitter=10ms, bandwidth=256KiB/s, chunk=7"`. It
    /// applies to every kind of server: ws-test's own and hosted apps (`server.link()` stalls, cuts and heals it),
    /// `serve` (the same on `&ServedServer`) and a URL (the clients' side only). Text that does not read fails the
    /// test before it starts, saying why.
    pub fn link(mut self, link: impl crate::IntoLink) -> Self {
        match link.into_link() {
            Ok(link) => self.link = Some(link),
            Err(error) => self.problems.push(format!("the link does not read: {error}")),
        }
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
}

//! The `#[ws_test]` attribute of [ws-test](https://docs.rs/ws-test-runtime). Use it through
//! `ws_test_runtime::ws_test` (or the prelude): this crate only turns tokens into a call of
//! `ws_test_runtime::driver::run`, where everything that runs lives.

mod derive_events;
mod derive_profile;
mod expand;
mod expanders;
mod grammar;
mod model;
mod read;
mod table;

use proc_macro::TokenStream;

/// Turns an `async fn` into a test that starts an embedded WebSocket server, connects a client, runs the body,
/// then checks that the declared events arrived in the declared order.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// #[ws_test(events = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"])]
/// async fn chat_flow(client: &mut WsClient) -> TestResult {
///     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
///     Ok(())
/// }
/// ```
///
/// Each test gets its own server on a port the OS picks, its own current-thread runtime and fresh clients: tests
/// share nothing and run in parallel under `cargo test` and `cargo nextest run`, each under its own name. The
/// welcome frame (`connection_established`) is consumed and checked before the body. After the body, the
/// declared events are awaited (5 s by default) with the one matcher of `ws_test_runtime::expect`; when they do
/// not arrive as declared, the test fails with the timeline report, and the transcript (the report plus every
/// frame as JSON Lines) is written under `target/ws-test/`. Panics in the body are resumed after teardown, so
/// `#[should_panic(expected = "...")]` works; panics in server handlers fail the test with their message.
/// `#[ignore]`, `#[should_panic]` and doc comments are kept.
///
/// # Parameters, injected by type
///
/// In any order: at most one of `&mut WsClient`, `WsClient`, `Vec<WsClient>` (all clients, see `clients`), and
/// `&EmbeddedServer` (url, metrics, broadcast). The body returns `()` or `Result<(), E>` with `E: Debug`;
/// `TestResult` from the prelude takes `?` on any error.
///
/// # Arguments
///
/// Every argument is optional. Each is shown with the code it stands for, written with
/// `ws_test_runtime::driver` (`TestSpec` is what the macro builds; `run(spec, body(f))` is what it calls).
///
/// **`profile = Type`** — a shared setup declared once with `#[derive(WsProfile)]` (or by hand): its handler,
/// server, events and settings, and its async `setup`/`teardown`. Arguments written on the test override the
/// profile's; `order`, `per` and `times` alone refine the profile's events. Equivalent:
/// `TestSpec::new(name).profile::<Type>()`.
///
/// **`events = [...]`** — the event types that must arrive after the body, in this order (other frames may
/// come between). String literals (`"agent_started"`), variants of a `#[derive(WsEvents)]` enum
/// (`ChatEvent::AgentStarted`: a misspelled variant is a compile error naming it), or an expression that yields
/// names: `events = ChatEvent::CRITICAL`, a constant of your own (`events = my_kit::EVENTS`).
/// Equivalent: `TestSpec::new(name).expect(Expect::events(["agent_started", "agent_completed"]))`, i.e.
/// `client.expect(&Expect::events([...])).await` after the body.
///
/// **`pattern = "..."`** — the declared events as a pattern, the grammar of `Expect::pattern`: names separated by
/// spaces, `*`, `+`, `?`, `|` and parentheses, with `per` and `times` as for `events` (`events` and `pattern`
/// together are an error; a pattern that does not parse is a compile error on the string). Equivalent:
/// `TestSpec::new(name).expect(Expect::pattern("started delta+ done")?)`.
///
/// **`event_key = "method"`** — the field that names an event, a key (`"method"`, `"event"`, `"t"`) or a JSON
/// pointer (`"/data/kind"`); default `"type"`. The declared events, the welcome, `expect_type` and every `expect`
/// in the body that names no key of its own read it. Equivalent: `server.client().event_key("method")`, or
/// `Expect::events([...]).event_key("method")`.
///
/// **`decode = msgpack`** — `fn msgpack(bytes: &[u8]) -> Result<serde_json::Value, E>` (any `E: Display`, such
/// as `rmp_serde::decode::Error`): every binary frame the clients receive is decoded once, as it arrives, and
/// `events`, `expect`, `expect_type`, `recv_json`, reports and timelines work on the decoded value; transcripts
/// keep the bytes with the decoded JSON beside them; a frame that does not decode is reported with the decoder's
/// error and its first bytes. Sending stays `send_binary`. Equivalent: `server.client().decode(msgpack)`.
///
/// **`welcome = "session.created"`** — the event awaited on each client after connecting, named by the event
/// key. Without it, only the welcome the server's handler declares is awaited (the built-in agent's
/// `connection_established`); with `app`, `serve` or `url`, none. Equivalent:
/// `client.expect(&Expect::events(["session.created"])).await?` before the body.
///
/// ```
/// use ws_test_runtime::Router;
/// use ws_test_runtime::prelude::*;
///
/// /// A realtime-model-style stream: a session, then per item one `added`, deltas, one `done`.
/// fn realtime() -> Router {
///     Router::new()
///         .on_connect(|session: Session| async move {
///             session.send_json(&json!({"type": "session.created"})).await
///         })
///         .route("response.create", |session: Session, _request: Value| async move {
///             for item in ["i1", "i2"] {
///                 session.send_json(&json!({"type": "response.output_item.added", "item_id": item})).await?;
///                 for delta in ["Hel", "lo"] {
///                     let event = json!({"type": "response.output_text.delta", "item_id": item, "delta": delta});
///                     session.send_json(&event).await?;
///                 }
///                 session.send_json(&json!({"type": "response.output_text.done", "item_id": item})).await?;
///             }
///             Ok::<(), ws_test_runtime::Error>(())
///         })
/// }
///
/// #[ws_test(
///     handler = realtime,
///     welcome = "session.created",
///     pattern = "response.output_item.added response.output_text.delta+ response.output_text.done",
///     per = "item_id",
///     times = 2,
///     transport = "memory",
///     start_paused = true
/// )]
/// async fn two_items_stream_and_finish(client: &mut WsClient) -> TestResult {
///     client.send_json(json!({"type": "response.create"})).await?;
///     Ok(())
/// }
/// ```
///
/// **`order = "strict" | "in_order" | "any_order"`** — exactly these frames / these in order (default) / in any
/// order. Equivalent: `Expect::events([...]).strict()` (or `.order(Order::Strict)`).
///
/// **`per = "run_id"`** — one sequence per distinct value of that field; runs may interleave.
/// Equivalent: `Expect::events([...]).per("run_id")`.
///
/// **`times = N`** — N complete sequences (N distinct groups with `per`). Equivalent:
/// `Expect::events([...]).times(N)`.
///
/// **`handler = EXPR`** — the server's handler: a value (`ChatAgent::new().fault(...)`, `Router::new()...`,
/// your own type) or a function that returns one (`handler = my_app`). Default: the built-in chat agent.
/// Equivalent: `EmbeddedServer::builder().handler(my_app())`.
///
/// **`server = PATH`** — a `fn() -> ServerBuilder` giving a configured server (token, origins, limits); the
/// handler, if given, is set on top. Equivalent: `my_server().start().await`.
///
/// **`app = path`** — your own tower app (an `axum::Router`, any tower service over
/// `http::Request<hyper::body::Incoming>`): a function returning it, plain or `async`, hosted by the embedded
/// server over TCP or in memory. The app enforces `token` and picks the `subprotocol`; no welcome is awaited.
/// Equivalent: `EmbeddedServer::builder().app(my_app()).start().await`.
///
/// **`serve = path`** — your own server of any kind (actix-web, jsonrpsee, a tokio-tungstenite accept loop):
/// a function that takes a `tokio::net::TcpListener` or a non-blocking `std::net::TcpListener` that ws-test bound
/// on `127.0.0.1:0`, plain or `async`, returning `()`, `Result<(), E>` or a future of either (actix-web's
/// `dev::Server`). The clients connect to `ws://127.0.0.1:PORT` and `path` (default `/ws`; `path = "/"` for
/// servers that take any path); no welcome is awaited; at teardown the server is stopped at once (no
/// graceful-shutdown wait), and an error or panic of it fails the test. Clients are injected, and the server's
/// handle as `&ServedServer` (`&EmbeddedServer` is a compile error), and `transport = "memory"` and `start_paused` do not apply (a
/// listener is a real socket). Equivalent: `ServedServer::builder(my_server).path("/chat").start().await`, then
/// `server.connect().await`.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// /// A plain tokio-tungstenite accept loop that answers every text frame with an event named by it.
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
/// #[ws_test(serve = echo, path = "/", events = ["hello"])]
/// async fn echoes(client: &mut WsClient) -> TestResult {
///     client.send_json(json!({"type": "hello"})).await?;
///     Ok(())
/// }
/// ```
///
/// **`subprotocol = "graphql-transport-ws"`** — every client offers this subprotocol, and
/// `client.subprotocol()` returns what the server agreed; a server that agrees to none fails the connect,
/// naming what it answered. ws-test's own server is told to agree to it. Equivalent:
/// `WsClient::builder(url).subprotocol("graphql-transport-ws")`.
///
/// **`protocol = "socket.io"`** or **`protocol = EXPR`** — every client speaks this protocol: a kit of
/// `ws_test_runtime::protocol` by name (`"socket.io"`, an unknown name is a compile error naming the kits) or
/// any expression that makes one (`protocol = ws_test_runtime::protocol::SocketIo::new().namespace("/chat")`,
/// your own `Protocol`). The client connects where the protocol says, performs its handshake, answers its
/// heartbeats, and `events`, `expect` and reports read the events it decodes, by its event key (Socket.IO:
/// `"event"`); `client.emit(name, data)` sends through it. Equivalent: `WsClient::builder(url).protocol(...)`.
///
/// **`replay = "tests/fixtures/chat.jsonl"`** — serve a recording (made with `ws-test record`, saved from a
/// history, or a HAR file a browser saved: `replay = "tests/fixtures/session.har"`) as the mock server, embedded at
/// compile time, at the recording's path and agreeing to its subprotocol; **`entry = "ws://localhost:4000/ws"`**
/// chooses one WebSocket of a HAR holding several (its index in `log.entries`, its URL, or a part of its URL only it
/// has); **`ignore_fields = ["run_id"]`** leaves fields out of the replay's comparison. Equivalent:
/// `EmbeddedServer::builder().handler(Replay::from_file_entry(path, entry)?)`.
///
/// **`contract = "api/chat.yaml"`** — an AsyncAPI 3.0 document (YAML or JSON), embedded at compile time (a
/// missing file is an error on the string): after the body, every frame every client sent and received must be
/// a message its channel allows that way, its payload satisfying the message's JSON Schema; a violation fails the
/// test naming the frame, the message and the JSON pointer. Needs ws-test-runtime's `contract` feature (without
/// it, a compile error says so). Equivalent: `client.conforms_to(&Contract::from_asyncapi(path)?)`.
///
/// **`path = "/chat/ws"`** — where the clients connect (default `/ws`). Equivalent: `ServerBuilder::path`.
///
/// **`transport = "tcp" | "memory"`** — how the clients reach the embedded server or hosted app: loopback TCP
/// (default) or an in-process pipe. Equivalent: `ServerBuilder::transport(Transport::Memory)`.
///
/// **`link = "latency=50ms, jitter=10ms, bandwidth=256KiB/s, chunk=7"`** — a network between the clients and the
/// server, both ways (`up.latency=...`, `down.bandwidth=...` for one way), for every kind of server; the test
/// stalls, cuts and heals it with `server.link()`. Equivalent: `ServerBuilder::link`, `ClientBuilder::link`.
///
/// **`start_paused = true`** — a paused tokio clock that advances by itself while every task waits (a 30 s
/// heartbeat takes no time); needs `transport = "memory"`, the current-thread flavor and the runtime's `test-util`
/// feature (tokio's own; off by default, and a compile error naming it when missing). Equivalent:
/// `tokio::runtime::Builder::new_current_thread().start_paused(true)`.
///
/// **`url = "ws://..."` or `url = env("VAR")`** — run against that live server instead of an embedded one (a
/// staging smoke test); with `env`, the test fails saying so when the variable is unset. When `WS_TEST_URL` is
/// set, tests without a `url` run against it too. Equivalent: `WsClient::connect("ws://...")`.
///
/// **`clients = N`** — connect N clients (inject them with `Vec<WsClient>`; the events are checked on the
/// first). Equivalent: N calls of `server.connect()`.
///
/// **`events_on = "all"`** or **`events_on = INDEX`** — which clients the declared events are checked on: every
/// client, each on its whole session, or the one at that index of the injected `Vec<WsClient>` (default 0, the
/// first). A failure names the client (`on client 1 of 3: ...`). An index the test does not connect is a compile
/// error. Equivalent: `TestSpec::events_on_every_client()` / `events_on_client(i)`.
///
/// **`headers = [("X-User-Id", "alice")]`** — headers every client adds to its upgrade request (the chat agent
/// reads its user from `X-User-Id`). Equivalent: `server.client().header("X-User-Id", "alice")`.
///
/// **`token = "..."`** — the clients send `Authorization: Bearer ...`, and the embedded server requires it.
/// Equivalent: `EmbeddedServer::builder().token(t)` and `server.client().token(t)`.
///
/// **`skip_welcome = true`** — leave `connection_established` to the body (for servers that send none).
/// Equivalent: not calling `client.expect(&Expect::events(["connection_established"]))` first.
///
/// **`timeout = "30s"`** — the body's deadline (default `WS_TEST_TIMEOUT`, else 30 s); a body that runs longer
/// fails the test. Equivalent: `tokio::time::timeout(Duration::from_secs(30), body)`.
///
/// **`event_timeout = "5s"`** — how long the welcome and the declared events may take (default 5 s, scaled by
/// `WS_TEST_TIMEOUT_SCALE`). Equivalent: `Expect::events([...]).within(Duration::from_secs(5))`.
///
/// **`flavor = "current_thread" | "multi_thread"`**, **`worker_threads = N`** — tokio's spellings; the default
/// is a current-thread runtime (cheapest). `worker_threads` needs `multi_thread`, and `multi_thread` the runtime's
/// `multi-thread` feature (tokio's scheduler; off by default, and a compile error naming it when missing). Equivalent:
/// `tokio::runtime::Builder::new_multi_thread().worker_threads(N)`. (There is no `start_paused`: a paused clock
/// advances by itself while real sockets wait, so every timeout would fire at once.)
///
/// **`crate = "path"`** — where the runtime is, for a facade crate that re-exports it
/// (`crate = "my_testkit::ws"`). Equivalent: naming `my_testkit::ws::driver` instead of
/// `ws_test_runtime::driver`.
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::ServerBuilder;
///
/// fn locked_down() -> ServerBuilder {
///     EmbeddedServer::builder().max_message_size(64 * 1024)
/// }
///
/// #[ws_test(
///     events = ["agent_started", "agent_completed"],
///     order = "in_order",
///     per = "run_id",
///     times = 2,
///     server = locked_down,
///     handler = ChatAgent::new().agent_name("Support"),
///     clients = 2,
///     headers = [("X-User-Id", "alice"), ("X-Tenant", "acme")],
///     token = "s3cret",
///     timeout = "10s",
///     event_timeout = "2s",
///     flavor = "multi_thread",
///     worker_threads = 2,
/// )]
/// async fn two_runs(clients: Vec<WsClient>, server: &EmbeddedServer) -> TestResult {
///     let mut first = clients.into_iter().next().expect("two clients");
///     for run in ["r1", "r2"] {
///         first.send_json(&json!({"type": "chat_message", "content": "hi", "run_id": run})).await?;
///     }
///     assert_eq!(server.metrics().connections_active, 2);
///     Ok(())
/// }
/// ```
///
/// # Compile errors
///
/// Misuse is a compile error on the offending token, all errors of one attribute at once, and the function is
/// still emitted so editors keep working: an unknown argument (with the valid ones and a "did you mean"), a
/// value of the wrong type, a duplicated argument, `order`/`per`/`times` without `events`, `worker_threads`
/// without `flavor = "multi_thread"`, `handler`/`server` with `url`, a function that is not `async`, generic,
/// takes `self` or more than two parameters, an unsupported parameter type, or a second test attribute
/// (`#[tokio::test]` stacked with this one).
#[proc_macro_attribute]
pub fn ws_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into()).into()
}

/// Implements `ws_test_runtime::events::WsEvents` for an enum of events: the wire names (honouring serde's
/// `rename_all` and `rename`), the name of a value, decoding a received frame, and the critical order (variant
/// order, or `#[ws_events(order = [...])]`). Put it next to `#[serde(tag = "type", rename_all = "...")]`.
///
/// ```
/// use serde::Deserialize;
/// use ws_test_runtime::prelude::*;
///
/// #[derive(Debug, Deserialize, WsEvents)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum BuildEvent {
///     BuildStarted { id: u32 },
///     BuildFinished { id: u32, ok: bool },
/// }
///
/// assert_eq!(BuildEvent::CRITICAL, ["build_started", "build_finished"]);
/// ```
///
/// Misuse is a compile error on the token at fault: on a struct or union, without `tag = "type"`, an unknown
/// `rename_all` rule, two variants with one wire name, an unknown `#[ws_events]` key, a variant in `order`
/// that does not exist.
#[proc_macro_derive(WsEvents, attributes(ws_events))]
pub fn derive_ws_events(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => derive_events::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Implements `ws_test_runtime::profile::WsProfile` from `#[ws_profile(...)]`, which takes `#[ws_test]`'s
/// arguments (`handler`, `server`, `events`, `order`, `per`, `times`, `clients`, `headers`, `token`,
/// `skip_welcome`, `timeout`, `event_timeout`, `flavor`, `worker_threads`, `crate`) plus `url_env = "VAR"` (run
/// against the server in VAR when it is set, else embedded) and `setup = path` / `teardown = path` (async
/// functions taking `&ProfileContext`). `serve`, `app`, `subprotocol`, `path` and `transport` are taken too.
///
/// **`url_env = "VAR"`** — the tests run against the server in VAR when it is set, else embedded.
/// **`setup = path`**, **`teardown = path`** — `async fn(&ProfileContext) -> Result<(), E>` run before and
/// after each test (seed data, clean up). Tests use it with `#[ws_test(profile = Type)]`; their own arguments
/// override the profile's.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// #[derive(WsProfile)]
/// #[ws_profile(handler = ChatAgent::new(), events = ws_test_runtime::ChatEvent::CRITICAL, per = "run_id")]
/// struct ChatBackend;
/// ```
///
/// Without `handler`, `server` or `url_env`, the profile's tests run against the built-in chat agent on an
/// embedded server, as `#[ws_test]` without them does:
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// #[derive(WsProfile)]
/// #[ws_profile(events = ChatEvent::CRITICAL, per = "run_id")]
/// struct BuiltInAgent;
///
/// #[ws_test(profile = BuiltInAgent)]
/// async fn the_agent_answers(client: &mut WsClient) -> TestResult {
///     client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
///     Ok(())
/// }
/// ```
#[proc_macro_derive(WsProfile, attributes(ws_profile))]
pub fn derive_ws_profile(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => derive_profile::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

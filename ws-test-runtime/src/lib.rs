//! # ws-test-runtime
//!
//! Test WebSocket services without Docker: every test owns an in-process WebSocket server on its own loopback
//! port, started in well under a millisecond and gone when the test ends, a client made for assertions, and a
//! declaration of the events that must arrive, in order.
//!
//! ## The tour
//!
//! One path through the crate, in the order a test meets it:
//!
//! - [`#[ws_test]`](ws_test) turns an `async fn` into a test: it starts a server, injects connected clients, runs
//!   the body, then checks the declared events. Everything it does is the [`driver`], which you can call by
//!   hand ([`driver::TestSpec`], [`driver::run`]).
//! - [`expect`] is the one event-order matcher: [`Expect::events`](expect::Expect::events) and
//!   [`Expect::pattern`](expect::Expect::pattern) build an [`Expectation`](expect::Expectation) (strict, in
//!   order, any order, per run, pairs, field matches), evaluated as frames arrive; a failure is an
//!   [`ExpectationFailure`] that reads at a glance.
//! - [`WsEvents`] declares a workspace's events once, as an enum (`#[derive(WsEvents)]`); [`ChatEvent`] is the
//!   built-in agent's five, and the one model the agent, its faults and the check suite use.
//! - [`WsProfile`] declares a test setup once (`#[derive(WsProfile)]`): handler, server, events, hooks; tests
//!   name it with `#[ws_test(profile = ...)]`.
//! - `suite` (feature `suite`) checks any live server against the protocol, one check per line of it
//!   (`ws-test check`).
//! - The server: [`EmbeddedServer`] (built by [`ServerBuilder`]) serves HTTP/1.1 with hyper and runs each
//!   upgraded connection through a [`Handler`], which gets a [`Session`] per connection. A [`Router`]
//!   dispatches JSON on its `"type"`; [`ChatAgent`] is the built-in simulated AI chat agent, with [`Fault`]s to
//!   break it on purpose.
//! - The client: [`WsClient`] (built by [`ClientBuilder`]) connects with retries, sends, receives with
//!   deadlines, answers pings; a [`Tap`] watches its connection after the client is gone. It misbehaves on
//!   purpose too (`vanish`, `go_silent`, `stop_reading`, [`RawFrame`]s, fragments, chunked writes), to test how
//!   a server copes.
//! - The history: every frame in and out, with its time, in a [`History`] that prints as a [`Timeline`] and
//!   saves as JSON Lines, the one transcript format: a failed test's transcript, a recording, a replay.
//! - Record and replay: `Recorder` (feature `record`) relays clients to a real server and records each session; [`Replay`]
//!   serves a recording again as a mock; [`Expect::from_recording`](expect::Expect::from_recording) turns it
//!   into an ordering test.
//! - [`Error`] is the one error type, each message a sentence; [`TestResult`] is the `Result` of a test body.
//! - [`protocol`] names every wire type and code, [`timeout`] every default deadline.
//!
//! ## A test
//!
//! ```
//! use ws_test_runtime::prelude::*;
//!
//! #[ws_test(events = ChatEvent::CRITICAL, order = "strict", per = "run_id")]
//! async fn a_question_gets_the_five_events(client: &mut WsClient) -> TestResult {
//!     client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
//!     Ok(())
//! }
//! ```
//!
//! ## The same test by hand
//!
//! ```
//! use ws_test_runtime::prelude::*;
//!
//! # async fn chat_round() -> Result<(), ws_test_runtime::Error> {
//! let server = EmbeddedServer::start().await?; // the built-in chat agent on 127.0.0.1:<free port>/ws
//! let mut client = WsClient::connect(server.url()).await?;
//! client.expect(&Expect::events(["connection_established"])).await?;
//! client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
//! let run = client.expect(&Expect::events(ChatEvent::CRITICAL).strict().per("run_id")).await?;
//! assert_eq!(run.events()[4]["type"], "agent_completed");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(chat_round()).unwrap();
//! ```
//!
//! With the `tracing` feature, logs go through `tracing` (connections opened and closed with their ids, handler
//! errors, refused upgrades) and stay silent unless the test installs a subscriber; without it (the default) they are
//! compiled out. Failures never depend on them: what a test needs to read is in its report.
//!
//! ## Cargo features
//!
//! - **`tls`** (off by default): `wss://` in the client — the platform's roots, `SSL_CERT_FILE` and
//!   `ClientBuilder::root_certificate` — and TLS in the embedded server (`ServerBuilder::tls_self_signed`,
//!   `ServerBuilder::tls`). It adds rustls on the ring provider and rcgen to the build; without it a `wss://` URL
//!   is an [`Error::InvalidUrl`] that says to turn the feature on. The `ws-test` binary has it on.
//!
//! - **`multi-thread`**: `#[ws_test(flavor = "multi_thread")]` and `Flavor::MultiThread`, on tokio's multi-thread
//!   scheduler (tokio's `rt-multi-thread`, the largest part of tokio's build).
//! - **`test-util`**: `#[ws_test(start_paused = true)]`, on tokio's paused clock (tokio's `test-util`).
//!
//! A test that asks for either without it is a compile error at the argument, naming the line to add; a
//! [`driver::TestSpec`] built by hand is refused when it runs, with the same sentence.
//!
//! Everything below is off by default too, so that a test of your own server builds only what it runs; the
//! `ws-test` binary turns each on:
//!
//! - **`tracing`**: the runtime's log lines (connections opened and closed, handler errors, refused upgrades)
//!   through `tracing`; without it they are compiled out.
//! - **`suite`**: `ws_test_runtime::suite`, the chat protocol's check suite (`ws-test check`), with hyper's client
//!   half for its HTTP checks.
//! - **`record`**: `Recorder` (a relay that records every session) and `Expectation::to_rust` (a recording as
//!   the code of a test, `ws-test expect`).
//! - **`load`**: `ws_test_runtime::load`, your own load in a closed or open model (`docs/load.md`).
//! - **`contract`**: `ws_test_runtime::contract`, AsyncAPI 3.0 documents and their schemas (`docs/contracts.md`).
//! - **`schemars`**: `WsEvents::asyncapi_components()` for an enum that also derives `JsonSchema`.
//! - **`conform`**: `ws_test_runtime::conform`, the Autobahn Testsuite's cases (`docs/conform.md`).
//! - **`fuzz`**: the fuzz targets' and the matcher benchmark's entry points (hidden, unstable).

// The derives generate `::ws_test_runtime::...` paths; this makes them resolve inside this crate too.
extern crate self as ws_test_runtime;

/// Asserts a conversation's [snapshot](Snapshot) through insta (feature `insta`): a [`WsClient`], a [`History`] or a
/// configured [`Snapshot`], by value or reference. The first run writes the snapshot file under the test's
/// `snapshots/` (review it with `cargo insta review`); each later run compares with it and fails with insta's diff
/// when the conversation changed, two events reordered among them. As insta's own macro: `assert_ws_snapshot!(client)`
/// names the snapshot after the test, `assert_ws_snapshot!("chat_round", client)` gives it a name, and
/// `assert_ws_snapshot!(client, @"...")` keeps it inline.
///
/// ```no_run
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::assert_ws_snapshot;
///
/// #[ws_test(events = ChatEvent::CRITICAL)]
/// async fn a_chat_round_reads_the_same_every_time(client: &mut WsClient) -> TestResult {
///     client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
///     client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
///     assert_ws_snapshot!(client);
///     // Or with a name, and a field of your own redacted:
///     assert_ws_snapshot!("chat_round", client.snapshot().redact("/message"));
///     Ok(())
/// }
/// ```
#[cfg(feature = "insta")]
#[macro_export]
macro_rules! assert_ws_snapshot {
    ($value:expr, @$snapshot:literal $(,)?) => {
        $crate::__private::insta::assert_snapshot!($crate::__private::snapshot_text(&$value), @$snapshot)
    };
    ($name:expr, $value:expr $(,)?) => {
        $crate::__private::insta::assert_snapshot!(
            $name,
            $crate::__private::snapshot_text(&$value),
            stringify!($value)
        )
    };
    ($value:expr $(,)?) => {
        $crate::__private::insta::assert_snapshot!(
            $crate::__private::insta::_macro_support::AutoName,
            $crate::__private::snapshot_text(&$value),
            stringify!($value)
        )
    };
}

// What `#[ws_test(flavor = "multi_thread")]` and `start_paused = true` expand to beside the call they need: nothing
// when this build of the runtime has the tokio feature behind the call, a compile error naming the feature when not.
#[cfg(feature = "multi-thread")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_multi_thread {
    () => {};
}
#[cfg(not(feature = "multi-thread"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_multi_thread {
    () => {
        ::core::compile_error!(
            "`flavor = \"multi_thread\"` needs ws-test-runtime's `multi-thread` feature (tokio's multi-thread \
             scheduler): ws-test-runtime = { version = \"0.1\", features = [\"multi-thread\"] }"
        );
    };
}
#[cfg(feature = "test-util")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_test_util {
    () => {};
}
#[cfg(not(feature = "test-util"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_test_util {
    () => {
        ::core::compile_error!(
            "`start_paused = true` needs ws-test-runtime's `test-util` feature (tokio's paused clock): \
             ws-test-runtime = { version = \"0.1\", features = [\"test-util\"] }"
        );
    };
}

// What `#[ws_test(protocol = "socket.io")]` (a kit by name) expands to beside the call: nothing when this build has
// the kit's feature, a compile error naming it when not.
#[cfg(feature = "socketio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_socketio {
    () => {};
}
#[cfg(not(feature = "socketio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_socketio {
    () => {
        ::core::compile_error!(
            "`protocol = \"socket.io\"` needs ws-test-runtime's `socketio` feature (the socket.io kit): \
             ws-test-runtime = { version = \"0.1\", features = [\"socketio\"] }"
        );
    };
}
#[cfg(feature = "graphql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_graphql {
    () => {};
}
#[cfg(not(feature = "graphql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_graphql {
    () => {
        ::core::compile_error!(
            "`protocol = \"graphql-transport-ws\"` needs ws-test-runtime's `graphql` feature (the graphql-transport-ws kit): \
             ws-test-runtime = { version = \"0.1\", features = [\"graphql\"] }"
        );
    };
}
#[cfg(feature = "jsonrpc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_jsonrpc {
    () => {};
}
#[cfg(not(feature = "jsonrpc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_jsonrpc {
    () => {
        ::core::compile_error!(
            "`protocol = \"jsonrpc\"` needs ws-test-runtime's `jsonrpc` feature (the jsonrpc kit): \
             ws-test-runtime = { version = \"0.1\", features = [\"jsonrpc\"] }"
        );
    };
}

// What `#[ws_test(replay = "session.har")]` expands to beside the call: nothing with the `har` feature, a compile
// error naming it without.
#[cfg(feature = "har")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_har {
    () => {};
}
#[cfg(not(feature = "har"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_needs_har {
    () => {
        ::core::compile_error!(
            "a HAR file as `replay` needs ws-test-runtime's `har` feature: \
             ws-test-runtime = { version = \"0.1\", features = [\"har\"] }"
        );
    };
}

/// What the `#[ws_test]` expansion and the derives call, and the fuzz targets' and benchmarks' entry points
/// (`fuzz_one`, `fuzz_server`, `is_met`). Not a stable API: it changes in any release; use [`driver`] by hand.
#[doc(hidden)]
pub mod __private {
    pub use crate::driver::inject::{
        AppFactory, Injected, IntoHandler, check_app, check_handler, check_parameters, check_served_parameters,
        with_app, with_handler,
    };
    pub use crate::driver::outcome::TestOutcome;
    pub use crate::driver::{Flavor, ProfileContext, Target, TestSpec, body, run};
    pub use crate::events::{decode_with_serde, event_key_of, variant_name};
    #[cfg(feature = "fuzz")]
    pub use crate::expect::hooks::{fuzz_one, is_met};
    pub use crate::expect::{Expect, Expectation, Order};
    /// The expectation of a pattern the `#[ws_test(pattern = ...)]` attribute has already parsed (with the same
    /// parser): what its expansion calls. A pattern that does not parse (only reachable by hand) is an expectation
    /// no frame meets, whose report names the error.
    pub fn parsed_pattern(source: &str) -> Expectation {
        match Expect::pattern(source) {
            Ok(expectation) => expectation,
            Err(error) => Expect::events([format!("(a pattern that does not parse: {error})")]).strict(),
        }
    }
    pub use crate::handler::BoxError;
    pub use crate::profile::WsProfile;
    pub use crate::served::{Started, check_serve, shape};
    pub use crate::server::ServerBuilder;
    pub use crate::{
        __ws_test_needs_graphql as needs_graphql, __ws_test_needs_har as needs_har,
        __ws_test_needs_jsonrpc as needs_jsonrpc, __ws_test_needs_multi_thread as needs_multi_thread,
        __ws_test_needs_socketio as needs_socketio, __ws_test_needs_test_util as needs_test_util,
    };
    /// One fuzz case against the embedded server running the default handler (the `server` fuzz target).
    #[cfg(feature = "fuzz")]
    pub fn fuzz_server(data: &[u8]) -> Vec<u8> {
        crate::server::fuzzing::fuzz_one(crate::default_handler(), data)
    }
    pub use crate::transport::Transport;
    pub use crate::{EmbeddedServer, events::WsEvents};
    /// insta, for `assert_ws_snapshot!`.
    #[cfg(feature = "insta")]
    pub use insta;
    /// The text `assert_ws_snapshot!` stores.
    pub fn snapshot_text(value: &impl crate::AsSnapshot) -> String {
        value.as_snapshot().to_string()
    }
    pub use serde_json::Value;
}

mod chat;
#[cfg(any(feature = "suite", feature = "contract"))]
use ws_test_core::checklist;

/// The handler ws-test's own server runs when a test or a builder names none: the chat kit's agent (the seed
/// report's server, what `ws-test check` grades). The one place where the core's defaults come from a kit.
pub(crate) fn default_handler() -> std::sync::Arc<dyn handler::DynHandler> {
    chat::default_handler()
}
mod client;
#[cfg(feature = "conform")]
pub mod conform;
#[cfg(feature = "contract")]
pub mod contract;
pub mod driver;
use ws_test_core::error;
mod events;
pub use ws_test_core::expect;
use ws_test_core::field;
use ws_test_core::handler;
use ws_test_core::history;
use ws_test_core::link;
#[cfg(feature = "load")]
pub mod load;
use ws_test_core::logging;
use ws_test_core::message;
use ws_test_core::metrics;
use ws_test_core::panics;
pub mod prelude;
mod profile;
pub use ws_test_core::protocol;
#[cfg(feature = "record")]
mod recorder;
use ws_test_core::replay;
use ws_test_core::router;
use ws_test_core::serialization;
mod served;
mod server;
use ws_test_core::session;
use ws_test_core::task;
pub use ws_test_core::timeout;
#[cfg(feature = "tls")]
use ws_test_core::tls;
use ws_test_core::transport;
use ws_test_core::wire;

#[cfg(feature = "suite")]
pub use chat::suite;
pub use chat::{ChatAgent, ChatEvent, EventMeta, Fault};
pub use client::{ClientBuilder, ExpectGuard, RawFrame, Receive, Tap, WsClient};
pub use driver::outcome::{TestError, TestResult};
pub use error::{Error, ExpectationFailure, PatternError, Result};
pub use events::WsEvents;
pub use field::Field;
pub use handler::{BoxError, Echo, Handler, HandlerResult, IntoHandlerResult};
pub use history::{AsSnapshot, Decoded, Direction, Frame, FrameKind, Handshake, History, Snapshot, Timeline};
pub use link::{IntoLink, Link, LinkControl, LinkStats, Shape};
pub use message::{CloseInfo, Message};
pub use metrics::MetricsSnapshot;
pub use profile::WsProfile;
#[cfg(feature = "record")]
pub use recorder::{Recorder, RecorderBuilder};
pub use replay::Replay;
pub use router::Router;
pub use served::{ServeFn, ServeListener, ServeOutput, ServedBuilder, ServedServer};
pub use server::{AppServerBuilder, ConnectionInfo, EmbeddedServer, HostedApp, ServerBuilder, TransportFault};
pub use session::Session;
pub use transport::Transport;
pub use ws_test_macros::ws_test;

/// The README's examples, compiled as doctests so that each compiles as written.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

/// The guide's chapters (`docs/`), compiled as doctests like the README.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/attribute.md")]
    struct Attribute;
    #[doc = include_str!("../../docs/servers.md")]
    struct Servers;
    #[doc = include_str!("../../docs/protocols.md")]
    struct Protocols;
    #[doc = include_str!("../../docs/profiles.md")]
    struct Profiles;
    #[doc = include_str!("../../docs/expectations.md")]
    struct Expectations;
    #[doc = include_str!("../../docs/limits-and-timeouts.md")]
    struct LimitsAndTimeouts;
    #[doc = include_str!("../../docs/misbehaving.md")]
    struct Misbehaving;
    #[doc = include_str!("../../docs/record-replay.md")]
    struct RecordReplay;
    #[doc = include_str!("../../docs/har.md")]
    struct Har;
    #[doc = include_str!("../../docs/cli.md")]
    struct Cli;
    #[doc = include_str!("../../docs/migrating.md")]
    struct Migrating;
    #[doc = include_str!("../../docs/tls.md")]
    struct Tls;
    #[doc = include_str!("../../docs/load.md")]
    struct Load;
    #[doc = include_str!("../../docs/contracts.md")]
    struct Contracts;
    #[cfg(feature = "conform")]
    #[doc = include_str!("../../docs/conform.md")]
    struct Conform;
    #[doc = include_str!("../../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../../docs/benchmarks.md")]
    struct Benchmarks;
}

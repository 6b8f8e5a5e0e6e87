//! # ws-test-runtime
//!
//! Test WebSocket services without Docker: every test owns an in-process WebSocket server on its own loopback
//! port, started in well under a millisecond and gone when the test ends, plus a client made for assertions.
//!
//! ## The pieces
//!
//! - [`EmbeddedServer`] ([`server`]) listens on `127.0.0.1:0` (the OS picks a free port, so parallel tests and
//!   nextest processes never collide), serves HTTP/1.1 with hyper, answers `/health`, refuses bad upgrades
//!   (400/426, 401 without the token, 403 from a foreign origin, 404 elsewhere) and runs each upgraded
//!   connection through a [`Handler`].
//! - A [`Handler`] ([`handler`]) gets a [`Session`] per connection: it sends JSON, text or binary frames,
//!   closes with a code, and knows its `user_id` and `connection_id`. A [`Router`] dispatches JSON messages on
//!   their `"type"` and answers the protocol's errors; any `async` closure is a route.
//! - [`ChatAgent`] ([`chat_agent`]) is the built-in handler: the simulated AI chat agent of `PROTOCOL.md`,
//!   with its five critical events per chat message, and [faults](Fault) to test how a client copes with a
//!   broken server.
//! - [`WsClient`] ([`client`]) connects with retries, sends, receives with deadlines, answers pings and records
//!   every frame in a [`History`] ([`history`]) that prints as a timeline and saves as JSON Lines. A timeout
//!   names what was awaited and lists what arrived instead.
//! - [`Error`] ([`error`]) is the one error type: each message a sentence.
//!
//! ## A test by hand
//!
//! ```
//! use ws_test_runtime::prelude::*;
//!
//! #[tokio::test]
//! # async fn dummy() {}
//! async fn chat_round() -> Result<(), ws_test_runtime::Error> {
//!     let server = EmbeddedServer::start().await?;
//!     let mut client = server.connect().await?;
//!     client.expect_type("connection_established").await?;
//!     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
//!     for event in ws_test_runtime::protocol::CRITICAL_EVENTS {
//!         assert_eq!(client.recv_json().await?["type"], event);
//!     }
//!     Ok(())
//! }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(chat_round()).unwrap();
//! ```
//!
//! Logs go through [`tracing`] (connections opened and closed with their ids, handler errors, refused
//! upgrades) and stay silent unless the test installs a subscriber.

#![warn(missing_docs)]

// The derives generate `::ws_test_runtime::...` paths; this makes them resolve inside this crate too.
extern crate self as ws_test_runtime;

/// What the `#[ws_test]` expansion calls. Not a stable API: use [`driver`] by hand.
#[doc(hidden)]
pub mod __private {
    pub use crate::EmbeddedServer;
    pub use crate::driver::{
        Flavor, Target, TestOutcome, TestSpec, body, check_handler, check_parameters, run, with_handler,
    };
    pub use crate::events::{WsEvents, decode_with_serde, variant_name};
    pub use crate::expect::{Expect, Expectation, Order, Step};
    pub use crate::handler::BoxError;
    pub use crate::profile::{ProfileContext, WsProfile};
    pub use crate::server::ServerBuilder;
    pub use serde_json::Value;
}

pub mod chat_agent;
pub mod client;
pub mod driver;
pub mod error;
pub mod events;
pub mod expect;
pub mod handler;
pub mod history;
pub mod message;
pub mod metrics;
pub mod prelude;
pub mod profile;
pub mod protocol;
pub mod router;
pub mod server;
pub mod session;
pub mod suite;
pub mod timeout;

pub use chat_agent::{ChatAgent, CriticalEvent, Fault};
pub use client::{ClientBuilder, Tap, WsClient};
pub use driver::{TestError, TestResult};
pub use error::{Error, Result};
pub use events::{ChatEvent, WsEvents};
pub use expect::{Expect, Expectation, Matched};
pub use handler::{BoxError, Handler, HandlerResult, IntoHandlerResult};
pub use history::{Direction, Frame, FrameKind, History, Timeline};
pub use message::{CloseInfo, Message};
pub use metrics::MetricsSnapshot;
pub use profile::{ProfileContext, WsProfile};
pub use router::Router;
pub use server::{ConnectionInfo, EmbeddedServer, ServerBuilder};
pub use session::Session;
pub use ws_test_macros::ws_test;

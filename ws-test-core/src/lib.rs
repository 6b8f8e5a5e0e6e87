//! # ws-test-core
//!
//! The lower half of [ws-test-runtime](https://docs.rs/ws-test-runtime): the frames and histories of a
//! conversation, the event-order expectations and their reports, the protocols, the sessions and handlers a server
//! runs, the transports and links a connection goes over. ws-test-runtime re-exports every item of it a user names,
//! at the same paths; depend on ws-test-runtime, not on this crate.
//!
//! It is a crate of its own so that cargo can compile it beside the runtime's upper half (the server, the client,
//! the chat agent, the driver of `#[ws_test]`) in a user's clean build. Modules marked hidden are shared with the
//! runtime and are not a stable API.

pub mod expect;
pub mod protocol;
pub mod timeout;

mod chat;
#[cfg(any(feature = "suite", feature = "contract"))]
#[doc(hidden)]
pub mod checklist;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod events;
#[doc(hidden)]
pub mod field;
#[doc(hidden)]
pub mod handler;
#[doc(hidden)]
pub mod history;
#[doc(hidden)]
pub mod link;
#[doc(hidden)]
pub mod logging;
#[doc(hidden)]
pub mod message;
#[doc(hidden)]
pub mod metrics;
#[doc(hidden)]
pub mod panics;
#[doc(hidden)]
pub mod replay;
#[doc(hidden)]
pub mod router;
#[doc(hidden)]
pub mod serialization;
#[doc(hidden)]
pub mod session;
#[doc(hidden)]
pub mod task;
#[cfg(feature = "tls")]
#[doc(hidden)]
pub mod tls;
#[doc(hidden)]
pub mod transport;
#[doc(hidden)]
pub mod wire;

pub use error::{Error, ExpectationFailure, PatternError, Result};
pub use field::Field;
pub use handler::{BoxError, Echo, Handler, HandlerResult, IntoHandlerResult};
pub use history::{AsSnapshot, Decoded, Direction, Frame, FrameKind, Handshake, History, Snapshot, Timeline};
pub use link::{IntoLink, Link, LinkControl, LinkStats, Shape};
pub use message::{CloseInfo, Message};
pub use metrics::MetricsSnapshot;
pub use replay::Replay;
pub use router::Router;
pub use session::Session;
pub use transport::Transport;

//! Everything a test usually needs, in one import: `use ws_test_runtime::prelude::*;`.
//!
//! Each item is documented where it lives; this module only gathers them. It leaves out the names a user of
//! axum, actix-web or tungstenite imports from those crates — `Router`, `Message`, `Error` — so that
//! `use axum::extract::ws::Message;` beside this glob means axum's, with nothing to know: ws-test's are
//! `ws_test_runtime::{Router, Message, Error}`.

#[doc(no_inline)]
pub use serde_json::{Value, json};

#[doc(no_inline)]
pub use crate::driver::ProfileContext;
#[doc(no_inline)]
pub use crate::expect::{Expect, Expectation};
#[doc(no_inline)]
pub use crate::ws_test;
#[doc(no_inline)]
pub use crate::{
    BoxError, ChatAgent, ChatEvent, CloseInfo, EmbeddedServer, Fault, Handler, HandlerResult, Replay, Session,
    TestError, TestResult, WsClient, WsEvents, WsProfile,
};
#[cfg(feature = "record")]
#[doc(no_inline)]
pub use crate::{Recorder, RecorderBuilder};

//! Everything a test usually needs, in one import: `use ws_test_runtime::prelude::*;`.
//!
//! Each item is documented where it lives; this module only gathers them.

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
    BoxError, ChatAgent, ChatEvent, CloseInfo, EmbeddedServer, Error, Fault, Handler, HandlerResult, Message, Recorder,
    Replay, Router, Session, TestError, TestResult, WsClient, WsEvents, WsProfile,
};

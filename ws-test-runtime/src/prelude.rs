//! Everything a test usually needs, in one import: `use ws_test_runtime::prelude::*;`.

pub use serde_json::{Value, json};

pub use crate::events::WsEvents;
pub use crate::handler::BoxError;
pub use crate::profile::WsProfile;
pub use crate::ws_test;
pub use crate::{
    ChatAgent, CloseInfo, EmbeddedServer, Error, Expect, Expectation, Fault, Handler, HandlerResult, Message, Router,
    Session, TestError, TestResult, WsClient,
};

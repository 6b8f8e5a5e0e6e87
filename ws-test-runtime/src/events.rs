//! Typed events: [`WsEvents`](trait@WsEvents), declared once as an enum with `#[derive(WsEvents)]`.

pub use ws_test_core::events::*;
pub use ws_test_macros::WsEvents;

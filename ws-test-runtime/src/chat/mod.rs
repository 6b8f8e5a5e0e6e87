//! The chat kit: the seed's AI chat agent protocol (`PROTOCOL.md`) in one part — the built-in [`ChatAgent`] and
//! its [`Fault`]s, the typed [`ChatEvent`]s, the wire names of [`protocol`](crate::protocol), the check [`suite`], and the welcome
//! (`connection_established`) that the agent, a `Router::with_welcome` and a replay of a chat session send.
//!
//! The core (server, client, history, expect, driver) names no protocol: it speaks of frames, events, keys and
//! handlers, and this kit is a handler among others. It stays what a bare `#[ws_test]` and
//! `EmbeddedServer::start()` run.

pub(crate) mod agent;
pub(crate) mod events;
#[cfg(feature = "suite")]
pub mod suite;

use std::sync::Arc;

use crate::handler::DynHandler;

pub use agent::{ChatAgent, Fault};
pub use events::{ChatEvent, EventMeta};

/// The handler an embedded server runs when none is set: the built-in agent.
pub(crate) fn default_handler() -> Arc<dyn DynHandler> {
    Arc::new(ChatAgent::new())
}

#[cfg(test)]
mod tests {
    use super::ChatEvent;

    /// The wire names of `protocol` spell the five events as `ChatEvent` declares them.
    #[test]
    fn the_wire_names_are_the_events_names() {
        use crate::protocol::{AGENT_COMPLETED, AGENT_STARTED, AGENT_THINKING, TOOL_COMPLETED, TOOL_EXECUTING};
        assert_eq!(
            ChatEvent::NAMES,
            [
                AGENT_STARTED,
                AGENT_THINKING,
                TOOL_EXECUTING,
                TOOL_COMPLETED,
                AGENT_COMPLETED
            ]
        );
        assert_eq!(crate::protocol::ERROR, crate::router::ERROR_EVENT);
    }
}

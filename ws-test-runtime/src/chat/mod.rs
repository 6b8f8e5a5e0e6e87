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
use crate::{Replay, Router, Session};

pub use agent::{ChatAgent, Fault};
pub use events::{ChatEvent, EventMeta};

/// The handler an embedded server runs when none is set: the built-in agent.
pub(crate) fn default_handler() -> Arc<dyn DynHandler> {
    Arc::new(ChatAgent::new())
}

/// The welcome the built-in agent sends first on every connection.
pub(crate) const WELCOME: &str = crate::protocol::CONNECTION_ESTABLISHED;

impl Router {
    /// Sends the built-in agent's `connection_established` welcome (with the connection and user ids) on every
    /// new connection, so tests written against the built-in agent run unchanged against this router; the
    /// router declares it as its [welcome](crate::Handler::welcome).
    pub fn with_welcome(self) -> Self {
        self.welcome_event(WELCOME).on_connect(|session: Session| async move {
            session
                .send_json(&serde_json::json!({
                    "type": WELCOME,
                    "connection_id": session.connection_id(),
                    "user_id": *ChatAgent::user_id(&session),
                }))
                .await
        })
    }
}

impl Replay {
    /// Whether the recording's server speaks first with the built-in `connection_established` welcome (the
    /// `#[ws_test]` driver then waits for it, as it does with the built-in agent).
    pub fn sends_welcome(&self) -> bool {
        self.opening_event() == Some(WELCOME)
    }
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

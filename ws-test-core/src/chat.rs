//! The chat kit's words on two core types: a [`Router`](crate::Router) that greets as the built-in agent does, and
//! whether a [`Replay`](crate::Replay) does. They live with the kit, not in the router's or the replay's module,
//! which speak of no protocol.

use crate::protocol;

impl crate::Router {
    /// Sends the built-in agent's `connection_established` welcome (with the connection and user ids) on every
    /// new connection, so tests written against the built-in agent run unchanged against this router; the
    /// router declares it as its [welcome](crate::Handler::welcome).
    pub fn with_welcome(self) -> Self {
        self.welcome_event(protocol::CONNECTION_ESTABLISHED)
            .on_connect(|session: crate::Session| async move {
                session
                    .send_json(&serde_json::json!({
                        "type": protocol::CONNECTION_ESTABLISHED,
                        "connection_id": session.connection_id(),
                        "user_id": *protocol::user_id(&session),
                    }))
                    .await
            })
    }
}

impl crate::Replay {
    /// Whether the recording's server speaks first with the built-in `connection_established` welcome (the
    /// `#[ws_test]` driver then waits for it, as it does with the built-in agent).
    pub fn sends_welcome(&self) -> bool {
        self.opening_event() == Some(protocol::CONNECTION_ESTABLISHED)
    }
}

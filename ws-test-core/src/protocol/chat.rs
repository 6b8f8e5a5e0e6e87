//! The wire names of the built-in chat agent's protocol (`PROTOCOL.md`), in one place.
//!
//! The chat agent, the router's error replies, the check suite and the tests all spell event types and error
//! codes through these constants, so a rename happens here or nowhere. The five critical events are
//! `ChatEvent`'s wire names (a test of the chat module keeps them equal).

/// `{"type":"connection_established","connection_id":..,"user_id":..}`, sent first on every connection.
pub const CONNECTION_ESTABLISHED: &str = "connection_established";
/// The application-level ping a client sends.
pub const PING: &str = "ping";
/// The answer to [`PING`], with a `timestamp` in ms since the Unix epoch.
pub const PONG: &str = "pong";
/// A chat message that starts a run of the five critical events.
pub const CHAT_MESSAGE: &str = "chat_message";
/// An alias of [`CHAT_MESSAGE`].
pub const USER_MESSAGE: &str = "user_message";
/// Echo: the server sends the `payload` back unchanged.
pub const ECHO: &str = "echo";
/// Broadcast: every open connection receives the `content`, with the sender's user id in `from`.
pub const BROADCAST: &str = "broadcast";
/// An error reply; the connection stays open (the router's error frames).
pub const ERROR: &str = "error";

/// First critical event: the agent began processing (`message`).
pub const AGENT_STARTED: &str = "agent_started";
/// Second critical event: the agent's reasoning (`thought`).
pub const AGENT_THINKING: &str = "agent_thinking";
/// Third critical event: a tool call began (`tool_name`, `tool_call_id`, `parameters`).
pub const TOOL_EXECUTING: &str = "tool_executing";
/// Fourth critical event: the tool call finished (`tool_name`, `tool_call_id`, `result`).
pub const TOOL_COMPLETED: &str = "tool_completed";
/// Fifth critical event: the response is ready (`response`).
pub const AGENT_COMPLETED: &str = "agent_completed";

/// The query parameter a client names its user with (`/ws?user_id=alice`); it wins over the header.
pub const USER_ID_PARAM: &str = "user_id";
/// The header a client names its user with (`X-User-Id: alice`).
pub const USER_ID_HEADER: &str = "x-user-id";

/// The health endpoint the chat agent answers beside its WebSocket path (`GET /health`).
pub const HEALTH_PATH: &str = "/health";

/// The agent name the built-in chat agent reports unless configured otherwise.
pub const DEFAULT_AGENT_NAME: &str = "TestChatAgent";

/// The default WebSocket path of the embedded server (`/ws`) and the default maximum size of one message (1 MiB;
/// larger messages are closed with [`close_code::MESSAGE_TOO_BIG`]): the core's defaults, which the protocol
/// states.
pub use crate::wire::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_PATH};

/// The error codes of the `error` frames (the router's, which the protocol adopts).
pub use crate::router::error_code;

/// WebSocket close codes (RFC 6455), as the protocol uses them.
pub use crate::wire::close_code;

/// The user a connection connects as, as the chat protocol says: the [`USER_ID_PARAM`] query parameter, else the
/// [`USER_ID_HEADER`] header, else a fresh `user-N`; the same for the whole connection. What the chat agent's
/// `user_id` and the router's chat welcome read.
#[doc(hidden)]
pub fn user_id(session: &crate::Session) -> std::sync::Arc<str> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, OnceLock};

    /// The user of one connection, read once.
    #[derive(Default)]
    struct User(OnceLock<Arc<str>>);

    static NEXT_USER: AtomicU64 = AtomicU64::new(1);

    let user = session.local::<User>();
    let id = user.0.get_or_init(|| {
        session
            .query_param(USER_ID_PARAM)
            .or_else(|| {
                let header = session.headers().get(USER_ID_HEADER)?;
                header.to_str().ok().map(str::to_owned)
            })
            .filter(|id| !id.is_empty())
            .map_or_else(
                || Arc::from(format!("user-{}", NEXT_USER.fetch_add(1, Ordering::Relaxed))),
                Arc::from,
            )
    });
    Arc::clone(id)
}

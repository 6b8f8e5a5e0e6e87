//! The wire names of the built-in chat agent's protocol (`PROTOCOL.md`), in one place.
//!
//! The chat agent, the router's error replies, the check suite and the tests all spell event types and error
//! codes through these constants, so a rename happens here or nowhere. The five critical events are read from
//! [`ChatEvent`], their one declaration.

use crate::events::ChatEvent;

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
/// An error reply; the connection stays open.
pub const ERROR: &str = "error";

/// First critical event: the agent began processing (`message`).
pub const AGENT_STARTED: &str = ChatEvent::NAMES[0];
/// Second critical event: the agent's reasoning (`thought`).
pub const AGENT_THINKING: &str = ChatEvent::NAMES[1];
/// Third critical event: a tool call began (`tool_name`, `tool_call_id`, `parameters`).
pub const TOOL_EXECUTING: &str = ChatEvent::NAMES[2];
/// Fourth critical event: the tool call finished (`tool_name`, `tool_call_id`, `result`).
pub const TOOL_COMPLETED: &str = ChatEvent::NAMES[3];
/// Fifth critical event: the response is ready (`response`).
pub const AGENT_COMPLETED: &str = ChatEvent::NAMES[4];

/// The five critical events, in the order the protocol guarantees within one `run_id` (the order of
/// [`ChatEvent`]'s variants, where these names come from).
pub const CRITICAL_EVENTS: [&str; 5] = [
    AGENT_STARTED,
    AGENT_THINKING,
    TOOL_EXECUTING,
    TOOL_COMPLETED,
    AGENT_COMPLETED,
];

/// The agent name the built-in chat agent reports unless configured otherwise.
pub const DEFAULT_AGENT_NAME: &str = "TestChatAgent";

/// The default WebSocket path of the embedded server.
pub const DEFAULT_PATH: &str = "/ws";

/// The default maximum size of one message, in bytes (1 MiB); larger messages are closed with
/// [`close_code::MESSAGE_TOO_BIG`].
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1024 * 1024;

/// The `code` values of `{"type":"error"}` replies.
pub mod error_code {
    /// Text that is not JSON, or JSON that is not an object.
    pub const INVALID_JSON: &str = "invalid_json";
    /// An object without a string `type`.
    pub const MISSING_TYPE: &str = "missing_type";
    /// A `type` that has no route.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// A binary frame.
    pub const UNSUPPORTED_FRAME: &str = "unsupported_frame";
    /// A routed message whose fields are wrong (for the chat agent: a chat message without a string
    /// `content`). An extension of `PROTOCOL.md`, which leaves that case open.
    pub const INVALID_MESSAGE: &str = "invalid_message";
}

/// The WebSocket close codes the runtime uses (RFC 6455, section 7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The endpoint is going away (the embedded server is shutting down).
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Reserved by RFC 6455: never sent in a close frame.
    pub const RESERVED: u16 = 1004;
    /// No status code was present in the close frame.
    pub const NO_STATUS: u16 = 1005;
    /// The connection ended without a close frame.
    pub const ABNORMAL: u16 = 1006;
    /// A text frame was not valid UTF-8 (or a message was otherwise inconsistent with its type).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The message broke a policy of the endpoint (used for a refused divergence, a too-slow peer, ...).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// The message was larger than the server's limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server hit an unexpected condition (a handler panicked or failed).
    pub const INTERNAL_ERROR: u16 = 1011;
    /// The TLS handshake failed: reported locally, never sent in a close frame.
    pub const TLS_HANDSHAKE: u16 = 1015;
}

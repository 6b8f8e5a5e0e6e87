//! The application messages a connection carries, and how a connection ended.

use serde_json::Value;

use crate::history::{FrameKind, summarize_text};
use crate::{Error, Result};

/// One application message: the payload of a WebSocket text or binary frame.
///
/// The server hands these to [`Handler::on_message`](crate::Handler::on_message); the client returns them from
/// `WsClient::recv`. Control frames (ping, pong, close) never appear here: pings are
/// answered automatically and a close ends the connection (see [`CloseInfo`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Message {
    /// The text of a text frame.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The message parsed as JSON; an error that shows the frame when it is binary or not JSON.
    pub fn json(&self) -> Result<Value> {
        match self {
            Message::Text(text) => parse_json(text),
            Message::Binary(bytes) => Err(binary_is_not_json(bytes)),
        }
    }

    /// The event's name: the string at `key` (the event key: `"type"`, `"method"`, `"/data/kind"`, ...), when the
    /// message is JSON that has one.
    pub fn event(&self, key: impl Into<crate::field::Field>) -> Option<String> {
        key.into().str(&self.json().ok()?).map(str::to_owned)
    }

    /// A one-line description, as used in timelines and error messages.
    pub fn summary(&self) -> String {
        match self {
            Message::Text(text) => summarize_text(text),
            Message::Binary(bytes) => format!("binary frame of {} byte(s)", bytes.len()),
        }
    }

    /// Payload size in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[doc(hidden)]
    pub fn into_frame_kind(self) -> FrameKind {
        match self {
            Message::Text(text) => FrameKind::Text(text),
            Message::Binary(bytes) => FrameKind::Binary(bytes),
        }
    }
}

/// A text frame's JSON; an error that shows the frame when it is not JSON.
pub fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|error| Error::NotJson {
        received: summarize_text(text),
        reason: error.to_string(),
    })
}

/// The error for a binary frame read as JSON without a decoder.
pub fn binary_is_not_json(bytes: &[u8]) -> Error {
    Error::NotJson {
        received: format!("binary frame of {} byte(s)", bytes.len()),
        reason: "binary frames carry no JSON".into(),
    }
}

/// `value` as JSON (what `emit` and `send_event` hand to a protocol).
pub fn json_value(value: impl serde_core::Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(&value).map_err(Error::Serialize)
}

/// `value` as JSON text.
pub fn json_text(value: impl serde_core::Serialize) -> Result<String> {
    serde_json::to_string(&value).map_err(Error::Serialize)
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}

/// How a connection ended: the close code and reason of the close frame.
///
/// When the TCP connection ended without a close frame the code is 1006 (abnormal closure) and the reason says
/// what happened; a close frame without a code reads as 1005.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code (RFC 6455, section 7.4).
    pub code: u16,
    /// The close reason (may be empty).
    pub reason: String,
}

impl CloseInfo {
    /// A close with this code and reason.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        CloseInfo {
            code,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code {}, reason {:?}", self.code, self.reason)
    }
}

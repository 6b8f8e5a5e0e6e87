//! The wire, below every concept that speaks it: tungstenite's frames to and from the runtime's [`Message`] and
//! [`CloseInfo`], close reasons clipped to what a control frame holds, and the query of an upgrade request.
//!
//! The server's connections and the client's reader both read frames through [`incoming`] and write them through
//! [`outgoing`] and [`close_frame`], so the two sides cannot disagree on what a frame means.

use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::http::header::{self, HeaderMap, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use crate::message::{CloseInfo, Message};

/// What tungstenite reads into at once, on both sides: 8 KiB instead of its default 128 KiB. tungstenite zeroes
/// the spare part of its read buffer before every read, so the default costs every connection 128 KiB of resident
/// memory per side and a 128 KiB memset per read; a larger message still arrives whole (the buffer grows to hold
/// it), in more reads. Measured with the `side_by_side` bench: idle connections 281 KiB -> 34 KiB (client and
/// server side), pipelined echo the same at 4, 8, 16 and 128 KiB.
pub(crate) const READ_BUFFER: usize = 8 * 1024;

/// tungstenite's settings for a connection of ours, either side: the read buffer and, when given, the message
/// size limit (for frames too); tungstenite's defaults otherwise.
pub fn socket_config(max_message_size: Option<usize>) -> WebSocketConfig {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    match max_message_size {
        Some(max) => config.max_message_size(Some(max)).max_frame_size(Some(max)),
        None => config,
    }
}

/// The headers of a `101 Switching Protocols` answer to an upgrade with this `Sec-WebSocket-Key`, agreeing to
/// `subprotocol` when given: the embedded server's and the recorder's.
pub fn switching_protocols(headers: &mut HeaderMap, key: &str, subprotocol: Option<&str>) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(value) = subprotocol.and_then(|protocol| HeaderValue::from_str(protocol).ok()) {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
}

/// A frame read off a WebSocket, in the runtime's terms.
#[derive(Debug)]
pub enum Incoming {
    /// A text or binary frame.
    Data(Message),
    /// A ping (tungstenite answers it by itself).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame; without a status code it reads as 1005.
    Close(CloseInfo),
}

/// What a frame read off a socket means; `None` for a raw frame, which reading never yields.
pub fn incoming(frame: WsMessage) -> Option<Incoming> {
    Some(match frame {
        WsMessage::Text(text) => Incoming::Data(Message::Text(text.as_str().to_owned())),
        WsMessage::Binary(bytes) => Incoming::Data(Message::Binary(bytes.to_vec())),
        WsMessage::Ping(data) => Incoming::Ping(data.to_vec()),
        WsMessage::Pong(data) => Incoming::Pong(data.to_vec()),
        WsMessage::Close(frame) => Incoming::Close(frame.map_or_else(
            || CloseInfo::new(close_code::NO_STATUS, ""),
            |frame| CloseInfo::new(frame.code.into(), frame.reason.as_str()),
        )),
        WsMessage::Frame(_) => return None,
    })
}

/// The frame that carries `message`.
pub fn outgoing(message: Message) -> WsMessage {
    match message {
        Message::Text(text) => WsMessage::text(text),
        Message::Binary(bytes) => WsMessage::binary(bytes),
    }
}

/// The close frame that carries `close` (its reason clipped to fit).
pub fn close_frame(close: &CloseInfo) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code: close.code.into(),
        reason: clip_reason(close.reason.clone()).into(),
    }))
}

/// A close reason must fit a control frame: at most 123 bytes, cut on a character boundary.
pub fn clip_reason(mut reason: String) -> String {
    const MAX: usize = 123;
    if reason.len() > MAX {
        let mut cut = MAX;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}

/// The percent-decoded value of a query parameter of `uri`.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_clipped_on_char_boundaries() {
        assert_eq!(clip_reason("short".into()), "short");
        let long = "é".repeat(100);
        let clipped = clip_reason(long);
        assert!(clipped.len() <= 123);
        assert!(clipped.chars().all(|c| c == 'é'));
    }

    #[test]
    fn query_params_are_decoded() {
        let uri: Uri = "/ws?token=a%20b&user_id=al%C3%AFce".parse().unwrap();
        assert_eq!(query_param(&uri, "token").as_deref(), Some("a b"));
        assert_eq!(query_param(&uri, "user_id").as_deref(), Some("alïce"));
        assert_eq!(query_param(&uri, "missing"), None);
    }

    #[test]
    fn frames_round_trip() {
        let close = CloseInfo::new(close_code::NORMAL, "x".repeat(200));
        match incoming(close_frame(&close)) {
            Some(Incoming::Close(back)) => {
                assert_eq!(back.code, close_code::NORMAL);
                assert_eq!(back.reason.len(), 123);
            }
            other => panic!("expected a close, got {other:?}"),
        }
        match incoming(WsMessage::Close(None)) {
            Some(Incoming::Close(back)) => assert_eq!(back.code, close_code::NO_STATUS),
            other => panic!("expected a close, got {other:?}"),
        }
        for message in [Message::Text("hi".into()), Message::Binary(vec![1, 2])] {
            match incoming(outgoing(message.clone())) {
                Some(Incoming::Data(back)) => assert_eq!(back, message),
                other => panic!("expected data, got {other:?}"),
            }
        }
    }
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

/// The default WebSocket path of the embedded server and of a served one.
pub const DEFAULT_PATH: &str = "/ws";

/// The default maximum size of one message, in bytes (1 MiB); larger messages are closed with 1009.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1024 * 1024;

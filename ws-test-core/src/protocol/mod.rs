//! Protocols: what a framing does to a connection, in one place, so that everything that reads events
//! (expectations, `per`, patterns, contracts, load labels) works on the events whatever the frames look like.
//!
//! A [`Protocol`] says where a client connects (`/socket.io/?EIO=4&transport=websocket`), which subprotocol it
//! offers, which field names an event, and makes one [`ProtocolSession`] per connection: the state machine that
//! turns received frames (one, or several: an event with binary attachments) into one JSON event, answers
//! what the protocol answers by itself (heartbeats, the handshake's next step) and turns the events a test sends
//! into frames. The client's history keeps every raw frame, with what it meant beside it
//! ([`Decoded`](crate::Decoded)): an event, or a frame of the protocol's own (a [`Decoded::Control`](crate::Decoded::Control)).
//!
//! The kits, each behind ws-test-runtime's feature of its name (off by default; a kit named without it is a
//! compile error naming the feature):
//! - `SocketIo`: Socket.IO 5 over Engine.IO 4, as socketioxide and the JavaScript server speak it
//!   (`protocol = "socket.io"`; feature `socketio`).
//! - `GraphqlWs`: GraphQL over WebSocket, `graphql-transport-ws` (`protocol = "graphql-transport-ws"`; feature
//!   `graphql`).
//! - `JsonRpc`: JSON-RPC 2.0 (`protocol = "jsonrpc"`; feature `jsonrpc`).
//! - [`Framing`]: your own stateless framing from two functions, decode and encode (always there).
//!
//! The module also holds the built-in chat agent's wire names ([`CONNECTION_ESTABLISHED`], [`AGENT_COMPLETED`],
//! the error codes, ...), the constants every part of the chat kit spells its frames with.
//!
//! A connection without a protocol reads JSON text frames as events (and binary frames through
//! `ClientBuilder::decode`), as it always did.
//!
//! ```
//! use ws_test_runtime::prelude::*;
//! use ws_test_runtime::protocol::{Protocol, ProtocolSession, Step};
//! use ws_test_runtime::Message;
//!
//! /// `EVENT|payload` text frames: the event is what comes before the bar.
//! #[derive(Debug)]
//! struct Bar;
//!
//! impl Protocol for Bar {
//!     fn name(&self) -> &str {
//!         "bar"
//!     }
//!     fn event_key(&self) -> ws_test_runtime::Field {
//!         "event".into()
//!     }
//!     fn session(&self) -> Box<dyn ProtocolSession> {
//!         Box::new(Bar)
//!     }
//! }
//!
//! impl ProtocolSession for Bar {
//!     fn receive(&mut self, frame: &Message) -> Step {
//!         match frame {
//!             Message::Text(text) => match text.split_once('|') {
//!                 Some((event, payload)) => Step::event(json!({"event": event, "data": payload})),
//!                 None => Step::invalid("no `|` in the frame"),
//!             },
//!             Message::Binary(_) => Step::invalid("bar frames are text"),
//!         }
//!     }
//!     fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
//!         let name = event["event"].as_str().ok_or("an event needs an \"event\" name")?;
//!         let data = event["data"].as_str().unwrap_or_default();
//!         Ok(vec![Message::Text(format!("{name}|{data}"))])
//!     }
//! }
//!
//! /// A server that answers `hello|NAME` with `welcome|NAME`.
//! struct Greeter;
//!
//! impl ws_test_runtime::Handler for Greeter {
//!     async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
//!         if let Some(name) = message.as_text().and_then(|text| text.strip_prefix("hello|")) {
//!             session.send_text(format!("welcome|{name}")).await?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # async fn demo() -> Result<(), ws_test_runtime::Error> {
//! let server = EmbeddedServer::builder().handler(Greeter).start().await?;
//! let mut client = server.client().protocol(Bar).connect().await?;
//! client.emit("hello", json!("alice")).await?;
//! assert_eq!(client.expect_type("welcome").await?["data"], "alice");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod chat;
mod framing;
#[cfg(feature = "graphql")]
mod graphql;
#[cfg(feature = "jsonrpc")]
mod jsonrpc;
#[cfg(feature = "socketio")]
mod socketio;

use std::sync::Arc;

use serde_json::Value;

pub use crate::message::Message;
pub use chat::*;
pub use framing::Framing;
#[cfg(feature = "graphql")]
pub use graphql::GraphqlWs;
#[cfg(feature = "jsonrpc")]
pub use jsonrpc::JsonRpc;
#[cfg(feature = "socketio")]
pub use socketio::SocketIo;

use crate::Field;

/// A framing of events over WebSocket frames: where to connect, what to offer, and a [`ProtocolSession`] per
/// connection. See the [module docs](self) for a whole one. (`RefUnwindSafe` because a test's spec, which holds
/// it, crosses the panic boundary the test runs in; plain data is.)
pub trait Protocol: std::fmt::Debug + Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// A short name for reports and errors (`socket.io`).
    fn name(&self) -> &str;

    /// The URL the client connects to, given the one the test names (default: unchanged). Socket.IO sets its
    /// path and query here. The error says why the URL cannot be used.
    fn url(&self, url: &str) -> Result<String, String> {
        Ok(url.to_owned())
    }

    /// The subprotocol the client offers (`graphql-transport-ws`), if any.
    fn subprotocol(&self) -> Option<&str> {
        None
    }

    /// The field of a decoded event that names it (default `"type"`).
    fn event_key(&self) -> Field {
        Field::type_key()
    }

    /// A new connection's state.
    fn session(&self) -> Box<dyn ProtocolSession>;

    /// The server's side of a new connection, for ws-test's own server speaking this protocol to its clients (a
    /// mock: a [`Router`](crate::Router), a [`Replay`](crate::Replay) or a contract behind
    /// `ServerBuilder::protocol`, `ws-test serve --protocol`): its
    /// [`start`](ProtocolSession::start) is what the server sends after the upgrade, [`receive`](ProtocolSession::receive)
    /// reads each client frame (an event goes to the handler as JSON text, replies go out at once),
    /// [`encode`](ProtocolSession::encode) turns each event the handler sends into frames, and
    /// [`heartbeat`](ProtocolSession::heartbeat) is sent on its interval. `None` (the default): the protocol has
    /// no server side, and a server cannot be given it.
    fn server_session(&self) -> Option<Box<dyn ProtocolSession>> {
        None
    }
}

/// One connection's side of a [`Protocol`]: the client's reader shows it every received text and binary frame,
/// in order, and the client asks it to encode what the test sends.
pub trait ProtocolSession: Send + 'static {
    /// The frames the client sends right after the upgrade (a `connection_init`); default none.
    fn start(&mut self) -> Vec<Message> {
        Vec::new()
    }

    /// What a received data frame means, and what to answer at once.
    fn receive(&mut self, frame: &Message) -> Step;

    /// What a frame the client sent means, for reading a recording through the protocol (`ws-test record
    /// --protocol`, a scenario): called on a session of its own that sees only sent frames; its answers are
    /// ignored. The client's own protocol frames (a `connection_init`, a heartbeat's answer) are
    /// [`Meaning::Control`], so a replay does not send them twice. Default: what [`receive`](Self::receive)
    /// makes of it.
    fn sent(&mut self, frame: &Message) -> Meaning {
        self.receive(frame).meaning
    }

    /// The frames that carry `event` (an event as the protocol decodes them, or `{"event": NAME, "data": DATA}`,
    /// which `WsClient::emit` sends). The error says why it cannot be sent.
    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String>;

    /// The frames of a request that expects one reply (an acknowledgement, a response), and what identifies the
    /// reply for [`reply`](Self::reply). Default: the protocol has no requests.
    fn request(&mut self, event: &Value) -> Result<(Vec<Message>, Value), String> {
        let _ = event;
        Err("this protocol has no requests that wait for a reply".to_owned())
    }

    /// Whether the decoded frame `decoded` is the reply to the request identified by `id`: `Some(Ok(value))` with
    /// the reply's value, `Some(Err(why))` for an error reply, `None` when it is not the reply.
    fn reply(&self, id: &Value, decoded: &Value) -> Option<Result<Value, String>> {
        let _ = (id, decoded);
        None
    }

    /// Where the handshake stands: a connect returns once it is [`Handshake::Done`] (default: at once).
    fn handshake(&self) -> Handshake {
        Handshake::Done
    }

    /// A frame to send every interval while the connection is open (a server's ping); default none.
    fn heartbeat(&self) -> Option<(std::time::Duration, Message)> {
        None
    }
}

/// Where a protocol's handshake stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// Still waiting for the server; the string says for what.
    Pending(String),
    /// Done: events may flow.
    Done,
    /// The server refused: its reason.
    Refused(String),
}

/// What one received frame meant to a [`ProtocolSession`], and the frames to answer it with at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The meaning.
    pub meaning: Meaning,
    /// Frames the client sends at once, in order (a heartbeat's answer, the handshake's next frame).
    pub replies: Vec<Message>,
}

/// What a received frame meant.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    /// An event (or a reply): expectations, `recv_json` and reports read this value.
    Event(Value),
    /// A frame of the protocol's own (a heartbeat, the handshake, the first part of an event still waiting for
    /// its binary attachments): no event; the string says what it was.
    Control(String),
    /// A frame the protocol cannot read: receiving it as JSON is an error with these words.
    Invalid(String),
}

impl Step {
    /// The frame was this event.
    pub fn event(value: Value) -> Step {
        Step {
            meaning: Meaning::Event(value),
            replies: Vec::new(),
        }
    }

    /// The frame was the protocol's own: `what` says what.
    pub fn control(what: impl Into<String>) -> Step {
        Step {
            meaning: Meaning::Control(what.into()),
            replies: Vec::new(),
        }
    }

    /// The frame cannot be read: `why`.
    pub fn invalid(why: impl Into<String>) -> Step {
        Step {
            meaning: Meaning::Invalid(why.into()),
            replies: Vec::new(),
        }
    }

    /// Answers the frame with `frame` (after any answer given before).
    pub fn reply(mut self, frame: Message) -> Step {
        self.replies.push(frame);
        self
    }
}

/// A recorded history read through `protocol`: every data frame gets what it means beside it (received frames
/// through one session, sent frames through another's [`sent`](ProtocolSession::sent)), replacing what it had.
/// `ws-test expect --protocol`, `bench --scenario --protocol` and a recorder with a protocol read recordings so.
pub fn decode_history(history: &crate::History, protocol: &dyn Protocol) -> crate::History {
    let mut decoded = history.clone();
    let mut reader = Reader::new(protocol);
    for index in 0..decoded.len() {
        let frame = &decoded.frames()[index];
        if let Some(meaning) = reader.read(frame.direction, &frame.kind) {
            decoded.set_decoded(index, meaning);
        }
    }
    decoded
}

/// A protocol's two sessions reading a recorded connection: the server's frames through one, the client's
/// through another's [`sent`](ProtocolSession::sent); their answers are ignored.
#[doc(hidden)]
pub struct Reader {
    incoming: Box<dyn ProtocolSession>,
    outgoing: Box<dyn ProtocolSession>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader of `protocol`, with a session for each direction.
    pub fn new(protocol: &dyn Protocol) -> Reader {
        Reader {
            incoming: protocol.session(),
            outgoing: protocol.session(),
        }
    }

    /// What a recorded frame means (nothing for WebSocket's own control frames).
    pub fn read(&mut self, direction: crate::Direction, kind: &crate::FrameKind) -> Option<crate::Decoded> {
        let message = match kind {
            crate::FrameKind::Text(text) => Message::Text(text.clone()),
            crate::FrameKind::Binary(bytes) => Message::Binary(bytes.clone()),
            _ => return None,
        };
        let meaning = match direction {
            crate::Direction::In => self.incoming.receive(&message).meaning,
            crate::Direction::Out => self.outgoing.sent(&message),
        };
        Some(meaning.into())
    }
}

impl From<Meaning> for crate::Decoded {
    fn from(meaning: Meaning) -> crate::Decoded {
        match meaning {
            Meaning::Event(value) => crate::Decoded::Json(value),
            Meaning::Control(what) => crate::Decoded::Control(what),
            Meaning::Invalid(why) => crate::Decoded::Failed(why),
        }
    }
}

/// A protocol as the client and the driver hold it.
#[doc(hidden)]
pub type SharedProtocol = Arc<dyn Protocol>;

/// What `protocol = ...` and `ClientBuilder::protocol` take: a kit
/// (`SocketIo::new().namespace("/chat")`), your own [`Protocol`], or a kit's name (`"socket.io"`).
pub trait IntoProtocol {
    /// The protocol, or why the name names none.
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>>;
}

impl<P: Protocol> IntoProtocol for P {
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>> {
        Ok(Arc::new(self))
    }
}

impl IntoProtocol for Arc<dyn Protocol> {
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>> {
        Ok(self)
    }
}

impl IntoProtocol for &str {
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>> {
        by_name(self)
    }
}

impl IntoProtocol for String {
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>> {
        by_name(&self)
    }
}

impl IntoProtocol for &String {
    fn into_protocol(self) -> crate::Result<Arc<dyn Protocol>> {
        by_name(self)
    }
}

/// The names [`by_name`] knows.
pub const NAMES: &[&str] = &["socket.io", "graphql-transport-ws", "jsonrpc"];

/// The kit called `name` with its defaults: `socket.io` (also `socketio`), `graphql-transport-ws` (also
/// `graphql-ws`), `jsonrpc` (also `json-rpc`).
///
/// Each kit is behind ws-test-runtime's feature of its name (`socketio`, `graphql`, `jsonrpc`); a kit this build
/// lacks is an error naming the feature to add.
pub fn by_name(name: &str) -> crate::Result<Arc<dyn Protocol>> {
    match name.trim().to_ascii_lowercase().as_str() {
        "socket.io" | "socketio" => kit("socket.io", "socketio", || {
            #[cfg(feature = "socketio")]
            return Some(Arc::new(SocketIo::new()) as Arc<dyn Protocol>);
            #[cfg(not(feature = "socketio"))]
            None
        }),
        "graphql-transport-ws" | "graphql-ws" => kit("graphql-transport-ws", "graphql", || {
            #[cfg(feature = "graphql")]
            return Some(Arc::new(GraphqlWs::new()) as Arc<dyn Protocol>);
            #[cfg(not(feature = "graphql"))]
            None
        }),
        "jsonrpc" | "json-rpc" => kit("jsonrpc", "jsonrpc", || {
            #[cfg(feature = "jsonrpc")]
            return Some(Arc::new(JsonRpc::new()) as Arc<dyn Protocol>);
            #[cfg(not(feature = "jsonrpc"))]
            None
        }),
        _ => Err(crate::Error::Config(format!(
            "no protocol is called {name:?}; the kits are {} (or give your own `Protocol`)",
            NAMES.join(", ")
        ))),
    }
}

/// A kit by name: made, or an error naming the feature this build lacks.
fn kit(
    name: &str,
    feature: &str,
    make: impl FnOnce() -> Option<Arc<dyn Protocol>>,
) -> crate::Result<Arc<dyn Protocol>> {
    make().ok_or_else(|| {
        crate::Error::Config(format!(
            "the {name} kit needs ws-test-runtime's `{feature}` feature: \
             ws-test-runtime = {{ version = \"0.1\", features = [\"{feature}\"] }}"
        ))
    })
}

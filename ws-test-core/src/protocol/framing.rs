//! A stateless framing from two functions: how a received frame becomes an event, and how an event becomes
//! frames.

use std::sync::Arc;

use serde_json::Value;

use super::{Message, Protocol, ProtocolSession, Step};
use crate::Field;

type Decode = Arc<dyn Fn(&Message) -> Result<Value, String> + Send + Sync + std::panic::RefUnwindSafe>;
type Encode = Arc<dyn Fn(&Value) -> Result<Vec<Message>, String> + Send + Sync + std::panic::RefUnwindSafe>;

/// Your own framing from two functions, for a protocol with no handshake and no state (`"EVENT|payload"` text
/// frames, a length-prefixed binary framing): `decode` turns each received frame into one event (an error says
/// why the frame cannot be read: receiving it as JSON is then an error with those words), `encode` turns an
/// event into the frames that carry it. A protocol with a handshake, heartbeats or events spread over several
/// frames implements [`Protocol`] instead.
///
/// ```
/// use ws_test_runtime::protocol::{Framing, Message};
/// use ws_test_runtime::prelude::*;
///
/// let bar = Framing::new("bar")
///     .event_key("event")
///     .decode(|frame: &Message| match frame.as_text().and_then(|text| text.split_once('|')) {
///         Some((event, data)) => Ok(json!({"event": event, "data": data})),
///         None => Err("not EVENT|payload".to_owned()),
///     })
///     .encode(|event: &Value| {
///         let name = event["event"].as_str().ok_or("an event needs a name")?;
///         Ok(vec![Message::Text(format!("{name}|{}", event["data"].as_str().unwrap_or_default()))])
///     });
/// let builder = WsClient::builder("ws://127.0.0.1:9/ws").protocol(bar);
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct Framing {
    name: String,
    event_key: Field,
    subprotocol: Option<String>,
    decode: Decode,
    encode: Encode,
}

impl std::fmt::Debug for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framing")
            .field("name", &self.name)
            .field("event_key", &self.event_key)
            .field("subprotocol", &self.subprotocol)
            .finish_non_exhaustive()
    }
}

impl Framing {
    /// A framing called `name` (in reports) that reads text frames as JSON and sends events as JSON text until
    /// [`decode`](Self::decode) and [`encode`](Self::encode) say otherwise; events named by `"type"`.
    pub fn new(name: impl Into<String>) -> Framing {
        Framing {
            name: name.into(),
            event_key: Field::type_key(),
            subprotocol: None,
            decode: Arc::new(|frame: &Message| match frame {
                Message::Text(text) => serde_json::from_str(text).map_err(|error| format!("not JSON: {error}")),
                Message::Binary(_) => Err("a binary frame, and this framing has no decode".to_owned()),
            }),
            encode: Arc::new(|event: &Value| Ok(vec![Message::Text(event.to_string())])),
        }
    }

    /// How a received frame becomes an event.
    pub fn decode<F>(mut self, decode: F) -> Framing
    where
        F: Fn(&Message) -> Result<Value, String> + Send + Sync + std::panic::RefUnwindSafe + 'static,
    {
        self.decode = Arc::new(decode);
        self
    }

    /// How an event the test sends becomes frames.
    pub fn encode<F>(mut self, encode: F) -> Framing
    where
        F: Fn(&Value) -> Result<Vec<Message>, String> + Send + Sync + std::panic::RefUnwindSafe + 'static,
    {
        self.encode = Arc::new(encode);
        self
    }

    /// The field that names an event (default `"type"`).
    pub fn event_key(mut self, key: impl Into<Field>) -> Framing {
        self.event_key = key.into();
        self
    }

    /// The subprotocol the client offers.
    pub fn subprotocol(mut self, subprotocol: impl Into<String>) -> Framing {
        self.subprotocol = Some(subprotocol.into());
        self
    }
}

impl Protocol for Framing {
    fn name(&self) -> &str {
        &self.name
    }

    fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    fn event_key(&self) -> Field {
        self.event_key.clone()
    }

    fn session(&self) -> Box<dyn ProtocolSession> {
        Box::new(self.clone())
    }
}

impl ProtocolSession for Framing {
    fn receive(&mut self, frame: &Message) -> Step {
        match (self.decode)(frame) {
            Ok(event) => Step::event(event),
            Err(why) => Step::invalid(why),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        (self.encode)(event)
    }
}

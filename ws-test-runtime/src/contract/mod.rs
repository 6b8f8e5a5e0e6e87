//! Contract testing from an AsyncAPI 3.0 document: every frame a client sends and receives checked against the
//! messages its channel allows and their payload JSON Schemas (feature `contract`).
//!
//! ```
//! use ws_test_runtime::contract::Contract;
//! use ws_test_runtime::prelude::*;
//!
//! # async fn demo() -> Result<(), ws_test_runtime::Error> {
//! let contract = Contract::from_asyncapi_str(r##"
//! asyncapi: 3.0.0
//! info: { title: Echo, version: "1" }
//! channels:
//!   ws:
//!     address: /ws
//!     messages:
//!       welcome: { payload: { type: object, required: [type, connection_id],
//!                             properties: { type: { const: connection_established }, connection_id: { type: string } } } }
//!       echo: { payload: { type: object, required: [type, payload], properties: { type: { const: echo } } } }
//! operations:
//!   greet: { action: send, channel: { $ref: "#/channels/ws" }, messages: [{ $ref: "#/channels/ws/messages/welcome" }] }
//!   echo:
//!     action: receive
//!     channel: { $ref: "#/channels/ws" }
//!     messages: [{ $ref: "#/channels/ws/messages/echo" }]
//!     reply: { messages: [{ $ref: "#/channels/ws/messages/echo" }] }
//! "##, "echo.yaml")?;
//!
//! let server = EmbeddedServer::start().await?;
//! let mut client = server.connect().await?;
//! client.expect_type("connection_established").await?;
//! client.send_json(json!({"type": "echo", "payload": 1})).await?;
//! client.expect_type("echo").await?;
//! client.conforms_to(&contract)?;
//!
//! // A frame the channel does not allow fails, naming it and what is allowed.
//! client.send_json(json!({"type": "ping"})).await?;
//! let error = client.conforms_to(&contract).unwrap_err().to_string();
//! assert!(error.contains("`ping` is not a message the client may send on channel ws"), "{error}");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod check;
mod document;
mod mock;
mod validate;
mod yaml;

use document::{escape, shown};
pub(crate) use validate::violations_error;

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::history::{Direction, Frame, FrameKind, summarize_json};
use crate::{Error, Field, Result};

/// Which way a message goes, seen from the server (AsyncAPI's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// The server sends it: the client receives it.
    Send,
    /// The server receives it: the client sends it.
    Receive,
}

/// One message of the document.
#[derive(Debug, Clone)]
struct MessageDef {
    /// Where it is defined (a JSON pointer into the document, `#/components/messages/x`).
    at: String,
    /// Its name in the operation or channel that first named it.
    id: String,
    /// The event it is: the `const` of its payload's event-key property, else its `name`.
    event: Option<String>,
    schema: Option<boon::SchemaIndex>,
    /// Its `examples`: name and payload.
    examples: Vec<(Option<String>, Value)>,
}

/// One operation of the document.
#[derive(Debug, Clone)]
struct OperationDef {
    id: String,
    action: Action,
    channel: usize,
    messages: Vec<usize>,
    replies: Vec<usize>,
    /// `x-ws-test-order: strict`: the replies come in the listed order.
    strict: bool,
    /// `x-ws-test-per`: the field that groups the replies of one request (`run_id`).
    per: Option<Field>,
    /// `x-ws-test-refusal: FIELD` on a `send` operation: its message is what a mock answers a frame the contract
    /// does not allow with, the reason at FIELD (a key or a JSON pointer).
    refusal: Option<Field>,
}

#[derive(Debug, Clone)]
struct ChannelDef {
    id: String,
    address: Option<String>,
}

/// An AsyncAPI 3.0 document, ready to check frames against: its channels, operations, messages and their
/// payload schemas. See the [module docs](self).
#[derive(Clone)]
pub struct Contract {
    name: String,
    /// The document, as JSON (the mock builds messages without examples from their schemas).
    doc: Value,
    key: Field,
    channels: Vec<ChannelDef>,
    messages: Vec<MessageDef>,
    operations: Vec<OperationDef>,
    /// Shared: compiled once, read by every copy (a mock's, a test's).
    schemas: std::sync::Arc<boon::Schemas>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("name", &self.name)
            .field("event_key", &self.key)
            .field("channels", &self.channels)
            .field("messages", &self.messages.iter().map(|m| &m.id).collect::<Vec<_>>())
            .field("operations", &self.operations.iter().map(|o| &o.id).collect::<Vec<_>>())
            .finish()
    }
}

/// A frame the contract does not allow: which frame, which message it was checked against, and why.
#[derive(Debug, Clone)]
pub struct ContractViolation {
    /// The document (its file name).
    pub contract: String,
    /// The frame's index in the connection's history.
    pub frame: usize,
    /// Which way it went, seen from the client.
    pub direction: Direction,
    /// The frame, in one line.
    pub summary: String,
    /// The message it was checked against (`toolExecuting at #/components/messages/toolExecuting`), if any.
    pub message: Option<String>,
    /// Why it breaks the contract: each problem with its JSON pointer in the frame
    /// (`/seq: "3" is not of type "integer"`).
    pub problems: Vec<String>,
}

impl fmt::Display for ContractViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = match self.direction {
            Direction::In => "received",
            Direction::Out => "sent",
        };
        write!(
            f,
            "frame #{} ({way}: {}) breaks the contract {}",
            self.frame, self.summary, self.contract
        )?;
        if let Some(message) = &self.message {
            write!(f, "; checked as message {message}")?;
        }
        for problem in &self.problems {
            write!(f, "\n    {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContractViolation {}

impl Contract {
    /// Names events by this field (or JSON pointer) instead of the document's (`x-ws-test-event-key`, default
    /// `type`).
    pub fn event_key(mut self, key: impl Into<Field>) -> Contract {
        self.key = key.into();
        self
    }

    /// The field that names events.
    pub fn event_key_field(&self) -> &Field {
        &self.key
    }

    /// The document's name (its file).
    pub fn name(&self) -> &str {
        &self.name
    }
}

pub use check::ContractCheck;
pub use mock::Mock;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::History;

    fn contract(text: &str) -> Result<Contract> {
        Contract::from_asyncapi_str(text, "t.yaml")
    }

    const RPC: &str = r##"
asyncapi: 3.0.0
info: { title: rpc, version: "1", x-ws-test-event-key: method }
channels:
  rpc:
    address: /rpc
    messages:
      subscribe:
        payload: { type: object, required: [method, id], properties: { method: { const: subscribe }, id: { type: integer } } }
      result:
        payload: { type: object, required: [id, result], properties: { id: { type: integer } } }
      tick:
        payload: { type: object, required: [method, params], properties: { method: { const: tick } } }
operations:
  subscribe:
    action: receive
    channel: { $ref: "#/channels/rpc" }
    messages: [{ $ref: "#/channels/rpc/messages/subscribe" }]
    reply: { messages: [{ $ref: "#/channels/rpc/messages/result" }, { $ref: "#/channels/rpc/messages/tick" }] }
    x-ws-test-order: strict
"##;

    fn history(frames: &[(Direction, &str)]) -> History {
        let mut history = History::new().with_url("ws://127.0.0.1:1/rpc");
        for (direction, text) in frames {
            history.record(*direction, FrameKind::Text((*text).to_owned()));
        }
        history
    }

    #[test]
    fn the_event_key_and_keyless_replies_come_from_the_document() {
        let rpc = contract(RPC).unwrap();
        assert_eq!(rpc.event_key_field().as_str(), "method");
        let good = history(&[
            (Direction::Out, r#"{"method":"subscribe","id":1}"#),
            (Direction::In, r#"{"id":1,"result":"ok"}"#),
            (Direction::In, r#"{"method":"tick","params":{}}"#),
        ]);
        rpc.check_history(&good).unwrap();
        // A result without its id, and the tick before the result: both named.
        let bad = history(&[
            (Direction::Out, r#"{"method":"subscribe","id":1}"#),
            (Direction::In, r#"{"method":"tick","params":{}}"#),
            (Direction::In, r#"{"result":"ok"}"#),
        ]);
        let violations = rpc.check_history(&bad).unwrap_err();
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert_eq!(violations.len(), 2, "{text:#?}");
        assert!(
            text[0].contains("`tick` out of order in the session: a frame without `method` comes first"),
            "{}",
            text[0]
        );
        assert!(text[1].contains(r#"/id: "id" is a required property"#), "{}", text[1]);
        // The caller's event key wins over the document's.
        let keyed = contract(RPC).unwrap().event_key("type");
        assert!(keyed.check_history(&good).is_err());
    }

    #[test]
    fn problems_in_the_document_name_their_json_pointer() {
        for (text, words) in [
            (
                "asyncapi: 2.6.0\n",
                "t.yaml: #/asyncapi: version 2.6.0: this reads AsyncAPI 3.x documents",
            ),
            ("info: {}\n", "#/asyncapi: missing"),
            ("asyncapi: 3.0.0\nchannels: {}\n", "#/channels: no channel"),
            (
                "asyncapi: 3.0.0\nchannels: { c: { address: /ws } }\noperations:\n  o: { action: listen, channel: { $ref: '#/channels/c' } }\n",
                "#/operations/o/action: Some(\"listen\"): an operation's action is `send` or `receive`",
            ),
            (
                "asyncapi: 3.0.0\nchannels: { c: { address: /ws } }\noperations:\n  o: { action: send, channel: { $ref: 'other.yaml#/c' } }\n",
                "#/operations/o/channel: `$ref: other.yaml#/c` points outside the document",
            ),
            (
                "asyncapi: 3.0.0\nchannels: { c: { address: /ws, messages: { m: { payload: { type: 7 } } } } }\noperations:\n  o: { action: send, channel: { $ref: '#/channels/c' } }\n",
                "#/channels/c/messages/m/payload: not a JSON Schema",
            ),
            ("a: [1, 2\n", "t.yaml: not YAML"),
        ] {
            let error = contract(text).unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
        }
    }

    #[test]
    fn a_message_without_an_example_is_built_from_its_schema() {
        let doc = serde_json::json!({"components": {"schemas": {"Id": {"type": "string", "minLength": 3}}}});
        let schema = serde_json::json!({
            "allOf": [
                {"type": "object", "required": ["id"], "properties": {"id": {"$ref": "#/components/schemas/Id"}}},
                {"required": ["seq", "tags", "kind"], "properties": {
                    "type": {"const": "x"}, "seq": {"type": "integer", "minimum": 1},
                    "tags": {"type": "array", "minItems": 1, "items": {"enum": ["a", "b"]}},
                    "kind": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
                    "optional": {"type": "string"}
                }}
            ]
        });
        assert_eq!(
            mock::sample(&schema, &doc, 0),
            serde_json::json!({"id": "xxx", "type": "x", "seq": 1, "tags": ["a"], "kind": false})
        );
    }
}

//! GraphQL over WebSocket, the `graphql-transport-ws` subprotocol (graphql-ws, async-graphql, Apollo Server 4):
//! `connection_init` answered by `connection_ack`, `ping`/`pong` both ways, `subscribe` with an id, then `next`
//! frames, an `error` or a `complete` carrying that id.

use serde_json::{Value, json};

use super::{Handshake, Message, Protocol, ProtocolSession, Step};

/// The `graphql-transport-ws` kit: `protocol = "graphql-transport-ws"`, or
/// `protocol = ws_test_runtime::protocol::GraphqlWs::new().init(json!({"token": "t"}))` for a `connection_init`
/// payload.
///
/// The client offers the subprotocol, sends `connection_init` and returns from its connect once the server's
/// `connection_ack` came (a close instead fails the connect with the server's code and reason); it answers the
/// server's `ping` with a `pong`. `next`, `error` and `complete` are events named by `"type"`, so
/// `events = ["next", "next", "complete"], per = "id"` reads a subscription;
/// `WsClient::subscribe_graphql` starts one and returns its id.
#[derive(Debug, Clone, Default)]
pub struct GraphqlWs {
    init: Option<Value>,
}

impl GraphqlWs {
    /// A `connection_init` without a payload.
    pub fn new() -> GraphqlWs {
        GraphqlWs::default()
    }

    /// The payload of `connection_init` (what the server's `onConnect` reads: a token, say).
    pub fn init(mut self, payload: Value) -> GraphqlWs {
        self.init = Some(payload);
        self
    }
}

impl Protocol for GraphqlWs {
    fn name(&self) -> &str {
        "graphql-transport-ws"
    }

    fn subprotocol(&self) -> Option<&str> {
        Some("graphql-transport-ws")
    }

    fn session(&self) -> Box<dyn ProtocolSession> {
        Box::new(Session {
            init: self.init.clone(),
            state: Handshake::Pending("`connection_ack`, the answer to `connection_init`".to_owned()),
        })
    }

    /// The server's side answers `connection_init` with `connection_ack` and `ping` with `pong` by itself; every
    /// other message (`subscribe`, `complete`) is an event named by `"type"`, and what the handler sends
    /// (`{"type": "next", "id": .., "payload": ..}`) goes as it is.
    fn server_session(&self) -> Option<Box<dyn ProtocolSession>> {
        Some(Box::new(ServerSession))
    }
}

/// A graphql-transport-ws message: the JSON of a text frame, or the step that says why a frame is not one.
fn message_of(frame: &Message) -> Result<Value, Step> {
    let Message::Text(text) = frame else {
        return Err(Step::invalid("graphql-transport-ws sends text frames only"));
    };
    serde_json::from_str(text).map_err(|error| Step::invalid(format!("not JSON: {error}")))
}

/// The server's side of graphql-transport-ws.
struct ServerSession;

impl ProtocolSession for ServerSession {
    fn receive(&mut self, frame: &Message) -> Step {
        let value = match message_of(frame) {
            Ok(value) => value,
            Err(invalid) => return invalid,
        };
        match value.get("type").and_then(Value::as_str) {
            Some("connection_init") => Step::control("graphql-transport-ws connection_init")
                .reply(Message::Text(json!({"type": "connection_ack"}).to_string())),
            Some("ping") => {
                Step::control("graphql-transport-ws ping").reply(Message::Text(json!({"type": "pong"}).to_string()))
            }
            Some("pong") => Step::control("graphql-transport-ws pong"),
            _ => Step::event(value),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        Ok(vec![Message::Text(event.to_string())])
    }
}

struct Session {
    init: Option<Value>,
    state: Handshake,
}

impl ProtocolSession for Session {
    fn start(&mut self) -> Vec<Message> {
        let mut init = json!({"type": "connection_init"});
        if let Some(payload) = &self.init {
            init["payload"] = payload.clone();
        }
        vec![Message::Text(init.to_string())]
    }

    fn receive(&mut self, frame: &Message) -> Step {
        let value = match message_of(frame) {
            Ok(value) => value,
            Err(invalid) => return invalid,
        };
        match value.get("type").and_then(Value::as_str) {
            Some("connection_ack") => {
                self.state = Handshake::Done;
                Step::control("graphql-transport-ws connection_ack")
            }
            Some("ping") => {
                Step::control("graphql-transport-ws ping").reply(Message::Text(json!({"type": "pong"}).to_string()))
            }
            Some("pong") => Step::control("graphql-transport-ws pong"),
            _ => Step::event(value),
        }
    }

    fn sent(&mut self, frame: &Message) -> super::Meaning {
        let value = frame
            .as_text()
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        match value {
            Some(value) => match value.get("type").and_then(Value::as_str) {
                Some(kind @ ("connection_init" | "ping" | "pong")) => {
                    super::Meaning::Control(format!("graphql-transport-ws {kind}"))
                }
                _ => super::Meaning::Event(value),
            },
            None => super::Meaning::Invalid("not a graphql-transport-ws JSON frame".to_owned()),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        Ok(vec![Message::Text(event.to_string())])
    }

    fn handshake(&self) -> Handshake {
        self.state.clone()
    }
}

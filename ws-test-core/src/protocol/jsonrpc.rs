//! JSON-RPC 2.0 over WebSocket (jsonrpsee, Ethereum nodes, LSP-like servers): requests with an id answered by a
//! response with the same id, notifications named by `method` both ways.

use serde_json::{Value, json};

use super::{Message, Protocol, ProtocolSession, Step};
use crate::Field;

/// The JSON-RPC 2.0 kit: `protocol = "jsonrpc"`, or `protocol = ws_test_runtime::protocol::JsonRpc::new()`.
///
/// Events are named by `"method"`: a server's notifications (a subscription's `ticks`) are events, so
/// `events = ["ticks", "ticks"], per = "/params/subscription"` reads them; responses name no method, so they are
/// no events. `WsClient::call``("add", json!([2, 3]))` sends a request with a fresh id
/// and returns the response's `result` (an error response is an [`Error::ErrorReply`](crate::Error::ErrorReply)
/// naming its code and message); `WsClient::notify` sends a notification.
#[derive(Debug, Clone, Default)]
pub struct JsonRpc {
    _private: (),
}

impl JsonRpc {
    /// JSON-RPC 2.0, ids counted from 1 on each connection.
    pub fn new() -> JsonRpc {
        JsonRpc::default()
    }
}

impl Protocol for JsonRpc {
    fn name(&self) -> &str {
        "jsonrpc"
    }

    fn event_key(&self) -> Field {
        Field::new("method")
    }

    fn session(&self) -> Box<dyn ProtocolSession> {
        Box::new(Session { next_id: 1 })
    }

    /// The server's side reads requests and notifications as events named by `"method"`, and sends what the
    /// handler sends: a response as it is (`{"jsonrpc": "2.0", "id": 1, "result": ..}`), a notification from
    /// `{"event": M, "data": P}` too.
    fn server_session(&self) -> Option<Box<dyn ProtocolSession>> {
        Some(Box::new(Session { next_id: 1 }))
    }
}

struct Session {
    next_id: u64,
}

/// `{"jsonrpc": "2.0", "method": M, "params": P}` from `{"event": M, "data": P}`; a value that already says
/// `"jsonrpc"` goes as it is.
fn message(event: &Value, id: Option<u64>) -> Result<Value, String> {
    if event.get("jsonrpc").is_some() {
        let mut message = event.clone();
        if let Some(id) = id {
            message["id"] = id.into();
        }
        return Ok(message);
    }
    let method = event
        .get("event")
        .or_else(|| event.get("method"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a JSON-RPC message needs a method (\"event\" or \"method\"): {event}"))?;
    let mut message = json!({"jsonrpc": "2.0", "method": method});
    match event.get("data").or_else(|| event.get("params")) {
        Some(Value::Null) | None => {}
        Some(params) => message["params"] = params.clone(),
    }
    if let Some(id) = id {
        message["id"] = id.into();
    }
    Ok(message)
}

impl ProtocolSession for Session {
    fn receive(&mut self, frame: &Message) -> Step {
        let Message::Text(text) = frame else {
            return Step::invalid("JSON-RPC over WebSocket sends text frames");
        };
        match serde_json::from_str(text) {
            Ok(value) => Step::event(value),
            Err(error) => Step::invalid(format!("not JSON: {error}")),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        Ok(vec![Message::Text(message(event, None)?.to_string())])
    }

    fn request(&mut self, event: &Value) -> Result<(Vec<Message>, Value), String> {
        let id = self.next_id;
        self.next_id += 1;
        let request = message(event, Some(id))?;
        Ok((vec![Message::Text(request.to_string())], json!(id)))
    }

    fn reply(&self, id: &Value, decoded: &Value) -> Option<Result<Value, String>> {
        if decoded.get("method").is_some() || decoded.get("id") != Some(id) {
            return None;
        }
        Some(match decoded.get("error") {
            Some(error) => Err(format!(
                "error {}: {}{}",
                error.get("code").map_or("without a code".to_owned(), Value::to_string),
                error.get("message").and_then(Value::as_str).unwrap_or("(no message)"),
                error.get("data").map(|data| format!(" ({data})")).unwrap_or_default()
            )),
            None => Ok(decoded.get("result").cloned().unwrap_or(Value::Null)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_ids_and_match_their_responses() {
        let mut session = JsonRpc::new().session();
        let (frames, id) = session.request(&json!({"event": "add", "data": [2, 3]})).unwrap();
        assert_eq!(
            frames,
            vec![Message::Text(
                r#"{"id":1,"jsonrpc":"2.0","method":"add","params":[2,3]}"#.to_owned()
            )]
        );
        assert_eq!(
            session.reply(&id, &json!({"jsonrpc": "2.0", "id": 1, "result": 5})),
            Some(Ok(json!(5)))
        );
        assert_eq!(
            session.reply(&id, &json!({"jsonrpc": "2.0", "id": 2, "result": 5})),
            None
        );
        assert_eq!(
            session.reply(
                &id,
                &json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}})
            ),
            Some(Err("error -32601: Method not found".to_owned()))
        );
        let (_, second) = session.request(&json!({"method": "x"})).unwrap();
        assert_eq!(second, json!(2));
        assert_eq!(
            session.encode(&json!({"event": "hello"})).unwrap(),
            vec![Message::Text(r#"{"jsonrpc":"2.0","method":"hello"}"#.to_owned())]
        );
        assert!(session.encode(&json!({"data": 1})).is_err());
    }
}

//! `ws-test serve --asyncapi`: a contract as a mock server.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{Action, Contract};
use crate::history::{Direction, Frame, FrameKind};
use crate::{Handler, HandlerResult, Message, Session};

/// A contract served as a mock (a [`Handler`] for [`EmbeddedServer`](crate::EmbeddedServer), or `ws-test serve
/// --asyncapi`): on connect, the messages of `send` operations that have examples; each message of a `receive`
/// operation answered with the operation's reply messages in the contract's order, each built from its first
/// example (or, without one, from its schema), the `x-ws-test-per` field copied from the request. A frame the
/// contract does not allow is answered with the message of the `send` operation marked `x-ws-test-refusal:
/// FIELD`, the reason at FIELD (`examples/asyncapi/chat.yaml` marks its `errors` operation `x-ws-test-refusal:
/// error`); a contract without one has the connection closed with 1008 (policy violation) and the reason.
///
/// ```
/// use ws_test_runtime::contract::{Contract, ContractCheck};
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml");
/// let contract = Contract::from_asyncapi(path)?;
/// let server = EmbeddedServer::builder().handler(contract.mock()).start().await?;
/// let report = ContractCheck::new(&contract, WsClient::builder(server.url())).run_with(|_| {}).await?;
/// assert!(report.all_passed(), "{report}");
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Mock {
    contract: Arc<Contract>,
    opening: Vec<Value>,
    welcome: Option<String>,
}

/// A value the schema accepts, for a message without an example: `const`, the first of `enum` or `examples`,
/// `default`; objects with their required and `const` properties; the smallest number the bounds allow.
pub(crate) fn sample(schema: &Value, doc: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    let schema = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(&Value::Null),
        None => schema,
    };
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    for listed in ["enum", "examples"] {
        if let Some(first) = schema
            .get(listed)
            .and_then(Value::as_array)
            .and_then(|list| list.first())
        {
            return first.clone();
        }
    }
    if let Some(value) = schema.get("default") {
        return value.clone();
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(object) = sample(part, doc, depth + 1) {
                merged.extend(object);
            }
        }
        if let Value::Object(object) = sample(&without(schema, "allOf"), doc, depth + 1) {
            merged.extend(object);
        }
        return Value::Object(merged);
    }
    for choice in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(choice)
            .and_then(Value::as_array)
            .and_then(|list| list.first())
        {
            return sample(first, doc, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str).unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    match kind {
        "object" => {
            let mut object = Map::new();
            let properties = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, property) in properties.into_iter().flatten() {
                if required.contains(&name.as_str()) || property.get("const").is_some() {
                    object.insert(name.clone(), sample(property, doc, depth + 1));
                }
            }
            for name in required {
                object.entry(name.to_owned()).or_insert(Value::Null);
            }
            Value::Object(object)
        }
        "array" => {
            let count = number("minItems").unwrap_or(0.0) as usize;
            let item = schema
                .get("items")
                .map_or(Value::Null, |items| sample(items, doc, depth + 1));
            Value::Array(vec![item; count])
        }
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => Value::from("2026-01-01T00:00:00Z"),
            Some("uuid") => Value::from("00000000-0000-4000-8000-000000000000"),
            _ => Value::from("x".repeat(number("minLength").unwrap_or(1.0).max(1.0) as usize)),
        },
        "integer" => {
            let low = number("minimum").or_else(|| number("exclusiveMinimum").map(|low| low + 1.0));
            Value::from(low.unwrap_or(0.0).ceil() as i64)
        }
        "number" => Value::from(number("minimum").unwrap_or(0.0)),
        "boolean" => Value::Bool(false),
        _ => Value::Null,
    }
}

fn without(schema: &Value, key: &str) -> Value {
    let mut copy = schema.clone();
    if let Value::Object(object) = &mut copy {
        object.remove(key);
    }
    copy
}

impl Contract {
    /// This contract as a mock server: see [`Mock`].
    pub fn mock(&self) -> Mock {
        let contract = Arc::new(self.clone());
        let mut opening = Vec::new();
        for operation in contract
            .operations
            .iter()
            .filter(|op| op.action == Action::Send && op.refusal.is_none())
        {
            for &message in &operation.messages {
                if let Some((_, example)) = contract.messages[message].examples.first() {
                    opening.push(example.clone());
                }
            }
        }
        let welcome = opening
            .first()
            .and_then(|value| contract.key.str(value))
            .map(str::to_owned);
        Mock {
            contract,
            opening,
            welcome,
        }
    }

    /// What a message looks like when the mock sends it: its first example, else a value its schema accepts.
    fn build(&self, message: usize) -> Value {
        let message = &self.messages[message];
        if let Some((_, example)) = message.examples.first() {
            return example.clone();
        }
        match self.doc.pointer(&format!("{}/payload", message.at)) {
            Some(schema) => sample(schema, &self.doc, 0),
            None => Value::Null,
        }
    }
}

impl Mock {
    async fn refuse(&self, session: &Session, why: String) -> HandlerResult {
        let contract = &self.contract;
        let path = session.uri().path().to_owned();
        let channels = contract.channels_for(Some(&path));
        let refusal = contract.operations.iter().find_map(|op| {
            let field = op.refusal.as_ref()?;
            let message = *op.messages.first()?;
            (op.action == Action::Send && channels.contains(&op.channel)).then_some((field, message))
        });
        match refusal {
            Some((field, message)) => {
                let mut frame = contract.build(message);
                field.set(&mut frame, Value::from(why));
                session.send_json(frame).await?;
            }
            None => {
                session.close(crate::wire::close_code::POLICY_VIOLATION, why).await?;
            }
        }
        Ok(())
    }
}

impl Handler for Mock {
    async fn on_connect(&self, session: &Session) -> HandlerResult {
        for frame in &self.opening {
            session.send_json(frame).await?;
        }
        Ok(())
    }

    fn welcome(&self) -> Option<&str> {
        self.welcome.as_deref()
    }

    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        let contract = &self.contract;
        let kind = match &message {
            Message::Text(text) => FrameKind::Text(text.clone()),
            Message::Binary(bytes) => FrameKind::Binary(bytes.clone()),
        };
        let frame = Frame {
            index: 0,
            direction: Direction::Out,
            at: Duration::ZERO,
            kind,
            decoded: None,
        };
        let path = session.uri().path().to_owned();
        if let Err(violation) = contract.check_frame(&frame, Some(&path)) {
            return self.refuse(session, violation.problems.join("; ")).await;
        }
        let Some(request) = frame.json() else { return Ok(()) };
        let event = contract.key.str(&request).map(str::to_owned);
        let channels = contract.channels_for(Some(&path));
        for operation in contract
            .operations
            .iter()
            .filter(|op| op.action == Action::Receive && channels.contains(&op.channel))
        {
            let answers = operation
                .messages
                .iter()
                .any(|&at| contract.messages[at].event == event);
            if !answers {
                continue;
            }
            for &reply in &operation.replies {
                let mut value = contract.build(reply);
                if let Some(per) = &operation.per {
                    if let Some(id) = per.get(&request) {
                        per.set(&mut value, id.clone());
                    }
                }
                session.send_json(value).await?;
            }
            return Ok(());
        }
        Ok(())
    }
}

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
mod mock;
mod yaml;

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

/// The document's problems name their place: `#/operations/chat/messages/0: ...`.
fn problem(name: &str, at: &str, reason: impl fmt::Display) -> Error {
    Error::Config(format!("{name}: #{at}: {reason}"))
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/components/messages/x`) to what it names, with its pointer.
fn resolve<'d>(doc: &'d Value, value: &'d Value, at: &str, name: &str) -> Result<(&'d Value, String)> {
    let mut value = value;
    let mut at = at.to_owned();
    for _ in 0..32 {
        let Some(reference) = value.get("$ref") else {
            return Ok((value, at));
        };
        let Some(reference) = reference.as_str() else {
            return Err(problem(name, &at, "`$ref` is not a string"));
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(problem(
                name,
                &at,
                format!("`$ref: {reference}` points outside the document; only local references (#/...) are read"),
            ));
        };
        value = doc
            .pointer(pointer)
            .ok_or_else(|| problem(name, &at, format!("`$ref: {reference}` names nothing in the document")))?;
        at = pointer.to_owned();
    }
    Err(problem(name, &at, "`$ref`s that loop"))
}

/// One leaf error of boon in jsonschema's words, with its JSON pointer in the frame.
fn words(error: &boon::ValidationError<'_, '_>, frame: &Value, out: &mut Vec<String>) {
    if !error.causes.is_empty() {
        for cause in &error.causes {
            words(cause, frame, out);
        }
        return;
    }
    let at = error.instance_location.to_string();
    let got = frame.pointer(&at).map(|value| value.to_string()).unwrap_or_default();
    let line = match &error.kind {
        boon::ErrorKind::Type { want, .. } => {
            let want: Vec<String> = want.iter().map(|kind| format!("\"{kind}\"")).collect();
            format!("{}: {got} is not of type {}", shown(&at), want.join(" or "))
        }
        boon::ErrorKind::Required { want } => {
            let missing: Vec<String> = want
                .iter()
                .map(|property| format!("{at}/{}: \"{property}\" is a required property", escape(property)))
                .collect();
            missing.join("\n    ")
        }
        boon::ErrorKind::Const { want } => format!("{}: {got} is not {want}", shown(&at)),
        boon::ErrorKind::Enum { want } => {
            let want: Vec<String> = want.iter().map(Value::to_string).collect();
            format!("{}: {got} is not one of [{}]", shown(&at), want.join(", "))
        }
        boon::ErrorKind::AdditionalProperties { got } => {
            let names: Vec<String> = got.iter().map(|name| format!("\"{name}\"")).collect();
            format!(
                "{}: additional properties are not allowed ({} unexpected)",
                shown(&at),
                names.join(", ")
            )
        }
        kind => format!("{}: {kind}", shown(&at)),
    };
    out.push(line);
}

fn shown(at: &str) -> &str {
    if at.is_empty() { "(the frame)" } else { at }
}

impl Contract {
    /// Reads an AsyncAPI 3.0 document (YAML or JSON) from a file.
    pub fn from_asyncapi(path: impl AsRef<Path>) -> Result<Contract> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            action: "read the AsyncAPI document",
            path: path.to_path_buf(),
            source,
        })?;
        Contract::from_asyncapi_str(&text, &path.display().to_string())
    }

    /// Reads an AsyncAPI 3.0 document from its text; `name` (its file) names it in errors and reports.
    pub fn from_asyncapi_str(text: &str, name: &str) -> Result<Contract> {
        let doc = yaml::parse(text).map_err(|reason| Error::Config(format!("{name}: {reason}")))?;
        Contract::from_document(doc, name)
    }

    fn from_document(doc: Value, name: &str) -> Result<Contract> {
        match doc.get("asyncapi").and_then(Value::as_str) {
            Some(version) if version.starts_with("3.") => {}
            Some(version) => {
                return Err(problem(
                    name,
                    "/asyncapi",
                    format!("version {version}: this reads AsyncAPI 3.x documents"),
                ));
            }
            None => return Err(problem(name, "/asyncapi", "missing: not an AsyncAPI document")),
        }
        let key = doc
            .get("x-ws-test-event-key")
            .or_else(|| doc.pointer("/info/x-ws-test-event-key"))
            .and_then(Value::as_str)
            .map_or_else(Field::type_key, Field::new);
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V7);
        const ROOT: &str = "urn:ws-test:asyncapi";
        compiler
            .add_resource(ROOT, doc.clone())
            .map_err(|error| problem(name, "", format!("not usable as JSON Schema resource: {error}")))?;
        let mut contract = Contract {
            doc: doc.clone(),
            name: name.to_owned(),
            key,
            channels: Vec::new(),
            messages: Vec::new(),
            operations: Vec::new(),
            schemas: std::sync::Arc::new(boon::Schemas::new()),
        };

        let channels = doc.get("channels").and_then(Value::as_object);
        for (id, channel) in channels.into_iter().flatten() {
            let at = format!("/channels/{}", escape(id));
            let (channel, _) = resolve(&doc, channel, &at, name)?;
            let address = match channel.get("address") {
                None | Some(Value::Null) => None,
                Some(Value::String(address)) => Some(address.clone()),
                Some(_) => return Err(problem(name, &format!("{at}/address"), "not a string")),
            };
            contract.channels.push(ChannelDef {
                id: id.clone(),
                address,
            });
        }
        if contract.channels.is_empty() {
            return Err(problem(
                name,
                "/channels",
                "no channel: nothing to check frames against",
            ));
        }

        let operations = doc.get("operations").and_then(Value::as_object);
        for (id, operation) in operations.into_iter().flatten() {
            let at = format!("/operations/{}", escape(id));
            let (operation, at) = resolve(&doc, operation, &at, name)?;
            let action = match operation.get("action").and_then(Value::as_str) {
                Some("send") => Action::Send,
                Some("receive") => Action::Receive,
                other => {
                    return Err(problem(
                        name,
                        &format!("{at}/action"),
                        format!("{other:?}: an operation's action is `send` or `receive`"),
                    ));
                }
            };
            let channel_ref = operation
                .get("channel")
                .ok_or_else(|| problem(name, &format!("{at}/channel"), "missing"))?;
            let (_, channel_at) = resolve(&doc, channel_ref, &format!("{at}/channel"), name)?;
            let channel = contract
                .channels
                .iter()
                .position(|channel| format!("/channels/{}", escape(&channel.id)) == channel_at)
                .ok_or_else(|| {
                    problem(
                        name,
                        &format!("{at}/channel"),
                        format!("#{channel_at} is not a channel"),
                    )
                })?;
            let messages = match operation.get("messages").and_then(Value::as_array) {
                Some(list) => contract.messages_of(&doc, list, &format!("{at}/messages"))?,
                // Without `messages`, every message of the channel.
                None => {
                    let channel_messages = doc
                        .pointer(&format!("{channel_at}/messages"))
                        .and_then(Value::as_object)
                        .map(|map| {
                            map.keys()
                                .map(|key| serde_json::json!({"$ref": format!("#{channel_at}/messages/{}", escape(key))}))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    contract.messages_of(&doc, &channel_messages, &format!("{channel_at}/messages"))?
                }
            };
            let replies = match operation.get("reply") {
                None => Vec::new(),
                Some(reply) => {
                    let (reply, reply_at) = resolve(&doc, reply, &format!("{at}/reply"), name)?;
                    let list = reply
                        .get("messages")
                        .and_then(Value::as_array)
                        .ok_or_else(|| problem(name, &format!("{reply_at}/messages"), "a reply lists its messages"))?;
                    contract.messages_of(&doc, list, &format!("{reply_at}/messages"))?
                }
            };
            let strict = match operation.get("x-ws-test-order").and_then(Value::as_str) {
                None | Some("any") => false,
                Some("strict") => true,
                Some(other) => {
                    return Err(problem(
                        name,
                        &format!("{at}/x-ws-test-order"),
                        format!("{other:?}: `strict` or `any`"),
                    ));
                }
            };
            contract.operations.push(OperationDef {
                id: id.clone(),
                action,
                channel,
                messages,
                replies,
                strict,
                per: operation.get("x-ws-test-per").and_then(Value::as_str).map(Field::new),
                refusal: operation
                    .get("x-ws-test-refusal")
                    .and_then(Value::as_str)
                    .map(Field::new),
            });
        }
        if contract.operations.is_empty() {
            return Err(problem(
                name,
                "/operations",
                "no operation: which messages the server sends and receives is what is checked",
            ));
        }
        contract.compile(&mut compiler)?;
        Ok(contract)
    }

    /// The messages a list of `$ref`s (or inline messages) names, registered once each.
    fn messages_of(&mut self, doc: &Value, list: &[Value], at: &str) -> Result<Vec<usize>> {
        let mut indices = Vec::with_capacity(list.len());
        for (position, reference) in list.iter().enumerate() {
            let item_at = format!("{at}/{position}");
            let (message, message_at) = resolve(doc, reference, &item_at, &self.name)?;
            if let Some(known) = self.messages.iter().position(|known| known.at == message_at) {
                indices.push(known);
                continue;
            }
            let id = message_at
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace("~1", "/")
                .replace("~0", "~");
            let payload = match message.get("payload") {
                Some(payload) => Some(resolve(doc, payload, &format!("{message_at}/payload"), &self.name)?),
                None => None,
            };
            // The event: the payload's key property's `const` (or single `enum`), else the message's `name`.
            // The schema of the key's property: one `properties` step per token of a JSON pointer key
            // (`/data/kind` is `properties.data.properties.kind`), each through its `$ref`.
            let tokens: Vec<String> = match self.key.as_str().strip_prefix('/') {
                Some(pointer) => pointer.split('/').map(str::to_owned).collect(),
                None => vec![escape(self.key.as_str())],
            };
            let from_schema = payload.as_ref().and_then(|(schema, _)| {
                let mut property: &Value = schema;
                for token in &tokens {
                    let (object, _) = resolve(doc, property, "", &self.name).ok()?;
                    property = object.pointer(&format!("/properties/{token}"))?;
                }
                let (property, _) = resolve(doc, property, "", &self.name).ok()?;
                property
                    .get("const")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(
                        || match property.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
                            Some([Value::String(only)]) => Some(only.clone()),
                            _ => None,
                        },
                    )
            });
            let event = from_schema.or_else(|| message.get("name").and_then(Value::as_str).map(str::to_owned));
            let examples = message
                .get("examples")
                .and_then(Value::as_array)
                .map(|examples| {
                    examples
                        .iter()
                        .filter_map(|example| {
                            let name = example.get("name").and_then(Value::as_str).map(str::to_owned);
                            Some((name, example.get("payload")?.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            self.messages.push(MessageDef {
                at: message_at.clone(),
                id,
                event,
                // Compiled once every message is known (see `compile`); the pointer is kept in `at`.
                schema: None,
                examples,
            });
            indices.push(self.messages.len() - 1);
        }
        Ok(indices)
    }

    fn compile(&mut self, compiler: &mut boon::Compiler) -> Result<()> {
        let mut schemas = boon::Schemas::new();
        for message in &mut self.messages {
            let location = format!("urn:ws-test:asyncapi#{}/payload", message.at);
            // A message without a payload allows any: its pointer names nothing and it stays without a schema.
            match compiler.compile(&location, &mut schemas) {
                Ok(index) => message.schema = Some(index),
                Err(boon::CompileError::JsonPointerNotFound(_)) => {}
                Err(error) => {
                    return Err(problem(
                        &self.name,
                        &format!("{}/payload", message.at),
                        format!("not a JSON Schema: {error}"),
                    ));
                }
            }
        }
        self.schemas = std::sync::Arc::new(schemas);
        Ok(())
    }

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

    /// The channels whose frames a client of `path` exchanges: those whose `address` is `path`, else (none
    /// matches, or no path) every channel.
    fn channels_for(&self, path: Option<&str>) -> Vec<usize> {
        let matching: Vec<usize> = (0..self.channels.len())
            .filter(|&at| path.is_some() && self.channels[at].address.as_deref() == path)
            .collect();
        if matching.is_empty() {
            (0..self.channels.len()).collect()
        } else {
            matching
        }
    }

    /// The messages that may go `direction` (seen from the client) on `channels`.
    fn allowed(&self, channels: &[usize], direction: Direction) -> Vec<usize> {
        let mut allowed = Vec::new();
        for operation in self.operations.iter().filter(|op| channels.contains(&op.channel)) {
            let (mine, replies) = match (operation.action, direction) {
                // The server sends: the client receives these; the client answers with the replies.
                (Action::Send, Direction::In) | (Action::Receive, Direction::Out) => (true, false),
                (Action::Send, Direction::Out) | (Action::Receive, Direction::In) => (false, true),
            };
            if mine {
                allowed.extend(&operation.messages);
            }
            if replies {
                allowed.extend(&operation.replies);
            }
        }
        allowed.sort_unstable();
        allowed.dedup();
        allowed
    }

    /// Checks one frame (a data frame of a client on `path`): a message the channel allows that way, whose
    /// payload satisfies its schema.
    pub(crate) fn check_frame(&self, frame: &Frame, path: Option<&str>) -> std::result::Result<(), ContractViolation> {
        let value = frame.json();
        self.check_value(value.as_ref(), frame.direction, path)
            .map_err(|(message, problems)| ContractViolation {
                contract: self.name.clone(),
                frame: frame.index,
                direction: frame.direction,
                summary: value
                    .as_ref()
                    .and_then(|value| summarize_json(value, &self.key))
                    .unwrap_or_else(|| frame.summary_by(&self.key)),
                message,
                problems,
            })
    }

    /// A received frame, on any channel: `Err` with the message it was checked against and its problems, in one
    /// line (what an expectation's report shows).
    pub(crate) fn check_received(&self, value: &Value) -> std::result::Result<(), String> {
        self.check_value(Some(value), Direction::In, None)
            .map_err(|(message, problems)| {
                let against = message
                    .map(|message| format!("checked as message {message}: "))
                    .unwrap_or_default();
                format!("{against}{}", problems.join("; "))
            })
    }

    /// What [`check_frame`](Self::check_frame) checks, on the frame's JSON (`None`: not JSON): `Err` with the
    /// message it was checked against (when one was) and the problems.
    fn check_value(
        &self,
        value: Option<&Value>,
        direction: Direction,
        path: Option<&str>,
    ) -> std::result::Result<(), (Option<String>, Vec<String>)> {
        let Some(value) = value else {
            return Err((None, vec!["not JSON: every message of the contract is JSON".to_owned()]));
        };
        let channels = self.channels_for(path);
        let allowed = self.allowed(&channels, direction);
        let event = self.key.str(value);
        let candidates: Vec<&MessageDef> = allowed
            .iter()
            .map(|&at| &self.messages[at])
            .filter(|message| message.event.as_deref() == event || (event.is_none() && message.event.is_none()))
            .collect();
        if candidates.is_empty() {
            let channel_names: Vec<&str> = channels.iter().map(|&at| self.channels[at].id.as_str()).collect();
            let who = match direction {
                Direction::Out => "the client may send",
                Direction::In => "the server may send",
            };
            let mut names: Vec<String> = allowed
                .iter()
                .map(|&at| {
                    self.messages[at]
                        .event
                        .clone()
                        .unwrap_or_else(|| format!("({})", self.messages[at].id))
                })
                .collect();
            names.dedup();
            let what = match event {
                Some(event) => format!("`{event}`"),
                None => format!("a frame without `{}`", self.key),
            };
            let allows = if names.is_empty() {
                "nothing".to_owned()
            } else {
                names.join(", ")
            };
            return Err((
                None,
                vec![format!(
                    "{what} is not a message {who} on channel {}; it allows: {allows}",
                    channel_names.join(", ")
                )],
            ));
        }
        let mut first_failure = None;
        for message in &candidates {
            let Some(schema) = message.schema else { return Ok(()) };
            match self.schemas.validate(value, schema) {
                Ok(()) => return Ok(()),
                Err(error) => {
                    if first_failure.is_none() {
                        let mut problems = Vec::new();
                        words(&error, value, &mut problems);
                        first_failure = Some((format!("{} (#{})", message.id, message.at), problems));
                    }
                }
            }
        }
        let (message, problems) = first_failure.unwrap_or_default();
        Err((Some(message), problems))
    }

    /// Checks every data frame of a history (a client's, a recording) against the contract: each a message its
    /// channel allows that way, its payload satisfying the schema; and the replies of an operation with
    /// `x-ws-test-order: strict` in the listed order within each `x-ws-test-per` group (the whole session without
    /// one). Every violation, or `Ok`.
    pub fn check_history(&self, history: &crate::History) -> std::result::Result<(), Vec<ContractViolation>> {
        let path = history.url().and_then(path_of);
        let data: Vec<&Frame> = history
            .frames()
            .iter()
            .filter(|frame| matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_)))
            // A protocol's own frames (its handshake, heartbeats) are not the contract's events.
            .filter(|frame| !matches!(frame.decoded, Some(crate::history::Decoded::Control(_))))
            .collect();
        let mut violations: Vec<ContractViolation> = data
            .iter()
            .filter_map(|frame| self.check_frame(frame, path.as_deref()).err())
            .collect();
        let channels = self.channels_for(path.as_deref());
        for operation in self
            .operations
            .iter()
            .filter(|op| op.strict && op.action == Action::Receive && channels.contains(&op.channel))
        {
            // A reply without an event (a JSON-RPC result) is matched by a frame without the key.
            let order: Vec<Option<&str>> = operation
                .replies
                .iter()
                .map(|&at| self.messages[at].event.as_deref())
                .collect();
            let name = |event: Option<&str>| match event {
                Some(event) => format!("`{event}`"),
                None => format!("a frame without `{}`", self.key),
            };
            let mut next: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for frame in data.iter().filter(|frame| frame.direction == Direction::In) {
                let Some(value) = frame.json() else { continue };
                let event = self.key.str(&value);
                let Some(position) = order.iter().position(|listed| *listed == event) else {
                    continue;
                };
                let group = match &operation.per {
                    Some(per) => match per.text(&value) {
                        Some(id) => format!("{per}={id}"),
                        None => continue,
                    },
                    None => "the session".to_owned(),
                };
                let expected = next.entry(group.clone()).or_default();
                if position != *expected {
                    violations.push(ContractViolation {
                        contract: self.name.clone(),
                        frame: frame.index,
                        direction: frame.direction,
                        summary: summarize_json(&value, &self.key).unwrap_or_default(),
                        message: None,
                        problems: vec![format!(
                            "{} out of order in {group}: {} comes first (operation {} replies in this order, \
                             x-ws-test-order: strict: {})",
                            name(event),
                            name(order[*expected]),
                            operation.id,
                            order.iter().map(|event| name(*event)).collect::<Vec<_>>().join(", ")
                        )],
                    });
                }
                // On from where this frame stands; after the last reply, a new sequence may start.
                *expected = if position + 1 == order.len() { 0 } else { position + 1 };
            }
        }
        violations.sort_by_key(|violation| violation.frame);
        if violations.is_empty() { Ok(()) } else { Err(violations) }
    }
}

impl crate::WsClient {
    /// Checks every frame sent and received so far against an AsyncAPI contract (feature `contract`): each must
    /// be a message its channel allows that way, and its payload must satisfy the message's schema. An
    /// [`Error::Contract`] lists each violation with the frame, the message and the JSON pointer in the frame.
    pub fn conforms_to(&self, contract: impl std::borrow::Borrow<Contract>) -> Result<()> {
        let contract = contract.borrow();
        contract.check_history(&self.lock_history()).map_err(violations_error)
    }
}

impl crate::expect::Expectation {
    /// Every frame this expectation reads must be a message the contract lets the server send, its payload
    /// satisfying the message's schema (feature `contract`); the first that is not fails the expectation at
    /// once, its report naming the frame, the message and the JSON pointer.
    /// [`WsClient::conforms_to`](crate::WsClient::conforms_to) checks the frames the client sent too.
    ///
    /// ```
    /// use ws_test_runtime::contract::Contract;
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let contract = Contract::from_asyncapi(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml"))?;
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
    /// client.expect(Expect::events(ChatEvent::CRITICAL).per("run_id").conforming_to(&contract)).await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn conforming_to(mut self, contract: impl std::borrow::Borrow<Contract>) -> Self {
        self.validator = Some(crate::expect::Validator(std::sync::Arc::new(contract.borrow().clone())));
        self
    }
}

impl crate::expect::FrameCheck for Contract {
    fn name(&self) -> &str {
        &self.name
    }

    fn check_received(&self, frame: &Value) -> std::result::Result<(), String> {
        Contract::check_received(self, frame)
    }
}

/// The path of a WebSocket URL (`/ws` of `ws://host:1/ws?x=1`).
fn path_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    Some(path.split(['?', '#']).next().unwrap_or("/").to_owned())
}

/// Every violation of a history as one error.
pub(crate) fn violations_error(violations: Vec<ContractViolation>) -> Error {
    let count = violations.len();
    let mut text = String::new();
    for (at, violation) in violations.iter().enumerate().take(10) {
        if at > 0 {
            text.push('\n');
        }
        text.push_str(&violation.to_string());
    }
    if count > 10 {
        text.push_str(&format!("\n... and {} more", count - 10));
    }
    Error::Contract(text)
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

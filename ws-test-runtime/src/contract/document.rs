//! The document: an AsyncAPI 3.0 document (YAML or JSON) read into channels, operations and messages, its `$ref`s
//! resolved and its payload schemas compiled; a problem names its JSON pointer.

use super::*;

/// The document's problems name their place: `#/operations/chat/messages/0: ...`.
pub(super) fn problem(name: &str, at: &str, reason: impl fmt::Display) -> Error {
    Error::Config(format!("{name}: #{at}: {reason}"))
}

pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/components/messages/x`) to what it names, with its pointer.
pub(super) fn resolve<'d>(doc: &'d Value, value: &'d Value, at: &str, name: &str) -> Result<(&'d Value, String)> {
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

pub(super) fn shown(at: &str) -> &str {
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

    pub(super) fn from_document(doc: Value, name: &str) -> Result<Contract> {
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
    pub(super) fn messages_of(&mut self, doc: &Value, list: &[Value], at: &str) -> Result<Vec<usize>> {
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

    pub(super) fn compile(&mut self, compiler: &mut boon::Compiler) -> Result<()> {
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
}

//! Typed events: [`WsEvents`], declared once as an enum; the runtime's `ChatEvent` is the built-in agent's five.

use serde_core::Deserialize;
use serde_json::Value;

use crate::Error;

/// An enum of events with their wire names: declare a workspace's events once, use them everywhere.
///
/// `#[derive(WsEvents)]` (next to serde's `#[serde(tag = "type", rename_all = "snake_case")]`) implements
/// [`WsEvents`] for an enum: the wire names, the name of a value, decoding a received frame, and the critical
/// order. Then `#[ws_test(events = ChatEvent::CRITICAL)]` or `events = [ChatEvent::AgentStarted, ...]` (a
/// misspelled variant is a compile error naming it), `Expect::events(ChatEvent::CRITICAL)`, and
/// `client.next_event::<ChatEvent>()` for typed events. `ChatEvent` is the built-in agent's five.
///
/// ```
/// use serde::Deserialize;
/// use ws_test_runtime::prelude::*;
///
/// #[derive(Debug, Deserialize, WsEvents)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// #[ws_events(order = [JobQueued, JobDone])]
/// enum JobEvent {
///     JobQueued { job_id: String },
///     JobProgress { percent: u8 },
///     #[serde(rename = "job_finished")]
///     JobDone { job_id: String, ok: bool },
/// }
///
/// assert_eq!(JobEvent::NAMES, ["job_queued", "job_progress", "job_finished"]);
/// assert_eq!(JobEvent::CRITICAL, ["job_queued", "job_finished"]);
/// let done = JobEvent::decode(&json!({"type": "job_finished", "job_id": "j1", "ok": true}))?;
/// assert_eq!(done.name(), "job_finished");
/// let unknown = JobEvent::decode(&json!({"type": "job_exploded"})).unwrap_err();
/// assert!(unknown.to_string().contains("\"job_exploded\", which JobEvent does not declare"));
/// # Ok::<(), ws_test_runtime::Error>(())
/// ```
///
/// Implemented by `#[derive(WsEvents)]`, or by hand.
pub trait WsEvents: Sized {
    /// The enum's name, for messages.
    const ENUM_NAME: &'static str;
    /// The field that names these events on the wire: serde's `tag` (default `"type"`). `#[ws_test(events =
    /// Enum::CRITICAL)]` and `events = [Enum::Variant, ...]` key on it with nothing else said.
    const EVENT_KEY: &'static str = "type";
    /// Every wire name (the values of the event key), in variant order.
    const NAMES: &'static [&'static str];
    /// The declared critical order: variant order, or `#[ws_events(order = [...])]`.
    const CRITICAL: &'static [&'static str];
    /// `(variant identifier, wire name)` for every variant.
    const VARIANTS: &'static [(&'static str, &'static str)];

    /// The wire name of this value.
    fn name(&self) -> &'static str;

    /// Decodes a received frame: an unknown `type` is [`Error::UnknownEvent`], fields that do not fit are
    /// [`Error::EventShape`].
    fn decode(frame: &Value) -> Result<Self, Error>;

    /// The wire name of a variant, by its identifier.
    fn wire_name(variant: &str) -> Option<&'static str> {
        Self::VARIANTS
            .iter()
            .find(|(ident, _)| *ident == variant)
            .map(|(_, wire)| *wire)
    }

    /// These events as AsyncAPI 3.0 `components` (feature `schemars`; the enum also derives
    /// `schemars::JsonSchema`): `messages`, one per variant named by its identifier, each with its wire `name`
    /// and its `payload` JSON Schema (draft 7, the event key's `const` included), and the `schemas` they
    /// reference. Write them into the document, or check in a test that the document still says the same.
    ///
    /// ```
    /// use ws_test_runtime::WsEvents;
    ///
    /// #[derive(Debug, serde::Deserialize, schemars::JsonSchema, WsEvents)]
    /// #[serde(tag = "event", rename_all = "snake_case")]
    /// enum RoomEvent {
    ///     Joined { topic: String, user: String },
    ///     Left { topic: String },
    /// }
    ///
    /// let components = RoomEvent::asyncapi_components();
    /// let joined = &components["messages"]["Joined"];
    /// assert_eq!(joined["name"], "joined");
    /// assert_eq!(joined["payload"]["properties"]["event"]["const"], "joined");
    /// assert_eq!(joined["payload"]["required"], serde_json::json!(["event", "topic", "user"]));
    /// ```
    #[cfg(feature = "schemars")]
    fn asyncapi_components() -> Value
    where
        Self: schemars::JsonSchema,
    {
        asyncapi_components::<Self>()
    }
}

/// See [`WsEvents::asyncapi_components`].
#[cfg(feature = "schemars")]
fn asyncapi_components<E: WsEvents + schemars::JsonSchema>() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let root = settings.into_generator().into_root_schema_for::<E>().to_value();
    let variants = ["oneOf", "anyOf"]
        .iter()
        .find_map(|choice| root.get(*choice).and_then(Value::as_array))
        .cloned()
        .unwrap_or_else(|| vec![root.clone()]);
    let mut messages = serde_json::Map::new();
    for mut payload in variants {
        let property = payload.pointer(&format!("/properties/{}", E::EVENT_KEY));
        let wire = property
            .and_then(|property| property.get("const").or_else(|| property.pointer("/enum/0")))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Some(wire) = wire else { continue };
        // The key's value as a `const`, whichever way schemars spelled it: what a contract matches frames on.
        if let Some(Value::Object(property)) = payload.pointer_mut(&format!("/properties/{}", E::EVENT_KEY)) {
            property.remove("enum");
            property.insert("const".to_owned(), Value::from(wire.as_str()));
        }
        let id = E::VARIANTS
            .iter()
            .find(|(_, name)| *name == wire)
            .map_or(wire.as_str(), |(ident, _)| ident);
        messages.insert(id.to_owned(), serde_json::json!({"name": wire, "payload": payload}));
    }
    let schemas = root
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    serde_json::json!({"messages": messages, "schemas": schemas})
}

/// Decodes `frame` into `E` with serde, after checking that its type is one of `E::NAMES` (what the derive
/// generates for [`WsEvents::decode`]).
pub fn decode_with_serde<E>(frame: &Value) -> Result<E, Error>
where
    E: WsEvents + for<'de> Deserialize<'de>,
{
    let event_type = frame.get(E::EVENT_KEY).and_then(Value::as_str).unwrap_or_default();
    if !E::NAMES.contains(&event_type) {
        return Err(Error::UnknownEvent {
            event_type: event_type.to_owned(),
            enum_name: E::ENUM_NAME,
            known: E::NAMES.to_vec(),
        });
    }
    E::deserialize(frame).map_err(|error| Error::EventShape {
        event_type: event_type.to_owned(),
        enum_name: E::ENUM_NAME,
        reason: error.to_string(),
        frame: frame.to_string(),
    })
}

/// The event key of `E` (what `events = [Enum::Variant]` and `events = Enum::CRITICAL` key on).
pub fn event_key_of<E: WsEvents>() -> &'static str {
    E::EVENT_KEY
}

/// The wire name of `E`'s variant `variant` (what `events = [Enum::Variant]` expands to; the macro has already
/// checked at compile time that the variant exists).
pub fn variant_name<E: WsEvents>(variant: &str) -> &'static str {
    E::wire_name(variant).unwrap_or("<no such variant>")
}

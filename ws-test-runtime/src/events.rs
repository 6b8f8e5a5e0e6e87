//! Typed events: [`WsEvents`] and [`ChatEvent`], the built-in agent's five.

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

pub use ws_test_macros::WsEvents;

/// An enum of events with their wire names: declare a workspace's events once, use them everywhere.
///
/// `#[derive(WsEvents)]` (next to serde's `#[serde(tag = "type", rename_all = "snake_case")]`) implements
/// [`WsEvents`] for an enum: the wire names, the name of a value, decoding a received frame, and the critical
/// order. Then `#[ws_test(events = ChatEvent::CRITICAL)]` or `events = [ChatEvent::AgentStarted, ...]` (a
/// misspelled variant is a compile error naming it), `Expect::events(ChatEvent::CRITICAL)`, and
/// `client.next_event::<ChatEvent>()` for typed events. [`ChatEvent`] is the built-in agent's five.
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

/// The fields every critical event of the built-in agent carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct EventMeta {
    /// `TestChatAgent` for the built-in agent.
    pub agent_name: String,
    /// The connection's user.
    pub user_id: String,
    /// The run.
    pub run_id: String,
    /// The chat message's `thread_id`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<Value>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The per-connection counter of critical events.
    pub seq: u64,
}

/// The built-in chat agent's five critical events, typed (`PROTOCOL.md`): the one model of them.
///
/// The agent builds and serialises these values, its [faults](crate::Fault) name them by their wire names
/// ([`ChatEvent::CRITICAL`]), the check suite decodes received events into them, and the constants of
/// [`protocol`](crate::protocol) (`AGENT_STARTED`, ..., `CRITICAL_EVENTS`) are read from this declaration, so the
/// five names are spelled here and nowhere else.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, WsEvents)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The agent began processing.
    AgentStarted {
        /// The common fields.
        #[serde(flatten)]
        meta: EventMeta,
        /// `Processing your message: CONTENT`.
        message: String,
    },
    /// The agent's reasoning.
    AgentThinking {
        /// The common fields.
        #[serde(flatten)]
        meta: EventMeta,
        /// The thought.
        thought: String,
    },
    /// A tool call began.
    ToolExecuting {
        /// The common fields.
        #[serde(flatten)]
        meta: EventMeta,
        /// The tool.
        tool_name: String,
        /// The call, shared with its `ToolCompleted`.
        tool_call_id: String,
        /// The call's parameters.
        parameters: Value,
    },
    /// The tool call finished.
    ToolCompleted {
        /// The common fields.
        #[serde(flatten)]
        meta: EventMeta,
        /// The tool.
        tool_name: String,
        /// The call, shared with its `ToolExecuting`.
        tool_call_id: String,
        /// The tool's result.
        result: Value,
    },
    /// The response is ready.
    AgentCompleted {
        /// The common fields.
        #[serde(flatten)]
        meta: EventMeta,
        /// The response.
        response: String,
    },
}

/// The `meta` of any variant, by reference or by mutable reference (match ergonomics pick which).
macro_rules! meta_of {
    ($event:expr) => {
        match $event {
            ChatEvent::AgentStarted { meta, .. }
            | ChatEvent::AgentThinking { meta, .. }
            | ChatEvent::ToolExecuting { meta, .. }
            | ChatEvent::ToolCompleted { meta, .. }
            | ChatEvent::AgentCompleted { meta, .. } => meta,
        }
    };
}

impl ChatEvent {
    /// The fields every event carries.
    pub fn meta(&self) -> &EventMeta {
        meta_of!(self)
    }

    /// The fields every event carries, to change.
    pub fn meta_mut(&mut self) -> &mut EventMeta {
        meta_of!(self)
    }

    /// The run this event belongs to.
    pub fn run_id(&self) -> &str {
        &self.meta().run_id
    }

    /// The per-connection counter of critical events.
    pub fn seq(&self) -> u64 {
        self.meta().seq
    }
}

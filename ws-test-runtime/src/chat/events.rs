//! The built-in agent's events, typed: [`ChatEvent`] and its [`EventMeta`], the one declaration of the five
//! critical events' names (`PROTOCOL.md`).

use serde_core::ser::SerializeMap as _;
use serde_core::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Error;
use crate::events::{WsEvents, decode_with_serde};
use crate::serialization::Object;

/// The fields every critical event of the built-in agent carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    /// `TestChatAgent` for the built-in agent.
    pub agent_name: String,
    /// The connection's user.
    pub user_id: String,
    /// The run.
    pub run_id: String,
    /// The chat message's `thread_id`, when it had one.
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
/// [`protocol`](crate::protocol) (`AGENT_STARTED`, ...) are kept equal to this declaration by a test, so the
/// five names cannot drift apart.
///
/// On the wire each is one JSON object: `"type"` (the snake_case name), the [`EventMeta`] fields, then the
/// variant's own; `Serialize` writes that shape and `Deserialize` reads it (other fields are ignored).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// The agent began processing.
    AgentStarted {
        /// The common fields.
        meta: EventMeta,
        /// `Processing your message: CONTENT`.
        message: String,
    },
    /// The agent's reasoning.
    AgentThinking {
        /// The common fields.
        meta: EventMeta,
        /// The thought.
        thought: String,
    },
    /// A tool call began.
    ToolExecuting {
        /// The common fields.
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

/// The five wire names, spelled once.
const AGENT_STARTED: &str = "agent_started";
const AGENT_THINKING: &str = "agent_thinking";
const TOOL_EXECUTING: &str = "tool_executing";
const TOOL_COMPLETED: &str = "tool_completed";
const AGENT_COMPLETED: &str = "agent_completed";
const NAMES: [&str; 5] = [
    AGENT_STARTED,
    AGENT_THINKING,
    TOOL_EXECUTING,
    TOOL_COMPLETED,
    AGENT_COMPLETED,
];

/// By hand rather than `#[derive(WsEvents)]`: the derive reads serde's attributes, and this crate does not use
/// serde's derive (see `serialization`).
impl WsEvents for ChatEvent {
    const ENUM_NAME: &'static str = "ChatEvent";
    const EVENT_KEY: &'static str = "type";
    const NAMES: &'static [&'static str] = &NAMES;
    const CRITICAL: &'static [&'static str] = &NAMES;
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("AgentStarted", AGENT_STARTED),
        ("AgentThinking", AGENT_THINKING),
        ("ToolExecuting", TOOL_EXECUTING),
        ("ToolCompleted", TOOL_COMPLETED),
        ("AgentCompleted", AGENT_COMPLETED),
    ];

    fn name(&self) -> &'static str {
        match self {
            ChatEvent::AgentStarted { .. } => AGENT_STARTED,
            ChatEvent::AgentThinking { .. } => AGENT_THINKING,
            ChatEvent::ToolExecuting { .. } => TOOL_EXECUTING,
            ChatEvent::ToolCompleted { .. } => TOOL_COMPLETED,
            ChatEvent::AgentCompleted { .. } => AGENT_COMPLETED,
        }
    }

    fn decode(frame: &Value) -> Result<Self, Error> {
        decode_with_serde(frame)
    }
}

impl ChatEvent {
    /// The field that names these events on the wire.
    pub const EVENT_KEY: &'static str = <Self as WsEvents>::EVENT_KEY;
    /// Every wire name, in variant order.
    pub const NAMES: &'static [&'static str] = <Self as WsEvents>::NAMES;
    /// The critical order: `agent_started`, `agent_thinking`, `tool_executing`, `tool_completed`,
    /// `agent_completed`.
    pub const CRITICAL: &'static [&'static str] = <Self as WsEvents>::CRITICAL;
}

impl EventMeta {
    fn write<M: serde_core::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("agent_name", &self.agent_name)?;
        map.serialize_entry("user_id", &self.user_id)?;
        map.serialize_entry("run_id", &self.run_id)?;
        if let Some(thread_id) = &self.thread_id {
            map.serialize_entry("thread_id", thread_id)?;
        }
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("seq", &self.seq)
    }

    fn read(object: &mut Object) -> Result<Self, String> {
        Ok(EventMeta {
            agent_name: object.required("agent_name")?,
            user_id: object.required("user_id")?,
            run_id: object.required("run_id")?,
            thread_id: object.optional("thread_id")?,
            timestamp: object.required("timestamp")?,
            seq: object.required("seq")?,
        })
    }
}

impl Serialize for EventMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.write(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for EventMeta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Object::deserialize_with(deserializer, "struct EventMeta", EventMeta::read)
    }
}

impl Serialize for ChatEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.name())?;
        self.meta().write(&mut map)?;
        match self {
            ChatEvent::AgentStarted { message, .. } => map.serialize_entry("message", message)?,
            ChatEvent::AgentThinking { thought, .. } => map.serialize_entry("thought", thought)?,
            ChatEvent::ToolExecuting {
                tool_name,
                tool_call_id,
                parameters,
                ..
            } => {
                map.serialize_entry("tool_name", tool_name)?;
                map.serialize_entry("tool_call_id", tool_call_id)?;
                map.serialize_entry("parameters", parameters)?;
            }
            ChatEvent::ToolCompleted {
                tool_name,
                tool_call_id,
                result,
                ..
            } => {
                map.serialize_entry("tool_name", tool_name)?;
                map.serialize_entry("tool_call_id", tool_call_id)?;
                map.serialize_entry("result", result)?;
            }
            ChatEvent::AgentCompleted { response, .. } => map.serialize_entry("response", response)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ChatEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Object::deserialize_with(deserializer, "internally tagged enum ChatEvent", read_event)
    }
}

/// An event from its JSON object, with serde's words for what does not fit.
fn read_event(object: &mut Object) -> Result<ChatEvent, String> {
    let kind: String = object.required("type")?;
    let meta = EventMeta::read;
    Ok(match kind.as_str() {
        AGENT_STARTED => ChatEvent::AgentStarted {
            meta: meta(object)?,
            message: object.required("message")?,
        },
        AGENT_THINKING => ChatEvent::AgentThinking {
            meta: meta(object)?,
            thought: object.required("thought")?,
        },
        TOOL_EXECUTING => ChatEvent::ToolExecuting {
            meta: meta(object)?,
            tool_name: object.required("tool_name")?,
            tool_call_id: object.required("tool_call_id")?,
            parameters: object.required("parameters")?,
        },
        TOOL_COMPLETED => ChatEvent::ToolCompleted {
            meta: meta(object)?,
            tool_name: object.required("tool_name")?,
            tool_call_id: object.required("tool_call_id")?,
            result: object.required("result")?,
        },
        AGENT_COMPLETED => ChatEvent::AgentCompleted {
            meta: meta(object)?,
            response: object.required("response")?,
        },
        other => {
            let expected: Vec<String> = NAMES.iter().map(|name| format!("`{name}`")).collect();
            return Err(format!(
                "unknown variant `{other}`, expected one of {}",
                expected.join(", ")
            ));
        }
    })
}

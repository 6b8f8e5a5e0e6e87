//! The built-in agent's events, typed: [`ChatEvent`] and its [`EventMeta`], the one declaration of the five
//! critical events' names (`PROTOCOL.md`).

use serde::Deserialize;
use serde_json::Value;

use crate::events::WsEvents;

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

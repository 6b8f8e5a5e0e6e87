//! The workspace's WebSocket test support, declared once: the events our assistant streams, and the profile
//! every service's tests run with. Services depend on this crate only and reach ws-test through [`ws`].

use serde::Deserialize;

/// ws-test, re-exported: services write `#[chat_testkit::ws::ws_test(profile = ..., crate = "chat_testkit::ws")]`.
pub use ws_test_runtime as ws;

use ws_test_runtime::prelude::*;

/// What our assistant streams for each user message.
#[derive(Debug, Clone, Deserialize, WsEvents)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantEvent {
    /// Work on a message began.
    AgentStarted {
        /// The run.
        run_id: String,
        /// Which agent answers.
        agent_name: String,
    },
    /// A thought, shown to the user.
    AgentThinking {
        /// The run.
        run_id: String,
        /// The thought.
        thought: String,
    },
    /// A tool call began.
    ToolExecuting {
        /// The run.
        run_id: String,
        /// The call.
        tool_call_id: String,
    },
    /// A tool call finished.
    ToolCompleted {
        /// The run.
        run_id: String,
        /// The call.
        tool_call_id: String,
    },
    /// The answer is ready.
    AgentCompleted {
        /// The run.
        run_id: String,
        /// The answer.
        response: String,
    },
}

/// Our backend as tests see it: the agent named as in production, every run checked strictly per run id.
fn acme_agent() -> ChatAgent {
    ChatAgent::new().agent_name("AcmeAssistant")
}

/// The profile every service's tests use. Against staging: `STAGING_WS_URL=ws://... cargo test`.
#[derive(WsProfile)]
#[ws_profile(
    handler = acme_agent,
    events = AssistantEvent::CRITICAL,
    order = "strict",
    per = "run_id",
    url_env = "STAGING_WS_URL",
    event_timeout = "3s"
)]
pub struct ChatBackend;

//! [`ChatAgent`]: the built-in simulated AI chat agent, exactly as `PROTOCOL.md` describes it.
//!
//! On connect it sends `connection_established`. It answers `ping` with `pong`, `echo` with the same payload,
//! `broadcast` to every connection, and each `chat_message` (or its alias `user_message`) with the five critical
//! events, `agent_started` → `agent_thinking` → `tool_executing` → `tool_completed` → `agent_completed`, all
//! with the same `run_id` and a rising per-connection `seq`. Everything else gets the router's protocol errors.
//!
//! It is configurable: the agent name, a delay between events (runs then proceed concurrently, so several runs
//! on one connection interleave), and [faults](Fault) that break the sequence on purpose.

mod fault;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub use fault::Fault;
use fault::{Step, plan};

use crate::chat::{ChatEvent, EventMeta};
use crate::handler::{Handler, HandlerResult};
use crate::message::Message;
use crate::metrics::MetricsSnapshot;
use crate::protocol::{self, error_code};
use crate::router::Router;
use crate::session::Session;

/// The built-in chat agent (the default handler of [`EmbeddedServer`](crate::EmbeddedServer)).
///
/// ```
/// use std::time::Duration;
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let agent = ChatAgent::new()
///     .agent_name("SupportBot")
///     .event_delay(Duration::from_millis(1))
///     .fault("drop:agent_thinking".parse()?);
/// let server = EmbeddedServer::builder().handler(agent).start().await?;
/// let mut client = server.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
/// let started = client.expect_type("agent_started").await?;
/// assert_eq!(started["agent_name"], "SupportBot");
/// // The fault dropped agent_thinking: tool_executing comes next.
/// assert_eq!(client.recv_json().await?["type"], "tool_executing");
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ChatAgent {
    config: Arc<AgentConfig>,
    router: OnceLock<Router>,
}

#[derive(Debug, Clone)]
struct AgentConfig {
    name: String,
    event_delay: Duration,
    faults: Vec<Fault>,
}

/// Per-connection counter of critical events sent (`seq`).
#[derive(Default)]
struct Seq(AtomicU64);

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);
static NEXT_TOOL_CALL: AtomicU64 = AtomicU64::new(1);

impl Default for ChatAgent {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatAgent {
    /// The agent exactly as `PROTOCOL.md` describes it: named `TestChatAgent`, no delay, no faults.
    pub fn new() -> Self {
        ChatAgent {
            config: Arc::new(AgentConfig {
                name: protocol::DEFAULT_AGENT_NAME.to_owned(),
                event_delay: Duration::ZERO,
                faults: Vec::new(),
            }),
            router: OnceLock::new(),
        }
    }

    /// Sets the `agent_name` field of every critical event.
    pub fn agent_name(self, name: impl Into<String>) -> Self {
        self.configure(|config| config.name = name.into())
    }

    /// Waits this long between two events of a run. With a delay, each run proceeds on its own task, so runs
    /// on one connection interleave (their order within a `run_id` still holds); without one, a run is sent
    /// whole before the next message is read.
    pub fn event_delay(self, delay: Duration) -> Self {
        self.configure(|config| config.event_delay = delay)
    }

    /// Adds a fault to every run (faults apply in the order added).
    pub fn fault(self, fault: Fault) -> Self {
        self.configure(|config| config.faults.push(fault))
    }

    /// The faults configured so far.
    pub fn faults(&self) -> &[Fault] {
        &self.config.faults
    }

    /// The agent as a [`Router`] with the welcome and every protocol route, to extend with routes of your own.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// let app = ChatAgent::new().into_router().route("whoami", |session: Session, _message| async move {
    ///     session.send_json(&json!({"type": "you_are", "user_id": *ChatAgent::user_id(&session)})).await
    /// });
    /// # let _ = app;
    /// ```
    pub fn into_router(self) -> Router {
        self.router().clone()
    }

    fn configure(self, change: impl FnOnce(&mut AgentConfig)) -> Self {
        let mut config = Arc::unwrap_or_clone(self.config);
        change(&mut config);
        ChatAgent {
            config: Arc::new(config),
            router: OnceLock::new(),
        }
    }

    fn router(&self) -> &Router {
        self.router.get_or_init(|| {
            let chat = {
                let config = Arc::clone(&self.config);
                move |session: Session, message: Value| start_run(Arc::clone(&config), session, message)
            };
            Router::new()
                .with_welcome()
                .route(protocol::PING, |session: Session, _message| async move {
                    session
                        .send_json(&json!({"type": protocol::PONG, "timestamp": now_ms()}))
                        .await
                })
                .route(protocol::CHAT_MESSAGE, chat.clone())
                .route(protocol::USER_MESSAGE, chat)
                .route(protocol::ECHO, |session: Session, mut message: Value| async move {
                    let payload = message.get_mut("payload").map(Value::take).unwrap_or(Value::Null);
                    session
                        .send_json(&json!({"type": protocol::ECHO, "payload": payload}))
                        .await
                })
                .route(protocol::BROADCAST, |session: Session, message: Value| async move {
                    let Some(content) = message.get("content").and_then(Value::as_str) else {
                        let detail = "a broadcast needs a string \"content\" field".to_owned();
                        return reply_error(&session, error_code::INVALID_MESSAGE, detail).await;
                    };
                    let frame =
                        json!({"type": protocol::BROADCAST, "from": *ChatAgent::user_id(&session), "content": content});
                    session.broadcast(&frame).await?;
                    Ok(())
                })
        })
    }
}

impl ChatAgent {
    /// The user a connection connects as, as the chat protocol says (`PROTOCOL.md`): the `user_id` query
    /// parameter, else the `X-User-Id` header, else a fresh `user-N`; the same for the whole connection. The
    /// agent's welcome, events and broadcasts carry it; a handler of yours may call it too.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::Router;
    ///
    /// let greeter = Router::new().on_connect(|session: Session| async move {
    ///     session.send_json(&json!({"type": "hello", "user": *ChatAgent::user_id(&session)})).await
    /// });
    /// # let _ = greeter;
    /// ```
    pub fn user_id(session: &Session) -> Arc<str> {
        protocol::user_id(session)
    }
}

impl Handler for ChatAgent {
    fn on_connect(&self, session: &Session) -> impl Future<Output = HandlerResult> + Send {
        self.router().on_connect(session)
    }

    fn on_message(&self, session: &Session, message: Message) -> impl Future<Output = HandlerResult> + Send {
        self.router().dispatch(session, message)
    }

    fn welcome(&self) -> Option<&str> {
        Some(protocol::CONNECTION_ESTABLISHED)
    }

    /// `GET /health`: `{"status": "ok", "active_connections": N, "total_connections": N}` (`PROTOCOL.md`).
    fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<Value> {
        (path == protocol::HEALTH_PATH).then(|| {
            json!({
                "status": "ok",
                "active_connections": metrics.connections_active,
                "total_connections": metrics.connections_total,
            })
        })
    }
}

/// The data one run needs, taken from the chat message.
struct Run {
    run_id: String,
    thread_id: Option<Value>,
    content: String,
    tool_call_id: String,
}

/// Sends the chat protocol's error event, `{"type": "error", "code": CODE, "error": DETAIL}` (`PROTOCOL.md`, the
/// shape a router's default error reply has under the `"type"` key); the connection stays open.
async fn reply_error(session: &Session, code: &str, detail: String) -> HandlerResult {
    let frame = json!({"type": protocol::ERROR, "code": code, "error": detail});
    session.send_json(&frame).await?;
    Ok(())
}

async fn start_run(config: Arc<AgentConfig>, session: Session, message: Value) -> HandlerResult {
    let Some(content) = message.get("content").and_then(Value::as_str) else {
        let detail = "a chat message needs a string \"content\" field".to_owned();
        return reply_error(&session, error_code::INVALID_MESSAGE, detail).await;
    };
    let run_id = match message.get("run_id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Null) | None => format!("run-{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed)),
        Some(other) => other.to_string(),
    };
    let run = Run {
        run_id,
        thread_id: message.get("thread_id").filter(|id| !id.is_null()).cloned(),
        content: content.to_owned(),
        tool_call_id: format!("call-{}", NEXT_TOOL_CALL.fetch_add(1, Ordering::Relaxed)),
    };
    if config.event_delay.is_zero() {
        send_run(&config, &session, &run).await
    } else {
        // Runs interleave, but at most RUNS_IN_FLIGHT at once per connection: past that, this call waits for
        // one to finish, so the connection stops reading and a client that floods chat messages is slowed by
        // its own socket instead of growing the server's task list.
        let Ok(slot) = Arc::clone(&session.local::<RunSlots>().0).acquire_owned().await else {
            return Ok(());
        };
        let task_session = session.clone();
        session.spawn(async move {
            let _slot = slot;
            if let Err(error) = send_run(&config, &task_session, &run).await {
                crate::logging::log!(debug, connection_id = %task_session.connection_id(), %error, "chat run ended early");
            }
        });
        Ok(())
    }
}

/// The most chat runs with an `event_delay` in flight on one connection.
pub(crate) const RUNS_IN_FLIGHT: usize = 64;

/// A connection's permits for runs in flight.
struct RunSlots(Arc<tokio::sync::Semaphore>);

impl Default for RunSlots {
    fn default() -> Self {
        RunSlots(Arc::new(tokio::sync::Semaphore::new(RUNS_IN_FLIGHT)))
    }
}

async fn send_run(config: &AgentConfig, session: &Session, run: &Run) -> HandlerResult {
    let seq = session.local::<Seq>();
    let mut events = run_events(config, session, run);
    for (index, step) in plan(&config.faults).into_iter().enumerate() {
        if index > 0 && !config.event_delay.is_zero() {
            tokio::time::sleep(config.event_delay).await;
        }
        match step {
            Step::Send(event) => {
                // In place: a duplicated event is sent again with its own seq and timestamp.
                let event = &mut events[event];
                let meta = event.meta_mut();
                meta.seq = seq.0.fetch_add(1, Ordering::Relaxed) + 1;
                meta.timestamp = now_ms();
                session.send_json(&*event).await?;
            }
            Step::Malformed(event) => {
                let seq = seq.0.fetch_add(1, Ordering::Relaxed) + 1;
                // The start of the event, cut off mid-object: it names the event but is not JSON.
                let name = ChatEvent::CRITICAL[event];
                let run_id = serde_json::to_string(&run.run_id).unwrap_or_default();
                session
                    .send_text(format!(r#"{{"type":"{name}","run_id":{run_id},"seq":{seq},"#))
                    .await?;
            }
            Step::Close(code) => {
                session
                    .close(code, "fault injection: connection closed mid-run")
                    .await?;
                break;
            }
        }
    }
    Ok(())
}

/// The five events of a run, in protocol order (`seq` and `timestamp` are set as each is sent).
fn run_events(config: &AgentConfig, session: &Session, run: &Run) -> [ChatEvent; 5] {
    const TOOL: &str = "knowledge_search";
    let meta = EventMeta {
        agent_name: config.name.clone(),
        user_id: ChatAgent::user_id(session).to_string(),
        run_id: run.run_id.clone(),
        thread_id: run.thread_id.clone(),
        timestamp: 0,
        seq: 0,
    };
    let content = &run.content;
    [
        ChatEvent::AgentStarted {
            meta: meta.clone(),
            message: format!("Processing your message: {content}"),
        },
        ChatEvent::AgentThinking {
            meta: meta.clone(),
            thought: format!("Looking for what I know about: {content}"),
        },
        ChatEvent::ToolExecuting {
            meta: meta.clone(),
            tool_name: TOOL.to_owned(),
            tool_call_id: run.tool_call_id.clone(),
            parameters: json!({"query": content}),
        },
        ChatEvent::ToolCompleted {
            meta: meta.clone(),
            tool_name: TOOL.to_owned(),
            tool_call_id: run.tool_call_id.clone(),
            result: json!({"status": "ok", "matches": 1, "summary": format!("1 note about {content}")}),
        },
        ChatEvent::AgentCompleted {
            meta,
            response: format!("Here is what I found about: {content}"),
        },
    ]
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

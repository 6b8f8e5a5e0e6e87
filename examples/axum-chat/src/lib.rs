//! A small axum chat backend, as a team writes one: shared state, its own route (`/chat/ws`), bearer-token
//! auth in the upgrade handler, a heartbeat every 30 s, and five events streamed per chat message.
//!
//! Its tests (`tests/chat.rs`) put this very app under `#[ws_test(app = axum_chat::app, ...)]`, over TCP and
//! fully in memory, with time under the test's control.
//!
//! The protocol, from the client's side:
//! - upgrade `GET /chat/ws` with `Authorization: Bearer TOKEN`; an unknown token gets `401`;
//! - first frame: `{"type":"hello","user":USER}`;
//! - send `{"type":"chat_message","content":TEXT}`, get `agent_started`, `agent_thinking`, `tool_executing`,
//!   `tool_completed`, `agent_completed`, each with the message's `run_id` (`agent_completed` has the `answer`);
//! - every 30 s: `{"type":"heartbeat","beat":N}`;
//! - anything else: `{"type":"error","message":...}` (the connection stays open).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The route of the chat WebSocket.
pub const CHAT_PATH: &str = "/chat/ws";

/// What every connection shares: who may connect, the run counter, the heartbeat period.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Token → user.
    users: HashMap<String, String>,
    next_run: AtomicU64,
    heartbeat: Duration,
}

impl AppState {
    /// State with these `(token, user)` pairs and a heartbeat period.
    pub fn new(users: &[(&str, &str)], heartbeat: Duration) -> Self {
        AppState {
            inner: Arc::new(Inner {
                users: users
                    .iter()
                    .map(|(token, user)| ((*token).to_owned(), (*user).to_owned()))
                    .collect(),
                next_run: AtomicU64::new(1),
                heartbeat,
            }),
        }
    }

    fn user_for(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.inner.users.get(token.trim()).cloned()
    }
}

/// The app with its production defaults: two users (`alice-token`, `bob-token`) and a 30 s heartbeat.
pub fn app() -> Router {
    app_with(AppState::new(
        &[("alice-token", "alice"), ("bob-token", "bob")],
        Duration::from_secs(30),
    ))
}

/// The app over the given state.
pub fn app_with(state: AppState) -> Router {
    Router::new()
        .route(CHAT_PATH, get(upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    match state.user_for(&headers) {
        Some(user) => ws.on_upgrade(move |socket| session(socket, state, user)),
        None => (StatusCode::UNAUTHORIZED, "invalid or missing bearer token\n").into_response(),
    }
}

async fn session(mut socket: WebSocket, state: AppState, user: String) {
    if send(&mut socket, json!({"type": "hello", "user": user})).await.is_err() {
        return;
    }
    let period = state.inner.heartbeat;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut beat = 0u64;
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                beat += 1;
                if send(&mut socket, json!({"type": "heartbeat", "beat": beat})).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                for reply in answer(&state, &user, text.as_str()) {
                    if send(&mut socket, reply).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The frames that answer one text message.
fn answer(state: &AppState, user: &str, text: &str) -> Vec<Value> {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return vec![error("expected a JSON object with a \"type\"")];
    };
    match message["type"].as_str() {
        Some("chat_message") => {
            let content = message["content"].as_str().unwrap_or_default().trim();
            if content.is_empty() {
                return vec![error("a chat_message needs a non-empty \"content\"")];
            }
            let run_id = format!("run-{}", state.inner.next_run.fetch_add(1, Ordering::Relaxed));
            let tool_call_id = format!("{run_id}-call-1");
            vec![
                json!({"type": "agent_started", "run_id": run_id, "user": user}),
                json!({"type": "agent_thinking", "run_id": run_id, "thought": format!("looking up {content:?}")}),
                json!({"type": "tool_executing", "run_id": run_id, "tool_call_id": tool_call_id, "tool": "search"}),
                json!({"type": "tool_completed", "run_id": run_id, "tool_call_id": tool_call_id, "ok": true}),
                json!({"type": "agent_completed", "run_id": run_id, "answer": format!("you said: {content}")}),
            ]
        }
        Some(other) => vec![error(&format!("unknown message type {other:?}"))],
        None => vec![error("expected a JSON object with a \"type\"")],
    }
}

fn error(message: &str) -> Value {
    json!({"type": "error", "message": message})
}

async fn send(socket: &mut WebSocket, value: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(value.to_string().into())).await
}

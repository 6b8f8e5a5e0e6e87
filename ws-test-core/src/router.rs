//! [`Router`]: a handler that dispatches JSON messages on their `"type"` field.
//!
//! The router answers the protocol's errors itself (`PROTOCOL.md`): text that is not a JSON object gets
//! `invalid_json`, an object without a string `type` gets `missing_type`, a type without a route gets
//! `unknown_type` (unless a [fallback](Router::fallback) is set), and a binary frame gets `unsupported_frame`.
//! The connection stays open after each of them.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::Field;
use crate::handler::{BoxFuture, Handler, HandlerResult, IntoHandlerResult};
use crate::message::Message;

use crate::session::Session;

type RouteFn = dyn Fn(Session, Value) -> BoxFuture<'static, HandlerResult> + Send + Sync;
type ConnectFn = dyn Fn(Session) -> BoxFuture<'static, HandlerResult> + Send + Sync;

/// Dispatches JSON messages by `"type"` to async functions.
///
/// A route is any `Fn(Session, Value) -> impl Future` returning `()` or `Result<(), E>`: a closure with an
/// `async move` block, or an `async fn(Session, Value)`. The [`Session`] is a cheap handle, passed by value so
/// the future can own it.
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::Router;
///
/// async fn add(session: Session, message: Value) -> Result<(), ws_test_runtime::Error> {
///     let sum = message["a"].as_i64().unwrap_or(0) + message["b"].as_i64().unwrap_or(0);
///     session.send_json(&json!({"type": "sum", "value": sum})).await
/// }
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let router = Router::new()
///     .route("add", add)
///     .route("hello", |session: Session, _message| async move {
///         session.send_json(&json!({"type": "hello", "user": session.query_param("user")})).await
///     });
/// let server = EmbeddedServer::builder().handler(router).start().await?;
/// let mut client = server.connect().await?;
/// client.send_json(&json!({"type": "add", "a": 2, "b": 3})).await?;
/// assert_eq!(client.expect_type("sum").await?["value"], 5);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Router {
    routes: HashMap<String, Arc<RouteFn>>,
    fallback: Option<Arc<RouteFn>>,
    on_connect: Vec<Arc<ConnectFn>>,
    /// The field incoming frames are routed by (default `"type"`).
    event_key: Field,
    /// The event `with_welcome` sends first.
    welcome: Option<&'static str>,
    /// Shapes the reply to a frame the router cannot route (`None`: the default shape).
    error_reply: Option<Arc<ErrorReplyFn>>,
}

type ErrorReplyFn = dyn Fn(&str, &str) -> Value + Send + Sync;

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut types: Vec<&String> = self.routes.keys().collect();
        types.sort();
        f.debug_struct("Router")
            .field("routes", &types)
            .field("fallback", &self.fallback.is_some())
            .field("on_connect", &self.on_connect.len())
            .finish()
    }
}

impl Router {
    /// A router with no routes: every typed message gets `unknown_type`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes incoming frames by this field instead of `"type"`: a key (`"method"` for a mock of a JSON-RPC
    /// backend) or a JSON pointer. A frame without a string there gets `missing_type`.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::Router;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let rpc = Router::new().event_key("method").route("add", |session: Session, call: Value| async move {
    ///     let sum = call["params"][0].as_i64().unwrap_or(0) + call["params"][1].as_i64().unwrap_or(0);
    ///     session.send_json(&json!({"jsonrpc": "2.0", "id": call["id"], "result": sum})).await
    /// });
    /// let server = EmbeddedServer::builder().handler(rpc).start().await?;
    /// let mut client = server.connect().await?;
    /// client.send_json(json!({"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2, 3]})).await?;
    /// assert_eq!(client.recv_json().await?, json!({"jsonrpc": "2.0", "id": 1, "result": 5}));
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn event_key(mut self, key: impl Into<Field>) -> Self {
        self.event_key = key.into();
        self
    }

    /// Routes messages whose event key (`"type"`, or [`event_key`](Self::event_key)) is `event` to `route`; a
    /// later route for the same name replaces it.
    pub fn route<F, Fut>(mut self, event: impl Into<String>, route: F) -> Self
    where
        F: Fn(Session, Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoHandlerResult,
    {
        self.routes.insert(event.into(), box_route(route));
        self
    }

    /// Handles every typed message that has no route, instead of answering `unknown_type`.
    pub fn fallback<F, Fut>(mut self, route: F) -> Self
    where
        F: Fn(Session, Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoHandlerResult,
    {
        self.fallback = Some(box_route(route));
        self
    }

    /// Runs `hook` when a connection opens, before any message (hooks run in the order they were added).
    pub fn on_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoHandlerResult,
    {
        self.on_connect.push(Arc::new(move |session| {
            let future = hook(session);
            Box::pin(async move { future.await.into_handler_result() })
        }));
        self
    }

    /// Declares `event` as the router's [welcome](crate::Handler::welcome): the event an `on_connect` hook
    /// sends first (what [`with_welcome`](Self::with_welcome) does for the built-in agent's).
    pub fn welcome_event(mut self, event: &'static str) -> Self {
        self.welcome = Some(event);
        self
    }

    /// Shapes the frame the router answers a frame it cannot route with, from the error's code (one of
    /// [`error_code`]) and its detail in words. The default is an `"error"` event at the router's event key:
    /// `{"type": "error", "code": CODE, "error": DETAIL}`, or `{"method": "error", ...}` after
    /// `.event_key("method")`, or `{"data": {"kind": "error"}, ...}` after `.event_key("/data/kind")`.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::Router;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// // A JSON-RPC 2.0 mock answers what it cannot route with JSON-RPC's own error.
    /// let rpc = Router::new()
    ///     .event_key("method")
    ///     .error_reply(|code, detail| json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": detail, "data": code}}));
    /// let server = EmbeddedServer::builder().handler(rpc).start().await?;
    /// let mut client = server.connect().await?;
    /// client.send_json(json!({"jsonrpc": "2.0", "id": 1, "method": "nope"})).await?;
    /// assert_eq!(client.recv_json().await?["error"]["code"], -32601);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn error_reply<F>(mut self, shape: F) -> Self
    where
        F: Fn(&str, &str) -> Value + Send + Sync + 'static,
    {
        self.error_reply = Some(Arc::new(shape));
        self
    }

    /// Sends the error reply for `code` (see [`error_reply`](Self::error_reply)); the connection stays open.
    async fn reply_error(&self, session: &Session, code: &str, detail: String) -> HandlerResult {
        let frame = match &self.error_reply {
            Some(shape) => shape(code, &detail),
            None => {
                let mut frame = json!({"code": code, "error": detail});
                self.event_key.set(&mut frame, Value::from(ERROR_EVENT));
                frame
            }
        };
        session.send_json(&frame).await?;
        Ok(())
    }

    /// The types that have a route, sorted.
    pub fn types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        types.sort_unstable();
        types
    }

    /// Dispatches one message: parses it, picks the route by its event key, or answers an
    /// [error reply](Self::error_reply).
    pub async fn dispatch(&self, session: &Session, message: Message) -> HandlerResult {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(bytes) => {
                let detail = format!(
                    "binary frames are not supported ({} bytes received); send JSON in a text frame",
                    bytes.len()
                );
                return self.reply_error(session, error_code::UNSUPPORTED_FRAME, detail).await;
            }
        };
        let value = match serde_json::from_str::<Value>(&text) {
            Ok(value @ Value::Object(_)) => value,
            Ok(other) => {
                let detail = format!("a message must be a JSON object, not {}", json_kind(&other));
                return self.reply_error(session, error_code::INVALID_JSON, detail).await;
            }
            Err(error) => {
                let detail = format!("the message is not valid JSON: {error}");
                return self.reply_error(session, error_code::INVALID_JSON, detail).await;
            }
        };
        let Some(event) = self.event_key.str(&value) else {
            let detail = format!("the message has no string {:?} field", self.event_key.as_str());
            return self.reply_error(session, error_code::MISSING_TYPE, detail).await;
        };
        match self.routes.get(event).or(self.fallback.as_ref()) {
            Some(route) => route(session.clone(), value).await,
            None => {
                let detail = format!(
                    "no route for message type {event:?}; known types: {}",
                    self.types().join(", ")
                );
                self.reply_error(session, error_code::UNKNOWN_TYPE, detail).await
            }
        }
    }
}

impl Handler for Router {
    async fn on_connect(&self, session: &Session) -> HandlerResult {
        for hook in &self.on_connect {
            hook(session.clone()).await?;
        }
        Ok(())
    }

    fn on_message(&self, session: &Session, message: Message) -> impl Future<Output = HandlerResult> + Send {
        self.dispatch(session, message)
    }

    fn welcome(&self) -> Option<&str> {
        self.welcome
    }
}

fn box_route<F, Fut>(route: F) -> Arc<RouteFn>
where
    F: Fn(Session, Value) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoHandlerResult,
{
    Arc::new(move |session, value| {
        let future = route(session, value);
        Box::pin(async move { future.await.into_handler_result() })
    })
}

/// The event a router answers a frame it cannot route with, by default: `{KEY: "error", "code": CODE, "error":
/// DETAIL}` at the router's event key.
pub const ERROR_EVENT: &str = "error";

/// The codes of a router's error replies.
pub mod error_code {
    /// The text is not JSON, or not a JSON object.
    pub const INVALID_JSON: &str = "invalid_json";
    /// The object has no string at the event key.
    pub const MISSING_TYPE: &str = "missing_type";
    /// No route for the event's name, and no fallback.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// A binary frame (routes take JSON text).
    pub const UNSUPPORTED_FRAME: &str = "unsupported_frame";
    /// A routed message whose fields do not fit (routes and handlers may use it).
    pub const INVALID_MESSAGE: &str = "invalid_message";
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

//! [`Session`]: the server's handle on one WebSocket connection, given to every handler call.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt as _;
use serde_core::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::http::HeaderMap;
use tokio_tungstenite::tungstenite::http::Uri;

use crate::error::{Error, Result};
use crate::message::{CloseInfo, Message, json_text};
use crate::panics::panic_message;
use crate::wire::close_code;
use crate::wire::{clip_reason, query_param};

/// What a session needs from the server it belongs to. The server implements it; a session depends on this
/// and on nothing of the server's.
pub trait Hub: Send + Sync {
    /// Queues `text` on every open connection without waiting; returns how many took it.
    fn broadcast(&self, text: String) -> usize;
    /// Keeps the panic of handler code for `EmbeddedServer::failures`.
    fn record_panic(&self, message: String);
    /// Keeps a failure a handler reported for `EmbeddedServer::failures`.
    fn record_failure(&self, message: String);
}

/// What a connection's writer is asked to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send a data frame: an event the server's protocol encodes, when it has one.
    Message(Message),
    /// Send this frame as it is: the protocol's own (its handshake, a heartbeat, an answer).
    Wire(Message),
    /// Send a close frame and stop sending.
    Close(CloseInfo),
}

/// The server-side handle on one WebSocket connection.
///
/// Cheap to clone (an `Arc`); a clone may be moved into a spawned task. Sending after the connection closed is
/// an [`Error::AlreadyClosed`], never a panic.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    connection_id: String,
    uri: Uri,
    headers: HeaderMap,
    subprotocol: Option<String>,
    outbound: mpsc::Sender<Outbound>,
    closing: AtomicBool,
    locals: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    tasks: Mutex<JoinSet<()>>,
    hub: Arc<dyn Hub>,
}

/// What the upgrade handler learned about a connection before it became a WebSocket.
#[derive(Debug)]
pub struct SessionSeed {
    pub connection_id: String,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub subprotocol: Option<String>,
    /// The connection's slot under `max_connections`, held until the connection ends.
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("connection_id", &self.inner.connection_id)
            .field("uri", &self.inner.uri)
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl Session {
    #[doc(hidden)]
    pub fn new(seed: SessionSeed, outbound: mpsc::Sender<Outbound>, hub: Arc<dyn Hub>) -> Self {
        Session {
            inner: Arc::new(SessionInner {
                connection_id: seed.connection_id,
                uri: seed.uri,
                headers: seed.headers,
                subprotocol: seed.subprotocol,
                outbound,
                closing: AtomicBool::new(false),
                locals: Mutex::new(HashMap::new()),
                tasks: Mutex::new(JoinSet::new()),
                hub,
            }),
        }
    }

    /// The server-assigned id of this connection (unique within the process).
    pub fn connection_id(&self) -> &str {
        &self.inner.connection_id
    }

    /// The request URI of the upgrade request (path and query).
    pub fn uri(&self) -> &Uri {
        &self.inner.uri
    }

    /// The headers of the upgrade request.
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// A query parameter of the upgrade request, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_param(&self.inner.uri, name)
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.inner.subprotocol.as_deref()
    }

    /// Whether a close was started (by either side); messages sent now may not be delivered.
    pub fn is_closing(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire) || self.inner.outbound.is_closed()
    }

    /// Sends a JSON value as a text frame: anything `Serialize`, by value or by reference.
    pub async fn send_json(&self, value: impl Serialize) -> Result<()> {
        let text = json_text(value)?;
        self.send(Message::Text(text), "send a JSON message").await
    }

    /// Sends a text frame, exactly as given (it need not be JSON: useful to simulate a broken server).
    pub async fn send_text(&self, text: impl Into<String>) -> Result<()> {
        self.send(Message::Text(text.into()), "send a text frame").await
    }

    /// Sends a binary frame.
    pub async fn send_binary(&self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.send(Message::Binary(bytes.into()), "send a binary frame").await
    }

    /// Closes the connection with this code and reason; later sends fail.
    ///
    /// The close frame is sent after every message queued before it. Closing twice is not an error.
    pub async fn close(&self, code: u16, reason: impl Into<String>) -> Result<()> {
        if self.inner.closing.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let close = CloseInfo::new(code, clip_reason(reason.into()));
        // A full queue or a finished writer both mean the close cannot be delivered any more: not an error.
        let _ = self.inner.outbound.send(Outbound::Close(close)).await;
        Ok(())
    }

    /// Sends a JSON value to every open connection of the server, this one included; returns how many
    /// connections it was queued for. It never waits for a slow peer (see
    /// `EmbeddedServer::broadcast`).
    pub async fn broadcast(&self, value: impl Serialize) -> Result<usize> {
        let text = json_text(value)?;
        Ok(self.inner.hub.broadcast(text))
    }

    /// Per-connection state of type `T`, created with `T::default()` on first use.
    ///
    /// Handlers are shared by all connections; this is where a handler keeps what belongs to one connection
    /// (the built-in chat agent keeps its `seq` counter here).
    pub fn local<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut locals = self
            .inner
            .locals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = locals
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(entry).downcast::<T>() {
            Ok(value) => value,
            // The map is keyed by `TypeId::of::<T>()`, so the entry always has type `T`.
            Err(_) => unreachable!("per-connection state is keyed by its own type"),
        }
    }

    /// Reports a failure of the server side that the test must fail with: it lands in
    /// `EmbeddedServer::failures`, which `#[ws_test]` reports after the body,
    /// naming this connection. The connection itself goes on; close it too if it cannot.
    ///
    /// [`Replay`](crate::Replay) reports a client frame that diverges from the recording this way.
    pub fn report_failure(&self, message: impl Into<String>) {
        self.inner
            .hub
            .record_failure(format!("{} (connection {})", message.into(), self.connection_id()));
    }

    /// Runs `task` alongside the connection: it is aborted when the connection ends, and a panic in it is
    /// reported like a handler panic (the connection closes with 1011 and the test sees the message).
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_boxed(Box::pin(task));
    }

    /// [`spawn`](Self::spawn)'s work, compiled once for every task type.
    fn spawn_boxed(&self, task: crate::task::TaskFuture) {
        let session = self.clone();
        let guarded = async move {
            if let Err(payload) = AssertUnwindSafe(task).catch_unwind().await {
                let message = panic_message(payload.as_ref());
                session.handler_panicked("a task spawned by the handler", message).await;
            }
        };
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Reap finished tasks so a long-lived connection does not accumulate them.
        while tasks.try_join_next().is_some() {}
        crate::task::spawn_into(&mut tasks, guarded);
    }

    async fn send(&self, message: Message, action: &str) -> Result<()> {
        if self.inner.closing.load(Ordering::Acquire) {
            return Err(self.closed_error(action));
        }
        self.inner
            .outbound
            .send(Outbound::Message(message))
            .await
            .map_err(|_| self.closed_error(action))
    }

    /// Queues a frame of the server's protocol's own, sent as it is.
    #[doc(hidden)]
    pub async fn send_wire(&self, message: Message) {
        let _ = self.inner.outbound.send(Outbound::Wire(message)).await;
    }

    fn closed_error(&self, action: &str) -> Error {
        Error::AlreadyClosed {
            action: action.to_owned(),
            connection: self.inner.connection_id.clone(),
        }
    }

    /// Records a panic of handler code and closes the connection with 1011.
    #[doc(hidden)]
    pub async fn handler_panicked(&self, place: &str, message: String) {
        crate::logging::log!(error, connection_id = %self.connection_id(), %place, panic = %message, "handler panicked");
        self.inner.hub.record_panic(format!(
            "{place} panicked on connection {}: {message}",
            self.connection_id()
        ));
        let _ = self
            .close(close_code::INTERNAL_ERROR, format!("handler panicked: {message}"))
            .await;
    }

    #[doc(hidden)]
    pub fn abort_tasks(&self) {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        tasks.abort_all();
    }
}

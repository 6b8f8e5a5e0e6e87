//! [`Handler`]: what the embedded server does with each connection.
//!
//! A handler is shared by all connections of a server; per-connection state lives in
//! [`Session::local`]. Each call gets the connection's [`Session`]. The built-in
//! `ChatAgent` and the [`Router`](crate::Router) are handlers; so is any type of yours that
//! implements this trait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::message::{CloseInfo, Message};
use crate::metrics::MetricsSnapshot;
use crate::session::Session;

/// The error a handler may return: any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a handler call returns. An `Err` is logged, counted in the metrics and closes the connection with
/// 1011 (internal error), its message as the close reason.
pub type HandlerResult = Result<(), BoxError>;

/// The behaviour of the embedded server on each connection.
///
/// Messages of one connection are handled one at a time, in the order they arrived; connections run
/// concurrently. A panic in a handler closes that connection with 1011 and is reported to the test; the server
/// keeps serving the others.
///
/// ```
/// use ws_test_runtime::{Handler, HandlerResult, Message, Session};
///
/// /// Answers every text frame with its upper-case copy.
/// struct Shout;
///
/// impl Handler for Shout {
///     async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
///         if let Message::Text(text) = message {
///             session.send_text(text.to_uppercase()).await?;
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Called once when the WebSocket is open, before any message is read.
    fn on_connect(&self, session: &Session) -> impl Future<Output = HandlerResult> + Send {
        let _ = session;
        async { Ok(()) }
    }

    /// Called for every text or binary frame, in order.
    fn on_message(&self, session: &Session, message: Message) -> impl Future<Output = HandlerResult> + Send;

    /// Called once when the connection has ended, with how it ended (1006 when the peer vanished).
    fn on_close(&self, session: &Session, close: &CloseInfo) -> impl Future<Output = ()> + Send {
        let _ = (session, close);
        async {}
    }

    /// The name of the event this handler sends first on every connection, if it sends one (its welcome):
    /// `#[ws_test]` waits for it after connecting, read by the test's event key. Default: none. The built-in
    /// `ChatAgent` and a [`Router`](crate::Router) with a welcome say theirs.
    fn welcome(&self) -> Option<&str> {
        None
    }

    /// Answers a plain HTTP `GET` to `path`, a path other than the WebSocket endpoint's, with `200 OK` and this
    /// JSON body (a health check); `None` (the default) leaves it to the server's `404`. `metrics` are the
    /// server's counters at the request. The chat kit's `ChatAgent` answers `/health`.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::{Message, MetricsSnapshot};
    ///
    /// struct Quiet;
    ///
    /// impl Handler for Quiet {
    ///     async fn on_message(&self, _: &Session, _: Message) -> HandlerResult {
    ///         Ok(())
    ///     }
    ///
    ///     fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<Value> {
    ///         (path == "/ready").then(|| json!({"open": metrics.connections_active}))
    ///     }
    /// }
    /// # let _ = Quiet;
    /// ```
    fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<serde_json::Value> {
        let _ = (path, metrics);
        None
    }
}

impl<H: Handler> Handler for Arc<H> {
    fn on_connect(&self, session: &Session) -> impl Future<Output = HandlerResult> + Send {
        (**self).on_connect(session)
    }

    fn on_message(&self, session: &Session, message: Message) -> impl Future<Output = HandlerResult> + Send {
        (**self).on_message(session, message)
    }

    fn on_close(&self, session: &Session, close: &CloseInfo) -> impl Future<Output = ()> + Send {
        (**self).on_close(session, close)
    }

    fn welcome(&self) -> Option<&str> {
        (**self).welcome()
    }

    fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<serde_json::Value> {
        (**self).http_get(path, metrics)
    }
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe form of [`Handler`] the server stores.
pub trait DynHandler: Send + Sync + 'static {
    fn on_connect<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HandlerResult>;
    fn on_message<'a>(&'a self, session: &'a Session, message: Message) -> BoxFuture<'a, HandlerResult>;
    fn on_close<'a>(&'a self, session: &'a Session, close: &'a CloseInfo) -> BoxFuture<'a, ()>;
    fn welcome(&self) -> Option<&str>;
    fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<serde_json::Value>;
}

impl<H: Handler> DynHandler for H {
    fn on_connect<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HandlerResult> {
        Box::pin(Handler::on_connect(self, session))
    }

    fn on_message<'a>(&'a self, session: &'a Session, message: Message) -> BoxFuture<'a, HandlerResult> {
        Box::pin(Handler::on_message(self, session, message))
    }

    fn welcome(&self) -> Option<&str> {
        Handler::welcome(self)
    }

    fn http_get(&self, path: &str, metrics: &MetricsSnapshot) -> Option<serde_json::Value> {
        Handler::http_get(self, path, metrics)
    }

    fn on_close<'a>(&'a self, session: &'a Session, close: &'a CloseInfo) -> BoxFuture<'a, ()> {
        Box::pin(Handler::on_close(self, session, close))
    }
}

/// What a route or hook may return: `()` or `Result<(), E>` for any error `E`.
pub trait IntoHandlerResult {
    /// Converts into a [`HandlerResult`].
    fn into_handler_result(self) -> HandlerResult;
}

impl IntoHandlerResult for () {
    fn into_handler_result(self) -> HandlerResult {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoHandlerResult for Result<(), E> {
    fn into_handler_result(self) -> HandlerResult {
        self.map_err(Into::into)
    }
}

/// A handler that sends every text and binary message back as it came: the server Autobahn's fuzzing client
/// grades (`ws-test serve --echo`, and `ws-test conform` against ws-test's own server).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> ws_test_runtime::Result<()> {
/// use ws_test_runtime::{Echo, EmbeddedServer, WsClient};
///
/// let server = EmbeddedServer::builder().handler(Echo).start().await?;
/// let mut client = WsClient::connect(&server.url()).await?;
/// client.send_text("hello").await?;
/// assert_eq!(client.recv().await?.as_text(), Some("hello"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Handler for Echo {
    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        match message {
            Message::Text(text) => session.send_text(text).await?,
            Message::Binary(bytes) => session.send_binary(bytes).await?,
        }
        Ok(())
    }
}

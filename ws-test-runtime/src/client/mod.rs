//! [`WsClient`]: the test client. It connects with retries, sends and receives with deadlines, answers pings,
//! and records every frame in a [`History`].
//!
//! A background task reads the socket as frames arrive, so timestamps are exact, pings are answered while the
//! test is busy elsewhere, and a close is noticed even when nobody is receiving. Nothing waits past a deadline:
//! a timeout names what was awaited and lists what arrived instead.

mod builder;
mod conduct;
mod guard;
mod misbehave;
mod reader;
mod receive;
mod send;
mod tap;

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_core::Serialize;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub use builder::ClientBuilder;
/// The conformance client reads a URL the same way.
#[cfg(feature = "conform")]
pub(crate) use builder::Target;
#[cfg(any(feature = "record", feature = "conform"))]
pub(crate) use builder::websocket_uri;
pub use guard::ExpectGuard;
pub use misbehave::RawFrame;
use reader::{Speaker, read_loop};
pub use receive::Receive;
pub use tap::Tap;
use tap::{Recording, Seen, Unseen};

use crate::expect::{Expectation, Matched};
use crate::history::{Decoded, Direction, Frame, FrameKind, History};
use crate::message::{CloseInfo, Message, json_text};
use crate::protocol::{Handshake, ProtocolSession, Step};
use crate::wire::close_code;
use crate::wire::{self, Incoming, clip_reason};
use crate::{Error, Result, timeout};

pub(crate) type Socket = WebSocketStream<conduct::ConductStream>;

/// The write half, shared by the client and, for a protocol that answers by itself (heartbeats), its reader.
type SharedSink = Arc<tokio::sync::Mutex<SplitSink<Socket, WsMessage>>>;

/// A connection's protocol state, shared by the reader (which shows it every frame) and the client (which
/// encodes through it).
type SharedSession = Arc<std::sync::Mutex<Box<dyn ProtocolSession>>>;

/// Locks a protocol session; a panic in a protocol's code leaves it usable.
fn lock_session(session: &SharedSession) -> std::sync::MutexGuard<'_, Box<dyn ProtocolSession>> {
    session.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How [`WsClient::write_frame`] hands a frame to the socket.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// Write it out now (with anything queued before it).
    Send,
    /// Queue it; it goes out with the next flush.
    Feed,
}

/// The default of [`ClientBuilder::max_history_bytes`]: 64 MiB.
pub(crate) const DEFAULT_MAX_HISTORY_BYTES: usize = 64 << 20;

/// A WebSocket client for tests.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let mut client = WsClient::connect(&server.url()).await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(&json!({"type": "echo", "payload": [1, 2, 3]})).await?;
/// let echo = client.recv_json().await?;
/// assert_eq!(echo, json!({"type": "echo", "payload": [1, 2, 3]}));
/// let close = client.close(1000, "done").await?;
/// assert_eq!(close.code, 1000);
/// println!("{}", client.history().timeline());
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
///
/// # One cursor
///
/// Every receive ([`recv`](Self::recv), [`recv_json`](Self::recv_json), [`next_event`](Self::next_event),
/// [`expect_type`](Self::expect_type), [`expect_closed`](Self::expect_closed), [`expect`](Self::expect),
/// [`expect_no_message`](Self::expect_no_message)) reads the received frames after one cursor, in arrival order;
/// when it succeeds, the cursor moves past the last frame it used, and when it fails, the cursor stays where it
/// was. Frames a call passes over stay in the [`history`](Self::history) and are named in a timeout's report.
/// Each call waits at most the client's receive timeout, or its own deadline: `recv().within(d)`,
/// `expect_type(kind).within(d)`, `Expect::events([...]).within(d)`.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let mut client = server.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
/// assert_eq!(client.recv_json().await?["type"], "agent_started");
/// // agent_started is behind the cursor now: the expectation reads from agent_thinking on.
/// client.expect(Expect::events(["agent_thinking", "tool_executing", "tool_completed", "agent_completed"]).strict()).await?;
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub struct WsClient {
    url: String,
    sink: Option<SharedSink>,
    recording: Arc<Recording>,
    /// The protocol's name and this connection's state of it ([`ClientBuilder::protocol`]).
    protocol: Option<(String, SharedSession)>,
    /// The reading task, until a goodbye takes it.
    reader: Option<JoinHandle<()>>,
    subprotocol: Option<String>,
    recv_timeout: Duration,
    send_timeout: Duration,
    closed: Option<CloseInfo>,
    /// The history index every receive and expectation reads from (see "One cursor" above).
    cursor: usize,
    /// Frames queued by `feed_*` that are not flushed yet.
    unflushed: bool,
    /// GraphQL operations started, for their ids.
    operations: u64,
    /// The switches of misbehaviour on purpose (`go_silent`, `stop_reading`, ...), obeyed by the byte stream.
    conduct: Arc<conduct::Conduct>,
}
impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("url", &self.url)
            .field("closed", &self.closed)
            .field("frames", &self.lock_history().len())
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Connects with the default options (retrying for up to 5 s while the server is not up yet).
    ///
    /// The URL may be given as `server.url()`, `&server.url()`, `"ws://..."` or anything else that is
    /// `AsRef<str>`.
    pub async fn connect(url: impl AsRef<str>) -> Result<WsClient> {
        Self::builder(url).connect().await
    }

    /// A builder for headers, token, user id, subprotocols and timeouts.
    pub fn builder(url: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder::new(url.as_ref())
    }

    fn from_socket(socket: Socket, handshake: crate::Handshake, options: &builder::Options) -> Self {
        let subprotocol = handshake.subprotocol().map(str::to_owned);
        let recording = Recording::new(
            options.max_history_bytes,
            &options.url,
            options.event_key.clone(),
            options.decoder.clone(),
        );
        recording.set_handshake(handshake);
        let conduct = Arc::clone(socket.get_ref().conduct());
        let (sink, stream) = socket.split();
        let sink: SharedSink = Arc::new(tokio::sync::Mutex::new(sink));
        let protocol = options.protocol.as_ref().map(|protocol| {
            let session: SharedSession = Arc::new(std::sync::Mutex::new(protocol.session()));
            (protocol.name().to_owned(), session)
        });
        let speaker = protocol.as_ref().map(|(_, session)| Speaker {
            session: Arc::clone(session),
            sink: Arc::clone(&sink),
            send_timeout: options.send_timeout,
        });
        let reader = crate::task::spawn(read_loop(stream, Arc::clone(&recording), speaker));
        WsClient {
            url: options.url.clone(),
            sink: Some(sink),
            recording,
            protocol,
            reader: Some(reader),
            subprotocol,
            recv_timeout: options.recv_timeout,
            send_timeout: options.send_timeout,
            closed: None,
            cursor: 0,
            unflushed: false,
            operations: 0,
            conduct,
        }
    }

    /// The URL this client connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The field that names an event on this connection (see [`ClientBuilder::event_key`]).
    pub fn event_key(&self) -> &crate::Field {
        &self.recording.event_key
    }

    /// The subprotocol the server agreed to, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The default receive timeout.
    pub fn recv_timeout(&self) -> Duration {
        self.recv_timeout
    }

    /// Changes the default receive timeout.
    pub fn set_recv_timeout(&mut self, within: Duration) {
        self.recv_timeout = within;
    }

    /// How long a send may wait for the server to take the frame.
    pub fn send_timeout(&self) -> Duration {
        self.send_timeout
    }

    /// How the connection ended, once a close was received (or the connection vanished: code 1006).
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.closed.as_ref()
    }

    /// A copy of every frame sent and received so far.
    pub fn history(&self) -> History {
        self.lock_history().clone()
    }

    pub(crate) fn lock_history(&self) -> std::sync::MutexGuard<'_, History> {
        self.recording.history()
    }

    /// The conversation so far as one readable, stable text, volatile values redacted: see
    /// [`Snapshot`](crate::Snapshot). `client.snapshot().redact("/trace_id").to_string()`, or with the `insta`
    /// feature, `assert_ws_snapshot!(client)`.
    pub fn snapshot(&self) -> crate::Snapshot {
        self.lock_history().snapshot()
    }
}

impl crate::AsSnapshot for WsClient {
    fn as_snapshot(&self) -> crate::Snapshot {
        self.snapshot()
    }
}

impl WsClient {
    /// Says goodbye and waits for it, as dropping the client does in the background: a close frame unless one
    /// was exchanged, then the reader finishes the close handshake (it answers the server's close and ends when
    /// the server ends TCP), all within the close timeout. The `#[ws_test]` driver awaits this at teardown, so the
    /// server sees the client's 1000 before it shuts down and no task outlives the test.
    pub(crate) async fn finish(mut self) {
        if let Some(goodbye) = self.goodbye() {
            goodbye.await;
        }
    }

    /// The goodbye of [`finish`](Self::finish) and of `Drop`, taking the sink and the reader.
    fn goodbye(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let reader = self.reader.take()?;
        if self.conduct.is_silent() {
            // A silent client says nothing, not even goodbye: its connection just ends with it.
            reader.abort();
            self.sink.take();
            return None;
        }
        // The goodbye reads the server's answer to the close.
        self.conduct.resume_reading();
        let sink = self.sink.take().filter(|_| self.closed.is_none());
        let stop = reader.abort_handle();
        let goodbye = async move {
            if let Some(sink) = sink {
                let goodbye = CloseInfo::new(close_code::NORMAL, "client dropped");
                let _ = sink.lock().await.send(wire::close_frame(&goodbye)).await;
            }
            let _ = reader.await;
        };
        // One deadline for the whole goodbye: a server that stops reading cannot hold the send.
        Some(async move {
            if tokio::time::timeout(timeout::scaled(timeout::CLOSE), goodbye)
                .await
                .is_err()
            {
                stop.abort();
            }
        })
    }
}

impl Drop for WsClient {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            if let Some(reader) = self.reader.take() {
                reader.abort();
            }
            return;
        };
        if let Some(goodbye) = self.goodbye() {
            runtime.spawn(Box::pin(goodbye) as crate::task::TaskFuture);
        }
    }
}

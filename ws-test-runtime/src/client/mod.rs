//! [`WsClient`]: the test client. It connects with retries, sends and receives with deadlines, answers pings,
//! and records every frame in a [`History`].
//!
//! A background task reads the socket as frames arrive, so timestamps are exact, pings are answered while the
//! test is busy elsewhere, and a close is noticed even when nobody is receiving. Nothing waits past a deadline:
//! a timeout names what was awaited and lists what arrived instead.

mod builder;
mod guard;
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
pub use tap::Tap;
use tap::{Recording, Seen, Unseen};

use crate::expect::{Expectation, Matched};
use crate::history::{Decoded, Direction, Frame, FrameKind, History};
use crate::message::{CloseInfo, Message, json_text};
use crate::protocol::{Handshake, ProtocolSession, Step};
use crate::transport::Stream;
use crate::wire::close_code;
use crate::wire::{self, Incoming, clip_reason};
use crate::{Error, Result, timeout};

pub(crate) type Socket = WebSocketStream<Stream>;

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

    fn from_socket(socket: Socket, subprotocol: Option<String>, options: &builder::Options) -> Self {
        let recording = Recording::new(
            options.max_history_bytes,
            &options.url,
            options.event_key.clone(),
            options.decoder.clone(),
        );
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

    /// Sends a JSON value as a text frame: anything `Serialize`, by value or by reference (`json!({...})`,
    /// `&json!({...})`, `my_struct`, `&my_struct`).
    pub async fn send_json(&mut self, value: impl Serialize) -> Result<()> {
        let text = json_text(value)?;
        self.send_text(text).await
    }

    /// Sends the event `name` with `data` through the connection's [protocol](crate::protocol): Socket.IO's
    /// `42["add user","alice"]` for `client.emit("add user", json!("alice"))`, whatever the protocol makes of
    /// `{"event": NAME, "data": DATA}`. Without a protocol, a JSON frame with the event key set: `data` itself
    /// when it is an object (`emit("chat_message", json!({"content": "hi"}))` sends
    /// `{"type":"chat_message","content":"hi"}`), else `{"type": NAME, "data": DATA}`.
    pub async fn emit(&mut self, name: impl AsRef<str>, data: impl Serialize) -> Result<()> {
        let name = name.as_ref();
        let data = crate::message::json_value(data)?;
        if self.protocol.is_some() {
            return self.send_event(serde_json::json!({"event": name, "data": data})).await;
        }
        let key = self.recording.event_key.clone();
        let event = match data {
            Value::Object(mut object) if !key.as_str().starts_with('/') => {
                object.insert(key.as_str().to_owned(), Value::String(name.to_owned()));
                Value::Object(object)
            }
            data if !key.as_str().starts_with('/') => serde_json::json!({key.as_str(): name, "data": data}),
            _ => {
                return Err(Error::Config(format!(
                    "emit cannot name an event by the pointer {key}; send the frame with send_json"
                )));
            }
        };
        self.send_json(event).await
    }

    /// Sends an event value through the connection's [protocol](crate::protocol) (Socket.IO:
    /// `{"event": "x", "args": [1, 2], "nsp": "/admin"}`); without one, as a JSON text frame. The history
    /// records each frame with the event beside it.
    pub async fn send_event(&mut self, event: impl Serialize) -> Result<()> {
        let event = crate::message::json_value(event)?;
        let Some((name, session)) = &self.protocol else {
            return self.send_json(event).await;
        };
        let encoded = lock_session(session).encode(&event);
        let frames = encoded.map_err(|why| Error::Config(format!("{name} cannot send {event}: {why}")))?;
        self.send_encoded(frames, event, "send an event").await
    }

    /// Sends the event `name` with `data` as a request for an acknowledgement and waits (at most the receive
    /// timeout) for it: the acknowledgement's arguments. Socket.IO: `42<id>["ping",{}]` answered by
    /// `43<id>[...]`. The cursor stays where it was: an acknowledgement is not an event. Without a protocol
    /// that has acknowledgements, an [`Error::Config`] says so.
    pub async fn emit_with_ack(&mut self, name: impl AsRef<str>, data: impl Serialize) -> Result<Vec<Value>> {
        let name = name.as_ref();
        let event = serde_json::json!({"event": name, "data": crate::message::json_value(data)?});
        let reply = self.request(event, &format!("the acknowledgement of {name:?}")).await?;
        Ok(match reply {
            Value::Array(args) => args,
            other => vec![other],
        })
    }

    /// Calls the JSON-RPC method `method` with `params` (`json!([2, 3])`, `json!({"a": 1})`, or `()` for none)
    /// and waits (at most the receive timeout) for the response with the request's id: its `result`. An error
    /// response is an [`Error::ErrorReply`] with its code and message. Needs a protocol with requests
    /// ([`JsonRpc`](crate::protocol::JsonRpc), `protocol = "jsonrpc"`). The cursor stays where it was.
    pub async fn call(&mut self, method: impl AsRef<str>, params: impl Serialize) -> Result<Value> {
        let method = method.as_ref();
        let event = serde_json::json!({"event": method, "data": crate::message::json_value(params)?});
        self.request(event, &format!("the response to {method:?}")).await
    }

    /// Sends a JSON-RPC notification (no id, no response): `emit` by another name, for the protocol's words.
    pub async fn notify(&mut self, method: impl AsRef<str>, params: impl Serialize) -> Result<()> {
        self.emit(method, params).await
    }

    /// Starts a GraphQL subscription (or query) over `graphql-transport-ws`: sends
    /// `{"type": "subscribe", "id": ID, "payload": {"query": ..., "variables": ...}}` with a fresh id and returns
    /// the id, which its `next`, `error` and `complete` frames carry (`per = "id"` groups them). `variables` may
    /// be `()` (none) or any JSON object.
    pub async fn subscribe_graphql(&mut self, query: impl AsRef<str>, variables: impl Serialize) -> Result<String> {
        self.operations += 1;
        let id = self.operations.to_string();
        let mut payload = serde_json::json!({"query": query.as_ref()});
        match crate::message::json_value(variables)? {
            Value::Null => {}
            variables => payload["variables"] = variables,
        }
        self.send_event(serde_json::json!({"type": "subscribe", "id": id, "payload": payload}))
            .await?;
        Ok(id)
    }

    /// Sends `event` as the protocol's request and waits for its reply (without consuming: a reply is not an
    /// event); `awaited` names it in errors.
    async fn request(&mut self, event: Value, awaited: &str) -> Result<Value> {
        let Some((protocol, session)) = self.protocol.clone() else {
            return Err(Error::Config(format!(
                "{awaited} needs a protocol with requests (ClientBuilder::protocol, `protocol = \"socket.io\"` or \
                 `\"jsonrpc\"`); this connection has none"
            )));
        };
        let requested = lock_session(&session).request(&event);
        let (frames, id) =
            requested.map_err(|why| Error::Config(format!("{protocol} cannot send {event} as a request: {why}")))?;
        let from = self.lock_history().len();
        self.send_encoded(frames, event, "send a request").await?;
        let awaited = format!("{awaited} ({protocol} request {id})");
        let within = self.recv_timeout;
        let (reply, _) = self
            .wait(&awaited, within, from, |seen| match seen {
                Seen::Frame(frame) if tap::is_data(frame) => {
                    let decoded = frame.json()?;
                    lock_session(&session).reply(&id, &decoded).map(Ok)
                }
                _ => None,
            })
            .await?;
        reply.map_err(|reason| Error::ErrorReply {
            request: awaited,
            reason,
        })
    }

    /// Sends the frames a protocol encoded for `event`: the first recorded with the event beside it, the rest
    /// (binary attachments) as the protocol's own.
    async fn send_encoded(&mut self, frames: Vec<Message>, event: Value, action: &str) -> Result<()> {
        let mut decoded = Some(Decoded::Json(event));
        for frame in frames {
            let meaning = decoded
                .take()
                .unwrap_or_else(|| Decoded::Control("a binary attachment of the event before".to_owned()));
            let kind = frame.clone().into_frame_kind();
            self.write_decoded(kind, Some(meaning), wire::outgoing(frame), action, Write::Send)
                .await?;
        }
        Ok(())
    }

    /// Performs the protocol's handshake after the upgrade: its first frames, then waits (at most `within`)
    /// until the protocol says it is done; a refusal is an [`Error::Handshake`] with the server's words.
    pub(crate) async fn protocol_handshake(&mut self, within: Duration) -> Result<()> {
        let Some((protocol, session)) = self.protocol.clone() else {
            return Ok(());
        };
        let started = lock_session(&session).start();
        for frame in started {
            let kind = frame.clone().into_frame_kind();
            let meaning = Decoded::Control(format!("the {protocol} handshake"));
            self.write_decoded(
                kind,
                Some(meaning),
                wire::outgoing(frame),
                "start the protocol",
                Write::Send,
            )
            .await?;
        }
        let url = self.url.clone();
        let outcome = || match lock_session(&session).handshake() {
            Handshake::Pending(_) => None,
            Handshake::Done => Some(Ok(())),
            Handshake::Refused(reason) => Some(Err(Error::Handshake {
                url: url.clone(),
                protocol: protocol.clone(),
                reason,
            })),
        };
        if let Some(done) = outcome() {
            return done;
        }
        let awaited = match lock_session(&session).handshake() {
            Handshake::Pending(what) => format!("the {protocol} handshake: {what}"),
            _ => format!("the {protocol} handshake"),
        };
        self.wait(&awaited, within, 0, |seen| match seen {
            Seen::Frame(_) => outcome(),
            Seen::UpToDate | Seen::Closed(_) => None,
        })
        .await
        .map(|_| ())
    }

    /// Sends a text frame exactly as given (it need not be JSON).
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        let text = text.into();
        self.send_frame(
            FrameKind::Text(text.clone()),
            WsMessage::text(text),
            "send a text frame",
        )
        .await
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        let bytes = bytes.into();
        self.send_frame(
            FrameKind::Binary(bytes.clone()),
            WsMessage::binary(bytes),
            "send a binary frame",
        )
        .await
    }

    /// Queues a JSON value as a text frame without waiting for it to reach the socket: for pipelining many
    /// messages, where one write carries many frames. Queued frames go out with the next [`flush`](Self::flush),
    /// send, receive or expectation (a wait flushes first, so it can never wait on a reply to a frame still
    /// queued), and whenever the queue passes tungstenite's write buffer size. The frame is in the history at
    /// once, as sent.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.expect_type("connection_established").await?;
    /// for n in 0..100 {
    ///     client.feed_json(&json!({"type": "echo", "payload": n})).await?;
    /// }
    /// client.flush().await?;
    /// for n in 0..100 {
    ///     assert_eq!(client.recv_json().await?["payload"], n);
    /// }
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn feed_json(&mut self, value: impl Serialize) -> Result<()> {
        let text = json_text(value)?;
        self.feed_text(text).await
    }

    /// Queues a text frame without waiting for it to reach the socket (see [`feed_json`](Self::feed_json)).
    pub async fn feed_text(&mut self, text: impl Into<String>) -> Result<()> {
        let text = text.into();
        self.write_frame(
            FrameKind::Text(text.clone()),
            WsMessage::text(text),
            "queue a text frame",
            Write::Feed,
        )
        .await
    }

    /// Queues a binary frame without waiting for it to reach the socket (see [`feed_json`](Self::feed_json)).
    pub async fn feed_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        let bytes = bytes.into();
        self.write_frame(
            FrameKind::Binary(bytes.clone()),
            WsMessage::binary(bytes),
            "queue a binary frame",
            Write::Feed,
        )
        .await
    }

    /// Writes every frame queued by [`feed_json`](Self::feed_json), [`feed_text`](Self::feed_text) or
    /// [`feed_binary`](Self::feed_binary) to the
    /// socket, waiting at most the send timeout for the server to take them.
    pub async fn flush(&mut self) -> Result<()> {
        if !self.unflushed {
            return Ok(());
        }
        let within = self.send_timeout;
        let Some(sink) = self.sink.clone() else {
            return Err(self.closed_error("flush queued frames"));
        };
        self.unflushed = false;
        let mut sink = sink.lock().await;
        match tokio::time::timeout(within, sink.flush()).await {
            Ok(flushed) => flushed.map_err(|error| self.send_error(error, "flush queued frames")),
            Err(_) => Err(self.send_timed_out("flush queued frames", None)),
        }
    }

    /// A wait never waits on a reply to a frame still queued.
    async fn flush_before_waiting(&mut self) -> Result<()> {
        if self.unflushed && self.closed.is_none() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends a protocol-level ping and waits for the matching pong; returns the round-trip time.
    pub async fn ping(&mut self, payload: impl Into<Vec<u8>>) -> Result<Duration> {
        let payload = payload.into();
        let started = Instant::now();
        let sent_at = self.lock_history().len();
        self.send_frame(
            FrameKind::Ping(payload.clone()),
            WsMessage::Ping(payload.clone().into()),
            "send a ping",
        )
        .await?;
        let awaited = format!("a pong frame answering a ping of {} byte(s)", payload.len());
        let within = self.recv_timeout;
        // Read from the ping on, and the cursor stays: a ping consumes no message.
        self.wait(&awaited, within, sent_at, |seen| match seen {
            Seen::Frame(Frame {
                direction: Direction::In,
                kind: FrameKind::Pong(data),
                ..
            }) if *data == payload => Some(Ok(())),
            _ => None,
        })
        .await?;
        Ok(started.elapsed())
    }

    async fn send_frame(&mut self, kind: FrameKind, frame: WsMessage, action: &str) -> Result<()> {
        self.write_frame(kind, frame, action, Write::Send).await
    }

    fn closed_error(&self, action: &str) -> Error {
        Error::AlreadyClosed {
            action: action.to_owned(),
            connection: self.url.clone(),
        }
    }

    fn send_error(&self, error: tokio_tungstenite::tungstenite::Error, action: &str) -> Error {
        match error {
            tokio_tungstenite::tungstenite::Error::AlreadyClosed
            | tokio_tungstenite::tungstenite::Error::ConnectionClosed => self.closed_error(action),
            other => other.into(),
        }
    }

    fn send_timed_out(&self, action: &str, size: Option<usize>) -> Error {
        let what = match size {
            Some(size) => format!("{action}, {size} byte(s)"),
            None => action.to_owned(),
        };
        Error::Timeout {
            awaited: format!(
                "the server to take our frame ({what}): it is not reading, and the socket's buffers are full \
                 (ClientBuilder::send_timeout sets this deadline)"
            ),
            after: self.send_timeout,
            received: Vec::new(),
        }
    }

    /// Records a frame and hands it to the socket: `Send` writes it (and anything queued before it) out,
    /// `Feed` queues it.
    async fn write_frame(&mut self, kind: FrameKind, frame: WsMessage, action: &str, how: Write) -> Result<()> {
        self.write_decoded(kind, None, frame, action, how).await
    }

    /// [`write_frame`](Self::write_frame), recording what the frame means to the connection's protocol.
    async fn write_decoded(
        &mut self,
        kind: FrameKind,
        decoded: Option<Decoded>,
        frame: WsMessage,
        action: &str,
        how: Write,
    ) -> Result<()> {
        if self.closed.is_some() {
            return Err(self.closed_error(action));
        }
        let within = self.send_timeout;
        let Some(sink) = self.sink.clone() else {
            return Err(self.closed_error(action));
        };
        let mut sink = sink.lock().await;
        let size = kind.payload_len();
        self.recording.record_decoded(Direction::Out, kind, decoded);
        let written = match how {
            Write::Send => {
                self.unflushed = false;
                tokio::time::timeout(within, sink.send(frame)).await
            }
            Write::Feed => {
                self.unflushed = true;
                tokio::time::timeout(within, sink.feed(frame)).await
            }
        };
        match written {
            Ok(sent) => sent.map_err(|error| self.send_error(error, action)),
            Err(_) => Err(self.send_timed_out(action, Some(size))),
        }
    }

    /// Receives the next text or binary message after the cursor (see [the receive model](Self#one-cursor)).
    /// Waits at most the client's receive timeout, or the deadline given with
    /// [`.within(d)`](Receive::within).
    pub fn recv(&mut self) -> Receive<'_, Message> {
        Receive::new(self, |client, within| {
            Box::pin(async move {
                client
                    .wait_consuming("a message", within, |seen| match seen {
                        Seen::Frame(frame) => tap::data_message(frame).map(Ok),
                        Seen::UpToDate | Seen::Closed(_) => None,
                    })
                    .await
            })
        })
    }

    /// [`recv`](Self::recv), as the recorded frame (with what it decoded to): a scenario reads replies so.
    #[cfg(feature = "load")]
    pub(crate) fn recv_frame(&mut self) -> Receive<'_, Frame> {
        Receive::new(self, |client, within| {
            Box::pin(async move {
                client
                    .wait_consuming("a message", within, |seen| match seen {
                        Seen::Frame(frame) if tap::is_data(frame) => Some(Ok(frame.clone())),
                        _ => None,
                    })
                    .await
            })
        })
    }

    /// Receives the next message and parses it as JSON (a binary frame: its decoded JSON with
    /// [`ClientBuilder::decode`](crate::ClientBuilder::decode); a frame that is not JSON or did not decode is an
    /// error that shows it, and the cursor stays before it).
    pub fn recv_json(&mut self) -> Receive<'_, Value> {
        Receive::new(self, |client, within| {
            Box::pin(async move {
                client
                    .wait_consuming("a message", within, |seen| match seen {
                        Seen::Frame(frame) => frame_json(frame),
                        Seen::UpToDate | Seen::Closed(_) => None,
                    })
                    .await
            })
        })
    }

    /// Receives the next message as a typed event (see [`WsEvents`](crate::events::WsEvents)): a type the enum
    /// does not declare, or fields that do not fit, are errors that show the frame.
    ///
    /// ```
    /// use ws_test_runtime::ChatEvent;
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.expect(&Expect::events(["connection_established"])).await?;
    /// client.send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r1"})).await?;
    /// match client.next_event::<ChatEvent>().await? {
    ///     ChatEvent::AgentStarted { meta, message } => {
    ///         assert_eq!(meta.run_id, "r1");
    ///         assert_eq!(message, "Processing your message: hi");
    ///     }
    ///     other => panic!("expected agent_started first, got {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn next_event<E: crate::events::WsEvents + Send + 'static>(&mut self) -> Receive<'_, E> {
        Receive::new(self, |client, within| {
            Box::pin(async move {
                client
                    .wait_consuming("a message", within, |seen| match seen {
                        Seen::Frame(frame) => frame_json(frame).map(|value| value.and_then(|value| E::decode(&value))),
                        Seen::UpToDate | Seen::Closed(_) => None,
                    })
                    .await
            })
        })
    }

    /// Waits for the next JSON message whose event key (`"type"`, or the client's
    /// [`event_key`](crate::ClientBuilder::event_key)) is `event` and returns it; other messages that arrive first
    /// are passed over: once it succeeds they are behind the cursor (still in the history, and a timeout lists
    /// them).
    pub fn expect_type(&mut self, event: &str) -> Receive<'_, Value> {
        let event = event.to_owned();
        Receive::new(self, move |client, within| {
            Box::pin(async move {
                let key = client.recording.event_key.clone();
                let awaited = match key.is_type() {
                    true => format!("a message of type {event:?}"),
                    false => format!("a message whose {key} is {event:?}"),
                };
                client
                    .wait_consuming(&awaited, within, |seen| match seen {
                        Seen::Frame(frame) => match frame_json(frame)? {
                            Ok(value) if key.str(&value) == Some(event.as_str()) => Some(Ok(value)),
                            _ => None,
                        },
                        Seen::UpToDate | Seen::Closed(_) => None,
                    })
                    .await
            })
        })
    }

    /// Succeeds when no message arrives after the cursor within `within`; a message (or a close) is an error
    /// that shows it, and the cursor stays before it.
    pub async fn expect_no_message(&mut self, within: Duration) -> Result<()> {
        let awaited = format!("no message for {within:?}");
        let outcome = self
            .wait(&awaited, within, self.cursor, |seen| match seen {
                Seen::Frame(frame) => tap::data_message(frame).map(|message| {
                    Err(Error::Unexpected {
                        expected: format!("no message for {within:?}"),
                        received: message.summary(),
                    })
                }),
                Seen::UpToDate | Seen::Closed(_) => None,
            })
            .await;
        match outcome {
            Err(Error::Timeout { .. }) => Ok(()),
            Err(error) => Err(error),
            Ok(((), _)) => Ok(()),
        }
    }

    /// Waits until the server closes the connection and checks the close code; returns the close (its reason
    /// included). Messages that arrive first are passed over (behind the cursor once it succeeds).
    pub fn expect_closed(&mut self, code: u16) -> Receive<'_, CloseInfo> {
        Receive::new(self, move |client, within| {
            Box::pin(async move {
                let awaited = format!("the server to close the connection with code {code}");
                let close = client
                    .wait_consuming(&awaited, within, |seen| match seen {
                        Seen::Closed(close) => Some(Ok(close.clone())),
                        Seen::UpToDate => None,
                        Seen::Frame(_) => None,
                    })
                    .await?;
                if close.code == code {
                    Ok(close)
                } else {
                    Err(Error::Unexpected {
                        expected: format!("a close with code {code}"),
                        received: format!("a close with {close}"),
                    })
                }
            })
        })
    }

    /// Closes the connection with `code` and `reason`, and waits for the server's close frame (returned).
    ///
    /// When the server had already closed, returns that close without sending anything.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<CloseInfo> {
        if let Some(close) = self.recording.closed() {
            self.closed = Some(close.clone());
            return Ok(close);
        }
        let close = CloseInfo::new(code, clip_reason(reason.to_owned()));
        let frame = wire::close_frame(&close);
        let kind = FrameKind::Close {
            code,
            reason: close.reason,
        };
        self.send_frame(kind, frame, "send a close frame").await?;
        let awaited = "the server's close frame answering ours";
        let (close, _) = self
            .wait(
                awaited,
                timeout::scaled(timeout::CLOSE),
                self.cursor,
                |seen| match seen {
                    Seen::Closed(close) => Some(Ok(close.clone())),
                    Seen::UpToDate => None,
                    Seen::Frame(_) => None,
                },
            )
            .await?;
        self.sink = None;
        Ok(close)
    }

    /// Waits until `expectation` is met or can no longer be met, and returns the matched events. The
    /// expectation goes in by reference (`&e`, to use it again) or by value (`Expect::events([...])`).
    ///
    /// It reads from the cursor, as every receive does (see [the receive model](Self#one-cursor)): the frames
    /// already received after it, then the frames as they arrive, until the expectation's deadline (default:
    /// the receive timeout). It returns as soon as the outcome is known: met, a wrong order in strict mode, a
    /// forbidden type, a closed connection, the deadline. Met, it moves the cursor past the frame that completed
    /// the match. A failure is an [`Error::Expectation`] whose message is the full report, and leaves the cursor
    /// where it was.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.expect(&Expect::events(["connection_established"]).strict()).await?;
    /// client.send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r1"})).await?;
    /// let matched = client
    ///     .expect(&Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
    ///     .await?;
    /// assert_eq!(matched.events()[0]["run_id"], "r1");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn expect(&mut self, expectation: impl Borrow<Expectation>) -> Result<Matched> {
        let expectation = expectation.borrow();
        self.flush_before_waiting().await?;
        let outcome = self.tap().evaluate(self.cursor, expectation, self.recv_timeout).await;
        if let Some(until) = outcome.consumed_until {
            self.cursor = until;
        }
        outcome.result
    }

    /// An expectation checked when the returned guard is dropped (wiremock's verify-on-drop): over the frames
    /// received after the cursor until the drop. An unmet expectation then panics with its report, failing the
    /// test; `guard.verify().await` checks it explicitly, waiting within the expectation's deadline. Takes the
    /// expectation by value or by reference. See [`ExpectGuard`].
    pub fn expect_eventually(&self, expectation: impl Borrow<Expectation>) -> ExpectGuard {
        ExpectGuard::new(self.tap(), expectation.borrow().clone())
    }

    /// A view of this connection's record that outlives the client, with a cursor of its own that starts at the
    /// client's (see [`Tap`]).
    pub fn tap(&self) -> Tap {
        Tap::new(Arc::clone(&self.recording), self.cursor, self.recv_timeout)
    }

    /// Moves the cursor past every frame received so far: the next receive or expectation reads only what
    /// arrives from now on (what came before stays in the history).
    pub fn watch_from_now(&mut self) {
        let received = self.lock_history().len();
        self.cursor = received;
    }

    /// The history index the next receive reads from (crate-only: the load counts a connection's frames from it).
    #[cfg(feature = "load")]
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// The history, shared: it outlives the client (the load counts the frames of a connection's close after
    /// [`finish`](Self::finish) took the client).
    #[cfg(feature = "load")]
    pub(crate) fn recording(&self) -> Arc<Recording> {
        Arc::clone(&self.recording)
    }

    /// [`wait`](Self::wait) from the cursor; on success the cursor moves past what the call used.
    async fn wait_consuming<T>(
        &mut self,
        awaited: &str,
        within: Duration,
        accept: impl FnMut(Seen<'_>) -> Option<Result<T>>,
    ) -> Result<T> {
        let (value, until) = self.wait(awaited, within, self.cursor, accept).await?;
        self.cursor = until;
        Ok(value)
    }

    /// A receive's wait, on the client's one loop ([`Recording::watch`](tap::Recording::watch)): shows `accept`
    /// every frame recorded from history index `from` on, then the close, until it decides or `within` passes.
    /// Returns what it accepted and the history index after it (after every frame recorded, for the close). Data
    /// frames it passes over are listed in the error.
    async fn wait<T>(
        &mut self,
        awaited: &str,
        within: Duration,
        from: usize,
        mut accept: impl FnMut(Seen<'_>) -> Option<Result<T>>,
    ) -> Result<(T, usize)> {
        let deadline = Instant::now() + within;
        self.flush_before_waiting().await?;
        let recording = Arc::clone(&self.recording);
        let key = &recording.event_key;
        let mut received = Vec::new();
        let mut seen_until = from;
        let watched = recording
            .watch(from, Some(deadline), |seen| match seen {
                Seen::Frame(frame) => {
                    seen_until = frame.index + 1;
                    if let Some(outcome) = accept(Seen::Frame(frame)) {
                        return Some((outcome, frame.index + 1));
                    }
                    if tap::is_data(frame) {
                        received.push(frame.summary_by(key));
                    }
                    None
                }
                Seen::UpToDate => None,
                Seen::Closed(close) => accept(Seen::Closed(close)).map(|outcome| (outcome, seen_until)),
            })
            .await;
        if let Some(close) = recording.closed() {
            self.closed = Some(close);
        }
        match watched {
            Ok((outcome, until)) => outcome.map(|value| (value, until)),
            Err(Unseen::Closed(close)) => Err(Error::Closed {
                awaited: awaited.to_owned(),
                code: close.code,
                reason: close.reason,
                received,
            }),
            Err(Unseen::Timeout | Unseen::NotWaiting) => Err(Error::Timeout {
                awaited: awaited.to_owned(),
                after: within,
                received,
            }),
            Err(Unseen::Gone) => Err(Error::Closed {
                awaited: awaited.to_owned(),
                code: crate::wire::close_code::ABNORMAL,
                reason: "the client is gone".to_owned(),
                received,
            }),
        }
    }
}

/// A receive waiting to be awaited: `.await` it with the client's receive timeout, or give it its own deadline
/// with [`within`](Self::within). Made by [`WsClient::recv`], [`recv_json`](WsClient::recv_json),
/// [`next_event`](WsClient::next_event), [`expect_type`](WsClient::expect_type) and
/// [`expect_closed`](WsClient::expect_closed).
///
/// ```
/// use std::time::Duration;
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let mut client = server.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "echo", "payload": 1})).await?;
/// let echo = client.recv_json().within(Duration::from_secs(1)).await?;
/// assert_eq!(echo["payload"], 1);
/// let nothing = client.recv().within(Duration::from_millis(20)).await;
/// assert!(matches!(nothing, Err(ws_test_runtime::Error::Timeout { .. })));
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[must_use = "a receive does nothing until it is awaited"]
pub struct Receive<'a, T> {
    state: ReceiveState<'a, T>,
}

type ReceiveFn<'a, T> = Box<dyn FnOnce(&'a mut WsClient, Duration) -> BoxFuture<'a, Result<T>> + Send + 'a>;

/// Not started (what to run, on which client, with which deadline), then running.
enum ReceiveState<'a, T> {
    Ready {
        client: &'a mut WsClient,
        within: Option<Duration>,
        run: ReceiveFn<'a, T>,
    },
    Running(BoxFuture<'a, Result<T>>),
    Taken,
}

impl<'a, T> Receive<'a, T> {
    fn new(
        client: &'a mut WsClient,
        run: impl FnOnce(&'a mut WsClient, Duration) -> BoxFuture<'a, Result<T>> + Send + 'a,
    ) -> Self {
        Receive {
            state: ReceiveState::Ready {
                client,
                within: None,
                run: Box::new(run),
            },
        }
    }

    /// Waits at most `within` instead of the client's receive timeout.
    pub fn within(mut self, within: Duration) -> Self {
        if let ReceiveState::Ready { within: deadline, .. } = &mut self.state {
            *deadline = Some(within);
        }
        self
    }
}

impl<T> std::fmt::Debug for Receive<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            ReceiveState::Ready { client, within, .. } => f
                .debug_struct("Receive")
                .field("client", client)
                .field("within", within)
                .finish_non_exhaustive(),
            ReceiveState::Running(_) | ReceiveState::Taken => f.debug_struct("Receive").finish_non_exhaustive(),
        }
    }
}

impl<T> Future for Receive<'_, T> {
    type Output = Result<T>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<T>> {
        let this = &mut *self;
        loop {
            match std::mem::replace(&mut this.state, ReceiveState::Taken) {
                ReceiveState::Ready { client, within, run } => {
                    let within = within.unwrap_or(client.recv_timeout);
                    this.state = ReceiveState::Running(run(client, within));
                }
                ReceiveState::Running(mut running) => {
                    let poll = running.as_mut().poll(cx);
                    if poll.is_pending() {
                        this.state = ReceiveState::Running(running);
                    }
                    return poll;
                }
                // Polled again after it finished: an error, as a fused future would give nothing.
                ReceiveState::Taken => {
                    return std::task::Poll::Ready(Err(Error::Config(
                        "a receive was polled again after it finished".into(),
                    )));
                }
            }
        }
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

/// A sentence for what went wrong on the way in.
fn describe_read_error(error: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::CapacityError;
    match error {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!(
            "the server sent a frame or message of {size} bytes, over the client's limit of {max_size} bytes \
             (ClientBuilder::max_message_size)"
        ),
        WsError::Utf8(_) => "the server sent a text frame that is not valid UTF-8".to_owned(),
        WsError::Protocol(problem) => format!("the server broke the WebSocket protocol: {problem}"),
        WsError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
            "the server reset the connection (TCP RST) without a close frame".to_owned()
        }
        other => format!("the connection failed: {other}"),
    }
}

/// The reader's side of a protocol: it shows the protocol every received data frame and sends its answers.
struct Speaker {
    session: SharedSession,
    sink: SharedSink,
    send_timeout: Duration,
}

impl Speaker {
    /// What the protocol makes of `message` (a panic in its code is an unreadable frame, not a dead reader).
    fn hear(&self, message: &Message) -> Step {
        let heard = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lock_session(&self.session).receive(message)
        }));
        heard.unwrap_or_else(|panic| {
            Step::invalid(format!(
                "the protocol panicked reading this frame: {}",
                crate::panics::panic_message(&*panic)
            ))
        })
    }

    /// Sends the protocol's answers, recorded as its own frames; false when the connection cannot take them.
    async fn answer(&self, recording: &Recording, replies: Vec<Message>) -> bool {
        for reply in replies {
            recording.record_decoded(
                Direction::Out,
                reply.clone().into_frame_kind(),
                Some(Decoded::Control("the protocol's own answer".to_owned())),
            );
            let mut sink = self.sink.lock().await;
            match tokio::time::timeout(self.send_timeout, sink.send(wire::outgoing(reply))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return false,
            }
        }
        true
    }
}

async fn read_loop(mut stream: SplitStream<Socket>, recording: Arc<Recording>, speaker: Option<Speaker>) {
    let closing = |close: CloseInfo| recording.close(close);
    let mut closed = false;
    while let Some(item) = stream.next().await {
        let message = match item.map(wire::incoming) {
            Ok(Some(Incoming::Data(message))) => message,
            Ok(Some(Incoming::Ping(data))) => {
                // tungstenite queues the pong and flushes it on the next read, which follows at once.
                recording.record(Direction::In, FrameKind::Ping(data.clone()));
                recording.record(Direction::Out, FrameKind::Pong(data));
                continue;
            }
            Ok(Some(Incoming::Pong(data))) => {
                recording.record(Direction::In, FrameKind::Pong(data));
                continue;
            }
            Ok(Some(Incoming::Close(close))) => {
                recording.record(
                    Direction::In,
                    FrameKind::Close {
                        code: close.code,
                        reason: close.reason.clone(),
                    },
                );
                closed = true;
                closing(close);
                // Keep reading: that flushes tungstenite's close reply and waits for the server to end TCP.
                continue;
            }
            Ok(None) => continue,
            Err(error) => {
                if !closed {
                    closing(CloseInfo::new(close_code::ABNORMAL, describe_read_error(&error)));
                    closed = true;
                }
                break;
            }
        };
        let step = speaker.as_ref().map(|speaker| speaker.hear(&message));
        let (decoded, replies) = match step {
            Some(Step { meaning, replies }) => (Some(meaning.into()), replies),
            None => (None, Vec::new()),
        };
        let recorded = recording.record_within_cap(message.into_frame_kind(), decoded);
        if let (Some(speaker), false) = (&speaker, replies.is_empty()) {
            // A heartbeat the connection cannot answer ends in the server's close or a reset, which is read next.
            speaker.answer(&recording, replies).await;
        }
        if let Err(flooded) = recorded {
            {
                // Stop reading: what the server sends from now on is not kept, and every wait says why.
                tracing::warn!(%flooded, "the server flooded the client; it stops reading");
                closing(CloseInfo::new(close_code::POLICY_VIOLATION, flooded));
                return;
            }
        }
    }
    if !closed {
        closing(CloseInfo::new(
            close_code::ABNORMAL,
            "the TCP connection ended without a close frame",
        ));
    }
}

/// A received data frame as JSON: a text frame parsed, a binary frame as it decoded; `None` for any other frame.
fn frame_json(frame: &Frame) -> Option<Result<Value>> {
    if !tap::is_data(frame) {
        return None;
    }
    Some(match (&frame.kind, &frame.decoded) {
        (_, Some(Decoded::Json(value))) => Ok(value.clone()),
        (FrameKind::Text(text), Some(Decoded::Failed(reason))) => Err(Error::NotJson {
            received: crate::history::summarize_text(text),
            reason: format!("the protocol cannot read it: {reason}"),
        }),
        (FrameKind::Binary(bytes), Some(Decoded::Failed(reason))) => Err(Error::NotJson {
            received: format!(
                "binary frame of {} byte(s) starting {}",
                bytes.len(),
                crate::history::first_bytes(bytes)
            ),
            reason: format!("the decoder refused it: {reason}"),
        }),
        (FrameKind::Text(text), _) => crate::message::parse_json(text),
        (FrameKind::Binary(bytes), _) => Err(crate::message::binary_is_not_json(bytes)),
        _ => return None,
    })
}

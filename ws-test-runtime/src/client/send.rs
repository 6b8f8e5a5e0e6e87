//! Sending: JSON, text, binary, a protocol's events and calls, pipelined feeds, pings; each frame into the history
//! as it goes out.

use super::*;

impl WsClient {
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
    /// (`protocol::JsonRpc`, `protocol = "jsonrpc"`). The cursor stays where it was.
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
    pub(super) async fn request(&mut self, event: Value, awaited: &str) -> Result<Value> {
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
    pub(super) async fn send_encoded(&mut self, frames: Vec<Message>, event: Value, action: &str) -> Result<()> {
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
    pub(super) async fn flush_before_waiting(&mut self) -> Result<()> {
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

    pub(super) async fn send_frame(&mut self, kind: FrameKind, frame: WsMessage, action: &str) -> Result<()> {
        self.write_frame(kind, frame, action, Write::Send).await
    }

    pub(super) fn closed_error(&self, action: &str) -> Error {
        Error::AlreadyClosed {
            action: action.to_owned(),
            connection: self.url.clone(),
        }
    }

    pub(super) fn send_error(&self, error: tokio_tungstenite::tungstenite::Error, action: &str) -> Error {
        match error {
            tokio_tungstenite::tungstenite::Error::AlreadyClosed
            | tokio_tungstenite::tungstenite::Error::ConnectionClosed => self.closed_error(action),
            other => other.into(),
        }
    }

    pub(super) fn send_timed_out(&self, action: &str, size: Option<usize>) -> Error {
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
    pub(super) async fn write_frame(
        &mut self,
        kind: FrameKind,
        frame: WsMessage,
        action: &str,
        how: Write,
    ) -> Result<()> {
        self.write_decoded(kind, None, frame, action, how).await
    }

    /// [`write_frame`](Self::write_frame), recording what the frame means to the connection's protocol.
    pub(super) async fn write_decoded(
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
        if self.conduct.is_silent() {
            return Err(self.silent_error(action));
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
}

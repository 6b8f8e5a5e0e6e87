//! Receiving: every wait of the client (`recv`, `recv_json`, `expect_type`, `expect_closed`, `expect`) in one loop
//! over the recording the reader fills, and [`Receive`], the future each returns.

use super::*;

impl WsClient {
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
    pub(super) async fn wait_consuming<T: Send>(
        &mut self,
        awaited: &str,
        within: Duration,
        accept: impl FnMut(Seen<'_>) -> Option<Result<T>> + Send,
    ) -> Result<T> {
        let (value, until) = self.wait(awaited, within, self.cursor, accept).await?;
        self.cursor = until;
        Ok(value)
    }

    /// A receive's wait, on the client's one loop ([`Recording::watch`](tap::Recording::watch)): shows `accept`
    /// every frame recorded from history index `from` on, then the close, until it decides or `within` passes.
    /// Returns what it accepted and the history index after it (after every frame recorded, for the close). Data
    /// frames it passes over are listed in the error.
    pub(super) async fn wait<T: Send>(
        &mut self,
        awaited: &str,
        within: Duration,
        from: usize,
        mut accept: impl FnMut(Seen<'_>) -> Option<Result<T>> + Send,
    ) -> Result<(T, usize)> {
        let mut accepted = None;
        let until = self
            .wait_erased(awaited, within, from, &mut |seen| {
                accepted = accept(seen);
                accepted.is_some()
            })
            .await?;
        match accepted {
            Some(outcome) => outcome.map(|value| (value, until)),
            None => Err(gone(awaited, Vec::new())),
        }
    }

    /// [`wait`](Self::wait)'s work, compiled once for every caller: `accept` says whether it decided (and keeps
    /// what it decided itself). Returns the history index after what it decided on.
    async fn wait_erased(
        &mut self,
        awaited: &str,
        within: Duration,
        from: usize,
        accept: &mut (dyn FnMut(Seen<'_>) -> bool + Send),
    ) -> Result<usize> {
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
                    if accept(Seen::Frame(frame)) {
                        return Some(frame.index + 1);
                    }
                    if tap::is_data(frame) {
                        received.push(frame.summary_by(key));
                    }
                    None
                }
                Seen::UpToDate => None,
                Seen::Closed(close) => accept(Seen::Closed(close)).then_some(seen_until),
            })
            .await;
        if let Some(close) = recording.closed() {
            self.closed = Some(close);
        }
        match watched {
            Ok(until) => Ok(until),
            Err(Unseen::Closed(close)) => Err(Error::Closed {
                awaited: awaited.to_owned(),
                code: close.code,
                reason: close.reason,
                received,
            }),
            Err(Unseen::Timeout | Unseen::NotWaiting) => Err(Error::Timeout {
                // A wait that follows a misbehaviour says which, and since when: what the server did not do.
                awaited: match self.conduct.misbehaviour() {
                    Some((what, since)) => format!(
                        "{awaited}, after the client {what} {:.1?} before the wait ended",
                        Instant::now().saturating_duration_since(since)
                    ),
                    None => awaited.to_owned(),
                },
                after: within,
                received,
            }),
            Err(Unseen::Gone) => Err(gone(awaited, received)),
        }
    }
}

/// The error of a wait whose client's reader is gone (the client was dropped).
fn gone(awaited: &str, received: Vec<String>) -> Error {
    Error::Closed {
        awaited: awaited.to_owned(),
        code: crate::wire::close_code::ABNORMAL,
        reason: "the client is gone".to_owned(),
        received,
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
pub(super) enum ReceiveState<'a, T> {
    Ready {
        client: &'a mut WsClient,
        within: Option<Duration>,
        run: ReceiveFn<'a, T>,
    },
    Running(BoxFuture<'a, Result<T>>),
    Taken,
}

impl<'a, T> Receive<'a, T> {
    pub(super) fn new(
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

/// A received data frame as JSON: a text frame parsed, a binary frame as it decoded; `None` for any other frame.
pub(super) fn frame_json(frame: &Frame) -> Option<Result<Value>> {
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

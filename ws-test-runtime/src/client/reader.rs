//! The reader: the task that reads the socket, records every frame, answers pings and a protocol's own frames, and
//! finishes the close handshake.

use super::*;

/// A sentence for what went wrong on the way in.
pub(super) fn describe_read_error(error: &tokio_tungstenite::tungstenite::Error) -> String {
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
pub(super) struct Speaker {
    pub(super) session: SharedSession,
    pub(super) sink: SharedSink,
    pub(super) send_timeout: Duration,
}

impl Speaker {
    /// What the protocol makes of `message` (a panic in its code is an unreadable frame, not a dead reader).
    pub(super) fn hear(&self, message: &Message) -> Step {
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
    pub(super) async fn answer(&self, recording: &Recording, replies: Vec<Message>) -> bool {
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

pub(super) async fn read_loop(mut stream: SplitStream<Socket>, recording: Arc<Recording>, speaker: Option<Speaker>) {
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
                crate::logging::log!(warn, %flooded, "the server flooded the client; it stops reading");
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

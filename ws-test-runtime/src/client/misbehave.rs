//! A client that misbehaves on purpose, toward a team's own server: it vanishes, goes silent, stops reading,
//! writes frames in small chunks, sends bytes tungstenite refuses to send, and fragments messages. Each works over
//! TCP, TLS and the in-memory transport, against any server.

use futures_util::SinkExt as _;

use super::*;

/// The masking key of [`RawFrame`]s (RFC 6455's own example key): fixed, so the bytes of a test are the same
/// on every run.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One WebSocket frame built byte by byte, for what tungstenite refuses to send: any opcode, RSV bits, no mask, a
/// length that lies, invalid UTF-8 in a text frame, a control frame over 125 bytes, a continuation without a
/// start. Send it with [`WsClient::send_raw`] (by value or by reference; several at once as
/// `[a.to_bytes(), b.to_bytes()].concat()`).
///
/// A frame is final and masked (as a client's must be) unless told otherwise.
///
/// ```
/// use ws_test_runtime::RawFrame;
///
/// // A text frame whose payload is not UTF-8: a server must close with 1007.
/// assert_eq!(RawFrame::text(&[0xce, 0xba, 0xff][..]).unmasked().to_bytes(), [0x81, 3, 0xce, 0xba, 0xff]);
/// // RSV1 without an extension that gave it a meaning: 1002.
/// assert_eq!(RawFrame::text("hi").rsv(4).unmasked().to_bytes()[0], 0xc1);
/// // A length that says 10 bytes where 2 follow.
/// assert_eq!(RawFrame::binary("ab").declared_length(10).unmasked().to_bytes()[1], 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    length: Option<u64>,
}

impl RawFrame {
    /// A final, masked frame with this opcode (its low four bits: 0x3 to 0x7 and 0xB to 0xF are reserved, which
    /// a server must refuse with 1002) and payload.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame {
            fin: true,
            rsv: 0,
            opcode: opcode & 0x0f,
            mask: Some(MASK),
            payload: payload.into(),
            length: None,
        }
    }

    /// A text frame (opcode 0x1); its payload is sent as given, valid UTF-8 or not.
    pub fn text(payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame::new(0x1, payload)
    }

    /// A binary frame (opcode 0x2).
    pub fn binary(payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame::new(0x2, payload)
    }

    /// A continuation frame (opcode 0x0): the next fragment of a message, or, without a first fragment before
    /// it, a continuation of nothing (1002).
    pub fn continuation(payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame::new(0x0, payload)
    }

    /// A ping (opcode 0x9); over 125 bytes it breaks the rule for control frames (1002).
    pub fn ping(payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame::new(0x9, payload)
    }

    /// A pong (opcode 0xA), unsolicited or not.
    pub fn pong(payload: impl Into<Vec<u8>>) -> RawFrame {
        RawFrame::new(0xA, payload)
    }

    /// A close frame (opcode 0x8) with this code and reason, whatever they are (a code a server must refuse,
    /// 1005 or 999, gets 1002; a reason that is not UTF-8 is `RawFrame::new(0x8, bytes)`).
    pub fn close(code: u16, reason: &str) -> RawFrame {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        RawFrame::new(0x8, payload)
    }

    /// Whether this is the last frame of its message (default `true`; `false` for a first or middle fragment).
    pub fn fin(mut self, fin: bool) -> RawFrame {
        self.fin = fin;
        self
    }

    /// The three RSV bits, as a number from 0 to 7 (RSV1 = 4, RSV2 = 2, RSV3 = 1); without an extension that
    /// gives them a meaning a server must close with 1002.
    pub fn rsv(mut self, bits: u8) -> RawFrame {
        self.rsv = bits & 0x7;
        self
    }

    /// Sent without a mask, as only a server may send (1002 from a server that checks).
    pub fn unmasked(mut self) -> RawFrame {
        self.mask = None;
        self
    }

    /// Masked with this key instead of the default one.
    pub fn mask(mut self, key: [u8; 4]) -> RawFrame {
        self.mask = Some(key);
        self
    }

    /// The length the header declares, whatever the payload's is: more than follows (the server waits for bytes
    /// that never come), or less (the rest reads as the next frame's header).
    pub fn declared_length(mut self, length: u64) -> RawFrame {
        self.length = Some(length);
        self
    }

    /// The frame's bytes, as they go on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 14);
        out.push(u8::from(self.fin) << 7 | self.rsv << 4 | self.opcode);
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let length = self.length.unwrap_or(self.payload.len() as u64);
        match length {
            0..=125 => out.push(mask_bit | length as u8),
            126..=0xffff => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&length.to_be_bytes());
            }
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(self.payload.iter().enumerate().map(|(at, byte)| byte ^ key[at % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }
}

impl From<RawFrame> for Vec<u8> {
    fn from(frame: RawFrame) -> Vec<u8> {
        frame.to_bytes()
    }
}

impl From<&RawFrame> for Vec<u8> {
    fn from(frame: &RawFrame) -> Vec<u8> {
        frame.to_bytes()
    }
}

impl WsClient {
    /// Ends the connection at once, with no close frame: over TCP a reset (RST), as when a phone loses its
    /// signal, a laptop sleeps or a process is killed; over the in-memory transport the pipe just ends. The server
    /// sees an abrupt disconnect (close code 1006 on its side) and must clean up by itself. The other clients of
    /// the test keep working.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut phone = server.connect().await?;
    /// let mut laptop = server.connect().await?;
    /// phone.expect_type("connection_established").await?;
    /// phone.vanish();
    /// laptop.expect_type("connection_established").await?;
    /// laptop.send_json(json!({"type": "echo", "payload": "still here"})).await?;
    /// laptop.expect_type("echo").await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn vanish(mut self) {
        self.conduct.vanish();
        // No goodbye: the stream ends with the reader (and with it the socket, reset) as soon as the task stops.
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
        self.sink.take();
    }

    /// Goes silent, half-open: from now on the client sends nothing (no pong, no close, no FIN, and a send is an
    /// error that says so) but keeps its socket open and still records what arrives. What a phone that lost its
    /// signal looks like to a server until its heartbeat gives up on it (or never, without one). The test then
    /// asserts the server closes the connection (`client.expect_closed(4000).within(..)`), or that it does not.
    pub fn go_silent(&mut self) {
        self.conduct.go_silent();
    }

    /// Stops reading the socket, as a browser tab in the background or a consumer slower than the server: what
    /// arrives stays in the kernel's buffers, which fill, and then the server's writes to this client block. The
    /// test asserts what the server does about it (drop the client, drop messages, keep the others going) and
    /// what the other clients see. [`resume_reading`](Self::resume_reading) reads again; a receive that waits in
    /// between sees nothing new.
    pub fn stop_reading(&mut self) {
        self.conduct.stop_reading();
    }

    /// Reads the socket again after [`stop_reading`](Self::stop_reading): what the kernel kept arrives in order.
    pub fn resume_reading(&mut self) {
        self.conduct.resume_reading();
    }

    /// Writes every frame from now on in chunks of `bytes` bytes, each its own write, the next one after the
    /// server had a turn to read: what a proxy that splits frames at odd boundaries, or a slow link, delivers. A
    /// server that assumes one read per frame breaks here. `0` writes whole frames again.
    pub fn write_in_chunks(&mut self, bytes: usize) {
        self.conduct.write_in_chunks(bytes);
    }

    /// Writes these bytes to the connection as they are, after anything sent before them: frames tungstenite
    /// would refuse to send ([`RawFrame`]), or bytes that are no frame at all. They are not in the
    /// [`history`](Self::history) (it records frames), and the server's answer is asserted as usual
    /// (`expect_closed(1002)`, `1007`, `1009`).
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::RawFrame;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.expect_type("connection_established").await?;
    /// client.send_raw(RawFrame::text(&[0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xff][..])).await?; // not UTF-8
    /// client.expect_closed(1007).await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn send_raw(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        let bytes = bytes.into();
        self.write_raw(&bytes, "send raw bytes").await
    }

    /// Sends a text or binary message as `pieces` fragments (a first frame, then continuation frames, as equal
    /// as the payload allows, at least one byte each), as browsers and proxies may: a server that handles only
    /// whole frames breaks here. The history records the message once, whole, as the server should see it.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.expect_type("connection_established").await?;
    /// client.send_fragmented(json!({"type": "echo", "payload": "in pieces"}).to_string(), 4).await?;
    /// assert_eq!(client.expect_type("echo").await?["payload"], "in pieces");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn send_fragmented(&mut self, message: impl Into<Message>, pieces: usize) -> Result<()> {
        let (opcode, payload, kind) = match message.into() {
            Message::Text(text) => (0x1, text.clone().into_bytes(), FrameKind::Text(text)),
            Message::Binary(bytes) => (0x2, bytes.clone(), FrameKind::Binary(bytes)),
        };
        let pieces = pieces.clamp(1, payload.len().max(1));
        let size = payload.len().div_ceil(pieces).max(1);
        let mut bytes = Vec::with_capacity(payload.len() + 14 * pieces);
        let parts: Vec<&[u8]> = if payload.is_empty() {
            vec![&payload[..]]
        } else {
            payload.chunks(size).collect()
        };
        let last = parts.len() - 1;
        for (at, part) in parts.into_iter().enumerate() {
            let frame = RawFrame::new(if at == 0 { opcode } else { 0x0 }, part).fin(at == last);
            bytes.extend_from_slice(&frame.to_bytes());
        }
        self.write_raw(&bytes, "send a fragmented message").await?;
        self.recording.record_decoded(Direction::Out, kind, None);
        Ok(())
    }

    /// Writes `bytes` under the send timeout, through the socket's own writer (after what it holds).
    async fn write_raw(&mut self, bytes: &[u8], action: &str) -> Result<()> {
        if self.closed.is_some() {
            return Err(self.closed_error(action));
        }
        if self.conduct.is_silent() {
            return Err(self.silent_error(action));
        }
        let Some(sink) = self.sink.clone() else {
            return Err(self.closed_error(action));
        };
        let mut sink = sink.lock().await;
        self.conduct.push_raw(bytes);
        match tokio::time::timeout(self.send_timeout, sink.flush()).await {
            Ok(flushed) => flushed.map_err(|error| self.send_error(error, action)),
            Err(_) => Err(self.send_timed_out(action, Some(bytes.len()))),
        }
    }

    /// The latest misbehaviour still in force, in words, and when it began on the connection's clock (the
    /// history's: [`Frame::at`](crate::Frame::at)), so a test can say how long the server took to act on it:
    /// `close_frame.at - began`. `None` when the client behaves.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// assert!(client.misbehaviour().is_none());
    /// client.go_silent();
    /// let (what, _began) = client.misbehaviour().expect("silent since now");
    /// assert!(what.starts_with("went silent"));
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn misbehaviour(&self) -> Option<(&'static str, std::time::Duration)> {
        let (what, since) = self.conduct.misbehaviour()?;
        let started = self.lock_history().started();
        Some((what, since.saturating_duration_since(started)))
    }

    /// What a send says once the client went silent.
    pub(super) fn silent_error(&self, action: &str) -> Error {
        Error::Config(format!(
            "cannot {action}: the client to {} went silent (go_silent), so it sends nothing more",
            self.url
        ))
    }
}

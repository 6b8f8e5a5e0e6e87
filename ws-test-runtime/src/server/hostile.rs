//! [`TransportFault`]: a server that misbehaves below the event stream — at the handshake, the TCP stream or the
//! WebSocket framing — to test how a client copes. The chat agent's [`Fault`](crate::Fault)s break the events;
//! these break the transport.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

use crate::error::{Error, Result};
use crate::timeout;
use crate::transport::Stream;

/// A preset of hostile server behaviour at the transport level, for testing clients
/// ([`ServerBuilder::transport_fault`](crate::ServerBuilder::transport_fault), `ws-test serve --fault NAME`).
///
/// Text forms (for [`str::parse`] and the CLI) are the kebab-case names below. Each preset is a well-defined
/// misbehaviour that a robust client must report clearly and within its deadlines:
///
/// ```
/// use ws_test_runtime::TransportFault;
///
/// let fault: TransportFault = "half-open".parse()?;
/// assert_eq!(fault, TransportFault::HalfOpen);
/// assert_eq!(fault.to_string(), "half-open");
/// assert_eq!(TransportFault::ALL.len(), 9);
/// # Ok::<(), ws_test_runtime::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFault {
    /// `no-handshake`: accepts the TCP connection, reads the upgrade request and never answers it.
    NoHandshake,
    /// `reset`: upgrades, sends the first bytes of a text frame, then resets the connection (TCP RST; over the
    /// in-memory transport, the stream just ends).
    Reset,
    /// `half-open`: upgrades, then neither reads nor writes nor closes — a peer that vanished without a word.
    HalfOpen,
    /// `slow-read`: serves the built-in chat agent, but reads the client's bytes at 16 KiB per second.
    SlowRead,
    /// `fragment-with-pings`: sends `{"type":"fragmented","parts":3}` in three fragments with a ping between
    /// each two (legal, RFC 6455 section 5.4), then serves the chat agent.
    FragmentWithPings,
    /// `invalid-utf8`: upgrades and sends a text frame that is not UTF-8.
    InvalidUtf8,
    /// `oversize-frame`: upgrades and sends the header of a frame announcing 2^62 bytes.
    OversizeFrame,
    /// `long-close-reason`: upgrades and sends a close frame whose reason is 200 bytes (a control frame may
    /// carry at most 125).
    LongCloseReason,
    /// `unsolicited-pong`: sends a pong nobody asked for (legal: RFC 6455 section 5.5.3), then serves the chat
    /// agent.
    UnsolicitedPong,
}

impl TransportFault {
    /// Every preset, in the order documented.
    pub const ALL: [TransportFault; 9] = [
        TransportFault::NoHandshake,
        TransportFault::Reset,
        TransportFault::HalfOpen,
        TransportFault::SlowRead,
        TransportFault::FragmentWithPings,
        TransportFault::InvalidUtf8,
        TransportFault::OversizeFrame,
        TransportFault::LongCloseReason,
        TransportFault::UnsolicitedPong,
    ];

    /// The text form.
    pub fn name(self) -> &'static str {
        match self {
            TransportFault::NoHandshake => "no-handshake",
            TransportFault::Reset => "reset",
            TransportFault::HalfOpen => "half-open",
            TransportFault::SlowRead => "slow-read",
            TransportFault::FragmentWithPings => "fragment-with-pings",
            TransportFault::InvalidUtf8 => "invalid-utf8",
            TransportFault::OversizeFrame => "oversize-frame",
            TransportFault::LongCloseReason => "long-close-reason",
            TransportFault::UnsolicitedPong => "unsolicited-pong",
        }
    }

    /// Whether the chat agent's session runs after the fault's own frames (the fault is a prelude).
    pub(crate) fn then_serves(self) -> bool {
        matches!(
            self,
            TransportFault::SlowRead | TransportFault::FragmentWithPings | TransportFault::UnsolicitedPong
        )
    }
}

impl fmt::Display for TransportFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TransportFault {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        TransportFault::ALL
            .into_iter()
            .find(|fault| fault.name() == spec.trim())
            .ok_or_else(|| Error::InvalidFault {
                spec: spec.to_owned(),
                reason: format!(
                    "not a transport fault; expected one of {}",
                    TransportFault::ALL.map(TransportFault::name).join(", ")
                ),
            })
    }
}

/// The bytes of one unmasked server frame.
fn frame(opcode: OpCode, is_final: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    // Writing to a Vec cannot fail.
    let _ = Frame::from_payload(header(opcode, is_final), payload.to_vec().into()).format(&mut out);
    out
}

fn header(opcode: OpCode, is_final: bool) -> FrameHeader {
    FrameHeader {
        is_final,
        opcode,
        ..FrameHeader::default()
    }
}

/// What a fault writes right after the `101`, before anything else.
pub(crate) fn prelude(fault: TransportFault) -> Vec<u8> {
    let text = OpCode::Data(Data::Text);
    let control = |code| OpCode::Control(code);
    match fault {
        TransportFault::FragmentWithPings => {
            let mut out = frame(text, false, br#"{"type":"fragm"#);
            out.extend(frame(control(Control::Ping), true, b"between 1 and 2"));
            out.extend(frame(OpCode::Data(Data::Continue), false, br#"ented","par"#));
            out.extend(frame(control(Control::Ping), true, b"between 2 and 3"));
            out.extend(frame(OpCode::Data(Data::Continue), true, br#"ts":3}"#));
            out
        }
        TransportFault::UnsolicitedPong => frame(control(Control::Pong), true, b"nobody asked"),
        TransportFault::InvalidUtf8 => frame(text, true, b"{\"type\":\"\xff\xfe\"}"),
        TransportFault::OversizeFrame => {
            let mut out = Vec::new();
            let _ = header(text, true).format(1 << 62, &mut out);
            out
        }
        TransportFault::LongCloseReason => {
            let mut payload = 1000u16.to_be_bytes().to_vec();
            payload.extend(std::iter::repeat_n(b'x', 200));
            frame(control(Control::Close), true, &payload)
        }
        TransportFault::Reset => {
            // The header of a 100-byte text frame and 10 bytes of it: the rest never comes.
            let mut out = Vec::new();
            let _ = header(text, true).format(100, &mut out);
            out.extend_from_slice(br#"{"type":"c"#);
            out
        }
        TransportFault::NoHandshake | TransportFault::HalfOpen | TransportFault::SlowRead => Vec::new(),
    }
}

/// Plays a fault that does not go on to a session, on the upgraded stream, until it is done or the server
/// shuts down (the caller races this against the shutdown signal).
pub(crate) async fn play<S>(fault: TransportFault, mut io: S) -> Option<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = io.write_all(&prelude(fault)).await;
    let _ = io.flush().await;
    match fault {
        // Hand the stream back: the caller resets it.
        TransportFault::Reset => Some(io),
        // Never a byte more: hold the connection until the server shuts down.
        TransportFault::HalfOpen => std::future::pending().await,
        // The client is expected to close: read (and discard) until it does, for at most a few seconds.
        _ => {
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(timeout::scaled(timeout::CLOSE), async {
                while let Ok(read) = io.read(&mut sink).await {
                    if read == 0 {
                        break;
                    }
                }
            })
            .await;
            None
        }
    }
}

/// Ends a stream with a TCP reset (an in-memory stream just ends).
pub(crate) fn reset(stream: Stream) {
    if let Stream::Tcp(tcp) = &stream {
        let _ = tcp.set_zero_linger();
    }
    drop(stream);
}

/// Reads the client's request and never answers, until the client goes away (or the server shuts down).
pub(crate) async fn never_answer(mut stream: Stream) {
    let mut sink = [0u8; 4096];
    while let Ok(read) = stream.read(&mut sink).await {
        if read == 0 {
            break;
        }
    }
}

/// The read rate of [`TransportFault::SlowRead`].
const SLOW_READ_BYTES: usize = 1024;
const SLOW_READ_EVERY: Duration = Duration::from_millis(64);

/// An upgraded stream whose reads are throttled to [`SLOW_READ_BYTES`] per [`SLOW_READ_EVERY`].
pub(crate) struct SlowReader<S> {
    inner: S,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> SlowReader<S> {
    pub(crate) fn new(inner: S) -> Self {
        SlowReader { inner, pause: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SlowReader<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(pause) = &mut this.pause {
            std::task::ready!(pause.as_mut().poll(cx));
            this.pause = None;
        }
        let mut chunk = [0u8; SLOW_READ_BYTES];
        let room = buf.remaining().min(SLOW_READ_BYTES);
        let mut limited = ReadBuf::new(&mut chunk[..room]);
        std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
        buf.put_slice(limited.filled());
        if !limited.filled().is_empty() {
            this.pause = Some(Box::pin(tokio::time::sleep(SLOW_READ_EVERY)));
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SlowReader<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_from_its_name() {
        for fault in TransportFault::ALL {
            assert_eq!(fault.name().parse::<TransportFault>().unwrap(), fault);
        }
        let error = "half-closed".parse::<TransportFault>().unwrap_err().to_string();
        assert!(error.contains("no-handshake, reset, half-open"), "{error}");
    }

    #[test]
    fn the_oversize_header_announces_two_to_the_62() {
        let bytes = prelude(TransportFault::OversizeFrame);
        assert_eq!(bytes[0], 0x81, "FIN and text");
        assert_eq!(bytes[1], 127, "a 64-bit length follows, unmasked");
        assert_eq!(u64::from_be_bytes(bytes[2..10].try_into().unwrap()), 1 << 62);
    }

    #[test]
    fn the_long_close_reason_is_over_the_control_frame_limit() {
        let bytes = prelude(TransportFault::LongCloseReason);
        assert_eq!(bytes[0], 0x88, "FIN and close");
        assert_eq!(bytes[1], 126, "a 16-bit length follows");
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), 202);
    }
}

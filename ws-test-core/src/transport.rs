//! [`Transport`]: how a client reaches an embedded server — a TCP socket on loopback, or an in-process byte pipe.
//!
//! Over [`Transport::Memory`] a server binds no port: it registers a name (`memory-N.invalid`, a host that
//! DNS never resolves) in this process, and a client whose URL names that host is joined to it through
//! [`tokio::io::duplex`]. Everything above the bytes is the same as over TCP: hyper serves the server's end,
//! tungstenite's client runs on the other, and the HTTP upgrade and the WebSocket handshake are the real ones.
//! Nothing waits on the operating system, so a test on a paused tokio clock advances time deterministically.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How clients reach an embedded server (`ServerBuilder::transport`).
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::Transport;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::builder().transport(Transport::Memory).start().await?;
/// assert!(server.url().starts_with("ws://memory-")); // no port is bound
/// let mut client = server.connect().await?; // or WsClient::connect(server.url())
/// client.expect_type("connection_established").await?;
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// A TCP listener on the bind address (default `127.0.0.1`, a port the OS picks).
    #[default]
    Tcp,
    /// An in-process pipe per connection: no port, no socket, nothing that waits on the OS.
    Memory,
}

/// The suffix of every in-memory server's host: `.invalid` is reserved (RFC 2606), so such a URL can never
/// reach a real machine by accident.
const MEMORY_SUFFIX: &str = ".invalid";
const MEMORY_PREFIX: &str = "memory-";

/// How many bytes each direction of an in-memory connection buffers before the writer waits.
const PIPE_CAPACITY: usize = 64 * 1024;

/// The in-memory servers of this process, by host.
static MEMORY_SERVERS: LazyLock<Mutex<HashMap<String, mpsc::UnboundedSender<DuplexStream>>>> =
    LazyLock::new(Mutex::default);
static NEXT_MEMORY_SERVER: AtomicU64 = AtomicU64::new(1);

fn servers() -> std::sync::MutexGuard<'static, HashMap<String, mpsc::UnboundedSender<DuplexStream>>> {
    MEMORY_SERVERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `host` names an in-memory server (running or not).
pub fn is_memory_host(host: &str) -> bool {
    host.starts_with(MEMORY_PREFIX) && host.ends_with(MEMORY_SUFFIX)
}

/// The accepting end of an in-memory server; dropping it unregisters the host.
#[derive(Debug)]
pub struct MemoryListener {
    host: String,
    incoming: mpsc::UnboundedReceiver<DuplexStream>,
}

impl MemoryListener {
    /// Registers a new host, unique in this process.
    pub fn bind() -> Self {
        let host = format!(
            "{MEMORY_PREFIX}{}{MEMORY_SUFFIX}",
            NEXT_MEMORY_SERVER.fetch_add(1, Ordering::Relaxed)
        );
        let (sender, incoming) = mpsc::unbounded_channel();
        servers().insert(host.clone(), sender);
        MemoryListener { host, incoming }
    }

    /// The host clients name to reach this server.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The next connection's server end.
    pub async fn accept(&mut self) -> Option<DuplexStream> {
        self.incoming.recv().await
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        servers().remove(&self.host);
    }
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// Worth another attempt: the server may not be up yet.
    Retry(String),
    /// No in-memory server has this name: none will, since names are never reused.
    NoSuchServer(String),
}

/// Opens a byte stream to `host:port`: a TCP connection, or an in-memory pipe when `host` names an in-memory
/// server.
pub async fn connect(host: &str, port: u16) -> Result<Stream, ConnectError> {
    if is_memory_host(host) {
        let sender = servers().get(host).cloned();
        let Some(sender) = sender else {
            return Err(ConnectError::NoSuchServer(format!(
                "no in-memory server named {host} is running in this process (it was shut down or dropped, \
                 or the URL comes from another process)"
            )));
        };
        let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
        return match sender.send(server) {
            Ok(()) => Ok(Stream::Memory(client)),
            Err(_) => Err(ConnectError::NoSuchServer(format!(
                "the in-memory server {host} is shutting down"
            ))),
        };
    }
    match TcpStream::connect((host, port)).await {
        Ok(stream) => {
            let _ = stream.set_nodelay(true);
            Ok(Stream::Tcp(stream))
        }
        Err(error) => Err(ConnectError::Retry(format!(
            "TCP connect to {host}:{port} failed: {error}"
        ))),
    }
}

/// One connection's bytes, over either transport.
#[derive(Debug)]
pub enum Stream {
    /// A TCP socket.
    Tcp(TcpStream),
    /// One end of an in-process pipe.
    Memory(DuplexStream),
    /// A client's end of a [`Link`](crate::Link): the link's tasks pump the network stream behind it.
    Link(LinkEnd),
    /// TLS over either of the others (`wss://`, or an embedded server with a certificate).
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::TlsStream<Stream>>),
}

/// A client's end of a link, and the flag that tells the link to reset the network side when it ends.
#[derive(Debug)]
pub struct LinkEnd {
    stream: DuplexStream,
    reset: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LinkEnd {
    pub(crate) fn new(stream: DuplexStream, reset: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        LinkEnd { stream, reset }
    }
}

impl Stream {
    /// Makes the end of this connection a reset instead of a close, as far as the transport can: over TCP no FIN
    /// but an RST (zero linger), over a link the link resets the network side; a pipe just ends.
    pub fn mark_reset(&self) {
        match self {
            Stream::Tcp(stream) => {
                let _ = stream.set_zero_linger();
            }
            Stream::Memory(_) => {}
            Stream::Link(end) => end.reset.store(true, Ordering::SeqCst),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => stream.get_ref().0.mark_reset(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Memory(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Link(end) => Pin::new(&mut end.stream).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Memory(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Link(end) => Pin::new(&mut end.stream).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Stream::Memory(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Stream::Link(end) => Pin::new(&mut end.stream).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(stream) => stream.is_write_vectored(),
            Stream::Memory(stream) => stream.is_write_vectored(),
            Stream::Link(end) => end.stream.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Memory(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Link(end) => Pin::new(&mut end.stream).poll_flush(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Memory(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Link(end) => Pin::new(&mut end.stream).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_hosts_are_recognised_and_never_real() {
        let listener = MemoryListener::bind();
        assert!(is_memory_host(listener.host()));
        assert!(listener.host().ends_with(".invalid"));
        assert!(!is_memory_host("127.0.0.1"));
        assert!(!is_memory_host("memory-lane.example.com"));
    }

    #[tokio::test]
    async fn a_dropped_memory_server_cannot_be_reached() {
        let listener = MemoryListener::bind();
        let host = listener.host().to_owned();
        drop(listener);
        match connect(&host, 0).await {
            Err(ConnectError::NoSuchServer(why)) => assert!(why.contains(&host), "{why}"),
            other => panic!("expected NoSuchServer, got {other:?}"),
        }
    }
}

//! How a client behaves on its own byte stream: the switches a test flips to make it misbehave on purpose (go
//! silent, stop reading, write in small chunks, put raw bytes on the wire, vanish), between tungstenite and the
//! socket, so they work the same over TCP, TLS and the in-memory transport, and whatever the server is.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::Stream;

/// The switches, shared by the client (which flips them) and its stream (which obeys them).
#[derive(Debug, Default)]
pub(crate) struct Conduct {
    /// Every byte written from now on is dropped: no frame, no pong, no close reaches the server.
    silent: AtomicBool,
    /// Reads wait until resumed: the socket's buffers fill and the server's writes block.
    paused: AtomicBool,
    /// The reader's waker while paused.
    read_waker: Mutex<Option<Waker>>,
    /// At most this many bytes per write, the next write waiting one turn of the scheduler (0: whole writes).
    chunk: AtomicUsize,
    /// Bytes to write as they are, before the next flush completes.
    raw: Mutex<Vec<u8>>,
    /// The connection is to end with a reset (TCP) rather than a close: set just before the stream is dropped.
    vanish: AtomicBool,
    /// The latest misbehaviour, in words, and when it began: what a wait's timeout names.
    misbehaviour: Mutex<Option<(&'static str, tokio::time::Instant)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Conduct {
    pub(crate) fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
        self.began("went silent (go_silent: no pong, no close)");
    }

    fn began(&self, what: &'static str) {
        *lock(&self.misbehaviour) = Some((what, tokio::time::Instant::now()));
    }

    pub(crate) fn misbehaviour(&self) -> Option<(&'static str, tokio::time::Instant)> {
        *lock(&self.misbehaviour)
    }

    pub(crate) fn is_silent(&self) -> bool {
        self.silent.load(Ordering::SeqCst)
    }

    pub(crate) fn stop_reading(&self) {
        self.paused.store(true, Ordering::SeqCst);
        self.began("stopped reading (stop_reading)");
    }

    pub(crate) fn resume_reading(&self) {
        self.paused.store(false, Ordering::SeqCst);
        let mut misbehaviour = lock(&self.misbehaviour);
        if misbehaviour.is_some_and(|(what, _)| what.starts_with("stopped reading")) {
            *misbehaviour = None;
        }
        drop(misbehaviour);
        if let Some(waker) = lock(&self.read_waker).take() {
            waker.wake();
        }
    }

    pub(crate) fn is_reading(&self) -> bool {
        !self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn write_in_chunks(&self, bytes: usize) {
        self.chunk.store(bytes, Ordering::SeqCst);
        if bytes > 0 {
            self.began("began writing in chunks (write_in_chunks)");
        }
    }

    pub(crate) fn push_raw(&self, bytes: &[u8]) {
        lock(&self.raw).extend_from_slice(bytes);
    }

    pub(crate) fn vanish(&self) {
        self.vanish.store(true, Ordering::SeqCst);
    }
}

/// The client's byte stream under tungstenite, obeying its [`Conduct`].
pub(crate) struct ConductStream {
    inner: Stream,
    conduct: Arc<Conduct>,
    /// A chunk was just written: the next write waits for this yield first (tokio's, which lets the I/O driver
    /// run), so a peer on the same runtime reads the chunk alone.
    yielding: Option<Pin<Box<dyn Future<Output = ()> + Send + Sync>>>,
    /// How much of the raw bytes is written.
    raw_written: usize,
}

impl std::fmt::Debug for ConductStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConductStream")
            .field("inner", &self.inner)
            .field("conduct", &self.conduct)
            .finish_non_exhaustive()
    }
}

impl ConductStream {
    pub(crate) fn new(inner: Stream) -> Self {
        ConductStream {
            inner,
            conduct: Arc::default(),
            yielding: None,
            raw_written: 0,
        }
    }

    pub(crate) fn conduct(&self) -> &Arc<Conduct> {
        &self.conduct
    }

    /// Writes the pending raw bytes (in chunks, when chunked) until none is left.
    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let pending = {
                let raw = lock(&self.conduct.raw);
                if self.raw_written >= raw.len() {
                    drop(raw);
                    lock(&self.conduct.raw).clear();
                    self.raw_written = 0;
                    return Poll::Ready(Ok(()));
                }
                raw[self.raw_written..].to_vec()
            };
            let written = match self.poll_write_obeying(cx, &pending) {
                Poll::Ready(Ok(written)) => written,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            };
            self.raw_written += written;
        }
    }

    /// One write as the conduct says: dropped when silent, cut to the chunk size (after one turn of the scheduler
    /// since the last chunk) when chunked, else as asked.
    fn poll_write_obeying(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.conduct.is_silent() {
            return Poll::Ready(Ok(buf.len()));
        }
        let chunk = self.conduct.chunk.load(Ordering::SeqCst);
        if chunk == 0 {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        }
        if let Some(yielding) = &mut self.yielding {
            if yielding.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.yielding = None;
        }
        let end = buf.len().min(chunk);
        match Pin::new(&mut self.inner).poll_write(cx, &buf[..end]) {
            Poll::Ready(Ok(written)) => {
                // Out now, not with the next chunk: each chunk its own segment and, given the turn, its own read.
                let _ = Pin::new(&mut self.inner).poll_flush(cx);
                self.yielding = Some(Box::pin(tokio::task::yield_now()));
                Poll::Ready(Ok(written))
            }
            other => other,
        }
    }
}

impl AsyncRead for ConductStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.conduct.is_reading() {
            *lock(&this.conduct.read_waker) = Some(cx.waker().clone());
            // Resumed between the check and the registration: read now rather than wait for a wake that came.
            if !this.conduct.is_reading() {
                return Poll::Pending;
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConductStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_obeying(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_raw(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        if this.conduct.is_silent() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.conduct.is_silent() {
            // A silent client never ends its half of the connection either: the server must notice by itself.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl Drop for ConductStream {
    fn drop(&mut self) {
        if self.conduct.vanish.load(Ordering::SeqCst) {
            // A reset, as when a phone loses its signal or a process is killed: no close frame, no FIN.
            self.inner.mark_reset();
        }
    }
}

//! A hosted app: the user's own tower service (an `axum::Router`, a `tower::ServiceBuilder` stack, a hand-written
//! hyper service) served by the embedded server with HTTP/1.1 upgrades enabled.
//!
//! Upgrades are the app's business: its routes, state, middleware, auth and `WebSocketUpgrade` handler run
//! unchanged. ws-test serves the connection and watches it from the transport side: each connection's bytes go
//! through [`Watched`], which counts the WebSocket frames both ways once the app answered `101`, closes the
//! stream at shutdown, and notices when the app's WebSocket task panicked (it drops the stream while unwinding).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Shared;
use super::http::{AppBody, AppFuture, HttpIo, HttpService};
use super::registry::ConnectionInfo;
use super::upgrade::{has_token, next_connection_id};
use crate::handler::BoxError;
use crate::panics;
use crate::transport::Stream;

/// What a hosted app's answer is awaited as: its own future, type-erased.
type AppCall = Pin<Box<dyn Future<Output = Result<Response<AppBody>, BoxError>> + Send>>;

/// A hosted app with its type erased, and the conversion into it: sealed, so users see only [`HostedApp`].
pub(crate) mod sealed {
    use super::*;

    /// One call per HTTP request.
    #[allow(unreachable_pub, reason = "sealed: reachable only through HostedApp's bound")]
    pub trait App: Send + Sync {
        /// Answers one request.
        fn call(&self, request: Request<Incoming>) -> AppCall;
    }

    /// Erases a service's type.
    #[allow(unreachable_pub, reason = "sealed: reachable only through HostedApp's bound")]
    pub trait IntoApp {
        /// The service as an [`App`].
        fn into_app(self) -> Arc<dyn App>;
    }
}

use sealed::App;

/// What [`ServerBuilder::app`](crate::ServerBuilder::app) accepts: a tower service over
/// `http::Request<hyper::body::Incoming>` whose responses have a body of [`Bytes`] — an `axum::Router` (with its
/// state applied), a `tower::ServiceBuilder` stack, any `tower::Service` you wrote. It is implemented for every
/// such service; there is nothing to implement by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a service ws-test can host",
    label = "not a tower service over `http::Request<hyper::body::Incoming>`",
    note = "a hosted app is a `tower::Service<http::Request<hyper::body::Incoming>>` (an `axum::Router` with its \
            state applied qualifies) that is `Clone + Send + 'static` and answers `http::Response<B>` with \
            `B: http_body::Body<Data = bytes::Bytes> + Send + 'static`"
)]
pub trait HostedApp: sealed::IntoApp + Send + 'static {}

/// A tower service behind a lock, so it need not be `Sync`: each request calls a clone, as hyper-util's adapter
/// does.
struct Tower<S>(Mutex<S>);

impl<S, B> App for Tower<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, request: Request<Incoming>) -> AppCall {
        let mut service = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let response = service.call(request).await.map_err(Into::into)?;
            Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
        })
    }
}

impl<S> sealed::IntoApp for S
where
    S: Send + 'static,
    Tower<S>: App,
{
    fn into_app(self) -> Arc<dyn App> {
        Arc::new(Tower(Mutex::new(self)))
    }
}

impl<S: sealed::IntoApp + Send + 'static> HostedApp for S {}

/// Serves one accepted connection with the app until the HTTP connection ends, is upgraded (the app's task
/// holds it from then on), or the server shuts down.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    app: Arc<dyn App>,
    stream: Stream,
    pending: tokio::sync::OwnedSemaphorePermit,
) {
    let (io, watch) = Watched::new(stream, Arc::clone(&shared));
    let service = AppService {
        shared: Arc::clone(&shared),
        app,
        watch,
    };
    // Once upgraded, the stream is the app's task's.
    let service = HttpService::App(Box::new(move |request| service.call(request)));
    super::http::serve_http(&shared, HttpIo::Watched(Box::new(io)), service, pending).await;
}

/// The hyper service of one hosted connection: the app, and the bookkeeping of its answers to upgrades.
struct AppService {
    shared: Arc<Shared>,
    app: Arc<dyn App>,
    watch: Arc<Watch>,
}

impl AppService {
    /// Answers one request through the app, counting an upgrade it answers or refuses.
    fn call(&self, request: Request<Incoming>) -> AppFuture {
        let upgrade = wants_websocket(&request).then(|| ConnectionInfo {
            connection_id: next_connection_id(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
        });
        let path = request.uri().path().to_owned();
        let call = self.app.call(request);
        let (shared, watch) = (Arc::clone(&self.shared), Arc::clone(&self.watch));
        Box::pin(async move {
            let response = call.await?;
            if let Some(info) = upgrade {
                if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                    crate::logging::log!(info, connection_id = %info.connection_id, %path, "the app upgraded a connection");
                    watch.upgraded(&shared, info);
                } else {
                    shared.metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
                    crate::logging::log!(info, status = response.status().as_u16(), %path, "the app refused a WebSocket upgrade");
                }
            }
            Ok(response.map(http_body_util::Either::Right))
        })
    }
}

/// Whether a request asks for a WebSocket (`Upgrade: websocket`): its answer is counted as an upgrade or a
/// refusal.
fn wants_websocket<B>(request: &Request<B>) -> bool {
    has_token(request.headers(), hyper::header::UPGRADE, "websocket")
}

/// The hosted connections that the app upgraded and still holds.
#[derive(Default)]
pub(crate) struct Upgraded {
    live: Mutex<HashMap<u64, (ConnectionInfo, Arc<Watch>)>>,
    /// Signalled whenever one ends.
    released: tokio::sync::Notify,
    /// How many were ever opened: the key of the next, and the order `list` keeps.
    opened: AtomicU64,
}

impl Upgraded {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (ConnectionInfo, Arc<Watch>)>> {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The open connections, in the order they opened.
    pub(crate) fn list(&self) -> Vec<ConnectionInfo> {
        let mut list: Vec<(u64, ConnectionInfo)> = self
            .lock()
            .iter()
            .map(|(opened, (info, _))| (*opened, info.clone()))
            .collect();
        list.sort_unstable_by_key(|(opened, _)| *opened);
        list.into_iter().map(|(_, info)| info).collect()
    }

    /// Ends every upgraded connection at the transport: the app reads the end of the stream and its writes
    /// fail, so its WebSocket tasks finish and drop them.
    pub(crate) fn close_all(&self) {
        for (_, watch) in self.lock().values() {
            watch.kill();
        }
    }

    /// Waits until the app has let go of every upgraded connection.
    pub(crate) async fn released(&self) {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().is_empty() {
                return;
            }
            notified.await;
        }
    }

    fn remove(&self, opened: u64) -> Option<ConnectionInfo> {
        let entry = self.lock().remove(&opened);
        self.released.notify_waiters();
        entry.map(|(info, _)| info)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// What the server and one connection's stream share.
pub(crate) struct Watch {
    /// Set once the app answered `101`; the connection is counted from then on.
    upgraded: AtomicBool,
    /// The registration key in [`Upgraded`], once upgraded.
    opened: AtomicU64,
    killed: AtomicBool,
    read_waker: AtomicWaker,
    write_waker: AtomicWaker,
}

impl Watch {
    fn new() -> Arc<Self> {
        Arc::new(Watch {
            upgraded: AtomicBool::new(false),
            opened: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            read_waker: AtomicWaker::new(),
            write_waker: AtomicWaker::new(),
        })
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.read_waker.wake();
        self.write_waker.wake();
    }

    /// Registers the connection as open: the app answered `101` to `info`'s request.
    pub(crate) fn upgraded(self: &Arc<Self>, shared: &Shared, info: ConnectionInfo) {
        if self.upgraded.swap(true, Ordering::AcqRel) {
            return;
        }
        let opened = shared.upgraded.opened.fetch_add(1, Ordering::Relaxed);
        self.opened.store(opened, Ordering::Release);
        shared.upgraded.lock().insert(opened, (info, Arc::clone(self)));
        shared.metrics.connections_total.fetch_add(1, Ordering::Relaxed);
        shared.metrics.connections_active.fetch_add(1, Ordering::Relaxed);
        if *shared.shutdown.borrow() {
            // Shutdown began while the app was answering: this connection missed `close_all`.
            self.kill();
        }
    }
}

/// One hosted connection's stream, watched from the transport side.
pub(crate) struct Watched {
    inner: Stream,
    shared: Arc<Shared>,
    watch: Arc<Watch>,
    incoming: FrameCounter,
    outgoing: FrameCounter,
    /// Bytes of the `101` response head still to skip on the way out (its end is a blank line).
    head: HeadEnd,
}

impl Watched {
    pub(crate) fn new(inner: Stream, shared: Arc<Shared>) -> (Self, Arc<Watch>) {
        let watch = Watch::new();
        let watched = Watched {
            inner,
            shared,
            watch: Arc::clone(&watch),
            incoming: FrameCounter::default(),
            outgoing: FrameCounter::default(),
            head: HeadEnd::default(),
        };
        (watched, watch)
    }

    fn is_upgraded(&self) -> bool {
        self.watch.upgraded.load(Ordering::Acquire)
    }

    fn is_killed(&self) -> bool {
        self.watch.killed.load(Ordering::Acquire)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if !self.is_upgraded() {
            return;
        }
        let opened = self.watch.opened.load(Ordering::Acquire);
        let entry = self.shared.upgraded.remove(opened);
        self.shared.metrics.connections_active.fetch_sub(1, Ordering::Relaxed);
        if std::thread::panicking() {
            let connection = entry.map_or_else(|| "a hosted connection".to_owned(), |info| info.connection_id);
            let message = panics::last_panic().unwrap_or_else(|| "(the panic message was not captured)".into());
            crate::logging::log!(error, %connection, panic = %message, "the app's task serving a WebSocket panicked");
            self.shared
                .record_panic(format!("the app's task serving {connection} panicked: {message}"));
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Ok(())); // the end of the stream
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.is_upgraded() {
                    let (frames, bytes) = this.incoming.feed(&buf.filled()[before..]);
                    this.shared.metrics.frames_in.fetch_add(frames, Ordering::Relaxed);
                    this.shared.metrics.bytes_in.fetch_add(bytes, Ordering::Relaxed);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                this.watch.read_waker.register(cx.waker());
                // A kill between the check above and the registration must not be missed.
                if this.is_killed() {
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

fn closed_by_shutdown() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the embedded server shut down")
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(closed_by_shutdown()));
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                if this.is_upgraded() {
                    let frames_start = this.head.skip(&buf[..written]);
                    let (frames, bytes) = this.outgoing.feed(&buf[frames_start..written]);
                    this.shared.metrics.frames_out.fetch_add(frames, Ordering::Relaxed);
                    this.shared.metrics.bytes_out.fetch_add(bytes, Ordering::Relaxed);
                }
                Poll::Ready(Ok(written))
            }
            Poll::Pending => {
                this.watch.write_waker.register(cx.waker());
                if this.is_killed() {
                    return Poll::Ready(Err(closed_by_shutdown()));
                }
                Poll::Pending
            }
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(closed_by_shutdown()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Finds the end of the HTTP response head (`\r\n\r\n`) in what is written after the app answered `101`.
#[derive(Default)]
struct HeadEnd {
    /// How many bytes of `\r\n\r\n` were just seen; 4 once the head is over.
    matched: u8,
}

impl HeadEnd {
    /// Skips head bytes of `bytes`; returns where the WebSocket frames start.
    fn skip(&mut self, bytes: &[u8]) -> usize {
        const END: &[u8; 4] = b"\r\n\r\n";
        if self.matched == 4 {
            return 0;
        }
        for (at, byte) in bytes.iter().enumerate() {
            if *byte == END[usize::from(self.matched)] {
                self.matched += 1;
                if self.matched == 4 {
                    return at + 1;
                }
            } else {
                self.matched = u8::from(*byte == b'\r');
            }
        }
        bytes.len()
    }
}

/// Counts the WebSocket messages (data frames with FIN) and their payload bytes in one direction of a byte
/// stream, whatever the chunking (RFC 6455 §5.2: 2 header bytes, an extended length of 2 or 8, a mask of 4).
#[derive(Default)]
struct FrameCounter {
    header: [u8; 14],
    /// Header bytes collected so far.
    have: usize,
    /// Payload bytes of the current frame still to skip.
    payload_left: u64,
}

impl FrameCounter {
    /// Feeds the next bytes; returns the messages completed and the data payload bytes seen in them.
    fn feed(&mut self, mut bytes: &[u8]) -> (u64, u64) {
        let (mut messages, mut payload) = (0, 0);
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skip = bytes
                    .len()
                    .min(usize::try_from(self.payload_left).unwrap_or(usize::MAX));
                self.payload_left -= skip as u64;
                bytes = &bytes[skip..];
                continue;
            }
            // Collect the header: first 2 bytes, then as many as they announce.
            let need = if self.have < 2 { 2 } else { header_len(&self.header) };
            let take = (need - self.have).min(bytes.len());
            self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            self.have += take;
            bytes = &bytes[take..];
            if self.have < 2 || self.have < header_len(&self.header) {
                continue;
            }
            let (fin, opcode) = (self.header[0] & 0x80 != 0, self.header[0] & 0x0F);
            let length = payload_len(&self.header);
            if opcode <= 2 {
                payload += length;
                if fin {
                    messages += 1;
                }
            }
            self.payload_left = length;
            self.have = 0;
        }
        (messages, payload)
    }
}

fn header_len(header: &[u8; 14]) -> usize {
    let extended = match header[1] & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if header[1] & 0x80 != 0 { 4 } else { 0 };
    2 + extended + mask
}

fn payload_len(header: &[u8; 14]) -> u64 {
    match header[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => u64::from_be_bytes(header[2..10].try_into().unwrap_or_default()),
        short => u64::from(short),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

    use super::*;

    fn encoded(frames: &[(bool, OpCode, usize, bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (fin, opcode, len, masked) in frames {
            let header = FrameHeader {
                is_final: *fin,
                opcode: *opcode,
                mask: masked.then_some([1, 2, 3, 4]),
                ..FrameHeader::default()
            };
            let frame = Frame::from_payload(header, vec![b'x'; *len].into());
            frame.format(&mut out).expect("a frame encodes");
        }
        out
    }

    fn sample() -> Vec<u8> {
        encoded(&[
            (true, OpCode::Data(Data::Text), 5, true),
            (false, OpCode::Data(Data::Binary), 300, false),
            (
                true,
                OpCode::Control(tokio_tungstenite::tungstenite::protocol::frame::coding::Control::Ping),
                4,
                true,
            ),
            (true, OpCode::Data(Data::Continue), 70_000, false),
            (true, OpCode::Data(Data::Text), 0, true),
        ])
    }

    #[test]
    fn counts_messages_and_payload_bytes_across_all_length_forms() {
        let mut counter = FrameCounter::default();
        assert_eq!(counter.feed(&sample()), (3, 5 + 300 + 70_000));
    }

    proptest! {
        #[test]
        fn any_chunking_counts_the_same(cuts in proptest::collection::vec(0usize..70_500, 0..12)) {
            let bytes = sample();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut % bytes.len()).collect();
            cuts.sort_unstable();
            let mut counter = FrameCounter::default();
            let (mut messages, mut payload, mut from) = (0, 0, 0);
            for cut in cuts.into_iter().chain([bytes.len()]) {
                let (m, p) = counter.feed(&bytes[from..cut.max(from)]);
                messages += m;
                payload += p;
                from = cut.max(from);
            }
            prop_assert_eq!((messages, payload), (3, 5 + 300 + 70_000));
        }
    }

    #[test]
    fn the_response_head_is_skipped_even_when_split() {
        let mut head = HeadEnd::default();
        assert_eq!(
            head.skip(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r"),
            53
        );
        assert_eq!(head.skip(b"\n\r\n\x81\x00"), 3);
        assert_eq!(head.skip(b"\x81\x00"), 0);
    }
}

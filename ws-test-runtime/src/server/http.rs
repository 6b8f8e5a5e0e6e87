//! The HTTP phase of a connection, the same for the embedded server's own handler and a hosted app: hyper's
//! HTTP/1.1 server with upgrades and the handshake deadline.
//!
//! Both kinds of connection go through one stream type ([`HttpIo`]), one service type ([`HttpService`]) and one
//! body type ([`HttpBody`]), so hyper's HTTP/1.1 server is compiled once into the runtime, not once per kind: it
//! is the largest generic code the runtime instantiates, and a user's build pays for every copy.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::{Either, Ready};
use http_body_util::Full;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Shared;
use crate::handler::BoxError;
use crate::transport::Stream;

/// A stream hyper can serve whatever wraps it (a hosted app's watched stream).
pub(crate) trait HttpStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> HttpStream for T {}

/// A connection's stream as hyper serves it: as accepted, or wrapped (a hosted app's, watched from the transport
/// side).
pub(crate) enum HttpIo {
    /// The embedded server's own handler: the accepted stream itself (a transport fault resets it after the upgrade).
    Plain(Stream),
    /// A hosted app: the stream behind its watch.
    Watched(Box<dyn HttpStream>),
}

impl AsyncRead for HttpIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpIo::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            HttpIo::Watched(watched) => Pin::new(watched).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for HttpIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            HttpIo::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            HttpIo::Watched(watched) => Pin::new(watched).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpIo::Plain(stream) => Pin::new(stream).poll_flush(cx),
            HttpIo::Watched(watched) => Pin::new(watched).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpIo::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            HttpIo::Watched(watched) => Pin::new(watched).poll_shutdown(cx),
        }
    }
}

/// The response body of a hosted app, type-erased.
pub(crate) type AppBody = UnsyncBoxBody<Bytes, BoxError>;

/// A response body of either kind: the embedded server's own answers, or a hosted app's.
pub(crate) type HttpBody = http_body_util::Either<Full<Bytes>, AppBody>;

/// A hosted app's answer as the HTTP phase awaits it.
pub(crate) type AppFuture = Pin<Box<dyn Future<Output = Result<Response<HttpBody>, BoxError>> + Send>>;

/// What a request's answer is awaited as: ready at once (the embedded server decides without waiting), or the
/// hosted app's future.
pub(crate) type HttpFuture = Either<Ready<Result<Response<HttpBody>, BoxError>>, AppFuture>;

/// The embedded server's answer to one request, decided at once.
type EmbeddedCall = Box<dyn Fn(Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync>;

/// A hosted app's answer to one request.
type AppCall = Box<dyn Fn(Request<Incoming>) -> AppFuture + Send + Sync>;

/// The hyper service of one connection, of either kind.
pub(crate) enum HttpService {
    /// The embedded server's own handler: upgrades are decided there and the session runs after hyper lets go.
    Embedded(EmbeddedCall),
    /// A hosted app: it answers every request itself.
    App(AppCall),
}

impl hyper::service::Service<Request<Incoming>> for HttpService {
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = HttpFuture;

    fn call(&self, request: Request<Incoming>) -> HttpFuture {
        match self {
            HttpService::Embedded(call) => Either::Left(futures_util::future::ready(Ok(
                call(request).map(http_body_util::Either::Left)
            ))),
            HttpService::App(call) => Either::Right(call(request)),
        }
    }
}

/// The HTTP phase of one connection: hyper's HTTP/1.1 server with upgrades and the handshake deadline (a
/// connection whose request head is not complete in time is dropped and counted). It ends when the connection
/// ends or is upgraded (`true`) or the server shuts down (`false`); then the pending slot goes back.
pub(crate) async fn serve_http(
    shared: &Shared,
    io: HttpIo,
    service: HttpService,
    pending: tokio::sync::OwnedSemaphorePermit,
) -> bool {
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(shared.config.handshake_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .with_upgrades();
    let mut shutdown = shared.shutdown.subscribe();
    let served = tokio::select! {
        result = connection => {
            if let Err(error) = result {
                http_error(shared, &error);
            }
            true
        }
        () = super::stopped(&mut shutdown) => false,
    };
    drop(pending);
    served
}

/// Logs how an HTTP connection ended with an error, and counts a handshake timeout.
fn http_error(shared: &Shared, error: &hyper::Error) {
    if error.is_timeout() {
        shared.metrics.handshakes_timed_out.fetch_add(1, Ordering::Relaxed);
        crate::logging::log!(info,
            within = ?shared.config.handshake_timeout,
            "dropped a connection whose HTTP request was not complete within the handshake timeout \
             (ServerBuilder::handshake_timeout)"
        );
    } else {
        crate::logging::log!(debug, %error, "HTTP connection ended with an error");
    }
}

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
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Shared;
use super::app::{AppBody, AppFuture, AppService, Watched};
use super::connection::EmbeddedService;
use crate::handler::BoxError;
use crate::transport::Stream;

/// A connection's stream as hyper serves it: as accepted, or watched for a hosted app.
pub(crate) enum HttpIo {
    /// The embedded server's own handler: the accepted stream itself.
    Plain(Stream),
    /// A hosted app: the stream counted and closed from the transport side (see [`Watched`]).
    Watched(Watched),
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

/// A response body of either kind: the embedded server's own answers, or a hosted app's, type-erased.
pub(crate) type HttpBody = http_body_util::Either<Full<Bytes>, AppBody>;

/// What a request's answer is awaited as: ready at once (the embedded server decides without waiting), or the
/// hosted app's future.
pub(crate) type HttpFuture = Either<Ready<Result<Response<HttpBody>, BoxError>>, AppFuture>;

/// The hyper service of one connection, of either kind.
pub(crate) enum HttpService {
    /// The embedded server's own handler: upgrades are decided here and the session runs after hyper lets go.
    Embedded(EmbeddedService),
    /// A hosted app: it answers every request itself.
    App(AppService),
}

impl hyper::service::Service<Request<Incoming>> for HttpService {
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = HttpFuture;

    fn call(&self, request: Request<Incoming>) -> HttpFuture {
        match self {
            HttpService::Embedded(service) => Either::Left(futures_util::future::ready(Ok(service
                .call(request)
                .map(http_body_util::Either::Left)))),
            HttpService::App(service) => Either::Right(service.call(request)),
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

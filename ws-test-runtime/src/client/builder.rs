//! [`ClientBuilder`]: headers, subprotocols and timeouts of a [`WsClient`], and connecting with retries.

use std::time::Duration;

use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Uri, header};
use tokio_tungstenite::tungstenite::{self};

use super::{Socket, WsClient};
use serde_json::Value;

use crate::history::Handshake;
use crate::transport::{self, ConnectError, Stream};
use crate::wire;
use crate::{Error, Result, timeout};

/// The first pause between two connection attempts; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(250);

/// Options of a [`WsClient`] before it connects.
///
/// ```
/// use std::time::Duration;
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// # let server = EmbeddedServer::builder().token("t0ken").subprotocol("chat.v1").start().await?;
/// let client = WsClient::builder(server.url())
///     .token("t0ken")
///     .header("X-User-Id", "alice") // the chat agent's user
///     .subprotocol("chat.v1")
///     .header("x-trace-id", "test-42")
///     .connect_timeout(Duration::from_secs(2))
///     .recv_timeout(Duration::from_millis(500))
///     .connect()
///     .await?;
/// assert_eq!(client.subprotocol(), Some("chat.v1"));
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    token: Option<String>,
    origin: Option<String>,
    subprotocols: Vec<String>,
    headers: Vec<(String, String)>,
    connect_timeout: Duration,
    max_message_size: Option<usize>,
    #[cfg(feature = "tls")]
    trust: crate::tls::Trust,
    /// Why [`protocol`](Self::protocol) could not be used, said at connect.
    protocol_error: Option<String>,
    /// The network the connection goes through.
    link: Option<crate::LinkControl>,
    pub(crate) options: Options,
}

/// What a connected [`WsClient`] keeps of its builder.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) url: String,
    pub(crate) recv_timeout: Duration,
    pub(crate) send_timeout: Duration,
    pub(crate) max_history_bytes: usize,
    /// The field that names an event (default `"type"`).
    pub(crate) event_key: crate::Field,
    /// Turns received binary frames into JSON.
    pub(crate) decoder: Option<super::tap::Decoder>,
    /// The connection's protocol ([`ClientBuilder::protocol`]).
    pub(crate) protocol: Option<crate::protocol::SharedProtocol>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("url", &self.url)
            .field("recv_timeout", &self.recv_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("max_history_bytes", &self.max_history_bytes)
            .field("event_key", &self.event_key)
            .field("decoder", &self.decoder.is_some())
            .field(
                "protocol",
                &self.protocol.as_ref().map(|protocol| protocol.name().to_owned()),
            )
            .finish()
    }
}

enum Failure {
    /// Worth another attempt (the server may not be up yet).
    Retry(String),
    /// Another attempt would get the same answer.
    Fatal(Error),
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        ClientBuilder {
            options: Options {
                url: url.into(),
                recv_timeout: timeout::scaled(timeout::RECV),
                send_timeout: timeout::scaled(timeout::SEND),
                max_history_bytes: super::DEFAULT_MAX_HISTORY_BYTES,
                event_key: crate::Field::type_key(),
                decoder: None,
                protocol: None,
            },
            protocol_error: None,
            link: None,
            url: url.into(),
            token: None,
            origin: None,
            subprotocols: Vec::new(),
            headers: Vec::new(),
            connect_timeout: timeout::scaled(timeout::CONNECT),
            max_message_size: None,
            #[cfg(feature = "tls")]
            trust: crate::tls::Trust::default(),
        }
    }

    /// Connects through this link (a server's, `server.link()`, or one of the test's own,
    /// `LinkControl::new(link)`): its latency, jitter, bandwidth and chunks apply to this connection both ways,
    /// beneath TLS, and its stall, cut and heal reach it. Works for any server: ws-test's, a served one, a URL.
    pub fn link(mut self, link: &crate::LinkControl) -> Self {
        self.link = Some(link.clone());
        self
    }

    /// Sends `Authorization: Bearer TOKEN`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends `Origin: ORIGIN`, as a browser would.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// The field that names an event on this connection (default `"type"`): a key (`"method"` for JSON-RPC,
    /// `"event"`, `"t"`) or a JSON pointer (`"/data/kind"`). [`WsClient::expect_type`] reads it, and
    /// [`WsClient::expect`] and the client's [`Tap`](crate::Tap) use it for expectations that name no key of
    /// their own ([`Expectation::event_key`](crate::expect::Expectation::event_key)).
    pub fn event_key(mut self, key: impl Into<crate::Field>) -> Self {
        self.options.event_key = key.into();
        self
    }

    /// Decodes every received binary frame into JSON with `decode` (MessagePack, CBOR, protobuf), once, as it
    /// arrives: expectations, [`WsClient::recv_json`], [`WsClient::expect_type`], reports and timelines work on
    /// the decoded value; the history keeps the bytes with the decoded JSON beside them (so do transcripts). A
    /// frame that does not decode is never dropped: receiving it as JSON is an error with the decoder's words and
    /// the frame's first bytes, and timelines show the same. Sending stays `send_binary` (the test encodes).
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::Router;
    ///
    /// /// A "protocol" whose binary frames are JSON bytes behind a one-byte version tag.
    /// fn tagged(bytes: &[u8]) -> Result<Value, String> {
    ///     match bytes.split_first() {
    ///         Some((1, json)) => serde_json::from_slice(json).map_err(|error| error.to_string()),
    ///         _ => Err("not a version-1 frame".into()),
    ///     }
    /// }
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let echo = Router::new().fallback(|session: Session, frame: Value| async move {
    ///     let mut bytes = vec![1];
    ///     bytes.extend(frame.to_string().into_bytes());
    ///     session.send_binary(bytes).await
    /// });
    /// let server = EmbeddedServer::builder().handler(echo).start().await?;
    /// let mut client = server.client().decode(tagged).connect().await?;
    /// client.send_json(json!({"type": "tick", "n": 1})).await?;
    /// assert_eq!(client.expect_type("tick").await?["n"], 1);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn decode<F, E>(mut self, decode: F) -> Self
    where
        F: Fn(&[u8]) -> std::result::Result<Value, E> + Send + Sync + 'static,
        E: std::fmt::Display,
    {
        self.options.decoder = Some(std::sync::Arc::new(move |bytes: &[u8]| {
            decode(bytes).map_err(|error| error.to_string())
        }));
        self
    }

    /// Speaks `protocol` on the connection: a kit of [`ws_test_runtime::protocol`](crate::protocol) by value
    /// (`SocketIo::new().namespace("/chat")`) or by name (`"socket.io"`), or your own
    /// [`Protocol`](crate::protocol::Protocol). The client connects where the protocol says (Socket.IO: its
    /// path and query on the URL's host), offers its subprotocol, names events by its event key, performs its
    /// handshake before [`connect`](Self::connect) returns (a refusal fails the connect with the server's
    /// words), answers what it answers by itself (heartbeats), and presents each event it decodes to
    /// expectations, receives and reports; [`WsClient::emit`] and [`WsClient::send_event`] send through it. An
    /// unknown name fails the connect, naming the kits.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    /// use ws_test_runtime::protocol::SocketIo;
    ///
    /// let by_name = WsClient::builder("ws://127.0.0.1:3000").protocol("socket.io");
    /// let with_options = WsClient::builder("ws://127.0.0.1:3000").protocol(SocketIo::new().namespace("/chat"));
    /// # let _ = (by_name, with_options);
    /// ```
    pub fn protocol(mut self, protocol: impl crate::protocol::IntoProtocol) -> Self {
        match protocol.into_protocol() {
            Ok(protocol) => {
                match protocol.url(&self.url) {
                    Ok(url) => {
                        self.url = url.clone();
                        self.options.url = url;
                    }
                    Err(why) => self.protocol_error = Some(why),
                }
                if let Some(subprotocol) = protocol.subprotocol() {
                    self.subprotocols.push(subprotocol.to_owned());
                }
                self.options.event_key = protocol.event_key();
                self.options.protocol = Some(protocol);
            }
            Err(error) => self.protocol_error = Some(error.to_string()),
        }
        self
    }

    /// Sets an already erased decoder (the test driver's).
    pub(crate) fn decoder(mut self, decoder: super::tap::Decoder) -> Self {
        self.options.decoder = Some(decoder);
        self
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`); call again to offer several, in preference order.
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long to keep retrying the connection (default 5 s, scaled by `WS_TEST_TIMEOUT_SCALE`).
    pub fn connect_timeout(mut self, within: Duration) -> Self {
        self.connect_timeout = within;
        self
    }

    /// How long receives wait by default (default 5 s, scaled by `WS_TEST_TIMEOUT_SCALE`).
    pub fn recv_timeout(mut self, within: Duration) -> Self {
        self.options.recv_timeout = within;
        self
    }

    /// How long a send may wait for the server to take the frame (default 5 s, scaled by
    /// `WS_TEST_TIMEOUT_SCALE`): a server that stops reading fills the socket's buffers, and the send then fails
    /// with [`Error::Timeout`] instead of hanging.
    pub fn send_timeout(mut self, within: Duration) -> Self {
        self.options.send_timeout = within;
        self
    }

    /// The most the received frames may hold, in bytes, payloads plus a small fixed cost per frame (default
    /// 64 MiB). The client keeps every received frame in its history until it is dropped; a server that sends
    /// more than this is flooding it: the client stops reading, and every wait from then on fails with a close
    /// of code 1008 whose reason starts with `flooded:` and names this setting. Nothing received before is lost.
    pub fn max_history_bytes(mut self, bytes: usize) -> Self {
        self.options.max_history_bytes = bytes;
        self
    }

    /// The largest message the client accepts, in bytes (default: tungstenite's 64 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Trusts the certificates of this PEM text as roots for `wss://`, besides the platform's roots and
    /// `SSL_CERT_FILE` (call again to add more). For a test server's own certificate — a self-signed one, or a
    /// private CA's:
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::builder().tls_self_signed().start().await?;
    /// let pem = server.certificate_pem().expect("a TLS server has a certificate");
    /// let mut client = WsClient::builder(server.url()).root_certificate(pem).connect().await?;
    /// client.expect_type("connection_established").await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    ///
    /// A text that holds no certificate fails the connect with [`Error::Config`]. (`server.client()` and
    /// `server.connect()` trust an embedded server's certificate already.) Needs the `tls` feature.
    #[cfg(feature = "tls")]
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.trust.add(pem.as_ref());
        self
    }

    /// Trusts what `trust` trusts besides the defaults (the suite and the recorder pass theirs on).
    #[cfg(all(feature = "tls", any(feature = "suite", feature = "record")))]
    pub(crate) fn trust(mut self, trust: &crate::tls::Trust) -> Self {
        self.trust = trust.clone();
        self
    }

    /// Connects, retrying with backoff while the server refuses TCP connections, until the connect timeout.
    ///
    /// An HTTP refusal of the upgrade (401, 403, 404, ...) is not retried: it is returned at once as
    /// [`Error::Rejected`] with the status and the server's explanation.
    pub async fn connect(self) -> Result<WsClient> {
        if let Some(why) = &self.protocol_error {
            return Err(Error::Config(why.clone()));
        }
        let started = Instant::now();
        let (socket, handshake) = self.open().await?;
        let mut client = WsClient::from_socket(socket, handshake, &self.options);
        if client.protocol.is_some() {
            let left = self.connect_timeout.saturating_sub(started.elapsed());
            client.protocol_handshake(left).await?;
        }
        Ok(client)
    }

    /// Connects as [`connect`](Self::connect) does, and hands over the bare socket with the upgrade's headers (the
    /// subprotocol the server agreed to among them: the recorder relays it).
    pub(crate) async fn open(&self) -> Result<(Socket, Handshake)> {
        let target = Target::of(&self.uri()?);
        let started = Instant::now();
        let deadline = started + self.connect_timeout;
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = match self.attempt(&target, deadline).await {
                Ok(opened) => return Ok(opened),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry(last)) => last,
            };
            crate::logging::log!(debug, url = %self.url, attempts, %last, "connection attempt failed; retrying");
            tokio::time::sleep_until((Instant::now() + backoff).min(deadline)).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            // No time left for another attempt: report the last real failure, not a doomed attempt.
            if Instant::now() >= deadline {
                return Err(Error::Connect {
                    url: self.url.clone(),
                    attempts,
                    within: self.connect_timeout,
                    last,
                });
            }
        }
    }

    fn uri(&self) -> Result<Uri> {
        websocket_uri(&self.url, "the scheme must be ws:// or wss://")
    }

    fn request(&self) -> Result<Request> {
        let config_error = |what: String| Error::Config(what);
        let mut request = self.url.as_str().into_client_request()?;
        let headers = request.headers_mut();
        let value = |text: &str| {
            HeaderValue::from_str(text).map_err(|_| config_error(format!("{text:?} cannot be sent as a header value")))
        };
        if let Some(token) = &self.token {
            headers.insert(header::AUTHORIZATION, value(&format!("Bearer {token}"))?);
        }
        if let Some(origin) = &self.origin {
            headers.insert(header::ORIGIN, value(origin)?);
        }
        if !self.subprotocols.is_empty() {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value(&self.subprotocols.join(", "))?);
        }
        for (name, text) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_error(format!("{name:?} is not a valid header name")))?;
            headers.append(name, value(text)?);
        }
        Ok(request)
    }

    /// One attempt at the byte stream: TCP (or the in-memory pipe), then TLS for `wss://`.
    async fn stream(&self, target: &Target, deadline: Instant) -> Result<Stream, Failure> {
        let Target { host, port, secure } = target;
        let (host, port) = (host.as_str(), *port);
        let stream = match tokio::time::timeout_at(deadline, transport::connect(host, port)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(ConnectError::Retry(why))) => return Err(Failure::Retry(why)),
            Ok(Err(ConnectError::NoSuchServer(why))) => {
                return Err(Failure::Fatal(Error::Connect {
                    url: self.url.clone(),
                    attempts: 1,
                    within: self.connect_timeout,
                    last: why,
                }));
            }
            Err(_) => {
                return Err(Failure::Retry(format!(
                    "TCP connect to {host}:{port} did not finish in time"
                )));
            }
        };
        let stream = match &self.link {
            None => stream,
            Some(link) => link
                .connect_over(stream)
                .map_err(|error| Failure::Retry(error.to_string()))?,
        };
        if !secure {
            return Ok(stream);
        }
        #[cfg(feature = "tls")]
        {
            use crate::tls::Handshake;
            let handshake = self.trust.connect(host, stream);
            match tokio::time::timeout_at(deadline, handshake).await {
                Ok(Ok(Handshake::Done(stream))) => Ok(stream),
                Ok(Ok(Handshake::Refused(reason))) => Err(Failure::Fatal(Error::Tls {
                    url: self.url.clone(),
                    host: host.to_owned(),
                    reason,
                })),
                Ok(Ok(Handshake::Failed(error))) => {
                    Err(Failure::Retry(format!("the TLS handshake with {host} failed: {error}")))
                }
                Ok(Err(error)) => Err(Failure::Fatal(error)),
                Err(_) => Err(Failure::Retry(format!(
                    "the TLS handshake with {host} did not finish in time"
                ))),
            }
        }
        // `websocket_uri` already refuses wss:// in a build without TLS; the same answer, should one get here.
        #[cfg(not(feature = "tls"))]
        Err(Failure::Fatal(Error::InvalidUrl {
            url: self.url.clone(),
            reason: NO_TLS.into(),
        }))
    }

    /// Opens the byte stream as a connection attempt would, once, within the connect timeout (the suite's plain
    /// HTTP requests go over it).
    #[cfg(feature = "suite")]
    pub(crate) async fn open_stream(&self) -> Result<(Stream, Uri)> {
        let uri = self.uri()?;
        let deadline = Instant::now() + self.connect_timeout;
        match self.stream(&Target::of(&uri), deadline).await {
            Ok(stream) => Ok((stream, uri)),
            Err(Failure::Fatal(error)) => Err(error),
            Err(Failure::Retry(last)) => Err(Error::Connect {
                url: self.url.clone(),
                attempts: 1,
                within: self.connect_timeout,
                last,
            }),
        }
    }

    async fn attempt(&self, target: &Target, deadline: Instant) -> Result<(Socket, Handshake), Failure> {
        let request = self.request().map_err(Failure::Fatal)?;
        let request_headers = header_pairs(request.headers());
        let stream = self.stream(target, deadline).await?;
        // Over the in-memory transport the server is always up: a handshake it ends is its answer, not a race.
        let in_memory = transport::is_memory_host(&target.host);
        let transient = |why: String| {
            if in_memory {
                Failure::Fatal(Error::Connect {
                    url: self.url.clone(),
                    attempts: 1,
                    within: self.connect_timeout,
                    last: why,
                })
            } else {
                Failure::Retry(why)
            }
        };
        let config = wire::socket_config(self.max_message_size);
        let stream = super::conduct::ConductStream::new(stream);
        let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
        let (socket, response) = match tokio::time::timeout_at(deadline, handshake).await {
            Ok(Ok(done)) => done,
            Ok(Err(tungstenite::Error::Http(response))) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned();
                return Err(Failure::Fatal(Error::Rejected {
                    url: self.url.clone(),
                    status: response.status().as_u16(),
                    body,
                }));
            }
            Ok(Err(tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete))) => {
                return Err(transient("the server ended the connection during the handshake".into()));
            }
            Ok(Err(tungstenite::Error::Io(error))) => {
                return Err(transient(format!("the WebSocket handshake failed: {error}")));
            }
            Ok(Err(tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
                why,
            )))) => {
                use tungstenite::error::SubProtocolError;
                let answered = match why {
                    SubProtocolError::NoSubProtocol => "101 without a Sec-WebSocket-Protocol header",
                    SubProtocolError::InvalidSubProtocol => "101 with a subprotocol it was not offered",
                    SubProtocolError::ServerSentSubProtocolNoneRequested => "101 with a subprotocol none was offered",
                };
                return Err(Failure::Fatal(Error::Subprotocol {
                    url: self.url.clone(),
                    offered: self.subprotocols.clone(),
                    answered: answered.to_owned(),
                }));
            }
            Ok(Err(error)) => return Err(Failure::Fatal(error.into())),
            Err(_) => {
                return Err(Failure::Retry("the WebSocket handshake did not finish in time".into()));
            }
        };
        let handshake = Handshake {
            request_headers,
            status: response.status().as_u16(),
            response_headers: header_pairs(response.headers()),
        };
        Ok((socket, handshake))
    }
}

/// Headers as (name, value) pairs, in order, for the history's [`Handshake`].
fn header_pairs(headers: &tungstenite::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Why a `wss://` URL is refused by a build without the `tls` feature.
#[cfg(not(feature = "tls"))]
const NO_TLS: &str = "wss:// needs TLS, which this build leaves out: enable the `tls` feature of ws-test-runtime";

/// Parses and checks a WebSocket URL: `ws://`, or `wss://` in a build with TLS (`wrong_scheme` says what else is
/// wrong), and a host. The client and the recorder's upstream share it.
pub(crate) fn websocket_uri(url: &str, wrong_scheme: &str) -> Result<Uri> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|error: tungstenite::http::uri::InvalidUri| invalid(&error.to_string()))?;
    match uri.scheme_str() {
        Some("ws") => {}
        #[cfg(feature = "tls")]
        Some("wss") => {}
        #[cfg(not(feature = "tls"))]
        Some("wss") => {
            return Err(invalid(NO_TLS));
        }
        _ => return Err(invalid(wrong_scheme)),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    Ok(uri)
}

/// Where a URL points: the host (without an IPv6 address's brackets), the port (the scheme's default when the URL
/// has none) and whether it asks for TLS. Derived once per connect.
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) secure: bool,
}

impl Target {
    pub(crate) fn of(uri: &Uri) -> Self {
        let secure = uri.scheme_str() == Some("wss");
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        Target { host, port, secure }
    }
}

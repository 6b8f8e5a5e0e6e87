//! The relay: the recorder's HTTP front end, the upgrade passed on to the upstream server, and every frame passed
//! both ways and recorded, until either side closes or the recorder stops.

use super::*;

/// The app the recorder's server hosts: one call per HTTP request.
#[derive(Debug, Clone)]
pub(super) struct Proxy(pub(super) Arc<State>);

type ProxyResponse = Response<Full<Bytes>>;

impl tower_service::Service<Request<Incoming>> for Proxy {
    type Response = ProxyResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<ProxyResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let state = Arc::clone(&self.0);
        Box::pin(async move { Ok(state.upgrade(request).await) })
    }
}

/// Request headers the handshake to the upstream makes anew (or that belong to one hop).
pub(super) const NOT_RELAYED: [&str; 12] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "te",
];

impl State {
    pub(super) async fn upgrade(self: Arc<Self>, mut request: Request<Incoming>) -> ProxyResponse {
        let key = request
            .headers()
            .get(header::SEC_WEBSOCKET_KEY)
            .and_then(|key| key.to_str().ok())
            .map(str::to_owned);
        let is_upgrade = request
            .headers()
            .get(header::UPGRADE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
        let Some(key) = key.filter(|_| is_upgrade) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "ws-test record relays WebSocket upgrades to {}; this request is not one",
                    self.upstream
                ),
            );
        };
        if *self.stop.borrow() || !self.reserve() {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "ws-test record has taken all the sessions it records".to_owned(),
            );
        }
        let url = self.upstream_url(request.uri());
        let mut builder = WsClient::builder(&url).connect_timeout(timeout::scaled(timeout::CONNECT));
        #[cfg(feature = "tls")]
        {
            builder = builder.trust(&self.trust);
        }
        for (name, value) in request.headers() {
            if name == header::SEC_WEBSOCKET_PROTOCOL {
                for protocol in value.to_str().unwrap_or_default().split(',') {
                    builder = builder.subprotocol(protocol.trim());
                }
            } else if !NOT_RELAYED.contains(&name.as_str()) {
                if let Ok(value) = value.to_str() {
                    builder = builder.header(name.as_str(), value);
                }
            }
        }
        let (upstream, upstream_handshake) = match builder.open().await {
            Ok(opened) => opened,
            Err(error) => {
                self.release();
                return match error {
                    Error::Rejected { status, body, .. } => {
                        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                        text(status, body)
                    }
                    other => text(
                        StatusCode::BAD_GATEWAY,
                        format!("ws-test record could not reach the upstream server: {other}"),
                    ),
                };
            }
        };
        let subprotocol = upstream_handshake.subprotocol().map(str::to_owned);
        let number = self.admit();
        let on_upgrade = hyper::upgrade::on(&mut request);
        let state = Arc::clone(&self);
        let recorded_url = self.recorded_url(&url);
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        wire::switching_protocols(response.headers_mut(), &key, subprotocol.as_deref());
        let handshake = self.recorded_handshake(request.headers(), response.headers());
        crate::task::spawn_into(&mut lock(&self.relays), async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let config = wire::socket_config(None);
                    let client =
                        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    state.relay(number, recorded_url, handshake, client, upstream).await;
                }
                Err(error) => {
                    crate::logging::log!(debug, %error, "the client's upgrade did not complete");
                    state.session_ended();
                }
            }
        });
        response
    }

    /// The upgrade as the client saw it: its request's headers (those named by `redact` replaced) and the 101's.
    fn recorded_handshake(&self, request: &hyper::HeaderMap, response: &hyper::HeaderMap) -> Handshake {
        let pairs = |headers: &hyper::HeaderMap| -> Vec<(String, String)> {
            headers
                .iter()
                .map(|(name, value)| {
                    let redacted = self
                        .redact
                        .iter()
                        .any(|field| name.as_str().eq_ignore_ascii_case(field));
                    let value = if redacted {
                        crate::history::REDACTED.to_owned()
                    } else {
                        String::from_utf8_lossy(value.as_bytes()).into_owned()
                    };
                    (header_name(name.as_str()), value)
                })
                .collect()
        };
        Handshake {
            request_headers: pairs(request),
            status: StatusCode::SWITCHING_PROTOCOLS.as_u16(),
            response_headers: pairs(response),
        }
    }

    /// Takes a place for a session being connected, unless the limit is reached.
    pub(super) fn reserve(&self) -> bool {
        let mut admission = lock(&self.admission);
        if self
            .limit
            .is_some_and(|limit| admission.started + admission.connecting >= limit)
        {
            return false;
        }
        admission.connecting += 1;
        true
    }

    pub(super) fn release(&self) {
        lock(&self.admission).connecting -= 1;
    }

    /// The upstream accepted: the session's number, from 1.
    pub(super) fn admit(&self) -> usize {
        let mut admission = lock(&self.admission);
        admission.connecting -= 1;
        admission.started += 1;
        admission.started
    }

    pub(super) fn session_ended(&self) {
        self.ended.send_modify(|ended| *ended += 1);
    }

    /// The upstream's scheme and authority with the client's path and query.
    pub(super) fn upstream_url(&self, requested: &Uri) -> String {
        let path = requested.path_and_query().map_or("/", |path| path.as_str());
        let authority = self.upstream.authority().map_or("", |authority| authority.as_str());
        let scheme = self.upstream.scheme_str().unwrap_or("ws");
        format!("{scheme}://{authority}{path}")
    }

    /// Relays one session until both sides are done (or the recorder stops), recording every frame after it
    /// is relayed.
    pub(super) async fn relay<C>(
        &self,
        number: usize,
        url: String,
        handshake: Handshake,
        mut client: WebSocketStream<C>,
        mut upstream: crate::client::Socket,
    ) where
        C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let record = self.open_record(number, url, handshake);
        let mut stop = self.stop.subscribe();
        let (mut from_client, mut from_upstream) = (Side::default(), Side::default());
        let mut stopping = false;
        // Once one side is done (or the recorder stops), the other has the close timeout to finish.
        let mut deadline: Option<Instant> = None;
        let grace = timeout::scaled(timeout::CLOSE);
        while !(from_client.done && from_upstream.done) {
            let until_deadline = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = client.next(), if !from_client.done => match frame {
                    Some(Ok(frame)) => self.pass(frame, &mut from_client, &mut upstream, &record, Direction::Out).await,
                    _ => {
                        from_client.end(&from_upstream, &mut upstream, "the client went away").await;
                        deadline.get_or_insert(Instant::now() + grace);
                    }
                },
                frame = upstream.next(), if !from_upstream.done => match frame {
                    Some(Ok(frame)) => self.pass(frame, &mut from_upstream, &mut client, &record, Direction::In).await,
                    _ => {
                        from_upstream.end(&from_client, &mut client, "the upstream server went away").await;
                        deadline.get_or_insert(Instant::now() + grace);
                    }
                },
                _ = stopped(&mut stop), if !stopping => {
                    stopping = true;
                    let reason = "ws-test record is stopping";
                    if from_client.open() {
                        let _ = client.send(close(close_code::GOING_AWAY, reason)).await;
                    }
                    if from_upstream.open() {
                        let _ = upstream.send(close(close_code::GOING_AWAY, reason)).await;
                    }
                    deadline.get_or_insert(Instant::now() + grace);
                },
                () = until_deadline => break,
            }
        }
        lock(&record).finish();
        self.write_har();
        self.session_ended();
    }
}

/// A header's name as browsers show it (`Sec-WebSocket-Protocol`); hyper keeps names in lower case.
fn header_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl State {
    /// Relays a frame read from one side to the other, then records it.
    pub(super) async fn pass<S>(
        &self,
        frame: WsMessage,
        from: &mut Side,
        to: &mut S,
        record: &Mutex<Record>,
        direction: Direction,
    ) where
        S: futures_util::Sink<WsMessage> + Unpin,
    {
        from.closed |= matches!(frame, WsMessage::Close(_));
        let kind = frame_kind(&frame, &self.redact);
        let _ = to.send(frame).await;
        lock(record).push(direction, kind);
    }
}

/// What one side of a relayed session did: ended (its stream is over), sent a close frame.
#[derive(Debug, Default)]
pub(super) struct Side {
    done: bool,
    closed: bool,
}

impl Side {
    /// Whether the side may still take a close from the recorder.
    pub(super) fn open(&self) -> bool {
        !self.done && !self.closed
    }

    /// The side's stream ended; when it went without a close frame, the other side is told with 1001.
    pub(super) async fn end<S>(&mut self, other: &Side, to_other: &mut S, why: &str)
    where
        S: futures_util::Sink<WsMessage> + Unpin,
    {
        self.done = true;
        if !self.closed && !other.done {
            let _ = to_other.send(close(close_code::GOING_AWAY, why)).await;
        }
    }
}

/// What a relayed frame is in the recording (text redacted).
pub(super) fn frame_kind(frame: &WsMessage, fields: &[String]) -> FrameKind {
    match frame {
        WsMessage::Text(text) => FrameKind::Text(redact(text.as_str(), fields).unwrap_or_else(|| text.to_string())),
        WsMessage::Binary(bytes) => FrameKind::Binary(bytes.to_vec()),
        WsMessage::Ping(bytes) => FrameKind::Ping(bytes.to_vec()),
        WsMessage::Pong(bytes) => FrameKind::Pong(bytes.to_vec()),
        WsMessage::Close(frame) => match frame {
            Some(frame) => FrameKind::Close {
                code: frame.code.into(),
                reason: frame.reason.to_string(),
            },
            None => FrameKind::Close {
                code: close_code::NO_STATUS,
                reason: String::new(),
            },
        },
        WsMessage::Frame(frame) => FrameKind::Binary(frame.payload().to_vec()),
    }
}

/// Resolves once the recorder is told to stop.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

pub(super) fn close(code: u16, reason: &str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

pub(super) fn text(status: StatusCode, body: String) -> ProxyResponse {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

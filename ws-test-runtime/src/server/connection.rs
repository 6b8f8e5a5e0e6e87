//! One TCP connection of the embedded server: HTTP/1.1 through hyper, then, once upgraded, the WebSocket
//! session that feeds the handler.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::Shared;
use super::hostile::{self, TransportFault};
use super::http::{self, HttpIo, HttpService};
use super::upgrade::{Body, Decision, decide};
use crate::handler::DynHandler;
use crate::message::{CloseInfo, Message};
use crate::panics::panic_message;
use crate::protocol::{Meaning, ProtocolSession};
use crate::session::Hub;
use crate::session::{Outbound, Session, SessionSeed};
use crate::timeout;
use crate::transport::Stream;
use crate::wire::close_code;
use crate::wire::{self, Incoming, clip_reason};

/// Frames a connection may have queued for sending before senders wait.
const OUTBOUND_QUEUE: usize = 1024;

type Upgrade = (OnUpgrade, Box<SessionSeed>);

/// Serves one accepted connection until it ends or the server shuts down.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    handler: Arc<dyn DynHandler>,
    stream: Stream,
    pending: OwnedSemaphorePermit,
) {
    if shared.config.transport_fault == Some(TransportFault::NoHandshake) {
        let mut shutdown = shared.shutdown.subscribe();
        tokio::select! {
            () = hostile::never_answer(stream) => {}
            () = super::stopped(&mut shutdown) => {}
        }
        return;
    }
    let (upgrade_tx, upgrade_rx) = oneshot::channel::<Upgrade>();
    let service = EmbeddedService {
        shared: Arc::clone(&shared),
        handler: Arc::clone(&handler),
        upgrade: Mutex::new(Some(upgrade_tx)),
    };
    let service = HttpService::Embedded(Box::new(move |request| service.call(request)));
    if !http::serve_http(&shared, HttpIo::Plain(stream), service, pending).await {
        return;
    }
    if let Ok((on_upgrade, seed)) = upgrade_rx.await {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = wire::socket_config(Some(shared.config.max_message_size));
                let mut io = TokioIo::new(upgraded);
                let session_io: Option<SessionIo> = match shared.config.transport_fault {
                    None => Some(Box::new(io)),
                    Some(TransportFault::SlowRead) => Some(Box::new(hostile::SlowReader::new(io))),
                    Some(fault) if fault.then_serves() => {
                        use tokio::io::AsyncWriteExt as _;
                        let _ = io.write_all(&hostile::prelude(fault)).await;
                        Some(Box::new(io))
                    }
                    Some(fault) => {
                        let mut shutdown = shared.shutdown.subscribe();
                        let played = tokio::select! {
                            played = hostile::play(fault, io) => played,
                            () = super::stopped(&mut shutdown) => None,
                        };
                        if let Some(io) = played {
                            if let Ok(parts) = io.into_inner().downcast::<TokioIo<HttpIo>>() {
                                if let HttpIo::Plain(stream) = parts.io.into_inner() {
                                    hostile::reset(stream);
                                }
                            }
                        }
                        None
                    }
                };
                if let Some(io) = session_io {
                    let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                    run_session(shared, &*handler, socket, *seed).await;
                }
            }
            Err(error) => crate::logging::log!(debug, %error, "the WebSocket upgrade did not complete"),
        }
    }
}

/// The embedded server's hyper service: it decides each request (an answer, or an upgrade whose session runs
/// once hyper lets go of the connection).
struct EmbeddedService {
    shared: Arc<Shared>,
    handler: Arc<dyn DynHandler>,
    /// Where the one upgrade of this connection goes.
    upgrade: Mutex<Option<oneshot::Sender<Upgrade>>>,
}

impl EmbeddedService {
    /// Answers one request, handing an accepted upgrade to the connection's task.
    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> hyper::Response<Body> {
        match decide(&self.shared, self.handler.as_ref(), &request) {
            Decision::Answer(response) => response,
            Decision::Upgrade(response, seed) => {
                let on_upgrade = hyper::upgrade::on(&mut request);
                let sender = self
                    .upgrade
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take();
                if let Some(sender) = sender {
                    let _ = sender.send((on_upgrade, seed));
                }
                response
            }
        }
    }
}

/// An upgraded connection as a session reads it: one type whatever wraps it (a fault's slow reader), so the
/// session, tungstenite's stream and their futures are compiled once, not once per wrapper.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

type SessionIo = Box<dyn Io>;

/// How the reading side of a session ended.
enum ReadEnd {
    /// The peer sent a close frame (already answered by tungstenite).
    PeerClosed(CloseInfo),
    /// The TCP stream ended or failed without a close frame.
    Vanished(String),
    /// The reader asked the session to close (an idle connection, or a bad frame when `broken`: the stream
    /// cannot be parsed any more); the writer sends the close.
    Closing { broken: bool },
}

/// The server's side of its protocol on one connection, shared by the reader (decoding) and the writer (encoding).
type Codec = Mutex<Box<dyn ProtocolSession>>;

fn lock(codec: &Codec) -> std::sync::MutexGuard<'_, Box<dyn ProtocolSession>> {
    codec.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

type Socket<S> = WebSocketStream<S>;
type Sink<S> = futures_util::stream::SplitSink<Socket<S>, WsMessage>;
type Source<S> = futures_util::stream::SplitStream<Socket<S>>;

async fn run_session<S>(
    shared: Arc<Shared>,
    handler: &dyn DynHandler,
    socket: WebSocketStream<S>,
    mut seed: SessionSeed,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // Held until this function returns: the connection's slot under max_connections.
    let _slot = seed.slot.take();
    let (outbound_tx, mut outbound_rx) = mpsc::channel(OUTBOUND_QUEUE);
    let session = Session::new(seed, outbound_tx.clone(), Arc::clone(&shared) as Arc<dyn Hub>);
    let id = session.connection_id().to_owned();
    let too_slow = Arc::new(Notify::new());
    let info = super::ConnectionInfo {
        connection_id: id.clone(),
        uri: session.uri().clone(),
        headers: session.headers().clone(),
    };
    shared.registry.insert(info, outbound_tx, Arc::clone(&too_slow));
    shared.metrics.connections_active.fetch_add(1, Ordering::Relaxed);
    shared.metrics.connections_total.fetch_add(1, Ordering::Relaxed);
    crate::logging::log!(info, connection_id = %id, path = %session.uri().path(), "connection opened");
    if *shared.shutdown.borrow() {
        // Shutdown began between the upgrade and the registration: this connection missed `close_all`.
        let _ = session.close(close_code::GOING_AWAY, "server shutting down").await;
    }

    let codec: Option<Codec> = shared
        .config
        .protocol
        .as_ref()
        .and_then(|protocol| protocol.server_session())
        .map(Mutex::new);
    if let Some(codec) = &codec {
        let start = lock(codec).start();
        for frame in start {
            session.send_wire(frame).await;
        }
    }
    let (mut sink, mut stream) = socket.split();
    let (sent, read) = {
        let writer = write(&mut sink, &mut outbound_rx, &too_slow, &shared, &id, codec.as_ref());
        let reader = read(&mut stream, &session, &shared, handler, codec.as_ref());
        tokio::pin!(writer, reader);
        tokio::select! {
            biased;
            end = &mut reader => match end {
                // The writer sends the close the reader asked for.
                ReadEnd::Closing { broken } => ((&mut writer).await, ReadEnd::Closing { broken }),
                other => (None, other),
            },
            sent = &mut writer => (sent, ReadEnd::Closing { broken: false }),
        }
    };
    let close = match read {
        ReadEnd::PeerClosed(close) => {
            // What was queued before the peer's close (an echo being written) and tungstenite's close reply go out
            // whole: dropping the socket with them in tungstenite's buffer would cut the peer's last message and
            // lose our close (Autobahn's 7.1.6 read no close code back about one run in three over TLS).
            let _ = tokio::time::timeout(timeout::scaled(timeout::CLOSE), sink.flush()).await;
            // Then a lingering close: our end of the stream (the peer reads to it, and ends the connection), and
            // what the peer still sends read and discarded. Dropping the socket with a frame the peer sent after
            // its close still unread (Autobahn's 7.1.6 sends a ping) makes the kernel answer with a reset, which
            // destroys what the peer had not read yet: our echo and our close.
            if let Ok(socket) = sink.reunite(stream) {
                let mut io = socket.into_inner();
                let _ = tokio::time::timeout(
                    timeout::scaled(timeout::CLOSE),
                    tokio::io::AsyncWriteExt::shutdown(&mut io),
                )
                .await;
                linger(io).await;
            }
            close
        }
        ReadEnd::Vanished(why) => CloseInfo::new(close_code::ABNORMAL, why),
        ReadEnd::Closing { broken } => {
            if broken {
                // The stream cannot be parsed any more (an oversize or malformed frame): read and discard raw bytes
                // until the peer, having read our close frame, ends the connection. Closing with its data still
                // unread would make the kernel answer with a reset, and the peer could lose our close frame.
                if let Ok(socket) = sink.reunite(stream) {
                    linger(socket.into_inner()).await;
                }
            } else {
                // We sent a close (or could not send at all): wait briefly for the peer's reply.
                drain(&mut stream).await;
            }
            sent.unwrap_or_else(|| CloseInfo::new(close_code::ABNORMAL, "the connection failed while sending"))
        }
    };
    session.abort_tasks();
    shared.registry.remove(&id);
    shared.metrics.connections_active.fetch_sub(1, Ordering::Relaxed);
    let _ = guarded(&session, "on_close", async {
        handler.on_close(&session, &close).await;
        Ok(())
    })
    .await;
    crate::logging::log!(info, connection_id = %id, code = close.code, reason = %close.reason, "connection closed");
}

/// The writing side of a session: sends what the session queues, until a close (returned once sent, or once
/// the close timeout passed), the queue's end, or a send failure (`None`). A broadcast that found the queue full
/// cuts in with a 1008 "too slow" close.
async fn write<S>(
    sink: &mut Sink<S>,
    outbound: &mut mpsc::Receiver<Outbound>,
    too_slow: &Notify,
    shared: &Shared,
    id: &str,
    codec: Option<&Codec>,
) -> Option<CloseInfo>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // The protocol's heartbeat, first sent one interval after the start.
    let mut heartbeat = codec.and_then(|codec| lock(codec).heartbeat()).map(|(every, frame)| {
        let interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        (interval, frame)
    });
    let too_slow_close = || {
        crate::logging::log!(info, connection_id = %id, "closing a connection too slow to take a broadcast");
        CloseInfo::new(
            close_code::POLICY_VIOLATION,
            format!(
                "too slow: a broadcast found {OUTBOUND_QUEUE} frames waiting for this connection \
                 (the client is not reading)"
            ),
        )
    };
    // One waiter for the whole session, registered once: a fresh `notified()` per frame would lock the waiter
    // list and link and unlink itself up to three times per frame. `notify_one` before this point left a permit
    // the first poll takes.
    let mut too_slow = std::pin::pin!(too_slow.notified());
    // Frames are fed to tungstenite while more are queued and flushed once when the queue runs dry: the five
    // events of a run leave in one write instead of five.
    let mut unflushed = false;
    let close = loop {
        // A broadcast that found the queue full cuts in, even while a send waits for the peer to read.
        if (&mut too_slow).now_or_never().is_some() {
            break too_slow_close();
        }
        let next = match outbound.try_recv() {
            Ok(next) => Some(next),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if unflushed {
                    let flushed = tokio::select! {
                        biased;
                        () = &mut too_slow => break too_slow_close(),
                        flushed = sink.flush() => flushed,
                    };
                    if let Err(error) = flushed {
                        crate::logging::log!(debug, connection_id = %id, %error, "could not send a frame");
                        return None;
                    }
                }
                tokio::select! {
                    biased;
                    () = &mut too_slow => break too_slow_close(),
                    next = outbound.recv() => next,
                    frame = beat(&mut heartbeat) => Some(Outbound::Wire(frame)),
                }
            }
        };
        match next {
            None => {
                let _ = sink.flush().await;
                return None;
            }
            Some(Outbound::Close(close)) => break close,
            Some(Outbound::Message(message)) => {
                let frames = match (codec, message) {
                    (Some(codec), Message::Text(text)) => match encode(codec, &text) {
                        Ok(frames) => frames,
                        Err(why) => {
                            let failure = format!("connection {id}: the handler sent what the protocol cannot: {why}");
                            crate::logging::log!(warn, connection_id = %id, %why, "the protocol could not encode a frame");
                            shared.record_failure(failure);
                            continue;
                        }
                    },
                    (_, message) => vec![message],
                };
                let mut cut_in = false;
                for message in frames {
                    shared.metrics.frame_out(message.len());
                    let fed = tokio::select! {
                        biased;
                        () = &mut too_slow => {
                            cut_in = true;
                            break;
                        }
                        fed = sink.feed(wire::outgoing(message)) => fed,
                    };
                    if let Err(error) = fed {
                        crate::logging::log!(debug, connection_id = %id, %error, "could not send a frame");
                        return None;
                    }
                    unflushed = true;
                }
                if cut_in {
                    break too_slow_close();
                }
            }
            Some(Outbound::Wire(message)) => {
                shared.metrics.frame_out(message.len());
                let fed = tokio::select! {
                    biased;
                    () = &mut too_slow => break too_slow_close(),
                    fed = sink.feed(wire::outgoing(message)) => fed,
                };
                if let Err(error) = fed {
                    crate::logging::log!(debug, connection_id = %id, %error, "could not send a frame");
                    return None;
                }
                unflushed = true;
            }
        }
    };
    let _ = tokio::time::timeout(timeout::scaled(timeout::CLOSE), sink.send(wire::close_frame(&close))).await;
    Some(close)
}

/// An event the handler sent (JSON text), as the frames of the server's protocol.
fn encode(codec: &Codec, text: &str) -> Result<Vec<Message>, String> {
    let event: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("{text:?} is not a JSON event ({error})"))?;
    lock(codec).encode(&event)
}

/// The next heartbeat frame, when its interval has passed; never without a heartbeat.
async fn beat(heartbeat: &mut Option<(tokio::time::Interval, Message)>) -> Message {
    match heartbeat {
        Some((interval, frame)) => {
            interval.tick().await;
            frame.clone()
        }
        None => std::future::pending().await,
    }
}

/// The reading side of a session: `on_connect`, then each data frame to `on_message` (through the server's
/// protocol, when it has one), until the peer closes or vanishes, or the reader asks the session to close (idle,
/// a bad frame, a frame the protocol cannot read).
async fn read<S>(
    stream: &mut Source<S>,
    session: &Session,
    shared: &Shared,
    handler: &dyn DynHandler,
    codec: Option<&Codec>,
) -> ReadEnd
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let id = session.connection_id();
    if let Err(error) = guarded(session, "on_connect", handler.on_connect(session)).await {
        handler_failed(shared, session, error).await;
    }
    loop {
        let next = match shared.config.idle_timeout {
            Some(idle) => match tokio::time::timeout(idle, stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    shared.metrics.closed_idle.fetch_add(1, Ordering::Relaxed);
                    crate::logging::log!(info, connection_id = %id, ?idle, "closing an idle connection");
                    let reason = format!(
                        "idle for {}: no frame from the client (ServerBuilder::idle_timeout)",
                        humantime::format_duration(idle)
                    );
                    let _ = session.close(close_code::GOING_AWAY, reason).await;
                    return ReadEnd::Closing { broken: false };
                }
            },
            None => stream.next().await,
        };
        let message = match next {
            Some(Ok(frame)) => match wire::incoming(frame) {
                Some(Incoming::Data(message)) => message,
                Some(Incoming::Close(close)) => return ReadEnd::PeerClosed(close),
                Some(Incoming::Ping(_) | Incoming::Pong(_)) | None => continue,
            },
            Some(Err(error)) => {
                if let Some(close) = close_for_read_error(&error) {
                    crate::logging::log!(info, connection_id = %id, %error, code = close.code, "closing a connection after a bad frame");
                    let _ = session.close(close.code, close.reason).await;
                    return ReadEnd::Closing { broken: true };
                }
                return ReadEnd::Vanished(error.to_string());
            }
            None => return ReadEnd::Vanished("the TCP connection ended without a close frame".into()),
        };
        shared.metrics.frame_in(message.len());
        if session.is_closing() {
            continue;
        }
        let message = match codec {
            Some(codec) => {
                let step = lock(codec).receive(&message);
                for reply in step.replies {
                    session.send_wire(reply).await;
                }
                match step.meaning {
                    Meaning::Event(event) => Message::Text(event.to_string()),
                    Meaning::Control(_) => continue,
                    Meaning::Invalid(why) => {
                        crate::logging::log!(info, connection_id = %id, %why, "closing a connection after a frame its protocol cannot read");
                        let reason = format!("the protocol cannot read this frame: {why}");
                        let _ = session.close(close_code::POLICY_VIOLATION, reason).await;
                        return ReadEnd::Closing { broken: false };
                    }
                }
            }
            None => message,
        };
        if let Err(error) = guarded(session, "on_message", handler.on_message(session, message)).await {
            handler_failed(shared, session, error).await;
        }
    }
}

/// Discards whatever the peer still sends, until it ends the connection, goes quiet (the rest of its message
/// and its close reply are in), or the close timeout passes.
async fn linger<S: tokio::io::AsyncRead + Unpin>(mut io: S) {
    use tokio::io::AsyncReadExt as _;
    const QUIET: std::time::Duration = std::time::Duration::from_millis(50);
    let mut buffer = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(timeout::scaled(timeout::CLOSE), async {
        while let Ok(Ok(read)) = tokio::time::timeout(QUIET, io.read(&mut buffer)).await {
            if read == 0 {
                break;
            }
        }
    })
    .await;
}

/// Reads (and discards) until the peer's close arrives, the stream ends, or the close deadline passes.
async fn drain<S>(stream: &mut S)
where
    S: futures_util::Stream<Item = Result<WsMessage, tungstenite::Error>> + Unpin,
{
    let _ = tokio::time::timeout(timeout::scaled(timeout::CLOSE), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

/// The close a read error calls for, when the connection can still say goodbye.
fn close_for_read_error(error: &tungstenite::Error) -> Option<CloseInfo> {
    use tungstenite::error::CapacityError;
    match error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => Some(CloseInfo::new(
            close_code::MESSAGE_TOO_BIG,
            format!("message of {size} bytes is over the limit of {max_size} bytes"),
        )),
        tungstenite::Error::Capacity(other) => Some(CloseInfo::new(close_code::MESSAGE_TOO_BIG, other.to_string())),
        tungstenite::Error::Utf8(_) => Some(CloseInfo::new(
            close_code::INVALID_PAYLOAD,
            "a text frame was not valid UTF-8",
        )),
        // The peer just went away: there is nobody to say goodbye to (on_close sees 1006).
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => None,
        tungstenite::Error::Protocol(protocol) => Some(CloseInfo::new(
            close_code::PROTOCOL_ERROR,
            clip_reason(format!("protocol error: {protocol}")),
        )),
        _ => None,
    }
}

/// Runs handler code, turning a panic into a recorded failure and a 1011 close.
async fn guarded<F>(session: &Session, place: &str, call: F) -> crate::HandlerResult
where
    F: Future<Output = crate::HandlerResult>,
{
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            session
                .handler_panicked(&format!("the handler's {place}"), message)
                .await;
            Ok(())
        }
    }
}

async fn handler_failed(shared: &Shared, session: &Session, error: crate::BoxError) {
    shared.metrics.handler_errors.fetch_add(1, Ordering::Relaxed);
    crate::logging::log!(error, connection_id = %session.connection_id(), %error, "handler error");
    shared.record_error(format!(
        "the handler failed on connection {}: {error}",
        session.connection_id()
    ));
    let _ = session
        .close(
            close_code::INTERNAL_ERROR,
            clip_reason(format!("handler error: {error}")),
        )
        .await;
}

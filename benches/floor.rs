//! The floor: the same work as a ws-test test, written by hand on tokio + hyper + tokio-tungstenite only.
//!
//! A server that upgrades `GET /ws` with hyper, welcomes each connection with `connection_established`, answers
//! a `chat_message` with the five critical events (the fields `PROTOCOL.md` gives them, one `run_id`, a rising
//! `seq`) and an `echo` with its payload; and a client that connects, reads, parses and checks the order of the
//! events. It is what a team would write without ws-test, and what ws-test's figures are measured against, in the
//! same run. It uses nothing of ws-test, so `scripts/compile_cost.py` can build it as the "bare dependency set".

use std::convert::Infallible;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Any error of the floor.
pub type FloorError = Box<dyn StdError + Send + Sync>;

/// The five critical events, in protocol order.
pub const CRITICAL: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// The bare server: an accept loop on an ephemeral loopback port.
#[derive(Debug)]
pub struct FloorServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl FloorServer {
    /// Binds `127.0.0.1:0` and starts accepting; tungstenite's default buffers unless `config` says otherwise.
    pub async fn start(config: Option<WebSocketConfig>) -> Result<Self, FloorError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(serve(stream, config));
                    }
                }
            }
        });
        Ok(FloorServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the accept loop to end (open connections end with their clients).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn serve(stream: TcpStream, config: Option<WebSocketConfig>) {
    let service =
        service_fn(move |request: Request<Incoming>| async move { Ok::<_, Infallible>(upgrade(request, config)) });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

fn upgrade(mut request: Request<Incoming>, config: Option<WebSocketConfig>) -> Response<Empty<Bytes>> {
    let key = request
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|key| derive_accept_key(key.as_bytes()));
    let (Some(accept), "/ws") = (key, request.uri().path()) else {
        let mut response = Response::new(Empty::new());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, config).await;
            let _ = session(socket).await;
        }
    });
    let mut response = Response::new(Empty::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(CONNECTION, hyper::header::HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, hyper::header::HeaderValue::from_static("websocket"));
    if let Ok(accept) = accept.parse() {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// A JSON value as a text frame.
pub fn text(value: &Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

/// One connection: the welcome, then chat runs and echoes until the client closes. Replies are fed while more
/// input is already buffered and flushed once when it runs dry: the cheapest a hand-written server can do.
async fn session<S>(mut socket: WebSocketStream<S>) -> Result<(), FloorError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let user_id = format!("user-{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed));
    socket
        .send(text(&json!({
            "type": "connection_established",
            "connection_id": format!("conn-{user_id}"),
            "user_id": user_id,
            "server_time": now_ms(),
        })))
        .await?;
    let mut seq = 0u64;
    let mut queued = false;
    loop {
        // Replies are queued while more frames are already in; one write carries them all when the input runs dry.
        let next = match socket.next().now_or_never() {
            Some(next) => next,
            None => {
                if queued {
                    socket.flush().await?;
                    queued = false;
                }
                socket.next().await
            }
        };
        let Some(frame) = next else { break };
        let Message::Text(frame) = frame? else { continue };
        let mut message: Value = serde_json::from_str(&frame)?;
        match message.get("type").and_then(Value::as_str) {
            Some("chat_message") => {
                let content = message
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let run_id = format!("run-{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed));
                let call = format!("call-{run_id}");
                let bodies = [
                    json!({"message": format!("Processing your message: {content}")}),
                    json!({"thought": format!("Looking for what I know about: {content}")}),
                    json!({"tool_name": "knowledge_search", "tool_call_id": call, "parameters": {"query": content}}),
                    json!({"tool_name": "knowledge_search", "tool_call_id": call,
                           "result": {"status": "ok", "matches": 1, "summary": format!("1 note about {content}")}}),
                    json!({"response": format!("Here is what I found about: {content}")}),
                ];
                for (kind, mut body) in CRITICAL.into_iter().zip(bodies) {
                    seq += 1;
                    if let Value::Object(fields) = &mut body {
                        fields.insert("type".into(), kind.into());
                        fields.insert("agent_name".into(), "TestChatAgent".into());
                        fields.insert("user_id".into(), user_id.clone().into());
                        fields.insert("run_id".into(), run_id.clone().into());
                        fields.insert("timestamp".into(), now_ms().into());
                        fields.insert("seq".into(), seq.into());
                    }
                    socket.feed(text(&body)).await?;
                }
                queued = true;
            }
            Some("echo") => {
                let payload = message.get_mut("payload").map(Value::take).unwrap_or(Value::Null);
                socket.feed(text(&json!({"type": "echo", "payload": payload}))).await?;
                queued = true;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The bare client.
#[derive(Debug)]
pub struct FloorClient {
    socket: WebSocketStream<TcpStream>,
}

impl FloorClient {
    /// Connects to the server's `/ws`.
    pub async fn connect(addr: SocketAddr, config: Option<WebSocketConfig>) -> Result<Self, FloorError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{addr}/ws");
        let (socket, _) = tokio_tungstenite::client_async_with_config(url, stream, config).await?;
        Ok(FloorClient { socket })
    }

    /// The WebSocket itself (to split it).
    pub fn into_socket(self) -> WebSocketStream<TcpStream> {
        self.socket
    }

    /// Sends a JSON text frame.
    pub async fn send(&mut self, value: &Value) -> Result<(), FloorError> {
        Ok(self.socket.send(text(value)).await?)
    }

    /// The next text frame, as it came.
    pub async fn recv_text(&mut self) -> Result<Utf8Bytes, FloorError> {
        loop {
            match self.socket.next().await.ok_or("the connection ended")?? {
                Message::Text(text) => return Ok(text),
                Message::Close(_) => return Err("the server closed the connection".into()),
                _ => {}
            }
        }
    }

    /// The next text frame, parsed.
    pub async fn recv(&mut self) -> Result<Value, FloorError> {
        loop {
            match self.socket.next().await.ok_or("the connection ended")?? {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Close(_) => return Err("the server closed the connection".into()),
                _ => {}
            }
        }
    }

    /// Reads events until `types` arrived in that order with one `run_id`: the strict check of a test.
    pub async fn expect_strict(&mut self, types: &[&str]) -> Result<Vec<Value>, FloorError> {
        let mut events = Vec::with_capacity(types.len());
        for &expected in types {
            let event = self.recv().await?;
            let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
            if kind != expected {
                return Err(format!("expected {expected}, got {kind}").into());
            }
            let run = events.first().and_then(|first: &Value| first.get("run_id"));
            if run.is_some() && event.get("run_id") != run {
                return Err(format!("{kind} belongs to another run").into());
            }
            events.push(event);
        }
        Ok(events)
    }

    /// Closes with 1000 and waits for the server's close reply and the end of the stream.
    pub async fn close(mut self) -> Result<(), FloorError> {
        let frame = CloseFrame {
            code: 1000.into(),
            reason: "done".into(),
        };
        self.socket.close(Some(frame)).await?;
        while let Some(frame) = self.socket.next().await {
            if frame.is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// One chat round on an open connection: send the chat message, receive and check the five events.
pub async fn chat_round(client: &mut FloorClient, content: &str) -> Result<(), FloorError> {
    client
        .send(&json!({"type": "chat_message", "content": content}))
        .await?;
    client.expect_strict(&CRITICAL).await?;
    Ok(())
}

/// tungstenite's settings with the read buffer ws-test uses (8 KiB instead of 128 KiB): the floor tuned the way
/// ws-test is, so that a ratio against it shows what ws-test costs beyond that one setting.
pub fn tuned() -> Option<WebSocketConfig> {
    Some(WebSocketConfig::default().read_buffer_size(8 * 1024))
}

/// What a test does, by hand: server, connect, welcome, one chat round checked strictly, close, shutdown;
/// `config` for both sides (`None`: tungstenite's defaults).
pub async fn whole_test(config: Option<WebSocketConfig>) -> Result<(), FloorError> {
    let server = FloorServer::start(config).await?;
    let mut client = FloorClient::connect(server.addr(), config).await?;
    client.expect_strict(&["connection_established"]).await?;
    chat_round(&mut client, "bench").await?;
    client.close().await?;
    server.shutdown().await;
    Ok(())
}

//! A client that misbehaves on purpose toward a server: vanishing, going silent, stopping to read, raw and
//! fragmented frames, writes in small chunks. Each against ws-test's own server and an axum app, over TCP and the
//! in-memory transport, asserting what the server did.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use tokio::sync::mpsc;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{EmbeddedServer, Error, RawFrame, Transport};

const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Memory];

/// The online users of a chat app: added on connect, removed when the app notices the connection ended.
type Online = Arc<Mutex<BTreeSet<u64>>>;

fn online(users: &Online) -> Vec<u64> {
    users
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .copied()
        .collect()
}

/// A chat app that tracks who is online. `forgets` is the classic bug: a user is removed only when a close frame
/// arrives, so a connection that just vanishes stays "online" forever.
fn presence_app(users: Online, forgets: bool) -> Router {
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    Router::new()
        .route(
            "/ws",
            get(move |ws: WebSocketUpgrade, State(users): State<Online>| {
                let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async move {
                    ws.on_upgrade(move |mut socket: WebSocket| async move {
                        users.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(id);
                        let hello = json!({"type": "online", "id": id}).to_string();
                        let _ = socket.send(AxumMessage::Text(hello.into())).await;
                        let mut closed_cleanly = false;
                        while let Some(Ok(message)) = socket.recv().await {
                            match message {
                                AxumMessage::Close(_) => {
                                    closed_cleanly = true;
                                    break;
                                }
                                AxumMessage::Text(text)
                                    if socket.send(AxumMessage::Text(text.clone())).await.is_err() =>
                                {
                                    break;
                                }
                                _ => {}
                            }
                        }
                        if closed_cleanly || !forgets {
                            users
                                .lock()
                                .unwrap_or_else(|poisoned| poisoned.into_inner())
                                .remove(&id);
                        }
                    })
                }
            }),
        )
        .with_state(users)
}

/// Waits (virtual or real time) until `users` is `want`, or says what it stayed instead.
async fn online_becomes(users: &Online, want: &[u64], within: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = online(users);
        if now == want {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "after the client vanished, online stayed {now:?} for {within:?} (wanted {want:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_vanished_client_is_an_abrupt_disconnect_that_a_correct_app_cleans_up_and_a_buggy_one_forgets() -> TestResult
{
    for transport in TRANSPORTS {
        for forgets in [false, true] {
            let users = Online::default();
            let server = EmbeddedServer::builder()
                .app(presence_app(Arc::clone(&users), forgets))
                .transport(transport)
                .start()
                .await?;
            let mut phone = server.connect().await?;
            let mut laptop = server.connect().await?;
            phone.expect_type("online").await?;
            laptop.expect_type("online").await?;
            assert_eq!(online(&users), [1, 2], "{transport:?}");
            phone.vanish();
            // The fixed app cleans up at once; the buggy one is given half a second to prove it never does.
            let within = if forgets {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(5)
            };
            let cleaned = online_becomes(&users, &[2], within).await;
            match forgets {
                false => cleaned.map_err(|why| Error::Config(format!("{transport:?}: {why}")))?,
                true => {
                    let why = cleaned.expect_err("the buggy app keeps the vanished user");
                    assert!(why.contains("online stayed [1, 2]"), "{why}");
                }
            }
            // The other client of the test keeps working.
            laptop.send_text("still here").await?;
            assert_eq!(laptop.recv().await?.as_text(), Some("still here"), "{transport:?}");
        }
    }
    Ok(())
}

/// Tells the test how each connection ended.
struct Closes(mpsc::UnboundedSender<CloseInfo>);

impl ws_test_runtime::Handler for Closes {
    async fn on_message(&self, _: &ws_test_runtime::Session, _: ws_test_runtime::Message) -> HandlerResult {
        Ok(())
    }

    async fn on_close(&self, _: &ws_test_runtime::Session, close: &CloseInfo) {
        let _ = self.0.send(close.clone());
    }
}

/// ws-test's own server sees the vanished client's connection end without a close frame: 1006, over TCP a reset.
#[tokio::test]
async fn ws_tests_own_server_sees_a_vanished_client_end_with_1006() -> TestResult {
    for transport in TRANSPORTS {
        let (closes, mut closed) = mpsc::unbounded_channel();
        let server = EmbeddedServer::builder()
            .handler(Closes(closes))
            .transport(transport)
            .start()
            .await?;
        let client = server.connect().await?;
        tokio::time::timeout(Duration::from_secs(2), async {
            while server.metrics().connections_active == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .map_err(|_| Error::Config("the server never counted the connection".into()))?;
        client.vanish();
        let close = tokio::time::timeout(Duration::from_secs(2), closed.recv())
            .await
            .map_err(|_| {
                Error::Config(format!(
                    "{transport:?}: the server never saw the vanished connection end"
                ))
            })?
            .ok_or_else(|| Error::Config("the handler is gone".into()))?;
        assert_eq!(close.code, 1006, "{transport:?}: {close:?}");
        if transport == Transport::Tcp {
            assert!(close.reason.to_lowercase().contains("reset"), "a TCP reset: {close:?}");
        }
    }
    Ok(())
}

/// An axum app with a heartbeat: a ping every 10 s, and close 4000 when no pong came for 30 s.
fn heartbeat_app() -> Router {
    Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket: WebSocket| async move {
                let mut ping = tokio::time::interval(Duration::from_secs(10));
                let mut last_pong = tokio::time::Instant::now();
                loop {
                    tokio::select! {
                        _ = ping.tick() => {
                            if last_pong.elapsed() > Duration::from_secs(30) {
                                let close = CloseFrame { code: 4000, reason: "heartbeat timeout".into() };
                                let _ = socket.send(AxumMessage::Close(Some(close))).await;
                                return;
                            }
                            if socket.send(AxumMessage::Ping(Default::default())).await.is_err() {
                                return;
                            }
                        }
                        message = socket.recv() => match message {
                            Some(Ok(AxumMessage::Pong(_))) => last_pong = tokio::time::Instant::now(),
                            Some(Ok(_)) => {}
                            _ => return,
                        },
                    }
                }
            })
        }),
    )
}

/// The half-open client on tokio's paused clock: the app's 30 s heartbeat timeout passes in virtual time, and a
/// client that still answers pings stays connected through the same minutes.
#[tokio::test(start_paused = true)]
async fn a_silent_client_is_closed_by_the_servers_heartbeat_on_the_paused_clock() -> TestResult {
    let started = std::time::Instant::now();
    let server = EmbeddedServer::builder()
        .app(heartbeat_app())
        .transport(Transport::Memory)
        .start()
        .await?;
    let mut answering = server.connect().await?;
    let mut silent = server.connect().await?;
    silent.go_silent();
    // A send now says why it cannot.
    let refused = silent
        .send_text("hello?")
        .await
        .expect_err("a silent client sends nothing");
    assert!(refused.to_string().contains("went silent"), "{refused}");
    let close = silent.expect_closed(4000).within(Duration::from_secs(120)).await?;
    assert_eq!(close.reason, "heartbeat timeout");
    // How long the server took to act on it: between 30 s (no pong since) and 40 s (the next ping tick).
    let (_, began) = silent.misbehaviour().expect("the client is silent");
    let history = silent.history();
    let closed_at = history
        .frames()
        .iter()
        .find(|frame| matches!(frame.kind, ws_test_runtime::FrameKind::Close { .. }))
        .expect("the close is recorded")
        .at;
    let took = closed_at - began;
    assert!(
        took >= Duration::from_secs(30) && took <= Duration::from_secs(40),
        "{took:?}"
    );
    // The silent client still recorded the pings it never answered.
    let pings = silent
        .history()
        .frames()
        .iter()
        .filter(|frame| matches!(frame.kind, ws_test_runtime::FrameKind::Ping(_)))
        .count();
    assert!(pings >= 3, "{}", silent.history().timeline());
    // The client that answers pings is still open after the same virtual minutes.
    answering.expect_no_message(Duration::from_secs(60)).await?;
    assert!(answering.close_info().is_none());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "virtual minutes took {:?} of real time",
        started.elapsed()
    );
    Ok(())
}

/// A client that stops reading while the server broadcasts: ws-test's server closes it as too slow (1008) rather
/// than block the others, who receive every message; when it reads again it learns why.
#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_the_others_get_every_broadcast() -> TestResult {
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder().transport(transport).start().await?;
        let mut slow = server.connect().await?;
        let mut fast = server.connect().await?;
        slow.expect_type("connection_established").await?;
        fast.expect_type("connection_established").await?;
        slow.stop_reading();
        let payload = "x".repeat(16 * 1024);
        let mut sent = 0;
        let cut_off = tokio::time::timeout(Duration::from_secs(20), async {
            while server.metrics().closed_too_slow == 0 {
                server
                    .broadcast(json!({"type": "news", "n": sent, "payload": payload}))
                    .await?;
                sent += 1;
                // The fast client keeps up: it reads each broadcast before the next.
                fast.expect_type("news").await?;
            }
            Ok::<_, Error>(())
        })
        .await;
        cut_off.map_err(|_| {
            Error::Config(format!(
                "{transport:?}: the server never closed the client that stopped reading"
            ))
        })??;
        assert!(sent > 10, "{transport:?}: cut off after {sent} broadcasts");
        slow.resume_reading();
        let close = slow.expect_closed(1008).within(Duration::from_secs(10)).await?;
        assert!(close.reason.starts_with("too slow"), "{transport:?}: {close:?}");
        // The others go on.
        fast.send_json(json!({"type": "echo", "payload": "after"})).await?;
        fast.expect_type("echo").await?;
    }
    Ok(())
}

/// Frames tungstenite refuses to send, and what ws-test's server answers to each.
#[tokio::test]
async fn raw_frames_that_break_the_protocol_get_the_close_code_the_rfc_names() -> TestResult {
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "invalid UTF-8 in a text frame",
            RawFrame::text(&[0xce, 0xba, 0xff][..]).to_bytes(),
            1007,
        ),
        (
            "RSV1 without an extension",
            RawFrame::text("hi").rsv(4).to_bytes(),
            1002,
        ),
        ("a reserved opcode", RawFrame::new(0x3, "hi").to_bytes(), 1002),
        (
            "an unmasked client frame",
            RawFrame::text("hi").unmasked().to_bytes(),
            1002,
        ),
        (
            "a ping over 125 bytes",
            RawFrame::ping(vec![b'p'; 126]).to_bytes(),
            1002,
        ),
        (
            "a continuation without a start",
            RawFrame::continuation("orphan").to_bytes(),
            1002,
        ),
        ("a fragmented ping", RawFrame::ping("p").fin(false).to_bytes(), 1002),
        (
            "a message over the limit",
            RawFrame::binary(vec![0; 2 * 1024 * 1024]).to_bytes(),
            1009,
        ),
    ];
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder().transport(transport).start().await?;
        for (what, bytes, code) in &cases {
            let mut client = server.connect().await?;
            client.expect_type("connection_established").await?;
            client.send_raw(bytes.as_slice()).await?;
            let close = client
                .expect_closed(*code)
                .await
                .map_err(|error| Error::Config(format!("{transport:?}, {what}: {error}")))?;
            assert_eq!(close.code, *code, "{transport:?}, {what}");
        }
    }
    Ok(())
}

/// A message in fragments, with pings between them, and every frame written in 7-byte chunks: a correct server
/// sees the same messages.
#[tokio::test]
async fn fragments_pings_between_them_and_seven_byte_chunks_reach_a_correct_server_whole() -> TestResult {
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder().transport(transport).start().await?;
        let mut client = server.connect().await?;
        client.expect_type("connection_established").await?;
        client
            .send_fragmented(json!({"type": "echo", "payload": "four pieces"}).to_string(), 4)
            .await?;
        assert_eq!(client.expect_type("echo").await?["payload"], "four pieces");

        let text = json!({"type": "echo", "payload": "pings between"}).to_string();
        let (first, rest) = text.split_at(10);
        let interleaved = [
            RawFrame::text(first).fin(false).to_bytes(),
            RawFrame::ping("between").to_bytes(),
            RawFrame::continuation(rest).to_bytes(),
        ]
        .concat();
        client.send_raw(interleaved).await?;
        assert_eq!(client.expect_type("echo").await?["payload"], "pings between");

        client.write_in_chunks(7);
        client
            .send_json(json!({"type": "chat_message", "content": "in chunks"}))
            .await?;
        client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
        client.write_in_chunks(0);
        client
            .send_json(json!({"type": "echo", "payload": "whole again"}))
            .await?;
        client.expect_type("echo").await?;
        let history = client.history();
        let sent: Vec<String> = history
            .frames()
            .iter()
            .filter(|frame| frame.direction == ws_test_runtime::Direction::Out)
            .filter_map(|frame| frame.text().map(str::to_owned))
            .collect();
        assert!(
            sent[0].contains("four pieces"),
            "the fragmented message is recorded whole: {sent:?}"
        );
    }
    Ok(())
}

/// A server that assumes one read is one whole frame (a common shortcut over raw sockets): fine with whole writes,
/// broken by a client that writes in chunks.
async fn one_read_per_frame_server() -> Result<String, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| Error::Config(error.to_string()))?;
    let address = listener
        .local_addr()
        .map_err(|error| Error::Config(error.to_string()))?;
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let Some(key) = text.lines().find_map(|line| {
                    line.strip_prefix("Sec-WebSocket-Key: ")
                        .or(line.strip_prefix("sec-websocket-key: "))
                }) else {
                    return;
                };
                let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    // The shortcut: one read, one frame (a masked client frame under 126 bytes).
                    let n = match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let frame = &buffer[..n];
                    let length = usize::from(frame.get(1).copied().unwrap_or(0) & 0x7f);
                    if n < 6 + length {
                        // Half a frame: the server gives up on the connection.
                        return;
                    }
                    let key = [frame[2], frame[3], frame[4], frame[5]];
                    let payload: Vec<u8> = frame[6..6 + length]
                        .iter()
                        .enumerate()
                        .map(|(at, byte)| byte ^ key[at % 4])
                        .collect();
                    let mut echo = vec![0x81, length as u8];
                    echo.extend_from_slice(&payload);
                    if stream.write_all(&echo).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(format!("ws://{address}/ws"))
}

#[tokio::test]
async fn writes_in_chunks_break_a_server_that_reads_one_frame_per_read() -> TestResult {
    let url = one_read_per_frame_server().await?;
    let mut whole = WsClient::connect(&url).await?;
    whole.send_text("whole").await?;
    assert_eq!(whole.recv().await?.as_text(), Some("whole"));

    let mut chunked = WsClient::connect(&url).await?;
    chunked.write_in_chunks(3);
    // The server drops the connection on the first chunk: a later chunk's write or the wait for the echo fails.
    let failure = match chunked.send_text("in chunks").await {
        Err(failure) => failure,
        Ok(()) => chunked
            .recv()
            .await
            .expect_err("no echo from a server that gave up on half a frame"),
    };
    assert!(
        matches!(failure, Error::Closed { code: 1006, .. } | Error::WebSocket(_)),
        "the server ended the connection without an echo: {failure}"
    );
    Ok(())
}

/// The same test against an app with no heartbeat fails, and says what was awaited, after which misbehaviour,
/// and what arrived instead.
#[tokio::test(start_paused = true)]
async fn without_a_heartbeat_the_silent_client_test_fails_naming_the_misbehaviour() -> TestResult {
    let no_heartbeat = Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket: WebSocket| async move { while let Some(Ok(_)) = socket.recv().await {} })
        }),
    );
    let server = EmbeddedServer::builder()
        .app(no_heartbeat)
        .transport(Transport::Memory)
        .start()
        .await?;
    let mut silent = server.connect().await?;
    silent.go_silent();
    let failure = silent
        .expect_closed(4000)
        .within(Duration::from_secs(120))
        .await
        .expect_err("nothing closes a half-open connection without a heartbeat");
    let message = failure.to_string();
    assert!(matches!(failure, Error::Timeout { .. }), "{message}");
    assert!(
        message.contains("a close frame with code 4000") || message.contains("4000"),
        "names what was awaited: {message}"
    );
    assert!(message.contains("after the client went silent (go_silent"), "{message}");
    assert!(message.contains("120"), "names the time given: {message}");
    Ok(())
}

/// An echo app whose limit on a message's size is axum's default (64 MiB) unless `limit` says otherwise.
fn sized_app(limit: Option<usize>) -> Router {
    Router::new().route(
        "/ws",
        get(move |ws: WebSocketUpgrade| async move {
            let ws = match limit {
                Some(limit) => ws.max_message_size(limit).max_frame_size(limit),
                None => ws,
            };
            ws.on_upgrade(|mut socket: WebSocket| async move {
                loop {
                    match socket.recv().await {
                        Some(Ok(AxumMessage::Text(text))) => {
                            let size = json!({"type": "received", "bytes": text.len()}).to_string();
                            if socket.send(AxumMessage::Text(size.into())).await.is_err() {
                                return;
                            }
                        }
                        Some(Ok(_)) => {}
                        // Over the limit, axum reports an error and leaves the close to the app: 1009 says why.
                        Some(Err(_)) => {
                            let close = CloseFrame {
                                code: 1009,
                                reason: "message too big".into(),
                            };
                            let _ = socket.send(AxumMessage::Close(Some(close))).await;
                            return;
                        }
                        None => return,
                    }
                }
            })
        }),
    )
}

/// A client sends an 8 MiB message: the app with a 1 MiB limit closes with 1009; the one that accepts any size
/// takes it, and the test that expects the close fails saying what arrived instead.
#[tokio::test]
async fn an_oversized_message_is_refused_by_an_app_with_a_limit_and_swallowed_by_one_without() -> TestResult {
    let huge = RawFrame::text("x".repeat(8 << 20)).to_bytes();
    for transport in TRANSPORTS {
        let limited = EmbeddedServer::builder()
            .app(sized_app(Some(1 << 20)))
            .transport(transport)
            .start()
            .await?;
        let mut client = limited.connect().await?;
        // The header alone announces 8 MiB: the limit refuses it before any byte of it (sending the whole 8 MiB
        // to a server that already closed would end in a reset of what it left unread).
        client.send_raw(RawFrame::text("x").declared_length(8 << 20)).await?;
        client.expect_closed(1009).await?;

        let unlimited = EmbeddedServer::builder()
            .app(sized_app(None))
            .transport(transport)
            .start()
            .await?;
        let mut client = unlimited.connect().await?;
        client.send_raw(huge.as_slice()).await?;
        let failure = client
            .expect_closed(1009)
            .within(Duration::from_secs(2))
            .await
            .expect_err("an app without a limit takes 8 MiB");
        let message = failure.to_string();
        assert!(
            message.contains("1 frame(s) arrived instead") && message.contains("received"),
            "{transport:?}: {message}"
        );
        assert_eq!(
            client.recv_json().await?["bytes"],
            8 << 20,
            "{transport:?}: the whole message was taken"
        );
    }
    Ok(())
}

/// A chat room that broadcasts to every member in turn. `awaits_each` is the classic bug: it awaits each
/// member's send, so one member that stops reading stalls the room for everyone. Fixed, each member has its own
/// bounded queue, and a member whose queue is full is dropped.
fn room_app(awaits_each: bool) -> Router {
    use tokio::sync::mpsc::{Sender, channel};
    type Members = Arc<tokio::sync::Mutex<Vec<(u64, Sender<String>)>>>;
    let members: Members = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    Router::new().route(
        "/ws",
        get(move |ws: WebSocketUpgrade| {
            let (members, next) = (Arc::clone(&members), Arc::clone(&next));
            async move {
                ws.on_upgrade(move |socket: WebSocket| async move {
                    use futures_util::{SinkExt as _, StreamExt as _};
                    let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (mut sink, mut stream) = socket.split();
                    // The buggy room writes to each member's socket itself, in turn (capacity 1: a send waits for
                    // the member's writer, which waits for the socket); the fixed one queues and moves on.
                    let (sender, mut queue) = channel::<String>(if awaits_each { 1 } else { 64 });
                    members.lock().await.push((id, sender));
                    let writer = tokio::spawn(async move {
                        while let Some(text) = queue.recv().await {
                            if sink.send(AxumMessage::Text(text.into())).await.is_err() {
                                return;
                            }
                        }
                    });
                    while let Some(Ok(message)) = stream.next().await {
                        let AxumMessage::Text(text) = message else { continue };
                        let mut all = members.lock().await;
                        let mut gone = Vec::new();
                        for (member, sender) in all.iter() {
                            let sent = if awaits_each {
                                sender.send(text.to_string()).await.is_ok()
                            } else {
                                sender.try_send(text.to_string()).is_ok()
                            };
                            if !sent {
                                gone.push(*member);
                            }
                        }
                        all.retain(|(member, _)| !gone.contains(member));
                    }
                    members.lock().await.retain(|(member, _)| *member != id);
                    writer.abort();
                })
            }
        }),
    )
}

/// One member stops reading while another talks: in the fixed room the talker hears every message; in the buggy
/// one the room stalls, and the test says which message it waited for and how many came.
#[tokio::test]
async fn a_member_that_stops_reading_stalls_a_room_that_awaits_each_member() -> TestResult {
    let payload = "y".repeat(32 * 1024);
    for awaits_each in [false, true] {
        let server = EmbeddedServer::builder().app(room_app(awaits_each)).start().await?;
        let mut asleep = server.connect().await?;
        let mut talker = server.connect().await?;
        asleep.stop_reading();
        let mut heard = 0;
        let outcome = async {
            for n in 0..200 {
                talker.send_text(format!("{n} {payload}")).await?;
                let echo = talker.recv().within(Duration::from_secs(2)).await?;
                assert!(echo.as_text().is_some_and(|text| text.starts_with(&format!("{n} "))));
                heard += 1;
            }
            Ok::<_, Error>(())
        }
        .await;
        match awaits_each {
            false => {
                outcome.map_err(|error| Error::Config(format!("the fixed room stalled after {heard}: {error}")))?
            }
            true => {
                let failure = outcome.expect_err("the buggy room stalls behind the member that stopped reading");
                assert!(matches!(failure, Error::Timeout { .. }), "{failure}");
                assert!(heard < 200, "heard {heard}");
            }
        }
        asleep.resume_reading();
    }
    Ok(())
}

/// The misbehaviours against your own server under `serve =` (a tokio-tungstenite loop, as the RFC wants it):
/// raw frames get their close codes, fragments and chunks arrive whole, a vanished client leaves the others be.
async fn tungstenite_echo(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use futures_util::{SinkExt as _, StreamExt as _};
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(read) = socket.next().await {
                match read {
                    Ok(message) if message.is_text() || message.is_binary() => {
                        if socket.send(message).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // tungstenite reports a bad frame and leaves the close to the server: 1007 for text that is not
                    // UTF-8, 1002 for the rest (a loop that just returns resets the connection instead).
                    Err(error) => {
                        use tokio_tungstenite::tungstenite::Error as WsError;
                        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
                        use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
                        let code = match error {
                            WsError::Utf8(_) => CloseCode::Invalid,
                            _ => CloseCode::Protocol,
                        };
                        let _ = socket
                            .close(Some(CloseFrame {
                                code,
                                reason: "bad frame".into(),
                            }))
                            .await;
                        return;
                    }
                }
            }
        });
    }
}

#[ws_test_runtime::ws_test(serve = tungstenite_echo, clients = 2)]
async fn every_misbehaviour_works_under_serve(mut clients: Vec<WsClient>) -> TestResult {
    let mut other = clients.pop().expect("two clients");
    let mut client = clients.pop().expect("two clients");
    client.send_fragmented("in three", 3).await?;
    assert_eq!(client.recv().await?.as_text(), Some("in three"));
    client.write_in_chunks(5);
    client.send_text("in chunks of five").await?;
    assert_eq!(client.recv().await?.as_text(), Some("in chunks of five"));
    client.send_raw(RawFrame::text(&[0xff][..])).await?;
    client.expect_closed(1007).await?;
    client.vanish();
    other.send_text("still here").await?;
    assert_eq!(other.recv().await?.as_text(), Some("still here"));
    Ok(())
}

/// docs/misbehaving.md's axum echo app, run (the guide's examples only compile): a frame the protocol forbids
/// ends the connection with the code the RFC names, fragments and chunks arrive whole.
fn guide_echo() -> Router {
    Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move {
            ws.max_message_size(1 << 20)
                .max_frame_size(1 << 20)
                .on_upgrade(|mut socket: WebSocket| async move {
                    loop {
                        match socket.recv().await {
                            Some(Ok(AxumMessage::Text(text))) => {
                                if socket.send(AxumMessage::Text(text)).await.is_err() {
                                    return;
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(error)) => {
                                let text = error.to_string();
                                let code = if text.contains("UTF-8") {
                                    1007
                                } else if text.contains("Space limit exceeded") {
                                    1009
                                } else {
                                    1002
                                };
                                let close = CloseFrame {
                                    code,
                                    reason: "bad frame".into(),
                                };
                                let _ = socket.send(AxumMessage::Close(Some(close))).await;
                                return;
                            }
                            None => return,
                        }
                    }
                })
        }),
    )
}

#[tokio::test]
async fn the_guides_axum_app_closes_on_what_the_rfc_forbids_and_takes_fragments_and_chunks() -> TestResult {
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder()
            .app(guide_echo())
            .transport(transport)
            .start()
            .await?;
        for (frame, code) in [
            (RawFrame::text(&[0xce, 0xba, 0xff][..]), 1007),
            (RawFrame::text("hi").rsv(4), 1002),
            (RawFrame::text("hi").unmasked(), 1002),
            (RawFrame::ping(vec![0; 126]), 1002),
            (RawFrame::continuation("orphan"), 1002),
            (RawFrame::text("x").declared_length(8 << 20), 1009),
        ] {
            let mut client = server.connect().await?;
            client.send_raw(&frame).await?;
            client
                .expect_closed(code)
                .await
                .map_err(|error| Error::Config(format!("{transport:?}, {frame:?}: {error}")))?;
        }
        let mut client = server.connect().await?;
        client.send_fragmented("in four pieces", 4).await?;
        assert_eq!(client.recv().await?.as_text(), Some("in four pieces"));
        client.write_in_chunks(7);
        client.send_text("in chunks").await?;
        assert_eq!(client.recv().await?.as_text(), Some("in chunks"));
    }
    Ok(())
}

/// go_silent over TCP too: ws-test's own idle timeout closes the half-open connection (1001).
#[tokio::test]
async fn a_silent_client_over_tcp_is_closed_by_the_idle_timeout() -> TestResult {
    let server = EmbeddedServer::builder()
        .idle_timeout(Duration::from_millis(300))
        .start()
        .await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client.go_silent();
    let close = client.expect_closed(1001).within(Duration::from_secs(5)).await?;
    assert!(close.reason.starts_with("idle for"), "{close:?}");
    assert_eq!(server.metrics().closed_idle, 1);
    Ok(())
}

/// A profile declares the link once; its tests inherit it.
#[derive(ws_test_runtime::WsProfile)]
#[ws_profile(link = "latency=30ms", transport = "memory", start_paused = true)]
struct OverASlowLink;

#[ws_test_runtime::ws_test(profile = OverASlowLink)]
async fn a_profile_declares_the_link(client: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    assert!(client.ping("hi").await? >= Duration::from_millis(60));
    assert_eq!(server.link().stats().opened, 1);
    Ok(())
}

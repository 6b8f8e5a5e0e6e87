//! The socketioxide chat app under `#[ws_test(app = ..., protocol = "socket.io")]`, written as its users would:
//! event order across two users, acknowledgements, a namespace with auth, binary attachments, over TCP and in
//! memory.

use std::time::Duration;

use socketio_chat::ADMIN_TOKEN;
use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::SocketIo;
use ws_test_runtime::{Direction, FrameKind};

/// Adds the user `name` and returns the `login` the server answers with.
async fn add_user(client: &mut WsClient, name: &str) -> Result<Value, ws_test_runtime::Error> {
    client.emit("add user", json!(name)).await?;
    client.expect_type("login").await
}

#[ws_test(app = socketio_chat::app, protocol = "socket.io", clients = 2, events = ["login", "user joined"])]
async fn a_user_who_joins_is_announced_to_the_others(mut clients: Vec<WsClient>) -> TestResult {
    let login = add_user(&mut clients[0], "alice").await?;
    assert_eq!(login["data"], json!({"numUsers": 1}), "{login}");
    let login = add_user(&mut clients[1], "bob").await?;
    assert_eq!(login["data"]["numUsers"], 2);
    let joined = clients[0].expect_type("user joined").await?;
    assert_eq!(joined["data"], json!({"username": "bob", "numUsers": 2}));
    assert_eq!(joined["nsp"], "/");
    Ok(())
}

#[ws_test(
    app = socketio_chat::app,
    protocol = "socket.io",
    transport = "memory",
    clients = 2,
    events = ["login", "user joined", "new message", "typing", "user left"]
)]
async fn a_conversation_in_memory(mut clients: Vec<WsClient>) -> TestResult {
    add_user(&mut clients[0], "alice").await?;
    add_user(&mut clients[1], "bob").await?;
    let mut bob = clients.remove(1);
    bob.emit("new message", json!("hi alice")).await?;
    bob.emit("typing", json!(null)).await?;
    let said = clients[0].expect_type("new message").await?;
    assert_eq!(said["data"], json!({"username": "bob", "message": "hi alice"}));
    clients[0].expect_type("typing").await?;
    // Bob leaves: alice is told.
    bob.close(1000, "bye").await?;
    let left = clients[0].expect_type("user left").await?;
    assert_eq!(left["data"], json!({"username": "bob", "numUsers": 1}));
    Ok(())
}

/// The app forgets to broadcast `user joined`: the test fails within its deadline naming the missing event.
#[ws_test(
    app = socketio_chat::app_that_forgets_user_joined,
    protocol = "socket.io",
    clients = 2,
    events = ["login", "user joined"],
    event_timeout = "500ms"
)]
#[should_panic(expected = "user joined")]
async fn a_join_that_is_never_announced_fails_naming_it(mut clients: Vec<WsClient>) -> TestResult {
    add_user(&mut clients[0], "alice").await?;
    add_user(&mut clients[1], "bob").await?;
    Ok(())
}

#[ws_test(
    app = socketio_chat::app,
    protocol = SocketIo::new().namespace("/admin").auth(json!({"token": ADMIN_TOKEN}))
)]
async fn a_namespace_with_auth_answers_acknowledgements(client: &mut WsClient) -> TestResult {
    let reply = client.emit_with_ack("stats", json!({})).await?;
    assert_eq!(reply, vec![json!(0)]);
    // A binary attachment goes up and comes back reversed, as bytes in `args`.
    let upload = json!({"name": "report.bin", "bytes": SocketIo::bytes([1, 2, 3, 250])});
    let reply = client.emit_with_ack("upload", upload).await?;
    assert_eq!(reply, vec![json!("report.bin"), json!(4)]);
    let file = client.expect_type("file").await?;
    assert_eq!(file["args"], json!(["report.bin", [250, 3, 2, 1]]), "{file}");
    assert_eq!(file["nsp"], "/admin");
    Ok(())
}

#[ws_test(
    app = socketio_chat::app,
    protocol = SocketIo::new().namespace("/admin").auth(json!({"token": "wrong"}))
)]
#[should_panic(expected = "the server refused the connect to namespace /admin: invalid token")]
async fn a_wrong_token_fails_the_connect_with_the_servers_message(_client: &mut WsClient) {}

fn fast_heartbeat() -> axum::Router {
    socketio_chat::app_with_heartbeat(Duration::from_millis(200))
}

/// The server pings every 200 ms and drops a client that has not answered within 200 ms more: the kit answers every
/// ping, so the connection lives through many of them (the history shows each ping and its answer, as the
/// protocol's own frames, which no expectation reads), and an acknowledgement still comes back.
#[ws_test(app = fast_heartbeat, protocol = "socket.io")]
async fn the_servers_pings_are_answered(client: &mut WsClient) -> TestResult {
    client.expect_no_message(Duration::from_millis(1500)).await?;
    add_user(client, "alice").await?;
    let history = client.history();
    let text = |frame: &ws_test_runtime::Frame| frame.text().map(str::to_owned);
    let count = |direction: Direction, packet: &str| {
        history
            .frames()
            .iter()
            .filter(|frame| frame.direction == direction && text(frame).as_deref() == Some(packet))
            .count()
    };
    let (pings, pongs) = (count(Direction::In, "2"), count(Direction::Out, "3"));
    assert!(pings >= 2, "a ping every 200 ms for 1.5 s:\n{}", history.timeline());
    assert!(
        pongs >= pings.saturating_sub(1),
        "{pings} pings, {pongs} answers:\n{}",
        history.timeline()
    );
    assert!(
        !history
            .frames()
            .iter()
            .any(|frame| matches!(frame.kind, FrameKind::Close { .. }))
    );
    Ok(())
}

/// Without the kit, nothing answers the pings: the same server drops the connection.
#[tokio::test]
async fn without_the_kit_the_server_drops_a_client_that_does_not_answer() -> Result<(), ws_test_runtime::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, fast_heartbeat()).await });
    let mut raw = WsClient::connect(format!("ws://{address}/socket.io/?EIO=4&transport=websocket")).await?;
    let silence = raw.expect_no_message(Duration::from_millis(1500)).await;
    assert!(
        silence.is_err(),
        "the server kept a client that never answered its pings"
    );
    Ok(())
}

/// The same by hand, without the attribute: a builder with the kit, and two users.
#[tokio::test]
async fn by_hand_with_the_builder() -> Result<(), ws_test_runtime::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, socketio_chat::app()).await });
    let mut alice = WsClient::builder(&url).protocol("socket.io").connect().await?;
    let mut bob = WsClient::builder(&url).protocol(SocketIo::new()).connect().await?;
    add_user(&mut alice, "alice").await?;
    add_user(&mut bob, "bob").await?;
    alice.emit("new message", "hello bob").await?;
    let said = bob.expect_type("new message").await?;
    assert_eq!(said["data"]["message"], "hello bob");
    let unknown = WsClient::builder(&url).protocol("socket.io.v9").connect().await;
    assert!(
        unknown
            .as_ref()
            .is_err_and(|error| error.to_string().contains("socket.io")),
        "{unknown:?}"
    );
    Ok(())
}

/// A session recorded through the relay with the kit: the transcript holds each raw frame with its event beside
/// it, and the expectation made from it names the events (Engine.IO's open, pings and the connect left out).
#[tokio::test]
async fn a_recorded_session_reads_as_events() -> Result<(), ws_test_runtime::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, socketio_chat::app()).await });
    let upstream = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
    let mut recorder = ws_test_runtime::Recorder::builder(&upstream)
        .protocol("socket.io")
        .start()
        .await?;
    let mut client = WsClient::builder(recorder.url())
        .protocol("socket.io")
        .connect()
        .await?;
    add_user(&mut client, "alice").await?;
    client.close(1000, "done").await?;
    recorder.shutdown().await?;
    let sessions = recorder.sessions();
    let history = &sessions[0];
    let events: Vec<Value> = history.received().filter_map(|frame| frame.json()).collect();
    assert_eq!(
        events,
        [json!({"event": "login", "data": {"numUsers": 1}, "args": [{"numUsers": 1}], "nsp": "/"})]
    );
    let sent: Vec<Value> = history.sent().filter_map(|frame| frame.json()).collect();
    assert_eq!(sent[0]["event"], "add user", "{}", history.timeline());
    let expectation = Expect::from_history_keyed(history, "event")?;
    assert!(expectation.to_rust().contains("\"login\""), "{}", expectation.to_rust());
    Ok(())
}

/// A session python-socketio had with this app, recorded with `ws-test record --protocol socket.io`, served back
/// by ws-test's own server speaking Socket.IO: the kit's client gets the same `login` for the same `add user`.
#[ws_test(replay = "tests/fixtures/python-socketio.jsonl", protocol = "socket.io", events = ["login"])]
async fn a_recorded_session_replays_as_a_socketio_server(client: &mut WsClient) -> TestResult {
    assert!(client.url().contains("/socket.io/"), "{}", client.url());
    let login = add_user(client, "alice").await?;
    assert_eq!(login["data"], json!({"numUsers": 1}));
    Ok(())
}

/// The replay compares events, not frames: another name diverges, the client is told with 1008, and the test
/// fails naming the recorded line and the difference.
#[ws_test(replay = "tests/fixtures/python-socketio.jsonl", protocol = "socket.io")]
#[should_panic(expected = "diverged at line 7 of python-socketio.jsonl: at `args[0]` expected \"alice\", got \"bob\"")]
async fn a_replay_that_diverges_closes_naming_the_recorded_event(client: &mut WsClient) -> TestResult {
    client.emit("add user", json!("bob")).await?;
    let close = client.expect_closed(1008).await?;
    assert!(close.reason.contains("python-socketio.jsonl"), "{close:?}");
    Ok(())
}

/// The app graded against its AsyncAPI document of decoded events, through the kit: what `ws-test check URL
/// --asyncapi examples/asyncapi/socketio-chat.yaml --protocol socket.io` does.
#[tokio::test]
async fn the_app_keeps_its_asyncapi_contract() -> Result<(), ws_test_runtime::Error> {
    use ws_test_runtime::contract::{Contract, ContractCheck};
    let contract = Contract::from_asyncapi(concat!(env!("CARGO_MANIFEST_DIR"), "/../asyncapi/socketio-chat.yaml"))?;
    let server = EmbeddedServer::builder().app(socketio_chat::app()).start().await?;
    let client = WsClient::builder(server.url()).protocol(SocketIo::new());
    let report = ContractCheck::new(&contract, client).run_with(|_| {}).await?;
    assert!(report.all_passed(), "{report}");
    assert_eq!(report.checks.len(), 2, "{report}");
    Ok(())
}

//! Framings whose frame is not the event, as a team would write them: `"EVENT|payload"` text frames from two
//! functions ([`Framing`]), and a length-prefixed binary framing whose messages span frames (a [`Protocol`] with
//! state), asserted with `events = [...]` like any JSON protocol; and the kits' names.

use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::{self, Framing, Protocol, ProtocolSession, Step};
use ws_test_runtime::{Handler, HandlerResult, Message, Router};

/// `EVENT|payload` text frames.
fn bar() -> Framing {
    Framing::new("bar")
        .event_key("event")
        .decode(
            |frame: &Message| match frame.as_text().and_then(|text| text.split_once('|')) {
                Some((event, data)) => Ok(json!({"event": event, "data": data})),
                None => Err("not EVENT|payload".to_owned()),
            },
        )
        .encode(|event: &Value| {
            let name = event["event"].as_str().ok_or("an event needs a name")?;
            let data = event["data"].as_str().unwrap_or_default();
            Ok(vec![Message::Text(format!("{name}|{data}"))])
        })
}

/// A server speaking `bar`: `join|ROOM` is answered by `joined|ROOM`, `said|hello` and `left|ROOM`; anything
/// else by a frame that is not `bar` at all.
struct BarRooms {
    leaves: bool,
}

impl Handler for BarRooms {
    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        match message.as_text().and_then(|text| text.strip_prefix("join|")) {
            Some(room) => {
                session.send_text(format!("joined|{room}")).await?;
                session.send_text("said|hello").await?;
                if self.leaves {
                    session.send_text(format!("left|{room}")).await?;
                }
            }
            None => session.send_text("??").await?,
        }
        Ok(())
    }
}

fn bar_rooms() -> BarRooms {
    BarRooms { leaves: true }
}

fn bar_rooms_that_never_leave() -> BarRooms {
    BarRooms { leaves: false }
}

#[ws_test(handler = bar_rooms(), skip_welcome = true, protocol = bar(), events = ["joined", "said", "left"])]
async fn an_event_bar_payload_framing_is_asserted_by_its_events(client: &mut WsClient) -> TestResult {
    client.emit("join", "lobby").await?;
    let joined = client.expect_type("joined").await?;
    assert_eq!(joined["data"], "lobby");
    Ok(())
}

#[ws_test(
    handler = bar_rooms_that_never_leave(),
    skip_welcome = true,
    protocol = bar(),
    events = ["joined", "said", "left"],
    event_timeout = "300ms"
)]
#[should_panic(expected = "missing: left")]
async fn a_bar_room_that_never_leaves_fails_naming_the_event(client: &mut WsClient) -> TestResult {
    client.emit("join", "lobby").await?;
    Ok(())
}

/// A frame the framing cannot read is never dropped: receiving it as JSON is an error with the framing's words.
#[ws_test(handler = bar_rooms(), skip_welcome = true, protocol = bar())]
async fn a_frame_the_framing_cannot_read_says_why(client: &mut WsClient) -> TestResult {
    client.send_text("hello").await?;
    let error = client.recv_json().await.expect_err("`??` is not bar");
    assert!(error.to_string().contains("not EVENT|payload"), "{error}");
    Ok(())
}

/// Length-prefixed binary messages (a 4-byte big-endian length, then JSON) that the server splits across
/// frames: the protocol keeps what came until a message is whole.
#[derive(Debug)]
struct LengthPrefixed;

#[derive(Default)]
struct Buffered {
    bytes: Vec<u8>,
}

impl Protocol for LengthPrefixed {
    fn name(&self) -> &str {
        "length-prefixed"
    }

    fn session(&self) -> Box<dyn ProtocolSession> {
        Box::new(Buffered::default())
    }
}

fn framed(event: &Value) -> Vec<u8> {
    let body = event.to_string().into_bytes();
    let mut bytes = u32::try_from(body.len()).expect("small").to_be_bytes().to_vec();
    bytes.extend(body);
    bytes
}

impl ProtocolSession for Buffered {
    fn receive(&mut self, frame: &Message) -> Step {
        let Message::Binary(bytes) = frame else {
            return Step::invalid("length-prefixed messages are binary");
        };
        self.bytes.extend_from_slice(bytes);
        let Some(length) = self
            .bytes
            .get(..4)
            .map(|head| u32::from_be_bytes(head.try_into().expect("4 bytes")))
        else {
            return Step::control("the start of a length");
        };
        let end = 4 + length as usize;
        if self.bytes.len() < end {
            return Step::control(format!("{} of {length} bytes", self.bytes.len() - 4));
        }
        let body: Vec<u8> = self.bytes.drain(..end).skip(4).collect();
        match serde_json::from_slice(&body) {
            Ok(event) => Step::event(event),
            Err(error) => Step::invalid(format!("a message that is not JSON: {error}")),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        Ok(vec![Message::Binary(framed(event))])
    }
}

/// Answers each message with `ack` and `done`, each split into two binary frames at an odd byte.
struct Splitter;

impl Handler for Splitter {
    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        let Message::Binary(bytes) = message else { return Ok(()) };
        let asked: Value = serde_json::from_slice(&bytes[4..])?;
        for reply in ["ack", "done"] {
            let bytes = framed(&json!({"type": reply, "id": asked["id"]}));
            let (head, tail) = bytes.split_at(3);
            session.send_binary(head.to_vec()).await?;
            session.send_binary(tail.to_vec()).await?;
        }
        Ok(())
    }
}

#[ws_test(
    handler = Splitter,
    skip_welcome = true,
    protocol = LengthPrefixed,
    events = ["ack", "done"],
    order = "strict",
    per = "id",
    times = 2
)]
async fn length_prefixed_messages_split_across_frames_are_events(client: &mut WsClient) -> TestResult {
    client.send_event(json!({"type": "start", "id": 1})).await?;
    client.send_event(json!({"type": "start", "id": 2})).await?;
    let dones = client.expect(Expect::events(["done", "done"])).await?;
    assert_eq!(dones.events()[1], json!({"type": "done", "id": 2}));
    let history = client.history();
    // Every frame stays in the history: the first part of each message as the protocol's own, the last as the event.
    assert!(
        history
            .frames()
            .iter()
            .any(|frame| matches!(frame.decoded, Some(ws_test_runtime::Decoded::Control(_))))
    );
    Ok(())
}

/// The macro checks a kit's name at compile time against its own list: the runtime's list is the same.
#[test]
fn the_macro_knows_the_runtimes_kits() {
    let args = include_str!("../ws-test-macros/src/model.rs");
    let line = args
        .lines()
        .find(|line| line.starts_with("pub(crate) const PROTOCOL_NAMES"))
        .expect("the macro's list of kits");
    let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert_eq!(listed, protocol::NAMES);
    for name in protocol::NAMES {
        assert_eq!(
            protocol::by_name(name).map(|kit| kit.name().to_owned()).ok().as_deref(),
            Some(*name)
        );
    }
    let unknown = protocol::by_name("stomp").expect_err("no STOMP kit");
    assert!(
        unknown.to_string().contains("socket.io, graphql-transport-ws, jsonrpc"),
        "{unknown}"
    );
}

/// A test spec given an unknown kit fails before it starts, naming the kits.
#[test]
#[should_panic(expected = "no protocol is called \"stomp\"")]
fn an_unknown_kit_in_a_spec_fails_the_test_naming_the_kits() {
    let spec = ws_test_runtime::driver::TestSpec::new("kits::unknown").protocol("stomp");
    ws_test_runtime::driver::run(spec, ws_test_runtime::driver::body(async |_client: &mut WsClient| {}));
}

/// A workspace declares its framing once, in a profile.
#[derive(ws_test_runtime::WsProfile)]
#[ws_profile(handler = bar_rooms(), skip_welcome = true, protocol = bar())]
struct BarBackend;

#[ws_test(profile = BarBackend, events = ["joined", "said", "left"])]
async fn a_profile_speaks_the_framing(client: &mut WsClient) -> TestResult {
    client.emit("join", "kitchen").await?;
    assert_eq!(client.expect_type("joined").await?["data"], "kitchen");
    Ok(())
}

/// A mock Socket.IO server: ws-test's own server speaking the kit's server side, a `Router` keyed by `"event"`.
fn socketio_mock() -> Router {
    Router::new()
        .event_key("event")
        .on_connect(|session: Session| async move {
            // Sent before the namespace connect: it waits for it, as a Socket.IO client expects.
            session.send_json(&json!({"event": "hello", "data": "welcome"})).await
        })
        .route("add user", |session: Session, event: Value| async move {
            session.send_json(&json!({"event": "login", "data": {"numUsers": 1}})).await?;
            let joined = json!({"event": "user joined", "data": {"username": event["data"], "numUsers": 1}});
            session.send_json(&joined).await
        })
        .route("ping", |session: Session, event: Value| async move {
            // The client waits for an acknowledgement: answer its id.
            session.send_json(&json!({"ack": event["ack"], "args": ["pong", event["data"]]})).await
        })
        .route("upload", |session: Session, event: Value| async move {
            let bytes: Vec<u8> = serde_json::from_value(event["data"].clone()).unwrap_or_default();
            let echo = json!({"event": "uploaded", "data": protocol::SocketIo::bytes(bytes.iter().rev().copied().collect::<Vec<u8>>())});
            session.send_json(&echo).await
        })
}

/// The test's `protocol` is spoken by ws-test's own server too, when the protocol has a server side.
#[ws_test(
    handler = socketio_mock,
    protocol = "socket.io",
    events = ["hello", "login", "user joined", "uploaded"]
)]
async fn a_router_mocks_a_socketio_server_for_the_kits_client(client: &mut WsClient) -> TestResult {
    client.emit("add user", json!("alice")).await?;
    client
        .expect(Expect::events(["hello", "login", "user joined"]).strict())
        .await?;
    let reply = client.emit_with_ack("ping", json!({"n": 1})).await?;
    assert_eq!(reply, vec![json!("pong"), json!({"n": 1})]);
    client.emit("upload", protocol::SocketIo::bytes([1u8, 2, 3])).await?;
    let uploaded = client.expect_type("uploaded").await?;
    assert_eq!(uploaded["data"], json!([3, 2, 1]), "binary both ways: {uploaded}");
    Ok(())
}

#[tokio::test]
async fn a_socketio_mock_speaks_engine_io_to_a_raw_client_and_closes_on_what_it_cannot_read() -> TestResult {
    let server = EmbeddedServer::builder()
        .protocol(protocol::SocketIo::new())
        .handler(socketio_mock())
        .start()
        .await?;
    assert!(server.url().ends_with("/socket.io/"), "{}", server.url());
    // A plain WebSocket client, reading the wire as a Socket.IO client library would.
    let mut raw = WsClient::connect(&format!("{}?EIO=4&transport=websocket", server.url())).await?;
    let open = text(raw.recv().await?);
    let body: Value = serde_json::from_str(open.strip_prefix('0').expect("the open packet"))?;
    assert!(body["sid"].is_string() && body["pingInterval"] == 25_000, "{open}");
    raw.send_text("40/chat,{\"token\":\"t\"}").await?;
    let connected = text(raw.recv().await?);
    assert!(connected.starts_with("40/chat,{\"sid\":"), "{connected}");
    assert_eq!(
        text(raw.recv().await?),
        r#"42["hello","welcome"]"#,
        "the event that waited for the connect"
    );
    raw.send_text("2").await?;
    assert_eq!(text(raw.recv().await?), "3", "a ping is answered");
    raw.send_text("42[\"add user\",\"bob\"]").await?;
    assert_eq!(text(raw.recv().await?), r#"42["login",{"numUsers":1}]"#);
    raw.send_text("4x").await?;
    let close = raw.expect_closed(1008).await?;
    assert!(
        close.reason.contains("the protocol cannot read this frame"),
        "{close:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_protocol_without_a_server_side_is_refused_at_start() {
    let error = EmbeddedServer::builder().protocol(bar()).start().await.unwrap_err();
    assert!(error.to_string().contains("has no server side"), "{error}");
    let error = EmbeddedServer::builder().protocol("stomp").start().await.unwrap_err();
    assert!(error.to_string().contains("no protocol is called \"stomp\""), "{error}");
}

/// graphql-transport-ws: the server side acknowledges `connection_init` by itself; a router answers `subscribe`.
fn graphql_mock() -> Router {
    Router::new().route("subscribe", |session: Session, subscribe: Value| async move {
        let id = subscribe["id"].clone();
        for n in 1..=2 {
            session
                .send_json(&json!({"type": "next", "id": id, "payload": {"data": {"tick": n}}}))
                .await?;
        }
        session.send_json(&json!({"type": "complete", "id": id})).await
    })
}

#[ws_test(
    handler = graphql_mock,
    protocol = "graphql-transport-ws",
    events = ["next", "next", "complete"],
    per = "id",
    times = 2
)]
async fn a_router_mocks_a_graphql_server(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("graphql-transport-ws"));
    client.subscribe_graphql("subscription { tick }", json!({})).await?;
    client.subscribe_graphql("subscription { tick }", json!({})).await?;
    Ok(())
}

fn text(message: Message) -> String {
    match message {
        Message::Text(text) => text,
        Message::Binary(bytes) => panic!("a binary frame of {} byte(s) where text was expected", bytes.len()),
    }
}

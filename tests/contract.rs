//! AsyncAPI contracts over real sockets: `#[ws_test(contract = ...)]` and `WsClient::conforms_to` with the
//! built-in agent's own contract (`examples/asyncapi/chat.yaml`), and apps that break it.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use ws_test_runtime::contract::Contract;
use ws_test_runtime::prelude::*;

const CHAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml");

#[ws_test(contract = "../examples/asyncapi/chat.yaml", events = ChatEvent::CRITICAL, per = "run_id")]
async fn the_built_in_agent_conforms_to_its_asyncapi_contract(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    client.send_json(json!({"type": "echo", "payload": [1, 2]})).await?;
    client.send_json(json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    Ok(())
}

#[ws_test(contract = "../examples/asyncapi/chat.yaml")]
#[should_panic(
    expected = "`no_such_route` is not a message the client may send on channel chat; it allows: \
                           broadcast, chat_message, user_message, echo, ping"
)]
async fn what_the_test_itself_sends_must_conform_too(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "no_such_route"})).await?;
    // The server answers with an error frame, which the contract allows; the client's frame is what breaks it.
    client.expect_type("error").await?;
    Ok(())
}

/// An app that answers each text frame with `reply`, after a greeting of its own.
async fn answering(mut socket: WebSocket, greeting: &'static str, reply: &'static str) {
    if socket.send(Message::Text(greeting.into())).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        if matches!(message, Message::Text(_)) && socket.send(Message::Text(reply.into())).await.is_err() {
            return;
        }
    }
}

fn greeting_app() -> axum::Router {
    axum::Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async {
            ws.on_upgrade(|socket| answering(socket, r#"{"type":"hello"}"#, r#"{"type":"pong","timestamp":1}"#))
        }),
    )
}

fn late_pong_app() -> axum::Router {
    axum::Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async {
            ws.on_upgrade(|socket| {
                answering(
                    socket,
                    r#"{"type":"connection_established","connection_id":"c1","user_id":"u1"}"#,
                    r#"{"type":"pong","timestamp":"now"}"#,
                )
            })
        }),
    )
}

#[ws_test(app = greeting_app, contract = "../examples/asyncapi/chat.yaml")]
#[should_panic(expected = "`hello` is not a message the server may send on channel chat")]
async fn an_app_that_sends_a_frame_the_contract_does_not_allow_fails_the_test(client: &mut WsClient) -> TestResult {
    client.expect_type("hello").await?;
    client.send_json(json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    Ok(())
}

#[ws_test(app = late_pong_app, contract = "../examples/asyncapi/chat.yaml")]
#[should_panic(expected = r#"/timestamp: "now" is not of type "integer""#)]
async fn a_payload_that_breaks_its_schema_fails_the_test_naming_the_pointer(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    Ok(())
}

#[tokio::test]
async fn conforms_to_names_the_frame_the_message_and_the_pointer() -> TestResult {
    let contract = Contract::from_asyncapi(CHAT)?;
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client
        .send_json(json!({"type": "chat_message", "content": "hi", "run_id": "r1"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
    client.conforms_to(&contract)?;

    // A client frame the contract does not describe: a chat message without content.
    client
        .send_json(json!({"type": "chat_message", "run_id": "r2"}))
        .await?;
    client.expect_type("error").await?;
    let error = client.conforms_to(&contract).unwrap_err().to_string();
    assert!(
        error.contains("frame #7 (sent: chat_message run_id=r2) breaks the contract")
            && error.contains("checked as message chatMessage (#/components/messages/chatMessage)")
            && error.contains(r#"/content: "content" is a required property"#),
        "{error}"
    );
    Ok(())
}

/// A team's own events, declared once: decoded in tests (`WsEvents`), and written into the contract (`JsonSchema`).
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, WsEvents)]
#[serde(tag = "event", rename_all = "snake_case")]
enum RoomEvent {
    Joined { topic: String, user: String, count: u32 },
    Left { topic: String, user: String },
}

/// An AsyncAPI document whose messages are `RoomEvent`'s, generated: the server sends them on channel `/ws`.
fn room_contract() -> Contract {
    let components = RoomEvent::asyncapi_components();
    let document = json!({
        "asyncapi": "3.0.0",
        "info": {"title": "rooms", "version": "1", "x-ws-test-event-key": RoomEvent::EVENT_KEY},
        "channels": {"room": {"address": "/ws", "messages": {
            "Joined": {"$ref": "#/components/messages/Joined"},
            "Left": {"$ref": "#/components/messages/Left"}
        }}},
        "operations": {"events": {"action": "send", "channel": {"$ref": "#/channels/room"}}},
        "components": components,
    });
    Contract::from_asyncapi_str(&document.to_string(), "rooms.json").expect("the generated document reads")
}

fn room_app(joined: &'static str) -> axum::Router {
    axum::Router::new().route(
        "/ws",
        get(move |ws: WebSocketUpgrade| async move {
            ws.on_upgrade(move |mut socket| async move {
                for frame in [joined, r#"{"event":"left","topic":"lobby","user":"ann"}"#] {
                    if socket.send(Message::Text(frame.into())).await.is_err() {
                        return;
                    }
                }
                while socket.recv().await.is_some() {}
            })
        }),
    )
}

#[tokio::test]
async fn a_contract_written_from_the_events_types_checks_a_live_server() -> TestResult {
    let contract = room_contract();
    for (joined, broken) in [
        (r#"{"event":"joined","topic":"lobby","user":"ann","count":2}"#, None),
        (
            r#"{"event":"joined","topic":"lobby","user":"ann","count":"two"}"#,
            Some(r#"/count: "two" is not of type "integer""#),
        ),
    ] {
        let server = EmbeddedServer::builder().app(room_app(joined)).start().await?;
        let mut client = server.connect().await?;
        let first = client.recv_json().await?;
        let left = client.recv_json().await?;
        assert!(matches!(
            RoomEvent::decode(&left)?,
            RoomEvent::Left { topic, user } if topic == "lobby" && user == "ann"
        ));
        if broken.is_none() {
            let RoomEvent::Joined { topic, user, count } = RoomEvent::decode(&first)? else {
                panic!("{first} is not a join");
            };
            assert_eq!((topic.as_str(), user.as_str(), count), ("lobby", "ann", 2));
        }
        match (client.conforms_to(&contract), broken) {
            (Ok(()), None) => {}
            (Err(error), Some(words)) => assert!(error.to_string().contains(words), "{error}"),
            (outcome, expected) => panic!("{joined}: {outcome:?}, expected {expected:?}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn an_expectation_conforming_to_a_contract_fails_at_the_first_frame_that_breaks_it() -> TestResult {
    let contract = Contract::from_asyncapi(CHAT)?;
    let server = EmbeddedServer::builder().app(late_pong_app()).start().await?;
    let mut client = server.connect().await?;
    client.send_json(json!({"type": "ping"})).await?;
    let error = client
        .expect(Expect::events(["connection_established", "pong"]).conforming_to(&contract))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(
            r#"frame #2 breaks the contract: checked as message pong (#/components/messages/pong): /timestamp: "now" is not of type "integer""#
        ),
        "{error}"
    );
    // The same frames without the contract meet the expectation.
    let mut client = server.connect().await?;
    client.send_json(json!({"type": "ping"})).await?;
    client
        .expect(Expect::events(["connection_established", "pong"]))
        .await?;
    Ok(())
}

/// A contract whose events are named at a JSON pointer and grouped by another, with no refusal declared.
const NESTED: &str = r##"
asyncapi: 3.0.0
info: { title: nested, version: "1", x-ws-test-event-key: /data/kind }
channels:
  jobs:
    address: /ws
    messages:
      start:
        payload: { type: object, required: [data], properties: { data: { type: object, required: [kind, job], properties: { kind: { const: start }, job: { type: string } } } } }
      started:
        payload: { type: object, required: [data], properties: { data: { type: object, properties: { kind: { const: started } } } } }
        examples: [{ payload: { data: { kind: started, job: example } } }]
operations:
  start:
    action: receive
    channel: { $ref: "#/channels/jobs" }
    messages: [{ $ref: "#/channels/jobs/messages/start" }]
    reply: { messages: [{ $ref: "#/channels/jobs/messages/started" }] }
    x-ws-test-per: /data/job
"##;

#[tokio::test]
async fn a_mock_copies_a_pointer_per_field_in_place_and_closes_with_1008_without_a_refusal() -> TestResult {
    let contract = Contract::from_asyncapi_str(NESTED, "nested.yaml")?;
    let server = EmbeddedServer::builder().handler(contract.mock()).start().await?;
    let mut client = server.client().event_key("/data/kind").connect().await?;
    client
        .send_json(json!({"data": {"kind": "start", "job": "j7"}}))
        .await?;
    let started = client.expect_type("started").await?;
    assert_eq!(started, json!({"data": {"kind": "started", "job": "j7"}}));
    client.conforms_to(&contract)?;

    client.send_json(json!({"data": {"kind": "start"}})).await?;
    let close = client.expect_closed(1008).await?;
    assert!(close.reason.contains("\"job\" is a required property"), "{close:?}");
    Ok(())
}

//! Any protocol, written as a new user would: Phoenix-style frames named by `"event"` and grouped by `"topic"`
//! with a `#[serde(tag = "event")]` enum, and a realtime-model stream with a `session.created` welcome and a
//! pattern per `item_id`, over TCP and in memory on a paused clock. Each has a must-fail twin.

use serde::Deserialize;
use ws_test_runtime::Router;
use ws_test_runtime::prelude::*;

/// A Phoenix-channels-style room: frames named by `"event"`, grouped by `"topic"`.
#[derive(Debug, Deserialize, WsEvents)]
#[serde(tag = "event", rename_all = "snake_case")]
enum RoomEvent {
    Joined { topic: String, user: String },
    Message { topic: String, body: String },
    Left { topic: String },
}

impl RoomEvent {
    fn topic(&self) -> &str {
        match self {
            RoomEvent::Joined { topic, .. } | RoomEvent::Message { topic, .. } | RoomEvent::Left { topic } => topic,
        }
    }
}

/// Joins answer `joined`, a `message` and `left` for the topic; the server routes by `"event"` too.
fn rooms() -> Router {
    Router::new()
        .event_key("event")
        .route("phx_join", |session: Session, join: Value| async move {
            let topic = join["topic"].clone();
            session
                .send_json(&json!({"event": "joined", "topic": topic, "user": *ChatAgent::user_id(&session)}))
                .await?;
            session
                .send_json(&json!({"event": "message", "topic": topic, "body": "welcome"}))
                .await?;
            session.send_json(&json!({"event": "left", "topic": topic})).await
        })
}

/// The same room, but it forgets to leave.
fn rooms_that_never_leave() -> Router {
    Router::new()
        .event_key("event")
        .route("phx_join", |session: Session, join: Value| async move {
            let topic = join["topic"].clone();
            session
                .send_json(&json!({"event": "joined", "topic": topic, "user": "u"}))
                .await?;
            session
                .send_json(&json!({"event": "message", "topic": topic, "body": "hi"}))
                .await
        })
}

async fn join(client: &mut WsClient, topics: &[&str]) -> TestResult {
    for topic in topics {
        client.send_json(json!({"event": "phx_join", "topic": topic})).await?;
    }
    Ok(())
}

#[ws_test(handler = rooms, events = RoomEvent::CRITICAL, per = "topic", times = 2)]
async fn two_rooms_each_join_talk_and_leave(client: &mut WsClient) -> TestResult {
    join(client, &["room:lobby", "room:ops"]).await
}

#[ws_test(handler = rooms, headers = [("X-User-Id", "ada")], event_key = "event")]
async fn typed_room_events_come_out_of_the_client(client: &mut WsClient) -> TestResult {
    join(client, &["room:lobby"]).await?;
    match client.next_event::<RoomEvent>().await? {
        RoomEvent::Joined { topic, user } => assert_eq!((topic.as_str(), user.as_str()), ("room:lobby", "ada")),
        other => panic!("expected joined first, got {other:?}"),
    }
    let message = client.next_event::<RoomEvent>().await?;
    assert!(
        matches!(&message, RoomEvent::Message { body, .. } if body == "welcome"),
        "{message:?}"
    );
    assert_eq!(message.topic(), "room:lobby");
    // `expect_type` reads the test's event key too.
    assert_eq!(client.event_key().as_str(), "event");
    assert_eq!(client.expect_type("left").await?["topic"], "room:lobby");
    // The timeline (and so a failed test's transcript) names the frames by the event key too.
    let timeline = client.history().timeline().to_string();
    assert!(
        timeline.contains("  joined") && timeline.contains("  left"),
        "{timeline}"
    );
    Ok(())
}

#[ws_test(
    handler = rooms_that_never_leave,
    events = [RoomEvent::Joined, RoomEvent::Message, RoomEvent::Left],
    per = "topic",
    event_timeout = "300ms"
)]
#[should_panic(expected = "missing: topic=room:lobby: left")]
async fn a_room_that_never_leaves_fails_naming_the_event(client: &mut WsClient) -> TestResult {
    join(client, &["room:lobby"]).await
}

/// A realtime-model-style stream: a session, then per item one `added`, deltas, one `done`.
fn realtime() -> Router {
    stream(&["Hel", "lo", "!"], true)
}

/// The same stream without the `done` of each item.
fn realtime_without_done() -> Router {
    stream(&["Hel", "lo"], false)
}

fn stream(deltas: &'static [&'static str], done: bool) -> Router {
    Router::new()
        .on_connect(|session: Session| async move {
            session
                .send_json(&json!({"type": "session.created", "session": {"id": "s1"}}))
                .await
        })
        .route("response.create", move |session: Session, _request: Value| async move {
            for item in ["item_1", "item_2"] {
                session
                    .send_json(&json!({"type": "response.output_item.added", "item_id": item}))
                    .await?;
                for delta in deltas {
                    // A model thinks between tokens: on a paused clock this takes no time.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    let event = json!({"type": "response.output_text.delta", "item_id": item, "delta": delta});
                    session.send_json(&event).await?;
                }
                if done {
                    session
                        .send_json(&json!({"type": "response.output_text.done", "item_id": item}))
                        .await?;
                }
            }
            Ok::<(), ws_test_runtime::Error>(())
        })
}

#[ws_test(
    handler = realtime,
    welcome = "session.created",
    pattern = "response.output_item.added response.output_text.delta+ response.output_text.done",
    per = "item_id",
    times = 2
)]
async fn a_realtime_stream_over_tcp(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "response.create"})).await?;
    Ok(())
}

#[ws_test(
    handler = realtime,
    welcome = "session.created",
    pattern = "response.output_item.added response.output_text.delta+ response.output_text.done",
    per = "item_id",
    times = 2,
    transport = "memory",
    start_paused = true
)]
async fn a_realtime_stream_in_memory_on_a_paused_clock(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "response.create"})).await?;
    Ok(())
}

#[ws_test(
    handler = realtime_without_done,
    welcome = "session.created",
    pattern = "response.output_item.added response.output_text.delta+ response.output_text.done",
    per = "item_id",
    times = 2,
    transport = "memory",
    start_paused = true,
    event_timeout = "2s"
)]
#[should_panic(
    expected = "missing: item_id=item_1: one of response.output_text.delta | response.output_text.done; item_id=item_2"
)]
async fn a_stream_without_done_fails_naming_it(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "response.create"})).await?;
    Ok(())
}

/// A server whose first frame is not the named welcome fails the test before the body, naming the welcome.
#[ws_test(handler = rooms, welcome = "session.created", event_timeout = "200ms")]
#[should_panic(expected = "the server's welcome (session.created) did not arrive")]
async fn a_missing_welcome_fails_before_the_body(_client: &mut WsClient) {}

/// A binary protocol: MessagePack frames carrying the same kind of events.
fn msgpack(bytes: &[u8]) -> Result<serde_json::Value, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

/// Answers `{"type": "subscribe", "count": N}` (JSON) with N MessagePack `tick`s and a `done`; with
/// `"garbled": true` the second tick is bytes that are not MessagePack.
fn msgpack_ticker() -> Router {
    Router::new().route("subscribe", |session: Session, request: Value| async move {
        let count = request["count"].as_u64().unwrap_or(1);
        for n in 0..count {
            let frame = if n == 1 && request["garbled"] == true {
                vec![0xc1, 0xff, 0x00] // 0xc1 is never used in MessagePack
            } else {
                rmp_serde::to_vec_named(&json!({"type": "tick", "n": n})).map_err(|error| error.to_string())?
            };
            session.send_binary(frame).await?;
        }
        let done = rmp_serde::to_vec_named(&json!({"type": "done"})).map_err(|error| error.to_string())?;
        session.send_binary(done).await?;
        Ok::<(), ws_test_runtime::BoxError>(())
    })
}

#[ws_test(handler = msgpack_ticker, decode = msgpack, events = ["tick", "tick", "done"], order = "strict")]
async fn msgpack_events_over_tcp(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "subscribe", "count": 2})).await?;
    Ok(())
}

#[ws_test(handler = msgpack_ticker, decode = msgpack, transport = "memory")]
async fn msgpack_expect_type_returns_the_decoded_value_in_memory(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "subscribe", "count": 2})).await?;
    assert_eq!(client.expect_type("tick").await?, json!({"type": "tick", "n": 0}));
    assert_eq!(client.recv_json().await?["n"], 1);
    // The history keeps the bytes, with the decoded JSON beside them.
    let history = client.history();
    let done = history.received().last().expect("the done frame");
    assert!(matches!(done.kind, ws_test_runtime::FrameKind::Binary(_)), "{done:?}");
    assert_eq!(done.json(), Some(json!({"type": "done"})));
    Ok(())
}

/// A frame that does not decode is never dropped: the declared events fail, and the timeline shows the frame
/// with the decoder's words and its first bytes.
#[ws_test(
    handler = msgpack_ticker,
    decode = msgpack,
    events = ["tick", "tick", "tick", "done"],
    order = "strict",
    event_timeout = "500ms"
)]
#[should_panic(expected = "binary frame of 3 byte(s) that did not decode")]
async fn a_frame_that_does_not_decode_is_reported(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "subscribe", "count": 3, "garbled": true}))
        .await?;
    Ok(())
}

#[ws_test(handler = msgpack_ticker, decode = msgpack)]
async fn receiving_a_frame_that_does_not_decode_is_an_error_with_its_bytes(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "subscribe", "count": 2, "garbled": true}))
        .await?;
    client.expect_type("tick").await?;
    let refused = client.recv_json().await.unwrap_err().to_string();
    assert!(
        refused.contains("binary frame of 3 byte(s) starting c1 ff 00") && refused.contains("the decoder refused it"),
        "{refused}"
    );
    Ok(())
}

/// A router keyed by a pointer answers what it cannot route with an `"error"` event at that same pointer, so the
/// client names it as it names every other event.
fn nested_kind() -> Router {
    Router::new()
        .event_key("/data/kind")
        .route("hello", |session: Session, _frame: Value| async move {
            session.send_json(&json!({"data": {"kind": "hi"}})).await
        })
}

#[ws_test(handler = nested_kind, event_key = "/data/kind")]
async fn a_router_answers_an_unknown_event_at_its_own_event_key(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"data": {"kind": "nope"}})).await?;
    let error = client.expect_type("error").await?;
    assert_eq!(error["code"], "unknown_type");
    assert!(error.get("type").is_none(), "{error}");
    client.send_json(json!({"data": {}})).await?;
    assert_eq!(client.expect_type("error").await?["code"], "missing_type");
    client.send_json(json!({"data": {"kind": "hello"}})).await?;
    client.expect_type("hi").await?;
    assert_eq!(client.history().received_events(), ["error", "error", "hi"]);
    Ok(())
}

/// The words, as a new user writes them: `delta+` takes every delta of each item, so joining the matched
/// deltas gives the whole text; the attribute's `pattern =` checks the same stream, strictly per item.
#[ws_test(
    handler = realtime,
    welcome = "session.created",
    pattern = "response.output_item.added response.output_text.delta+ response.output_text.done",
    order = "strict",
    per = "item_id",
    times = 2,
    transport = "memory",
    start_paused = true
)]
async fn matched_deltas_join_into_the_whole_text(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "response.create"})).await?;
    let matched = client
        .expect(
            Expect::pattern("response.output_text.delta+ response.output_text.done")?
                .per("item_id")
                .times(2),
        )
        .await?;
    for item in ["item_1", "item_2"] {
        let text: String = matched
            .group(item)
            .filter_map(|event| event["delta"].as_str())
            .collect();
        assert_eq!(text, "Hello!", "{:?}", matched.events());
    }
    Ok(())
}

//! The chat backend under test, as its team writes the tests: the app itself (`app = axum_chat::app`) on
//! ws-test's embedded server, over TCP and in memory, with a paused clock where time matters.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{EmbeddedServer, Error, Transport};

/// Everything the backend streams, typed: the declared events below are checked against these names.
#[derive(Debug, Deserialize, WsEvents)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ws_events(order = [AgentStarted, AgentThinking, ToolExecuting, ToolCompleted, AgentCompleted])]
#[allow(dead_code, reason = "the fields document the protocol; the tests read some of them")]
enum Chat {
    Hello { user: String },
    AgentStarted { run_id: String, user: String },
    AgentThinking { run_id: String, thought: String },
    ToolExecuting { run_id: String, tool_call_id: String },
    ToolCompleted { run_id: String, tool_call_id: String },
    AgentCompleted { run_id: String, answer: String },
    Heartbeat { beat: u64 },
    Error { message: String },
}

/// Takes the app's greeting and returns it; later receives and expectations read from after it.
async fn hello(client: &mut WsClient) -> Result<Value, Error> {
    let greeting = client.expect(Expect::events(["hello"])).await?;
    Ok(greeting.events()[0].clone())
}

async fn say(client: &mut WsClient, content: &str) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": content}))
        .await?;
    Ok(())
}

#[ws_test(
    app = axum_chat::app,
    path = "/chat/ws",
    token = "alice-token",
    welcome = "hello",
    events = [Chat::AgentStarted, Chat::AgentThinking, Chat::ToolExecuting, Chat::ToolCompleted, Chat::AgentCompleted],
    order = "strict",
    per = "run_id"
)]
async fn a_message_streams_five_events_over_tcp(client: &mut WsClient) -> TestResult {
    // The driver awaited the greeting (`welcome`); the declared events are checked over what follows it.
    let history = client.history();
    let greeting = history.received().next().and_then(|frame| frame.json());
    assert_eq!(greeting.expect("the greeting")["user"], "alice");
    say(client, "hi").await
}

#[ws_test(
    app = axum_chat::app,
    path = "/chat/ws",
    token = "alice-token",
    transport = "memory",
    welcome = "hello",
    events = [Chat::AgentStarted, Chat::AgentThinking, Chat::ToolExecuting, Chat::ToolCompleted, Chat::AgentCompleted],
    order = "strict",
    per = "run_id",
    times = 2
)]
async fn two_messages_stream_two_runs_in_memory(client: &mut WsClient) -> TestResult {
    say(client, "first").await?;
    say(client, "second").await
}

#[ws_test(app = axum_chat::app, path = "/chat/ws", token = "alice-token", transport = "memory", clients = 2)]
async fn two_connections_get_their_own_runs(mut clients: Vec<WsClient>, server: &EmbeddedServer) -> TestResult {
    assert_eq!(server.connections().len(), 2);
    let run = Expect::events(Chat::CRITICAL).strict().per("run_id");
    let mut answers = Vec::new();
    for (n, client) in clients.iter_mut().enumerate() {
        hello(client).await?;
        say(client, &format!("question {n}")).await?;
        let matched = client.expect(&run).await?;
        answers.push(matched.events()[4]["run_id"].clone());
    }
    assert_ne!(answers[0], answers[1], "each message gets its own run");
    Ok(())
}

#[ws_test(app = axum_chat::app, path = "/chat/ws", token = "alice-token", transport = "memory")]
async fn two_users_at_once(alice: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    let mut bob = server.client().token("bob-token").connect().await?;
    assert_eq!(hello(alice).await?["user"], "alice");
    assert_eq!(hello(&mut bob).await?["user"], "bob");
    say(alice, "from alice").await?;
    say(&mut bob, "from bob").await?;
    let run = Expect::events(Chat::CRITICAL).per("run_id");
    let alices = alice.expect(&run).await?;
    let bobs = bob.expect(&run).await?;
    assert_eq!(alices.events()[0]["user"], "alice");
    assert_eq!(bobs.events()[0]["user"], "bob");
    Ok(())
}

#[ws_test(app = axum_chat::app, path = "/chat/ws", token = "alice-token", transport = "memory")]
async fn a_wrong_token_is_refused_with_401(server: &EmbeddedServer) -> TestResult {
    let refused = server.client().token("mallory").connect().await;
    match refused {
        Err(Error::Rejected { status, body, .. }) => {
            assert_eq!(status, 401);
            assert_eq!(body.trim(), "invalid or missing bearer token");
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    assert_eq!(server.metrics().connections_refused, 1);
    Ok(())
}

#[ws_test(
    app = axum_chat::app,
    path = "/chat/ws",
    token = "alice-token",
    transport = "memory",
    start_paused = true,
    timeout = "10m" // the body's deadline is on the paused clock too
)]
async fn three_heartbeats_take_no_real_time(client: &mut WsClient) -> TestResult {
    let real = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    hello(client).await?;
    // On the paused clock a generous deadline costs nothing: time jumps to the next heartbeat.
    let beats = client
        .expect(Expect::events(["heartbeat", "heartbeat", "heartbeat"]).within(Duration::from_secs(100)))
        .await?;
    let numbers: Vec<_> = beats.events().iter().map(|beat| beat["beat"].clone()).collect();
    assert_eq!(numbers, [json!(1), json!(2), json!(3)]);
    assert!(
        virtual_start.elapsed() >= Duration::from_secs(90),
        "three 30 s periods passed on the test's clock"
    );
    assert!(
        real.elapsed() < Duration::from_secs(30),
        "less than one real period: the clock was virtual"
    );
    // The history is stamped on the same clock: the third beat arrived 90 s in.
    let third = client
        .history()
        .received()
        .filter(|frame| frame.event("type").as_deref() == Some("heartbeat"))
        .nth(2)
        .map(|frame| frame.at);
    assert!(third >= Some(Duration::from_secs(90)), "{third:?}");
    Ok(())
}

#[ws_test(app = axum_chat::app, path = "/chat/ws", token = "alice-token", transport = "memory")]
async fn the_app_explains_what_it_cannot_read(client: &mut WsClient) -> TestResult {
    hello(client).await?;
    client.send_text("not json").await?;
    let error = client.expect_type("error").await?;
    assert_eq!(error["message"], "expected a JSON object with a \"type\"");
    client
        .send_json(json!({"type": "chat_message", "content": "  "}))
        .await?;
    let error = client.expect_type("error").await?;
    assert_eq!(error["message"], "a chat_message needs a non-empty \"content\"");
    client.send_json(json!({"type": "dance"})).await?;
    assert_eq!(
        client.expect_type("error").await?["message"],
        "unknown message type \"dance\""
    );
    // Still open, still answering.
    say(client, "still there?").await?;
    client.expect(Expect::events(Chat::CRITICAL).per("run_id")).await?;
    Ok(())
}

/// The same first test without the macro: what `#[ws_test(app = ..., transport = "memory")]` does.
#[tokio::test]
async fn by_hand_without_the_macro() -> TestResult {
    let server = EmbeddedServer::builder()
        .app(axum_chat::app())
        .path("/chat/ws")
        .transport(Transport::Memory)
        .start()
        .await?;
    let mut client = server.client().token("alice-token").connect().await?;
    hello(&mut client).await?;
    say(&mut client, "hi").await?;
    client
        .expect(Expect::events(Chat::CRITICAL).strict().per("run_id"))
        .await?;
    assert_eq!(server.metrics().frames_in, 1);
    assert_eq!(server.metrics().frames_out, 6);
    Ok(())
}

//! The client → server table of `PROTOCOL.md` and the five critical events, field by field.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::close_code;

use crate::support::{connect_welcomed, recv_n, types};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn welcome_comes_first_with_connection_and_user_ids() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    let welcome = client.recv_json().await?;
    assert_eq!(welcome["type"], "connection_established");
    let connection_id = welcome["connection_id"].as_str().expect("connection_id is a string");
    let user_id = welcome["user_id"].as_str().expect("user_id is a string");
    assert_eq!(server.connections()[0].connection_id, connection_id);
    assert!(
        user_id.starts_with("user-"),
        "a fresh user without a query or header: {user_id}"
    );
    Ok(())
}

#[tokio::test]
async fn user_id_comes_from_query_or_header_else_is_fresh() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut by_query = WsClient::connect(&format!("{}?user_id=alice", server.url())).await?;
    assert_eq!(
        by_query.expect_type("connection_established").await?["user_id"],
        "alice"
    );
    let mut by_header = server.client().header("X-User-Id", "bob").connect().await?;
    assert_eq!(by_header.expect_type("connection_established").await?["user_id"], "bob");
    let (_, first) = connect_welcomed(&server).await?;
    let (_, second) = connect_welcomed(&server).await?;
    assert_ne!(first["user_id"], second["user_id"]);
    assert_ne!(first["connection_id"], second["connection_id"]);
    Ok(())
}

#[tokio::test]
async fn ping_is_answered_with_pong_and_a_timestamp() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let before = now_ms();
    client.send_json(&json!({"type": "ping"})).await?;
    let pong = client.recv_json().await?;
    assert_eq!(pong["type"], "pong");
    let timestamp = pong["timestamp"].as_u64().expect("timestamp in ms");
    assert!(
        timestamp >= before && timestamp <= now_ms(),
        "{timestamp} not within the exchange"
    );
    Ok(())
}

/// Checks one run of five events against the protocol and returns its run_id.
fn check_run(events: &[Value], user_id: &str, content: &str, first_seq: u64) -> String {
    assert_eq!(types(events), ChatEvent::CRITICAL);
    let run_id = events[0]["run_id"].as_str().expect("run_id is a string").to_owned();
    for (offset, event) in events.iter().enumerate() {
        assert_eq!(event["agent_name"], "TestChatAgent", "{event}");
        assert_eq!(event["user_id"], user_id, "{event}");
        assert_eq!(event["run_id"], run_id.as_str(), "{event}");
        assert!(
            event["timestamp"].as_u64().is_some_and(|ms| ms > 1_600_000_000_000),
            "{event}"
        );
        assert_eq!(event["seq"], first_seq + offset as u64, "{event}");
    }
    assert_eq!(events[0]["message"], format!("Processing your message: {content}"));
    assert!(events[1]["thought"].is_string());
    let tool_name = events[2]["tool_name"].as_str().expect("tool_name");
    let call_id = events[2]["tool_call_id"].as_str().expect("tool_call_id");
    assert!(events[2]["parameters"].is_object());
    assert_eq!(events[3]["tool_name"], tool_name);
    assert_eq!(events[3]["tool_call_id"], call_id);
    assert!(events[3].get("result").is_some());
    assert!(events[4]["response"].is_string());
    run_id
}

#[tokio::test]
async fn chat_message_gets_the_five_critical_events_with_all_fields() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, welcome) = connect_welcomed(&server).await?;
    let user_id = welcome["user_id"].as_str().unwrap_or_default().to_owned();
    client
        .send_json(&json!({"type": "chat_message", "content": "hello"}))
        .await?;
    let first = recv_n(&mut client, 5).await?;
    let first_run = check_run(&first, &user_id, "hello", 1);

    // The alias, a second run: seq keeps rising on the connection, the run_id is fresh.
    client
        .send_json(&json!({"type": "user_message", "content": "again"}))
        .await?;
    let second = recv_n(&mut client, 5).await?;
    let second_run = check_run(&second, &user_id, "again", 6);
    assert_ne!(first_run, second_run);
    client.expect_no_message(Duration::from_millis(20)).await?;
    Ok(())
}

#[tokio::test]
async fn run_id_and_thread_id_from_the_client_are_kept() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, welcome) = connect_welcomed(&server).await?;
    let message = json!({"type": "chat_message", "content": "x", "run_id": "run-from-client", "thread_id": "t-9"});
    client.send_json(&message).await?;
    let events = recv_n(&mut client, 5).await?;
    let run_id = check_run(&events, welcome["user_id"].as_str().unwrap_or_default(), "x", 1);
    assert_eq!(run_id, "run-from-client");
    assert!(events.iter().all(|event| event["thread_id"] == "t-9"));
    Ok(())
}

#[tokio::test]
async fn chat_message_without_content_is_an_error_and_the_connection_stays_open() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_json(&json!({"type": "chat_message"})).await?;
    let error = client.expect_type("error").await?;
    assert_eq!(error["code"], "invalid_message");
    client.send_json(&json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    Ok(())
}

#[tokio::test]
async fn interleaved_runs_keep_their_order_within_each_run_id() -> TestResult {
    let agent = ChatAgent::new().event_delay(Duration::from_millis(2));
    let server = EmbeddedServer::builder().handler(agent).start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    for run in ["a", "b", "c"] {
        client
            .send_json(&json!({"type": "chat_message", "content": run, "run_id": run}))
            .await?;
    }
    let events = recv_n(&mut client, 15).await?;
    for run in ["a", "b", "c"] {
        let of_run: Vec<Value> = events.iter().filter(|event| event["run_id"] == run).cloned().collect();
        assert_eq!(types(&of_run), ChatEvent::CRITICAL, "run {run}");
    }
    let seqs: Vec<u64> = events.iter().filter_map(|event| event["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=15).collect::<Vec<_>>(), "seq rises by one per event sent");
    Ok(())
}

#[tokio::test]
async fn echo_returns_the_payload_unchanged() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let payload = json!({"nested": {"list": [1, 2.5, "three", null, true]}, "unicode": "héllo ✓"});
    client.send_json(&json!({"type": "echo", "payload": payload})).await?;
    assert_eq!(client.recv_json().await?, json!({"type": "echo", "payload": payload}));
    Ok(())
}

#[tokio::test]
async fn broadcast_reaches_every_connection_sender_included() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut sender = server.client().header("X-User-Id", "alice").connect().await?;
    sender.expect_type("connection_established").await?;
    let (mut other, _) = connect_welcomed(&server).await?;
    sender
        .send_json(&json!({"type": "broadcast", "content": "hello all"}))
        .await?;
    let expected = json!({"type": "broadcast", "from": "alice", "content": "hello all"});
    assert_eq!(sender.recv_json().await?, expected);
    assert_eq!(other.recv_json().await?, expected);

    // The server can broadcast too.
    assert_eq!(server.broadcast(&json!({"type": "notice"})).await?, 2);
    assert_eq!(other.recv_json().await?["type"], "notice");
    Ok(())
}

async fn expect_error(client: &mut WsClient, code: &str) -> TestResult {
    let error = client.recv_json().await?;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], code, "{error}");
    assert!(error["error"].as_str().is_some_and(|text| !text.is_empty()), "{error}");
    // The connection stays open.
    client.send_json(&json!({"type": "ping"})).await?;
    assert_eq!(client.recv_json().await?["type"], "pong");
    Ok(())
}

#[tokio::test]
async fn every_error_case_answers_its_code_and_keeps_the_connection() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_json(&json!({"type": "teleport"})).await?;
    expect_error(&mut client, "unknown_type").await?;
    client.send_text("this is not json").await?;
    expect_error(&mut client, "invalid_json").await?;
    client.send_text("[1, 2, 3]").await?;
    expect_error(&mut client, "invalid_json").await?;
    client.send_json(&json!({"content": "no type"})).await?;
    expect_error(&mut client, "missing_type").await?;
    client.send_json(&json!({"type": 42})).await?;
    expect_error(&mut client, "missing_type").await?;
    client.send_binary(vec![1, 2, 3]).await?;
    expect_error(&mut client, "unsupported_frame").await?;
    Ok(())
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_closed_with_1009() -> TestResult {
    let server = EmbeddedServer::builder().max_message_size(1024).start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client
        .send_json(&json!({"type": "echo", "payload": "x".repeat(900)}))
        .await?;
    assert_eq!(
        client.expect_type("echo").await?["payload"].as_str().map(str::len),
        Some(900)
    );
    client
        .send_json(&json!({"type": "echo", "payload": "x".repeat(2000)}))
        .await?;
    let close = client.expect_closed(close_code::MESSAGE_TOO_BIG).await?;
    assert!(close.reason.contains("over the limit of 1024 bytes"), "{close}");
    Ok(())
}

#[tokio::test]
async fn the_default_size_limit_is_one_mebibyte() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_binary(vec![0u8; 1024 * 1024 + 1]).await?;
    client.expect_closed(close_code::MESSAGE_TOO_BIG).await?;
    Ok(())
}

#[tokio::test]
async fn websocket_ping_frames_get_pong_frames() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let round_trip = client.ping(b"are you there".to_vec()).await?;
    assert!(round_trip < Duration::from_secs(5));
    let history = client.history();
    let last = history.frames().last().expect("the pong is recorded");
    assert_eq!(last.kind, ws_test_runtime::FrameKind::Pong(b"are you there".to_vec()));
    Ok(())
}

#[tokio::test]
async fn a_close_frame_gets_a_close_frame_back_then_the_connection_ends() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let reply = client.close(4000, "bye").await?;
    assert_eq!(reply, CloseInfo::new(4000, "bye"));
    let error = client.send_json(&json!({"type": "ping"})).await.unwrap_err();
    assert!(error.to_string().contains("is already closed"), "{error}");
    Ok(())
}

#[tokio::test]
async fn tool_call_ids_and_run_ids_are_unique_across_runs() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let mut runs = HashSet::new();
    let mut calls = HashSet::new();
    for round in 0..5 {
        client
            .send_json(&json!({"type": "chat_message", "content": format!("round {round}")}))
            .await?;
        let events = recv_n(&mut client, 5).await?;
        assert!(runs.insert(events[0]["run_id"].to_string()));
        assert!(calls.insert(events[2]["tool_call_id"].to_string()));
    }
    Ok(())
}

//! Fault injection: each fault produces exactly the faulty sequence asked for.

use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::close_code;

use crate::support::{recv_n, types};

async fn faulty(spec: &str) -> TestResult<(EmbeddedServer, WsClient)> {
    let server = EmbeddedServer::builder()
        .handler(ChatAgent::new().fault(spec.parse()?))
        .start()
        .await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r1"}))
        .await?;
    Ok((server, client))
}

#[tokio::test]
async fn drop_leaves_the_event_out() -> TestResult {
    let (_server, mut client) = faulty("drop:agent_thinking").await?;
    let events = recv_n(&mut client, 4).await?;
    assert_eq!(
        types(&events),
        ["agent_started", "tool_executing", "tool_completed", "agent_completed"]
    );
    assert_eq!(
        events
            .iter()
            .map(|e| e["seq"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    client.expect_no_message(std::time::Duration::from_millis(20)).await?;
    Ok(())
}

#[tokio::test]
async fn duplicate_sends_the_same_frame_twice() -> TestResult {
    let (_server, mut client) = faulty("duplicate:tool_executing").await?;
    let events = recv_n(&mut client, 6).await?;
    assert_eq!(
        types(&events),
        [
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ]
    );
    assert_eq!(events[2]["tool_call_id"], events[3]["tool_call_id"]);
    client.expect_no_message(std::time::Duration::from_millis(20)).await?;
    Ok(())
}

#[tokio::test]
async fn swap_exchanges_two_events() -> TestResult {
    let (_server, mut client) = faulty("swap:tool_executing,tool_completed").await?;
    let events = recv_n(&mut client, 5).await?;
    assert_eq!(
        types(&events),
        [
            "agent_started",
            "agent_thinking",
            "tool_completed",
            "tool_executing",
            "agent_completed"
        ]
    );
    assert!(events.iter().all(|event| event["run_id"] == "r1"));
    Ok(())
}

#[tokio::test]
async fn close_ends_the_connection_mid_run_with_the_code() -> TestResult {
    let (_server, mut client) = faulty("close:agent_thinking:4001").await?;
    let events = recv_n(&mut client, 2).await?;
    assert_eq!(types(&events), ["agent_started", "agent_thinking"]);
    let close = client.expect_closed(4001).await?;
    assert!(close.reason.contains("fault injection"), "{close}");
    Ok(())
}

#[tokio::test]
async fn close_without_a_code_uses_1011() -> TestResult {
    let (_server, mut client) = faulty("close:agent_started").await?;
    assert_eq!(client.recv_json().await?["type"], "agent_started");
    client.expect_closed(close_code::INTERNAL_ERROR).await?;
    Ok(())
}

#[tokio::test]
async fn malformed_replaces_the_event_with_truncated_json() -> TestResult {
    let (_server, mut client) = faulty("malformed:tool_completed").await?;
    let head = recv_n(&mut client, 3).await?;
    assert_eq!(types(&head), ["agent_started", "agent_thinking", "tool_executing"]);
    let broken = client.recv().await?;
    let text = broken.as_text().expect("a text frame");
    assert!(text.starts_with("{\"type\":\"tool_completed\""), "{text}");
    let error = broken.json().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("expected a JSON text frame, but received text (not JSON)"),
        "{error}"
    );
    assert_eq!(client.recv_json().await?["type"], "agent_completed");
    Ok(())
}

#[tokio::test]
async fn faults_combine_in_the_order_given() -> TestResult {
    let agent = ChatAgent::new()
        .fault("drop:agent_thinking".parse()?)
        .fault("duplicate:agent_completed".parse()?);
    assert_eq!(agent.faults().len(), 2);
    let server = EmbeddedServer::builder().handler(agent).start().await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "x"}))
        .await?;
    let events = recv_n(&mut client, 5).await?;
    assert_eq!(
        types(&events),
        [
            "agent_started",
            "tool_executing",
            "tool_completed",
            "agent_completed",
            "agent_completed"
        ]
    );
    Ok(())
}

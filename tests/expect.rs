//! `WsClient::expect` over real sockets: incremental, early verdicts, windows, readable failures.

use std::time::{Duration, Instant};

use ws_test_runtime::expect::step;
use ws_test_runtime::prelude::*;

async fn welcomed(server: &EmbeddedServer) -> Result<WsClient, ws_test_runtime::Error> {
    let mut client = server.client().header("X-User-Id", "ada").connect().await?;
    client
        .expect(&Expect::events(["connection_established"]).strict())
        .await?;
    Ok(client)
}

async fn faulty(spec: &str) -> TestResult<(EmbeddedServer, WsClient)> {
    let server = EmbeddedServer::builder()
        .handler(ChatAgent::new().fault(spec.parse()?))
        .start()
        .await?;
    let mut client = welcomed(&server).await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r1"}))
        .await?;
    Ok((server, client))
}

fn report(error: ws_test_runtime::Error) -> String {
    match error {
        ws_test_runtime::Error::Expectation(failure) => failure.render(false),
        other => panic!("expected an expectation failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_chat_round_meets_the_strict_per_run_expectation_and_returns_the_events() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = welcomed(&server).await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r1"}))
        .await?;
    let expectation = Expect::events([
        step("agent_started").matching(json!({"agent_name": "TestChatAgent", "run_id": "r1"})),
        step("agent_thinking"),
        step("tool_executing"),
        step("tool_completed").matching(json!({"tool_name": "knowledge_search"})),
        step("agent_completed"),
    ])
    .strict()
    .per("run_id")
    .pair("tool_executing", "tool_completed", "tool_call_id")
    .forbid("error");
    let matched = client.expect(&expectation).await?;
    assert_eq!(matched.len(), 5);
    assert_eq!(matched.group("r1").count(), 5);
    assert_eq!(matched.events()[4]["response"], "Here is what I found about: hi");
    // The matched frames were consumed: nothing is left to receive.
    client.expect_no_message(Duration::from_millis(20)).await?;
    Ok(())
}

#[tokio::test]
async fn recv_and_expect_read_through_one_cursor() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = welcomed(&server).await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    assert_eq!(client.recv_json().await?["type"], "agent_started");
    assert_eq!(client.recv_json().await?["type"], "agent_thinking");
    // What recv returned is behind the cursor: the whole sequence is no longer ahead of it, its rest is.
    let whole = Expect::events(ChatEvent::CRITICAL)
        .strict()
        .within(Duration::from_millis(200));
    let text = report(client.expect(&whole).await.unwrap_err());
    assert!(text.contains("expected agent_started, got tool_executing"), "{text}");
    // The failure left the cursor where it was.
    client
        .expect(&Expect::events(&ChatEvent::CRITICAL[2..]).strict())
        .await?;
    Ok(())
}

#[tokio::test]
async fn each_expectation_starts_where_the_last_one_ended() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = welcomed(&server).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    client.expect(&Expect::events(["pong"])).await?;
    let second = client
        .expect(&Expect::events(["pong"]).within(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(report(second).contains("timed out after 50ms"));
    client.send_json(&json!({"type": "ping"})).await?;
    client.send_json(&json!({"type": "echo", "payload": 1})).await?;
    client.expect(&Expect::events(["pong"])).await?;
    // What came after the match is still there for recv.
    assert_eq!(client.recv_json().await?["type"], "echo");
    Ok(())
}

#[tokio::test]
async fn watch_from_now_skips_what_already_arrived() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client.watch_from_now();
    client.send_json(&json!({"type": "ping"})).await?;
    client.expect(&Expect::events(["pong"]).strict()).await?;
    Ok(())
}

#[tokio::test]
async fn a_wrong_order_in_strict_mode_fails_at_once_with_a_marker() -> TestResult {
    let (_server, mut client) = faulty("swap:agent_thinking,tool_executing").await?;
    let expectation = Expect::events(ChatEvent::CRITICAL)
        .strict()
        .per("run_id")
        .within(Duration::from_secs(30));
    let started = Instant::now();
    let text = report(client.expect(&expectation).await.unwrap_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the verdict came at the divergence, not the deadline"
    );
    assert!(
        text.contains("frame #3 broke the order of run_id=r1: expected agent_thinking, got tool_executing"),
        "{text}"
    );
    assert!(text.contains("tool_executing run_id=r1 tool_call_id="), "{text}");
    assert!(text.contains("<-- first divergence: expected agent_thinking"), "{text}");
    assert!(
        text.contains("missing: run_id=r1: agent_thinking, tool_executing, tool_completed, agent_completed"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_dropped_event_times_out_with_what_was_missing() -> TestResult {
    let (_server, mut client) = faulty("drop:tool_completed").await?;
    let expectation = Expect::events(ChatEvent::CRITICAL).within(Duration::from_millis(150));
    let text = report(client.expect(&expectation).await.unwrap_err());
    assert!(text.starts_with("expectation not met: events [agent_started, agent_thinking, tool_executing, tool_completed, agent_completed] in order, within 150ms\ntimed out after 150ms\n"), "{text}");
    assert!(
        text.contains("agent_completed run_id=r1 user_id=ada seq=4   <-- first divergence: expected tool_completed"),
        "{text}"
    );
    assert!(text.contains("missing: tool_completed, agent_completed"), "{text}");
    assert!(
        text.contains("not matched: #5 agent_completed run_id=r1 user_id=ada seq=4"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_duplicate_is_fine_in_order_but_not_strictly() -> TestResult {
    let (_server, mut client) = faulty("duplicate:agent_thinking").await?;
    client.expect(&Expect::events(ChatEvent::CRITICAL)).await?;
    let (_server, mut client) = faulty("duplicate:agent_thinking").await?;
    let text = report(
        client
            .expect(&Expect::events(ChatEvent::CRITICAL).strict())
            .await
            .unwrap_err(),
    );
    assert!(
        text.contains("broke the order: expected tool_executing, got agent_thinking"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_closed_connection_ends_the_wait_with_its_close_code() -> TestResult {
    let (_server, mut client) = faulty("close:tool_executing:1011").await?;
    let text = report(
        client
            .expect(&Expect::events(ChatEvent::CRITICAL).within(Duration::from_secs(30)))
            .await
            .unwrap_err(),
    );
    assert!(
        text.contains("the connection was closed (code 1011, reason \"fault injection: connection closed mid-run\") before the expectation was met"),
        "{text}"
    );
    assert!(text.contains("missing: tool_completed, agent_completed"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_forbidden_error_event_fails_the_expectation() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = welcomed(&server).await?;
    client.send_json(&json!({"type": "no_such_type"})).await?;
    let text = report(
        client
            .expect(&Expect::events(["pong"]).forbid("error"))
            .await
            .unwrap_err(),
    );
    assert!(text.contains("forbidden event \"error\" at frame #2"), "{text}");
    assert!(
        text.contains("error code=unknown_type   <-- first divergence: forbidden"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_frame_breaks_a_strict_expectation() -> TestResult {
    let (_server, mut client) = faulty("malformed:agent_thinking").await?;
    let text = report(
        client
            .expect(&Expect::events(ChatEvent::CRITICAL).strict())
            .await
            .unwrap_err(),
    );
    assert!(text.contains("frame #3 is not a JSON event with a \"type\""), "{text}");
    assert!(text.contains("text (not JSON)"), "{text}");
    Ok(())
}

#[tokio::test]
async fn strict_mode_rejects_frames_that_already_arrived_after_the_match() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = welcomed(&server).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    // Make sure both pongs are in before checking for exactly one.
    client.expect(&Expect::events(["pong", "pong"])).await?;
    let mut client = welcomed(&server).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    // A tap has a cursor of its own: waiting on it for both pongs leaves the client's before them.
    client.tap().expect(&Expect::events(["pong", "pong"])).await?;
    let text = report(client.expect(&Expect::events(["pong"]).strict()).await.unwrap_err());
    assert!(
        text.contains("frame #4 came after the expectation was complete"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn interleaved_runs_on_one_connection_meet_a_pattern_per_run() -> TestResult {
    let server = EmbeddedServer::builder()
        .handler(ChatAgent::new().event_delay(Duration::from_millis(1)))
        .start()
        .await?;
    let mut client = welcomed(&server).await?;
    for run in ["a", "b", "c", "d"] {
        client
            .send_json(&json!({"type": "chat_message", "content": run, "run_id": run}))
            .await?;
    }
    let expectation =
        Expect::pattern("agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed")?
            .strict()
            .per("run_id")
            .times(4)
            .pair("tool_executing", "tool_completed", "tool_call_id");
    let matched = client.expect(&expectation).await?;
    for run in ["a", "b", "c", "d"] {
        assert_eq!(matched.group(run).count(), 5, "run {run}");
    }
    Ok(())
}

#[tokio::test]
async fn an_invalid_pattern_points_at_the_column() {
    let error = Expect::pattern("agent_started (agent_thinking").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid event pattern at column 15: this `(` is never closed\n    agent_started (agent_thinking\n                  ^"
    );
}

#[tokio::test]
async fn an_expectation_after_expect_type_reads_after_what_it_returned() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client.send_json(&json!({"type": "ping"})).await?;
    client.expect(&Expect::events(["pong"]).strict()).await?;
    Ok(())
}

//! The test client: retries, deadlines that explain themselves, history.

use std::time::Duration;

use serde_json::Value;
use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::close_code;

use crate::support::connect_welcomed;

#[tokio::test]
async fn connect_retries_until_the_server_is_up() -> TestResult {
    // Hold a port with a listener that kills the first connection, then serve the real server there.
    let placeholder = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = placeholder.local_addr()?;
    let connecting = tokio::spawn(WsClient::builder(format!("ws://{addr}/ws")).connect());
    let (first_attempt, _) = placeholder.accept().await?;
    drop(first_attempt);
    drop(placeholder);
    let server = EmbeddedServer::builder().bind(addr).start().await?;
    let mut client = connecting.await??;
    client.expect_type("connection_established").await?;
    assert_eq!(server.metrics().connections_total, 1);
    Ok(())
}

#[tokio::test]
async fn connect_to_a_closed_port_fails_within_its_deadline_and_says_why() -> TestResult {
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let started = std::time::Instant::now();
    let error = WsClient::builder(format!("ws://{addr}/ws"))
        .connect_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("could not connect to ws://{addr}/ws within 200ms (")),
        "{text}"
    );
    assert!(text.contains("TCP connect to 127.0.0.1"), "{text}");
    match error {
        ws_test_runtime::Error::Connect { attempts, .. } => {
            assert!(attempts > 1, "{attempts} attempt(s)")
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn bad_urls_are_refused_before_any_attempt() -> TestResult {
    for (url, reason) in [
        ("http://127.0.0.1:1/ws", "the scheme must be ws:// or wss://"),
        ("ftp://127.0.0.1:1/ws", "the scheme must be ws:// or wss://"),
        ("wss:///ws", "is not a usable WebSocket URL"),
        ("not a url", "is not a usable WebSocket URL"),
    ] {
        let error = WsClient::connect(url).await.unwrap_err();
        assert!(error.to_string().contains(reason), "{url}: {error}");
    }
    Ok(())
}

#[tokio::test]
async fn a_receive_timeout_names_what_was_awaited_and_what_came_instead() -> TestResult {
    let agent = ChatAgent::new().fault("drop:agent_completed".parse()?);
    let server = EmbeddedServer::builder().handler(agent).start().await?;
    let mut client = server
        .client()
        .recv_timeout(Duration::from_millis(100))
        .connect()
        .await?;
    client.expect_type("connection_established").await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r7"}))
        .await?;
    let error = client.expect_type("agent_completed").await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(
            "timed out after 100ms waiting for a message of type \"agent_completed\"; 4 frame(s) arrived instead:"
        ),
        "{text}"
    );
    assert!(text.contains("\n    agent_started run_id=r7 user_id=user-"), "{text}");
    assert!(text.contains("tool_completed run_id=r7 tool_call_id="), "{text}");

    // A failed receive leaves the cursor: what it passed over is still ahead.
    assert_eq!(client.recv_json().await?["type"], "agent_started");
    client.expect_type("tool_completed").await?;
    let error = client.recv().within(Duration::from_millis(50)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "timed out after 50ms waiting for a message; nothing arrived in the meantime"
    );
    Ok(())
}

#[tokio::test]
async fn waiting_on_a_closed_connection_reports_the_close_code_and_reason() -> TestResult {
    let agent = ChatAgent::new().fault("close:tool_executing:4002".parse()?);
    let server = EmbeddedServer::builder().handler(agent).start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    let error = client.expect_type("agent_completed").await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("the connection was closed (code 4002, reason \"fault injection"),
        "{text}"
    );
    assert!(text.contains("3 frame(s) arrived instead"), "{text}");
    // The failure left the cursor: the frames before the close are still ahead, then the same close, at once.
    assert_eq!(client.recv_json().await?["type"], "agent_started");
    assert_eq!(client.recv_json().await?["type"], "agent_thinking");
    let close = client.expect_closed(4002).await?;
    assert!(close.reason.starts_with("fault injection"), "{close}");
    let again = client.recv().await.unwrap_err();
    assert!(
        matches!(again, ws_test_runtime::Error::Closed { code: 4002, .. }),
        "{again:?}"
    );
    assert_eq!(client.close_info().map(|close| close.code), Some(4002));
    Ok(())
}

#[tokio::test]
async fn expect_closed_with_the_wrong_code_shows_the_actual_close() -> TestResult {
    let agent = ChatAgent::new().fault("close:agent_started:4003".parse()?);
    let server = EmbeddedServer::builder().handler(agent).start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    let error = client.expect_closed(close_code::NORMAL).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("expected a close with code 1000, but received a close with code 4003"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn expect_no_message_fails_on_a_message_and_shows_it() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    let error = client.expect_no_message(Duration::from_secs(2)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("expected no message for 2s, but received connection_established"),
        "{error}"
    );
    // The message is still ahead of the cursor; once received, nothing else comes.
    assert_eq!(client.recv_json().await?["type"], "connection_established");
    client.expect_no_message(Duration::from_millis(10)).await?;
    Ok(())
}

#[tokio::test]
async fn history_records_every_frame_in_and_out_in_order() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_json(&json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    client.send_binary(vec![9, 9]).await?;
    client.expect_type("error").await?;
    client.close(1000, "done").await?;

    let history = client.history();
    let summary: Vec<(String, String)> = history
        .frames()
        .iter()
        .map(|frame| (frame.direction.to_string(), frame.summary()))
        .collect();
    let expected = [
        ("in", "connection_established connection_id=conn-N user_id=user-N"),
        ("out", "ping"),
        ("in", "pong"),
        ("out", "binary frame of 2 byte(s)"),
        ("in", "error code=unsupported_frame"),
        ("out", "close frame, code 1000, reason \"done\""),
        ("in", "close frame, code 1000, reason \"done\""),
    ];
    assert_eq!(
        summary
            .iter()
            .map(|(d, s)| (d.as_str(), numbered(s)))
            .collect::<Vec<_>>(),
        expected
    );
    assert!(
        history.frames().windows(2).all(|pair| pair[0].at <= pair[1].at),
        "timestamps are monotonic"
    );

    let lines: Vec<Value> = history
        .to_json_lines()
        .lines()
        .skip(1) // the header
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), expected.len());
    assert_eq!(lines[3]["kind"], "binary");
    assert_eq!(lines[3]["base64"], "CQk=");
    let timeline = history.timeline().to_string();
    assert!(
        timeline
            .lines()
            .nth(5)
            .is_some_and(|line| line.contains("error code=unsupported_frame")),
        "{timeline}"
    );
    Ok(())
}

#[tokio::test]
async fn server_pings_are_answered_while_the_test_is_busy() -> TestResult {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message as Frame;

    // A bare tungstenite server that pings and waits for the pong, while the client is never asked to receive.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/ws", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let mut socket = tokio_tungstenite::accept_async(stream).await?;
        socket.send(Frame::Ping(b"still there?".to_vec().into())).await?;
        let answer = tokio::time::timeout(Duration::from_secs(5), socket.next()).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(answer)
    });
    let client = WsClient::connect(&url).await?;
    let answer = server.await?.map_err(TestError::msg)?;
    assert!(
        matches!(&answer, Some(Ok(Frame::Pong(data))) if data.as_ref() == b"still there?"),
        "{answer:?}"
    );
    let kinds: Vec<ws_test_runtime::FrameKind> = client.history().frames().iter().map(|f| f.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            ws_test_runtime::FrameKind::Ping(b"still there?".to_vec()),
            ws_test_runtime::FrameKind::Pong(b"still there?".to_vec())
        ]
    );
    Ok(())
}

#[tokio::test]
async fn many_pings_in_a_row_each_get_their_pong() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    for round in 0u8..20 {
        client.ping(vec![round]).await?;
    }
    assert_eq!(client.history().frames().len(), 1 + 40);
    Ok(())
}

#[tokio::test]
async fn fed_frames_go_out_with_the_next_wait_and_are_in_the_history_in_order() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    for n in 0..3 {
        client.feed_json(json!({"type": "echo", "payload": n})).await?;
    }
    // No flush: a wait writes queued frames first, so it cannot wait on a reply to a frame still queued.
    for n in 0..3 {
        assert_eq!(client.recv_json().await?["payload"], n);
    }
    client.watch_from_now();
    client
        .feed_text(r#"{"type":"chat_message","content":"fed","run_id":"fed-1"}"#)
        .await?;
    client
        .expect(Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
        .await?;
    let sent: Vec<String> = client
        .history()
        .sent()
        .filter_map(|frame| frame.text().map(str::to_owned))
        .collect();
    assert_eq!(sent.len(), 4, "every fed frame is in the history, as sent: {sent:?}");
    assert!(sent[3].contains("fed-1"), "{sent:?}");
    // A fed binary frame goes out with the next wait too (the chat agent answers binary with an error frame).
    client.feed_binary(vec![1, 2, 3]).await?;
    client.expect_type("error").await?;
    let binary = client
        .history()
        .sent()
        .any(|frame| matches!(&frame.kind, ws_test_runtime::FrameKind::Binary(bytes) if bytes[..] == [1, 2, 3]));
    assert!(binary, "the fed binary frame is in the history");
    // Flushing with nothing queued is a no-op, and a flush after a close says the connection is closed.
    client.flush().await?;
    client.close(close_code::NORMAL, "done").await?;
    let after = client.feed_json(json!({"type": "echo"})).await;
    assert!(
        matches!(after, Err(ws_test_runtime::Error::AlreadyClosed { .. })),
        "{after:?}"
    );
    Ok(())
}

/// A summary with the process-wide counters of ids (`conn-3`, `user-7`) written as `N`: tests share a process
/// under `cargo test`.
fn numbered(summary: &str) -> &str {
    match summary.strip_prefix("connection_established connection_id=conn-") {
        Some(rest) if rest.contains(" user_id=user-") => "connection_established connection_id=conn-N user_id=user-N",
        _ => summary,
    }
}

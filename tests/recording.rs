//! Record, replay, expectations from a recording, and verify-on-drop: over real sockets, with the recording in
//! `fixtures/chat.jsonl` (two chat runs with the built-in agent, recorded through `ws-test record`).

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::{Direction, FrameKind, History, Transport, ws_test};

/// The recording the tests replay, relative to this crate's `Cargo.toml`.
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/chat.jsonl");

/// The two messages the recording's client sent.
fn questions() -> [Value; 2] {
    [
        json!({"type": "chat_message", "content": "What is the weather?"}),
        json!({"type": "chat_message", "content": "Thanks!"}),
    ]
}

#[ws_test(replay = "fixtures/chat.jsonl", events = ChatEvent::CRITICAL, order = "strict", per = "run_id", times = 2)]
async fn a_replayed_session_answers_the_recorded_messages(client: &mut WsClient) -> TestResult {
    for question in questions() {
        client.send_json(&question).await?;
    }
    Ok(())
}

#[ws_test(replay = "fixtures/chat.jsonl")]
async fn a_recording_becomes_an_ordering_test(client: &mut WsClient) -> TestResult {
    let expectation = Expect::from_recording(FIXTURE)?;
    // What `ws-test expect fixtures/chat.jsonl` prints, pasted (the CLI's tests check it prints this).
    let printed = Expect::events([
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ])
    .per("run_id")
    .times(2)
    .ignore("connection_established");
    assert_eq!(expectation, printed);
    for question in questions() {
        client.send_json(&question).await?;
    }
    let matched = client.expect(&expectation).await?;
    assert_eq!(matched.events().len(), 10);
    Ok(())
}

#[ws_test(replay = "fixtures/chat.jsonl", skip_welcome = true)]
#[should_panic(
    expected = "the replay of chat.jsonl diverged at line 3 of chat.jsonl: at `content` expected \"What is the weather?\", got \"Hello?\""
)]
async fn a_diverging_message_fails_the_test_naming_the_line(client: &mut WsClient) -> TestResult {
    client.expect_type("connection_established").await?;
    client
        .send_json(json!({"type": "chat_message", "content": "Hello?"}))
        .await?;
    let close = client.expect_closed(1008).await?;
    assert!(
        close.reason.starts_with("diverged from line 3 of chat.jsonl"),
        "{}",
        close.reason
    );
    Ok(())
}

#[tokio::test]
async fn ignored_fields_may_differ_and_others_may_not() -> TestResult {
    // A recording whose client stamped its messages.
    let agent = EmbeddedServer::start().await?;
    let mut recording = agent.connect().await?;
    recording.expect_type("connection_established").await?;
    recording
        .send_json(json!({"type": "echo", "payload": {"n": 1, "sent_at": 1000}}))
        .await?;
    recording.expect_type("echo").await?;
    let history = recording.history();

    let strict = EmbeddedServer::builder()
        .handler(Replay::from_history(&history))
        .start()
        .await?;
    let lenient = EmbeddedServer::builder()
        .handler(Replay::from_history(&history).ignore_fields(["sent_at"]))
        .start()
        .await?;
    let restamped = json!({"type": "echo", "payload": {"n": 1, "sent_at": 2000}});

    let mut client = lenient.connect().await?;
    client.expect_type("connection_established").await?;
    client.send_json(&restamped).await?;
    // The recorded answer, as recorded.
    assert_eq!(client.expect_type("echo").await?["payload"]["sent_at"], 1000);
    assert!(lenient.failures().is_empty(), "{:?}", lenient.failures());

    let mut client = strict.connect().await?;
    client.expect_type("connection_established").await?;
    client.send_json(&restamped).await?;
    let close = client.expect_closed(1008).await?;
    assert_eq!(
        close.reason,
        "diverged from line 2 of the recording: at `payload.sent_at` expected 1000, got 2000"
    );
    assert_eq!(strict.failures().len(), 1, "the divergence is the test's failure");

    // A message after the recording's last one diverges too.
    let mut client = lenient.connect().await?;
    client.expect_type("connection_established").await?;
    client.send_json(&restamped).await?;
    client.expect_type("echo").await?;
    client.send_text("one more").await?;
    let close = client.expect_closed(1008).await?;
    assert!(close.reason.contains("has no more client frames"), "{}", close.reason);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn recorded_gaps_are_kept_at_the_asked_speed_on_a_paused_clock() -> TestResult {
    let mut history = History::new();
    let ms = Duration::from_millis;
    history.record_at(Direction::Out, ms(0), FrameKind::Text(r#"{"type":"go"}"#.into()));
    history.record_at(Direction::In, ms(2_000), FrameKind::Text(r#"{"type":"first"}"#.into()));
    history.record_at(Direction::In, ms(5_000), FrameKind::Text(r#"{"type":"second"}"#.into()));
    let server = EmbeddedServer::builder()
        .transport(Transport::Memory)
        .handler(Replay::from_history(&history).speed(2.0))
        .start()
        .await?;
    let mut client = server.client().recv_timeout(Duration::from_secs(10)).connect().await?;
    client.send_json(json!({"type": "go"})).await?;
    client.expect_type("first").await?;
    client.expect_type("second").await?;
    let arrived: Vec<Duration> = client.history().received().map(|frame| frame.at).collect();
    // Twice as fast: 1 s, then 1.5 s more (virtual time, exact up to the in-memory hops).
    assert!(arrived[0] >= ms(1_000) && arrived[0] < ms(1_010), "{arrived:?}");
    assert!(arrived[1] >= ms(2_500) && arrived[1] < ms(2_510), "{arrived:?}");
    Ok(())
}

#[tokio::test]
async fn the_recorder_relays_everything_and_records_each_session_to_its_file() -> TestResult {
    let upstream = EmbeddedServer::builder().token("s3cret").start().await?;
    let directory = std::env::temp_dir().join(format!("ws-test-recorder-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    let out = directory.join("session.jsonl");
    let mut recorder = Recorder::builder(upstream.url())
        .out(&out)
        .redact("content")
        .max_sessions(2)
        .start()
        .await?;

    // The upstream's refusal reaches the client unchanged, and takes no session.
    let refused = WsClient::builder(recorder.url()).token("wrong").connect().await;
    assert!(
        matches!(refused, Err(ws_test_runtime::Error::Rejected { status: 401, .. })),
        "{refused:?}"
    );

    for content in ["first secret", "second secret"] {
        // The Authorization header passes through to the upstream.
        let mut client = WsClient::builder(recorder.url()).token("s3cret").connect().await?;
        client.expect_type("connection_established").await?;
        client
            .send_json(json!({"type": "chat_message", "content": content}))
            .await?;
        // Relayed unchanged: the agent saw the real content.
        let started = client.expect_type("agent_started").await?;
        assert!(
            started["message"].as_str().unwrap_or_default().contains(content),
            "{started}"
        );
        client.expect_type("agent_completed").await?;
        client.close(1000, "done").await?;
    }
    // A third is refused: the recorder took its two.
    let third = WsClient::builder(recorder.url()).token("s3cret").connect().await;
    assert!(
        matches!(third, Err(ws_test_runtime::Error::Rejected { status: 503, .. })),
        "{third:?}"
    );
    recorder.wait_for_sessions(2, Duration::from_secs(5)).await?;
    recorder.shutdown().await?;
    let sessions = recorder.sessions();
    assert_eq!(sessions.len(), 2);
    assert!(recorder.write_errors().is_empty(), "{:?}", recorder.write_errors());

    for (number, session) in sessions.iter().enumerate() {
        let path = Recorder::session_path(&out, number + 1);
        let saved = History::load(&path)?;
        assert_eq!(saved.frames().len(), session.frames().len(), "{}", path.display());
        assert_eq!(saved.url(), Some(upstream.url().as_str()));
        // Welcome, the message, five events, then both closes.
        assert_eq!(saved.frames().len(), 9, "{}", saved.timeline());
        let sent = saved.sent().next().and_then(|frame| frame.json()).unwrap_or_default();
        assert_eq!(sent["content"], "[redacted]", "redacted in the recording");
    }
    assert_eq!(
        Recorder::session_path(&out, 2)
            .file_name()
            .and_then(|name| name.to_str()),
        Some("session.jsonl.2")
    );
    std::fs::remove_dir_all(&directory).ok();
    Ok(())
}

#[tokio::test]
async fn a_client_history_saves_and_loads_as_a_transcript() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    client.send_binary(vec![0, 159, 146, 150]).await?;
    client.expect_type("error").await?;
    let path = std::env::temp_dir().join(format!("ws-test-history-{}.jsonl", std::process::id()));
    client.history().save(&path)?;
    let loaded = History::load(&path)?;
    assert_eq!(loaded.url(), Some(server.url().as_str()));
    let kinds = |history: &History| {
        history
            .frames()
            .iter()
            .map(|frame| frame.kind.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&loaded), kinds(&client.history()));

    std::fs::write(
        &path,
        "{\"ws_test\":\"transcript\",\"format\":1}\n{\"direction\":\"in\"}\n",
    )?;
    let error = History::load(&path).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}, line 2: not a frame line", path.display())),
        "{error}"
    );
    std::fs::remove_file(&path).ok();
    Ok(())
}

#[ws_test(events = ["agent_completed"])]
async fn a_met_guard_drops_quietly_and_verify_waits(client: &mut WsClient) -> TestResult {
    let _guard = client.expect_eventually(Expect::events(ChatEvent::CRITICAL).per("run_id"));
    let completed = Expect::events(["agent_completed"]);
    let explicit = client.expect_eventually(&completed);
    assert_eq!(explicit.expectation(), &completed);
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    let matched = explicit.verify().await?;
    assert_eq!(matched.events()[0]["type"], "agent_completed");
    Ok(())
}

#[ws_test]
#[should_panic(expected = "expect_eventually: expectation not met: events [agent_started, tool_failed] in order")]
async fn a_guard_dropped_unmet_fails_the_test_with_the_report(client: &mut WsClient) -> TestResult {
    let _guard = client.expect_eventually(Expect::events(["agent_started", "tool_failed"]));
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    client.expect_type("agent_completed").await?;
    Ok(())
}

#[ws_test]
#[should_panic(expected = "the body's own failure")]
async fn a_guard_keeps_quiet_while_the_test_already_panics(client: &mut WsClient) {
    let _guard = client.expect_eventually(Expect::events(["never_sent"]));
    panic!("the body's own failure");
}

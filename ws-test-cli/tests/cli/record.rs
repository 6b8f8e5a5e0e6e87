//! `ws-test record`, `serve --replay` and `expect`: sessions recorded, replayed and turned into code.

use super::*;

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn a_recorded_session_replays_the_same_frames_and_a_divergence_gets_1008_naming_the_line() {
    let upstream = Serve::start(&[]);
    let directory = std::env::temp_dir().join(format!("ws-test-cli-record-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let out = directory.join("session.jsonl");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let record = Serve::command(
        "record",
        &[
            "--upstream",
            &upstream.url,
            "--out",
            out_arg,
            "--sessions",
            "1",
            "--redact",
            "connection_id",
        ],
    );
    assert!(
        record.url.starts_with("ws://127.0.0.1:") && record.url.ends_with("/ws"),
        "{}",
        record.url
    );
    let runtime = runtime();
    let (welcome, recorded) = runtime.block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        let welcome = client
            .expect_type("connection_established")
            .await
            .expect("the upstream's welcome");
        assert!(
            welcome["connection_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("conn-")),
            "relayed unchanged"
        );
        let events = chat_round(&mut client, "hi").await;
        client.close(1000, "done").await.expect("close");
        (welcome, events)
    });
    let (status, output) = wait_for_exit(record);
    assert!(status.success(), "{output}");
    assert!(output.contains("session 1: 9 frame(s) -> "), "{output}");

    let replay = Serve::start(&["--replay", out_arg, "--ignore-field", "run_id"]);
    runtime.block_on(async {
        let mut client = WsClient::connect(&replay.url).await.expect("serve --replay accepts");
        let replayed_welcome = client
            .expect_type("connection_established")
            .await
            .expect("the recorded welcome");
        assert_eq!(
            replayed_welcome["connection_id"], "[redacted]",
            "redacted in the recording"
        );
        assert_eq!(replayed_welcome["user_id"], welcome["user_id"]);
        // Extra spaces and another key order are the same JSON.
        let replayed = chat_round(&mut client, "hi").await;
        assert_eq!(replayed, recorded, "the same frames for the same message");

        let mut client = WsClient::connect(&replay.url).await.expect("a second client");
        client.expect_type("connection_established").await.expect("its welcome");
        client
            .send_json(json!({"type": "chat_message", "content": "bye"}))
            .await
            .expect("send");
        let close = client.expect_closed(1008).await.expect("a policy close");
        assert_eq!(
            close.reason,
            "diverged from line 3 of session.jsonl: at `content` expected \"hi\", got \"bye\""
        );
    });
    let (status, logs) = replay.terminate();
    assert!(status.success(), "{status:?}\n{logs}");
    assert!(
        logs.contains("the replay of session.jsonl diverged at line 3"),
        "{logs}"
    );

    let (code, stdout, stderr) = run_with_env(&["expect", out_arg], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"agent_started\", \"agent_thinking\", \"tool_executing\", \"tool_completed\", \
         \"agent_completed\"])\n    .per(\"run_id\")\n    .ignore(\"connection_established\")"
    );
    std::fs::remove_dir_all(&directory).ok();
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn record_stops_on_sigterm_with_every_relayed_frame_on_disk() {
    let upstream = Serve::start(&[]);
    let out = std::env::temp_dir().join(format!("ws-test-cli-sigterm-{}.jsonl", std::process::id()));
    let out_arg = out.to_str().expect("a UTF-8 path");
    let record = Serve::command("record", &["--upstream", &upstream.url, "--out", out_arg]);
    let runtime = runtime();
    let mut client = runtime.block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        client.expect_type("connection_established").await.expect("a welcome");
        chat_round(&mut client, "hi").await;
        client
    });
    let (status, logs) = record.terminate();
    assert!(status.success(), "{logs}");
    assert!(logs.contains("session 1: "), "{logs}");
    let close = runtime
        .block_on(client.expect_closed(1001))
        .expect("the client is told the recorder stops");
    assert_eq!(close.reason, "ws-test record is stopping");
    let saved = ws_test_runtime::History::load(&out).expect("the recording reads back");
    let types = saved.received_events();
    assert_eq!(
        types,
        [
            "connection_established",
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ],
        "{}",
        saved.timeline()
    );
    std::fs::remove_file(&out).ok();
}

#[test]
fn expect_prints_the_code_the_workspace_tests_paste() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/chat.jsonl");
    let (code, stdout, stderr) = run_with_env(&["expect", fixture], &[]);
    assert_eq!(code, 0, "{stderr}");
    // tests/recording.rs `a_recording_becomes_an_ordering_test` compiles this very expectation.
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"agent_started\", \"agent_thinking\", \"tool_executing\", \"tool_completed\", \
         \"agent_completed\"])\n    .per(\"run_id\")\n    .times(2)\n    .ignore(\"connection_established\")"
    );
}

#[test]
fn expect_names_events_by_another_field_with_event_key() {
    let path = std::env::temp_dir().join(format!("ws-test-cli-jsonrpc-{}.jsonl", std::process::id()));
    let frame = |at: u32, text: &str| {
        format!(
            "{{\"direction\":\"in\",\"at_ms\":{at},\"kind\":\"text\",\"text\":{}}}\n",
            serde_json::to_string(text).expect("a string")
        )
    };
    let mut transcript = "{\"ws_test\":\"transcript\",\"format\":1}\n".to_owned();
    transcript.push_str(&frame(1, r#"{"jsonrpc":"2.0","id":1,"result":7}"#));
    transcript.push_str(&frame(
        2,
        r#"{"jsonrpc":"2.0","method":"ticks","params":{"subscription":7,"result":0}}"#,
    ));
    transcript.push_str(&frame(
        3,
        r#"{"jsonrpc":"2.0","method":"ticks","params":{"subscription":7,"result":1}}"#,
    ));
    std::fs::write(&path, transcript).expect("a temporary file");
    let path_arg = path.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run_with_env(&["expect", path_arg, "--event-key", "method"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"ticks\", \"ticks\"])\n    .event_key(\"method\")"
    );
    // Without it, nothing in the recording has a "type": there is no order to expect.
    let (code, _, stderr) = run_with_env(&["expect", path_arg], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no frame from the server that is a JSON object with a \"type\""),
        "{stderr}"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_broken_recording_is_refused_naming_the_line() {
    let path = std::env::temp_dir().join(format!("ws-test-cli-broken-{}.jsonl", std::process::id()));
    std::fs::write(
        &path,
        "{\"ws_test\":\"transcript\",\"format\":1}\n{\"direction\":\"in\",\"at_ms\":1,\"kind\":\"tick\"}\n",
    )
    .expect("a temporary file");
    let path_arg = path.to_str().expect("a UTF-8 path");
    for args in [vec!["serve", "--replay", path_arg], vec!["expect", path_arg]] {
        let (code, _, stderr) = run_with_env(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{path_arg}, line 2: `kind` is \"tick\"")),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, stderr) = run_with_env(&["record", "--upstream", "http://x", "--out", path_arg], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the recorder relays to a ws:// or wss:// server"),
        "{stderr}"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn record_relays_to_a_wss_upstream_trusted_with_ca_cert() {
    let (upstream, certificate) = serve_tls();
    let saved = record_one_chat(&upstream.url, &certificate, "wss");
    assert!(
        saved.url().is_some_and(|url| url.starts_with("wss://127.0.0.1:")),
        "{:?}",
        saved.url()
    );
    assert_eq!(saved.received_events().len(), 6, "{}", saved.timeline());
}

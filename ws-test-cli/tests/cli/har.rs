//! HAR files on the command line (issue 38): `expect`, `serve --replay`, `bench --scenario` with `--entry`, and
//! `record --har`. `tests/fixtures/chromium.har` is what Chromium's own DevTools saved of a page talking to
//! `ws-test serve` at `/agent?room=a` over the subprotocol `chat.v1`.

use super::*;

const CHROMIUM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/chromium.har");

/// The Chromium HAR with its WebSocket copied under `?room=b`: entries 1 and 3 are WebSockets.
fn two_websockets(name: &str) -> std::path::PathBuf {
    let mut har: Value = serde_json::from_str(&std::fs::read_to_string(CHROMIUM).expect("the fixture")).expect("JSON");
    let entries = har["log"]["entries"].as_array_mut().expect("entries");
    let mut other = entries[1].clone();
    let url = other["request"]["url"]
        .as_str()
        .expect("a URL")
        .replace("room=a", "room=b");
    other["request"]["url"] = Value::String(url);
    entries.push(other);
    let path = std::env::temp_dir().join(format!("ws-test-cli-{}-{name}.har", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&har).expect("JSON")).expect("a temporary file");
    path
}

#[test]
fn expect_reads_a_har_and_an_entry_chooses_among_several() {
    let (code, out, err) = run_with_env(&["expect", CHROMIUM], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\"agent_started\", \"agent_thinking\", \"tool_executing\""),
        "{out}"
    );

    let two = two_websockets("expect");
    let path = two.to_str().expect("a UTF-8 path");
    let (code, out, err) = run_with_env(&["expect", path], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("it holds 2 WebSockets; choose one by its index or URL"),
        "{err}"
    );
    assert!(
        err.contains("  1: GET ws://") && err.contains("  3: GET ws://"),
        "{err}"
    );
    let (code, out, err) = run_with_env(&["expect", path, "--entry", "room=b"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run_with_env(&["expect", path, "--entry", "0"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("entry 0 is GET http://127.0.0.1:"), "{err}");
    std::fs::remove_file(two).ok();
}

#[test]
fn serve_replays_the_chosen_entry_at_its_path_with_its_subprotocol() {
    let two = two_websockets("serve");
    let path = two.to_str().expect("a UTF-8 path");
    let (code, _, err) = run_with_env(&["serve", "--replay", path], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("it holds 2 WebSockets"), "{err}");
    // --entry is for --replay only.
    let (code, _, err) = run_with_env(&["serve", "--entry", "1"], &[]);
    assert_eq!(code, 2, "{err}");

    let replay = Serve::start(&["--replay", path, "--entry", "1"]);
    assert!(replay.url.ends_with("/agent"), "{}", replay.url);
    runtime().block_on(async {
        let mut page = WsClient::builder(format!("{}?room=a", replay.url))
            .subprotocol("chat.v1")
            .connect()
            .await
            .expect("the replay agrees to the recorded subprotocol");
        assert_eq!(page.subprotocol(), Some("chat.v1"));
        page.expect_type("connection_established")
            .await
            .expect("the recorded welcome");
        let frames = chat_round(&mut page, "hello from Chromium").await;
        let events: Vec<Value> = frames
            .iter()
            .map(|text| serde_json::from_str(text).expect("JSON"))
            .collect();
        let types: Vec<&str> = events
            .iter()
            .map(|event| event["type"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(types, ChatEvent::CRITICAL);
        // The frames Chromium saw, as they were (the recorded time among them).
        let recorded = ws_test_runtime::History::load(CHROMIUM).expect("the fixture");
        assert_eq!(
            events[0]["timestamp"],
            recorded.frames()[2].json().expect("JSON")["timestamp"]
        );
    });
    std::fs::remove_file(two).ok();
}

#[test]
fn bench_plays_a_har_entry_where_it_was_recorded() {
    let agent = Serve::start(&["--path", "/agent", "--subprotocol", "chat.v1"]);
    let authority = agent.url.trim_end_matches("/agent").to_owned();
    let two = two_websockets("bench");
    let path = two.to_str().expect("a UTF-8 path");
    let (code, out, err) = run_with_env(
        &[
            "bench",
            &authority,
            "--scenario",
            path,
            "--entry",
            "room=a",
            "--connections",
            "2",
            "--rounds",
            "2",
            "--json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("the report is JSON");
    assert_eq!(report["iterations"], 4, "{out}");
    assert_eq!(report["errors"], 0, "{out}");
    assert!(
        report["url"].as_str().is_some_and(|url| url.ends_with("/agent?room=a")),
        "{out}"
    );
    std::fs::remove_file(two).ok();
}

#[cfg(unix)]
#[test]
fn record_writes_a_har_without_a_transcript_and_needs_one_of_the_two() {
    let (code, _, err) = run_with_env(&["record", "--upstream", "ws://127.0.0.1:1/ws"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--out") && err.contains("--har"), "{err}");

    let upstream = Serve::start(&[]);
    let har = std::env::temp_dir().join(format!("ws-test-cli-{}-record.har", std::process::id()));
    let har_arg = har.to_str().expect("a UTF-8 path");
    let record = Serve::command(
        "record",
        &["--upstream", &upstream.url, "--har", har_arg, "--sessions", "1"],
    );
    runtime().block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        client.expect_type("connection_established").await.expect("the welcome");
        chat_round(&mut client, "hi").await;
        client.close(1000, "done").await.expect("close");
    });
    let (status, output) = wait_for_exit(record);
    assert!(status.success(), "{output}");
    assert!(
        output.contains("session 1: ") && output.contains("(entry 0)"),
        "{output}"
    );
    let history = ws_test_runtime::History::load(&har).expect("the HAR reads back");
    assert_eq!(history.received_events()[1..], ChatEvent::CRITICAL[..]);
    std::fs::remove_file(har).ok();
}

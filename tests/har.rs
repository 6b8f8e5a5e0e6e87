//! HAR files in and out (issue 38): `fixtures/chromium.har` is what Chromium's own DevTools saved of a page talking to
//! `ws-test serve` at `/agent?room=a` over the subprotocol `chat.v1` (tests/browser/har_chromium.py made it): the
//! page, its favicon and the WebSocket, whose messages are a welcome, a chat round, a binary frame and its error.

use std::path::PathBuf;

use serde_json::Value;
use ws_test_runtime::load::Scenario;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Direction, FrameKind, History, Recorder, Replay, ws_test};

const CHROMIUM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/chromium.har");

/// The events the page received, in order.
const RECEIVED: [&str; 7] = [
    "connection_established",
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
    "error",
];

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ws-test-har-{}-{name}", std::process::id()))
}

/// The Chromium HAR with its WebSocket entry copied under another URL: a HAR of two WebSockets.
fn two_websockets() -> PathBuf {
    let mut har: Value = serde_json::from_str(&std::fs::read_to_string(CHROMIUM).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array_mut().unwrap();
    let mut other = entries
        .iter()
        .find(|entry| entry["_resourceType"] == "websocket")
        .unwrap()
        .clone();
    let url = other["request"]["url"].as_str().unwrap().replace("room=a", "room=b");
    other["request"]["url"] = Value::String(url);
    other["_webSocketMessages"].as_array_mut().unwrap().truncate(1);
    entries.push(other);
    let path = scratch("two.har");
    std::fs::write(&path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    path
}

#[test]
fn chromiums_har_reads_as_the_websockets_history_with_its_upgrade() {
    let history = History::load(CHROMIUM).unwrap();
    let url = history.url().unwrap();
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/agent?room=a"),
        "{url}"
    );
    let handshake = history.handshake().unwrap();
    assert_eq!(handshake.status, 101);
    assert_eq!(handshake.subprotocol(), Some("chat.v1"));
    assert!(
        handshake
            .request_headers
            .iter()
            .any(|(name, value)| name == "Sec-WebSocket-Protocol" && value == "chat.v1"),
        "{:?}",
        handshake.request_headers
    );
    assert_eq!(history.received_events(), RECEIVED);
    // The issue's spellings: Expect::from_recording on a HAR, and a snapshot with run_id redacted.
    let expectation = Expect::from_recording(CHROMIUM).unwrap();
    assert!(
        format!("{expectation:?}").contains("agent_completed"),
        "{expectation:?}"
    );
    let snapshot = history.snapshot().redact("/run_id").to_string();
    assert!(snapshot.contains("\"run_id\":\"[redacted]\""), "{snapshot}");
    let sent: Vec<&FrameKind> = history.sent().map(|frame| &frame.kind).collect();
    assert_eq!(sent.len(), 2);
    assert!(matches!(sent[0], FrameKind::Text(text) if text.contains("hello from Chromium")));
    // The binary frame, out of its base64.
    assert_eq!(sent[1], &FrameKind::Binary(vec![0xde, 0xad, 0xbe, 0xef]));
    // Times from the entry's start, in order.
    let times: Vec<_> = history.frames().iter().map(|frame| frame.at).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
    assert!(times.last().unwrap().as_secs() < 5, "{times:?}");
}

#[ws_test(replay = "fixtures/chromium.har", events = ChatEvent::CRITICAL)]
async fn the_attribute_replays_a_har_at_its_path_with_its_subprotocol(
    server: &EmbeddedServer,
    client: &mut WsClient,
) -> TestResult {
    assert!(server.url().ends_with("/agent"), "{}", server.url());
    client
        .send_json(json!({"type": "chat_message", "content": "hello from Chromium"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
    // The binary frame the page sent, answered as it was.
    client.send_binary(vec![0xde, 0xad, 0xbe, 0xef]).await?;
    client.expect_type("error").await?;
    // The replay agrees to the page's subprotocol.
    let page = WsClient::builder(server.url()).subprotocol("chat.v1").connect().await?;
    assert_eq!(page.subprotocol(), Some("chat.v1"));
    Ok(())
}

#[ws_test(replay = "fixtures/chromium.har", entry = "room=a", skip_welcome = true)]
#[should_panic(expected = "message 2 of chromium.har, entry 1 (ws://127.0.0.1:")]
async fn a_diverging_message_names_the_entry_and_the_message(client: &mut WsClient) -> TestResult {
    client.expect_type("connection_established").await?;
    client
        .send_json(json!({"type": "chat_message", "content": "Hello?"}))
        .await?;
    client.expect_closed(1008).await?;
    Ok(())
}

#[test]
fn several_websockets_need_an_entry_and_the_error_lists_them() {
    let path = two_websockets();
    let error = History::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("it holds 2 WebSockets; choose one by its index or URL"),
        "{error}"
    );
    assert!(
        error.contains("  1: GET ws://127.0.0.1:") && error.contains("/agent?room=a (101, 9 message(s))"),
        "{error}"
    );
    assert!(
        error.contains("  3: GET ws://127.0.0.1:") && error.contains("/agent?room=b (101, 1 message(s))"),
        "{error}"
    );
    // By a part of the URL, by index, by the whole URL.
    assert_eq!(History::load_entry(&path, "room=b").unwrap().len(), 1);
    assert_eq!(History::load_entry(&path, "1").unwrap().len(), 9);
    let whole = History::load_entry(&path, "1").unwrap().url().unwrap().to_owned();
    assert_eq!(History::load_entry(&path, &whole).unwrap().len(), 9);
    // What does not choose says why.
    let page = History::load_entry(&path, "0").unwrap_err().to_string();
    assert!(
        page.contains("entry 0 is GET http://127.0.0.1:") && page.contains("not a WebSocket; its WebSockets are:"),
        "{page}"
    );
    let both = History::load_entry(&path, "/agent").unwrap_err().to_string();
    assert!(both.contains("2 WebSocket entries' URLs contain \"/agent\""), "{both}");
    let none = History::load_entry(&path, "9").unwrap_err().to_string();
    assert!(none.contains("it has 4 entries (0 to 3), so no entry 9"), "{none}");
    // The Rust equivalents of --entry.
    assert_eq!(Replay::from_file_entry(&path, "room=a").unwrap().client_frames(), 2);
    assert_eq!(Scenario::load_entry(&path, "room=a").unwrap().len(), 2);
    std::fs::remove_file(path).ok();
}

#[test]
fn a_har_without_a_websocket_lists_what_it_holds() {
    let path = scratch("pages.har");
    std::fs::write(
        &path,
        r#"{"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "133.0"}, "entries": [
            {"startedDateTime": "2026-12-03T09:00:00.000+01:00", "time": 3, "request": {"method": "GET", "url": "https://example.com/"}, "response": {"status": 200, "content": {"mimeType": "text/html"}}},
            {"startedDateTime": "2026-12-03T09:00:00.010+01:00", "time": 2, "request": {"method": "GET", "url": "https://example.com/app.js"}, "response": {"status": 200, "content": {"mimeType": "text/javascript"}}}
        ]}}"#,
    )
    .unwrap();
    let error = Replay::from_file(&path).unwrap_err().to_string();
    assert!(error.contains("it holds no WebSocket"), "{error}");
    assert!(
        error.contains("0: GET https://example.com/ (200, text/html)"),
        "{error}"
    );
    assert!(
        error.contains("1: GET https://example.com/app.js (200, text/javascript)"),
        "{error}"
    );
    // A transcript takes no entry.
    let transcript = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/chat.jsonl");
    let error = History::load_entry(transcript, "1").unwrap_err().to_string();
    assert!(
        error.contains("is a transcript of one session, so it has no entry to choose"),
        "{error}"
    );
    // Not JSON, a message that does not read.
    std::fs::write(&path, r#"{"log": {"entries": [{"startedDateTime": "2026-12-03T08:00:00Z", "request": {"url": "ws://h/"}, "_webSocketMessages": [{"type": "receive", "time": 1796284800, "opcode": 2, "data": "!!"}]}]}}"#).unwrap();
    let error = History::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("entry 0 (ws://h/): message 1 of `_webSocketMessages`: a binary frame's `data` is not base64"),
        "{error}"
    );
    std::fs::write(&path, "{\"log\": [").unwrap();
    let error = History::load(&path).unwrap_err().to_string();
    assert!(error.contains("it is not JSON"), "{error}");
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn ignore_fields_work_the_same_on_har_input() {
    let path = scratch("nonce.har");
    std::fs::write(
        &path,
        r#"{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
          {"startedDateTime": "2026-12-03T08:00:00.000Z", "time": 1, "request": {"method": "GET", "url": "ws://localhost:4000/rpc"}, "response": {"status": 101}, "_resourceType": "websocket",
           "_webSocketMessages": [
             {"type": "send", "time": 1796284800.01, "opcode": 1, "data": "{\"method\":\"subscribe\",\"nonce\":\"a81f\"}"},
             {"type": "receive", "time": 1796284800.02, "opcode": 1, "data": "{\"method\":\"subscribed\"}"}]}]}}"#,
    )
    .unwrap();
    let replay = Replay::from_file(&path).unwrap().ignore_fields(["nonce"]);
    assert_eq!(replay.recorded_path().as_deref(), Some("/rpc"));
    // By hand, `replay` serves it where it was recorded.
    let server = EmbeddedServer::builder().replay(replay).start().await.unwrap();
    assert!(server.url().ends_with("/rpc"), "{}", server.url());
    let mut client = server.connect().await.unwrap();
    client
        .send_json(json!({"method": "subscribe", "nonce": "77c0"}))
        .await
        .unwrap();
    assert_eq!(client.recv_json().await.unwrap()["method"], "subscribed");
    assert!(server.failures().is_empty(), "{:?}", server.failures());
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_clients_history_saves_as_a_har_with_its_upgrade_and_reads_back() {
    let server = EmbeddedServer::builder().subprotocol("chat.v1").start().await.unwrap();
    let mut client = WsClient::builder(server.url())
        .subprotocol("chat.v1")
        .header("x-team", "realtime")
        .connect()
        .await
        .unwrap();
    client.expect_type("connection_established").await.unwrap();
    client
        .send_json(json!({"type": "echo", "payload": "é ✓"}))
        .await
        .unwrap();
    client.expect_type("echo").await.unwrap();
    client.send_binary(vec![0, 1, 254, 255]).await.unwrap();
    client.expect_type("error").await.unwrap();
    let history = client.history();
    let path = scratch("client.har");
    history.save_har(&path).unwrap();

    let har: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entry = &har["log"]["entries"][0];
    assert_eq!(har["log"]["version"], "1.2");
    assert_eq!(entry["_resourceType"], "websocket");
    assert_eq!(entry["response"]["status"], 101);
    let named = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|header| header["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|header| header["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        named(&entry["request"]["headers"], "x-team").as_deref(),
        Some("realtime")
    );
    assert!(named(&entry["request"]["headers"], "sec-websocket-key").is_some());
    assert_eq!(
        named(&entry["response"]["headers"], "sec-websocket-protocol").as_deref(),
        Some("chat.v1")
    );
    assert!(named(&entry["response"]["headers"], "sec-websocket-accept").is_some());
    let messages = entry["_webSocketMessages"].as_array().unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(messages[3]["type"], "send");
    assert_eq!(messages[3]["opcode"], 2);
    assert_eq!(messages[3]["data"], "AAH+/w==");

    let back = History::load(&path).unwrap();
    let data = |history: &History| -> Vec<(Direction, FrameKind)> {
        history
            .frames()
            .iter()
            .filter(|frame| matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_)))
            .map(|frame| (frame.direction, frame.kind.clone()))
            .collect()
    };
    assert_eq!(data(&back), data(&history));
    assert_eq!(back.url(), history.url());
    assert_eq!(
        back.handshake().and_then(|upgrade| upgrade.subprotocol()),
        Some("chat.v1")
    );
    // Times survive to the microsecond.
    for (read, original) in back.frames().iter().zip(history.frames()) {
        let apart = read.at.abs_diff(original.at);
        assert!(apart.as_micros() <= 1, "{:?} vs {:?}", read.at, original.at);
    }
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_recorder_writes_every_session_to_one_har_with_redacted_headers() {
    let upstream = EmbeddedServer::start().await.unwrap();
    let path = scratch("recorded.har");
    let mut recorder = Recorder::builder(upstream.url())
        .har(&path)
        .redact("authorization")
        .redact("token")
        .start()
        .await
        .unwrap();
    for content in ["first", "second"] {
        let mut client = WsClient::builder(recorder.url())
            .token("s3cret")
            .connect()
            .await
            .unwrap();
        client.expect_type("connection_established").await.unwrap();
        client
            .send_json(json!({"type": "echo", "payload": {"content": content, "token": "s3cret"}}))
            .await
            .unwrap();
        client.expect_type("echo").await.unwrap();
        client.close(1000, "done").await.unwrap();
    }
    recorder
        .wait_for_sessions(2, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    recorder.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let error = History::load(&path).unwrap_err().to_string();
    assert!(error.contains("it holds 2 WebSockets"), "{error}");
    let second = History::load_entry(&path, "1").unwrap();
    assert_eq!(second.received_events(), ["connection_established", "echo"]);
    assert!(second.frames()[1].text().unwrap().contains("\"second\""));
    let authorization = second
        .handshake()
        .unwrap()
        .request_headers
        .iter()
        .find(|(name, _)| name == "Authorization")
        .map(|(_, value)| value.clone());
    assert_eq!(authorization.as_deref(), Some("[redacted]"));
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn chromiums_conversation_and_the_same_one_by_ws_tests_client_snapshot_the_same() {
    // The page's conversation, as Chromium's DevTools saved it.
    let page = History::load(CHROMIUM).unwrap().snapshot().to_string();
    // The same conversation by ws-test's own client, against the same agent, another day.
    let server = EmbeddedServer::builder()
        .path("/agent")
        .subprotocol("chat.v1")
        .start()
        .await
        .unwrap();
    let mut client = WsClient::builder(format!("{}?room=a", server.url()))
        .subprotocol("chat.v1")
        .connect()
        .await
        .unwrap();
    client.expect_type("connection_established").await.unwrap();
    client
        .send_json(json!({"type": "chat_message", "content": "hello from Chromium"}))
        .await
        .unwrap();
    client.expect(Expect::events(ChatEvent::CRITICAL)).await.unwrap();
    client.send_binary(vec![0xde, 0xad, 0xbe, 0xef]).await.unwrap();
    client.expect_type("error").await.unwrap();
    // DevTools keep data frames only; the client's history is compared on the same frames.
    let own = client.snapshot().to_string();
    assert_eq!(own, page);
    assert!(page.contains("→ binary 4 byte(s): de ad be ef"), "{page}");
}

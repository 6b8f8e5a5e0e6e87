//! Whole-conversation snapshots (issue 38): the same text for the same conversation on every run, stored and
//! compared through insta, and insta's diff when the server reorders two events.

use ws_test_runtime::prelude::*;
use ws_test_runtime::{Handler, HandlerResult, Message, Session, assert_ws_snapshot, ws_test};

/// One chat round with the built-in agent (connection, run and tool-call ids, timestamps all new at every run).
async fn chat_round(server: &EmbeddedServer) -> WsClient {
    let mut client = server.connect().await.unwrap();
    client.expect_type("connection_established").await.unwrap();
    client
        .send_json(json!({"type": "chat_message", "content": "What is the weather?"}))
        .await
        .unwrap();
    client.expect(Expect::events(ChatEvent::CRITICAL)).await.unwrap();
    client.close(1000, "done").await.unwrap();
    client
}

#[tokio::test]
async fn a_chat_rounds_snapshot_is_the_same_text_on_twenty_runs() {
    let mut texts = Vec::new();
    for _ in 0..20 {
        // A new server each run: new connection ids, run ids, timestamps.
        let server = EmbeddedServer::start().await.unwrap();
        texts.push(chat_round(&server).await.snapshot().to_string());
    }
    assert!(texts.iter().all(|text| *text == texts[0]), "{texts:#?}");
    let text = &texts[0];
    assert!(
        text.starts_with("← connection_established {\"connection_id\":\"[connection_id 1]\""),
        "{text}"
    );
    assert!(text.contains("\"run_id\":\"[run_id 1]\""), "{text}");
    assert!(text.contains("\"timestamp\":\"[timestamp]\""), "{text}");
    // Two rounds on one connection: two run ids, numbered in order.
    let server = EmbeddedServer::start().await.unwrap();
    let mut client = server.connect().await.unwrap();
    for content in ["one", "two"] {
        client
            .send_json(json!({"type": "chat_message", "content": content}))
            .await
            .unwrap();
        client.expect(Expect::events(ChatEvent::CRITICAL)).await.unwrap();
    }
    let two = client.snapshot().to_string();
    assert!(two.contains("[run_id 2]") && !two.contains("[run_id 3]"), "{two}");
}

#[ws_test(events = ChatEvent::CRITICAL)]
async fn a_chat_round_through_insta(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "What is the weather?"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
    // By reference or by value, a client, a history or a configured snapshot.
    assert_ws_snapshot!("chat_round", client);
    assert_ws_snapshot!("chat_round", &client.history());
    assert_ws_snapshot!("chat_round_redacted", client.snapshot().redact("/message").keep("seq"));
    Ok(())
}

/// An agent of a user's own: on each message, its run's five events with a fresh run id and the time, in order,
/// or with `agent_started` and `agent_thinking` swapped (the bug a snapshot must catch).
struct Agent {
    swapped: bool,
}

impl Handler for Agent {
    async fn on_message(&self, session: &Session, _: Message) -> HandlerResult {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let run_id = format!("run-{:x}", now.as_nanos());
        let mut events = [
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed",
        ];
        if self.swapped {
            events.swap(0, 1);
        }
        for (seq, event) in events.into_iter().enumerate() {
            session
                .send_json(
                    json!({"type": event, "run_id": run_id, "seq": seq + 1, "timestamp": now.as_millis() as u64}),
                )
                .await?;
        }
        Ok(())
    }
}

/// The snapshot of one round with the agent, through `assert_ws_snapshot!` on a thread of its own: the panic insta
/// raised, if any.
fn snapshot_a_round(swapped: bool) -> Option<String> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async {
            let server = EmbeddedServer::builder()
                .handler(Agent { swapped })
                .start()
                .await
                .unwrap();
            let mut client = server.connect().await.unwrap();
            client
                .send_json(json!({"type": "chat_message", "content": "hi"}))
                .await
                .unwrap();
            client.expect(Expect::events(["agent_completed"])).await.unwrap();
            client
        });
        assert_ws_snapshot!("own_agent_round", client);
    })
    .join()
    .err()
    .map(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
            .unwrap_or_default()
    })
}

#[test]
fn a_server_that_reorders_two_events_fails_the_snapshot_with_insta_s_diff() {
    // The stored snapshot (snapshots/workspace__snapshot__own_agent_round.snap) is the round in order.
    assert_eq!(snapshot_a_round(false), None);
    let failure = snapshot_a_round(true).expect("a reordered round must fail its snapshot");
    assert!(
        failure.contains("snapshot assertion for 'own_agent_round' failed"),
        "{failure}"
    );
    // insta leaves the new version beside the stored one for `cargo insta review`; this one is not to be kept.
    let pending = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/snapshots/workspace__snapshot__own_agent_round.snap.new"
    );
    std::fs::remove_file(pending).ok();
}

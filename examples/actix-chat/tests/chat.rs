//! The actix-web app under `#[ws_test(serve = ...)]`, written as a new user would.

use ws_test_runtime::prelude::*;

#[ws_test(
    serve = actix_chat::serve,
    token = "s3cret",
    path = "/chat",
    events = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
    order = "strict",
    per = "run_id",
    times = 2
)]
async fn two_runs_get_the_five_events(client: &mut WsClient) -> TestResult {
    for run in ["r1", "r2"] {
        client
            .send_json(json!({"type": "chat_message", "content": "hi", "run_id": run}))
            .await?;
    }
    Ok(())
}

#[ws_test(serve = actix_chat::serve, token = "s3cret", path = "/chat")]
async fn anything_but_a_chat_message_is_an_error(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "hello"})).await?;
    let error = client.expect_type("error").await?;
    assert_eq!(error["message"], "send a chat_message");
    Ok(())
}

/// A wrong token is refused by the app, and the test fails naming the 401.
#[ws_test(serve = actix_chat::serve, token = "wrong", path = "/chat")]
#[should_panic(expected = "refused the WebSocket upgrade with HTTP 401")]
async fn a_wrong_token_fails_naming_401(_client: &mut WsClient) {}

/// The same test by hand: bind, start, connect, stop (what the attribute does).
#[test]
fn by_hand() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut server = ws_test_runtime::ServedServer::builder(actix_chat::serve)
            .path("/chat")
            .start()
            .await
            .expect("the server starts");
        let mut client = server
            .connect_with(server.client().token("s3cret"))
            .await
            .expect("connects");
        client
            .send_json(json!({"type": "chat_message", "content": "hi", "run_id": "r1"}))
            .await
            .expect("sent");
        client
            .expect(Expect::events(ws_test_runtime::ChatEvent::CRITICAL).strict())
            .await
            .expect("the five events");
        client.close(1000, "done").await.expect("closed");
        server.shutdown().await.expect("stops cleanly");
    });
}

//! Test code written the way a newcomer writes it first, from the README's and the issues' examples: values
//! where a reference would do, `String` URLs where `&str` would do, a profile without a handler, and lint
//! attributes under `#[ws_test]`. Each of these once failed to compile (or, for `#[expect]`, reported itself
//! unfulfilled); CI's clippy runs with `-D warnings`, so an `#[expect]` that lands on the wrong item fails it.

use serde::Serialize;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Error, Router};

#[derive(Serialize)]
struct ChatMessage<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    content: &'a str,
    run_id: &'a str,
}

#[ws_test(events = ChatEvent::CRITICAL, per = "run_id", times = 4)]
async fn send_json_takes_values_and_references(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "by value", "run_id": "r1"}))
        .await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "by reference", "run_id": "r2"}))
        .await?;
    let message = ChatMessage {
        kind: "chat_message",
        content: "a struct",
        run_id: "r3",
    };
    client.send_json(&message).await?;
    client
        .send_json(ChatMessage {
            run_id: "r4",
            ..message
        })
        .await?;
    Ok(())
}

#[tokio::test]
#[allow(
    clippy::needless_borrows_for_generic_args,
    reason = "the by-reference spelling is what this test checks"
)]
async fn urls_go_in_as_string_or_str() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let by_value = WsClient::connect(server.url()).await?;
    let by_reference = WsClient::connect(&server.url()).await?;
    let by_str = WsClient::connect(server.url().as_str()).await?;
    let built = WsClient::builder(&server.url())
        .header("X-User-Id", "alice")
        .connect()
        .await?;
    let report = ws_test_runtime::suite::Suite::new(&server.url())
        .concurrency(2)
        .run()
        .await?;
    assert!(report.all_passed(), "{report}");
    for client in [by_value, by_reference, by_str, built] {
        assert_eq!(client.url(), server.url());
    }
    Ok(())
}

#[tokio::test]
async fn sessions_and_servers_take_values_too() -> TestResult {
    let app = Router::new()
        .with_welcome()
        .route("hello", |session: Session, _message| async move {
            session
                .send_json(json!({"type": "hi", "user": *ChatAgent::user_id(&session)}))
                .await?;
            session.broadcast(json!({"type": "someone_said_hello"})).await?;
            Ok::<(), Error>(())
        });
    let server = EmbeddedServer::builder().handler(app).start().await?;
    let mut client = server.client().header("X-User-Id", "bob").connect().await?;
    client.send_json(json!({"type": "hello"})).await?;
    let matched = client
        .expect(&Expect::events(["connection_established", "hi", "someone_said_hello"]).strict())
        .await?;
    assert_eq!(matched.events()[1]["user"], "bob");
    assert_eq!(server.broadcast(json!({"type": "from_the_test"})).await?, 1);
    client.expect(Expect::events(["from_the_test"])).await?; // by value as well as by reference
    client.send_json(json!({"type": "hello"})).await?;
    let mut tap = client.tap();
    let again = Expect::events(["hi", "someone_said_hello"]);
    client.expect(&again).await?;
    tap.expect(again).await?;
    Ok(())
}

/// A profile that names no server: the built-in chat agent, as `#[ws_test]` alone would.
#[derive(WsProfile)]
#[ws_profile(events = ChatEvent::CRITICAL, per = "run_id")]
struct JustTheEvents;

#[ws_test(profile = JustTheEvents)]
async fn a_profile_without_a_handler_runs_the_built_in_agent(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test(profile = JustTheEvents, order = "strict")]
async fn a_profile_without_a_handler_takes_refinements(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test]
#[expect(
    unused_variables,
    reason = "the lint is about the body, and the body is where it lands"
)]
async fn expect_lands_on_the_body(client: &mut WsClient) {
    let unused = 1;
}

#[ws_test]
#[allow(clippy::let_and_return)]
#[cfg_attr(all(), expect(clippy::needless_return))]
async fn allow_and_cfg_attr_land_on_the_body(client: &mut WsClient) -> TestResult {
    let welcome_seen = client.history().received_events() == ["connection_established"];
    assert!(welcome_seen);
    let result = Ok(());
    return result;
}

#[ws_test]
#[cfg(any())]
async fn cfg_removes_the_test_and_its_body(client: &mut WsClient) {
    compile_error!("a #[cfg] under #[ws_test] must remove the body too");
}

#[ws_test]
#[cfg_attr(all(), should_panic(expected = "reached the test function"))]
async fn cfg_attr_with_a_test_attribute_lands_on_the_test(_client: &mut WsClient) {
    panic!("the body panicked, and #[should_panic] reached the test function");
}

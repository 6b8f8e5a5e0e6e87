//! `#[ws_test]` itself: every argument, every injectable signature, and the tests that must fail, checked by
//! their failure message.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::{Router, ServerBuilder, ws_test};

#[ws_test(events = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"])]
async fn chat_flow(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test(events = ChatEvent::CRITICAL, order = "strict", per = "run_id", times = 3, handler = ChatAgent::new().event_delay(Duration::from_millis(1)))]
async fn interleaved_runs_are_checked_per_run(client: &mut WsClient) -> TestResult {
    for run in ["a", "b", "c"] {
        client
            .send_json(&json!({"type": "chat_message", "content": run, "run_id": run}))
            .await?;
    }
    Ok(())
}

#[ws_test(events = ["pong", "echo"], order = "any_order")]
async fn any_order_and_a_unit_body(client: &mut WsClient) {
    client
        .send_json(&json!({"type": "echo", "payload": 1}))
        .await
        .expect("send");
    client.send_json(&json!({"type": "ping"})).await.expect("send");
}

#[ws_test(events = ChatEvent::CRITICAL)]
async fn a_client_taken_by_value_is_still_checked(mut client: WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "mine now"}))
        .await?;
    // The body owns the client; the events it receives until it is dropped still count.
    client.expect_type("agent_completed").await?;
    Ok(())
}

#[ws_test(clients = 3)]
async fn several_clients_are_injected_as_a_vec(clients: Vec<WsClient>, server: &EmbeddedServer) -> TestResult {
    assert_eq!(clients.len(), 3);
    assert_eq!(server.metrics().connections_active, 3);
    let connections: std::collections::HashSet<String> = server
        .connections()
        .into_iter()
        .map(|connection| connection.connection_id)
        .collect();
    assert_eq!(connections.len(), 3, "each client has its own connection");
    Ok(())
}

#[ws_test]
async fn the_server_alone(server: &EmbeddedServer) {
    assert!(server.url().starts_with("ws://127.0.0.1:"));
    assert_eq!(server.metrics().connections_total, 1);
}

#[ws_test]
async fn server_first_then_client(server: &EmbeddedServer, client: &mut WsClient) -> TestResult {
    server.broadcast(&json!({"type": "notice"})).await?;
    client.expect_type("notice").await?;
    Ok(())
}

#[ws_test]
async fn no_parameters_at_all() {}

#[ws_test(headers = [("X-User-Id", "alice")])]
async fn user_sets_the_connection_user(client: &mut WsClient) -> TestResult {
    let welcome = client.history().frames()[0].json().expect("the welcome is JSON");
    assert_eq!(welcome["user_id"], "alice");
    Ok(())
}

#[ws_test(token = "s3cret")]
async fn token_is_required_by_the_server_and_sent_by_the_client(server: &EmbeddedServer) -> TestResult {
    let refused = server.connect().await.unwrap_err();
    assert!(
        matches!(refused, ws_test_runtime::Error::Rejected { status: 401, .. }),
        "{refused:?}"
    );
    Ok(())
}

#[ws_test(skip_welcome = true)]
async fn skip_welcome_leaves_it_to_the_body(client: &mut WsClient) -> TestResult {
    assert_eq!(client.recv_json().await?["type"], "connection_established");
    Ok(())
}

fn math_app() -> Router {
    Router::new()
        .with_welcome()
        .route("add", |session: Session, message: Value| async move {
            let sum = message["a"].as_i64().unwrap_or(0) + message["b"].as_i64().unwrap_or(0);
            session.send_json(&json!({"type": "sum", "value": sum})).await
        })
}

#[ws_test(handler = math_app, events = ["sum"])]
async fn handler_can_be_a_function(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "add", "a": 2, "b": 3})).await?;
    Ok(())
}

fn small_messages() -> ServerBuilder {
    EmbeddedServer::builder().max_message_size(64)
}

#[ws_test(server = small_messages)]
async fn server_gives_a_configured_builder(client: &mut WsClient) -> TestResult {
    client.send_text("x".repeat(100)).await?;
    client.expect_closed(1009).await?;
    Ok(())
}

#[ws_test(flavor = "multi_thread", worker_threads = 2, timeout = "10s", event_timeout = "3s", events = ["pong"])]
async fn multi_thread_flavor(client: &mut WsClient) -> TestResult {
    assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 2);
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

/// Doc comments and `#[ignore]` are kept: this one only runs with `--ignored` (the external-mode tests use it).
#[ws_test(events = ChatEvent::CRITICAL)]
#[ignore = "runs only when external::* points it at a live server"]
async fn live_smoke(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "staging smoke"}))
        .await?;
    Ok(())
}

#[ws_test(url = env("WS_TEST_ATTRIBUTE_FIXTURE_URL"), events = ["pong"])]
#[ignore = "runs only when external::* sets WS_TEST_ATTRIBUTE_FIXTURE_URL"]
async fn url_from_env(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

// ---- Tests that must fail, checked by their message. ----

#[ws_test(events = ChatEvent::CRITICAL, event_timeout = "200ms", handler = ChatAgent::new().fault(Fault::Drop(ws_test_runtime::protocol::TOOL_COMPLETED)))]
#[should_panic(
    expected = "the declared events did not arrive as declared:\nexpectation not met: events [agent_started"
)]
async fn fails_when_an_event_is_missing(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test(events = ChatEvent::CRITICAL, order = "strict", handler = ChatAgent::new().fault(Fault::Swap(ws_test_runtime::protocol::AGENT_THINKING, ws_test_runtime::protocol::TOOL_EXECUTING)))]
#[should_panic(expected = "broke the order: expected agent_thinking, got tool_executing")]
async fn fails_on_a_wrong_order(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test(timeout = "150ms")]
#[should_panic(expected = "the test body did not finish within 150ms")]
async fn fails_when_the_body_times_out(client: &mut WsClient) -> TestResult {
    client.expect_no_message(Duration::from_secs(5)).await?;
    Ok(())
}

#[ws_test(events = ChatEvent::CRITICAL, handler = ChatAgent::new().fault(Fault::CloseAfter(ws_test_runtime::protocol::AGENT_THINKING, 1011)))]
#[should_panic(
    expected = "the connection was closed (code 1011, reason \"fault injection: connection closed mid-run\")"
)]
async fn fails_on_an_early_close(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

fn exploding_app() -> Router {
    Router::new()
        .with_welcome()
        .route("explode", |_session: Session, message: Value| async move {
            if message["type"] == "explode" {
                panic!("the handler blew up");
            }
        })
}

#[ws_test(handler = exploding_app)]
#[should_panic(
    expected = "the server side failed while the test ran:\n  - the handler's on_message panicked on connection"
)]
async fn fails_when_the_server_panics(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "explode"})).await?;
    client.expect_closed(1011).await?;
    Ok(())
}

#[ws_test]
#[should_panic(
    expected = "the test body returned an error: timed out after 50ms waiting for a message of type \"never\""
)]
async fn fails_when_the_body_returns_an_error(client: &mut WsClient) -> TestResult {
    client.expect_type("never").within(Duration::from_millis(50)).await?;
    Ok(())
}

#[ws_test]
#[should_panic(expected = "the body's own panic")]
async fn a_body_panic_is_resumed_after_teardown(_client: &mut WsClient) {
    panic!("the body's own panic");
}

#[ws_test(url = env("WS_TEST_ATTRIBUTE_SURELY_UNSET_VARIABLE"))]
#[should_panic(expected = "but WS_TEST_ATTRIBUTE_SURELY_UNSET_VARIABLE is not set")]
async fn fails_when_the_url_variable_is_unset(_client: &mut WsClient) {}

#[ws_test(handler = Router::new(), welcome = "connection_established", event_timeout = "200ms")]
#[should_panic(
    expected = "the server's welcome (connection_established) did not arrive (use `skip_welcome = true` if it sends none)"
)]
async fn fails_when_the_welcome_is_missing(_client: &mut WsClient) {}

/// A handler that declares no welcome is not waited on: the body gets the connection as it is.
#[ws_test(handler = Router::new().route("ping", |session: Session, _: Value| async move {
    session.send_json(&json!({"type": "pong"})).await
}))]
async fn a_handler_without_a_welcome_is_not_waited_on(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "ping"})).await?;
    assert_eq!(client.recv_json().await?["type"], "pong");
    Ok(())
}

#[test]
fn a_failed_test_leaves_a_transcript() {
    let outcome = std::panic::catch_unwind(|| {
        ws_test_runtime::driver::run(
            ws_test_runtime::driver::TestSpec::new("attribute::transcript_probe")
                .expect(Expect::events(["never_sent"]))
                .event_timeout(Duration::from_millis(50)),
            ws_test_runtime::driver::body(async |client: &mut WsClient| -> TestResult {
                client.send_json(&json!({"type": "ping"})).await?;
                Ok(())
            }),
        )
    });
    let payload = outcome.expect_err("the probe must fail");
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    let path = message
        .rsplit("transcript: ")
        .next()
        .expect("the message names the transcript")
        .trim();
    let log = std::fs::read_to_string(path).expect("the transcript exists");
    assert!(log.starts_with("test: attribute::transcript_probe\n"), "{log}");
    assert!(log.contains("expectation not met: events [never_sent]"), "{log}");
    assert!(log.contains("client 0: every frame in and out"), "{log}");
    let lines = std::fs::read_to_string(path.replace(".log", ".client-0.jsonl")).expect("the JSON Lines exist");
    assert!(
        lines
            .lines()
            .any(|line| line.contains("\"text\":\"{\\\"type\\\":\\\"ping\\\"}\"")),
        "{lines}"
    );
}

/// Broadcasts reach every client: with `events_on = "all"`, each client's whole session is checked.
fn broadcaster() -> ws_test_runtime::Router {
    ws_test_runtime::Router::new().route("shout", |session: Session, shout: Value| async move {
        session
            .broadcast(&json!({"type": "heard", "what": shout["what"]}))
            .await?;
        Ok::<_, ws_test_runtime::Error>(())
    })
}

#[ws_test(handler = broadcaster, skip_welcome = true, clients = 3, events = ["heard"], events_on = "all")]
async fn declared_events_can_be_checked_on_every_client(mut clients: Vec<WsClient>) -> TestResult {
    clients[2].send_json(json!({"type": "shout", "what": "hi"})).await?;
    // The body owns the clients, which close when it returns: it waits for what they must receive.
    for client in &mut clients {
        client.expect_type("heard").await?;
    }
    Ok(())
}

/// The second client never hears: checked on every client, the failure names it.
fn deaf_second() -> ws_test_runtime::Router {
    ws_test_runtime::Router::new().route("shout", |session: Session, _shout: Value| async move {
        session.send_json(&json!({"type": "heard"})).await
    })
}

#[ws_test(
    handler = deaf_second,
    skip_welcome = true,
    clients = 2,
    events = ["heard"],
    events_on = "all",
    event_timeout = "200ms"
)]
#[should_panic(expected = "on client 1 of 2: expectation not met: events [heard]")]
async fn a_client_that_misses_the_declared_events_is_named(mut clients: Vec<WsClient>) -> TestResult {
    clients[0].send_json(json!({"type": "shout"})).await?;
    clients[0].expect_type("heard").await?;
    Ok(())
}

#[ws_test(handler = deaf_second, skip_welcome = true, clients = 2, events = ["heard"], events_on = 1)]
async fn declared_events_can_be_checked_on_one_named_client(mut clients: Vec<WsClient>) -> TestResult {
    clients[1].send_json(json!({"type": "shout"})).await?;
    clients[1].expect_type("heard").await?;
    Ok(())
}

/// Configures its own server: under `WS_TEST_URL` it runs against the live one, and says what it replaced.
#[ws_test(handler = ChatAgent::new().agent_name("Local"), path = "/local", events = ["pong"])]
#[ignore = "runs only when external::* points it at a live server"]
async fn live_with_its_own_server(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

/// A replay is the test's own mock: `WS_TEST_URL` leaves it local.
#[ws_test(replay = "fixtures/chat.jsonl")]
#[ignore = "runs only when external::* sets WS_TEST_URL"]
async fn replay_stays_local(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "What is the weather?"}))
        .await?;
    client.expect_type("agent_completed").await?;
    Ok(())
}

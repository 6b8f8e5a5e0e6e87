//! Hosting the user's own app, the in-memory transport and the paused clock: everything the built-in server
//! promises holds for an axum app, and for every handler over memory.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use ws_test_runtime::prelude::*;
use ws_test_runtime::suite::Suite;
use ws_test_runtime::{ChatAgent, EmbeddedServer, Error, Transport, ws_test};

/// Echoes every text frame; a frame reading `panic` panics the app's WebSocket task.
async fn echo_session(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let AxumMessage::Text(text) = &message {
            assert!(text.as_str() != "panic", "the app's socket task gave up on purpose");
        }
        if socket.send(message).await.is_err() {
            return;
        }
    }
}

fn echo_app() -> Router {
    Router::new()
        .route(
            "/ws",
            get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(echo_session) }),
        )
        .route("/plain", get(|| async { "a page, not a WebSocket\nsecond line" }))
        .route(
            "/explodes",
            get(|| async {
                panic!("the request handler broke");
                #[allow(unreachable_code)]
                ""
            }),
        )
}

/// An app with a WebSocket route that never sends anything.
async fn silent_app() -> Router {
    Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket: WebSocket| async move { while socket.recv().await.is_some() {} })
        }),
    )
}

/// `echo_app` served with clients connecting to `path`.
async fn hosted_at(path: &str, transport: Transport) -> Result<EmbeddedServer, Error> {
    EmbeddedServer::builder()
        .app(echo_app())
        .path(path)
        .transport(transport)
        .start()
        .await
}

async fn hosted(transport: Transport) -> Result<EmbeddedServer, Error> {
    hosted_at("/ws", transport).await
}

#[tokio::test]
async fn a_hosted_app_is_counted_from_the_transport_side() -> TestResult {
    for transport in [Transport::Tcp, Transport::Memory] {
        let server = hosted(transport).await?;
        let mut client = server.client().header("X-User-Id", "carol").connect().await?;
        client.send_text("one").await?;
        client.send_text("two").await?;
        assert_eq!(client.recv().await?.as_text(), Some("one"));
        assert_eq!(client.recv().await?.as_text(), Some("two"));
        let metrics = server.metrics();
        assert_eq!(
            (
                metrics.connections_total,
                metrics.connections_active,
                metrics.frames_in,
                metrics.frames_out
            ),
            (1, 1, 2, 2),
            "{transport:?}"
        );
        assert_eq!((metrics.bytes_in, metrics.bytes_out), (6, 6), "{transport:?}");
        let connections = server.connections();
        assert_eq!(connections.len(), 1);
        assert_eq!(connections[0].header("x-user-id"), Some("carol"));
        client.close(1000, "bye").await?;
        drop(client);
        let mut server = server;
        server.shutdown().await?;
        assert_eq!(server.metrics().connections_active, 0, "{transport:?}");
        assert!(server.failures().is_empty(), "{:?}", server.failures());
    }
    Ok(())
}

#[tokio::test]
async fn a_route_that_never_upgrades_is_an_answer_with_its_status() -> TestResult {
    for transport in [Transport::Tcp, Transport::Memory] {
        let server = hosted_at("/plain", transport).await?;
        let started = tokio::time::Instant::now();
        match server.connect().await {
            Err(Error::Rejected { status, body, .. }) => {
                assert_eq!(status, 200);
                assert!(body.starts_with("a page, not a WebSocket"), "{body}");
            }
            other => panic!("expected the app's 200 as a refusal, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "an answer is not retried until the deadline"
        );
        let refused = hosted_at("/nowhere", transport).await?;
        let error = refused.connect().await.unwrap_err().to_string();
        assert!(error.contains("404"), "{error}");
        assert_eq!(refused.metrics().connections_refused, 1);
    }
    Ok(())
}

#[tokio::test]
async fn a_panic_in_the_apps_websocket_task_surfaces_with_its_message() -> TestResult {
    for transport in [Transport::Tcp, Transport::Memory] {
        let mut server = hosted(transport).await?;
        let mut client = server.connect().await?;
        client.send_text("panic").await?;
        client.expect_closed(1006).await?;
        // The panic is the shutdown's answer too: a test that stops the server by hand cannot lose it.
        let stopped = server
            .shutdown()
            .await
            .expect_err("the app's task panicked")
            .to_string();
        assert!(stopped.contains("the app's task serving conn-"), "{stopped}");
        let failures = server.failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("the app's task serving conn-"), "{failures:?}");
        assert!(
            failures[0].contains("the app's socket task gave up on purpose"),
            "{failures:?}"
        );
        assert_eq!(server.metrics().handler_panics, 1);
        assert_eq!(server.metrics().connections_active, 0);
    }
    Ok(())
}

#[tokio::test]
async fn a_panic_in_the_apps_request_handler_surfaces_with_its_message() -> TestResult {
    for transport in [Transport::Tcp, Transport::Memory] {
        let mut server = hosted_at("/explodes", transport).await?;
        // Over TCP an ended handshake is retried (a proxy may accept before its backend is up); in memory it is not.
        let error = server
            .client()
            .connect_timeout(Duration::from_millis(200))
            .connect()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("the server ended the connection during the handshake"),
            "{error}"
        );
        let stopped = server.shutdown().await;
        assert!(
            matches!(&stopped, Err(ws_test_runtime::Error::ServerFailed { .. })),
            "{transport:?}: {stopped:?}"
        );
        let failures = server.failures();
        assert!(!failures.is_empty(), "{transport:?}");
        for failure in &failures {
            assert_eq!(
                failure, "a connection task panicked: the request handler broke",
                "{transport:?}"
            );
        }
        if transport == Transport::Memory {
            assert_eq!(failures.len(), 1, "one attempt in memory");
        }
    }
    Ok(())
}

#[tokio::test]
async fn shutdown_ends_every_hosted_connection_and_frees_the_name() -> TestResult {
    let mut server = hosted(Transport::Memory).await?;
    let url = server.url();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(server.connect().await?);
    }
    assert_eq!(server.metrics().connections_active, 3);
    server.shutdown().await?;
    assert_eq!(server.metrics().connections_active, 0);
    assert!(server.connections().is_empty());
    for client in &mut clients {
        client.expect_closed(1006).await?;
    }
    let error = WsClient::connect(&url).await.unwrap_err().to_string();
    assert!(error.contains("no in-memory server named memory-"), "{error}");
    Ok(())
}

#[tokio::test]
async fn the_settings_of_ws_tests_own_server_given_before_the_app_are_refused() {
    // After `.app(..)` they do not compile (tests/ui/app_builder_misuse.rs); before it, `start` names them.
    let error = EmbeddedServer::builder()
        .token("t")
        .max_connections(3)
        .app(echo_app())
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("token, max_connections configure(s) ws-test's own server"),
        "{error}"
    );
}

#[tokio::test]
async fn the_built_in_server_passes_the_whole_suite_in_memory() -> TestResult {
    let server = EmbeddedServer::builder().transport(Transport::Memory).start().await?;
    assert!(server.local_addr().is_err(), "a memory server has no socket address");
    assert_eq!(server.transport(), Transport::Memory);
    let report = Suite::new(server.url()).run().await?;
    assert!(report.all_passed(), "{report}");
    Ok(())
}

#[ws_test(app = silent_app, event_timeout = "300ms", events = ["agent_started", "agent_completed"])]
#[should_panic(expected = "the declared events did not arrive as declared")]
async fn an_app_that_never_sends_the_declared_events_fails_with_the_report(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

#[ws_test(app = echo_app, path = "/plain")]
#[should_panic(expected = "refused the WebSocket upgrade with HTTP 200: \"a page, not a WebSocket…\"")]
async fn a_test_on_a_route_that_never_upgrades_fails_with_the_status() {}

#[ws_test(app = echo_app, transport = "memory")]
#[should_panic(expected = "the app's socket task gave up on purpose")]
async fn a_panicking_app_fails_the_test_with_the_panic(client: &mut WsClient) -> TestResult {
    client.send_text("panic").await?;
    client.expect_closed(1006).await?;
    Ok(())
}

#[ws_test(transport = "memory", path = "/chat", events = ["agent_started", "agent_completed"])]
async fn the_built_in_agent_moves_to_path_and_runs_in_memory(
    client: &mut WsClient,
    server: &EmbeddedServer,
) -> TestResult {
    assert!(client.url().ends_with(".invalid/chat"), "{}", client.url());
    assert_eq!(server.transport(), Transport::Memory);
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

fn slow_agent() -> ChatAgent {
    ChatAgent::new().event_delay(Duration::from_secs(10))
}

#[ws_test(handler = slow_agent, transport = "memory", start_paused = true, timeout = "10m")]
async fn the_agents_event_delay_is_virtual_on_a_paused_clock(client: &mut WsClient) -> TestResult {
    let real = std::time::Instant::now();
    client
        .send_json(json!({"type": "chat_message", "content": "slowly"}))
        .await?;
    let run = client
        .expect(
            Expect::events(ChatEvent::CRITICAL)
                .strict()
                .per("run_id")
                .within(Duration::from_secs(120)),
        )
        .await?;
    assert_eq!(run.events().len(), 5);
    let history = client.history();
    let last = history.received().last().map(|frame| frame.at).unwrap_or_default();
    assert!(
        last >= Duration::from_secs(40),
        "four 10 s gaps on the test's clock, got {last:?}"
    );
    assert!(
        real.elapsed() < Duration::from_secs(10),
        "less than one real gap: the clock was virtual"
    );
    Ok(())
}

/// The team's backend, declared once for every test that hosts it.
#[derive(ws_test_runtime::WsProfile)]
#[ws_profile(app = echo_app, transport = "memory", skip_welcome = true)]
struct EchoBackend;

#[ws_test(profile = EchoBackend)]
async fn a_profile_hosts_the_app(client: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    assert_eq!(server.transport(), Transport::Memory);
    client.send_text("through the profile").await?;
    assert_eq!(client.recv().await?.as_text(), Some("through the profile"));
    Ok(())
}

// The transport comes from the profile, so the paused clock is checked when the test runs.
#[ws_test(profile = EchoBackend, start_paused = true, timeout = "2h")]
async fn a_profiles_memory_transport_allows_a_paused_clock(client: &mut WsClient) -> TestResult {
    let started = tokio::time::Instant::now();
    client.expect_no_message(Duration::from_secs(3600)).await?;
    assert!(started.elapsed() >= Duration::from_secs(3600));
    Ok(())
}

#[test]
fn a_paused_clock_over_tcp_is_refused_when_the_test_is_built_by_hand() {
    use ws_test_runtime::driver::{TestSpec, body, run};
    let outcome = std::panic::catch_unwind(|| {
        run(
            TestSpec::new("apps::by_hand").start_paused(true),
            body(async || -> TestResult { Ok(()) }),
        )
    });
    let payload = outcome.expect_err("the driver refuses a paused clock over TCP");
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("`start_paused = true` needs `transport = \"memory\"`"),
        "{message}"
    );
}

#[ws_test(profile = EchoBackend, start_paused = true)]
#[should_panic(expected = "did not finish within 30s of the paused clock's virtual time")]
async fn the_body_timeout_is_virtual_too_and_says_so(client: &mut WsClient) -> TestResult {
    client.expect_no_message(Duration::from_secs(3600)).await?;
    Ok(())
}

async fn add(session: ws_test_runtime::Session, message: serde_json::Value) -> Result<(), Error> {
    let sum = message["a"].as_i64().unwrap_or(0) + message["b"].as_i64().unwrap_or(0);
    session.send_json(json!({"type": "sum", "value": sum})).await
}

fn adder() -> ws_test_runtime::Router {
    ws_test_runtime::Router::new().route("add", add)
}

#[ws_test(handler = adder, transport = "memory", skip_welcome = true)]
async fn a_router_handler_runs_in_memory(client: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    client.send_json(json!({"type": "add", "a": 2, "b": 3})).await?;
    assert_eq!(client.expect_type("sum").await?["value"], 5);
    assert_eq!(server.metrics().frames_in, 1);
    assert_eq!(server.connections().len(), 1);
    Ok(())
}

//! `serve = ...`: the user's own server on a listener ws-test bound — every return shape, failures named, the
//! subprotocol offered and refused.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as Raw;
use ws_test_runtime::driver::{TestSpec, body, run};
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Error, ServedServer};

/// Answers every text frame with `{"type": "echo", "text": ...}`; agrees to a subprotocol named `agreed` when
/// offered one of that name.
#[allow(
    clippy::result_large_err,
    reason = "tungstenite's callback type returns its error response by value"
)]
async fn echo_connection(stream: tokio::net::TcpStream) {
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let agree = |request: &Request, mut response: Response| {
        let offered = request
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if offered.split(',').any(|protocol| protocol.trim() == "agreed") {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", "agreed".parse().expect("a header"));
        }
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, agree).await else {
        return;
    };
    while let Some(Ok(message)) = socket.next().await {
        if let Raw::Text(text) = message {
            let reply = json!({"type": "echo", "text": text.as_str()}).to_string();
            if socket.send(Raw::text(reply)).await.is_err() {
                break;
            }
        }
    }
}

async fn echo(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(echo_connection(stream));
    }
}

/// A plain function on a std listener that spawns its server and returns at once.
fn spawns_and_returns(listener: std::net::TcpListener) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    tokio::spawn(echo(listener));
}

/// A plain function that returns at once and drops its listener: nothing listens.
fn returns_and_drops(_listener: std::net::TcpListener) {}

async fn fails_at_once(_listener: tokio::net::TcpListener) -> Result<(), String> {
    Err("the database is not configured".into())
}

fn fails_before_running(_listener: std::net::TcpListener) -> std::io::Result<()> {
    Err(std::io::Error::other("no certificate configured"))
}

async fn panics(_listener: tokio::net::TcpListener) {
    panic!("the router has no routes");
}

/// Serves one connection, then fails.
async fn fails_after_a_while(listener: tokio::net::TcpListener) -> Result<(), String> {
    let (stream, _) = listener.accept().await.map_err(|error| error.to_string())?;
    tokio::spawn(echo_connection(stream));
    tokio::time::sleep(Duration::from_millis(50)).await;
    Err("lost the connection to the message broker".into())
}

#[ws_test(serve = echo, path = "/", events = ["echo", "echo"], order = "strict")]
async fn an_async_accept_loop_on_a_tokio_listener(client: &mut WsClient) -> TestResult {
    client.send_text("one").await?;
    client.send_text("two").await?;
    Ok(())
}

#[ws_test(serve = spawns_and_returns, path = "/anything")]
async fn a_plain_function_that_spawns_its_server(client: &mut WsClient) -> TestResult {
    client.send_text("hi").await?;
    assert_eq!(client.expect_type("echo").await?["text"], "hi");
    Ok(())
}

#[ws_test(serve = echo, path = "/", subprotocol = "agreed")]
async fn the_subprotocol_is_offered_and_agreed(client: WsClient) {
    assert_eq!(client.subprotocol(), Some("agreed"));
}

#[ws_test(subprotocol = "chat.v2")]
async fn the_embedded_server_agrees_to_the_subprotocol(client: &mut WsClient) {
    assert_eq!(client.subprotocol(), Some("chat.v2"));
}

fn failure_of(spec: TestSpec) -> String {
    let outcome = std::panic::catch_unwind(|| run(spec, body(async |_client: &mut WsClient| {})));
    let payload = outcome.expect_err("the test fails");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| (*text).to_owned()))
        .unwrap_or_default()
}

#[test]
fn a_server_that_agrees_to_no_subprotocol_fails_the_connect_naming_what_it_answered() {
    let report = failure_of(
        TestSpec::new("served::refused")
            .serve(echo)
            .path("/")
            .subprotocol("graphql-ws"),
    );
    assert!(
        report.contains("agreed to none of the offered subprotocols (graphql-ws)")
            && report.contains("101 without a Sec-WebSocket-Protocol header"),
        "{report}"
    );
}

#[test]
fn a_function_that_returns_and_drops_its_listener_says_nothing_listens() {
    let report = failure_of(TestSpec::new("served::dropped").serve(returns_and_drops));
    assert!(
        report.contains("the serve function returns_and_drops returned, and nothing listens on 127.0.0.1:"),
        "{report}"
    );
}

#[test]
fn a_server_that_errors_fails_the_test_with_its_error() {
    let report = failure_of(TestSpec::new("served::errors").serve(fails_at_once));
    assert!(
        report.contains("the served server `fails_at_once` failed: \"the database is not configured\""),
        "{report}"
    );
    let report = failure_of(TestSpec::new("served::errors_before").serve(fails_before_running));
    assert!(
        report.contains("the serve function fails_before_running failed: Custom")
            && report.contains("no certificate configured"),
        "{report}"
    );
}

#[test]
fn a_server_that_panics_fails_the_test_with_its_panic() {
    let report = failure_of(TestSpec::new("served::panics").serve(panics));
    assert!(report.contains("it panicked: the router has no routes"), "{report}");
}

#[test]
fn a_server_that_fails_during_the_test_fails_it_at_teardown() {
    let spec = TestSpec::new("served::fails_later")
        .serve(fails_after_a_while)
        .path("/");
    let outcome = std::panic::catch_unwind(|| {
        run(
            spec,
            body(async |client: &mut WsClient| -> TestResult {
                client.send_text("hi").await?;
                client.expect_type("echo").await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(())
            }),
        )
    });
    let payload = outcome.expect_err("the test fails");
    let report = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        report.contains("the server side failed while the test ran")
            && report.contains("lost the connection to the message broker"),
        "{report}"
    );
}

#[test]
fn ignore_fields_without_a_replay_is_refused_at_run_time_naming_both() {
    let report = failure_of(
        TestSpec::new("served::ignore_fields")
            .serve(echo)
            .ignore_fields(&["run_id"]),
    );
    assert!(
        report.contains("`ignore_fields = [\"run_id\"]`") && report.contains("needs `replay = \"FILE\"`"),
        "{report}"
    );
}

#[test]
fn a_served_test_refuses_the_in_memory_transport_and_a_handler_at_run_time() {
    let report = failure_of(
        TestSpec::new("served::memory")
            .serve(echo)
            .transport(ws_test_runtime::Transport::Memory),
    );
    assert!(report.contains("cannot apply"), "{report}");
    let report = failure_of(TestSpec::new("served::handler").serve(echo).handler(|builder| builder));
    assert!(
        report.contains("handler (ws-test's own server) cannot apply"),
        "{report}"
    );
}

#[test]
fn by_hand_the_port_is_free_after_stop() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut server = ServedServer::builder(echo).path("/").start().await.expect("starts");
        let mut client = server.connect().await.expect("connects");
        client.send_text("hi").await.expect("sent");
        client.expect_type("echo").await.expect("echoed");
        let addr = server.local_addr().expect("a served server listens on TCP");
        server.shutdown().await.expect("stops cleanly");
        let refused = tokio::net::TcpStream::connect(addr).await;
        assert!(refused.is_err(), "{addr} still accepts after stop");
        // A second stop is harmless.
        server.shutdown().await.expect("stops twice");
        let unreachable = server.connect().await.unwrap_err();
        assert!(
            matches!(&unreachable, Error::Config(text) if text.contains("was stopped")),
            "{unreachable}"
        );
    });
}

/// A profile declares the served server once; its tests inherit `serve`, `path` and `subprotocol`.
#[derive(WsProfile)]
#[ws_profile(serve = echo, path = "/", subprotocol = "agreed")]
struct EchoBackend;

#[ws_test(profile = EchoBackend, events = ["echo"])]
async fn a_profile_serves_the_users_server(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("agreed"));
    client.send_text("from a profile").await?;
    Ok(())
}

//! Start, shutdown and drop; panicking and failing handlers.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::close_code;
use ws_test_runtime::{Message, Router};

use crate::support::connect_welcomed;

#[tokio::test]
async fn shutdown_closes_open_connections_with_1001_and_frees_the_port() -> TestResult {
    let mut server = EmbeddedServer::start().await?;
    let (mut first, _) = connect_welcomed(&server).await?;
    let (mut second, _) = connect_welcomed(&server).await?;
    server.shutdown().await?;
    assert_eq!(
        first.expect_closed(close_code::GOING_AWAY).await?.reason,
        "server shutting down"
    );
    second.expect_closed(close_code::GOING_AWAY).await?;
    assert_eq!(server.metrics().connections_active, 0);
    assert!(server.failures().is_empty(), "{:?}", server.failures());

    let refused = tokio::net::TcpStream::connect(server.local_addr()?).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    server.shutdown().await?; // twice is harmless
    Ok(())
}

#[tokio::test]
async fn dropping_the_server_stops_it_too() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let addr = server.local_addr()?;
    let (mut client, _) = connect_welcomed(&server).await?;
    drop(server);
    client.expect_closed(close_code::GOING_AWAY).await?;
    let refused = WsClient::builder(format!("ws://{addr}/ws"))
        .connect_timeout(Duration::from_millis(50))
        .connect()
        .await;
    assert!(
        matches!(refused, Err(ws_test_runtime::Error::Connect { .. })),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_same_port_can_be_served_again_after_shutdown() -> TestResult {
    let mut first = EmbeddedServer::start().await?;
    let port = first.local_addr()?.port();
    first.shutdown().await?;
    let second = EmbeddedServer::builder().port(port).start().await?;
    connect_welcomed(&second).await?;
    Ok(())
}

#[tokio::test]
async fn bind_failure_says_which_address() -> TestResult {
    let first = EmbeddedServer::start().await?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let taken = listener.local_addr()?;
    let error = EmbeddedServer::builder().bind(taken).start().await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("the embedded server could not listen on {taken}")),
        "{error}"
    );
    drop(first);
    Ok(())
}

#[tokio::test]
async fn bad_settings_are_refused_at_start() -> TestResult {
    let error = EmbeddedServer::builder().path("ws").start().await.unwrap_err();
    assert!(error.to_string().contains("must start with `/`"), "{error}");
    let error = EmbeddedServer::builder().path("/health").start().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot be `/health`: the handler answers plain HTTP GETs there"),
        "{error}"
    );
    Ok(())
}

fn panicking_app() -> Router {
    Router::new()
        .with_welcome()
        .route("explode", |_session: Session, message: Value| async move {
            if message["type"] == "explode" {
                panic!("the handler blew up");
            }
        })
        .route("fail", |_session: Session, _message| async move {
            Err::<(), _>(std::io::Error::other("database unavailable"))
        })
        .route("ping", |session: Session, _message| async move {
            session.send_json(&json!({"type": "pong"})).await
        })
}

#[tokio::test]
async fn a_panicking_handler_closes_that_connection_with_1011_and_the_server_keeps_serving() -> TestResult {
    let server = EmbeddedServer::builder().handler(panicking_app()).start().await?;
    let (mut victim, _) = connect_welcomed(&server).await?;
    let (mut bystander, _) = connect_welcomed(&server).await?;
    victim.send_json(&json!({"type": "explode"})).await?;
    let close = victim.expect_closed(close_code::INTERNAL_ERROR).await?;
    assert_eq!(close.reason, "handler panicked: the handler blew up");

    bystander.send_json(&json!({"type": "ping"})).await?;
    bystander.expect_type("pong").await?;
    let (mut newcomer, _) = connect_welcomed(&server).await?;
    newcomer.send_json(&json!({"type": "ping"})).await?;
    newcomer.expect_type("pong").await?;

    let failures = server.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("panicked") && failures[0].contains("the handler blew up"),
        "{failures:?}"
    );
    assert_eq!(server.metrics().handler_panics, 1);
    Ok(())
}

#[tokio::test]
async fn a_failing_handler_closes_with_1011_and_its_error() -> TestResult {
    let server = EmbeddedServer::builder().handler(panicking_app()).start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_json(&json!({"type": "fail"})).await?;
    let close = client.expect_closed(close_code::INTERNAL_ERROR).await?;
    assert_eq!(close.reason, "handler error: database unavailable");
    assert_eq!(server.metrics().handler_errors, 1);
    assert!(server.failures()[0].contains("database unavailable"));
    Ok(())
}

/// A handler of its own type, with every hook.
struct Recorder {
    closes: tokio::sync::mpsc::UnboundedSender<CloseInfo>,
}

impl Handler for Recorder {
    async fn on_connect(&self, session: &Session) -> HandlerResult {
        session
            .send_text(format!("hello {}", ChatAgent::user_id(session)))
            .await?;
        Ok(())
    }

    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        match message {
            Message::Text(text) if text == "bye" => session.close(4100, "asked to leave").await?,
            Message::Text(text) => session.send_text(text.to_uppercase()).await?,
            Message::Binary(bytes) => {
                session
                    .send_binary(bytes.into_iter().rev().collect::<Vec<u8>>())
                    .await?
            }
        }
        Ok(())
    }

    async fn on_close(&self, _session: &Session, close: &CloseInfo) {
        let _ = self.closes.send(close.clone());
    }
}

#[tokio::test]
async fn a_custom_handler_gets_connect_messages_and_close() -> TestResult {
    let (closes, mut closed) = tokio::sync::mpsc::unbounded_channel();
    let server = EmbeddedServer::builder().handler(Recorder { closes }).start().await?;
    let mut client = server.client().header("X-User-Id", "carol").connect().await?;
    assert_eq!(client.recv().await?, Message::Text("hello carol".into()));
    client.send_text("shout").await?;
    assert_eq!(client.recv().await?, Message::Text("SHOUT".into()));
    client.send_binary(vec![1, 2, 3]).await?;
    assert_eq!(client.recv().await?, Message::Binary(vec![3, 2, 1]));
    client.send_text("bye").await?;
    assert_eq!(client.expect_closed(4100).await?.reason, "asked to leave");
    let seen = tokio::time::timeout(Duration::from_secs(5), closed.recv()).await?;
    assert_eq!(seen, Some(CloseInfo::new(4100, "asked to leave")));

    // A client that closes first: the handler sees the client's code.
    let mut polite = server.connect().await?;
    polite.recv().await?;
    polite.close(1000, "done").await?;
    let seen = tokio::time::timeout(Duration::from_secs(5), closed.recv()).await?;
    assert_eq!(seen, Some(CloseInfo::new(1000, "done")));
    Ok(())
}

#[tokio::test]
async fn a_vanished_client_is_seen_as_1006_and_unregistered() -> TestResult {
    let (closes, mut closed) = tokio::sync::mpsc::unbounded_channel();
    let server = EmbeddedServer::builder().handler(Recorder { closes }).start().await?;
    // A raw TCP upgrade, then the socket is dropped without a close frame.
    let mut raw = tokio::net::TcpStream::connect(server.local_addr()?).await?;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\n{}\r\n\r\n",
        server.local_addr()?,
        crate::support::UPGRADE.join("\r\n")
    );
    tokio::io::AsyncWriteExt::write_all(&mut raw, request.as_bytes()).await?;
    let mut head = [0u8; 12];
    tokio::io::AsyncReadExt::read_exact(&mut raw, &mut head).await?;
    assert_eq!(&head, b"HTTP/1.1 101");
    drop(raw);
    let seen = tokio::time::timeout(Duration::from_secs(5), closed.recv())
        .await?
        .expect("on_close ran");
    assert_eq!(seen.code, close_code::ABNORMAL);
    assert_eq!(server.metrics().connections_active, 0);
    assert!(server.connections().is_empty());
    Ok(())
}

#[tokio::test]
async fn metrics_count_frames_and_bytes_both_ways() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    client.send_json(&json!({"type": "echo", "payload": "abc"})).await?;
    client.expect_type("echo").await?;
    let metrics = server.metrics();
    assert_eq!(metrics.frames_in, 1);
    assert_eq!(metrics.frames_out, 2, "welcome and echo");
    assert_eq!(metrics.bytes_in, r#"{"payload":"abc","type":"echo"}"#.len() as u64);
    assert!(metrics.bytes_out > metrics.bytes_in);
    assert_eq!((metrics.connections_active, metrics.connections_total), (1, 1));
    Ok(())
}

#[tokio::test]
async fn connections_are_listed_in_the_order_they_opened() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let mut clients = Vec::new();
    let mut opened = Vec::new();
    // Ids are numbered process-wide (`conn-9` then `conn-10` sort the other way as strings), so the order is
    // checked against the welcomes, whatever numbers this test's connections got.
    for _ in 0..12 {
        let (client, welcome) = connect_welcomed(&server).await?;
        opened.push(welcome["connection_id"].as_str().unwrap_or_default().to_owned());
        clients.push(client);
    }
    let listed: Vec<String> = server
        .connections()
        .into_iter()
        .map(|connection| connection.connection_id)
        .collect();
    assert_eq!(listed, opened);
    Ok(())
}

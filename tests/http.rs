//! The HTTP side of `PROTOCOL.md`: health, upgrade refusals, auth, origin, 404.

use serde_json::Value;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Message, Router};

use crate::support::{UPGRADE, connect_welcomed, http_get};

#[tokio::test]
async fn health_reports_status_and_connection_counts() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let response = http_get(server.local_addr()?, "/health", &[]).await?;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&response.body)?;
    assert_eq!(
        body,
        json!({"status": "ok", "active_connections": 0, "total_connections": 0})
    );

    let (mut client, _) = connect_welcomed(&server).await?;
    let body: Value = serde_json::from_str(&http_get(server.local_addr()?, "/health", &[]).await?.body)?;
    assert_eq!(
        body,
        json!({"status": "ok", "active_connections": 1, "total_connections": 1})
    );
    client.close(1000, "done").await?;
    Ok(())
}

#[tokio::test]
async fn valid_upgrade_gets_101_with_the_rfc_accept_key() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let response = http_get(server.local_addr()?, "/ws", &UPGRADE).await?;
    assert_eq!(response.status, 101);
    // RFC 6455, section 1.3: the sample key's accept value.
    assert_eq!(
        response.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(response.header("upgrade"), Some("websocket"));
    Ok(())
}

#[tokio::test]
async fn plain_get_on_the_websocket_path_is_refused_with_426() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let response = http_get(server.local_addr()?, "/ws", &[]).await?;
    assert_eq!(response.status, 426);
    assert!(response.body.contains("only speaks WebSocket"), "{}", response.body);
    assert_eq!(server.metrics().connections_refused, 1);
    Ok(())
}

#[tokio::test]
async fn bad_version_is_426_and_names_the_supported_one() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let headers = [UPGRADE[0], UPGRADE[1], "Sec-WebSocket-Version: 8", UPGRADE[3]];
    let response = http_get(server.local_addr()?, "/ws", &headers).await?;
    assert_eq!(response.status, 426);
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
    assert!(
        response.body.contains("unsupported Sec-WebSocket-Version \"8\""),
        "{}",
        response.body
    );
    Ok(())
}

#[tokio::test]
async fn missing_or_malformed_key_is_400() -> TestResult {
    let server = EmbeddedServer::start().await?;
    for key in [None, Some("Sec-WebSocket-Key: short")] {
        let mut headers = UPGRADE[..3].to_vec();
        headers.extend(key);
        let response = http_get(server.local_addr()?, "/ws", &headers).await?;
        assert_eq!(response.status, 400, "{key:?}");
        assert!(response.body.contains("Sec-WebSocket-Key"), "{}", response.body);
    }
    Ok(())
}

#[tokio::test]
async fn any_other_path_is_404() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let response = http_get(server.local_addr()?, "/elsewhere", &UPGRADE).await?;
    assert_eq!(response.status, 404);
    assert!(
        response.body.contains("the WebSocket endpoint is /ws"),
        "{}",
        response.body
    );
    Ok(())
}

#[tokio::test]
async fn path_is_configurable() -> TestResult {
    let server = EmbeddedServer::builder().path("/chat").start().await?;
    assert!(server.url().ends_with("/chat"));
    connect_welcomed(&server).await?;
    assert_eq!(http_get(server.local_addr()?, "/ws", &UPGRADE).await?.status, 404);
    Ok(())
}

#[tokio::test]
async fn token_is_required_when_configured() -> TestResult {
    let server = EmbeddedServer::builder().token("s3cret").start().await?;

    let missing = server.client().connect().await.unwrap_err();
    match &missing {
        ws_test_runtime::Error::Rejected { status: 401, body, .. } => assert!(body.starts_with("missing token")),
        other => panic!("expected a 401 rejection, got {other:?}"),
    }
    assert!(
        missing
            .to_string()
            .contains("refused the WebSocket upgrade with HTTP 401"),
        "{missing}"
    );

    let wrong = server.client().token("guess").connect().await.unwrap_err();
    assert!(
        matches!(&wrong, ws_test_runtime::Error::Rejected { status: 401, body, .. } if body.starts_with("wrong token"))
    );

    let raw = http_get(server.local_addr()?, "/ws", &UPGRADE).await?;
    assert_eq!(raw.status, 401);
    assert_eq!(raw.header("www-authenticate"), Some("Bearer"));
    assert_eq!(server.metrics().connections_refused, 3);
    assert_eq!(server.metrics().connections_total, 0);
    Ok(())
}

#[tokio::test]
async fn token_is_accepted_as_bearer_header_or_query_parameter() -> TestResult {
    let server = EmbeddedServer::builder().token("s3cret").start().await?;
    let mut by_header = server.client().token("s3cret").connect().await?;
    by_header.expect_type("connection_established").await?;
    let mut by_query = WsClient::connect(&format!("{}?token=s3cret", server.url())).await?;
    by_query.expect_type("connection_established").await?;
    assert_eq!(server.metrics().connections_total, 2);
    Ok(())
}

#[tokio::test]
async fn origin_outside_the_allow_list_is_403() -> TestResult {
    let server = EmbeddedServer::builder()
        .allow_origin("https://app.example")
        .start()
        .await?;
    let refused = server
        .client()
        .origin("https://evil.example")
        .connect()
        .await
        .unwrap_err();
    match refused {
        ws_test_runtime::Error::Rejected { status: 403, body, .. } => {
            assert!(body.contains("\"https://evil.example\" is not allowed"), "{body}")
        }
        other => panic!("expected a 403 rejection, got {other:?}"),
    }
    let mut allowed = server.client().origin("https://app.example").connect().await?;
    allowed.expect_type("connection_established").await?;
    // Non-browser clients send no Origin at all: they are let through.
    let mut no_origin = server.connect().await?;
    no_origin.expect_type("connection_established").await?;
    Ok(())
}

#[tokio::test]
async fn max_connections_refuses_the_one_too_many_with_503() -> TestResult {
    let server = EmbeddedServer::builder().max_connections(2).start().await?;
    let (_first, _) = connect_welcomed(&server).await?;
    let (_second, _) = connect_welcomed(&server).await?;
    let refused = server.connect().await.unwrap_err();
    assert!(
        matches!(&refused, ws_test_runtime::Error::Rejected { status: 503, .. }),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn subprotocol_is_agreed_when_offered() -> TestResult {
    let server = EmbeddedServer::builder().subprotocol("chat.v2").start().await?;
    let agreed = server
        .client()
        .subprotocol("chat.v1")
        .subprotocol("chat.v2")
        .connect()
        .await?;
    assert_eq!(agreed.subprotocol(), Some("chat.v2"));
    let none = server.connect().await?;
    assert_eq!(none.subprotocol(), None);
    Ok(())
}

/// `/health` is the chat agent's: another handler's server answers it 404, and a handler answers its own GETs.
#[tokio::test]
async fn plain_gets_are_the_handlers_to_answer() -> TestResult {
    struct Ready;
    impl Handler for Ready {
        async fn on_message(&self, _: &Session, _: Message) -> HandlerResult {
            Ok(())
        }
        fn http_get(&self, path: &str, metrics: &ws_test_runtime::MetricsSnapshot) -> Option<Value> {
            (path == "/ready").then(|| json!({"open": metrics.connections_active}))
        }
    }

    let router = EmbeddedServer::builder().handler(Router::new()).start().await?;
    assert_eq!(http_get(router.local_addr()?, "/health", &[]).await?.status, 404);

    let server = EmbeddedServer::builder().handler(Ready).start().await?;
    let _client = server.connect().await?;
    let response = http_get(server.local_addr()?, "/ready", &[]).await?;
    assert_eq!(
        (response.status, response.header("content-type")),
        (200, Some("application/json"))
    );
    assert_eq!(serde_json::from_str::<Value>(&response.body)?, json!({"open": 1}));
    assert_eq!(http_get(server.local_addr()?, "/health", &[]).await?.status, 404);
    let error = EmbeddedServer::builder()
        .handler(Ready)
        .path("/ready")
        .start()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cannot be `/ready`"), "{error}");
    Ok(())
}

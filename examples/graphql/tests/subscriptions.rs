//! async-graphql subscriptions under `#[ws_test(app = ..., subprotocol = ...)]`, written as a new user would.

use ws_test_runtime::prelude::*;

async fn subscribe(client: &mut WsClient, count: u32) -> TestResult {
    client.send_json(json!({"type": "connection_init"})).await?;
    client.expect_type("connection_ack").await?;
    client
        .send_json(json!({
            "id": "1",
            "type": "subscribe",
            "payload": {"query": format!("subscription {{ ticks(count: {count}) }}")}
        }))
        .await?;
    Ok(())
}

#[ws_test(
    app = graphql_ticker::app,
    path = "/graphql/ws",
    subprotocol = "graphql-transport-ws",
    events = ["next", "next", "next", "complete"],
    per = "id"
)]
async fn a_subscription_over_tcp(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("graphql-transport-ws"));
    subscribe(client, 3).await
}

#[ws_test(
    app = graphql_ticker::app,
    path = "/graphql/ws",
    subprotocol = "graphql-transport-ws",
    transport = "memory",
    events = ["next", "next", "next", "complete"],
    per = "id"
)]
async fn a_subscription_in_memory(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("graphql-transport-ws"));
    subscribe(client, 3).await
}

#[ws_test(app = graphql_ticker::app, path = "/graphql/ws", subprotocol = "graphql-transport-ws")]
async fn the_values_arrive_in_order(client: &mut WsClient) -> TestResult {
    subscribe(client, 2).await?;
    for n in 0..2 {
        let next = client.expect_type("next").await?;
        assert_eq!(next["payload"]["data"]["ticks"], n, "{next}");
    }
    client.expect_type("complete").await?;
    Ok(())
}

/// Without the subprotocol, the app answers 400, and the test fails naming it.
#[ws_test(app = graphql_ticker::app, path = "/graphql/ws")]
#[should_panic(expected = "HTTP 400")]
async fn without_the_subprotocol_the_app_refuses(_client: &mut WsClient) {}

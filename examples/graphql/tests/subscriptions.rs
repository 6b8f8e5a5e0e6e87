//! async-graphql subscriptions under `#[ws_test(app = ..., protocol = "graphql-transport-ws")]`, written as a new
//! user would: the kit does `connection_init`/`connection_ack` and the pings, `subscribe_graphql` the rest.

use ws_test_runtime::prelude::*;

async fn subscribe(client: &mut WsClient, count: u32) -> Result<String, ws_test_runtime::Error> {
    client
        .subscribe_graphql(format!("subscription {{ ticks(count: {count}) }}"), ())
        .await
}

#[ws_test(
    app = graphql_ticker::app,
    path = "/graphql/ws",
    protocol = "graphql-transport-ws",
    events = ["next", "next", "next", "complete"],
    per = "id"
)]
async fn a_subscription_over_tcp(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("graphql-transport-ws"));
    subscribe(client, 3).await?;
    Ok(())
}

#[ws_test(
    app = graphql_ticker::app,
    path = "/graphql/ws",
    protocol = "graphql-transport-ws",
    transport = "memory",
    events = ["next", "next", "next", "complete"],
    per = "id"
)]
async fn a_subscription_in_memory(client: &mut WsClient) -> TestResult {
    assert_eq!(client.subprotocol(), Some("graphql-transport-ws"));
    subscribe(client, 3).await?;
    Ok(())
}

#[ws_test(app = graphql_ticker::app, path = "/graphql/ws", protocol = "graphql-transport-ws")]
async fn the_values_arrive_in_order(client: &mut WsClient) -> TestResult {
    let id = subscribe(client, 2).await?;
    for n in 0..2 {
        let next = client.expect_type("next").await?;
        assert_eq!(next["payload"]["data"]["ticks"], n, "{next}");
        assert_eq!(next["id"], id.as_str());
    }
    client.expect_type("complete").await?;
    Ok(())
}

/// Two subscriptions at once: each its own id, each its own ticks and its complete.
#[ws_test(
    app = graphql_ticker::app,
    path = "/graphql/ws",
    protocol = "graphql-transport-ws",
    events = ["next", "next", "complete"],
    per = "id",
    times = 2
)]
async fn two_subscriptions_side_by_side(client: &mut WsClient) -> TestResult {
    let first = subscribe(client, 2).await?;
    let second = subscribe(client, 2).await?;
    assert_ne!(first, second);
    Ok(())
}

/// The kit's handshake: `connection_init` out, `connection_ack` in, both the protocol's own frames.
#[ws_test(app = graphql_ticker::app, path = "/graphql/ws", protocol = "graphql-transport-ws")]
async fn the_handshake_is_done_before_the_body(client: &mut WsClient) -> TestResult {
    let history = client.history();
    let texts: Vec<&str> = history.frames().iter().filter_map(|frame| frame.text()).collect();
    assert_eq!(texts, [r#"{"type":"connection_init"}"#, r#"{"type":"connection_ack"}"#]);
    Ok(())
}

/// Without the subprotocol, the app answers 400, and the test fails naming it.
#[ws_test(app = graphql_ticker::app, path = "/graphql/ws")]
#[should_panic(expected = "HTTP 400")]
async fn without_the_subprotocol_the_app_refuses(_client: &mut WsClient) {}

//! The jsonrpsee server under `#[ws_test(serve = ...)]`, written as a new user would.

use ws_test_runtime::prelude::*;

#[ws_test(serve = jsonrpc_ticker::serve, path = "/", protocol = "jsonrpc")]
async fn a_method_answers_with_its_id(client: &mut WsClient) -> TestResult {
    assert_eq!(client.call("add", json!([2, 3])).await?, json!(5));
    assert_eq!(client.call("add", json!([40, 2])).await?, json!(42));
    Ok(())
}

/// An error response is an error naming its code and message.
#[ws_test(serve = jsonrpc_ticker::serve, path = "/", protocol = "jsonrpc")]
async fn an_unknown_method_is_an_error_naming_code_and_message(client: &mut WsClient) -> TestResult {
    let error = client
        .call("subtract", json!([2, 3]))
        .await
        .expect_err("no such method");
    let message = error.to_string();
    assert!(
        message.contains("-32601") && message.contains("Method not found"),
        "{message}"
    );
    Ok(())
}

/// A request by hand, without the kit: the reply with its id.
#[ws_test(serve = jsonrpc_ticker::serve, path = "/")]
async fn a_method_answers_with_its_id_by_hand(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2, 3]}))
        .await?;
    let reply = client.recv_json().await?;
    assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 1, "result": 5}));
    Ok(())
}

#[ws_test(serve = jsonrpc_ticker::serve, path = "/")]
async fn a_subscription_notifies_in_order(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"jsonrpc": "2.0", "id": 7, "method": "subscribe_ticks", "params": [3]}))
        .await?;
    let subscribed = client.recv_json().await?;
    assert_eq!(subscribed["id"], 7, "{subscribed}");
    let subscription = subscribed["result"].clone();
    for n in 0..3 {
        let tick = client.recv_json().await?;
        assert_eq!(tick["method"], "ticks", "{tick}");
        assert_eq!(tick["params"]["subscription"], subscription, "{tick}");
        assert_eq!(tick["params"]["result"], n, "{tick}");
    }
    Ok(())
}

/// Notifications named by `"method"`, grouped by the subscription they belong to (a JSON pointer).
#[ws_test(
    serve = jsonrpc_ticker::serve,
    path = "/",
    protocol = "jsonrpc",
    events = ["ticks", "ticks", "ticks"],
    per = "/params/subscription"
)]
async fn a_subscription_ticks_three_times(client: &mut WsClient) -> TestResult {
    let subscription = client.call("subscribe_ticks", json!([3])).await?;
    assert!(!subscription.is_null());
    Ok(())
}

/// Two subscriptions at once, checked in the body: each strictly its two ticks (the replies name no method, so
/// they are not events).
#[ws_test(serve = jsonrpc_ticker::serve, path = "/")]
async fn two_subscriptions_tick_side_by_side(client: &mut WsClient) -> TestResult {
    for id in [1, 2] {
        client
            .send_json(json!({"jsonrpc": "2.0", "id": id, "method": "subscribe_ticks", "params": [2]}))
            .await?;
    }
    client
        .expect(
            Expect::events(["ticks", "ticks"])
                .strict()
                .per("/params/subscription")
                .times(2)
                .event_key("method"),
        )
        .await?;
    Ok(())
}

/// One tick short: the test fails within its event timeout, and the timeline names the events by their method
/// (`2  3.798  ticks`) and says what is still expected of the subscription.
#[ws_test(
    serve = jsonrpc_ticker::serve,
    path = "/",
    event_key = "method",
    events = ["ticks", "ticks", "ticks", "ticks"],
    per = "/params/subscription",
    event_timeout = "300ms"
)]
#[should_panic(expected = "named by method, within 300ms\ntimed out after 300ms")]
async fn a_missing_tick_fails_naming_it(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"jsonrpc": "2.0", "id": 1, "method": "subscribe_ticks", "params": [3]}))
        .await?;
    Ok(())
}

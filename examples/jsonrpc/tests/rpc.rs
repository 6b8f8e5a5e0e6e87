//! The jsonrpsee server under `#[ws_test(serve = ...)]`, written as a new user would.

use ws_test_runtime::prelude::*;

#[ws_test(serve = jsonrpc_ticker::serve, path = "/")]
async fn a_method_answers_with_its_id(client: &mut WsClient) -> TestResult {
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

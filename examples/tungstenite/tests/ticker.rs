//! The tokio-tungstenite ticker under `#[ws_test(serve = ...)]`, written as a new user would.

use ws_test_runtime::prelude::*;

#[ws_test(
    serve = tungstenite_ticker::serve,
    path = "/",
    events = ["tick", "tick", "done"],
    per = "id",
    times = 2,
    clients = 3
)]
async fn two_subscriptions_tick_and_finish(clients: Vec<WsClient>) -> TestResult {
    let mut clients = clients.into_iter();
    let mut first = clients.next().expect("three clients");
    first
        .send_json(json!({"type": "subscribe", "id": "a", "count": 2}))
        .await?;
    first
        .send_json(json!({"type": "subscribe", "id": "b", "count": 2}))
        .await?;
    // The other two clients have connections of their own.
    for mut other in clients {
        other
            .send_json(json!({"type": "subscribe", "id": "solo", "count": 1}))
            .await?;
        other.expect(Expect::events(["tick", "done"]).strict()).await?;
    }
    Ok(())
}

#[ws_test(serve = tungstenite_ticker::serve, path = "/")]
async fn anything_else_is_an_error(client: &mut WsClient) -> TestResult {
    client.send_json(json!({"type": "hello"})).await?;
    let error = client.expect_type("error").await?;
    assert!(
        error["message"].as_str().unwrap_or_default().contains("subscribe"),
        "{error}"
    );
    Ok(())
}

/// A server that never sends the declared `tick` fails within the event timeout, and the timeline names it
/// (`missing: tick, done`; pinned by `the_missing_event_is_named` below).
#[ws_test(serve = tungstenite_ticker::serve_forgetful, path = "/", events = ["tick", "done"], event_timeout = "300ms")]
#[should_panic(expected = "timed out after 300ms")]
async fn a_missing_event_fails_naming_it(client: &mut WsClient) -> TestResult {
    client
        .send_json(json!({"type": "subscribe", "id": "a", "count": 1}))
        .await?;
    Ok(())
}

/// The must-fail test's report, read in full: the timeline names the missing events.
#[test]
fn the_missing_event_is_named() {
    let report = std::panic::catch_unwind(|| {
        let spec = ws_test_runtime::driver::TestSpec::new("ticker::forgetful")
            .serve(tungstenite_ticker::serve_forgetful)
            .path("/")
            .event_timeout(std::time::Duration::from_millis(300))
            .expect(Expect::events(["tick", "done"]));
        ws_test_runtime::driver::run(
            spec,
            ws_test_runtime::driver::body(async |client: &mut WsClient| -> TestResult {
                client
                    .send_json(json!({"type": "subscribe", "id": "a", "count": 1}))
                    .await?;
                Ok(())
            }),
        );
    })
    .expect_err("the forgetful server fails the test");
    let report = report.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(report.contains("missing: tick, done"), "{report}");
    assert!(report.contains("first divergence: expected tick"), "{report}");
}

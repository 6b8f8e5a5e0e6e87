use chat_testkit::ws::prelude::*;

#[chat_testkit::ws::ws_test(crate = "chat_testkit::ws", flavor = "multi_thread", worker_threads = 2)]
async fn on_two_threads(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

fn main() {}

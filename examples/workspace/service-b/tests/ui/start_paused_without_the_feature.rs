use chat_testkit::ws::prelude::*;

#[chat_testkit::ws::ws_test(crate = "chat_testkit::ws", transport = "memory", start_paused = true)]
async fn on_a_paused_clock(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

fn main() {}

use chat_testkit::ws::prelude::*;

#[chat_testkit::ws::ws_test(crate = "chat_testkit::ws", protocol = "socket.io")]
async fn over_socket_io(client: &mut WsClient) -> TestResult {
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

fn main() {}

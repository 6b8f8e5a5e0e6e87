use ws_test_runtime::prelude::*;

#[ws_test(url = "ws://staging.example/ws", handler = ChatAgent::new())]
async fn staging(_client: &mut WsClient) {}

fn main() {}

use ws_test_runtime::prelude::*;

fn not_an_app() -> u32 {
    7
}

#[ws_test(app = not_an_app)]
async fn returns_a_number(_client: &mut WsClient) {}

#[ws_test(app = not_an_app, handler = ChatAgent::new())]
async fn app_and_handler(_client: &mut WsClient) {}

#[ws_test(path = "chat/ws")]
async fn path_without_a_slash(_client: &mut WsClient) {}

#[ws_test(url = "ws://staging.example/ws", transport = "memory")]
async fn url_and_transport(_client: &mut WsClient) {}

fn main() {}

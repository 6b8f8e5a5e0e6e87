use ws_test_runtime::prelude::*;

async fn my_server(_listener: tokio::net::TcpListener) {}

fn not_a_server() -> u32 {
    7
}

#[ws_test(serve = my_server, transport = "memory")]
async fn served_in_memory(_client: &mut WsClient) {}

#[ws_test(serve = my_server, start_paused = true)]
async fn served_on_a_paused_clock(_client: &mut WsClient) {}

#[ws_test(serve = my_server, handler = ChatAgent::new())]
async fn served_with_a_handler(_client: &mut WsClient) {}

#[ws_test(serve = my_server, url = "ws://staging.example/ws")]
async fn served_and_external(_client: &mut WsClient) {}

#[ws_test(serve = my_server)]
async fn served_with_the_embedded_server(_client: &mut WsClient, _server: &EmbeddedServer) {}

#[ws_test(serve = not_a_server)]
async fn served_by_a_number(_client: &mut WsClient) {}

#[ws_test(serve = "my_server")]
async fn served_by_a_string(_client: &mut WsClient) {}

#[ws_test(subprotocol = 3)]
async fn subprotocol_not_a_string(_client: &mut WsClient) {}

fn main() {}

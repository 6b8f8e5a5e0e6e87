use ws_test_runtime::prelude::*;

#[ws_test(protocol = "socket.io.v9")]
async fn an_unknown_kit(_client: &mut WsClient) {}

#[ws_test(protocol = 5)]
async fn not_a_protocol(_client: &mut WsClient) {}

fn main() {}

use ws_test_runtime::prelude::*;

#[ws_test(handler = 42)]
async fn not_a_handler(_client: &mut WsClient) {}

fn main() {}

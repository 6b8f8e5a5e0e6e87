use ws_test_runtime::prelude::*;

#[ws_test]
fn not_async(_client: &mut WsClient) {}

#[ws_test]
async fn generic<T>(_client: &mut WsClient) {}

fn main() {}

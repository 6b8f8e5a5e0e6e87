use ws_test_runtime::prelude::*;

#[ws_test(worker_threads = 4)]
async fn threads(_client: &mut WsClient) {}

#[ws_test(start_paused = true)]
async fn paused(_client: &mut WsClient) {}

fn main() {}

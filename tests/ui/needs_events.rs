use ws_test_runtime::prelude::*;

#[ws_test(order = "strict", per = "run_id", times = 2)]
async fn no_events(_client: &mut WsClient) {}

fn main() {}

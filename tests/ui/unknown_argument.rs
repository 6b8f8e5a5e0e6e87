use ws_test_runtime::prelude::*;

#[ws_test(evnts = ["agent_started"], clinets = 2)]
async fn typo(_client: &mut WsClient) {}

fn main() {}

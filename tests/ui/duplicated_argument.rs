use ws_test_runtime::prelude::*;

#[ws_test(events = ["a"], user = "alice", user = "bob")]
async fn twice(_client: &mut WsClient) {}

fn main() {}

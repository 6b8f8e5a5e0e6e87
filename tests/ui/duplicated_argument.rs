use ws_test_runtime::prelude::*;

#[ws_test(events = ["a"], token = "alice", token = "bob")]
async fn twice(_client: &mut WsClient) {}

fn main() {}

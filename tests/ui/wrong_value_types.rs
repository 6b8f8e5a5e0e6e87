use ws_test_runtime::prelude::*;

#[ws_test(events = ["a"], times = "3", skip_welcome = 1, order = "sideways", timeout = "thirty", url = "http://x")]
async fn wrong(_client: &mut WsClient) {}

fn main() {}

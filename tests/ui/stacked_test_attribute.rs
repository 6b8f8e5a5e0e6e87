use ws_test_runtime::prelude::*;

#[ws_test]
#[tokio::test]
async fn twice_a_test(_client: &mut WsClient) {}

fn main() {}

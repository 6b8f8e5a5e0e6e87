use ws_test_runtime::prelude::*;

#[ws_test]
async fn three(_a: &mut WsClient, _b: &EmbeddedServer, _c: u8) {}

fn main() {}

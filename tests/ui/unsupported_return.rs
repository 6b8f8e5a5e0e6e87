use ws_test_runtime::prelude::*;

#[ws_test]
async fn returns_a_number(_client: &mut WsClient) -> u32 {
    7
}

fn main() {}

use ws_test_runtime::prelude::*;

#[ws_test(headers = [("X-User-Id")])]
async fn a_header_without_its_value(_client: &mut WsClient) {}

#[ws_test(headers = "X-User-Id: alice")]
async fn a_header_as_one_string(_client: &mut WsClient) {}

fn main() {}

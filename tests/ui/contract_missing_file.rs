use ws_test_runtime::prelude::*;

#[ws_test(contract = "api/no_such_document.yaml")]
async fn contract_that_is_not_there(_client: &mut WsClient) {}

#[ws_test(contract = 3)]
async fn contract_that_is_not_a_path(_client: &mut WsClient) {}

fn main() {}

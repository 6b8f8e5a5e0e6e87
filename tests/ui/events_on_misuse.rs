use ws_test_runtime::prelude::*;

#[ws_test(clients = 2, events = ["a"], events_on = 2)]
async fn a_client_the_test_does_not_connect(_clients: Vec<WsClient>) {}

#[ws_test(events = ["a"], events_on = "every")]
async fn a_word_that_is_not_all(_client: &mut WsClient) {}

#[ws_test(events_on = "all")]
async fn no_events_to_check(_client: &mut WsClient) {}

fn main() {}

use ws_test_runtime::prelude::*;
use ws_test_runtime::ChatEvent;

#[ws_test(events = [ChatEvent::AgentStarted, ChatEvent::AgentStartd])]
async fn typo(_client: &mut WsClient) {}

fn main() {}

use ws_test_runtime::prelude::*;

#[derive(WsProfile)]
#[ws_profile(events = ["agent_started"], url = "ws://x/ws")]
struct NoServer;

fn main() {}

use ws_test_runtime::prelude::*;

// A paused clock over real sockets: deadlines would fire while the OS delivers bytes.
#[ws_test(start_paused = true)]
async fn over_tcp(_client: &mut WsClient) {}

#[ws_test(start_paused = true, transport = "memory", flavor = "multi_thread")]
async fn on_many_threads(_client: &mut WsClient) {}

#[ws_test(transport = "carrier-pigeon")]
async fn unknown_transport(_client: &mut WsClient) {}

fn main() {}

use ws_test_runtime::prelude::*;

#[ws_test(replay = "fixtures/no-such-recording.jsonl")]
async fn missing_file(_client: &mut WsClient) {}

#[ws_test(replay = "Cargo.toml", handler = ChatAgent::new())]
async fn replay_and_handler(_client: &mut WsClient) {}

#[ws_test(ignore_fields = ["run_id"])]
async fn ignore_without_replay(_client: &mut WsClient) {}

#[ws_test(replay = "Cargo.toml", ignore_fields = "run_id")]
async fn ignore_not_a_list(_client: &mut WsClient) {}

fn main() {}

//! Service B cares about tool calls only: it narrows the profile's events with typed variants.

use chat_testkit::ws::prelude::*;
use chat_testkit::{AssistantEvent, ChatBackend};

#[chat_testkit::ws::ws_test(
    profile = ChatBackend,
    crate = "chat_testkit::ws",
    events = [AssistantEvent::ToolExecuting, AssistantEvent::ToolCompleted],
    order = "in_order",
)]
async fn every_tool_call_completes(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "look it up"}))
        .await?;
    Ok(())
}

#[chat_testkit::ws::ws_test(profile = ChatBackend, crate = "chat_testkit::ws", clients = 2)]
async fn two_users_each_get_their_own_run(clients: Vec<WsClient>) -> TestResult {
    for mut client in clients {
        client
            .send_json(&json!({"type": "chat_message", "content": "mine"}))
            .await?;
        let run = client
            .expect(&Expect::events(AssistantEvent::CRITICAL).strict())
            .await?;
        assert_eq!(run.len(), 5);
    }
    Ok(())
}

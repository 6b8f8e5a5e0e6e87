//! Service A's tests: the profile says everything; no server setup, no event names repeated.

use chat_testkit::ws::prelude::*;
use chat_testkit::{AssistantEvent, ChatBackend};

#[chat_testkit::ws::ws_test(profile = ChatBackend, crate = "chat_testkit::ws")]
async fn a_question_gets_the_full_run(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "where is my order?"}))
        .await?;
    Ok(())
}

#[chat_testkit::ws::ws_test(profile = ChatBackend, crate = "chat_testkit::ws", times = 3)]
async fn three_questions_three_runs(client: &mut WsClient) -> TestResult {
    for question in ["one", "two", "three"] {
        client
            .send_json(&json!({"type": "chat_message", "content": question}))
            .await?;
    }
    Ok(())
}

#[chat_testkit::ws::ws_test(profile = ChatBackend, crate = "chat_testkit::ws")]
async fn the_agent_introduces_itself(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hello"}))
        .await?;
    match client.next_event::<AssistantEvent>().await? {
        AssistantEvent::AgentStarted { agent_name, .. } => assert_eq!(agent_name, "AcmeAssistant"),
        other => panic!("expected agent_started first, got {other:?}"),
    }
    Ok(())
}

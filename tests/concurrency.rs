//! Concurrent connections with isolated users (the seed's 3, and 200).

use std::collections::HashSet;

use futures_util::future::try_join_all;
use ws_test_runtime::prelude::*;

use crate::support::{recv_n, types};

async fn one_user(server_url: String, index: usize) -> Result<(String, String), ws_test_runtime::Error> {
    let mut client = WsClient::connect(&server_url).await?;
    let welcome = client.expect_type("connection_established").await?;
    let user_id = welcome["user_id"].as_str().unwrap_or_default().to_owned();
    client
        .send_json(&json!({"type": "chat_message", "content": format!("message {index}")}))
        .await?;
    let events = recv_n(&mut client, 5).await?;
    assert_eq!(types(&events), ChatEvent::CRITICAL);
    for event in &events {
        // Every event belongs to this user and this message: nothing leaks between connections.
        assert_eq!(event["user_id"], user_id.as_str());
    }
    assert_eq!(
        events[0]["message"],
        format!("Processing your message: message {index}")
    );
    client.close(1000, "done").await?;
    Ok((
        user_id,
        welcome["connection_id"].as_str().unwrap_or_default().to_owned(),
    ))
}

async fn concurrent_users(n: usize) -> TestResult {
    let server = EmbeddedServer::start().await?;
    let results = try_join_all((0..n).map(|index| one_user(server.url(), index))).await?;
    let users: HashSet<&String> = results.iter().map(|(user, _)| user).collect();
    let connections: HashSet<&String> = results.iter().map(|(_, connection)| connection).collect();
    assert_eq!(users.len(), n, "every connection has its own user");
    assert_eq!(connections.len(), n);
    assert_eq!(server.metrics().connections_total, n as u64);
    Ok(())
}

#[tokio::test]
async fn three_concurrent_users_are_isolated() -> TestResult {
    concurrent_users(3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_users_are_isolated() -> TestResult {
    concurrent_users(200).await
}

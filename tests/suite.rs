//! The check suite against servers that keep the protocol, and against ones that break it.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::suite::Suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_server_passes_every_check() -> TestResult {
    let server = EmbeddedServer::start().await?;
    let report = Suite::new(server.url()).run().await?;
    assert!(report.all_passed(), "{report}");
    assert_eq!(report.checks.len(), 19);
    assert!(report.to_string().ends_with("\n19 passed, 0 failed"), "{report}");
    let json = serde_json::to_value(&report)?;
    assert_eq!(json["checks"][0]["name"], "health");
    assert!(json["checks"][0]["duration_ms"].is_f64());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_auth_checks_run_too() -> TestResult {
    let server = EmbeddedServer::builder().token("s3cret").start().await?;
    let report = Suite::new(server.url()).token("s3cret").concurrency(5).run().await?;
    assert!(report.all_passed(), "{report}");
    assert!(report.check("auth_refused").is_some() && report.check("auth_accepted").is_some());
    Ok(())
}

#[tokio::test]
async fn a_server_that_is_not_there_is_one_clear_error() -> TestResult {
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let error = Suite::new(format!("ws://{addr}/ws"))
        .timeout(Duration::from_millis(200))
        .run()
        .await
        .unwrap_err();
    assert!(matches!(error, ws_test_runtime::Error::Connect { .. }), "{error}");
    Ok(())
}

/// Runs the suite against the chat agent with `fault`; returns the failed checks' names and details.
async fn failures_with(fault: &str) -> TestResult<Vec<(String, String)>> {
    let server = EmbeddedServer::builder()
        .handler(ChatAgent::new().fault(fault.parse()?))
        .start()
        .await?;
    let report = Suite::new(server.url())
        .concurrency(3)
        .timeout(Duration::from_millis(500))
        .run()
        .await?;
    Ok(report
        .checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| (check.name.to_owned(), check.detail.clone()))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_fails_the_event_checks_and_names_the_event() -> TestResult {
    for (fault, event) in [
        ("drop:agent_thinking", "agent_thinking"),
        ("duplicate:tool_executing", "tool_executing"),
        ("swap:tool_executing,tool_completed", "tool_executing"),
        ("close:agent_started:1011", "agent_thinking"),
        ("malformed:agent_completed", "agent_completed"),
    ] {
        let failures = failures_with(fault).await?;
        let critical = failures.iter().find(|(name, _)| name == "critical_events");
        let (_, detail) = critical.unwrap_or_else(|| panic!("{fault}: critical_events should fail; {failures:?}"));
        assert!(
            detail.contains(event),
            "{fault}: the detail should name {event}:\n{detail}"
        );
        // Checks that do not involve chat runs still pass.
        for name in ["health", "ping_pong", "echo", "error_binary_frame"] {
            assert!(
                !failures.iter().any(|(failed, _)| failed == name),
                "{fault}: {name} failed: {failures:?}"
            );
        }
    }
    Ok(())
}

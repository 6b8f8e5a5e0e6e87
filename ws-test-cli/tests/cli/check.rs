//! `ws-test check`: the protocol suite and `--asyncapi` contracts against a live server.

use super::*;

#[test]
fn check_passes_against_the_embedded_default_server() {
    let (code, stdout, stderr) = check(&["--concurrency", "10"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("checking ws://127.0.0.1:"), "{stdout}");
    assert_eq!(lines.last().copied(), Some("19 passed, 0 failed"), "{stdout}");
    assert_eq!(
        lines.iter().filter(|line| line.starts_with("PASS  ")).count(),
        19,
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("PASS  critical_events") && line.contains(" ms ")),
        "{stdout}"
    );
}

#[test]
fn check_prints_json_on_request() {
    let (code, stdout, _) = check(&["--json", "--concurrency", "5", "--token", "t0k"]);
    assert_eq!(code, 0, "{stdout}");
    let text = stdout.trim();
    assert!(
        text.starts_with('{') && text.contains("\"name\": \"auth_refused\""),
        "{stdout}"
    );
    assert!(
        text.contains("\"passed\": true") && !text.contains("\"passed\": false"),
        "{stdout}"
    );
}

#[test]
fn check_fails_with_exit_1_and_names_the_event_for_every_fault_kind() {
    for (fault, event) in [
        ("drop:agent_thinking", "expected agent_thinking, got tool_executing"),
        (
            "duplicate:tool_executing",
            "expected tool_completed, got tool_executing",
        ),
        (
            "swap:tool_completed,agent_completed",
            "expected tool_completed, got agent_completed",
        ),
        ("close:tool_executing:4000", "the connection was closed (code 4000"),
        ("malformed:agent_started", "is not a JSON event"),
    ] {
        let serve = Serve::start(&["--fault", fault]);
        let (code, stdout, stderr) = check(&[&serve.url, "--timeout", "500ms", "--concurrency", "3"]);
        assert_eq!(code, 1, "{fault}: {stdout}{stderr}");
        assert!(stdout.contains("FAIL  critical_events"), "{fault}: {stdout}");
        assert!(
            stdout.contains(event),
            "{fault}: the report should say {event:?}:\n{stdout}"
        );
        assert!(
            stdout
                .lines()
                .last()
                .is_some_and(|line| line.ends_with(" failed") && !line.ends_with(" 0 failed"))
        );
    }
}

#[test]
fn check_on_a_closed_port_exits_2_quickly_and_says_why() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a port");
    let started = Instant::now();
    let (code, _, stderr) = check(&[&format!("ws://{port}/ws"), "--timeout", "300ms"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!("cannot reach ws://{port}/ws")) && stderr.contains("Connection refused"),
        "{stderr}"
    );
}

#[test]
fn check_scales_its_default_timeout_and_refuses_a_wild_scale() {
    let serve = Serve::start(&["--fault", "half-open"]);
    let (_, stdout, _) = run_with_env(
        &["check", &serve.url, "--concurrency", "2"],
        &[("WS_TEST_TIMEOUT_SCALE", "0.04")],
    );
    assert!(stdout.contains("timed out after 200ms"), "5 s x 0.04:\n{stdout}");
    let (code, _, stderr) = run_with_env(&["check"], &[("WS_TEST_TIMEOUT_SCALE", "1e300")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("WS_TEST_TIMEOUT_SCALE=\"1e300\" is not a usable factor"),
        "{stderr}"
    );
}

#[test]
fn check_asyncapi_passes_the_built_in_agent_and_the_contracts_own_mock() {
    let contract = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml");
    // The embedded server (no URL), then `ws-test serve --asyncapi` on the same document.
    let (code, stdout, stderr) = run_with_env(&["check", "--asyncapi", contract], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS  chat ") && stdout.ends_with("4 passed, 0 failed\n"),
        "{stdout}"
    );
    // `ws-test serve`, the built-in agent as a process.
    let agent = Serve::start(&[]);
    let (code, stdout, stderr) = run_with_env(&["check", &agent.url, "--asyncapi", contract], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("4 passed, 0 failed\n"), "{stdout}");
    drop(agent);
    let mock = Serve::start(&["--asyncapi", contract]);
    let (code, stdout, stderr) = run_with_env(&["check", &mock.url, "--asyncapi", contract, "--json"], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|check| check["name"].as_str())
        .collect();
    assert_eq!(names, ["broadcast", "chat", "echo", "ping"]);

    // The mock answers a frame the contract does not allow with an error frame saying why.
    runtime().block_on(async {
        let mut client = WsClient::connect(&mock.url).await.expect("the mock accepts");
        client
            .expect_type("connection_established")
            .await
            .expect("the welcome example");
        client.send_json(json!({"type": "chat_message"})).await.expect("send");
        let error = client.expect_type("error").await.expect("an error frame");
        assert_eq!(
            error["error"], r#"/content: "content" is a required property"#,
            "{error}"
        );
    });
}

#[test]
fn a_contract_that_does_not_read_is_a_usage_error_naming_its_place() {
    let path = std::env::temp_dir().join(format!("ws-test-cli-bad-contract-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        "asyncapi: 3.0.0\ninfo: { title: t, version: '1' }\nchannels:\n  ws: { address: /ws }\noperations:\n  \
         hello:\n    action: receive\n    channel: { $ref: '#/channels/ws' }\n    messages:\n      - $ref: \
         '#/channels/ws/messages/nope'\n",
    )
    .expect("written");
    let file = path.to_str().expect("UTF-8");
    for command in ["check", "serve"] {
        let (code, _, stderr) = run_with_env(&[command, "--asyncapi", file], &[]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(
            stderr.contains("#/operations/hello/messages/0: `$ref: #/channels/ws/messages/nope` names nothing"),
            "{command}: {stderr}"
        );
    }
    std::fs::remove_file(&path).ok();
}

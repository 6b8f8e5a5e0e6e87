//! `ws-test serve`: the mock backend, its limits, faults, signals and protocol kits.

use super::*;

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn serve_prints_its_line_answers_a_client_and_stops_on_sigterm() {
    let serve = Serve::start(&["--path", "/chat", "--token", "s3cret"]);
    assert!(
        serve.url.starts_with("ws://127.0.0.1:") && serve.url.ends_with("/chat"),
        "{}",
        serve.url
    );
    let url = serve.url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut client = WsClient::builder(url.clone())
            .token("s3cret")
            .connect()
            .await
            .expect("serve accepts");
        client
            .expect(&Expect::events(["connection_established"]))
            .await
            .expect("a welcome");
        client.send_json(&json!({"type": "ping"})).await.expect("send");
        client.expect(&Expect::events(["pong"])).await.expect("a pong");
        let refused = WsClient::connect(&url).await.expect_err("no token, no upgrade");
        assert!(
            matches!(refused, ws_test_runtime::Error::Rejected { status: 401, .. }),
            "{refused}"
        );
        client.close(1000, "done").await.expect("close");
    });
    let (status, logs) = serve.terminate();
    assert!(status.success(), "{status:?}\n{logs}");
    assert!(
        logs.contains("connection opened") && logs.contains("connection closed"),
        "{logs}"
    );
    assert!(
        logs.contains("refused a WebSocket upgrade") && logs.contains("SIGTERM"),
        "{logs}"
    );
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn serve_enforces_its_limit_flags() {
    let serve = Serve::start(&[
        "--max-connections",
        "1",
        "--handshake-timeout",
        "300ms",
        "--idle-timeout",
        "400ms",
    ]);
    let url = serve.url.clone();
    let addr = url.trim_start_matches("ws://").trim_end_matches("/ws").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut first = WsClient::connect(&url).await.expect("the first connection fits");
        let refused = WsClient::connect(&url).await.expect_err("the second is one too many");
        assert!(
            refused.to_string().contains("503") && refused.to_string().contains("maximum of 1 WebSocket connection(s)"),
            "{refused}"
        );
        let idle = first.expect_closed(1001).await.expect("closed when idle");
        assert!(idle.reason.contains("ServerBuilder::idle_timeout"), "{idle:?}");
        // A request head that never completes is dropped at the handshake timeout.
        let mut half = tokio::net::TcpStream::connect(&addr).await.expect("TCP connect");
        tokio::io::AsyncWriteExt::write_all(&mut half, b"GET /ws HTTP/1.1\r\n")
            .await
            .expect("half a request");
        let mut rest = Vec::new();
        let ended = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut half, &mut rest),
        )
        .await;
        assert!(ended.is_ok(), "the half-sent request was still held after 5 s");
    });
    let (status, logs) = serve.terminate();
    assert!(status.success(), "{logs}");
    assert!(logs.contains("handshake timeout"), "{logs}");
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn serve_warns_when_it_listens_beyond_loopback_without_a_token() {
    let serve = Serve::start(&["--host", "0.0.0.0"]);
    let (_, logs) = serve.terminate();
    assert!(
        logs.contains("listening beyond loopback without a token") && logs.contains("--token"),
        "{logs}"
    );
    let serve = Serve::start(&["--host", "0.0.0.0", "--token", "s3cret"]);
    let (_, logs) = serve.terminate();
    assert!(!logs.contains("without a token"), "{logs}");
}

#[test]
fn serve_plays_transport_faults_by_name_and_refuses_unknown_ones() {
    let serve = Serve::start(&["--fault", "half-open"]);
    // The scale shortens the close handshakes the half-open server never answers.
    let (code, stdout, stderr) = run_with_env(
        &["check", &serve.url, "--timeout", "300ms", "--concurrency", "2"],
        &[("WS_TEST_TIMEOUT_SCALE", "0.1")],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL  connection_established") && stdout.contains("timed out after 300ms"),
        "{stdout}"
    );
    let (code, _, stderr) = run_with_env(&["serve", "--fault", "half-closed"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("or a transport fault: no-handshake, reset, half-open"),
        "{stderr}"
    );
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn sigterm_as_soon_as_the_first_line_is_read_is_a_clean_shutdown() {
    // A supervisor that stops the mock right after reading where it listens: the signal is already watched.
    for (subcommand, args) in [("serve", vec![]), ("serve", vec!["--tls-self-signed"])] {
        let serve = Serve::command(subcommand, &args);
        let (status, logs) = serve.terminate();
        assert!(status.success(), "{subcommand} {args:?}: {status:?}\n{logs}");
        assert!(logs.contains("SIGTERM: shutting down"), "{logs}");
    }
}

#[test]
fn serve_and_check_speak_socketio_with_protocol() {
    let contract = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/socketio-chat.yaml");
    // The contract as a mock that speaks Engine.IO and Socket.IO itself, graded through the Socket.IO kit.
    let mock = Serve::start(&["--asyncapi", contract, "--protocol", "socket.io"]);
    assert!(mock.url.ends_with("/socket.io/"), "{}", mock.url);
    let (code, stdout, stderr) = run_with_env(
        &["check", &mock.url, "--asyncapi", contract, "--protocol", "socket.io"],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS  addUser ") && stdout.ends_with("2 passed, 0 failed\n"),
        "{stdout}"
    );
    // Without the protocol, the check's client speaks plain JSON to a Socket.IO server: the frames do not conform.
    let (code, stdout, _) = run_with_env(&["check", &mock.url, "--asyncapi", contract], &[]);
    assert_eq!(code, 1, "{stdout}");
    drop(mock);

    // A protocol frames the events of a recording or a contract; the chat agent has none to frame.
    let (code, _, stderr) = run_with_env(&["serve", "--protocol", "socket.io"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--protocol frames the events of --replay FILE or --asyncapi FILE"),
        "{stderr}"
    );
    let (code, _, stderr) = run_with_env(&["serve", "--asyncapi", contract, "--protocol", "stomp"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no protocol is called \"stomp\""), "{stderr}");
}

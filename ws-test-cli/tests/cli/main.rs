//! The `ws-test` command, run as a process.

mod conform;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt as _;
use ws_test_runtime::prelude::*;

fn ws_test() -> Command {
    Command::cargo_bin("ws-test").expect("the ws-test binary is built for its tests")
}

/// A running `ws-test serve` and the URL from its first line.
struct Serve {
    child: Child,
    url: String,
    /// The rest of its stdout, after the first line.
    stdout: BufReader<std::process::ChildStdout>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        Serve::command("serve", args)
    }

    /// Runs `ws-test SUBCOMMAND ARGS`, which prints `listening on URL` first.
    fn command(subcommand: &str, args: &[&str]) -> Serve {
        let mut child = ws_test()
            .arg(subcommand)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ws-test serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("serve prints a first line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        Serve {
            url: url.to_owned(),
            child,
            stdout,
        }
    }

    /// Sends SIGTERM and returns the exit status and what was logged (the rest of stdout, then stderr).
    #[cfg(unix)]
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        self.output()
    }

    /// Waits for the process to end; its status, the rest of its stdout, then its stderr.
    fn output(&mut self) -> (std::process::ExitStatus, String) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut text).expect("stdout reads to its end");
        let output = std::mem::replace(&mut self.child, Command::new("true").spawn().expect("true runs"))
            .wait_with_output()
            .expect("the process exits");
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        (output.status, text)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check(args: &[&str]) -> (i32, String, String) {
    run_with_env(&[&["check"], args].concat(), &[])
}

/// Runs `ws-test ARGS` with extra environment variables; returns the exit code, stdout and stderr.
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = ws_test()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("ws-test runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

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

#[test]
fn bad_arguments_exit_2_with_clap_help() {
    for args in [
        vec!["check", "--concurrency", "many"],
        vec!["serve", "--fault", "explode:everything"],
        vec!["nonsense"],
        vec![],
    ] {
        let output = ws_test().args(&args).output().expect("ws-test runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("Usage: ws-test") || stderr.contains("try '--help'"),
            "{args:?}: {stderr}"
        );
    }
    let output = ws_test()
        .args(["serve", "--fault", "drop:agent_sleeping"])
        .output()
        .expect("ws-test runs");
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a critical event"));
}

#[test]
fn bench_prints_throughput_and_percentiles() {
    let (code, stdout, stderr) = run_with_env(
        &["bench", "--connections", "20", "--rounds", "5", "--kind", "chat"],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("20 connections x 5 chat rounds"), "{stdout}");
    assert!(stdout.contains("throughput  100 rounds in"), "{stdout}");
    assert!(
        stdout.contains("latency     p50 ") && stdout.contains(" max "),
        "{stdout}"
    );
    assert!(stdout.contains("errors      0"), "{stdout}");
}

#[test]
fn bench_pipelines_and_times_each_event() {
    let (code, stdout, stderr) = run_with_env(
        &[
            "bench",
            "--connections",
            "3",
            "--rounds",
            "40",
            "--pipeline",
            "8",
            "--json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let figures: serde_json::Value = serde_json::from_str(&stdout).expect("the figures are JSON");
    assert_eq!(figures["pipeline"], 8);
    assert_eq!(
        figures["rounds"], 120,
        "every round of every connection is measured: {figures}"
    );
    assert_eq!(figures["errors"], 0);
    let events = figures["events_us"].as_array().expect("per-event latencies");
    let names: Vec<&str> = events
        .iter()
        .map(|event| event["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ChatEvent::CRITICAL);
    // Within a run every event comes after the one before, so each percentile rises along the run, and a round
    // ends with its agent_completed.
    for quantile in ["p50", "p90", "p99", "max"] {
        let values: Vec<u64> = events
            .iter()
            .map(|event| event[quantile].as_u64().unwrap_or(u64::MAX))
            .collect();
        assert!(
            values.windows(2).all(|pair| pair[0] <= pair[1]),
            "{quantile}: {values:?}"
        );
        assert_eq!(
            values[4],
            figures["latency_us"][quantile].as_u64().unwrap_or(0),
            "{figures}"
        );
    }

    let output = ws_test()
        .args([
            "bench",
            "--connections",
            "1",
            "--rounds",
            "500",
            "--pipeline",
            "50",
            "--kind",
            "echo",
        ])
        .output()
        .expect("ws-test bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("1 connections x 500 echo rounds, 50 in flight per connection"),
        "{stdout}"
    );
    assert!(stdout.contains("throughput  500 rounds in"), "{stdout}");
    assert!(!stdout.contains("from the chat message"), "{stdout}");

    let refused = ws_test()
        .args(["bench", "--pipeline", "0"])
        .output()
        .expect("ws-test runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--pipeline"));
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

/// Waits (up to 10 s) for a process that should end by itself; its status and stdout, stderr.
fn wait_for_exit(mut running: Serve) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match running.child.try_wait().expect("try_wait works") {
            Some(_) => break,
            None if Instant::now() > deadline => panic!("the process did not end within 10 s"),
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    running.output()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Sends one chat message and returns the texts of the frames that answer it (the five events).
async fn chat_round(client: &mut WsClient, content: &str) -> Vec<String> {
    client
        .send_json(json!({"type": "chat_message", "content": content}))
        .await
        .expect("send");
    let mut texts = Vec::new();
    for _ in 0..5 {
        match client.recv().await.expect("an event") {
            ws_test_runtime::Message::Text(text) => texts.push(text),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
    texts
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn a_recorded_session_replays_the_same_frames_and_a_divergence_gets_1008_naming_the_line() {
    let upstream = Serve::start(&[]);
    let directory = std::env::temp_dir().join(format!("ws-test-cli-record-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let out = directory.join("session.jsonl");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let record = Serve::command(
        "record",
        &[
            "--upstream",
            &upstream.url,
            "--out",
            out_arg,
            "--sessions",
            "1",
            "--redact",
            "connection_id",
        ],
    );
    assert!(
        record.url.starts_with("ws://127.0.0.1:") && record.url.ends_with("/ws"),
        "{}",
        record.url
    );
    let runtime = runtime();
    let (welcome, recorded) = runtime.block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        let welcome = client
            .expect_type("connection_established")
            .await
            .expect("the upstream's welcome");
        assert!(
            welcome["connection_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("conn-")),
            "relayed unchanged"
        );
        let events = chat_round(&mut client, "hi").await;
        client.close(1000, "done").await.expect("close");
        (welcome, events)
    });
    let (status, output) = wait_for_exit(record);
    assert!(status.success(), "{output}");
    assert!(output.contains("session 1: 9 frame(s) -> "), "{output}");

    let replay = Serve::start(&["--replay", out_arg, "--ignore-field", "run_id"]);
    runtime.block_on(async {
        let mut client = WsClient::connect(&replay.url).await.expect("serve --replay accepts");
        let replayed_welcome = client
            .expect_type("connection_established")
            .await
            .expect("the recorded welcome");
        assert_eq!(
            replayed_welcome["connection_id"], "[redacted]",
            "redacted in the recording"
        );
        assert_eq!(replayed_welcome["user_id"], welcome["user_id"]);
        // Extra spaces and another key order are the same JSON.
        let replayed = chat_round(&mut client, "hi").await;
        assert_eq!(replayed, recorded, "the same frames for the same message");

        let mut client = WsClient::connect(&replay.url).await.expect("a second client");
        client.expect_type("connection_established").await.expect("its welcome");
        client
            .send_json(json!({"type": "chat_message", "content": "bye"}))
            .await
            .expect("send");
        let close = client.expect_closed(1008).await.expect("a policy close");
        assert_eq!(
            close.reason,
            "diverged from line 3 of session.jsonl: at `content` expected \"hi\", got \"bye\""
        );
    });
    let (status, logs) = replay.terminate();
    assert!(status.success(), "{status:?}\n{logs}");
    assert!(
        logs.contains("the replay of session.jsonl diverged at line 3"),
        "{logs}"
    );

    let (code, stdout, stderr) = run_with_env(&["expect", out_arg], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"agent_started\", \"agent_thinking\", \"tool_executing\", \"tool_completed\", \
         \"agent_completed\"])\n    .per(\"run_id\")\n    .ignore(\"connection_established\")"
    );
    std::fs::remove_dir_all(&directory).ok();
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn record_stops_on_sigterm_with_every_relayed_frame_on_disk() {
    let upstream = Serve::start(&[]);
    let out = std::env::temp_dir().join(format!("ws-test-cli-sigterm-{}.jsonl", std::process::id()));
    let out_arg = out.to_str().expect("a UTF-8 path");
    let record = Serve::command("record", &["--upstream", &upstream.url, "--out", out_arg]);
    let runtime = runtime();
    let mut client = runtime.block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        client.expect_type("connection_established").await.expect("a welcome");
        chat_round(&mut client, "hi").await;
        client
    });
    let (status, logs) = record.terminate();
    assert!(status.success(), "{logs}");
    assert!(logs.contains("session 1: "), "{logs}");
    let close = runtime
        .block_on(client.expect_closed(1001))
        .expect("the client is told the recorder stops");
    assert_eq!(close.reason, "ws-test record is stopping");
    let saved = ws_test_runtime::History::load(&out).expect("the recording reads back");
    let types = saved.received_events();
    assert_eq!(
        types,
        [
            "connection_established",
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ],
        "{}",
        saved.timeline()
    );
    std::fs::remove_file(&out).ok();
}

#[test]
fn expect_prints_the_code_the_workspace_tests_paste() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/chat.jsonl");
    let (code, stdout, stderr) = run_with_env(&["expect", fixture], &[]);
    assert_eq!(code, 0, "{stderr}");
    // tests/recording.rs `a_recording_becomes_an_ordering_test` compiles this very expectation.
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"agent_started\", \"agent_thinking\", \"tool_executing\", \"tool_completed\", \
         \"agent_completed\"])\n    .per(\"run_id\")\n    .times(2)\n    .ignore(\"connection_established\")"
    );
}

#[test]
fn expect_names_events_by_another_field_with_event_key() {
    let path = std::env::temp_dir().join(format!("ws-test-cli-jsonrpc-{}.jsonl", std::process::id()));
    let frame = |at: u32, text: &str| {
        format!(
            "{{\"direction\":\"in\",\"at_ms\":{at},\"kind\":\"text\",\"text\":{}}}\n",
            serde_json::to_string(text).expect("a string")
        )
    };
    let mut transcript = "{\"ws_test\":\"transcript\",\"format\":1}\n".to_owned();
    transcript.push_str(&frame(1, r#"{"jsonrpc":"2.0","id":1,"result":7}"#));
    transcript.push_str(&frame(
        2,
        r#"{"jsonrpc":"2.0","method":"ticks","params":{"subscription":7,"result":0}}"#,
    ));
    transcript.push_str(&frame(
        3,
        r#"{"jsonrpc":"2.0","method":"ticks","params":{"subscription":7,"result":1}}"#,
    ));
    std::fs::write(&path, transcript).expect("a temporary file");
    let path_arg = path.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run_with_env(&["expect", path_arg, "--event-key", "method"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Expect::events([\"ticks\", \"ticks\"])\n    .event_key(\"method\")"
    );
    // Without it, nothing in the recording has a "type": there is no order to expect.
    let (code, _, stderr) = run_with_env(&["expect", path_arg], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no frame from the server that is a JSON object with a \"type\""),
        "{stderr}"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_broken_recording_is_refused_naming_the_line() {
    let path = std::env::temp_dir().join(format!("ws-test-cli-broken-{}.jsonl", std::process::id()));
    std::fs::write(
        &path,
        "{\"ws_test\":\"transcript\",\"format\":1}\n{\"direction\":\"in\",\"at_ms\":1,\"kind\":\"tick\"}\n",
    )
    .expect("a temporary file");
    let path_arg = path.to_str().expect("a UTF-8 path");
    for args in [vec!["serve", "--replay", path_arg], vec!["expect", path_arg]] {
        let (code, _, stderr) = run_with_env(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{path_arg}, line 2: `kind` is \"tick\"")),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, stderr) = run_with_env(&["record", "--upstream", "http://x", "--out", path_arg], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the recorder relays to a ws:// or wss:// server"),
        "{stderr}"
    );
    std::fs::remove_file(&path).ok();
}

/// `ws-test serve --tls-self-signed`, and the certificate path from its second line.
fn serve_tls() -> (Serve, String) {
    let mut serve = Serve::start(&["--tls-self-signed"]);
    assert!(serve.url.starts_with("wss://127.0.0.1:"), "{}", serve.url);
    let mut second = String::new();
    serve.stdout.read_line(&mut second).expect("serve prints a second line");
    let path = second.trim().to_owned();
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    (serve, path)
}

// Stops the server with SIGTERM (`kill -TERM`): Unix only.
#[cfg(unix)]
#[test]
fn serve_tls_self_signed_is_checked_with_ca_cert_or_ssl_cert_file_and_unreachable_without() {
    let (serve, certificate) = serve_tls();
    let url = serve.url.clone();
    let (code, stdout, stderr) = check(&[&url, "--ca-cert", &certificate]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS  health") && stdout.ends_with(" passed, 0 failed\n"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run_with_env(&["check", &url], &[("SSL_CERT_FILE", &certificate)]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Untrusted: unreachable (2), naming the host and what to do, never a plain-text retry.
    let (code, _, stderr) = check(&[&url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("TLS with 127.0.0.1 failed"), "{stderr}");
    assert!(
        stderr.contains("UnknownIssuer") && stderr.contains("--ca-cert PATH"),
        "{stderr}"
    );

    // A --ca-cert that is not a certificate is a usage error naming the file.
    let (code, _, stderr) = check(&[&url, "--ca-cert", "Cargo.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--ca-cert Cargo.toml holds no PEM certificate"),
        "{stderr}"
    );

    let (code, stdout, stderr) = run_with_env(
        &[
            "bench",
            &url,
            "--ca-cert",
            &certificate,
            "--connections",
            "3",
            "--rounds",
            "2",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("rounds/s"), "{stdout}");

    let (status, logs) = serve.terminate();
    assert!(status.success(), "{logs}");
    assert!(
        !std::path::Path::new(&certificate).exists(),
        "serve removes the certificate it wrote when it stops"
    );
}

#[test]
fn record_relays_to_a_wss_upstream_trusted_with_ca_cert() {
    let (upstream, certificate) = serve_tls();
    let saved = record_one_chat(&upstream.url, &certificate, "wss");
    assert!(
        saved.url().is_some_and(|url| url.starts_with("wss://127.0.0.1:")),
        "{:?}",
        saved.url()
    );
    assert_eq!(saved.received_events().len(), 6, "{}", saved.timeline());
}

/// `ws-test record --upstream URL --ca-cert CERT --sessions 1`, one chat round through it; the recording.
fn record_one_chat(upstream: &str, certificate: &str, name: &str) -> ws_test_runtime::History {
    let out = std::env::temp_dir().join(format!("ws-test-cli-{name}-{}.jsonl", std::process::id()));
    let out_arg = out.to_str().expect("a UTF-8 path");
    let record = Serve::command(
        "record",
        &[
            "--upstream",
            upstream,
            "--out",
            out_arg,
            "--ca-cert",
            certificate,
            "--sessions",
            "1",
        ],
    );
    runtime().block_on(async {
        let mut client = WsClient::connect(&record.url).await.expect("the recorder relays");
        client.expect_type("connection_established").await.expect("a welcome");
        chat_round(&mut client, "over TLS").await;
        client.close(1000, "done").await.expect("close");
    });
    let (status, logs) = wait_for_exit(record);
    assert!(status.success(), "{logs}");
    let saved = ws_test_runtime::History::load(&out).expect("the recording reads back");
    std::fs::remove_file(&out).ok();
    saved
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

/// The certificate people make, in a directory of its own: `openssl req -x509 -newkey rsa:2048 -nodes -keyout
/// key.pem -out cert.pem -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost` (`CA:TRUE`).
fn openssl_certificate() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ws-test-cli-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory for the certificate");
    let output = Command::new("openssl")
        .current_dir(&dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .output()
        .unwrap_or_else(|error| panic!("this test makes its certificate with the openssl command: {error}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (dir.join("cert.pem"), dir.join("key.pem"))
}

#[test]
fn an_openssl_certificate_is_trusted_by_check_bench_and_record_when_given_and_explained_when_not() {
    let (cert, key) = openssl_certificate();
    let (cert, key) = (cert.to_str().expect("UTF-8"), key.to_str().expect("UTF-8"));
    let serve = Serve::start(&["--tls-cert", cert, "--tls-key", key]);
    let url = serve.url.clone();
    let (code, stdout, stderr) = check(&[&url, "--ca-cert", cert]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with(" passed, 0 failed\n"), "{stdout}");
    let (code, stdout, stderr) = run_with_env(&["check", &url], &[("SSL_CERT_FILE", cert)]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Nothing trusted: unreachable (2), with a sentence naming the certificate's problem and the way out.
    let (code, _, stderr) = check(&[&url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("invalid peer certificate: CaUsedAsEndEntity"),
        "{stderr}"
    );
    assert!(stderr.contains("basicConstraints CA:TRUE"), "{stderr}");
    assert!(stderr.contains("--ca-cert PATH"), "{stderr}");

    let (code, stdout, stderr) = run_with_env(
        &["bench", &url, "--ca-cert", cert, "--connections", "2", "--rounds", "2"],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("rounds/s"), "{stdout}");

    let saved = record_one_chat(&url, cert, "openssl");
    assert_eq!(saved.received_events().len(), 6, "{}", saved.timeline());
    drop(serve);
}

/// The axum chat example on a real port, served by its own runtime on a thread of its own (the `ws-test`
/// processes the tests start connect to it); its URL.
fn axum_chat() -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("its address");
            sender
                .send(format!("ws://{address}{}", axum_chat::CHAT_PATH))
                .expect("the test waits for the URL");
            axum::serve(listener, axum_chat::app()).await.expect("the app serves");
        });
    });
    receiver.recv_timeout(Duration::from_secs(10)).expect("the app listens")
}

/// One session with the axum chat app through `ws-test record`: the hello, two chat messages a little apart; the
/// recording's path.
fn record_axum_session(upstream: &str, name: &str) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(format!("ws-test-cli-{name}-{}.jsonl", std::process::id()));
    let record = Serve::command(
        "record",
        &[
            "--upstream",
            upstream,
            "--out",
            out.to_str().expect("a UTF-8 path"),
            "--sessions",
            "1",
        ],
    );
    runtime().block_on(async {
        let mut client = WsClient::builder(&record.url)
            .token("alice-token")
            .connect()
            .await
            .expect("the recorder relays");
        client.expect_type("hello").await.expect("the app's welcome");
        for content in ["first", "second"] {
            client
                .send_json(json!({"type": "chat_message", "content": content}))
                .await
                .expect("send");
            client
                .expect(Expect::events(ChatEvent::CRITICAL).strict())
                .await
                .expect("the five events");
        }
        client.close(1000, "done").await.expect("close");
    });
    let (status, logs) = wait_for_exit(record);
    assert!(status.success(), "{logs}");
    out
}

#[test]
fn bench_plays_a_recorded_axum_session_at_500_per_second_with_latencies_by_type() {
    let app = axum_chat();
    let recording = record_axum_session(&app, "scenario");
    let scenario = recording.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run_with_env(
        &[
            "bench",
            &app,
            "--scenario",
            scenario,
            "--rate",
            "500",
            "--duration",
            "10s",
            "--token",
            "alice-token",
            "--json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let figures: serde_json::Value = serde_json::from_str(&stdout).expect("the figures are JSON");
    assert_eq!(figures["model"], "open");
    assert_eq!(figures["client_frames"], 2, "{figures}");
    assert_eq!(figures["iterations"], 5000, "500 sessions a second for 10 s: {figures}");
    assert_eq!(figures["errors"], 0, "{figures}");
    let labels = &figures["latency_by_label_us"];
    // Each session: the hello, then two messages with five replies each, every reply timed by its type.
    assert_eq!(labels["hello"]["count"], 5000, "{labels}");
    for event in ChatEvent::CRITICAL {
        assert_eq!(labels[event]["count"], 10_000, "{event}: {labels}");
    }
    for stage in ["reply", "first", "last"] {
        assert_eq!(labels[format!("chat_message.{stage}")]["count"], 10_000, "{labels}");
    }
    assert_eq!(labels["connect"]["count"], 5000, "one connection per session");
    let (completed, started) = (&labels["agent_completed"], &labels["agent_started"]);
    assert!(completed["p50"].as_u64() >= started["p50"].as_u64(), "{labels}");
    for quantile in ["p50", "p90", "p99", "p99_9", "max"] {
        assert!(completed[quantile].as_u64().is_some(), "{quantile}: {completed}");
    }

    // The same recording at its own pace in the closed model, printed for a person.
    let (code, stdout, stderr) = run_with_env(
        &[
            "bench",
            &app,
            "--scenario",
            scenario,
            "--connections",
            "4",
            "--rounds",
            "3",
            "--speed",
            "0",
            "--token",
            "alice-token",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("4 connections x 3 sessions of"), "{stdout}");
    assert!(stdout.contains("throughput  12 sessions in"), "{stdout}");
    assert!(stdout.contains("\n  agent_completed "), "{stdout}");
    std::fs::remove_file(&recording).ok();
}

#[test]
fn a_scenario_reply_that_never_comes_is_a_counted_error_not_a_hang() {
    // The recording says the echo is answered by `agent_started`; the embedded server answers it with an echo.
    let out = std::env::temp_dir().join(format!("ws-test-cli-silent-{}.jsonl", std::process::id()));
    let mut history = ws_test_runtime::History::new();
    history.record(
        ws_test_runtime::Direction::In,
        ws_test_runtime::FrameKind::Text(r#"{"type":"connection_established"}"#.into()),
    );
    history.record(
        ws_test_runtime::Direction::Out,
        ws_test_runtime::FrameKind::Text(r#"{"type":"echo","payload":1}"#.into()),
    );
    history.record(
        ws_test_runtime::Direction::In,
        ws_test_runtime::FrameKind::Text(r#"{"type":"agent_started"}"#.into()),
    );
    history.save(&out).expect("the recording is written");
    let (code, stdout, stderr) = run_with_env(
        &[
            "bench",
            "--scenario",
            out.to_str().expect("UTF-8"),
            "--connections",
            "2",
            "--rounds",
            "2",
            "--timeout",
            "300ms",
        ],
        &[],
    );
    std::fs::remove_file(&out).ok();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("errors      4 (100.00% of sessions: timeout 4)"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "timed out after 300ms waiting for agent_started (the recording's replies to echo (client frame 1 of 1); \
             0 of 1 arrived); 1 frame(s) arrived instead:\n    echo"
        ),
        "what came instead is named: {stderr}"
    );
}

#[test]
fn thresholds_exit_0_when_they_all_hold_and_1_when_one_fails() {
    let base = ["bench", "--connections", "4", "--rounds", "5"];
    let with = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        run_with_env(&args, &[])
    };
    let (code, stdout, stderr) = with(&[
        "--threshold",
        "p99<30s",
        "--threshold",
        "errors<0.1%",
        "--threshold",
        "agent_completed:p99<200ms",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("thresholds\n  p99<30s "), "{stdout}");
    // On a pipe, no progress line: nothing on stderr at all.
    assert_eq!(stderr, "");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("  errors<0.1% ") && line.ends_with(" 0.000%  ok")),
        "{stdout}"
    );

    let (code, stdout, stderr) = with(&["--threshold", "p99<30s", "--threshold", "agent_completed:p99<1us"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let failed = stdout
        .lines()
        .find(|line| line.contains("agent_completed:p99<1us"))
        .expect("the failed threshold is listed");
    assert!(
        failed.ends_with("FAILED") && failed.contains(" ms") || failed.contains(" µs"),
        "{failed}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("  p99<30s") && line.ends_with("ok")),
        "{stdout}"
    );

    let (code, stdout, _) = with(&["--threshold", "no_such_event:p99<1s", "--json"]);
    assert_eq!(code, 1);
    let figures: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(figures["passed"], false);
    assert_eq!(figures["thresholds"][0]["measured"], "no samples of \"no_such_event\"");

    // Usage errors and an unreachable server: 2.
    let (code, _, stderr) = with(&["--threshold", "p99 fast"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no comparison"), "{stderr}");
    for wrong in [
        &["--rate", "10", "--pipeline", "4"][..],
        &["--rate", "10", "--ramp", "0"],
        &["--ramp", "5s"],
        &["--shard", "3/2"],
        &["--speed", "2"],
    ] {
        let (code, _, stderr) = with(wrong);
        assert_eq!(code, 2, "{wrong:?}: {stderr}");
    }
    let (code, _, stderr) = run_with_env(
        &[
            "bench",
            "ws://127.0.0.1:1/ws",
            "--rate",
            "10",
            "--duration",
            "1s",
            "--timeout",
            "500ms",
        ],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot open the connections"), "{stderr}");
}

#[test]
fn two_shards_merged_report_the_same_counts_as_one_run_of_the_total() {
    let serve = Serve::start(&[]);
    let dir = std::env::temp_dir().join(format!("ws-test-cli-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let file = |name: &str| dir.join(name).to_str().expect("UTF-8").to_owned();
    for (model, args) in [
        ("closed", vec!["--connections", "7", "--rounds", "3"]),
        ("open", vec!["--rate", "100", "--duration", "1s"]),
    ] {
        let run = |shard: &str, out: &str| {
            let mut all = vec!["bench", &serve.url, "--shard", shard, "--hdr-out", out, "--json"];
            all.extend(&args);
            let (code, stdout, stderr) = run_with_env(&all, &[]);
            assert_eq!(code, 0, "{model} {shard}: {stdout}{stderr}");
            serde_json::from_str::<serde_json::Value>(&stdout).expect("JSON")
        };
        let whole = run("1/1", &file("whole.hdr"));
        let first = run("1/2", &file("a.hdr"));
        let second = run("2/2", &file("b.hdr"));
        assert!(first["iterations"].as_u64() > Some(0) && second["iterations"].as_u64() > Some(0));
        let (code, stdout, stderr) = run_with_env(
            &[
                "bench",
                "merge",
                &file("a.hdr"),
                &file("b.hdr"),
                "--json",
                "--threshold",
                "errors<1%",
            ],
            &[],
        );
        assert_eq!(code, 0, "{stdout}{stderr}");
        let merged: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(merged["runs"], 2);
        for figure in ["iterations", "errors", "frames_sent", "frames_received"] {
            assert_eq!(merged[figure], whole[figure], "{model} {figure}: {merged} vs {whole}");
        }
        let labels = whole["latency_by_label_us"].as_object().expect("labels");
        for (label, stats) in labels {
            if label == "connect" && model == "open" {
                // Each shard opens the connections it needs: not a count of the load.
                continue;
            }
            assert_eq!(
                merged["latency_by_label_us"][label]["count"], stats["count"],
                "{model} {label}"
            );
        }
        assert_eq!(merged["passed"], true);
        // The merged run fails a threshold that the whole would fail.
        let (code, stdout, _) = run_with_env(
            &[
                "bench",
                "merge",
                &file("a.hdr"),
                &file("b.hdr"),
                "--threshold",
                "agent_completed:p99<1us",
            ],
            &[],
        );
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.starts_with("merged 2 run(s) from 2 file(s)"), "{stdout}");
    }
    // A file that is not a histogram log: exit 2, naming it.
    let (code, _, stderr) = run_with_env(&["bench", "merge", "Cargo.toml"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Cargo.toml") && stderr.contains("#ws-test"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
    drop(serve);
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

/// On a terminal (a pseudo-terminal from util-linux's `script`), `bench` keeps a live line of what it has done so
/// far; on a pipe it writes nothing to stderr (see the thresholds test).
#[cfg(target_os = "linux")]
#[test]
fn bench_shows_a_live_progress_line_on_a_terminal() {
    let binary = assert_cmd::cargo::cargo_bin("ws-test");
    let command = format!("{} bench --rate 100 --duration 2s", binary.display());
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("util-linux's script runs");
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "\n");
    assert!(output.status.success(), "{text}");
    let progress: Vec<&str> = text.lines().filter(|line| line.contains(" done, ")).collect();
    assert!(
        progress.len() >= 2
            && progress
                .iter()
                .all(|line| line.contains("/s, p99 ") && line.contains("errors 0")),
        "{text}"
    );
    assert!(
        text.contains("throughput  200 rounds in"),
        "the report follows the line: {text}"
    );
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

#[test]
fn options_that_would_go_silent_are_refused() {
    let contract = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml");
    // A contract has no concurrency check; a recording or a contract has no chat runs to delay.
    for args in [
        vec!["check", "--asyncapi", contract, "--concurrency", "3"],
        vec!["serve", "--asyncapi", contract, "--event-delay", "5ms"],
        vec!["serve", "--replay", contract, "--event-delay", "5ms"],
    ] {
        let (code, _, stderr) = run_with_env(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be used with"), "{args:?}: {stderr}");
    }
}

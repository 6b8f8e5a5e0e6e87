//! The `ws-test` command, run as a process.

mod bench;
mod check;
mod conform;
mod har;
mod record;
mod serve;
mod tls;

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

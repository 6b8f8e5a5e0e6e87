//! `ws-test bench`: closed and open loads, recorded scenarios, thresholds, shards.

use super::*;

#[test]
fn bench_prints_throughput_and_percentiles() {
    let (code, stdout, stderr) = run_with_env(
        &["bench", "--connections", "20", "--rounds", "5", "--workload", "chat"],
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
            "--workload",
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
fn churn_drops_every_session_and_reports_when_they_are_back() {
    let (code, stdout, stderr) = run_with_env(&["bench", "--churn", "all", "--connections", "20", "--json"], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let figures: serde_json::Value = serde_json::from_str(&stdout).expect("the figures are JSON");
    assert_eq!(
        (figures["dropped"].as_u64(), figures["back"].as_u64()),
        (Some(20), Some(20)),
        "{figures}"
    );
    assert!(figures["all_back_ms"].as_f64().is_some(), "{figures}");

    let (code, stdout, stderr) = run_with_env(
        &["bench", "--churn", "50", "--duration", "300ms", "--connections", "3"],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("3 sessions, 50 per second closed and reopened"),
        "{stdout}"
    );
    assert!(stdout.contains("reconnect   p50"), "{stdout}");

    let (code, _, stderr) = run_with_env(&["bench", "--duration", "1s"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--duration is how long the open model"), "{stderr}");
    let (code, _, stderr) = run_with_env(&["bench", "--churn", "fast"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("neither `all`"), "{stderr}");
}

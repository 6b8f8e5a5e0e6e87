//! `ws-test conform`: Autobahn's cases against a server, and `--serve` for clients.

use std::path::Path;

use serde_json::Value;
use ws_test_runtime::Message;
use ws_test_runtime::prelude::*;

use super::{Serve, run_with_env, runtime};

fn conform(args: &[&str]) -> (i32, String, String) {
    run_with_env(&[&["conform"], args].concat(), &[])
}

fn echo_server(extra: &[&str]) -> Serve {
    Serve::start(&[&["--echo"], extra].concat())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn conform_grades_an_echo_server_and_writes_autobahns_reports() {
    let server = echo_server(&[]);
    let dir = std::env::temp_dir().join(format!("ws-test-conform-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, stdout, stderr) = conform(&[
        &server.url,
        "--agent",
        "ws-test serve",
        "--cases",
        "1.1.*,2.*,7.7.*",
        "--exclude-cases",
        "2.11",
        "--report-dir",
        dir.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ws-test serve (31 cases") && stdout.contains("no case failed"),
        "{stdout}"
    );
    let index = read_json(&dir.join("index.json"));
    let cases = index["ws-test serve"].as_object().unwrap_or_else(|| panic!("{index}"));
    assert_eq!(cases.len(), 8 + 10 + 13, "{index}");
    assert_eq!(cases["2.10"]["behavior"], "OK");
    assert_eq!(
        cases["7.7.13"]["remoteCloseCode"], 4999,
        "the echoed close code is allowed: {index}"
    );
    let file = cases["1.1.1"]["reportfile"].as_str().unwrap_or_default();
    assert_eq!(file, "ws_test_serve_case_1_1_1.json");
    let detail = read_json(&dir.join(file));
    assert_eq!(detail["description"], "Send text message with payload 0.");
    assert_eq!(detail["received"], serde_json::json!([["message", "", false]]));
    assert!(
        detail["wirelog"].as_array().is_some_and(|log| !log.is_empty()),
        "{detail}"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap_or_default();
    assert!(
        html.contains("<a href=\"ws_test_serve_case_7_7_1.json\">Case 7.7.1</a>"),
        "{html:.3000}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn conform_prints_the_index_as_json_and_compares_with_an_expected_file() {
    let server = echo_server(&[]);
    let (code, stdout, stderr) = conform(&[&server.url, "--cases", "2.*", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let index: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
    let agent = index
        .as_object()
        .and_then(|agents| agents.keys().next().cloned())
        .unwrap_or_default();
    assert_eq!(
        agent, "UnknownServer",
        "no --agent and no Server header: Autobahn's name for it"
    );
    let dir = std::env::temp_dir().join(format!("ws-test-conform-expected-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let same = dir.join("same.json");
    std::fs::write(&same, &stdout).unwrap_or_default();
    let (code, _, stderr) = conform(&[
        &server.url,
        "--cases",
        "2.*",
        "--expected",
        same.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("every verdict equals"), "{stderr}");
    // An expected file that disagrees on one case and holds one the run does not play.
    let mut changed = index.clone();
    changed[&agent]["2.3"]["behavior"] = "FAILED".into();
    changed[&agent]["1.1.1"] = changed[&agent]["2.1"].clone();
    let other = dir.join("other.json");
    std::fs::write(&other, changed.to_string()).unwrap_or_default();
    let (code, _, stderr) = conform(&[
        &server.url,
        "--cases",
        "2.*",
        "--expected",
        other.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("2 verdicts differ"), "{stderr}");
    assert!(
        stderr.contains("2.3      behavior: expected FAILED, got OK"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1.1.1    case: expected played, got not played"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_that_breaks_the_rules_fails_with_exit_1_and_the_summary_names_the_cases() {
    let server = echo_server(&["--fault", "invalid-utf8"]);
    let (code, stdout, stderr) = conform(&[&server.url, "--cases", "1.1.1,2.1"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 failing cases:") && stdout.contains("1.1.1    FAILED"),
        "{stdout}"
    );
}

#[test]
fn conform_exits_2_on_usage_errors_and_an_unreachable_server() {
    let (code, _, stderr) = conform(&["ws://127.0.0.1:9/", "--cases", "1.1.1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot grade ws://127.0.0.1:9/"), "{stderr}");
    let (code, _, stderr) = conform(&["ws://127.0.0.1:9/", "--cases", "14.1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no case \"14.1\""), "{stderr}");
    let (code, _, stderr) = conform(&["http://127.0.0.1:9/"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = conform(&[]);
    assert_eq!(code, 2, "a URL or --serve: {stderr}");
    let (code, _, stderr) = conform(&["ws://127.0.0.1:9/", "--expected", "/no/such/file.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/no/such/file.json"), "{stderr}");
}

/// An Autobahn client harness with ws-test's own client: the case count, each case echoed until the server
/// closes, then the reports.
async fn ws_test_client_harness(base: &str, agent: &str) {
    let mut counter = WsClient::connect(&format!("{base}/getCaseCount"))
        .await
        .expect("getCaseCount");
    let count: usize = counter
        .recv()
        .await
        .expect("the count")
        .as_text()
        .unwrap_or_default()
        .parse()
        .expect("a number");
    drop(counter);
    for case in 1..=count {
        let mut client = WsClient::connect(&format!("{base}/runCase?case={case}&agent={agent}"))
            .await
            .expect("runCase");
        while let Ok(message) = client.recv().await {
            let sent = match message {
                Message::Text(text) => client.send_text(text).await,
                Message::Binary(bytes) => client.send_binary(bytes).await,
            };
            if sent.is_err() {
                break;
            }
        }
    }
    let updated = WsClient::connect(&format!("{base}/updateReports?agent={agent}"))
        .await
        .expect("updateReports");
    drop(updated);
}

#[test]
fn conform_serve_grades_a_client_harness_and_ends_on_its_update_reports() {
    let dir = std::env::temp_dir().join(format!("ws-test-conform-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut serve = Serve::command(
        "conform",
        &[
            "--serve",
            "--bind",
            "127.0.0.1:0",
            "--cases",
            "1.1.*,5.*",
            "--report-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    assert!(serve.url.starts_with("ws://127.0.0.1:"), "{}", serve.url);
    runtime().block_on(ws_test_client_harness(&serve.url, "ws-test-client"));
    let (status, output) = serve.output();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("ws-test-client (28 cases") && output.contains("no case failed"),
        "{output}"
    );
    let index = read_json(&dir.join("index.json"));
    assert_eq!(index["ws-test-client"]["5.19"]["behavior"], "OK", "{index}");
    let _ = std::fs::remove_dir_all(&dir);
}

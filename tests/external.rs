//! External mode: the same `#[ws_test]` tests against a live server, by running this test binary again as a
//! child with `WS_TEST_URL` (or the test's own variable) set, the way CI would point them at staging.

use std::process::Command;

use ws_test_runtime::prelude::*;

/// Runs one ignored test of this binary in a child process with `variable=url`; returns (success, output).
/// Timeouts in the child are scaled down: a child that must fail fails in half a second, not five.
fn run_child(test: &str, variable: &str, url: &str) -> (bool, String) {
    run_child_with(test, &[(variable, url)])
}

/// [`run_child`] with these variables set (and no `SSL_CERT_FILE` but one given here).
fn run_child_with(test: &str, variables: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let output = Command::new(exe)
        .args(["--exact", test, "--ignored", "--nocapture", "--test-threads=1"])
        .env_remove("SSL_CERT_FILE")
        .envs(variables.iter().copied())
        .env("WS_TEST_TIMEOUT_SCALE", "0.1")
        .env_remove("NEXTEST_ATTEMPT")
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// `attribute::live_smoke` against the wss:// `url` in a child, without and then with `SSL_CERT_FILE=path`.
async fn smoke_without_and_with_ssl_cert_file(url: String, path: String) -> ((bool, String), (bool, String)) {
    tokio::task::spawn_blocking(move || {
        (
            run_child_with("attribute::live_smoke", &[("WS_TEST_URL", &url)]),
            run_child_with(
                "attribute::live_smoke",
                &[("WS_TEST_URL", &url), ("SSL_CERT_FILE", &path)],
            ),
        )
    })
    .await
    .expect("the children ran")
}

async fn live_server(agent: ChatAgent) -> EmbeddedServer {
    EmbeddedServer::builder()
        .handler(agent)
        .start()
        .await
        .expect("the live server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_test_url_points_the_tests_at_a_live_server() {
    let server = live_server(ChatAgent::new()).await;
    let url = server.url();
    let (passed, output) = tokio::task::spawn_blocking(move || run_child("attribute::live_smoke", "WS_TEST_URL", &url))
        .await
        .unwrap();
    assert!(passed, "{output}");
    assert!(output.contains("test attribute::live_smoke ... ok"), "{output}");
    assert_eq!(
        server.metrics().connections_total,
        1,
        "the child connected to this server, not its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_that_breaks_the_protocol_fails_with_the_report() {
    let server = live_server(ChatAgent::new().fault("drop:agent_thinking".parse().unwrap())).await;
    let url = server.url();
    let (passed, output) = tokio::task::spawn_blocking(move || run_child("attribute::live_smoke", "WS_TEST_URL", &url))
        .await
        .unwrap();
    assert!(!passed, "{output}");
    assert!(
        output.contains("the declared events did not arrive as declared"),
        "{output}"
    );
    assert!(
        output.contains("<-- first divergence: expected agent_thinking"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_env_reads_the_tests_own_variable() {
    let server = live_server(ChatAgent::new()).await;
    let url = server.url();
    let (passed, output) = tokio::task::spawn_blocking(move || {
        run_child("attribute::url_from_env", "WS_TEST_ATTRIBUTE_FIXTURE_URL", &url)
    })
    .await
    .unwrap();
    assert!(passed, "{output}");
    assert_eq!(server.metrics().connections_total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_test_url_reaches_a_wss_server_trusted_through_ssl_cert_file() {
    let server = EmbeddedServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("the TLS server starts");
    let url = server.url();
    assert!(url.starts_with("wss://"), "{url}");
    let certificate = std::env::temp_dir().join(format!(
        "ws-test-external-{}.pem",
        server.local_addr().expect("a TCP server").port()
    ));
    std::fs::write(&certificate, server.certificate_pem().unwrap_or_default()).expect("the certificate is written");
    let path = certificate.to_string_lossy().into_owned();
    let (untrusted, trusted) = smoke_without_and_with_ssl_cert_file(url, path).await;
    let _ = std::fs::remove_file(&certificate);
    let (passed, output) = untrusted;
    assert!(!passed, "{output}");
    assert!(output.contains("TLS with 127.0.0.1 failed"), "{output}");
    assert!(output.contains("UnknownIssuer"), "{output}");
    let (passed, output) = trusted;
    assert!(passed, "{output}");
    assert!(output.contains("test attribute::live_smoke ... ok"), "{output}");
    assert_eq!(
        server.metrics().connections_total,
        1,
        "only the child that trusted the certificate connected"
    );
}

/// The same with the certificate people make: `openssl req -x509 ...` (`CA:TRUE`), pinned through
/// `SSL_CERT_FILE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_test_url_reaches_a_server_with_an_openssl_certificate_through_ssl_cert_file() {
    let made = crate::support::openssl_certificate("localhost", "IP:127.0.0.1,DNS:localhost");
    let server = EmbeddedServer::builder()
        .tls(&made.cert_pem, &made.key_pem)
        .start()
        .await
        .expect("the TLS server starts");
    let url = server.url();
    let path = made.cert_path.to_string_lossy().into_owned();
    let (untrusted, trusted) = smoke_without_and_with_ssl_cert_file(url, path).await;
    let (passed, output) = untrusted;
    assert!(!passed, "{output}");
    assert!(output.contains("CaUsedAsEndEntity"), "{output}");
    assert!(output.contains("`openssl req -x509` sets by default"), "{output}");
    let (passed, output) = trusted;
    assert!(passed, "{output}");
    assert!(output.contains("test attribute::live_smoke ... ok"), "{output}");
}

/// `WS_TEST_URL` replaces what a test configured of its own server with one line saying so, and leaves a replay
/// (the test's own mock) local.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_test_url_says_what_it_replaces_and_leaves_a_replay_local() {
    let server = live_server(ChatAgent::new()).await;
    let url = server.url();
    let (passed, output) = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || run_child("attribute::live_with_its_own_server", "WS_TEST_URL", &url))
            .await
            .unwrap()
    };
    assert!(passed, "{output}");
    assert!(
        output.contains(&format!(
            "the live server {url} (WS_TEST_URL) replaces this test's handler, path"
        )),
        "{output}"
    );
    assert_eq!(server.metrics().connections_total, 1, "it ran against the live server");

    let (passed, output) =
        tokio::task::spawn_blocking(move || run_child("attribute::replay_stays_local", "WS_TEST_URL", &url))
            .await
            .unwrap();
    assert!(passed, "{output}");
    assert!(!output.contains("(WS_TEST_URL) replaces"), "{output}");
    assert_eq!(
        server.metrics().connections_total,
        1,
        "the replay did not connect to the live server"
    );
}

//! TLS on the command line: `serve --tls-self-signed`, `--ca-cert`, `SSL_CERT_FILE`, certificates made with openssl.

use super::*;

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

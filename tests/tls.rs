//! `wss://` over real sockets: the embedded server with a self-signed certificate or a private CA's, clients that
//! trust it (or refuse it, saying why), the suite, the recorder, a hosted app, the in-memory transport and
//! `#[ws_test]` over TLS.

use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::routing::get;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use ws_test_runtime::prelude::*;
use ws_test_runtime::suite::Suite;
use ws_test_runtime::{Error, Recorder, ServerBuilder, Transport, ws_test};

use crate::support::{connect_welcomed, openssl_certificate};

/// A private CA (as a company's staging uses) and a server certificate it signed.
struct PrivateCa {
    /// The CA's certificate: what clients trust.
    ca_pem: String,
    /// The server's chain: its certificate, then the CA's.
    chain_pem: String,
    /// The server's private key.
    key_pem: String,
}

fn private_ca(names: &[&str]) -> PrivateCa {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ws-test private CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA signs itself");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("a server key");
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let cert = CertificateParams::new(names)
        .expect("server parameters")
        .signed_by(&key, &issuer)
        .expect("the CA signs the server's certificate");
    PrivateCa {
        ca_pem: ca_cert.pem(),
        chain_pem: format!("{}{}", cert.pem(), ca_cert.pem()),
        key_pem: key.serialize_pem(),
    }
}

async fn self_signed() -> EmbeddedServer {
    EmbeddedServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("a TLS server starts")
}

/// One chat round: the five critical events in order.
async fn chat_round(client: &mut WsClient) -> Result<(), Error> {
    client.watch_from_now();
    client
        .send_json(&json!({"type": "chat_message", "content": "over TLS"}))
        .await?;
    client
        .expect(&Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_self_signed_server_speaks_wss_and_trusting_its_certificate_is_enough() -> TestResult {
    let server = self_signed().await;
    assert!(server.url().starts_with("wss://127.0.0.1:"), "{}", server.url());
    assert!(server.http_url().starts_with("https://127.0.0.1:"));
    assert!(server.is_tls());
    let pem = server.certificate_pem().expect("a TLS server has a certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    // Trusting exactly this certificate, by hand.
    let mut client = WsClient::builder(server.url()).root_certificate(pem).connect().await?;
    client.expect_type("connection_established").await?;
    chat_round(&mut client).await?;

    // `server.connect()` trusts it already; so does a client of `localhost` (SNI and Host follow the URL).
    let (mut own, _) = connect_welcomed(&server).await?;
    chat_round(&mut own).await?;
    let by_name = server.url().replace("127.0.0.1", "localhost");
    let mut named = WsClient::builder(&by_name).root_certificate(pem).connect().await?;
    named.expect_type("connection_established").await?;
    assert_eq!(server.metrics().connections_total, 3);
    Ok(())
}

#[tokio::test]
async fn an_untrusted_certificate_is_an_error_naming_the_host_and_the_reason_never_a_downgrade() -> TestResult {
    let server = self_signed().await;
    let error = WsClient::connect(server.url())
        .await
        .expect_err("a certificate nobody vouches for is refused");
    let Error::Tls { url, host, reason } = &error else {
        panic!("expected Error::Tls, got {error:?}");
    };
    assert_eq!(url, &server.url());
    assert_eq!(host, "127.0.0.1");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    assert!(
        reason.contains("ClientBuilder::root_certificate") && reason.contains("SSL_CERT_FILE"),
        "{reason}"
    );
    assert!(
        error.to_string().starts_with("TLS with 127.0.0.1 failed for wss://"),
        "{error}"
    );
    // No WebSocket connection was opened, in TLS or in plain text.
    assert_eq!(server.metrics().connections_total, 0);
    Ok(())
}

#[tokio::test]
async fn a_private_cas_chain_is_served_and_its_ca_trusted_through_root_certificate() -> TestResult {
    let ca = private_ca(&["localhost", "127.0.0.1"]);
    let server = EmbeddedServer::builder()
        .tls(&ca.chain_pem, &ca.key_pem)
        .start()
        .await?;
    assert_eq!(server.certificate_pem(), Some(ca.chain_pem.as_str()));
    // The CA as a `&String`, and as bytes: whatever the test holds.
    let mut client = WsClient::builder(server.url())
        .root_certificate(&ca.ca_pem)
        .connect()
        .await?;
    client.expect_type("connection_established").await?;
    chat_round(&mut client).await?;
    let mut by_name = WsClient::builder(server.url().replace("127.0.0.1", "localhost"))
        .root_certificate(ca.ca_pem.as_bytes())
        .connect()
        .await?;
    by_name.expect_type("connection_established").await?;
    // Without the CA the same server is refused.
    let error = WsClient::connect(server.url())
        .await
        .expect_err("the CA is not trusted");
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    Ok(())
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_naming_the_host() -> TestResult {
    let ca = private_ca(&["staging.example.test"]);
    let server = EmbeddedServer::builder()
        .tls(ca.chain_pem.as_bytes(), ca.key_pem.as_bytes())
        .start()
        .await?;
    let error = WsClient::builder(server.url())
        .root_certificate(&ca.ca_pem)
        .connect()
        .await
        .expect_err("the certificate is for another name");
    let Error::Tls { host, reason, .. } = &error else {
        panic!("expected Error::Tls, got {error:?}");
    };
    assert_eq!(host, "127.0.0.1");
    assert!(reason.contains("not valid for the host in the URL"), "{reason}");
    Ok(())
}

#[tokio::test]
async fn wss_to_a_plain_server_and_ws_to_a_tls_server_each_say_what_is_wrong() -> TestResult {
    let plain = EmbeddedServer::start().await?;
    let error = WsClient::connect(plain.url().replace("ws://", "wss://"))
        .await
        .expect_err("a plain server does not speak TLS");
    let Error::Tls { reason, .. } = &error else {
        panic!("expected Error::Tls, got {error:?}");
    };
    assert!(reason.contains("is it a plain ws:// server?"), "{reason}");

    let secure = self_signed().await;
    let error = WsClient::connect(secure.url().replace("wss://", "ws://"))
        .await
        .expect_err("a TLS server does not speak plain text");
    let Error::Rejected { status, body, .. } = &error else {
        panic!("expected Error::Rejected, got {error:?}");
    };
    assert_eq!(*status, 400);
    assert!(body.contains("connect with wss://"), "{body}");
    Ok(())
}

#[tokio::test]
async fn pem_that_is_not_a_certificate_or_key_is_a_clear_error() -> TestResult {
    let error = EmbeddedServer::builder()
        .tls("not a certificate", "not a key")
        .start()
        .await
        .expect_err("no certificate");
    assert!(
        matches!(&error, Error::Config(why) if why.contains("the certificate given to ServerBuilder::tls holds no certificate")),
        "{error}"
    );
    let one = private_ca(&["localhost"]);
    let other = private_ca(&["localhost"]);
    let error = EmbeddedServer::builder()
        .tls(&one.chain_pem, &other.key_pem)
        .start()
        .await
        .expect_err("the key is another certificate's");
    assert!(
        matches!(&error, Error::Config(why) if why.contains("certificate and key cannot be used together")),
        "{error}"
    );
    let server = self_signed().await;
    let error = WsClient::builder(server.url())
        .root_certificate("garbage")
        .connect()
        .await
        .expect_err("no certificate to trust");
    assert!(
        matches!(&error, Error::Config(why) if why.contains("a root certificate given to the client holds no certificate")),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn the_suite_passes_a_tls_server_it_trusts_and_cannot_reach_one_it_does_not() -> TestResult {
    let server = self_signed().await;
    let pem = server.certificate_pem().unwrap_or_default();
    let report = Suite::new(server.url()).root_certificate(pem).run().await?;
    assert!(report.all_passed(), "{report}");
    assert_eq!(report.check("health").map(|check| check.passed), Some(true));
    let error = Suite::new(server.url()).run().await.expect_err("untrusted");
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    Ok(())
}

/// The one-liner: `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj
/// /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost`, served by ws-test's own server.
async fn openssl_server() -> (EmbeddedServer, String) {
    let made = openssl_certificate("localhost", "IP:127.0.0.1,DNS:localhost");
    assert!(
        openssl_text(&made.cert_path).contains("CA:TRUE"),
        "OpenSSL marks its req -x509 certificates as CAs; this test is about that"
    );
    let server = EmbeddedServer::builder()
        .tls(&made.cert_pem, &made.key_pem)
        .start()
        .await
        .expect("the server starts with openssl's certificate");
    (server, made.cert_pem)
}

fn openssl_text(path: &std::path::Path) -> String {
    let output = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(path)
        .output()
        .expect("openssl x509 runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn an_openssl_made_ca_true_certificate_given_to_the_client_is_trusted_as_the_servers_own() -> TestResult {
    let (server, cert) = openssl_server().await;
    // By IP and by name, as the certificate names both; `&String`, `&str` and bytes alike.
    let mut client = WsClient::builder(server.url())
        .root_certificate(&cert)
        .connect()
        .await?;
    client.expect_type("connection_established").await?;
    chat_round(&mut client).await?;
    let by_name = format!("wss://localhost:{}/ws", server.local_addr()?.port());
    let mut client = WsClient::builder(&by_name)
        .root_certificate(cert.as_bytes())
        .connect()
        .await?;
    client.expect_type("connection_established").await?;
    chat_round(&mut client).await?;
    let report = Suite::new(server.url()).root_certificate(cert.as_str()).run().await?;
    assert!(report.all_passed(), "{report}");

    // Not given: refused, saying what is wrong with the certificate and what to do.
    let error = WsClient::connect(server.url()).await.expect_err("not trusted");
    let text = error.to_string();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(text.contains("invalid peer certificate: CaUsedAsEndEntity"), "{text}");
    assert!(
        text.contains("the server presents a CA certificate (basicConstraints CA:TRUE, which `openssl req -x509` sets"),
        "{text}"
    );
    assert!(text.contains("ClientBuilder::root_certificate(pem)"), "{text}");
    assert!(!text.contains("--ca-cert"), "the library names no CLI flag: {text}");
    assert!(
        !text.contains("OtherError"),
        "webpki's reason is named, not rustls's wrapper: {text}"
    );
    let error = Suite::new(server.url()).run().await.expect_err("untrusted");
    assert!(error.to_string().contains("CaUsedAsEndEntity"), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_pinned_certificate_must_still_name_the_host_in_the_url() -> TestResult {
    let made = openssl_certificate("other.example", "DNS:other.example");
    let server = EmbeddedServer::builder()
        .tls(&made.cert_pem, &made.key_pem)
        .start()
        .await?;
    let error = WsClient::builder(server.url())
        .root_certificate(&made.cert_pem)
        .connect()
        .await
        .expect_err("the certificate does not name 127.0.0.1");
    let text = error.to_string();
    assert!(text.contains("its certificate is not valid for"), "{text}");
    assert!(
        text.contains("other.example"),
        "the sentence names what the certificate is for: {text}"
    );
    assert_eq!(server.metrics().connections_total, 0, "nothing got past TLS");
    Ok(())
}

#[tokio::test]
async fn the_recorder_relays_to_a_wss_upstream_with_an_openssl_certificate() -> TestResult {
    let (upstream, cert) = openssl_server().await;
    let sessions = relay_one_chat(&upstream, &cert).await?;
    assert!(sessions[0].received_events().contains(&"agent_completed".to_owned()));
    Ok(())
}

fn echo_app() -> Router {
    Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket: WebSocket| async move {
                while let Some(Ok(message)) = socket.recv().await {
                    if socket.send(message).await.is_err() {
                        return;
                    }
                }
            })
        }),
    )
}

#[tokio::test]
async fn a_hosted_app_and_the_in_memory_transport_serve_tls_too() -> TestResult {
    let app = EmbeddedServer::builder()
        .app(echo_app())
        .tls_self_signed()
        .start()
        .await?;
    let mut client = app.connect().await?;
    client.send_text("through TLS").await?;
    assert_eq!(client.recv().await?.as_text(), Some("through TLS"));

    let memory = EmbeddedServer::builder()
        .transport(Transport::Memory)
        .tls_self_signed()
        .start()
        .await?;
    assert!(memory.url().starts_with("wss://memory-"), "{}", memory.url());
    let (mut client, _) = connect_welcomed(&memory).await?;
    chat_round(&mut client).await?;
    Ok(())
}

#[tokio::test]
async fn the_recorder_relays_to_a_wss_upstream_it_trusts() -> TestResult {
    let upstream = self_signed().await;
    let sessions = relay_one_chat(&upstream, upstream.certificate_pem().unwrap_or_default()).await?;
    assert!(sessions[0].url().is_some_and(|url| url.starts_with("wss://127.0.0.1:")));
    let received = sessions[0].received_events();
    assert_eq!(
        received[..6],
        [
            "connection_established",
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ],
        "{received:?}"
    );
    Ok(())
}

/// A recorder relaying to the wss:// `upstream` it trusts through `certificate`, one chat round through it; the
/// sessions it recorded.
async fn relay_one_chat(upstream: &EmbeddedServer, certificate: &str) -> Result<Vec<ws_test_runtime::History>, Error> {
    let mut recorder = Recorder::builder(upstream.url())
        .root_certificate(certificate)
        .start()
        .await?;
    let mut client = WsClient::connect(recorder.url()).await?;
    client.expect_type("connection_established").await?;
    chat_round(&mut client).await?;
    client.close(1000, "done").await?;
    recorder.wait_for_sessions(1, std::time::Duration::from_secs(5)).await?;
    let sessions = recorder.sessions();
    recorder.shutdown().await?;
    Ok(sessions)
}

fn tls_server() -> ServerBuilder {
    EmbeddedServer::builder().tls_self_signed()
}

#[ws_test(server = tls_server, events = ChatEvent::CRITICAL, order = "strict", per = "run_id")]
async fn a_ws_test_runs_over_tls_with_its_client_trusting_the_server(client: &mut WsClient) -> TestResult {
    assert!(client.url().starts_with("wss://"), "{}", client.url());
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    Ok(())
}

//! The Autobahn cases of `ws_test_runtime::conform` against third-party peers, graded the way their authors
//! grade them with Autobahn's Docker image: a plain tungstenite 0.29 echo server (tungstenite's own
//! `examples/autobahn-server.rs`) must get exactly the verdicts of tungstenite's published
//! `autobahn/expected-results.json`.

use std::net::{TcpListener, TcpStream};
use std::thread;

use tungstenite029 as tungstenite;
use ws_test_runtime::conform::{Expected, Suite};

const TUNGSTENITE_EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/autobahn/tungstenite-0.29-expected-results.json"
);

/// tungstenite's `examples/autobahn-server.rs`: a thread per connection, echoing text and binary messages.
fn tungstenite_echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || echo(stream));
        }
    });
    format!("ws://{addr}")
}

fn echo(stream: TcpStream) {
    let Ok(mut socket) = tungstenite::accept(stream) else {
        return;
    };
    loop {
        match socket.read() {
            Ok(message @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                if socket.send(message).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tungstenite_echo_server_gets_tungstenites_published_verdicts_on_all_517_cases() {
    let url = tungstenite_echo_server();
    let report = Suite::new()
        .agent("Tungstenite")
        .progress()
        .grade_server(&url)
        .await
        .expect("graded");
    assert_eq!(report.results().len(), 517);
    eprintln!("{}", report.summary());
    let expected = Expected::from_file(TUNGSTENITE_EXPECTED, None).expect("expected results");
    assert_eq!(expected.len(), 517);
    report.assert_matches(TUNGSTENITE_EXPECTED);
}

/// The rule a deliberately broken echo server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Echoes every message with RSV1 set, though no extension was agreed.
    RsvOnEcho,
    /// Echoes text without checking that it is UTF-8.
    EchoesInvalidUtf8,
    /// Never answers a ping.
    NoPong,
    /// Answers a close with the close's own code, whatever it is.
    EchoesCloseCode,
    /// Drops the connection when a ping arrives between the fragments of a message.
    FailsOnPingBetweenFragments,
}

fn close_frame(code: u16) -> Vec<u8> {
    let mut frame = vec![0x88, 2];
    frame.extend_from_slice(&code.to_be_bytes());
    frame
}

fn frame(opcode: u8, rsv: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | (rsv << 4) | opcode];
    match payload.len() {
        len @ 0..=125 => frame.push(len as u8),
        len @ 126..=65535 => {
            frame.push(126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

/// A hand-written echo server that follows RFC 6455 except for the one rule of its `fault`.
fn broken_echo_server(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || {
                let _ = serve_broken(stream, fault);
            });
        }
    });
    format!("ws://{addr}")
}

fn serve_broken(mut stream: TcpStream, fault: Fault) -> std::io::Result<()> {
    use std::io::{Read, Write};
    stream.set_nodelay(true)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let key = head
        .lines()
        .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    let mut message: Option<(u8, Vec<u8>)> = None;
    loop {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header)?;
        let (fin, rsv, opcode) = (header[0] & 0x80 != 0, (header[0] >> 4) & 7, header[0] & 0x0f);
        let mut len = u64::from(header[1] & 0x7f);
        if len == 126 {
            let mut extended = [0u8; 2];
            stream.read_exact(&mut extended)?;
            len = u64::from(u16::from_be_bytes(extended));
        } else if len == 127 {
            let mut extended = [0u8; 8];
            stream.read_exact(&mut extended)?;
            len = u64::from_be_bytes(extended);
        }
        let mut mask = [0u8; 4];
        stream.read_exact(&mut mask)?;
        let mut payload = vec![0u8; len as usize];
        stream.read_exact(&mut payload)?;
        for (index, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[index % 4];
        }
        let protocol_error = rsv != 0
            || matches!(opcode, 3..=7 | 11..=15)
            || (opcode >= 8 && (!fin || len > 125))
            || (opcode == 0 && message.is_none())
            || (matches!(opcode, 1 | 2) && message.is_some());
        if protocol_error {
            stream.write_all(&close_frame(1002))?;
            return Ok(());
        }
        match opcode {
            8 => {
                let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                let valid = code.is_none_or(|code| matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999))
                    && payload.len() != 1
                    && std::str::from_utf8(payload.get(2..).unwrap_or_default()).is_ok();
                let answer = match (fault, code) {
                    (Fault::EchoesCloseCode, Some(code)) => close_frame(code),
                    _ if valid => close_frame(1000),
                    _ => close_frame(1002),
                };
                stream.write_all(&answer)?;
                return Ok(());
            }
            9 => {
                if fault == Fault::FailsOnPingBetweenFragments && message.is_some() {
                    return Ok(());
                }
                if fault != Fault::NoPong {
                    stream.write_all(&frame(10, 0, &payload))?;
                }
            }
            10 => {}
            _ => {
                let (kind, mut data) = message.take().unwrap_or((opcode, Vec::new()));
                data.extend_from_slice(&payload);
                if !fin {
                    message = Some((kind, data));
                    continue;
                }
                if kind == 1 && fault != Fault::EchoesInvalidUtf8 && std::str::from_utf8(&data).is_err() {
                    stream.write_all(&close_frame(1007))?;
                    return Ok(());
                }
                let rsv = if fault == Fault::RsvOnEcho { 4 } else { 0 };
                stream.write_all(&frame(kind, rsv, &data))?;
            }
        }
    }
}

/// Grades `fault`'s server on `cases`: without the fault every one passes, with it every one fails, and each
/// failed case's report names what went wrong.
async fn breaks(fault: Fault, cases: &[&str], why: &str) {
    let suite = Suite::new().cases(cases);
    let honest = suite
        .grade_server(&broken_echo_server(Fault::None))
        .await
        .expect("graded");
    assert!(
        honest.passed(),
        "the honest server must pass {cases:?}:\n{}",
        honest.summary()
    );
    let broken = suite.grade_server(&broken_echo_server(fault)).await.expect("graded");
    let failed: Vec<&str> = broken.failures().map(|result| result.id.as_str()).collect();
    assert_eq!(
        failed.len(),
        broken.results().len(),
        "{fault:?}: every case fails:\n{}",
        broken.summary()
    );
    for result in broken.failures() {
        let detail = result.detail().to_string();
        assert!(
            detail.contains(why),
            "{fault:?}, case {}: the report says why ({why}): {detail:.2000}",
            result.id
        );
    }
}

#[tokio::test]
async fn a_server_that_echoes_with_rsv_bits_fails_and_the_report_says_why() {
    breaks(
        Fault::RsvOnEcho,
        &["1.1.1", "1.2.3", "5.3"],
        "RSV = 4 and no extension negotiated",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_echoes_invalid_utf8_fails_and_the_report_says_why() {
    breaks(
        Fault::EchoesInvalidUtf8,
        &["6.3.1", "6.3.2", "6.12.1", "6.20.1"],
        "invalid UTF-8",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_never_answers_a_ping_fails_and_the_report_says_why() {
    breaks(Fault::NoPong, &["2.1", "2.2", "2.10", "5.6"], "\"received\":[").await;
}

#[tokio::test]
async fn a_server_that_echoes_an_invalid_close_code_fails_and_the_report_says_why() {
    breaks(
        Fault::EchoesCloseCode,
        &["7.9.1", "7.9.2", "7.9.6"],
        "The close code should have been 1002",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_fails_on_a_ping_between_fragments_fails_and_the_report_says_why() {
    breaks(
        Fault::FailsOnPingBetweenFragments,
        &["5.6", "5.7", "5.8", "5.19"],
        "The connection was failed by the wrong endpoint",
    )
    .await;
}

/// tungstenite's `examples/autobahn-client.rs`, unchanged but for the fuzzing server's address.
fn tungstenite_client_harness(base: &str) -> tungstenite::Result<()> {
    const AGENT: &str = "Tungstenite";
    let (mut socket, _) = tungstenite::connect(format!("{base}/getCaseCount"))?;
    let count: u32 = socket.read()?.into_text()?.as_str().parse().expect("a case count");
    socket.close(None)?;
    for case in 1..=count {
        let (mut socket, _) = tungstenite::connect(format!("{base}/runCase?case={case}&agent={AGENT}"))?;
        let outcome = loop {
            match socket.read() {
                Ok(message @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    if let Err(error) = socket.send(message) {
                        break Err(error);
                    }
                }
                Ok(_) => {}
                Err(error) => break Err(error),
            }
        };
        match outcome {
            Err(
                tungstenite::Error::ConnectionClosed | tungstenite::Error::Protocol(_) | tungstenite::Error::Utf8(_),
            ) => {}
            Err(error) => eprintln!("case {case}: {error}"),
            Ok(()) => {}
        }
    }
    let (mut socket, _) = tungstenite::connect(format!("{base}/updateReports?agent={AGENT}"))?;
    socket.close(None)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tungstenite_client_gets_tungstenites_published_verdicts_from_the_fuzzing_server() {
    let server = Suite::new().serve("127.0.0.1:0").await.expect("serving");
    assert_eq!(server.case_count(), 517);
    let base = server.url();
    let harness = thread::spawn(move || tungstenite_client_harness(&base));
    let agent = tokio::time::timeout(std::time::Duration::from_secs(300), server.reports_requested())
        .await
        .expect("the harness asks for its reports within 300 s");
    assert_eq!(agent, "Tungstenite");
    harness
        .join()
        .expect("the harness ran")
        .expect("the harness talked to the fuzzing server");
    let report = server.report("Tungstenite").expect("the agent's report");
    eprintln!("{}", report.summary());
    assert_eq!(report.results().len(), 517);
    report.assert_matches(TUNGSTENITE_EXPECTED);
}

// ws-test grades itself: its own server (an echo handler, plain and over TLS) and its own client, against
// verdicts committed beside this file. `WS_TEST_BLESS_CONFORM=1` writes the files from a run instead (after a
// change that is meant to change a verdict; the diff is the review).

fn fixture(name: &str) -> String {
    format!("{}/fixtures/autobahn/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The cases that send a message, then a bad frame: a peer that echoes the message before it fails the
/// connection gets OK, one that fails first NON-STRICT. ws-test's client reads in a task of its own and fails the
/// connection as soon as it reads the bad frame, so whether the harness's echo of the message went out first is a
/// race; both verdicts conform.
const ECHO_THEN_FAIL: [&str; 10] = [
    "3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15",
];

/// Compares `report` with the committed file (`either`: cases where OK and NON-STRICT are both right), or writes
/// it when blessing; in both cases every case of categories 1 to 10 must be OK, NON-STRICT or INFORMATIONAL.
fn matches_committed(report: &ws_test_runtime::conform::Report, name: &str, either: &[&str]) {
    use ws_test_runtime::conform::{CloseVerdict, Verdict};
    let bad: Vec<String> = report
        .results()
        .iter()
        .filter(|result| {
            result
                .id
                .split('.')
                .next()
                .and_then(|category| category.parse::<u32>().ok())
                <= Some(10)
        })
        .filter(|result| {
            !matches!(
                result.behavior,
                Verdict::Ok | Verdict::NonStrict | Verdict::Informational
            ) || !matches!(result.behavior_close, CloseVerdict::Ok | CloseVerdict::Informational)
        })
        .map(|result| {
            format!(
                "{} {} / {}: {}",
                result.id, result.behavior, result.behavior_close, result.result
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "ws-test's own stack must pass categories 1 to 10:\n{}",
        bad.join("\n")
    );
    let path = fixture(name);
    if std::env::var_os("WS_TEST_BLESS_CONFORM").is_some() {
        let mut index = report.index_json();
        for case in index[report.agent()]
            .as_object_mut()
            .into_iter()
            .flat_map(|cases| cases.values_mut())
        {
            case["duration"] = 0.into();
        }
        std::fs::write(&path, serde_json::to_string_pretty(&index).expect("JSON")).expect("the fixture is written");
        return;
    }
    let expected = ws_test_runtime::conform::Expected::from_file(&path, None).expect("the committed verdicts");
    let differences: Vec<String> = report
        .compare(&expected)
        .into_iter()
        .filter(|difference| {
            let raced = either.contains(&difference.case.as_str())
                && difference.field == "behavior"
                && ["OK", "NON-STRICT"].contains(&difference.expected.as_str())
                && ["OK", "NON-STRICT"].contains(&difference.got.as_str());
            !raced
        })
        .map(|difference| difference.to_string())
        .collect();
    assert!(
        differences.is_empty(),
        "verdicts differ from {path}:\n{}\n\n{}",
        differences.join("\n"),
        report.summary()
    );
}

async fn own_echo_server(tls: bool) -> ws_test_runtime::EmbeddedServer {
    let mut builder = ws_test_runtime::EmbeddedServer::builder()
        .handler(ws_test_runtime::Echo)
        .max_message_size(64 << 20);
    if tls {
        builder = builder.tls_self_signed();
    }
    builder.start().await.expect("the echo server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_tests_own_server_passes_every_case_of_categories_1_to_10_as_committed() {
    let server = own_echo_server(false).await;
    let report = Suite::new()
        .agent("ws-test server")
        .grade_server(&server.url())
        .await
        .expect("graded");
    assert_eq!(report.results().len(), 517);
    eprintln!("{}", report.summary());
    matches_committed(&report, "ws-test-server.json", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_tests_own_server_passes_over_tls_as_committed() {
    let server = own_echo_server(true).await;
    let pem = server
        .certificate_pem()
        .expect("a TLS server has a certificate")
        .to_owned();
    assert!(server.url().starts_with("wss://"));
    // The performance cases measure the machine, not the protocol, and compression is declined either way.
    let report = Suite::new()
        .agent("ws-test server (TLS)")
        .exclude_cases(["9.*", "12.*", "13.*"])
        .root_certificate(pem)
        .grade_server(&server.url())
        .await
        .expect("graded");
    assert_eq!(report.results().len(), 247);
    matches_committed(&report, "ws-test-server-tls.json", &[]);
}

/// An Autobahn client harness written with ws-test's own client.
async fn ws_test_client_harness(base: String, agent: &str) {
    use ws_test_runtime::{Message, WsClient};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_tests_own_client_passes_every_case_of_categories_1_to_10_as_committed() {
    let server = Suite::new().serve("127.0.0.1:0").await.expect("serving");
    tokio::time::timeout(
        std::time::Duration::from_secs(300),
        ws_test_client_harness(server.url(), "ws-test-client"),
    )
    .await
    .expect("the harness plays every case within 300 s");
    let agent = tokio::time::timeout(std::time::Duration::from_secs(30), server.reports_requested())
        .await
        .expect("the harness asked for its reports");
    assert_eq!(agent, "ws-test-client");
    let report = server.report("ws-test-client").expect("the agent's report");
    eprintln!("{}", report.summary());
    assert_eq!(report.results().len(), 517);
    matches_committed(&report, "ws-test-client.json", &ECHO_THEN_FAIL);
}

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
        .progress(true)
        .grade_server(&url)
        .await
        .expect("graded");
    assert_eq!(report.results().len(), 517);
    eprintln!("{}", report.summary());
    let expected = Expected::from_file(TUNGSTENITE_EXPECTED, None).expect("expected results");
    assert_eq!(expected.len(), 517);
    report.assert_matches(TUNGSTENITE_EXPECTED);
}

//! Loads the axum chat app with `ws_test_runtime::load`: 200 chats a second for 3 s in the open model, every
//! chat's five events checked in order, latencies by event type, and two thresholds that decide the exit code.
//!
//! `cargo run --release -p axum-chat --example load [RATE] [SECONDS]`

use std::process::ExitCode;
use std::time::Duration;

use ws_test_runtime::load::{Load, Threshold};
use ws_test_runtime::prelude::*;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let rate: f64 = args.next().and_then(|rate| rate.parse().ok()).unwrap_or(200.0);
    let seconds: u64 = args.next().and_then(|seconds| seconds.parse().ok()).unwrap_or(3);

    // The app, as it runs in production, on a port of its own.
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen: {error}");
            return ExitCode::from(2);
        }
    };
    let url = match listener.local_addr() {
        Ok(address) => format!("ws://{address}{}", axum_chat::CHAT_PATH),
        Err(error) => {
            eprintln!("no local address: {error}");
            return ExitCode::from(2);
        }
    };
    // TCP_NODELAY on every accepted connection: without it, Nagle's algorithm holds the second event of each
    // chat until the client's delayed ACK (about 40 ms on Linux), which this very load shows as a 40 ms gap
    // between agent_started and agent_thinking.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, axum_chat::app()).await });

    let load = Load::new(WsClient::builder(&url).token("alice-token"))
        .welcome("hello")
        .open(rate, Duration::from_secs(seconds))
        .ramp(Duration::from_secs(1))
        // The app names each run; its five events carry the run_id it chose.
        .correlate("run_id");
    let report = load
        .run(async |client| {
            client
                .send_json(json!({"type": "chat_message", "content": "load"}))
                .await?;
            client
                .expect(Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
                .await?;
            Ok(())
        })
        .await;
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            eprintln!("the load could not run: {error}");
            return ExitCode::from(2);
        }
    };
    println!("{report}");
    let mut passed = true;
    for threshold in ["agent_completed:p99<250ms", "errors<0.1%"] {
        let threshold: Threshold = threshold.parse().expect("the thresholds above are well formed");
        let verdict = threshold.check(&report);
        println!(
            "{:<28} {:>12}  {}",
            verdict.threshold,
            verdict.measured,
            if verdict.passed { "ok" } else { "FAILED" }
        );
        passed &= verdict.passed;
    }
    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

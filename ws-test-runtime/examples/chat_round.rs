//! The main job until the `ws-test` command exists: start the embedded server, run one chat round against it,
//! check the five critical events in order, and print the timeline.
//!
//! Run with `cargo run --release -p ws-test-runtime --example chat_round`.

use std::process::ExitCode;
use std::time::Instant;

use ws_test_runtime::prelude::*;

async fn chat_round() -> Result<(), ws_test_runtime::Error> {
    let started = Instant::now();
    let mut server = EmbeddedServer::start().await?;
    let mut client = server.connect().await?;
    let welcome = client
        .expect(&Expect::events(["connection_established"]).strict())
        .await?;
    client
        .send_json(&json!({"type": "chat_message", "content": "hello agent"}))
        .await?;
    let expectation = Expect::events(ChatEvent::CRITICAL)
        .strict()
        .per("run_id")
        .pair("tool_executing", "tool_completed", "tool_call_id")
        .forbid("error");
    let run = client.expect(&expectation).await?;
    client.close(1000, "done").await?;
    let elapsed = started.elapsed();
    server.shutdown().await?;
    println!("{}", client.history().timeline());
    println!(
        "server {} served user {}: {} critical events in order (run {}), whole round in {:.2} ms",
        server.url(),
        welcome.events()[0]["user_id"].as_str().unwrap_or("?"),
        run.len(),
        run.events()[0]["run_id"].as_str().unwrap_or("?"),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the tokio runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(chat_round()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat round failed: {error}");
            ExitCode::FAILURE
        }
    }
}

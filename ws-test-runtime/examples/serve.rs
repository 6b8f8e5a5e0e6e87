//! The built-in chat agent as a standalone mock backend, for clients in other languages (until the `ws-test serve`
//! command exists). Prints `listening on ws://HOST:PORT/PATH` as its first line and serves until Ctrl-C or
//! SIGTERM.
//!
//! `cargo run -p ws-test-runtime --example serve -- [PORT] [TOKEN]`; set `RUST_LOG=info` for connection logs.

use std::io::Write as _;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use ws_test_runtime::EmbeddedServer;

async fn serve(port: u16, token: Option<String>) -> Result<(), ws_test_runtime::Error> {
    let mut builder = EmbeddedServer::builder().port(port);
    if let Some(token) = token {
        builder = builder.token(token);
    }
    let mut server = builder.start().await?;
    println!("listening on {}", server.url());
    let _ = std::io::stdout().flush();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| ws_test_runtime::Error::Config(format!("cannot watch SIGTERM: {error}")))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let port = match args.next().map(|port| port.parse::<u16>()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(error)) => {
            eprintln!("usage: serve [PORT] [TOKEN]: the port is not a number: {error}");
            return ExitCode::from(2);
        }
    };
    let token = args.next();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the tokio runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(port, token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("serve failed: {error}");
            ExitCode::FAILURE
        }
    }
}

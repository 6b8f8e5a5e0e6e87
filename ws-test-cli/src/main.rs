//! `ws-test`: check any live WebSocket server against the chat protocol, serve the built-in agent (or a
//! recording) as a mock backend, load a server, record real sessions and turn them into expectations. A thin
//! shell over `ws-test-runtime`.
//!
//! Exit codes: 0 when everything passed, 1 when a check failed, 2 on a usage error or when the server cannot be
//! reached at all.

/// `println!` that does not panic when stdout is gone (`ws-test check | head -3`): what cannot be written is
/// dropped, and the exit code still tells the outcome.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod bench;
mod check;
mod conform;
mod expect;
mod record;
mod serve;
mod tls;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Test WebSocket services: check a server against the chat protocol, serve the mock agent, or load a server.
#[derive(Debug, Parser)]
#[command(name = "ws-test", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a server against the protocol (with no URL: the embedded default server).
    Check(check::Args),
    /// Serve the built-in chat agent as a standalone mock backend.
    Serve(serve::Args),
    /// Open N connections, run M rounds on each, print throughput and latency percentiles.
    Bench(bench::Args),
    /// Relay clients to a real server and record every frame of each session to a transcript file.
    Record(record::Args),
    /// Print the `Expect` code that checks the server frames of a recording, in order.
    Expect(expect::Args),
    /// Grade a WebSocket server (or, with --serve, clients) with the Autobahn Testsuite's cases, no Docker.
    Conform(conform::Args),
}

/// Parses `5s`, `250ms`, `2m`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|error| format!("{text:?} is not a duration like 5s or 250ms: {error}"))
}

/// The exit code for "the server cannot be reached" and usage errors.
pub(crate) const UNREACHABLE: u8 = 2;

/// The server a command talks to: `url` when given, else an embedded server started here (requiring `token`
/// when one is given), which lives as long as the returned handle.
pub(crate) async fn target(
    url: Option<&str>,
    token: Option<&str>,
) -> Result<(Option<ws_test_runtime::EmbeddedServer>, String), ExitCode> {
    if let Some(url) = url {
        return Ok((None, url.to_owned()));
    }
    let mut builder = ws_test_runtime::EmbeddedServer::builder();
    if let Some(token) = token {
        builder = builder.token(token);
    }
    match builder.start().await {
        Ok(server) => {
            let url = server.url();
            Ok((Some(server), url))
        }
        Err(error) => {
            eprintln!("ws-test: cannot start the embedded server: {error}");
            Err(ExitCode::from(UNREACHABLE))
        }
    }
}

/// Logs to stderr at `info` (or as `RUST_LOG` says), coloured on a terminal: for the long-running commands.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Watches Ctrl-C (everywhere) and SIGTERM (on Unix) from the moment it is called (call it before printing the
/// first line, so that a supervisor that signals as soon as it reads that line gets a clean shutdown, not the
/// default death); the future resolves on either, saying which in the log. On Windows, Ctrl-Break counts as well.
#[cfg(unix)]
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let watch = |kind: SignalKind, name: &'static str| {
        let registered = signal(kind);
        async move {
            match registered {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot watch {name}");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    let interrupt = watch(SignalKind::interrupt(), "Ctrl-C");
    let terminate = watch(SignalKind::terminate(), "SIGTERM");
    async move {
        tokio::select! {
            () = interrupt => tracing::info!("Ctrl-C: shutting down"),
            () = terminate => tracing::info!("SIGTERM: shutting down"),
        }
    }
}

/// See the Unix version: Ctrl-C and Ctrl-Break, registered now.
#[cfg(windows)]
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::windows::{ctrl_break, ctrl_c};
    let interrupt = ctrl_c();
    let breaking = ctrl_break();
    async move {
        let interrupt = async {
            match interrupt {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot watch Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
        };
        let breaking = async {
            match breaking {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot watch Ctrl-Break");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = interrupt => tracing::info!("Ctrl-C: shutting down"),
            () = breaking => tracing::info!("Ctrl-Break: shutting down"),
        }
    }
}

/// See the Unix version: Ctrl-C, where the platform has nothing more.
#[cfg(not(any(unix, windows)))]
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> {
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("Ctrl-C: shutting down"),
            Err(error) => {
                tracing::warn!(%error, "cannot watch Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = ws_test_runtime::timeout::check_env() {
        eprintln!("ws-test: {error}");
        return ExitCode::from(UNREACHABLE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ws-test: cannot start the tokio runtime: {error}");
            return ExitCode::from(UNREACHABLE);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Check(args) => check::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Record(args) => record::run(args).await,
            Command::Expect(args) => expect::run(&args),
            Command::Conform(args) => conform::run(args).await,
        }
    })
}

//! `ws-test serve`: the built-in chat agent as a standalone mock backend, until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use ws_test_runtime::{ChatAgent, EmbeddedServer, Fault};

/// Arguments of `ws-test serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (0: one the OS picks, printed on the first line).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The WebSocket path.
    #[arg(long, default_value = "/ws")]
    path: String,
    /// Require this token on every upgrade.
    #[arg(long)]
    token: Option<String>,
    /// Allow this Origin (repeatable); others get 403.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// The largest message accepted, in bytes; larger ones are closed with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = ws_test_runtime::protocol::DEFAULT_MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    /// A delay between two events of a run (runs then interleave).
    #[arg(long, default_value = "0ms", value_parser = crate::duration)]
    event_delay: Duration,
    /// Break every run on purpose (repeatable): drop:EVENT, duplicate:EVENT, swap:A,B, close:EVENT,
    /// close:EVENT:CODE, malformed:EVENT.
    #[arg(long, value_name = "SPEC", value_parser = parse_fault)]
    fault: Vec<Fault>,
}

fn parse_fault(spec: &str) -> Result<Fault, String> {
    spec.parse().map_err(|error: ws_test_runtime::Error| error.to_string())
}

pub(crate) async fn run(args: Args) -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let mut agent = ChatAgent::new().event_delay(args.event_delay);
    for fault in args.fault {
        agent = agent.fault(fault);
    }
    let mut builder = EmbeddedServer::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .path(args.path)
        .max_message_size(args.max_message_size)
        .handler(agent);
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    for origin in args.allow_origin {
        builder = builder.allow_origin(origin);
    }
    let mut server = match builder.start().await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    println!("listening on {}", server.url());
    let _ = std::io::stdout().flush();

    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
    server.shutdown().await;
    let metrics = server.metrics();
    tracing::info!(
        total = metrics.connections_total,
        refused = metrics.connections_refused,
        "stopped"
    );
    ExitCode::SUCCESS
}

//! `ws-test bench [URL]`: ramp up N connections, run M rounds on each, print throughput and latency percentiles.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::json;
use ws_test_runtime::expect::Expect;
use ws_test_runtime::protocol::close_code;
use ws_test_runtime::protocol::{self, CRITICAL_EVENTS};
use ws_test_runtime::{WsClient, timeout};

/// What one round sends and waits for.
#[derive(Debug, Clone, Copy, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// A chat message, answered by the five critical events.
    Chat,
    /// An echo message, answered by the same payload.
    Echo,
}

/// Arguments of `ws-test bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The server's WebSocket URL; without it, the embedded server is benched in-process.
    url: Option<String>,
    /// How many connections to open.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// How many rounds each connection runs, one after the other.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// What a round is.
    #[arg(long, value_enum, default_value = "chat")]
    kind: Kind,
    /// The server's token.
    #[arg(long)]
    token: Option<String>,
    /// How long a connection or one round may take [default: 10s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_parser = crate::duration)]
    timeout: Option<Duration>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Figures {
    url: String,
    kind: Kind,
    connections: usize,
    rounds_per_connection: usize,
    connect_ms: f64,
    elapsed_ms: f64,
    rounds: u64,
    rounds_per_second: f64,
    frames_per_second: f64,
    latency_us: Percentiles,
    errors: usize,
}

#[derive(Debug, Serialize)]
struct Percentiles {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
}

fn histogram() -> Histogram<u64> {
    // Constant bounds (1 µs to an hour, 3 significant digits): valid by construction.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

async fn connect(url: &str, token: Option<&str>, timeout: Duration) -> Result<WsClient, String> {
    let mut builder = WsClient::builder(url)
        .connect_timeout(timeout)
        .recv_timeout(timeout)
        .send_timeout(timeout);
    if let Some(token) = token {
        builder = builder.token(token);
    }
    let mut client = builder.connect().await.map_err(|error| error.to_string())?;
    client
        .expect(&Expect::events([protocol::CONNECTION_ESTABLISHED]))
        .await
        .map_err(|error| error.to_string())?;
    Ok(client)
}

/// Runs the rounds of one connection; returns its latencies and the first error, if any.
async fn rounds(mut client: WsClient, args: &Args, progress: &ProgressBar) -> (Histogram<u64>, Option<String>) {
    let mut latencies = histogram();
    let chat = Expect::events(CRITICAL_EVENTS).strict();
    let echo = Expect::events([protocol::ECHO]).strict();
    for round in 0..args.rounds {
        let started = Instant::now();
        let outcome = match args.kind {
            Kind::Chat => {
                let message = json!({"type": protocol::CHAT_MESSAGE, "content": format!("bench round {round}")});
                match client.send_json(&message).await {
                    Ok(()) => client.expect(&chat).await.map(drop),
                    Err(error) => Err(error),
                }
            }
            Kind::Echo => match client
                .send_json(&json!({"type": protocol::ECHO, "payload": round}))
                .await
            {
                Ok(()) => client.expect(&echo).await.map(drop),
                Err(error) => Err(error),
            },
        };
        if let Err(error) = outcome {
            return (latencies, Some(error.to_string()));
        }
        latencies.saturating_record(started.elapsed().as_micros() as u64);
        progress.inc(1);
    }
    let _ = client.close(close_code::NORMAL, "bench done").await;
    (latencies, None)
}

pub(crate) async fn run(args: Args) -> ExitCode {
    let (_embedded, url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let token = args.token.as_deref();

    let ramp = Instant::now();
    let within = args.timeout.unwrap_or_else(|| timeout::scaled(timeout::LOAD));
    let connected = join_all((0..args.connections).map(|_| connect(&url, token, within))).await;
    let connect_ms = ramp.elapsed().as_secs_f64() * 1000.0;
    let mut clients = Vec::with_capacity(args.connections);
    for outcome in connected {
        match outcome {
            Ok(client) => clients.push(client),
            Err(error) => {
                eprintln!("ws-test: cannot open the connections to {url}: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        }
    }

    let total = (args.connections * args.rounds) as u64;
    let progress = if std::io::stderr().is_terminal() && !args.json {
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rounds {per_sec} {eta}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let outcomes = join_all(clients.into_iter().map(|client| rounds(client, &args, &progress))).await;
    let elapsed = started.elapsed();
    progress.finish_and_clear();

    let mut latencies = histogram();
    let mut errors = Vec::new();
    for (histogram, error) in outcomes {
        let _ = latencies.add(&histogram);
        errors.extend(error);
    }
    let frames_per_round = match args.kind {
        Kind::Chat => CRITICAL_EVENTS.len() as f64,
        Kind::Echo => 1.0,
    };
    let rounds = latencies.len();
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    let figures = Figures {
        url,
        kind: args.kind,
        connections: args.connections,
        rounds_per_connection: args.rounds,
        connect_ms,
        elapsed_ms: seconds * 1000.0,
        rounds,
        rounds_per_second: rounds as f64 / seconds,
        frames_per_second: rounds as f64 * frames_per_round / seconds,
        latency_us: Percentiles {
            p50: latencies.value_at_quantile(0.5),
            p90: latencies.value_at_quantile(0.9),
            p99: latencies.value_at_quantile(0.99),
            max: latencies.max(),
        },
        errors: errors.len(),
    };
    if args.json {
        match serde_json::to_string_pretty(&figures) {
            Ok(text) => out!("{text}"),
            Err(error) => eprintln!("ws-test: cannot print the figures as JSON: {error}"),
        }
    } else {
        print_figures(&figures);
    }
    if let Some(first) = errors.first() {
        eprintln!("ws-test: {} round(s) failed; the first:\n{first}", errors.len());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn print_figures(figures: &Figures) {
    let kind = match figures.kind {
        Kind::Chat => "chat",
        Kind::Echo => "echo",
    };
    out!(
        "bench {}: {} connections x {} {kind} rounds",
        figures.url,
        figures.connections,
        figures.rounds_per_connection
    );
    out!(
        "connect     {:.1} ms for {} connections",
        figures.connect_ms,
        figures.connections
    );
    out!(
        "throughput  {} rounds in {:.1} ms: {:.0} rounds/s, {:.0} server frames/s",
        figures.rounds,
        figures.elapsed_ms,
        figures.rounds_per_second,
        figures.frames_per_second
    );
    let latency = &figures.latency_us;
    out!(
        "latency     p50 {} µs  p90 {} µs  p99 {} µs  max {} µs",
        latency.p50,
        latency.p90,
        latency.p99,
        latency.max
    );
    out!("errors      {}", figures.errors);
}

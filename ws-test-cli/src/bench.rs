//! `ws-test bench [URL]`: ramp up N connections, run M rounds on each (up to `--pipeline` of them in flight per
//! connection), print throughput, round latency, and for chat rounds the latency from the chat message to each of
//! the five events, percentiles throughout. Latencies come from the client's history: each frame is stamped when
//! its reader took it off the socket, so a busy bench loop does not inflate them.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::json;
use ws_test_runtime::expect::Expect;
use ws_test_runtime::protocol::close_code;
use ws_test_runtime::protocol::{self, CRITICAL_EVENTS};
use ws_test_runtime::{ClientBuilder, Direction, History, WsClient, timeout};

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
    /// How many connections may be in their handshake at once while ramping up.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    ramp: u32,
    /// How many rounds each connection keeps in flight: the next message goes out as soon as a round completes
    /// (1: one round at a time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pipeline: u32,
    /// The server's token.
    #[arg(long)]
    token: Option<String>,
    /// How long a connection or one round may take [default: 10s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_parser = crate::duration)]
    timeout: Option<Duration>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    trust: crate::tls::Trust,
}

#[derive(Debug, Serialize)]
struct Figures {
    url: String,
    kind: Kind,
    connections: usize,
    rounds_per_connection: usize,
    pipeline: u32,
    connect_ms: f64,
    elapsed_ms: f64,
    rounds: u64,
    rounds_per_second: f64,
    frames_per_second: f64,
    latency_us: Percentiles,
    /// Chat rounds: from the chat message to each event of its run, by event type, in protocol order.
    events_us: Vec<EventLatency>,
    errors: usize,
}

#[derive(Debug, Serialize)]
struct EventLatency {
    event: &'static str,
    #[serde(flatten)]
    latency: Percentiles,
}

#[derive(Debug, Serialize)]
struct Percentiles {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        Percentiles {
            p50: histogram.value_at_quantile(0.5),
            p90: histogram.value_at_quantile(0.9),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
        }
    }
}

fn histogram() -> Histogram<u64> {
    // Constant bounds (1 µs to an hour, 3 significant digits): valid by construction.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

/// The client every connection is a copy of (copies share the TLS setup).
fn client(url: &str, token: Option<&str>, timeout: Duration) -> ClientBuilder {
    // The bench keeps every frame (the history is where its latencies come from): no cap but memory.
    let builder = WsClient::builder(url)
        .max_history_bytes(usize::MAX)
        .connect_timeout(timeout)
        .recv_timeout(timeout)
        .send_timeout(timeout);
    match token {
        Some(token) => builder.token(token),
        None => builder,
    }
}

async fn connect(builder: ClientBuilder) -> Result<WsClient, String> {
    let mut client = builder.connect().await.map_err(|error| crate::tls::explained(&error))?;
    client
        .expect(&Expect::events([protocol::CONNECTION_ESTABLISHED]))
        .await
        .map_err(|error| error.to_string())?;
    Ok(client)
}

/// What one connection measured, in µs: raw samples, merged into the histograms at the end (a histogram of this
/// range and precision is ~180 KiB; ten thousand connections with six each would take gigabytes).
struct Measured {
    rounds: Vec<u64>,
    /// The samples of each critical event (chat rounds only).
    events: [Vec<u64>; CRITICAL_EVENTS.len()],
    error: Option<String>,
}

/// The message of round `round` on connection `connection`; its id comes back in every reply of the round.
fn round_message(kind: Kind, connection: usize, round: usize) -> serde_json::Value {
    match kind {
        Kind::Chat => json!({
            "type": protocol::CHAT_MESSAGE,
            "content": format!("bench round {round}"),
            "run_id": format!("c{connection}-r{round}"),
        }),
        Kind::Echo => json!({"type": protocol::ECHO, "payload": round}),
    }
}

/// Whether `reply` ends a round, and which; an `error` event is a failure.
fn round_ended(kind: Kind, reply: &serde_json::Value) -> Result<bool, String> {
    match reply.get("type").and_then(serde_json::Value::as_str) {
        Some(protocol::ERROR) => Err(format!("the server answered with an error: {reply}")),
        Some(protocol::AGENT_COMPLETED) => Ok(matches!(kind, Kind::Chat)),
        Some(protocol::ECHO) => Ok(matches!(kind, Kind::Echo)),
        _ => Ok(false),
    }
}

/// Runs the rounds of one connection, up to `--pipeline` in flight, and measures them from its history.
async fn rounds(mut client: WsClient, connection: usize, args: &Args, progress: &ProgressBar) -> Measured {
    let mut measured = Measured {
        rounds: Vec::with_capacity(args.rounds),
        events: Default::default(),
        error: None,
    };
    client.watch_from_now();
    let first = client.history().len();
    let (mut sent, mut done) = (0, 0);
    let window = args.pipeline as usize;
    while done < args.rounds {
        while sent < args.rounds && sent - done < window {
            if let Err(error) = client.feed_json(round_message(args.kind, connection, sent)).await {
                measured.error = Some(error.to_string());
                return measured;
            }
            sent += 1;
        }
        let ended = match client.recv_json().await {
            Ok(reply) => round_ended(args.kind, &reply),
            Err(error) => Err(error.to_string()),
        };
        match ended {
            Ok(true) => {
                done += 1;
                progress.inc(1);
            }
            Ok(false) => {}
            Err(error) => {
                measured.error = Some(error);
                return measured;
            }
        }
    }
    let _ = client.close(close_code::NORMAL, "bench done").await;
    if let Err(error) = measure(&client.history(), first, args.kind, &mut measured) {
        measured.error = Some(error);
    }
    measured
}

/// Round and event latencies from the history (frames from `first` on), and a check of every chat run: its five
/// events, in protocol order.
fn measure(history: &History, first: usize, kind: Kind, measured: &mut Measured) -> Result<(), String> {
    let mut sent_at = std::collections::HashMap::new();
    let mut next_event = std::collections::HashMap::new();
    for frame in &history.frames()[first..] {
        let Some(value) = frame.json() else { continue };
        let id = match kind {
            Kind::Chat => value
                .get("run_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            Kind::Echo => value.get("payload").map(ToString::to_string),
        };
        let Some(id) = id else { continue };
        if frame.direction == Direction::Out {
            sent_at.insert(id, frame.at);
            continue;
        }
        let Some(&sent) = sent_at.get(&id) else { continue };
        let micros = frame.at.saturating_sub(sent).as_micros() as u64;
        match kind {
            Kind::Echo => measured.rounds.push(micros),
            Kind::Chat => {
                let position: &mut usize = next_event.entry(id.clone()).or_default();
                let kind = value
                    .get("type")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default();
                if CRITICAL_EVENTS.get(*position) != Some(&kind) {
                    return Err(format!(
                        "run {id}: expected {}, got {kind} (the events of a run must arrive in protocol order)",
                        CRITICAL_EVENTS.get(*position).unwrap_or(&"nothing more")
                    ));
                }
                measured.events[*position].push(micros);
                *position += 1;
                if *position == CRITICAL_EVENTS.len() {
                    measured.rounds.push(micros);
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn run(args: Args) -> ExitCode {
    let (_embedded, url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let within = args.timeout.unwrap_or_else(|| timeout::scaled(timeout::LOAD));
    let builder = match args.trust.apply(client(&url, args.token.as_deref(), within)) {
        Ok(builder) => builder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };

    let ramp = Instant::now();
    // At most `--ramp` handshakes at once: a burst of ten thousand would overflow the server's listen backlog and
    // its limit on connections still in their HTTP request (503).
    let connected: Vec<_> = futures_util::stream::iter((0..args.connections).map(|_| connect(builder.clone())))
        .buffered(args.ramp.max(1) as usize)
        .collect()
        .await;
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
    let outcomes = join_all(
        clients
            .into_iter()
            .enumerate()
            .map(|(connection, client)| rounds(client, connection, &args, &progress)),
    )
    .await;
    let elapsed = started.elapsed();
    progress.finish_and_clear();

    let mut latencies = histogram();
    let mut events: Vec<Histogram<u64>> = CRITICAL_EVENTS.iter().map(|_| histogram()).collect();
    let mut errors = Vec::new();
    for measured in outcomes {
        for micros in measured.rounds {
            latencies.saturating_record(micros);
        }
        for (total, samples) in events.iter_mut().zip(measured.events) {
            for micros in samples {
                total.saturating_record(micros);
            }
        }
        errors.extend(measured.error);
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
        pipeline: args.pipeline,
        connect_ms,
        elapsed_ms: seconds * 1000.0,
        rounds,
        rounds_per_second: rounds as f64 / seconds,
        frames_per_second: rounds as f64 * frames_per_round / seconds,
        latency_us: Percentiles::of(&latencies),
        events_us: match args.kind {
            Kind::Chat => CRITICAL_EVENTS
                .iter()
                .zip(&events)
                .map(|(event, histogram)| EventLatency {
                    event,
                    latency: Percentiles::of(histogram),
                })
                .collect(),
            Kind::Echo => Vec::new(),
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
        "bench {}: {} connections x {} {kind} rounds, {} in flight per connection",
        figures.url,
        figures.connections,
        figures.rounds_per_connection,
        figures.pipeline
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
    if !figures.events_us.is_empty() {
        out!("from the chat message to each event:");
        for event in &figures.events_us {
            let latency = &event.latency;
            out!(
                "  {:<16} p50 {} µs  p90 {} µs  p99 {} µs  max {} µs",
                event.event,
                latency.p50,
                latency.p90,
                latency.p99,
                latency.max
            );
        }
    }
    out!("errors      {}", figures.errors);
}

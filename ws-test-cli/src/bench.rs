//! `ws-test bench [URL]`: load a server and print what its users would feel.
//!
//! - What an iteration is: a chat or echo round of the built-in protocol (`--workload`), or a recorded session
//!   (`--scenario FILE`: its client frames sent again, its server frames awaited by their event key).
//! - How load is offered: closed (`--connections N --rounds M`, up to `--pipeline` rounds in flight on each) or
//!   open (`--rate N --duration D [--ramp D]`: N iterations start every second whatever the replies do, timed from
//!   their intended start).
//! - What is printed: throughput, latencies by type (HDR histograms: p50, p90, p99, p99.9, max), errors by category,
//!   and the `--threshold`s with their measured values; the exit code says whether they all held.
//! - Across machines: `--shard K/N` takes a share, `--hdr-out FILE` writes the histograms, `ws-test bench merge`
//!   adds them up and evaluates the thresholds over the whole.
//!
//! Latencies come from the client's history: each frame is stamped when its reader took it off the socket, so a
//! busy load loop does not inflate them.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use ws_test_runtime::ChatEvent;
use ws_test_runtime::expect::Expect;
use ws_test_runtime::load::{IterationResult, Label, Load, Report, Scenario, Threshold, error_category};
use ws_test_runtime::protocol;
use ws_test_runtime::protocol::close_code;
use ws_test_runtime::{ClientBuilder, Direction, Field, History, WsClient, timeout};

/// What one round of `--workload` sends and waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    /// A chat message, answered by the five critical events.
    Chat,
    /// An echo message, answered by the same payload.
    Echo,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Chat => "chat",
            Workload::Echo => "echo",
        }
    }

    /// The field a round's replies carry from its message.
    fn correlate(self) -> Field {
        Field::new(match self {
            Workload::Chat => "run_id",
            Workload::Echo => "payload",
        })
    }
}

/// `--ramp`: a number of handshakes at once (closed model), or how long the open model takes to reach its rate.
#[derive(Debug, Clone, Copy)]
enum Ramp {
    Handshakes(usize),
    Over(Duration),
}

fn ramp(text: &str) -> Result<Ramp, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("--ramp takes at least 1 handshake at once".to_owned()),
        Ok(n) => Ok(Ramp::Handshakes(n)),
        Err(_) => crate::duration(text)
            .map(Ramp::Over)
            .map_err(|_| format!("{text:?} is neither a number of handshakes at once (1000) nor a duration (10s)")),
    }
}

/// `--shard K/N`.
fn shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a shard K/N with 1 <= K <= N (1/4, 2/4, ...)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn threshold(text: &str) -> Result<Threshold, String> {
    text.parse().map_err(|error: ws_test_runtime::Error| error.to_string())
}

fn speed(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed >= 0.0 => Ok(speed),
        _ => Err(format!(
            "{text:?} is not a speed (1 as recorded, 2 twice as fast, 0 no pauses)"
        )),
    }
}

/// Arguments of `ws-test bench`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    merge: Option<Merge>,
    /// The server's WebSocket URL; without it, the embedded server is benched in-process.
    url: Option<String>,
    /// Closed model: how many connections run at once. Open model (--rate): at most this many iterations at once
    /// [default: 100 closed, 10000 open].
    #[arg(long)]
    connections: Option<usize>,
    /// Closed model: how many iterations (rounds, scenario sessions) each connection runs, one after the other.
    #[arg(long, default_value_t = 10, conflicts_with = "rate")]
    rounds: usize,
    /// What a round is, without --scenario.
    #[arg(long, value_enum, default_value = "chat", conflicts_with = "scenario")]
    workload: Workload,
    /// Plays this recording (a `ws-test record` transcript) on every connection: its client frames sent again,
    /// its server frames awaited by their event key, its pauses kept (see --speed).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// The field (or JSON pointer) that names events: `method` for JSON-RPC, `event`, `/data/kind` [with
    /// --protocol: the protocol's, unless given].
    #[arg(long, value_name = "FIELD", default_value = "type")]
    event_key: String,
    /// Every connection speaks this protocol kit (`socket.io`, `graphql-transport-ws`, `jsonrpc`), and the
    /// scenario is read through it: the events it decodes are sent again and awaited; its handshake and
    /// heartbeats are each connection's own.
    #[arg(long, value_name = "NAME", requires = "scenario")]
    protocol: Option<String>,
    /// Scales the recording's pauses between client frames: 2 twice as fast, 0 none.
    #[arg(long, default_value = "1", value_parser = speed, requires = "scenario")]
    speed: f64,
    /// Ties replies to requests by this field or JSON pointer (`id`, `/params/id`) when timing them; without it,
    /// a server frame answers the latest client frame before it.
    #[arg(long, value_name = "FIELD")]
    correlate: Option<String>,
    /// The open model: start this many iterations per second, whatever the replies do.
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// The open model: for how long.
    #[arg(long, value_parser = crate::duration, default_value = "10s", requires = "rate")]
    duration: Duration,
    /// Closed model: how many connections may be in their handshake at once while ramping up [default: 1000].
    /// Open model: how long to take to reach --rate (10s).
    #[arg(long, value_parser = ramp)]
    ramp: Option<Ramp>,
    /// Closed --workload rounds: how many rounds each connection keeps in flight (the next message goes out as soon
    /// as a round completes).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..),
          conflicts_with_all = ["rate", "scenario"])]
    pipeline: u32,
    /// The server's token.
    #[arg(long)]
    token: Option<String>,
    /// How long a connection or one reply may take [default: 10s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_parser = crate::duration)]
    timeout: Option<Duration>,
    /// A condition the run must meet: `p99<50ms`, `errors<0.1%`, `agent_completed:p99<200ms`,
    /// `throughput>1000` (repeatable). Exit 1 when any fails.
    #[arg(long = "threshold", value_name = "COND", value_parser = threshold)]
    thresholds: Vec<Threshold>,
    /// Runs share K of N: every Nth connection (closed model) or start (open model), from the Kth.
    #[arg(long, value_name = "K/N", value_parser = shard)]
    shard: Option<(u32, u32)>,
    /// Writes the histograms and counts to FILE (HdrHistogram's interval log) for `ws-test bench merge`.
    #[arg(long, value_name = "FILE")]
    hdr_out: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    trust: crate::tls::Trust,
}

/// `ws-test bench merge`.
#[derive(Debug, clap::Subcommand)]
enum Merge {
    /// Adds up the histogram files of several runs (`--hdr-out` of each shard) and checks the thresholds over the
    /// whole.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// The files `ws-test bench --hdr-out` wrote.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A condition the merged run must meet (as for `ws-test bench`).
    #[arg(long = "threshold", value_name = "COND", value_parser = threshold)]
    thresholds: Vec<Threshold>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// The client every connection is a copy of (copies share the TLS setup).
fn client(url: &str, args: &Args, timeout: Duration) -> ClientBuilder {
    // The bench keeps every frame (the history is where its latencies come from): no cap but memory.
    let builder = WsClient::builder(url)
        .max_history_bytes(usize::MAX)
        .connect_timeout(timeout)
        .recv_timeout(timeout)
        .send_timeout(timeout)
        .event_key(args.event_key.as_str());
    match &args.token {
        Some(token) => builder.token(token),
        None => builder,
    }
}

/// The message of round `round` on connection `connection`; its id comes back in every reply of the round.
fn round_message(workload: Workload, connection: usize, round: u64) -> Value {
    match workload {
        Workload::Chat => json!({
            "type": protocol::CHAT_MESSAGE,
            "content": format!("bench round {round}"),
            "run_id": format!("c{connection}-r{round}"),
        }),
        Workload::Echo => json!({"type": protocol::ECHO, "payload": format!("c{connection}-r{round}")}),
    }
}

/// Whether `reply` ends a round, and which; an `error` event is a failure.
fn round_ended(workload: Workload, reply: &Value) -> Result<bool, String> {
    match reply.get("type").and_then(Value::as_str) {
        Some(protocol::ERROR) => Err(format!("the server answered with an error: {reply}")),
        Some(protocol::AGENT_COMPLETED) => Ok(workload == Workload::Chat),
        Some(protocol::ECHO) => Ok(workload == Workload::Echo),
        _ => Ok(false),
    }
}

/// What one connection of the closed `--workload` load did.
struct Rounds {
    history: History,
    first: usize,
    done: usize,
    error: Option<(&'static str, String)>,
}

/// Runs the rounds of one connection, up to `--pipeline` in flight.
async fn rounds(mut client: WsClient, connection: usize, args: &Args, progress: &ProgressBar) -> Rounds {
    // The rule of docs/load.md: every frame after the welcome (which the connect awaited) counts, up to the close.
    let first = client
        .history()
        .frames()
        .iter()
        .position(|frame| {
            frame.direction == Direction::In
                && frame
                    .json()
                    .is_some_and(|value| value["type"] == protocol::CONNECTION_ESTABLISHED)
        })
        .map_or(0, |welcome| welcome + 1);
    let (mut sent, mut done) = (0, 0);
    let window = args.pipeline as usize;
    let mut error = None;
    'rounds: while done < args.rounds {
        while sent < args.rounds && sent - done < window {
            if let Err(failure) = client
                .feed_json(round_message(args.workload, connection, sent as u64))
                .await
            {
                error = Some(("closed", failure.to_string()));
                break 'rounds;
            }
            sent += 1;
        }
        let ended = match client.recv_json().await {
            Ok(reply) => round_ended(args.workload, &reply).map_err(|error| ("unexpected", error)),
            Err(failure) => Err((error_category(&failure), failure.to_string())),
        };
        match ended {
            Ok(true) => {
                done += 1;
                progress.inc(1);
            }
            Ok(false) => {}
            Err(failure) => {
                error = Some(failure);
                break;
            }
        }
    }
    let _ = client.close(close_code::NORMAL, "bench done").await;
    Rounds {
        history: client.history(),
        first,
        done,
        error,
    }
}

/// The order check of chat rounds: every run's five events in protocol order.
fn protocol_order(history: &History, first: usize) -> Result<(), String> {
    let mut next_event = std::collections::HashMap::new();
    for frame in &history.frames()[first..] {
        if frame.direction != Direction::In {
            continue;
        }
        let Some(value) = frame.json() else { continue };
        let Some(id) = value.get("run_id").and_then(Value::as_str) else {
            continue;
        };
        let position: &mut usize = next_event.entry(id.to_owned()).or_default();
        let event = value.get("type").and_then(Value::as_str).unwrap_or_default();
        if ChatEvent::CRITICAL.get(*position) != Some(&event) {
            return Err(format!(
                "run {id}: expected {}, got {event} (the events of a run must arrive in protocol order)",
                ChatEvent::CRITICAL.get(*position).unwrap_or(&"nothing more")
            ));
        }
        *position += 1;
    }
    Ok(())
}

/// The closed `--workload` load: every connection opened first, then its rounds, pipelined.
async fn workload_closed(args: &Args, builder: ClientBuilder, progress: &ProgressBar) -> Result<(Report, f64), String> {
    let connections = args.connections.unwrap_or(100);
    let (k, n) = args.shard.unwrap_or((1, 1));
    let mine: Vec<usize> = (k as usize - 1..connections).step_by(n as usize).collect();
    let handshakes = match args.ramp {
        Some(Ramp::Handshakes(n)) => n,
        _ => 1000,
    };
    let mut report = Report::new().with_noun("rounds");
    let ramp = Instant::now();
    // At most `--ramp` handshakes at once: a burst of ten thousand would overflow the server's listen backlog and
    // its limit on connections still in their HTTP request (503).
    let connected: Vec<_> = futures_util::stream::iter(mine.iter().map(|_| {
        let builder = builder.clone();
        async move {
            let started = Instant::now();
            let mut client = builder.connect().await.map_err(|error| crate::tls::explained(&error))?;
            client
                .expect(&Expect::events([protocol::CONNECTION_ESTABLISHED]))
                .await
                .map_err(|error| error.to_string())?;
            Ok::<_, String>((client, started.elapsed()))
        }
    }))
    .buffered(handshakes)
    .collect()
    .await;
    let connect_ms = ramp.elapsed().as_secs_f64() * 1000.0;
    let mut clients = Vec::with_capacity(mine.len());
    for outcome in connected {
        let (client, took) = outcome?;
        report.record_latency(Label::CONNECT, took);
        clients.push(client);
    }
    progress.set_length((mine.len() * args.rounds) as u64);
    let started = Instant::now();
    let outcomes = join_all(
        clients
            .into_iter()
            .zip(&mine)
            .map(|(client, &connection)| rounds(client, connection, args, progress)),
    )
    .await;
    report.set_elapsed(started.elapsed());
    let correlate = args.workload.correlate();
    let key = Field::new(args.event_key.as_str());
    for outcome in outcomes {
        let frames = &outcome.history.frames()[outcome.first..];
        report.measure(frames, &key, Some(&correlate));
        let mut error = outcome.error;
        if error.is_none() && args.workload == Workload::Chat {
            error = protocol_order(&outcome.history, outcome.first)
                .err()
                .map(|order| ("unexpected", order));
        }
        for _ in 0..outcome.done {
            report.count_passed();
        }
        // The connection's unfinished rounds all failed with its error.
        if let Some((category, message)) = error {
            let unfinished = args.rounds.saturating_sub(outcome.done).max(1);
            for _ in 0..unfinished {
                report.count_failed(category, message.clone());
            }
        }
    }
    Ok((report, connect_ms))
}

/// One round as a `Load` iteration (the open model): its message, then replies until the one that ends it.
async fn one_round(client: &mut WsClient, workload: Workload, id: u64) -> IterationResult {
    client.send_json(round_message(workload, 0, id)).await?;
    loop {
        let reply = client.recv_json().await?;
        if round_ended(workload, &reply)? {
            return Ok(());
        }
    }
}

/// A progress line on a terminal: rate, p99, errors so far; nothing on a pipe.
fn progress_line(args: &Args) -> ProgressBar {
    if !std::io::stderr().is_terminal() || args.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar
}

pub(crate) async fn run(args: Args) -> ExitCode {
    if let Some(Merge::Merge(merge)) = args.merge {
        return run_merge(merge);
    }
    let (_embedded, url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    if let (Some(Ramp::Over(_)), None) = (args.ramp, args.rate) {
        eprintln!(
            "ws-test: --ramp with a duration is for the open model (--rate N); closed, it takes a number of handshakes at once"
        );
        return ExitCode::from(crate::UNREACHABLE);
    }
    let within = args.timeout.unwrap_or_else(|| timeout::scaled(timeout::LOAD));
    let mut builder = match args.trust.apply(client(&url, &args, within)) {
        Ok(builder) => builder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    // The protocol names events by its own key unless --event-key says otherwise.
    let explicit_key = (args.event_key != "type").then_some(args.event_key.as_str());
    if let Some(protocol) = &args.protocol {
        builder = builder.protocol(protocol.as_str());
        if let Some(key) = explicit_key {
            builder = builder.event_key(key);
        }
    }
    let read = |scenario: Scenario| -> ws_test_runtime::Result<Scenario> {
        let scenario = scenario
            .event_key(args.event_key.as_str())
            .speed(args.speed)
            .timeout(within);
        match &args.protocol {
            None => Ok(scenario),
            Some(protocol) => {
                let scenario = scenario.protocol(protocol.as_str())?;
                Ok(match explicit_key {
                    Some(key) => scenario.event_key(key),
                    None => scenario,
                })
            }
        }
    };
    let scenario = match &args.scenario {
        None => None,
        Some(path) => match Scenario::load(path) {
            Ok(scenario) if scenario.is_empty() => {
                eprintln!(
                    "ws-test: the scenario {} holds no client frame: nothing to send",
                    path.display()
                );
                return ExitCode::from(crate::UNREACHABLE);
            }
            Ok(scenario) => match read(scenario) {
                Ok(scenario) => Some(scenario),
                Err(error) => {
                    eprintln!("ws-test: {error}");
                    return ExitCode::from(crate::UNREACHABLE);
                }
            },
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        },
    };

    let progress = progress_line(&args);
    let (k, n) = args.shard.unwrap_or((1, 1));
    let mut header = json!({
        "url": url,
        "shard": format!("{k}/{n}"),
    });
    let outcome = match (&scenario, args.rate) {
        (None, None) => {
            header["workload"] = json!(args.workload.name());
            header["model"] = json!("closed");
            header["connections"] = json!(args.connections.unwrap_or(100));
            header["rounds_per_connection"] = json!(args.rounds);
            header["pipeline"] = json!(args.pipeline);
            let bar = if progress.is_hidden() {
                progress.clone()
            } else {
                let bar = ProgressBar::new(0);
                if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rounds {per_sec} {eta}") {
                    bar.set_style(style);
                }
                bar
            };
            let outcome = workload_closed(&args, builder, &bar).await;
            bar.finish_and_clear();
            outcome.map(|(report, connect_ms)| {
                header["connect_ms"] = json!(connect_ms);
                report
            })
        }
        _ => {
            let mut load = Load::new(builder)
                .shard(k, n)
                .max_handshakes(match args.ramp {
                    Some(Ramp::Handshakes(n)) => n,
                    _ => 1000,
                })
                .iteration_timeout(within * 6);
            if let Some(field) = &args.correlate {
                load = load.correlate(field.as_str());
            }
            match &scenario {
                Some(scenario) => {
                    header["scenario"] = json!(args.scenario.as_ref().map(|path| path.display().to_string()));
                    header["client_frames"] = json!(scenario.len());
                    load = load.connection_per_iteration(true).noun("sessions");
                }
                None => {
                    header["workload"] = json!(args.workload.name());
                    load = load.welcome(protocol::CONNECTION_ESTABLISHED).noun("rounds");
                    if args.correlate.is_none() {
                        load = load.correlate(args.workload.correlate());
                    }
                }
            }
            match args.rate {
                Some(rate) => {
                    let ramp = match args.ramp {
                        Some(Ramp::Over(ramp)) => ramp,
                        _ => Duration::ZERO,
                    };
                    header["model"] = json!("open");
                    header["rate"] = json!(rate);
                    header["duration_ms"] = json!(args.duration.as_secs_f64() * 1000.0);
                    header["ramp_ms"] = json!(ramp.as_secs_f64() * 1000.0);
                    load = load
                        .open(rate, args.duration)
                        .ramp(ramp)
                        .max_connections(args.connections.unwrap_or(10_000));
                }
                None => {
                    header["model"] = json!("closed");
                    header["connections"] = json!(args.connections.unwrap_or(100));
                    header["rounds_per_connection"] = json!(args.rounds);
                    load = load.closed(args.connections.unwrap_or(100), args.rounds);
                }
            }
            if !progress.is_hidden() {
                let bar = progress.clone();
                load = load.on_progress(Duration::from_millis(250), move |now| {
                    let p99 = now
                        .p99
                        .map_or("-".to_owned(), |p99| format!("{:.2} ms", p99.as_secs_f64() * 1000.0));
                    bar.set_message(format!(
                        "{} done, {:.0}/s, p99 {p99}, errors {}, {} in flight",
                        now.iterations, now.rate, now.failed, now.in_flight
                    ));
                    bar.tick();
                });
            }
            let outcome = match &scenario {
                Some(scenario) => {
                    load.run(async |client: &mut WsClient| Ok(scenario.play(client).await?))
                        .await
                }
                None => {
                    let workload = args.workload;
                    let counter = Arc::new(AtomicU64::new(0));
                    load.run(async |client: &mut WsClient| {
                        // Unique across shards: the shard's number is in the id.
                        let id = counter.fetch_add(1, Ordering::Relaxed) * u64::from(n) + u64::from(k);
                        one_round(client, workload, id).await
                    })
                    .await
                }
            };
            progress.finish_and_clear();
            outcome.map_err(|error| crate::tls::explained(&error))
        }
    };
    let report = match outcome {
        Ok(report) => report,
        Err(error) => {
            eprintln!("ws-test: cannot open the connections to {url}: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    if let Some(path) = &args.hdr_out {
        if let Err(error) = write_hdr(path, &report) {
            eprintln!("ws-test: cannot write --hdr-out {}: {error}", path.display());
            return ExitCode::from(crate::UNREACHABLE);
        }
    }
    finish(header, &report, &args.thresholds, args.json)
}

fn write_hdr(path: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    report.write_hdr_log(&mut file)?;
    std::io::Write::flush(&mut file)
}

fn run_merge(args: MergeArgs) -> ExitCode {
    let mut merged: Option<Report> = None;
    for path in &args.files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("ws-test: cannot read {}: {error}", path.display());
                return ExitCode::from(crate::UNREACHABLE);
            }
        };
        match Report::from_hdr_log(&text, &path.display().to_string()) {
            Ok(report) => match &mut merged {
                Some(merged) => merged.merge(&report),
                None => merged = Some(report),
            },
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        }
    }
    let Some(report) = merged else {
        return ExitCode::from(crate::UNREACHABLE);
    };
    let files: Vec<String> = args.files.iter().map(|path| path.display().to_string()).collect();
    finish(json!({"merged": files}), &report, &args.thresholds, args.json)
}

/// Prints the figures and the thresholds; the exit code: 1 when a threshold failed, or (without thresholds) when
/// an iteration failed.
fn finish(header: Value, report: &Report, thresholds: &[Threshold], as_json: bool) -> ExitCode {
    let verdicts: Vec<_> = thresholds.iter().map(|threshold| threshold.check(report)).collect();
    let passed = if thresholds.is_empty() {
        report.failed() == 0
    } else {
        verdicts.iter().all(|verdict| verdict.passed)
    };
    if as_json {
        let mut figures = header;
        if let (Value::Object(figures), Value::Object(report)) = (&mut figures, report.to_json()) {
            figures.extend(report);
        }
        add_legacy_figures(&mut figures, report);
        figures["thresholds"] = verdicts
            .iter()
            .map(|verdict| {
                json!({"threshold": verdict.threshold, "measured": verdict.measured, "passed": verdict.passed})
            })
            .collect();
        figures["passed"] = json!(passed);
        match serde_json::to_string_pretty(&figures) {
            Ok(text) => out!("{text}"),
            Err(error) => eprintln!("ws-test: cannot print the figures as JSON: {error}"),
        }
    } else {
        print_header(&header, report);
        out!("{}", report.to_string().trim_end());
        if !verdicts.is_empty() {
            let width = verdicts
                .iter()
                .map(|verdict| verdict.threshold.len())
                .max()
                .unwrap_or(0);
            out!("thresholds");
            for verdict in &verdicts {
                out!(
                    "  {:<width$}  {:>12}  {}",
                    verdict.threshold,
                    verdict.measured,
                    if verdict.passed { "ok" } else { "FAILED" }
                );
            }
        }
    }
    if report.failed() > 0 {
        eprintln!(
            "ws-test: {} of {} iteration(s) failed; the first:\n{}",
            report.failed(),
            report.iterations(),
            report.error_samples().first().map_or("", String::as_str)
        );
    }
    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The figures `ws-test bench --json` printed before it had labels: `rounds`, `rounds_per_second`,
/// `frames_per_second`, `latency_us` (the response), and for chat rounds `events_us`, each critical event.
fn add_legacy_figures(figures: &mut Value, report: &Report) {
    let percentiles = |label: &str| {
        report.find(label).map(|stats| {
            let micros = |q: f64| stats.quantile(q).as_micros() as u64;
            json!({"p50": micros(0.5), "p90": micros(0.9), "p99": micros(0.99), "p99_9": micros(0.999), "max": stats.max().as_micros() as u64})
        })
    };
    let seconds = report.elapsed().as_secs_f64().max(f64::EPSILON);
    figures["rounds"] = json!(report.iterations() - report.failed());
    figures["rounds_per_second"] = json!(report.iterations_per_second());
    figures["frames_per_second"] = json!(report.frames().1 as f64 / seconds);
    figures["latency_us"] = percentiles(Label::RESPONSE).unwrap_or(Value::Null);
    if figures["workload"] == "chat" {
        figures["events_us"] = ChatEvent::CRITICAL
            .iter()
            .filter_map(|event| {
                let mut latency = percentiles(event)?;
                latency["event"] = json!(event);
                Some(latency)
            })
            .collect();
    }
}

fn print_header(header: &Value, report: &Report) {
    let text = |field: &str| header[field].as_str().unwrap_or_default().to_owned();
    let number = |field: &str| header[field].as_f64().unwrap_or_default();
    if let Some(files) = header["merged"].as_array() {
        out!("merged {} run(s) from {} file(s)", report.runs(), files.len());
        return;
    }
    let what = match header["scenario"].as_str() {
        Some(scenario) => format!("sessions of {scenario} ({} client frames)", number("client_frames")),
        None => format!("{} rounds", text("workload")),
    };
    let shard = match text("shard").as_str() {
        "1/1" => String::new(),
        shard => format!(", shard {shard}"),
    };
    match text("model").as_str() {
        "open" => out!(
            "bench {}: {what}, {} per second for {:.1} s (ramp {:.1} s){shard}",
            text("url"),
            number("rate"),
            number("duration_ms") / 1000.0,
            number("ramp_ms") / 1000.0
        ),
        _ if header["pipeline"].is_number() => out!(
            "bench {}: {} connections x {} {} rounds, {} in flight per connection{shard}",
            text("url"),
            number("connections"),
            number("rounds_per_connection"),
            text("workload"),
            number("pipeline")
        ),
        _ => out!(
            "bench {}: {} connections x {} {what}{shard}",
            text("url"),
            number("connections"),
            number("rounds_per_connection")
        ),
    }
    if let (Some(connect_ms), Some(connect)) = (header["connect_ms"].as_f64(), report.find(Label::CONNECT)) {
        if header["pipeline"].is_number() {
            out!("connect     {connect_ms:.1} ms for {} connections", connect.count);
        }
    }
}

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

mod args;
mod merge;
mod output;

pub(crate) use args::Args;
use args::{ChurnMode, Merge, Ramp, Workload};
use merge::{run_merge, write_hdr};
use output::{finish, progress_line, progress_message};

use std::cell::RefCell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use ws_test_runtime::ChatEvent;
use ws_test_runtime::load::{IterationResult, Load, Scenario};
use ws_test_runtime::protocol;
use ws_test_runtime::{ClientBuilder, History, WsClient, timeout};

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

/// `url` with the recording's path and query when it has no path of its own (`ws://host:4000` or `.../`).
fn with_recorded_path(url: &str, recorded: &str) -> String {
    // What follows the authority: `/path?query`, or nothing.
    let rest = |url: &str| -> Option<String> {
        let after_scheme = url.split_once("://")?.1;
        Some(
            after_scheme
                .find(['/', '?'])
                .map_or_else(String::new, |at| after_scheme[at..].to_owned()),
        )
    };
    match (rest(url).as_deref(), rest(recorded)) {
        (Some("" | "/"), Some(recorded)) if !recorded.is_empty() && recorded != "/" => {
            format!("{}{recorded}", url.trim_end_matches('/'))
        }
        _ => url.to_owned(),
    }
}

/// The message of round `id`; its id comes back in every reply of the round (`run_id`, or the echoed payload).
fn round_message(workload: Workload, id: u64) -> Value {
    match workload {
        Workload::Chat => json!({
            "type": protocol::CHAT_MESSAGE,
            "content": format!("bench round {id}"),
            "run_id": format!("r{id}"),
        }),
        Workload::Echo => json!({"type": protocol::ECHO, "payload": format!("r{id}")}),
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

/// The order check of chat rounds, reply by reply: every run's five events in protocol order.
#[derive(Default)]
struct ProtocolOrder {
    next_event: RefCell<HashMap<String, usize>>,
}

impl ProtocolOrder {
    fn check(&self, reply: &Value) -> Result<(), String> {
        let Some(id) = reply.get("run_id").and_then(Value::as_str) else {
            return Ok(());
        };
        let mut next_event = self.next_event.borrow_mut();
        let position = next_event.entry(id.to_owned()).or_default();
        let event = reply.get("type").and_then(Value::as_str).unwrap_or_default();
        if ChatEvent::CRITICAL.get(*position) != Some(&event) {
            return Err(format!(
                "run {id}: expected {}, got {event} (the events of a run must arrive in protocol order)",
                ChatEvent::CRITICAL.get(*position).unwrap_or(&"nothing more")
            ));
        }
        *position += 1;
        if *position == ChatEvent::CRITICAL.len() {
            next_event.remove(id);
        }
        Ok(())
    }
}

/// One round as a `Load` iteration (the open model): its message, then replies until the one that ends it.
async fn one_round(client: &mut WsClient, workload: Workload, id: u64) -> IterationResult {
    client.send_json(round_message(workload, id)).await?;
    loop {
        let reply = client.recv_json().await?;
        if round_ended(workload, &reply)? {
            return Ok(());
        }
    }
}

pub(crate) async fn run(args: Args) -> ExitCode {
    if let Some(Merge::Merge(merge)) = args.merge {
        return run_merge(merge);
    }
    let (_embedded, mut url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let recorded = match &args.scenario {
        None => None,
        Some(path) => match args
            .entry
            .as_ref()
            .map_or_else(|| History::load(path), |entry| History::load_entry(path, entry))
        {
            Ok(history) => Some(history),
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        },
    };
    // A URL given without a path goes where the recording went (its path and query).
    if let (Some(_), Some(recorded_url)) = (&args.url, recorded.as_ref().and_then(History::url)) {
        url = with_recorded_path(&url, recorded_url);
    }
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
    if let Some(subprotocol) = recorded
        .as_ref()
        .and_then(History::handshake)
        .and_then(|handshake| handshake.subprotocol())
    {
        builder = builder.subprotocol(subprotocol);
    }
    let scenario = match (&args.scenario, &recorded) {
        (Some(path), Some(history)) => {
            let scenario = Scenario::from_history(history);
            if scenario.is_empty() {
                eprintln!(
                    "ws-test: the scenario {} holds no client frame: nothing to send",
                    path.display()
                );
                return ExitCode::from(crate::UNREACHABLE);
            }
            match read(scenario) {
                Ok(scenario) => Some(scenario),
                Err(error) => {
                    eprintln!("ws-test: {error}");
                    return ExitCode::from(crate::UNREACHABLE);
                }
            }
        }
        _ => None,
    };

    if args.duration.is_some() && args.rate.is_none() && !matches!(args.churn, Some(ChurnMode::Rate(_))) {
        eprintln!(
            "ws-test: --duration is how long the open model (--rate N) or a churn rate (--churn N) runs; the closed \
             model runs --rounds per connection instead"
        );
        return ExitCode::from(crate::UNREACHABLE);
    }
    if let Some(mode) = args.churn {
        return run_churn(builder, &args, mode, &url).await;
    }
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
            let mut load = Load::new(builder)
                .shard(k, n)
                .max_handshakes(match args.ramp {
                    Some(Ramp::Handshakes(n)) => n,
                    _ => 1000,
                })
                .welcome(protocol::CONNECTION_ESTABLISHED)
                .correlate(args.workload.correlate())
                .closed(args.connections.unwrap_or(100), args.rounds)
                .noun("rounds");
            if !progress.is_hidden() {
                load = load.on_progress(Duration::from_millis(250), progress_message(progress.clone()));
            }
            let workload = args.workload;
            let order = ProtocolOrder::default();
            let outcome = load
                .run_pipelined(
                    args.pipeline as usize,
                    |id| round_message(workload, id),
                    |reply| {
                        if workload == Workload::Chat {
                            order.check(reply)?;
                        }
                        round_ended(workload, reply)
                    },
                )
                .await;
            progress.finish_and_clear();
            outcome.map_err(|error| crate::tls::explained(&error))
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
                    header["duration_ms"] = json!(args.duration().as_secs_f64() * 1000.0);
                    header["ramp_ms"] = json!(ramp.as_secs_f64() * 1000.0);
                    load = load
                        .open(rate, args.duration())
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
                load = load.on_progress(Duration::from_millis(250), progress_message(progress.clone()));
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

/// `--churn`: a reconnect storm against the server, and whether every session came back.
async fn run_churn(builder: ClientBuilder, args: &Args, mode: ChurnMode, url: &str) -> ExitCode {
    let sessions = args.connections.unwrap_or(100);
    let mut churn = ws_test_runtime::load::Churn::new(builder, sessions).welcome(protocol::CONNECTION_ESTABLISHED);
    if let ChurnMode::Rate(rate) = mode {
        churn = churn.rate(rate, args.duration());
    }
    let report = match churn.run().await {
        Ok(report) => report,
        Err(error) => {
            eprintln!(
                "ws-test: cannot open the sessions to {url}: {}",
                crate::tls::explained(&error)
            );
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    if args.json {
        let quantile = |q: f64| ms(report.reconnect.quantile(q));
        let figures = json!({
            "url": url,
            "churn": match mode { ChurnMode::AllAtOnce => json!("all"), ChurnMode::Rate(rate) => json!(rate) },
            "sessions": report.sessions,
            "dropped": report.dropped,
            "back": report.back,
            "all_back_ms": report.all_back_after.map(ms),
            "reconnect_ms": {"p50": quantile(0.5), "p90": quantile(0.9), "p99": quantile(0.99), "max": ms(report.reconnect.max())},
            "attempts": report.attempts,
            "failures": report.failures,
            "failure_samples": report.failure_samples,
            "elapsed_ms": ms(report.elapsed),
        });
        match serde_json::to_string_pretty(&figures) {
            Ok(text) => out!("{text}"),
            Err(error) => eprintln!("ws-test: cannot print the figures as JSON: {error}"),
        }
    } else {
        match mode {
            ChurnMode::AllAtOnce => {
                out!("bench {url}: {sessions} sessions dropped at once, reconnecting with jittered backoff")
            }
            ChurnMode::Rate(rate) => out!(
                "bench {url}: {sessions} sessions, {rate} per second closed and reopened for {:.1} s",
                args.duration().as_secs_f64()
            ),
        }
        out!("{}", report.to_string().trim_end());
    }
    if report.back == report.dropped {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "ws-test: {} of {} dropped session(s) did not come back",
            report.dropped - report.back,
            report.dropped
        );
        ExitCode::FAILURE
    }
}

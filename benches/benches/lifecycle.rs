//! What one test costs: runtime, server start, connect, a chat round, shutdown; and a burst of connections.
//!
//! `cargo bench -p ws-test-benches --bench lifecycle` (release). `WS_TEST_BENCH_ITERS` sets the iterations
//! (default 500). Figures are printed with ratios against the anchors measured on this machine: the seed's
//! Python design (~205 ms per test, 1.4 ms per connect) and a bare tokio + hyper + tungstenite program
//! (0.5 ms per whole test in release).

use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use hdrhistogram::Histogram;
use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::CRITICAL_EVENTS;

const PYTHON_TEST: Duration = Duration::from_millis(205);
const PYTHON_CONNECT: Duration = Duration::from_micros(1400);
const BARE_RELEASE_TEST: Duration = Duration::from_micros(500);

struct Phases {
    runtime: Histogram<u64>,
    start: Histogram<u64>,
    connect: Histogram<u64>,
    chat: Histogram<u64>,
    shutdown: Histogram<u64>,
    whole: Histogram<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    histogram.saturating_record(elapsed.as_nanos() as u64);
}

async fn one_test(phases: &mut Phases) -> Result<(), ws_test_runtime::Error> {
    let started = Instant::now();
    let mut server = EmbeddedServer::start().await?;
    record(&mut phases.start, started.elapsed());

    let connecting = Instant::now();
    let mut client = server.connect().await?;
    client.expect(&Expect::events(["connection_established"])).await?;
    record(&mut phases.connect, connecting.elapsed());

    let chatting = Instant::now();
    client
        .send_json(&json!({"type": "chat_message", "content": "bench"}))
        .await?;
    client.expect(&Expect::events(CRITICAL_EVENTS).strict()).await?;
    record(&mut phases.chat, chatting.elapsed());

    let stopping = Instant::now();
    drop(client);
    server.shutdown().await;
    record(&mut phases.shutdown, stopping.elapsed());
    Ok(())
}

fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

fn line(name: &str, histogram: &Histogram<u64>) {
    println!(
        "{name:<28} p50 {:>9.1} µs   p90 {:>9.1} µs   p99 {:>9.1} µs   mean {:>9.1} µs",
        micros(histogram.value_at_quantile(0.5)),
        micros(histogram.value_at_quantile(0.9)),
        micros(histogram.value_at_quantile(0.99)),
        histogram.mean() / 1000.0
    );
}

fn ratio(name: &str, anchor: Duration, ours_nanos: f64) {
    println!("{name:<60} {:>7.1}×", anchor.as_nanos() as f64 / ours_nanos);
}

fn burst(connections: usize) -> Result<Duration, ws_test_runtime::Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| ws_test_runtime::Error::Config(format!("cannot build the runtime: {error}")))?;
    runtime.block_on(async {
        let server = EmbeddedServer::start().await?;
        let started = Instant::now();
        let clients = try_join_all((0..connections).map(|_| server.connect())).await?;
        let elapsed = started.elapsed();
        drop(clients);
        Ok(elapsed)
    })
}

fn main() -> Result<(), ws_test_runtime::Error> {
    if std::env::args().any(|arg| arg == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list: there are no test cases here.
    }
    let iterations: usize = std::env::var("WS_TEST_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let mut phases = Phases {
        runtime: histogram(),
        start: histogram(),
        connect: histogram(),
        chat: histogram(),
        shutdown: histogram(),
        whole: histogram(),
    };
    for _ in 0..iterations {
        let whole = Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ws_test_runtime::Error::Config(format!("cannot build the runtime: {error}")))?;
        record(&mut phases.runtime, whole.elapsed());
        runtime.block_on(one_test(&mut phases))?;
        drop(runtime);
        record(&mut phases.whole, whole.elapsed());
    }
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("ws-test lifecycle, {iterations} iterations ({profile}), one fresh current_thread runtime each");
    line("runtime build", &phases.runtime);
    line("server start", &phases.start);
    line("connect + welcome", &phases.connect);
    line("chat round (5 events)", &phases.chat);
    line("client drop + shutdown", &phases.shutdown);
    line("whole test", &phases.whole);
    let whole = phases.whole.value_at_quantile(0.5) as f64;
    let connect = phases.connect.value_at_quantile(0.5) as f64;
    println!();
    ratio("speed-up per test vs the seed's Python (205 ms)", PYTHON_TEST, whole);
    ratio(
        "speed-up per connect vs the seed's Python (1.4 ms)",
        PYTHON_CONNECT,
        connect,
    );
    ratio(
        "whole test vs a bare tokio+hyper+tungstenite test (0.5 ms)",
        BARE_RELEASE_TEST,
        whole,
    );

    let connections = 1000;
    let elapsed = burst(connections)?;
    println!(
        "\n{connections} connections opened at once: {:.1} ms ({:.1} µs each)",
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1e6 / connections as f64
    );
    Ok(())
}

//! What the transport costs: one whole test (runtime, server, connect, welcome, one chat round with its five
//! events checked strictly, teardown) over TCP and over the in-memory transport, for the built-in agent and for a
//! hosted axum app, and for the same five events from a plain tokio-tungstenite accept loop under `serve`
//! (`ServedServer`), against the hosted axum app over TCP; and the memory each idle connection holds, client and
//! server side together.
//!
//! `cargo bench -p ws-test-benches --bench transport` (release). The variants run in alternating blocks of
//! `WS_TEST_BENCH_BLOCK` tests (default 50) so that drift on the machine hits all of them; `WS_TEST_BENCH_ITERS`
//! sets the tests per variant (default 1000). Every ratio is against TCP measured in the same run.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use hdrhistogram::Histogram;
use ws_test_benches::rss_kib;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Error, Transport};

/// The five events for every text frame, with a `run_id`, as the built-in agent sends them.
async fn five_events(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let AxumMessage::Text(_) = message {
            for kind in ChatEvent::CRITICAL {
                let event = json!({"type": kind, "run_id": "r1"}).to_string();
                if socket.send(AxumMessage::Text(event.into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn axum_app() -> Router {
    Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(five_events) }),
    )
}

/// The same five events from the simplest server there is: a tokio-tungstenite accept loop, run by `serve`.
async fn served_five_events(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message as Raw;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(message)) = socket.next().await {
                if message.is_text() {
                    for kind in ChatEvent::CRITICAL {
                        let event = json!({"type": kind, "run_id": "r1"}).to_string();
                        if socket.feed(Raw::text(event)).await.is_err() {
                            return;
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

/// One whole test against the served loop, as `#[ws_test(serve = ...)]` runs it.
async fn one_served_test() -> Result<(), Error> {
    let mut server = ws_test_runtime::ServedServer::builder(served_five_events)
        .start()
        .await?;
    let mut client = server.connect().await?;
    client
        .send_json(json!({"type": "chat_message", "content": "bench"}))
        .await?;
    client
        .expect(Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
        .await?;
    drop(client);
    server.shutdown().await
}

fn whole_served_test() -> Result<Duration, Error> {
    timed(one_served_test())
}

#[derive(Clone, Copy, PartialEq)]
enum Server {
    BuiltIn,
    Axum,
}

#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    server: Server,
    transport: Transport,
}

const VARIANTS: [Variant; 4] = [
    Variant {
        name: "built-in agent, TCP",
        server: Server::BuiltIn,
        transport: Transport::Tcp,
    },
    Variant {
        name: "built-in agent, memory",
        server: Server::BuiltIn,
        transport: Transport::Memory,
    },
    Variant {
        name: "hosted axum app, TCP",
        server: Server::Axum,
        transport: Transport::Tcp,
    },
    Variant {
        name: "hosted axum app, memory",
        server: Server::Axum,
        transport: Transport::Memory,
    },
];

async fn start(variant: Variant) -> Result<EmbeddedServer, Error> {
    let builder = EmbeddedServer::builder().transport(variant.transport);
    match variant.server {
        Server::BuiltIn => builder.start().await,
        Server::Axum => builder.app(axum_app()).start().await,
    }
}

async fn one_test(variant: Variant) -> Result<(), Error> {
    let mut server = start(variant).await?;
    let mut client = server.connect().await?;
    if variant.server == Server::BuiltIn {
        client.expect(Expect::events(["connection_established"])).await?;
    }
    client
        .send_json(json!({"type": "chat_message", "content": "bench"}))
        .await?;
    client
        .expect(Expect::events(ChatEvent::CRITICAL).strict().per("run_id"))
        .await?;
    drop(client);
    server.shutdown().await?;
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Error::Config(format!("cannot build the runtime: {error}")))
}

fn whole_test(variant: Variant) -> Result<Duration, Error> {
    timed(one_test(variant))
}

/// One whole test on a fresh runtime, as `#[ws_test]` runs it, timed from building the runtime to its result.
fn timed(test: impl std::future::Future<Output = Result<(), Error>>) -> Result<Duration, Error> {
    let started = Instant::now();
    runtime()?.block_on(test)?;
    Ok(started.elapsed())
}

/// KiB of resident memory per idle connection, client and server side together.
fn idle_connection_kib(variant: Variant, connections: usize) -> Result<f64, Error> {
    runtime()?.block_on(async {
        let server = start(variant).await?;
        let before = rss_kib();
        let mut clients = Vec::with_capacity(connections);
        for _ in 0..connections {
            clients.push(server.connect().await?);
        }
        let after = rss_kib();
        drop(clients);
        Ok((after.saturating_sub(before)) as f64 / connections as f64)
    })
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

/// Measures one variant's idle connections in a fresh process (this bench, run again): memory freed by an earlier
/// measurement stays resident in the allocator and would hide the next one's growth.
fn idle_in_child(index: usize, connections: usize) -> Result<f64, Error> {
    let failed = |why: String| Error::Config(format!("the idle-connection measurement failed: {why}"));
    let exe = std::env::current_exe().map_err(|error| failed(error.to_string()))?;
    let output = std::process::Command::new(exe)
        .args(["--idle-child", &index.to_string(), &connections.to_string()])
        .output()
        .map_err(|error| failed(error.to_string()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().map_err(|_| {
        failed(format!(
            "the child printed {text:?}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    })
}

/// The child side of [`idle_in_child`]: prints the KiB per connection of one variant.
fn idle_child(index: &str, connections: &str) -> Result<(), Error> {
    let index: usize = index
        .parse()
        .map_err(|_| Error::Config(format!("bad variant index {index:?}")))?;
    let connections: usize = connections
        .parse()
        .map_err(|_| Error::Config(format!("bad connection count {connections:?}")))?;
    let variant = VARIANTS
        .get(index)
        .ok_or_else(|| Error::Config(format!("no variant {index}")))?;
    println!("{}", idle_connection_kib(*variant, connections)?);
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list: there are no test cases here.
    }
    match args.as_slice() {
        [_, flag, index, connections] if flag == "--idle-child" => return idle_child(index, connections),
        _ => {}
    }

    let iterations = env_number("WS_TEST_BENCH_ITERS", 1000);
    let block = env_number("WS_TEST_BENCH_BLOCK", 50).max(1);
    let mut histograms: Vec<Histogram<u64>> = VARIANTS
        .iter()
        .map(|_| Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds"))
        .collect();
    let mut served = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    for variant in VARIANTS {
        whole_test(variant)?; // warm up: the first test pays for lazy statics and page faults
    }
    whole_served_test()?;
    let mut done = 0;
    while done < iterations {
        let this_block = block.min(iterations - done);
        for (variant, histogram) in VARIANTS.iter().zip(&mut histograms) {
            for _ in 0..this_block {
                histogram.saturating_record(whole_test(*variant)?.as_nanos() as u64);
            }
        }
        for _ in 0..this_block {
            served.saturating_record(whole_served_test()?.as_nanos() as u64);
        }
        done += this_block;
    }
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("one whole test per variant, {iterations} each in alternating blocks of {block} ({profile})");
    println!(
        "{:<26} {:>10} {:>10} {:>10}   {:>22}",
        "variant", "p50 µs", "p90 µs", "p99 µs", "p50 vs TCP, same server"
    );
    for (index, (variant, histogram)) in VARIANTS.iter().zip(&histograms).enumerate() {
        let p50 = histogram.value_at_quantile(0.5);
        let tcp = histograms[index - index % 2].value_at_quantile(0.5);
        println!(
            "{:<26} {:>10.1} {:>10.1} {:>10.1}   {:>21.2}×",
            variant.name,
            micros(p50),
            micros(histogram.value_at_quantile(0.9)),
            micros(histogram.value_at_quantile(0.99)),
            p50 as f64 / tcp as f64
        );
    }
    let axum_tcp = histograms[2].value_at_quantile(0.5);
    println!(
        "{:<26} {:>10.1} {:>10.1} {:>10.1}   {:>21.2}× hosted axum app, TCP",
        "served tungstenite, TCP",
        micros(served.value_at_quantile(0.5)),
        micros(served.value_at_quantile(0.9)),
        micros(served.value_at_quantile(0.99)),
        served.value_at_quantile(0.5) as f64 / axum_tcp as f64
    );
    let connections = env_number("WS_TEST_BENCH_IDLE", 2000);
    println!("\nresident memory per idle connection, client + server side, {connections} connections");
    let mut tcp_kib = 0.0;
    for (index, variant) in VARIANTS.iter().enumerate() {
        let kib = idle_in_child(index, connections)?;
        if index % 2 == 0 {
            tcp_kib = kib;
        }
        println!(
            "{:<26} {:>8.1} KiB   {:>6.2}× TCP",
            variant.name,
            kib,
            kib / tcp_kib.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

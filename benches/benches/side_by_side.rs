//! ws-test side by side with the floor (`benches/floor.rs`: the same work on bare tokio + hyper +
//! tokio-tungstenite), measured in the same run, the two alternating in blocks so drift on the machine hits both.
//!
//! ```text
//! cargo bench -p ws-test-benches --bench side_by_side                 # every figure, release
//! cargo bench -p ws-test-benches --bench side_by_side -- --json       # the same, as JSON
//! cargo bench -p ws-test-benches --bench side_by_side --profile dev -- --only whole   # what `cargo test` builds
//! cargo bench -p ws-test-benches --bench side_by_side -- --quick      # small counts (CI: it must not rot)
//! ```
//!
//! Figures: the whole test (`#[ws_test]`'s work, through the same driver), a steady chat round on an open
//! connection, pipelined echo on one connection, memory per idle connection, and 10,000 connections with one chat
//! each (server in a child process, as `ws-test serve`; clients here, as `ws-test bench`). Each prints median,
//! p90 and p99 of ws-test and of the floor, and the ratio of the medians.

use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use futures_util::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use ws_test_benches::floor::{self, FloorClient, FloorServer};
use ws_test_benches::rss_kib;
use ws_test_runtime::__private::{TestSpec, body, run};
use ws_test_runtime::prelude::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What this run measures, and how much.
#[derive(Debug, Clone)]
struct Plan {
    quick: bool,
    json: bool,
    only: Option<Vec<String>>,
    whole_tests: usize,
    block: usize,
    rounds: usize,
    pipelined: usize,
    repeats: usize,
    idle: usize,
    many: usize,
}

impl Plan {
    fn from_args(args: &[String]) -> Result<Plan, BoxError> {
        let quick = args.iter().any(|arg| arg == "--quick");
        let only = match args.iter().position(|arg| arg == "--only") {
            Some(at) => Some(
                args.get(at + 1)
                    .ok_or("--only needs a comma-separated list: whole,steady,pipelined,idle,many")?
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
            ),
            None => None,
        };
        let (whole_tests, rounds, pipelined, repeats, idle, many) = if quick {
            (20, 200, 2_000, 1, 100, 200)
        } else {
            (500, 5_000, 200_000, 5, 2_000, 10_000)
        };
        Ok(Plan {
            quick,
            json: args.iter().any(|arg| arg == "--json"),
            only,
            whole_tests,
            block: if quick { 5 } else { 50 },
            rounds,
            pipelined,
            repeats,
            idle,
            many,
        })
    }

    fn wants(&self, figure: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|name| name == figure))
    }
}

/// Median, p90 and p99 of a series, in the figure's unit.
#[derive(Debug, Clone, Copy)]
struct Summary {
    p50: f64,
    p90: f64,
    p99: f64,
}

impl Summary {
    fn of(histogram: &Histogram<u64>, scale: f64) -> Summary {
        Summary {
            p50: histogram.value_at_quantile(0.5) as f64 / scale,
            p90: histogram.value_at_quantile(0.9) as f64 / scale,
            p99: histogram.value_at_quantile(0.99) as f64 / scale,
        }
    }

    /// Of a handful of samples (repeated throughput or memory runs): sorted, then picked by rank.
    fn of_samples(samples: &[f64]) -> Summary {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
        Summary {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
        }
    }

    fn json(&self) -> Value {
        json!({"p50": self.p50, "p90": self.p90, "p99": self.p99})
    }
}

/// One line of the table.
#[derive(Debug)]
struct Figure {
    name: String,
    unit: &'static str,
    ours: Summary,
    floor: Option<Summary>,
    /// The floor with the one setting ws-test changes (an 8 KiB read buffer), where it applies.
    tuned: Option<Summary>,
    /// The goal for ours / floor (medians) or, without a floor, for ours; and whether lower is better.
    goal: Option<(f64, bool)>,
    note: String,
}

impl Figure {
    fn ratio(&self) -> Option<f64> {
        self.floor.map(|floor| self.ours.p50 / floor.p50)
    }

    fn tuned_ratio(&self) -> Option<f64> {
        self.tuned.map(|tuned| self.ours.p50 / tuned.p50)
    }

    fn met(&self) -> Option<bool> {
        let (goal, lower_is_better) = self.goal?;
        let value = self.ratio().unwrap_or(self.ours.p50);
        Some(if lower_is_better { value <= goal } else { value >= goal })
    }

    fn print(&self) {
        let row = |who: &str, summary: &Summary| {
            println!(
                "  {who:<8} p50 {:>11.1}  p90 {:>11.1}  p99 {:>11.1}  {}",
                summary.p50, summary.p90, summary.p99, self.unit
            );
        };
        println!("{}", self.name);
        row("ws-test", &self.ours);
        if let Some(floor) = &self.floor {
            row("floor", floor);
        }
        if let Some(tuned) = &self.tuned {
            row("tuned", tuned);
        }
        let goal = match self.goal {
            Some((goal, true)) if self.floor.is_some() => format!("goal ≤ {goal}×"),
            Some((goal, false)) if self.floor.is_some() => format!("goal ≥ {goal}×"),
            Some((goal, true)) => format!("goal ≤ {goal} {}", self.unit),
            Some((goal, false)) => format!("goal ≥ {goal} {}", self.unit),
            None => String::new(),
        };
        let verdict = match self.met() {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "",
        };
        match self.ratio() {
            Some(ratio) => println!("  ratio    {ratio:.2}× the floor (medians)   {goal} {verdict}"),
            None => println!("  {goal} {verdict}"),
        }
        if let Some(ratio) = self.tuned_ratio() {
            println!("           {ratio:.2}× the floor tuned like ws-test (8 KiB read buffer)");
        }
        if !self.note.is_empty() {
            println!("  {}", self.note);
        }
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name,
            "unit": self.unit,
            "ws_test": self.ours.json(),
            "floor": self.floor.as_ref().map(Summary::json),
            "ratio": self.ratio(),
            "floor_tuned": self.tuned.as_ref().map(Summary::json),
            "ratio_tuned": self.tuned_ratio(),
            "goal": self.goal.map(|(goal, _)| goal),
            "lower_is_better": self.goal.map(|(_, lower)| lower),
            "met": self.met(),
            "note": self.note,
        })
    }
}

fn histogram() -> Histogram<u64> {
    // Constant bounds (1 ns to 10 min, 3 significant digits): valid by construction.
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("constant histogram bounds are valid")
}

fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    histogram.saturating_record(elapsed.as_nanos() as u64);
}

fn current_thread() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Runs each side `total` times, the sides alternating in blocks of `block`; one histogram per side.
fn alternate(
    total: usize,
    block: usize,
    sides: &mut [&mut dyn FnMut() -> Result<Duration, BoxError>],
) -> Result<Vec<Histogram<u64>>, BoxError> {
    let mut histograms: Vec<Histogram<u64>> = sides.iter().map(|_| histogram()).collect();
    let mut done = 0;
    while done < total {
        let this_block = block.min(total - done);
        for (side, histogram) in sides.iter_mut().zip(&mut histograms) {
            for _ in 0..this_block {
                record(histogram, side()?);
            }
        }
        done += this_block;
    }
    Ok(histograms)
}

// ---- the whole test ----

/// The body of the benched `#[ws_test(events = [...5 events...], strict)]` test.
async fn chat_body(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "bench"}))
        .await?;
    Ok(())
}

/// What `#[ws_test(events = [...], strict)]` runs: the same spec, the same driver.
fn ws_test_whole() -> Result<Duration, BoxError> {
    let started = Instant::now();
    let spec = TestSpec::new("side_by_side::whole").expect(Expect::events(ChatEvent::CRITICAL).strict());
    run(spec, body(chat_body));
    Ok(started.elapsed())
}

/// What the same test costs by hand, with its own fresh runtime as `#[tokio::test]` builds one.
fn floor_whole(config: Option<WebSocketConfig>) -> Result<Duration, BoxError> {
    let started = Instant::now();
    current_thread()?.block_on(floor::whole_test(config))?;
    Ok(started.elapsed())
}

/// Sockets in TIME_WAIT on this machine: past about ten thousand, the kernel's search for a free port dominates
/// a whole test (both sides alike), so the figure says how many there were.
fn time_wait_sockets() -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|table| {
            table
                .lines()
                .skip(1)
                .filter(|line| line.split_whitespace().nth(3) == Some("06"))
                .count()
        })
        .sum()
}

fn whole(plan: &Plan) -> Result<Figure, BoxError> {
    let time_wait = time_wait_sockets();
    ws_test_whole()?;
    floor_whole(None)?; // warm-up: lazy statics and page faults
    let histograms = alternate(
        plan.whole_tests,
        plan.block,
        &mut [&mut ws_test_whole, &mut || floor_whole(None), &mut || {
            floor_whole(floor::tuned())
        }],
    )?;
    let [ours, floor, tuned] = histograms.as_slice() else {
        unreachable!("three sides, three histograms")
    };
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    Ok(Figure {
        name: format!(
            "whole test ({profile}): runtime, server, connect, welcome, 1 chat, 5 events strict, teardown — {} each",
            plan.whole_tests
        ),
        unit: "µs",
        ours: Summary::of(ours, 1_000.0),
        floor: Some(Summary::of(floor, 1_000.0)),
        tuned: Some(Summary::of(tuned, 1_000.0)),
        goal: Some((1.2, true)),
        note: format!(
            "{time_wait} sockets were in TIME_WAIT before (each test leaves two; past ~10,000 the kernel's port \
             search slows both sides)"
        ),
    })
}

/// The phases of a whole test, ws-test's and the tuned floor's, alternating, each on a fresh runtime: medians in µs.
fn phases(tests: usize) -> Result<(), BoxError> {
    const NAMES: [&str; 7] = [
        "runtime",
        "server start",
        "connect",
        "welcome",
        "chat",
        "teardown",
        "runtime drop",
    ];
    let mut ours: Vec<Histogram<u64>> = NAMES.iter().map(|_| histogram()).collect();
    let mut theirs: Vec<Histogram<u64>> = NAMES.iter().map(|_| histogram()).collect();
    for _ in 0..tests {
        for (side, marks) in [(0, &mut ours), (1, &mut theirs)] {
            let mut last = Instant::now();
            let mut mark = |phase: usize| {
                record(&mut marks[phase], last.elapsed());
                last = Instant::now();
            };
            let runtime = current_thread()?;
            mark(0);
            runtime.block_on(async {
                if side == 0 {
                    let mut server = EmbeddedServer::start().await?;
                    mark(1);
                    let mut client = server.connect().await?;
                    mark(2);
                    client.expect(Expect::events(["connection_established"])).await?;
                    mark(3);
                    client
                        .send_json(&json!({"type": "chat_message", "content": "bench"}))
                        .await?;
                    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
                    mark(4);
                    drop(client);
                    server.shutdown().await?;
                    mark(5);
                } else {
                    let server = FloorServer::start(floor::tuned()).await?;
                    mark(1);
                    let mut client = FloorClient::connect(server.addr(), floor::tuned()).await?;
                    mark(2);
                    client.expect_strict(&["connection_established"]).await?;
                    mark(3);
                    floor::chat_round(&mut client, "bench").await?;
                    mark(4);
                    client.close().await?;
                    server.shutdown().await;
                    mark(5);
                }
                Ok::<_, BoxError>(())
            })?;
            drop(runtime);
            mark(6);
        }
    }
    let mut driver = histogram();
    let mut by_hand = histogram();
    for _ in 0..tests {
        record(&mut driver, ws_test_whole()?);
        record(&mut by_hand, floor_whole(floor::tuned())?);
    }
    println!(
        "whole, through the driver {:.1} µs; the tuned floor's whole {:.1} µs",
        driver.value_at_quantile(0.5) as f64 / 1e3,
        by_hand.value_at_quantile(0.5) as f64 / 1e3
    );
    for (phase, name) in NAMES.iter().enumerate() {
        let (a, b) = (ours[phase].value_at_quantile(0.5), theirs[phase].value_at_quantile(0.5));
        println!(
            "{name:<16} ws-test {:>8.1} µs   floor {:>8.1} µs",
            a as f64 / 1e3,
            b as f64 / 1e3
        );
    }
    Ok(())
}

// ---- the steady chat round ----

/// An event as a hand-written client that knows its protocol reads it: its type and its run, nothing else.
#[derive(serde::Deserialize)]
struct TypedEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow, default)]
    run_id: Option<&'a str>,
}

/// The steady round of a bare client with a typed parse: send the chat message, then read the five events, each
/// parsed into a [`TypedEvent`], checking their order and that they share one run.
async fn typed_chat_round(client: &mut FloorClient, content: &str) -> Result<(), BoxError> {
    client
        .send(&json!({"type": "chat_message", "content": content}))
        .await?;
    let mut run: Option<String> = None;
    for &expected in ChatEvent::CRITICAL {
        let text = client.recv_text().await?;
        let event: TypedEvent<'_> = serde_json::from_str(&text)?;
        if event.kind != expected {
            return Err(format!("expected {expected}, got {}", event.kind).into());
        }
        match (&run, event.run_id) {
            (None, Some(id)) => run = Some(id.to_owned()),
            (Some(first), Some(id)) if first != id => {
                return Err(format!("{} belongs to another run", event.kind).into());
            }
            _ => {}
        }
    }
    Ok(())
}

fn steady(plan: &Plan) -> Result<Vec<Figure>, BoxError> {
    current_thread()?.block_on(async {
        let server = EmbeddedServer::start().await?;
        let mut client = server.connect().await?;
        client.expect(Expect::events(["connection_established"])).await?;
        let events = Expect::events(ChatEvent::CRITICAL).strict();
        let floor_server = FloorServer::start(None).await?;
        let mut floor_client = FloorClient::connect(floor_server.addr(), None).await?;
        floor_client.expect_strict(&["connection_established"]).await?;
        let tuned_server = FloorServer::start(floor::tuned()).await?;
        let mut tuned_client = FloorClient::connect(tuned_server.addr(), floor::tuned()).await?;
        tuned_client.expect_strict(&["connection_established"]).await?;
        let typed_server = FloorServer::start(None).await?;
        let mut typed_client = FloorClient::connect(typed_server.addr(), None).await?;
        typed_client.expect_strict(&["connection_established"]).await?;
        let chat = json!({"type": "chat_message", "content": "bench"});
        let (mut ours, mut floor, mut tuned, mut typed) = (histogram(), histogram(), histogram(), histogram());
        let block = 100.min(plan.rounds);
        let mut done = 0;
        while done < plan.rounds {
            for _ in 0..block {
                let started = Instant::now();
                client.send_json(&chat).await?;
                client.expect(&events).await?;
                record(&mut ours, started.elapsed());
            }
            for _ in 0..block {
                let started = Instant::now();
                floor::chat_round(&mut floor_client, "bench").await?;
                record(&mut floor, started.elapsed());
            }
            for _ in 0..block {
                let started = Instant::now();
                floor::chat_round(&mut tuned_client, "bench").await?;
                record(&mut tuned, started.elapsed());
            }
            for _ in 0..block {
                let started = Instant::now();
                typed_chat_round(&mut typed_client, "bench").await?;
                record(&mut typed, started.elapsed());
            }
            done += block;
        }
        client.close(1000, "done").await?;
        floor_client.close().await?;
        floor_server.shutdown().await;
        tuned_client.close().await?;
        tuned_server.shutdown().await;
        typed_client.close().await?;
        typed_server.shutdown().await;
        Ok(vec![
            Figure {
                name: format!(
                    "steady chat round on an open connection (send 1, receive + check 5 strict) — {} rounds each",
                    plan.rounds
                ),
                unit: "µs",
                ours: Summary::of(&ours, 1_000.0),
                floor: Some(Summary::of(&floor, 1_000.0)),
                tuned: Some(Summary::of(&tuned, 1_000.0)),
                goal: None,
                note: "the floor parses each event into a serde_json::Value".to_owned(),
            },
            Figure {
                name: format!(
                    "steady chat round, floor with a typed parse (each event into a struct of its type and run) — {} \
                     rounds each",
                    plan.rounds
                ),
                unit: "µs",
                ours: Summary::of(&ours, 1_000.0),
                floor: Some(Summary::of(&typed, 1_000.0)),
                tuned: None,
                goal: Some((1.3, true)),
                note: String::new(),
            },
        ])
    })
}

/// One side's steady rounds and nothing else, for a profiler.
fn steady_alone(who: &str, rounds: usize) -> Result<(), BoxError> {
    current_thread()?.block_on(async {
        let chat = json!({"type": "chat_message", "content": "bench"});
        if who == "floor" {
            let server = FloorServer::start(None).await?;
            let mut client = FloorClient::connect(server.addr(), None).await?;
            client.expect_strict(&["connection_established"]).await?;
            for _ in 0..rounds {
                floor::chat_round(&mut client, "bench").await?;
            }
        } else {
            let server = EmbeddedServer::start().await?;
            let mut client = server.connect().await?;
            client.expect(Expect::events(["connection_established"])).await?;
            let events = Expect::events(ChatEvent::CRITICAL).strict();
            for _ in 0..rounds {
                client.send_json(&chat).await?;
                client.expect(&events).await?;
            }
        }
        Ok(())
    })
}

// ---- pipelined echo ----

fn echo(n: usize) -> Value {
    json!({"type": "echo", "payload": n})
}

/// ws-test: every echo queued with `feed_json` (one flush at the end), every reply received and parsed.
async fn ws_test_pipelined(messages: usize) -> Result<Duration, BoxError> {
    let server = EmbeddedServer::start().await?;
    let mut client = WsClient::builder(server.url())
        .max_history_bytes(1 << 30)
        .connect()
        .await?;
    client.expect(Expect::events(["connection_established"])).await?;
    let started = Instant::now();
    for n in 0..messages {
        client.feed_json(&echo(n)).await?;
    }
    client.flush().await?;
    for n in 0..messages {
        let reply = client.recv_json().await?;
        if reply["payload"] != n {
            return Err(format!("echo {n} came back as {reply}").into());
        }
    }
    let elapsed = started.elapsed();
    client.close(1000, "done").await?;
    Ok(elapsed)
}

/// The floor: the socket split, one side feeding every echo (`flush_each`: sending each), the other reading.
async fn floor_pipelined(
    messages: usize,
    flush_each: bool,
    config: Option<WebSocketConfig>,
) -> Result<Duration, BoxError> {
    let server = FloorServer::start(config).await?;
    let client = FloorClient::connect(server.addr(), config).await?;
    let (mut sink, mut stream) = client.into_socket().split();
    let welcome = stream.next().await.ok_or("no welcome")??;
    drop(welcome);
    let started = Instant::now();
    let send = async {
        for n in 0..messages {
            let frame = floor::text(&echo(n));
            if flush_each {
                sink.send(frame).await?;
            } else {
                sink.feed(frame).await?;
            }
        }
        sink.flush().await?;
        Ok::<_, BoxError>(())
    };
    let receive = async {
        for n in 0..messages {
            let frame = stream.next().await.ok_or("the connection ended")??;
            let reply: Value = serde_json::from_str(frame.to_text()?)?;
            if reply["payload"] != n {
                return Err(format!("echo {n} came back as {reply}").into());
            }
        }
        Ok::<_, BoxError>(())
    };
    tokio::try_join!(send, receive)?;
    let elapsed = started.elapsed();
    let _ = sink.close().await;
    server.shutdown().await;
    Ok(elapsed)
}

fn pipelined(plan: &Plan) -> Result<Vec<Figure>, BoxError> {
    let runtime = current_thread()?;
    let rate = |elapsed: Duration| plan.pipelined as f64 / elapsed.as_secs_f64();
    let (mut ours, mut batched, mut tuned, mut flushing) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.repeats {
        ours.push(rate(runtime.block_on(ws_test_pipelined(plan.pipelined))?));
        batched.push(rate(runtime.block_on(floor_pipelined(plan.pipelined, false, None))?));
        tuned.push(rate(runtime.block_on(floor_pipelined(
            plan.pipelined,
            false,
            floor::tuned(),
        ))?));
        flushing.push(rate(runtime.block_on(floor_pipelined(plan.pipelined, true, None))?));
    }
    let name = |floor: &str| {
        format!(
            "pipelined echo, 1 connection, {} messages, floor {floor} — {} runs each, messages/s",
            plan.pipelined, plan.repeats
        )
    };
    Ok(vec![
        Figure {
            name: name("batched (feed all, flush once)"),
            unit: "msg/s",
            ours: Summary::of_samples(&ours),
            floor: Some(Summary::of_samples(&batched)),
            tuned: Some(Summary::of_samples(&tuned)),
            goal: Some((0.6, false)),
            note: String::new(),
        },
        Figure {
            name: name("flushing each message"),
            unit: "msg/s",
            ours: Summary::of_samples(&ours),
            floor: Some(Summary::of_samples(&flushing)),
            tuned: None,
            goal: None,
            note: String::new(),
        },
    ])
}

// ---- memory per idle connection ----

/// The child's side: KiB of resident memory per idle connection, client and server side together.
fn idle_child(who: &str, connections: usize) -> Result<f64, BoxError> {
    current_thread()?.block_on(async {
        if who.starts_with("floor") {
            let config = if who == "floor-tuned" { floor::tuned() } else { None };
            let server = FloorServer::start(config).await?;
            let before = rss_kib();
            let mut clients = Vec::with_capacity(connections);
            for _ in 0..connections {
                let mut client = FloorClient::connect(server.addr(), config).await?;
                client.expect_strict(&["connection_established"]).await?;
                clients.push(client);
            }
            Ok((rss_kib().saturating_sub(before)) as f64 / connections as f64)
        } else {
            let server = EmbeddedServer::start().await?;
            let before = rss_kib();
            let mut clients = Vec::with_capacity(connections);
            for _ in 0..connections {
                let mut client = server.connect().await?;
                client.expect(Expect::events(["connection_established"])).await?;
                clients.push(client);
            }
            Ok((rss_kib().saturating_sub(before)) as f64 / connections as f64)
        }
    })
}

/// Runs this bench again as a child and parses the one number it prints: memory freed by an earlier measurement
/// stays resident in the allocator and would hide the next one's growth.
fn child(args: &[&str]) -> Result<f64, BoxError> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().map_err(|_| {
        format!(
            "the child {args:?} printed {text:?}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into()
    })
}

fn idle(plan: &Plan) -> Result<Figure, BoxError> {
    let connections = plan.idle.to_string();
    let (mut ours, mut floor, mut tuned) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.repeats.min(3) {
        ours.push(child(&["idle", "ws-test", &connections])?);
        floor.push(child(&["idle", "floor", &connections])?);
        tuned.push(child(&["idle", "floor-tuned", &connections])?);
    }
    Ok(Figure {
        name: format!(
            "memory per idle connection, client + server side (RSS delta / {}) — {} runs each, fresh process",
            plan.idle,
            ours.len()
        ),
        unit: "KiB",
        ours: Summary::of_samples(&ours),
        floor: Some(Summary::of_samples(&floor)),
        tuned: Some(Summary::of_samples(&tuned)),
        goal: None,
        note: "goal: ws-test ≤ 64 KiB (the floor is tungstenite's defaults)".into(),
    })
}

// ---- many connections ----

/// The child's side of [`many`]: the embedded server as `ws-test serve` runs it; prints its URL, serves until
/// stdin closes.
fn serve_child() -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let server = EmbeddedServer::builder().max_pending(20_000).start().await?;
        println!("{}", server.url());
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await??;
        drop(server);
        Ok(())
    })
}

fn many(plan: &Plan) -> Result<Figure, BoxError> {
    use std::io::BufRead as _;
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["--child", "serve"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut url = String::new();
    let stdout = server.stdout.take().ok_or("the server child has no stdout")?;
    std::io::BufReader::new(stdout).read_line(&mut url)?;
    let url = url.trim().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let before = rss_kib();
    let outcome = runtime.block_on(async {
        let started = Instant::now();
        let events = Expect::events(ChatEvent::CRITICAL).strict();
        let clients = try_join_all((0..plan.many).map(|n| {
            let url = url.clone();
            let events = &events;
            async move {
                let mut client = WsClient::connect(&url).await?;
                client.expect(Expect::events(["connection_established"])).await?;
                client
                    .send_json(&json!({"type": "chat_message", "content": format!("client {n}")}))
                    .await?;
                client.expect(events).await?;
                Ok::<_, ws_test_runtime::Error>(client)
            }
        }))
        .await?;
        let elapsed = started.elapsed();
        let rss = rss_kib().saturating_sub(before);
        drop(clients);
        Ok::<_, BoxError>((elapsed, rss))
    });
    drop(server.stdin.take());
    let _ = server.wait();
    let (elapsed, rss) = outcome?;
    Ok(Figure {
        name: format!(
            "{} connections + 1 chat each (server in a child process, as `ws-test serve`; clients here)",
            plan.many
        ),
        unit: "ms",
        ours: Summary::of_samples(&[elapsed.as_secs_f64() * 1000.0]),
        floor: None,
        tuned: None,
        goal: (!plan.quick).then_some((5_000.0, true)),
        note: format!("client side resident memory: {:.1} MiB", rss as f64 / 1024.0),
    })
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list: there are no test cases here.
    }
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--child", "idle", who, connections] => {
            println!("{}", idle_child(who, connections.parse()?)?);
            return Ok(());
        }
        ["--child", "serve"] => return serve_child(),
        // For a profiler: one side's whole tests alone (`perf record ... -- --child whole ws-test 5000`).
        ["--child", "whole", who, tests] => {
            let side = match *who {
                "ws-test" => None,
                "floor" => Some(None),
                "floor-tuned" => Some(floor::tuned()),
                other => {
                    return Err(format!("--child whole takes ws-test, floor or floor-tuned, not {other:?}").into());
                }
            };
            for _ in 0..tests.parse::<usize>()? {
                match side {
                    None => ws_test_whole()?,
                    Some(config) => floor_whole(config)?,
                };
            }
            return Ok(());
        }
        // Where a whole test's time goes, phase by phase, both sides (`--child phases 2000`).
        ["--child", "phases", tests] => return phases(tests.parse()?),
        // For a profiler: one side's steady chat rounds alone (`perf record ... -- --child steady ws-test 100000`).
        ["--child", "steady", who, rounds] => return steady_alone(who, rounds.parse()?),
        _ => {}
    }
    let plan = Plan::from_args(&args)?;
    let mut figures = Vec::new();
    let mut show = |figure: Figure| {
        if !plan.json {
            figure.print();
            println!();
        }
        figures.push(figure);
    };
    if plan.wants("whole") {
        show(whole(&plan)?);
    }
    if plan.wants("steady") {
        for figure in steady(&plan)? {
            show(figure);
        }
    }
    if plan.wants("pipelined") {
        for figure in pipelined(&plan)? {
            show(figure);
        }
    }
    if plan.wants("idle") {
        show(idle(&plan)?);
    }
    if plan.wants("many") {
        show(many(&plan)?);
    }
    if plan.json {
        let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
        let report = json!({"profile": profile, "quick": plan.quick, "figures": figures.iter().map(Figure::json).collect::<Vec<_>>()});
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

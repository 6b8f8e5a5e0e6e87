//! What a `Link` adds to every frame: echo round trips on one connection straight to the server and through an
//! ideal link (`Link::new()`: latency 0, no limit), alternating in blocks so drift hits both, and the difference
//! per frame (a round trip is two frames, one each way).
//!
//! `cargo bench -p ws-test-benches --bench link` (release); `-- --quick` for small counts. The goal is under
//! 50 µs per frame.

use std::time::Instant;

use hdrhistogram::Histogram;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{Error, Link};

/// `rounds` echo round trips on one connection, each timed.
async fn round_trips(client: &mut WsClient, rounds: usize, into: &mut Histogram<u64>) -> Result<(), Error> {
    for round in 0..rounds {
        let started = Instant::now();
        client.send_json(json!({"type": "echo", "payload": round})).await?;
        client.recv_json().await?;
        into.saturating_record(started.elapsed().as_nanos() as u64);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (blocks, rounds) = if quick { (4, 50) } else { (40, 500) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let plain = EmbeddedServer::start().await?;
        let linked = EmbeddedServer::builder().link(Link::new()).start().await?;
        let mut straight = plain.connect().await?;
        let mut through = linked.connect().await?;
        straight.expect_type("connection_established").await?;
        through.expect_type("connection_established").await?;
        let mut warm = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
        round_trips(&mut straight, rounds, &mut warm).await?;
        round_trips(&mut through, rounds, &mut warm).await?;
        let (mut direct, mut linked_rtt) = (
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?,
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?,
        );
        for _ in 0..blocks {
            round_trips(&mut straight, rounds, &mut direct).await?;
            round_trips(&mut through, rounds, &mut linked_rtt).await?;
        }
        let micros = |histogram: &Histogram<u64>, q: f64| histogram.value_at_quantile(q) as f64 / 1e3;
        println!(
            "echo round trip, {} each (release: {}):",
            blocks * rounds,
            !cfg!(debug_assertions)
        );
        for (name, histogram) in [("direct", &direct), ("ideal link", &linked_rtt)] {
            println!(
                "  {name:<11} p50 {:8.1} µs   p90 {:8.1} µs   p99 {:8.1} µs",
                micros(histogram, 0.5),
                micros(histogram, 0.9),
                micros(histogram, 0.99)
            );
        }
        let per_frame = (micros(&linked_rtt, 0.5) - micros(&direct, 0.5)) / 2.0;
        println!(
            "  the link adds {per_frame:.1} µs per frame (median round trip difference / 2); goal < 50 µs: {}",
            if per_frame < 50.0 { "met" } else { "NOT met" }
        );
        let stats = linked.link().stats();
        assert_eq!(stats.opened, 1, "{stats:?}");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

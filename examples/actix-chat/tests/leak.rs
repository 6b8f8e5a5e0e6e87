//! No leak with actix-web's own threads: start → connect → chat → stop cycles of the actix app under
//! `ServedServer` leave the threads (actix's accept thread and workers), the open file descriptors and the port
//! where they started, and each stop is immediate (no graceful-shutdown wait). Linux only: it counts under `/proc`.
//! Its own test binary, so nothing else in the process starts threads while it counts.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use ws_test_runtime::ServedServer;
use ws_test_runtime::prelude::*;

const CYCLES: usize = 30;

fn counts() -> (usize, usize) {
    let count = |dir| std::fs::read_dir(dir).map_or(0, Iterator::count);
    (count("/proc/self/fd"), count("/proc/self/task"))
}

/// Waits (up to 10 s) for the descriptors and threads to come back to `baseline` or below (the baseline may
/// still hold a socket of the warm-up cycle that actix's worker closes a moment later); says what stayed.
async fn settled(baseline: (usize, usize), cycles: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = counts();
        if now.0 <= baseline.0 && now.1 <= baseline.1 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {cycles} actix cycles: (open fds, threads) = {now:?}, started at {baseline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn cycle(run: usize) -> Duration {
    let mut server = ServedServer::builder(actix_chat::serve)
        .path("/chat")
        .start()
        .await
        .expect("starts");
    let mut client = server
        .connect_with(server.client().token(actix_chat::TOKEN))
        .await
        .expect("connects");
    client
        .send_json(json!({"type": "chat_message", "content": "leak?", "run_id": format!("run-{run}")}))
        .await
        .expect("sent");
    client
        .expect(Expect::events(ChatEvent::CRITICAL).strict())
        .await
        .expect("the five events");
    // The client stays connected: stopping must not wait for it (actix-web's graceful default is 30 s).
    let addr = server.local_addr().expect("a served server listens on TCP");
    let stopping = Instant::now();
    server.shutdown().await.expect("stops cleanly");
    let took = stopping.elapsed();
    drop(client);
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "cycle {run}: {addr} still accepts after stop");
    took
}

#[test]
fn actix_cycles_leave_no_thread_and_no_descriptor_behind() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        cycle(0).await;
        settled(counts(), 0).await;
        let baseline = counts();
        let mut slowest = Duration::ZERO;
        for run in 1..=CYCLES {
            slowest = slowest.max(cycle(run).await);
        }
        settled(baseline, CYCLES).await;
        // Far under actix-web's 30 s graceful default: the stop does not wait for the open client.
        assert!(slowest < Duration::from_secs(5), "the slowest stop took {slowest:?}");
    });
}

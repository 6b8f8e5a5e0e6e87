//! No leak: 1,000 start → connect → chat → shutdown cycles in one process, over TCP and over the in-memory
//! transport, and as many of a served server (a tokio-tungstenite accept loop under `ServedServer`), leave the open
//! file descriptors, the live tasks and the threads where they started, and every shut-down server's address
//! refuses connections. (It counts descriptors and threads under `/proc`, so it runs on Linux only.)
//!
//! Its own test binary with a single test, so that nothing else in the process opens descriptors or spawns tasks
//! while it counts.
#![cfg(target_os = "linux")]

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::{Error, ServedServer, Transport};

const CYCLES: usize = 1000;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

fn live_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

fn counts() -> (usize, usize, usize) {
    (open_fds(), live_tasks(), threads())
}

/// Waits (up to 10 s) for the descriptors, tasks and threads to come back to `baseline`; says what stayed.
async fn settled(baseline: (usize, usize, usize), what: impl std::fmt::Debug, cycles: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = counts();
        if now == baseline {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {cycles} cycles of {what:?}: (open fds, live tasks, threads) = {now:?}, started at {baseline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn cycle(transport: Transport, run: usize) -> Result<(), Error> {
    let mut server = EmbeddedServer::builder().transport(transport).start().await?;
    let url = server.url();
    let mut client = server.connect().await?;
    client.expect(Expect::events(["connection_established"])).await?;
    client
        .send_json(json!({"type": "chat_message", "content": "leak?", "run_id": format!("run-{run}")}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
    client.close(1000, "cycle done").await?;
    drop(client);
    let addr = server.local_addr().ok();
    server.shutdown().await?;
    drop(server);
    match addr {
        Some(addr) => {
            let refused = tokio::net::TcpStream::connect(addr).await;
            assert!(
                matches!(&refused, Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused),
                "cycle {run}: {addr} after shutdown: {refused:?}"
            );
        }
        None => {
            let gone = WsClient::connect(&url).await.unwrap_err().to_string();
            assert!(gone.contains("no in-memory server named"), "cycle {run}: {gone}");
        }
    }
    Ok(())
}

/// A plain tokio-tungstenite accept loop that echoes text frames: the simplest served server.
async fn echo(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            use futures_util::{SinkExt as _, StreamExt as _};
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(message)) = socket.next().await {
                if message.is_text() && socket.send(message).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn served_cycle(run: usize) -> Result<(), Error> {
    let mut server = ServedServer::builder(echo).path("/").start().await?;
    let mut client = server.connect().await?;
    client.send_json(json!({"type": "echo", "run": run})).await?;
    client.expect_type("echo").await?;
    client.close(1000, "cycle done").await?;
    drop(client);
    let addr = server.local_addr()?;
    server.shutdown().await?;
    drop(server);
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(
        matches!(&refused, Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused),
        "served cycle {run}: {addr} after stop: {refused:?}"
    );
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn a_thousand_cycles_leave_no_descriptor_and_no_task_behind() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        for transport in [Transport::Tcp, Transport::Memory] {
            // One cycle first, so that what lives once per process (the panic hook, the memory registry) is there.
            cycle(transport, 0).await.expect("the warm-up cycle");
            settled(counts(), transport, 0).await;
            let baseline = counts();
            for run in 1..=CYCLES {
                if let Err(error) = cycle(transport, run).await {
                    panic!("cycle {run} over {transport:?} failed: {error}");
                }
            }
            settled(baseline, transport, CYCLES).await;
        }
        served_cycle(0).await.expect("the warm-up served cycle");
        settled(counts(), "serve", 0).await;
        let baseline = counts();
        for run in 1..=CYCLES {
            if let Err(error) = served_cycle(run).await {
                panic!("served cycle {run} failed: {error}");
            }
        }
        settled(baseline, "serve", CYCLES).await;
    });
}

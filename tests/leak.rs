//! No leak: 1,000 start → connect → chat → shutdown cycles in one process, over TCP and over the in-memory
//! transport, leave the open file descriptors and the live tasks where they started, and every shut-down server's
//! address refuses connections.
//!
//! Its own test binary with a single test, so that nothing else in the process opens descriptors or spawns tasks
//! while it counts.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::protocol::CRITICAL_EVENTS;
use ws_test_runtime::{Error, Transport};

const CYCLES: usize = 1000;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn live_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits (up to 10 s) for the descriptors and tasks to come back to `baseline`; says what stayed.
async fn settled(baseline: (usize, usize), transport: Transport, cycles: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = (open_fds(), live_tasks());
        if now == baseline {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {cycles} cycles over {transport:?}: (open fds, live tasks) = {now:?}, started at {baseline:?}"
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
    client.expect(Expect::events(CRITICAL_EVENTS).strict()).await?;
    client.close(1000, "cycle done").await?;
    drop(client);
    let addr = server.local_addr();
    server.shutdown().await;
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
            settled((open_fds(), live_tasks()), transport, 0).await;
            let baseline = (open_fds(), live_tasks());
            for run in 1..=CYCLES {
                if let Err(error) = cycle(transport, run).await {
                    panic!("cycle {run} over {transport:?} failed: {error}");
                }
            }
            settled(baseline, transport, CYCLES).await;
        }
    });
}

//! The embedded server's limits under abuse: each holds, is reported with a sentence naming its setting, and
//! leaves the server serving everyone else.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use ws_test_runtime::prelude::*;

use crate::support::{connect_welcomed, read_until_closed, recv_n, wait_until};

/// A chat round on a fresh client: the server still serves.
async fn still_serves(server: &EmbeddedServer) -> TestResult {
    let mut client = server.connect().await?;
    client.expect(Expect::events(["connection_established"])).await?;
    client
        .send_json(json!({"type": "chat_message", "content": "still there?", "run_id": "r"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
    Ok(())
}

/// Waits until the server counts `count` connections in their HTTP phase.
async fn pending_becomes(server: &EmbeddedServer, count: u64) -> std::io::Result<()> {
    let awaited = format!("{count} pending connection(s)");
    wait_until(&awaited, Duration::from_secs(5), || {
        match server.metrics().connections_pending {
            now if now == count => Ok(()),
            other => Err(format!("{other} pending")),
        }
    })
    .await
}

#[tokio::test]
async fn half_sent_requests_are_dropped_at_the_handshake_timeout_and_the_server_goes_on() -> TestResult {
    let server = EmbeddedServer::builder()
        .handshake_timeout(Duration::from_millis(300))
        .start()
        .await?;
    // Slowloris: half a request each, then nothing.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.local_addr()?).await?;
        stream
            .write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n")
            .await?;
        slow.push(stream);
    }
    // And one that sends nothing at all.
    slow.push(TcpStream::connect(server.local_addr()?).await?);
    still_serves(&server).await?;
    for stream in &mut slow {
        let answer = read_until_closed(stream, Duration::from_secs(5)).await?;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let metrics = wait_until("51 handshake timeouts counted", Duration::from_secs(2), || {
        let metrics = server.metrics();
        if metrics.handshakes_timed_out == 51 && metrics.connections_pending == 0 {
            Ok(metrics)
        } else {
            Err(format!("{metrics:?}"))
        }
    })
    .await?;
    assert_eq!(metrics.connections_total, 1);
    still_serves(&server).await?;
    Ok(())
}

#[tokio::test]
async fn simultaneous_upgrades_cannot_pass_max_connections_together() -> TestResult {
    let server = EmbeddedServer::builder().max_connections(5).start().await?;
    let attempts = join_all((0..60).map(|_| server.connect())).await;
    let (connected, refused): (Vec<_>, Vec<_>) = attempts.into_iter().partition(Result::is_ok);
    assert_eq!(connected.len(), 5, "exactly the limit got in");
    for refusal in refused {
        let refusal = refusal.unwrap_err();
        let message = refusal.to_string();
        assert!(
            matches!(refusal, ws_test_runtime::Error::Rejected { status: 503, .. })
                && message.contains("maximum of 5 WebSocket connection(s)")
                && message.contains("max_connections"),
            "{message}"
        );
    }
    assert_eq!(server.metrics().connections_active, 5);
    assert_eq!(server.metrics().connections_refused, 55);
    // A slot comes back when its connection has ended, not before.
    let mut connected: Vec<WsClient> = connected.into_iter().map(Result::unwrap).collect();
    let mut leaving = connected.pop().expect("five clients");
    leaving.close(1000, "making room").await?;
    drop(leaving);
    wait_until(
        "the closed connection's slot back",
        Duration::from_secs(5),
        || match server.metrics().connections_active {
            4 => Ok(()),
            other => Err(format!("{other} active")),
        },
    )
    .await?;
    let (_sixth, _) = connect_welcomed(&server).await?;
    Ok(())
}

#[tokio::test]
async fn connections_over_max_pending_are_answered_503_and_dropped() -> TestResult {
    let server = EmbeddedServer::builder().max_pending(3).start().await?;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(server.local_addr()?).await?);
    }
    pending_becomes(&server, 3).await?;
    let mut shed = TcpStream::connect(server.local_addr()?).await?;
    let answer = read_until_closed(&mut shed, Duration::from_secs(5)).await?;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 503")
            && answer.contains("maximum of 3 connection(s)")
            && answer.contains("max_pending"),
        "{answer}"
    );
    assert_eq!(server.metrics().connections_shed, 1);
    drop(idle);
    pending_becomes(&server, 0).await?;
    still_serves(&server).await?;
    Ok(())
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_1001_naming_the_setting() -> TestResult {
    let server = EmbeddedServer::builder()
        .idle_timeout(Duration::from_millis(200))
        .start()
        .await?;
    let (mut client, _) = connect_welcomed(&server).await?;
    let close = client.expect_closed(1001).await?;
    assert!(
        close.reason.starts_with("idle for 200ms") && close.reason.contains("idle_timeout"),
        "{close:?}"
    );
    assert_eq!(server.metrics().closed_idle, 1);
    Ok(())
}

#[tokio::test]
async fn broadcast_never_waits_on_a_peer_that_does_not_read_and_closes_it_with_1008() -> TestResult {
    let server = EmbeddedServer::start().await?;
    // A peer that completes the handshake and then never reads.
    let tcp = TcpStream::connect(server.local_addr()?).await?;
    let (mut stalled, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    let (mut reader, _) = connect_welcomed(&server).await?;
    let frame = json!({"type": "news", "padding": "x".repeat(1024)});
    let mut sent = 0;
    // Batches the reading client keeps up with; the stalled peer's socket and queue fill up.
    while server.metrics().closed_too_slow == 0 {
        assert!(
            sent < 100_000,
            "100,000 broadcasts and the stalled peer was never found too slow"
        );
        for _ in 0..500 {
            assert_eq!(
                server.broadcast(&frame).await?,
                2 - server.metrics().closed_too_slow as usize
            );
        }
        recv_n(&mut reader, 500).await?;
        sent += 500;
    }
    // The stalled peer reads now: every frame it got, then the close that tells it it missed the rest.
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        use futures_util::StreamExt as _;
        let mut received = 0;
        loop {
            match stalled.next().await {
                Some(Ok(WsMessage::Text(_))) => received += 1,
                Some(Ok(WsMessage::Close(close))) => return Ok((received, close)),
                Some(Ok(_)) => {}
                other => {
                    return Err(std::io::Error::other(format!(
                        "the stream ended without a close: {other:?}"
                    )));
                }
            }
        }
    })
    .await
    .map_err(|_| std::io::Error::other("the stalled peer got no close within 10 s"))??;
    let (received, close) = close;
    let close = close.ok_or_else(|| std::io::Error::other("a close frame without a code"))?;
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.starts_with("too slow"), "{}", close.reason);
    assert!(received > 1 && received < sent, "{received} of {sent}");
    assert_eq!(server.metrics().closed_too_slow, 1);
    Ok(())
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() -> TestResult {
    let server = EmbeddedServer::builder().token("s3cret").start().await?;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let mut client = server
            .client()
            .header("authorization", format!("{scheme} s3cret"))
            .connect()
            .await?;
        client.expect_type("connection_established").await?;
    }
    let wrong = server
        .client()
        .header("authorization", "bearer s3creT")
        .connect()
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("wrong token"), "{wrong}");
    Ok(())
}

#[tokio::test]
async fn zero_limits_are_refused_naming_the_setting() {
    for (builder, setting) in [
        (EmbeddedServer::builder().max_connections(0), "max_connections"),
        (EmbeddedServer::builder().max_pending(0), "max_pending"),
        (
            EmbeddedServer::builder().handshake_timeout(Duration::ZERO),
            "handshake_timeout",
        ),
        (EmbeddedServer::builder().idle_timeout(Duration::ZERO), "idle_timeout"),
    ] {
        let error = builder.start().await.unwrap_err().to_string();
        assert!(error.contains(&format!("{setting} is 0")), "{error}");
    }
}

/// On a paused clock, so the event delays are virtual and the timing is exact.
#[tokio::test(start_paused = true)]
async fn a_burst_of_chat_messages_runs_at_most_64_at_once_and_loses_none() -> TestResult {
    let delay = Duration::from_millis(50);
    let server = EmbeddedServer::builder()
        .transport(ws_test_runtime::Transport::Memory)
        .handler(ws_test_runtime::ChatAgent::new().event_delay(delay))
        .start()
        .await?;
    let mut client = server.client().recv_timeout(Duration::from_secs(60)).connect().await?;
    client.expect(Expect::events(["connection_established"])).await?;
    let started = tokio::time::Instant::now();
    for run in 0..100 {
        client
            .send_json(json!({"type": "chat_message", "content": "burst", "run_id": format!("run-{run}")}))
            .await?;
    }
    let matched = client
        .expect(
            Expect::events(ChatEvent::CRITICAL)
                .strict()
                .per("run_id")
                .times(100)
                .within(Duration::from_secs(60)),
        )
        .await?;
    assert_eq!(matched.events().len(), 500, "every event of every run");
    // A run takes four delays. 64 runs start at once; the other 36 wait for the first to end.
    let run = delay * 4;
    let completed: Vec<Duration> = client
        .history()
        .received()
        .filter(|frame| frame.event("type").as_deref() == Some("agent_completed"))
        .map(|frame| frame.at)
        .collect();
    let first_wave = completed.iter().filter(|at| **at < run + delay).count();
    assert_eq!(first_wave, 64, "{completed:?}");
    assert!(completed.iter().all(|at| *at < run * 2 + delay), "{completed:?}");
    assert!(started.elapsed() >= run * 2, "the second wave waited for the first");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_dropped_client_gives_up_its_goodbye_at_the_close_deadline() -> TestResult {
    let server = EmbeddedServer::builder()
        .transport(ws_test_runtime::Transport::Memory)
        .transport_fault(ws_test_runtime::TransportFault::HalfOpen)
        .start()
        .await?;
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let client = server.connect().await?;
    assert!(metrics.num_alive_tasks() > before, "the client's reader runs");
    let dropped = tokio::time::Instant::now();
    drop(client);
    // The server never answers the close: the goodbye ends at the close deadline, and takes its tasks along.
    let close = ws_test_runtime::timeout::scaled(ws_test_runtime::timeout::CLOSE);
    wait_until("the client's tasks gone", close * 2, || {
        match metrics.num_alive_tasks() {
            // The server's own task for the half-open connection stays until it shuts down.
            now if now <= before + 1 => Ok(()),
            other => Err(format!("{other} tasks alive, {before} before the client")),
        }
    })
    .await?;
    assert!(
        dropped.elapsed() >= close,
        "gave up before the deadline: {:?}",
        dropped.elapsed()
    );
    Ok(())
}

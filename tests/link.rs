//! A network between the clients and the server (`Link`): latency, jitter, bandwidth and chunks, a stall, a cut
//! and a heal at run time, and what the link counted; over TCP and memory, on the paused clock where it can be.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::{EmbeddedServer, Error, Link, LinkControl, Shape, Transport, ws_test};

const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Memory];

#[test]
fn a_link_is_written_as_the_issue_writes_it_and_a_bad_one_says_what_is_wrong() {
    let link: Link = "latency=50ms, jitter=10ms, bandwidth=256KiB/s, chunk=7"
        .parse()
        .expect("a link");
    let typed = Link::new()
        .latency(Duration::from_millis(50))
        .jitter(Duration::from_millis(10))
        .bandwidth(256 * 1024)
        .chunk(7);
    assert_eq!(link, typed);
    let one_way: Link = "up.latency=80ms, down.bandwidth=1MiB/s".parse().expect("a link");
    assert_eq!(
        one_way,
        Link::new()
            .up(Shape::new().latency(Duration::from_millis(80)))
            .down(Shape::new().bandwidth(1024 * 1024))
    );
    for (bad, says) in [
        ("latency=soon", "latency"),
        ("bandwidth=fast", "not a bandwidth"),
        ("bandwidth=10furlongs/s", "not a unit of bandwidth"),
        ("chunk=0", "above 0"),
        ("sideways.latency=1ms", "not a direction"),
        ("loss=1%", "`loss` is not a setting"),
        ("latency", "NAME=VALUE"),
    ] {
        let error = bad.parse::<Link>().expect_err(bad).to_string();
        assert!(error.contains(says), "{bad}: {error}");
    }
}

/// Latency both ways: a ping's round trip takes at least twice the one-way latency, on the paused clock in no
/// real time.
#[tokio::test(start_paused = true)]
async fn latency_delays_both_directions_on_the_paused_clock() -> TestResult {
    let started = std::time::Instant::now();
    let server = EmbeddedServer::builder()
        .transport(Transport::Memory)
        .link("latency=250ms, jitter=50ms".parse::<Link>()?)
        .start()
        .await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    let round_trip = client.ping("hello").await?;
    assert!(round_trip >= Duration::from_millis(500), "{round_trip:?}");
    assert!(round_trip < Duration::from_millis(700), "{round_trip:?}");
    client
        .send_json(json!({"type": "chat_message", "content": "hi"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    Ok(())
}

/// Bandwidth: 256 KiB at 64 KiB/s takes four seconds (virtual) to arrive.
#[tokio::test(start_paused = true)]
async fn bandwidth_limits_how_fast_bytes_arrive() -> TestResult {
    let server = EmbeddedServer::builder()
        .transport(Transport::Memory)
        .link(Link::new().down(Shape::new().bandwidth(64 * 1024)))
        .start()
        .await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    let started = tokio::time::Instant::now();
    client
        .send_json(json!({"type": "echo", "payload": "x".repeat(256 * 1024)}))
        .await?;
    client.expect_type("echo").within(Duration::from_secs(30)).await?;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(4), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    Ok(())
}

/// A stall holds every byte for its duration, in order, and loses none.
#[tokio::test(start_paused = true)]
async fn a_stall_holds_the_bytes_and_loses_none() -> TestResult {
    let server = EmbeddedServer::builder()
        .transport(Transport::Memory)
        .link(Link::new())
        .start()
        .await?;
    let mut client = server.connect().await?;
    client.expect_type("connection_established").await?;
    server.link().stall(Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    client.send_json(json!({"type": "echo", "payload": 1})).await?;
    client.send_json(json!({"type": "echo", "payload": 2})).await?;
    client.expect_no_message(Duration::from_secs(29)).await?;
    assert_eq!(client.recv_json().within(Duration::from_secs(5)).await?["payload"], 1);
    assert_eq!(client.recv_json().await?["payload"], 2);
    assert!(started.elapsed() >= Duration::from_secs(30));
    // A heal ends a stall at once.
    server.link().stall(Duration::from_secs(3600));
    client.send_json(json!({"type": "echo", "payload": 3})).await?;
    server.link().heal();
    assert_eq!(client.recv_json().within(Duration::from_secs(1)).await?["payload"], 3);
    Ok(())
}

/// A cut resets every connection at once (the server sees them end abruptly), refuses new ones until healed,
/// and the link counts what it saw.
#[tokio::test]
async fn a_cut_resets_every_connection_and_a_heal_lets_clients_back() -> TestResult {
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder()
            .transport(transport)
            .link(Link::new())
            .start()
            .await?;
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut client = server.connect().await?;
            client.expect_type("connection_established").await?;
            clients.push(client);
        }
        assert_eq!(server.link().stats().open, 3, "{transport:?}");
        server.link().cut();
        for client in &mut clients {
            client.expect_closed(1006).await?;
        }
        let refused = server
            .client()
            .connect_timeout(Duration::from_millis(300))
            .connect()
            .await
            .expect_err("a cut link refuses new connections");
        assert!(
            refused.to_string().contains("the link is cut"),
            "{transport:?}: {refused}"
        );
        let stats = server.link().stats();
        assert_eq!(
            (stats.opened, stats.reset, stats.open),
            (3, 3, 0),
            "{transport:?}: {stats:?}"
        );
        // The server saw every connection end, without a close frame.
        tokio::time::timeout(Duration::from_secs(5), async {
            while server.metrics().connections_active > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .map_err(|_| Error::Config(format!("{transport:?}: the server still counts cut connections")))?;
        server.link().heal();
        let mut back = server.connect().await?;
        back.expect_type("connection_established").await?;
        back.close(1000, "bye").await?;
        drop(back);
        let stats = server.link().stats();
        assert_eq!(stats.opened, 4, "{transport:?}: {stats:?}");
    }
    Ok(())
}

/// A link on any server, through the client builder: chunks of 7 bytes and latency against a URL.
#[tokio::test]
async fn a_client_builder_puts_any_connection_on_a_link() -> TestResult {
    let server = EmbeddedServer::start().await?; // stands in for a served server or a URL
    let link = LinkControl::new("chunk=7, latency=5ms".parse::<Link>()?);
    let mut client = WsClient::builder(server.url()).link(&link).connect().await?;
    client.expect_type("connection_established").await?;
    client
        .send_json(json!({"type": "chat_message", "content": "in pieces"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
    client.close(1000, "done").await?;
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), async {
        while link.stats().open > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .map_err(|_| Error::Config(format!("the link still counts an open connection: {:?}", link.stats())))?;
    let stats = link.stats();
    assert_eq!(stats.opened, 1);
    assert_eq!(stats.closed_by_server + stats.closed_by_client, 1, "{stats:?}");
    Ok(())
}

/// A client that vanishes over a link is a reset on the server's side too.
#[tokio::test]
async fn a_vanished_client_over_a_link_is_a_reset() -> TestResult {
    for transport in TRANSPORTS {
        let server = EmbeddedServer::builder()
            .transport(transport)
            .link(Link::new())
            .start()
            .await?;
        let client = server.connect().await?;
        client.vanish();
        tokio::time::timeout(Duration::from_secs(5), async {
            while server.link().stats().reset == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .map_err(|_| Error::Config(format!("{transport:?}: {:?}", server.link().stats())))?;
    }
    Ok(())
}

/// The attribute's `link =`: a test on the paused clock whose server is reached over 100 ms each way.
#[ws_test(link = "latency=100ms", transport = "memory", start_paused = true)]
async fn the_attribute_puts_its_clients_on_a_link(client: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    let round_trip = client.ping("over the link").await?;
    assert!(round_trip >= Duration::from_millis(200), "{round_trip:?}");
    assert_eq!(server.link().stats().open, 1);
    server.link().cut();
    client.expect_closed(1006).await?;
    Ok(())
}

/// A link that does not read fails the test before it starts, naming the setting.
#[test]
fn a_link_that_does_not_read_fails_the_test_saying_why() {
    let failure = std::panic::catch_unwind(|| {
        ws_test_runtime::driver::run(
            ws_test_runtime::driver::TestSpec::new("link::bad").link("latency=soon"),
            ws_test_runtime::driver::body(|_client: &mut WsClient| async { Ok::<(), Error>(()) }),
        )
    })
    .expect_err("the test fails");
    let message = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("the link does not read") && message.contains("latency"),
        "{message}"
    );
}

/// `serve =` with a link: the served server's handle stalls it.
async fn echo_server(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use futures_util::{SinkExt as _, StreamExt as _};
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(message)) = socket.next().await {
                if message.is_text() && socket.send(message).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[ws_test(serve = echo_server, link = "latency=20ms")]
async fn a_served_server_has_its_link_too(client: &mut WsClient, server: &ws_test_runtime::ServedServer) -> TestResult {
    let started = std::time::Instant::now();
    client.send_text("hi").await?;
    assert_eq!(client.recv().await?.as_text(), Some("hi"));
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "{:?}",
        started.elapsed()
    );
    server.link().stall(Duration::from_millis(300));
    let stalled = std::time::Instant::now();
    client.send_text("after the stall").await?;
    assert_eq!(client.recv().await?.as_text(), Some("after the stall"));
    assert!(
        stalled.elapsed() >= Duration::from_millis(300),
        "{:?}",
        stalled.elapsed()
    );
    Ok(())
}

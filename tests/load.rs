//! `ws_test_runtime::load` against real servers: the open model shows a stalling server that the closed model
//! hides (coordinated omission), failures are counted by kind, shards add up to one run.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::Mutex;
use ws_test_runtime::load::{Load, Report, Threshold};
use ws_test_runtime::prelude::*;

/// An echo server (axum) that handles one message at a time across all connections and stalls `stall` on every
/// `every`th: a global lock held through a slow moment (a GC pause, a full queue, a database failover).
async fn stalling_echo(every: u64, stall: Duration) -> String {
    let count = Arc::new(Mutex::new(0_u64));
    let app = axum::Router::new().route(
        "/ws",
        get(move |ws: WebSocketUpgrade| {
            let count = Arc::clone(&count);
            async move { ws.on_upgrade(move |socket| echo(socket, count, every, stall)) as Response }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://{}/ws", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn echo(mut socket: WebSocket, count: Arc<Mutex<u64>>, every: u64, stall: Duration) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(text) = message {
            let mut count = count.lock().await;
            *count += 1;
            if *count % every == 0 {
                tokio::time::sleep(stall).await;
            }
            if socket.send(Message::Text(text)).await.is_err() {
                return;
            }
        }
    }
}

/// One echo round: the server sends the message back.
async fn round(client: &mut WsClient) -> ws_test_runtime::load::IterationResult {
    client.send_json(json!({"type": "echo", "payload": 1})).await?;
    client.expect_type("echo").await?;
    Ok(())
}

fn p99(report: &Report) -> Duration {
    report.find("response").expect("responses were timed").quantile(0.99)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_every_500th_message_shows_in_the_open_models_p99_and_hides_in_the_closed_models() {
    let url = stalling_echo(500, Duration::from_millis(200)).await;

    // Closed: one connection, 1,500 rounds one after the other. Three of them wait 200 ms; while they wait, no
    // other round is sent, so 0.2% of the samples are slow and p99 does not see them.
    let closed = Load::new(WsClient::builder(&url))
        .closed(1, 1500)
        .run(async |client| round(client).await)
        .await
        .expect("the closed load runs");
    assert_eq!((closed.iterations(), closed.failed()), (1500, 0), "{closed}");
    assert!(
        p99(&closed) < Duration::from_millis(100),
        "the closed model hides the stall in p99:\n{closed}"
    );
    assert!(
        closed.find("response").unwrap().max() >= Duration::from_millis(200),
        "the stall itself is there, at the max:\n{closed}"
    );

    // Open: 500 rounds a second for 3 s whatever the replies do. Every round that starts during a stall waits
    // for it (about a hundred per stall), so p99 shows it.
    let open = Load::new(WsClient::builder(&url))
        .open(500.0, Duration::from_secs(3))
        .run(async |client| round(client).await)
        .await
        .expect("the open load runs");
    assert_eq!((open.iterations(), open.failed()), (1500, 0), "{open}");
    assert!(
        p99(&open) >= Duration::from_millis(100),
        "the open model shows the stall in p99:\n{open}"
    );
    println!("closed model:\n{closed}\nopen model:\n{open}");
    let threshold: Threshold = "p99<50ms".parse().expect("a threshold");
    assert!(threshold.check(&closed).passed && !threshold.check(&open).passed);
}

#[tokio::test]
async fn failed_iterations_are_counted_by_kind_and_do_not_stop_the_load() {
    let server = EmbeddedServer::start().await.expect("the server starts");
    let report = Load::new(WsClient::builder(server.url()).recv_timeout(Duration::from_millis(300)))
        .welcome("connection_established")
        .closed(2, 3)
        .run(async |client| {
            client.send_json(json!({"type": "echo", "payload": "x"})).await?;
            // Nothing answers this: a timeout.
            client.expect_type("never_sent").await?;
            Ok(())
        })
        .await
        .expect("the load runs");
    assert_eq!((report.iterations(), report.failed()), (6, 6), "{report}");
    assert_eq!(report.errors().get("timeout"), Some(&6), "{report}");
    assert!(
        report.error_samples()[0]
            .starts_with("timeout: timed out after 300ms waiting for a message of type \"never_sent\""),
        "{:?}",
        report.error_samples()
    );
    // The echo still came back and was timed, from its message.
    assert_eq!(report.find("echo").map(|stats| stats.count), Some(6), "{report}");

    // A user's own error fails the iteration as `other`.
    let report = Load::new(WsClient::builder(server.url()))
        .closed(1, 2)
        .run(async |_client| Err("the answer was wrong".into()))
        .await
        .expect("the load runs");
    assert_eq!(report.errors().get("other"), Some(&2), "{report}");

    // A server that cannot be reached at all is the run's error, not a report.
    let unreachable = Load::new(WsClient::builder("ws://127.0.0.1:1/ws").connect_timeout(Duration::from_millis(300)))
        .open(10.0, Duration::from_secs(1))
        .run(async |_client| Ok(()))
        .await;
    assert!(unreachable.is_err(), "{unreachable:?}");
}

#[tokio::test]
async fn shards_of_a_load_add_up_to_the_whole() {
    let server = EmbeddedServer::start().await.expect("the server starts");
    let run = |shard: (u32, u32)| {
        let url = server.url();
        async move {
            Load::new(WsClient::builder(url))
                .welcome("connection_established")
                .correlate("payload")
                .closed(5, 4)
                .shard(shard.0, shard.1)
                .run(async |client| {
                    client.send_json(json!({"type": "echo", "payload": "p"})).await?;
                    client.expect_type("echo").await?;
                    Ok(())
                })
                .await
                .expect("the load runs")
        }
    };
    let whole = run((1, 1)).await;
    let mut merged = run((1, 2)).await;
    let second = run((2, 2)).await;
    assert_eq!(
        merged.iterations(),
        12,
        "every other connection of five: three, four rounds each"
    );
    assert_eq!(second.iterations(), 8);
    merged.merge(&second);
    assert_eq!(merged.iterations(), whole.iterations());
    assert_eq!(merged.frames(), whole.frames());
    for label in ["response", "echo", "echo.reply", "connect", "iteration"] {
        assert_eq!(
            merged.find(label).map(|stats| stats.count),
            whole.find(label).map(|stats| stats.count),
            "{label}"
        );
    }
    assert!(
        Load::new(WsClient::builder(server.url()))
            .shard(3, 2)
            .run(async |_client| Ok(()))
            .await
            .is_err()
    );
}

#[ws_test]
async fn a_load_runs_inside_a_ws_test_against_its_embedded_server(server: &EmbeddedServer) -> TestResult {
    let report = Load::new(WsClient::builder(server.url()))
        .welcome("connection_established")
        .correlate("run_id")
        .closed(3, 2)
        .run(async |client| {
            client
                .send_json(json!({"type": "chat_message", "content": "hi", "run_id": "r"}))
                .await?;
            client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
            Ok(())
        })
        .await?;
    assert_eq!((report.iterations(), report.failed()), (6, 0), "{report}");
    assert_eq!(report.find("agent_completed").map(|stats| stats.count), Some(6));
    Ok(())
}

/// When a ping-pong server greets a connection: as soon as it opens, or only after its first reply (so the
/// greeting lands inside or after the first iteration instead of before it).
#[derive(Clone, Copy, Debug)]
enum Greeting {
    OnOpen,
    AfterFirstReply,
}

/// An axum server that greets each connection with `{"type": "hello"}` (see [`Greeting`]) and answers every
/// `ping` with a `pong` after `delay`.
async fn greeting_server(greeting: Greeting, delay: Duration) -> String {
    async fn session(mut socket: WebSocket, greeting: Greeting, delay: Duration) {
        let hello = || Message::Text(json!({"type": "hello"}).to_string().into());
        if matches!(greeting, Greeting::OnOpen) && socket.send(hello()).await.is_err() {
            return;
        }
        let mut replies = 0;
        while let Some(Ok(message)) = socket.recv().await {
            if let Message::Text(_) = message {
                tokio::time::sleep(delay).await;
                if socket
                    .send(Message::Text(json!({"type": "pong"}).to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
                replies += 1;
                if replies == 1 && matches!(greeting, Greeting::AfterFirstReply) && socket.send(hello()).await.is_err()
                {
                    return;
                }
            }
        }
    }
    let app = axum::Router::new().route(
        "/ws",
        get(move |ws: WebSocketUpgrade| async move { ws.on_upgrade(move |socket| session(socket, greeting, delay)) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://{}/ws", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn ping(client: &mut WsClient) -> ws_test_runtime::load::IterationResult {
    client.send_json(json!({"type": "ping"})).await?;
    client.expect_type("pong").await?;
    Ok(())
}

fn count(report: &Report, label: &str) -> u64 {
    report.find(label).map_or(0, |stats| stats.count)
}

/// The rule of docs/load.md: every frame a connection receives after its connect (which takes the awaited welcome)
/// and up to its close is counted and labelled, whether it came before an iteration, inside one, between two or
/// after the last. The greeting arrives deliberately before the first iteration or only after its reply (the
/// server sends it after the first pong), and the counts are the same.
#[tokio::test]
async fn frames_outside_iterations_count_the_same_whenever_they_arrive() {
    for greeting in [Greeting::OnOpen, Greeting::AfterFirstReply] {
        let url = greeting_server(greeting, Duration::ZERO).await;
        // Closed: 3 connections, 4 iterations each. Open: 40 iterations a second for half a second.
        let closed = Load::new(WsClient::builder(&url))
            .closed(3, 4)
            .run(async |client| ping(client).await)
            .await
            .expect("the closed load runs");
        let open = Load::new(WsClient::builder(&url))
            .open(40.0, Duration::from_millis(500))
            .run(async |client| ping(client).await)
            .await
            .expect("the open load runs");
        // One run where each iteration has its own connection: its greeting after its reply is the connection's.
        let single = Load::new(WsClient::builder(&url))
            .closed(2, 2)
            .connection_per_iteration(true)
            .run(async |client| ping(client).await)
            .await
            .expect("the per-iteration load runs");
        for (model, report) in [("closed", &closed), ("open", &open), ("per iteration", &single)] {
            let connections = count(report, "connect");
            assert!(
                report.iterations() > 0 && report.failed() == 0,
                "{greeting:?} {model}: {report}"
            );
            assert_eq!(
                count(report, "pong"),
                report.iterations(),
                "{greeting:?} {model}: {report}"
            );
            assert_eq!(
                count(report, "hello"),
                connections,
                "{greeting:?} {model}: one greeting per connection\n{report}"
            );
            assert_eq!(
                report.frames(),
                (report.iterations(), report.iterations() + connections),
                "{greeting:?} {model}: sent, received\n{report}"
            );
        }
        assert_eq!(closed.frames(), (12, 15), "{greeting:?}: {closed}");
        assert_eq!(single.frames(), (4, 8), "{greeting:?}: {single}");
    }
}

/// A welcome the load awaits belongs to the connect: never counted, so the received frames of an open load are its
/// replies exactly, however many connections the load had to open. (Each reply takes 50 ms and an iteration
/// starts every 10 ms: the load opens connections inside its iterations, and before this rule each of those
/// counted its welcome while the first connection's did not.)
#[tokio::test]
async fn an_awaited_welcome_is_never_counted_and_open_shards_add_up_to_the_whole() {
    let url = greeting_server(Greeting::OnOpen, Duration::from_millis(50)).await;
    let run = |shard: (u32, u32)| {
        let url = url.clone();
        async move {
            Load::new(WsClient::builder(url))
                .welcome("hello")
                .open(100.0, Duration::from_millis(300))
                .shard(shard.0, shard.1)
                .run(async |client| ping(client).await)
                .await
                .expect("the open load runs")
        }
    };
    let whole = run((1, 1)).await;
    assert_eq!((whole.iterations(), whole.failed()), (30, 0), "{whole}");
    assert!(
        count(&whole, "connect") >= 2,
        "iterations overlap, so more connections open: {whole}"
    );
    assert_eq!(whole.frames(), (30, 30), "{whole}");
    assert_eq!(count(&whole, "hello"), 0, "{whole}");
    let mut merged = run((1, 2)).await;
    merged.merge(&run((2, 2)).await);
    assert_eq!(
        (merged.iterations(), merged.frames()),
        (whole.iterations(), whole.frames())
    );
    for label in ["pong", "ping.reply", "response", "iteration"] {
        assert_eq!(count(&merged, label), count(&whole, label), "{label}");
    }
}

/// Pipelined rounds: every round of every connection is counted and timed from its own request; a reply that
/// fails a connection fails its unfinished rounds with the reply's sentence; the open model refuses them.
#[tokio::test]
async fn pipelined_rounds_count_every_round_and_fail_a_connection_on_a_bad_reply() {
    let server = EmbeddedServer::start().await.expect("the server starts");
    let echo = |id: u64| json!({"type": "echo", "payload": format!("p{id}")});
    let report = Load::new(WsClient::builder(server.url()))
        .welcome("connection_established")
        .closed(3, 40)
        .correlate("payload")
        .run_pipelined(8, echo, |reply| Ok(reply["type"] == "echo"))
        .await
        .expect("the load runs");
    assert_eq!((report.iterations(), report.failed()), (120, 0), "{report}");
    assert_eq!(report.find("echo").map(|stats| stats.count), Some(120), "{report}");
    assert_eq!(report.find("connect").map(|stats| stats.count), Some(3), "{report}");

    // The chat agent with two events swapped: the order check in `ended` fails the connection at the first run.
    let swapped = EmbeddedServer::builder()
        .handler(ChatAgent::new().fault("swap:tool_completed,agent_completed".parse::<Fault>().expect("a fault")))
        .start()
        .await
        .expect("the server starts");
    let report = Load::new(WsClient::builder(swapped.url()))
        .welcome("connection_established")
        .closed(1, 5)
        .run_pipelined(
            2,
            |id| json!({"type": "chat_message", "content": "hi", "run_id": format!("r{id}")}),
            |reply| match reply["type"].as_str() {
                Some("tool_completed") => Err(format!("tool_completed came last in {reply}")),
                Some("agent_completed") => Ok(true),
                _ => Ok(false),
            },
        )
        .await
        .expect("the load runs");
    // The first run's agent_completed ended its round; the tool_completed behind it failed the four left.
    assert_eq!((report.iterations(), report.failed()), (5, 4), "{report}");
    assert!(
        report.error_samples()[0].starts_with("unexpected: tool_completed came last in"),
        "{:?}",
        report.error_samples()
    );

    let open = Load::new(WsClient::builder(server.url()))
        .open(10.0, Duration::from_secs(1))
        .run_pipelined(1, echo, |_| Ok(true))
        .await;
    let refused = open.expect_err("the open model has no pipelined rounds").to_string();
    assert!(refused.contains("closed model"), "{refused}");
}

/// A reconnect storm: every session reset at once comes back, with jittered backoff, and the report says when;
/// the rate mode closes and reopens sessions at a steady pace.
#[tokio::test]
async fn a_reconnect_storm_reports_when_every_session_is_back() {
    use ws_test_runtime::load::Churn;
    let server = EmbeddedServer::builder()
        .max_connections(30)
        .start()
        .await
        .expect("the server starts");
    let report = Churn::new(WsClient::builder(server.url()), 25)
        .welcome("connection_established")
        .backoff(Duration::from_millis(5), Duration::from_millis(100))
        .run()
        .await
        .expect("the storm runs");
    assert_eq!((report.dropped, report.back), (25, 25), "{report}");
    assert!(report.all_back_after.is_some(), "{report}");
    assert_eq!(report.reconnect.count, 25, "{report}");
    assert!(report.attempts >= 25, "{report}");
    // The server saw the first 25 and the 25 that came back.
    assert!(server.metrics().connections_total >= 50, "{:?}", server.metrics());
    let text = report.to_string();
    assert!(
        text.contains("25 sessions, 25 dropped, 25 back") && text.contains("all back    after"),
        "{text}"
    );

    let report = Churn::new(WsClient::builder(server.url()), 4)
        .welcome("connection_established")
        .rate(50.0, Duration::from_millis(300))
        .run()
        .await
        .expect("the storm runs");
    assert!(report.dropped >= 10, "{report}");
    assert_eq!(report.back, report.dropped, "{report}");
    assert!(
        report.all_back_after.is_none(),
        "the rate mode has no single drop: {report}"
    );
}

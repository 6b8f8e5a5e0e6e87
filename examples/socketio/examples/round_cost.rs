//! What a Socket.IO round costs against a plain JSON round, measured in the same run:
//!
//! ```text
//! cargo run --release -p socketio-chat --example round_cost [ROUNDS]
//! ```
//!
//! Both servers run in this process on axum: a plain WebSocket handler that answers `{"type":"ping","n":N}` with
//! `{"type":"pong","n":N}`, and a socketioxide namespace that answers the event `ping` with the event `pong`. One
//! ws-test client each (`send_json` + `expect_type`, and `protocol = "socket.io"`'s `emit` + `expect_type`) runs
//! ROUNDS rounds (default 2,000), alternating plain and Socket.IO batches five times; the figures are the medians
//! of the five batches, per round, and their ratio.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};
use ws_test_runtime::prelude::*;

async fn plain(mut socket: WebSocket) {
    while let Some(Ok(Message::Text(text))) = socket.recv().await {
        let ping: Value = serde_json::from_str(&text).unwrap_or_default();
        let pong = json!({"type": "pong", "n": ping["n"]}).to_string();
        if socket.send(Message::Text(pong.into())).await.is_err() {
            return;
        }
    }
}

async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("its address");
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

async fn plain_rounds(client: &mut WsClient, rounds: u64) -> Result<Duration, ws_test_runtime::Error> {
    let started = Instant::now();
    for n in 0..rounds {
        client.send_json(json!({"type": "ping", "n": n})).await?;
        client.expect_type("pong").await?;
    }
    Ok(started.elapsed())
}

async fn socketio_rounds(client: &mut WsClient, rounds: u64) -> Result<Duration, ws_test_runtime::Error> {
    let started = Instant::now();
    for n in 0..rounds {
        client.emit("ping", json!({"n": n})).await?;
        client.expect_type("pong").await?;
    }
    Ok(started.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), ws_test_runtime::Error> {
    let rounds: u64 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let plain_server =
        serve(axum::Router::new().route("/ws", get(|ws: WebSocketUpgrade| async { ws.on_upgrade(plain) }))).await;
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |s: SocketRef| {
        s.on("ping", async |s: SocketRef, Data::<Value>(ping)| {
            s.emit("pong", &ping).ok();
        });
    });
    let socketio_server = serve(axum::Router::new().layer(layer)).await;

    let mut plain_client = WsClient::connect(format!("ws://{plain_server}/ws")).await?;
    let mut socketio_client = WsClient::builder(format!("ws://{socketio_server}"))
        .protocol("socket.io")
        .max_history_bytes(usize::MAX)
        .connect()
        .await?;
    // Warm both paths, then alternate batches so that both see the same machine.
    plain_rounds(&mut plain_client, rounds / 10).await?;
    socketio_rounds(&mut socketio_client, rounds / 10).await?;
    let (mut plain_times, mut socketio_times) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        plain_times.push(plain_rounds(&mut plain_client, rounds).await?);
        socketio_times.push(socketio_rounds(&mut socketio_client, rounds).await?);
    }
    let per_round = |total: Duration| total.as_secs_f64() * 1e6 / rounds as f64;
    let (plain, socketio) = (per_round(median(plain_times)), per_round(median(socketio_times)));
    println!("{rounds} rounds per batch, median of 5 alternated batches, client and servers in this process:");
    println!("plain JSON round (send_json + expect_type):            {plain:8.1} µs");
    println!("Socket.IO round (emit + expect_type, socketioxide):    {socketio:8.1} µs");
    println!(
        "Socket.IO / plain:                                     {:8.2}x",
        socketio / plain
    );
    Ok(())
}

//! A ticker over a plain tokio-tungstenite accept loop: no framework, a `TcpListener` and a task per connection.
//!
//! A client sends `{"type": "subscribe", "id": "a", "count": 3}` and gets `count` frames
//! `{"type": "tick", "id": "a", "n": 0..}` and then `{"type": "done", "id": "a"}`; subscriptions on one
//! connection run side by side, so their ticks interleave. Anything else gets `{"type": "error", ...}`.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Serves the ticker on `listener` until the listener fails (or the future is dropped).
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream));
    }
}

/// Sends `never` for every subscription and never a tick: a server that forgets an event.
pub async fn serve_forgetful(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(message)) = socket.next().await {
                if message.is_text() {
                    let reply = json!({"type": "subscribed"}).to_string();
                    if socket.send(Message::text(reply)).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}

async fn connection(stream: TcpStream) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let (outgoing, mut queued) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = queued.recv().await {
            if sink.send(Message::text(frame.to_string())).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(message)) = source.next().await {
        let Message::Text(text) = message else { continue };
        let request: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match (
            request["type"].as_str(),
            request["id"].as_str(),
            request["count"].as_u64(),
        ) {
            (Some("subscribe"), Some(id), Some(count)) => {
                let (id, outgoing) = (id.to_owned(), outgoing.clone());
                tokio::spawn(async move {
                    for n in 0..count {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        let _ = outgoing.send(json!({"type": "tick", "id": id, "n": n}));
                    }
                    let _ = outgoing.send(json!({"type": "done", "id": id}));
                });
            }
            _ => {
                let _ = outgoing.send(
                    json!({"type": "error", "message": "send {\"type\": \"subscribe\", \"id\": ..., \"count\": N}"}),
                );
            }
        }
    }
    drop(outgoing);
    let _ = writer.await;
}

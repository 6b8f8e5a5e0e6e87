//! A chat backend on actix-web and actix-ws: `GET /chat` upgrades with `Authorization: Bearer <token>` (else
//! `401`), and every `{"type": "chat_message", "content": ..., "run_id": ...}` is answered with the agent's five
//! events, each carrying the `run_id`: `agent_started`, `agent_thinking`, `tool_executing`, `tool_completed`,
//! `agent_completed`.
//!
//! [`serve`] runs it on a listener, the way `#[ws_test(serve = actix_chat::serve)]` and `main` both use it.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::Server, web};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

/// The token the server accepts.
pub const TOKEN: &str = "s3cret";

/// The app on `listener` (a non-blocking `std::net::TcpListener`, as actix-web's `listen` takes it), one worker.
/// The returned [`Server`] is a future: awaiting it runs the server, dropping it stops it.
pub fn serve(listener: std::net::TcpListener) -> std::io::Result<Server> {
    Ok(HttpServer::new(|| App::new().route("/chat", web::get().to(chat)))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run())
}

async fn chat(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == format!("Bearer {TOKEN}"));
    if !authorized {
        return Ok(HttpResponse::Unauthorized().body("a bearer token is required"));
    }
    let (response, mut session, mut messages) = actix_ws::handle(&request, body)?;
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            match message {
                actix_ws::Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if frame["type"] != "chat_message" {
                        let error = json!({"type": "error", "message": "send a chat_message"});
                        if session.text(error.to_string()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    let run_id = frame["run_id"].clone();
                    for (event, extra) in [
                        ("agent_started", json!({})),
                        ("agent_thinking", json!({"thought": "looking it up"})),
                        ("tool_executing", json!({"tool_name": "search"})),
                        ("tool_completed", json!({"tool_name": "search", "result": "found"})),
                        (
                            "agent_completed",
                            json!({"content": format!("you said {}", frame["content"])}),
                        ),
                    ] {
                        let mut reply = json!({"type": event, "run_id": run_id});
                        if let (Some(reply), Some(extra)) = (reply.as_object_mut(), extra.as_object()) {
                            reply.extend(extra.clone());
                        }
                        if session.text(reply.to_string()).await.is_err() {
                            return;
                        }
                    }
                }
                actix_ws::Message::Ping(bytes) if session.pong(&bytes).await.is_err() => return,
                actix_ws::Message::Close(reason) => {
                    let _ = session.close(reason).await;
                    return;
                }
                _ => {}
            }
        }
    });
    Ok(response)
}

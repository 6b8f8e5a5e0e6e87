//! The Socket.IO chat example (socket.io's own, as socketioxide's README writes it) on socketioxide 0.18 and axum,
//! with an `/admin` namespace that checks a token in the connect's auth and answers acknowledgements. Its tests
//! run it under `#[ws_test(app = socketio_chat::app, protocol = "socket.io")]`.
//!
//! Events, as the JavaScript chat example names them: the client sends `add user`, `new message`, `typing`,
//! `stop typing`; the server answers `login` to the new user and broadcasts `user joined`, `new message`,
//! `typing`, `stop typing` and `user left` to the others. On `/admin` (auth `{"token": "s3cret"}`): `stats`
//! acknowledges with the number of users, `upload` acknowledges a binary attachment with its size and sends the
//! bytes back reversed as `file`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler as _;

/// The token `/admin` accepts.
pub const ADMIN_TOKEN: &str = "s3cret";

#[derive(Clone)]
struct Username(String);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    num_users: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserEvent {
    username: String,
    num_users: usize,
}

#[derive(Serialize)]
struct Said {
    username: String,
    message: String,
}

#[derive(Serialize)]
struct Typing {
    username: String,
}

/// `upload`'s argument: a name and a binary attachment.
#[derive(Deserialize)]
struct Upload {
    name: String,
    bytes: bytes::Bytes,
}

#[derive(Deserialize)]
struct Auth {
    token: String,
}

/// The refusal of a connect to `/admin` without the token (its message reaches the client's connect error).
#[derive(Debug)]
struct InvalidToken;

impl std::fmt::Display for InvalidToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid token")
    }
}

impl std::error::Error for InvalidToken {}

async fn admin_auth(Data(auth): Data<Auth>) -> Result<(), InvalidToken> {
    if auth.token == ADMIN_TOKEN {
        Ok(())
    } else {
        Err(InvalidToken)
    }
}

/// What an app variant does differently: the one a test uses to show a missing event fails.
#[derive(Clone, Copy)]
struct Options {
    announce_joins: bool,
}

/// The chat app: socketioxide's layer on an axum router (Socket.IO at `/socket.io/`).
pub fn app() -> axum::Router {
    build(Options { announce_joins: true }, Heartbeat::default())
}

/// The same app with a bug: it forgets to broadcast `user joined`.
pub fn app_that_forgets_user_joined() -> axum::Router {
    build(Options { announce_joins: false }, Heartbeat::default())
}

/// The app with the server's Engine.IO heartbeat at `every` (a ping every `every`, a client that has not answered
/// `every` later is dropped) instead of socketioxide's 25 s and 20 s.
pub fn app_with_heartbeat(every: Duration) -> axum::Router {
    build(
        Options { announce_joins: true },
        Heartbeat {
            interval: every,
            timeout: every,
        },
    )
}

/// socketioxide's heartbeat: a ping every `interval`, and `timeout` to answer it.
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            interval: Duration::from_secs(25),
            timeout: Duration::from_secs(20),
        }
    }
}

fn build(options: Options, heartbeat: Heartbeat) -> axum::Router {
    let (layer, io) = SocketIo::builder()
        .ping_interval(heartbeat.interval)
        .ping_timeout(heartbeat.timeout)
        .build_layer();
    let users = Arc::new(AtomicUsize::new(0));
    let chat_users = Arc::clone(&users);
    io.ns("/", async move |s: SocketRef| {
        let users = Arc::clone(&chat_users);
        chat(s, users, options);
    });
    io.ns(
        "/admin",
        (async move |s: SocketRef| {
            let users = Arc::clone(&users);
            s.on("stats", async move |ack: AckSender| {
                ack.send(&users.load(Ordering::SeqCst)).ok();
            });
            s.on(
                "upload",
                async |s: SocketRef, Data::<Upload>(upload), ack: AckSender| {
                    ack.send(&(upload.name.as_str(), upload.bytes.len())).ok();
                    let reversed: Vec<u8> = upload.bytes.iter().rev().copied().collect();
                    s.emit("file", &(upload.name, bytes::Bytes::from(reversed))).ok();
                },
            );
        })
        .with(admin_auth),
    );
    axum::Router::new().layer(layer)
}

fn chat(s: SocketRef, users: Arc<AtomicUsize>, options: Options) {
    s.on("new message", async |s: SocketRef, Data::<String>(message)| {
        let Some(Username(username)) = s.extensions.get::<Username>() else {
            return;
        };
        s.broadcast()
            .emit("new message", &Said { username, message })
            .await
            .ok();
    });
    let joined = Arc::clone(&users);
    s.on("add user", async move |s: SocketRef, Data::<String>(username)| {
        if s.extensions.get::<Username>().is_some() {
            return;
        }
        let num_users = joined.fetch_add(1, Ordering::SeqCst) + 1;
        s.extensions.insert(Username(username.clone()));
        s.emit("login", &Login { num_users }).ok();
        if options.announce_joins {
            s.broadcast()
                .emit("user joined", &UserEvent { username, num_users })
                .await
                .ok();
        }
    });
    s.on("typing", async |s: SocketRef| {
        let Some(Username(username)) = s.extensions.get::<Username>() else {
            return;
        };
        s.broadcast().emit("typing", &Typing { username }).await.ok();
    });
    s.on("stop typing", async |s: SocketRef| {
        let Some(Username(username)) = s.extensions.get::<Username>() else {
            return;
        };
        s.broadcast().emit("stop typing", &Typing { username }).await.ok();
    });
    s.on_disconnect(async move |s: SocketRef| {
        if let Some(Username(username)) = s.extensions.get::<Username>() {
            let num_users = users.fetch_sub(1, Ordering::SeqCst) - 1;
            s.broadcast()
                .emit("user left", &UserEvent { username, num_users })
                .await
                .ok();
        }
    });
}

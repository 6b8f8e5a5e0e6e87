use ws_test_runtime::prelude::*;

async fn misuse() {
    // The app enforces its own token and limits: ws-test's own server's settings are not offered after `.app`.
    let _ = EmbeddedServer::builder().app(axum::Router::new()).token("t").start().await;
    let _ = EmbeddedServer::app(axum::Router::new()).max_connections(3).start().await;
    let _ = EmbeddedServer::app(axum::Router::new()).handler(ChatAgent::new()).start().await;
}

fn main() {
    let _ = misuse();
}

use ws_test_runtime::EmbeddedServer;

async fn hosts_a_number() {
    let _ = EmbeddedServer::builder().app(42_u32).start().await;
}

fn main() {
    let _ = hosts_a_number;
}

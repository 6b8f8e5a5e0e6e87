//! A JSON-RPC 2.0 server on jsonrpsee: the method `add` (`[a, b]` → `a + b`) and the subscription
//! `subscribe_ticks` (`[count]`), whose notifications are named `ticks` and carry `0..count`.
//!
//! [`serve`] runs it on a `std::net::TcpListener`, built with jsonrpsee's `build_from_tcp`.

use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::server::Server;

/// The RPC module: `add` and `subscribe_ticks`/`unsubscribe_ticks`.
pub fn module() -> RpcModule<()> {
    let mut module = RpcModule::new(());
    module
        .register_method("add", |params, _, _| {
            let (a, b): (i64, i64) = params.parse()?;
            Ok::<i64, jsonrpsee::types::ErrorObjectOwned>(a + b)
        })
        .expect("`add` is registered once");
    module
        .register_subscription(
            "subscribe_ticks",
            "ticks",
            "unsubscribe_ticks",
            |params, pending, _, _| async move {
                let count: u64 = params.one()?;
                let sink = pending.accept().await?;
                for n in 0..count {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    sink.send(serde_json::value::to_raw_value(&n)?).await?;
                }
                Ok(())
            },
        )
        .expect("`subscribe_ticks` is registered once");
    module
}

/// Serves the module on `listener` until the future is dropped (dropping the handle stops the server).
pub async fn serve(listener: std::net::TcpListener) -> std::io::Result<()> {
    let server = Server::builder().build_from_tcp(listener)?;
    let handle = server.start(module());
    handle.stopped().await;
    Ok(())
}

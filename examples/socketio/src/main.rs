//! Runs the Socket.IO chat on `127.0.0.1:3000` (or the address in the first argument); prints the WebSocket URL
//! a Socket.IO client's transport opens.

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "listening on ws://{}/socket.io/?EIO=4&transport=websocket",
        listener.local_addr()?
    );
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, socketio_chat::app()).await
}

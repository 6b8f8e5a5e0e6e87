//! Runs the chat backend on `127.0.0.1:3000` (or the address in the first argument).

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on ws://{}{}", listener.local_addr()?, axum_chat::CHAT_PATH);
    // TCP_NODELAY: without it, Nagle's algorithm holds the second event of every chat until the client's delayed
    // ACK (~40 ms on Linux); `ws-test bench` shows it as a 40 ms gap between agent_started and agent_thinking.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, axum_chat::app()).await
}

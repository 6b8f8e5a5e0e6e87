//! Runs the chat backend on `127.0.0.1:3000` (or the address in the first argument).

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on ws://{}{}", listener.local_addr()?, axum_chat::CHAT_PATH);
    axum::serve(listener, axum_chat::app()).await
}

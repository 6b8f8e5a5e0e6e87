//! `actix-chat [ADDR]`: the chat backend on ADDR (default 127.0.0.1:8080).

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = std::net::TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;
    println!("ws://{addr}/chat");
    actix_web::rt::System::new().block_on(actix_chat::serve(listener)?)
}

//! One fuzz case against the embedded server: arbitrary bytes from a client, through the in-memory transport,
//! into hyper, the upgrade decision, tungstenite's frame decoding and a handler. The `server` cargo-fuzz target
//! calls it with the default handler (`__private::fuzz_server`); a property test feeds it random bytes on every
//! CI run.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::EmbeddedServer;
use crate::handler::DynHandler;
use crate::transport::{self, Transport};

/// A valid upgrade request: with it in front, the input reaches the WebSocket frame decoder.
const UPGRADE: &[u8] = b"GET /ws HTTP/1.1\r\nHost: fuzz\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

/// Runs one case: the first byte's low bit puts a valid upgrade request before the rest (so most cases test the
/// frame decoder), its second bit splits the write in two. Returns what the server answered. Panics — a crash
/// for the fuzzer — when the server records a failure or does not shut down.
pub(crate) fn fuzz_one(handler: std::sync::Arc<dyn DynHandler>, data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    runtime.block_on(async {
        let mut server = EmbeddedServer::builder()
            .transport(Transport::Memory)
            .max_message_size(64 * 1024)
            .dyn_handler(handler)
            .start()
            .await
            .expect("an in-memory server starts");
        let host = server
            .url()
            .trim_start_matches("ws://")
            .trim_end_matches("/ws")
            .to_owned();
        let Ok(mut stream) = transport::connect(&host, 80).await else {
            panic!("the in-memory server {host} is not reachable");
        };
        let mut input = Vec::with_capacity(UPGRADE.len() + rest.len());
        if mode & 1 == 1 {
            input.extend_from_slice(UPGRADE);
        }
        input.extend_from_slice(rest);
        let split = if mode & 2 == 2 { input.len() / 2 } else { input.len() };
        // On the paused clock, these deadlines pass as soon as both sides wait: virtual time, not real.
        let mut answer = Vec::new();
        let exchange = async {
            let _ = stream.write_all(&input[..split]).await;
            let _ = stream.write_all(&input[split..]).await;
            let mut buffer = vec![0u8; 64 * 1024];
            while let Ok(read) = stream.read(&mut buffer).await {
                if read == 0 || answer.len() > 1 << 20 {
                    break;
                }
                answer.extend_from_slice(&buffer[..read]);
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(30), exchange).await;
        drop(stream);
        let shut = tokio::time::timeout(Duration::from_secs(60), server.shutdown()).await;
        assert!(shut.is_ok(), "the server did not shut down");
        let failures = server.failures();
        assert!(failures.is_empty(), "the server recorded failures: {failures:?}");
        answer
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde_json::Value;

    use crate::handler::DynHandler;
    use crate::{Router, Session};

    /// A router that echoes every event: routing, its error replies and sends all take part.
    fn echo() -> Arc<dyn DynHandler> {
        Arc::new(
            Router::new().fallback(|session: Session, event: Value| async move { session.send_json(&event).await }),
        )
    }

    fn fuzz_one(data: &[u8]) -> Vec<u8> {
        super::fuzz_one(echo(), data)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_client_bytes_never_break_the_server(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = fuzz_one(&data);
        }
    }

    #[test]
    fn a_masked_frame_gets_through() {
        // Mode 1: the upgrade first; then a masked text frame with a zero mask, then one that is not JSON.
        let mut data = vec![1u8];
        for payload in [&br#"{"type":"hello","n":1}"#[..], b"nope"] {
            data.extend_from_slice(&[0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0]);
            data.extend_from_slice(payload);
        }
        let answer = String::from_utf8_lossy(&fuzz_one(&data)).into_owned();
        assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
        assert!(
            answer.contains(r#"{"n":1,"type":"hello"}"#) || answer.contains(r#"{"type":"hello","n":1}"#),
            "{answer}"
        );
        assert!(answer.contains("invalid_json"), "{answer}");
    }
}

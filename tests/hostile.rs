//! The transport-level hostile presets against `WsClient` and the expectations: each misbehaviour is reported
//! clearly, within the deadline that applies.

use std::time::Duration;

use ws_test_runtime::prelude::*;
use ws_test_runtime::{Direction, Error, FrameKind, Handler, HandlerResult, Message, Session, TransportFault};

/// Sends 1 KiB text frames on connect until the connection ends.
struct Flood;

impl Handler for Flood {
    async fn on_connect(&self, session: &Session) -> HandlerResult {
        let session = session.clone();
        session.clone().spawn(async move {
            let frame = "f".repeat(1024);
            while session.send_text(frame.clone()).await.is_ok() {}
        });
        Ok(())
    }

    async fn on_message(&self, _: &Session, _: Message) -> HandlerResult {
        Ok(())
    }
}

async fn hostile(fault: TransportFault) -> Result<EmbeddedServer, Error> {
    EmbeddedServer::builder().transport_fault(fault).start().await
}

/// Sends `text` again and again until a send fails (at most `limit` times); returns the failure.
async fn send_until_stuck(client: &mut WsClient, text: &str, limit: usize) -> Error {
    for _ in 0..limit {
        if let Err(error) = client.send_text(text).await {
            return error;
        }
    }
    panic!(
        "{limit} frames of {} bytes taken by a server that should have stopped reading",
        text.len()
    );
}

/// The close a receive ends with, and how long it took to learn of it.
async fn closed_on_recv(client: &mut WsClient) -> (u16, String, Duration) {
    let started = tokio::time::Instant::now();
    match client.recv().await {
        Err(Error::Closed { code, reason, .. }) => (code, reason, started.elapsed()),
        other => panic!("expected the connection to end, got {other:?}"),
    }
}

#[tokio::test]
async fn no_handshake_fails_the_connect_at_its_deadline_saying_so() -> TestResult {
    let server = hostile(TransportFault::NoHandshake).await?;
    let started = tokio::time::Instant::now();
    let error = server
        .client()
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("handshake did not finish in time"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn a_reset_mid_frame_is_reported_as_a_reset() -> TestResult {
    let server = hostile(TransportFault::Reset).await?;
    let mut client = server.connect().await?;
    let (code, reason, _) = closed_on_recv(&mut client).await;
    assert_eq!(code, 1006);
    assert!(
        reason.contains("reset the connection") || reason.contains("without a close frame"),
        "{reason}"
    );
    Ok(())
}

#[tokio::test]
async fn a_half_open_server_times_out_every_wait_naming_what_was_awaited() -> TestResult {
    let server = hostile(TransportFault::HalfOpen).await?;
    let mut client = server
        .client()
        .recv_timeout(Duration::from_millis(200))
        .send_timeout(Duration::from_millis(200))
        .connect()
        .await?;
    let silent = client.expect_type("connection_established").await.unwrap_err();
    assert!(
        matches!(&silent, Error::Timeout { awaited, .. } if awaited.contains("connection_established")),
        "{silent}"
    );
    let expectation = Expect::events(["connection_established"]).within(Duration::from_millis(200));
    let report = client.expect(&expectation).await.unwrap_err().to_string();
    assert!(report.contains("connection_established"), "{report}");
    let unanswered = client.ping("anyone?").await.unwrap_err();
    assert!(
        matches!(&unanswered, Error::Timeout { awaited, .. } if awaited.contains("pong")),
        "{unanswered}"
    );
    // It never reads either: sends fill the socket's buffers, then fail at the send deadline.
    let stuck = send_until_stuck(&mut client, &"x".repeat(1 << 20), 512).await;
    assert!(
        matches!(&stuck, Error::Timeout { awaited, after, .. }
            if awaited.contains("not reading") && awaited.contains("send_timeout") && *after == Duration::from_millis(200)),
        "{stuck}"
    );
    Ok(())
}

#[tokio::test]
async fn a_slow_reader_still_chats_but_a_bulk_send_meets_the_send_deadline() -> TestResult {
    let server = hostile(TransportFault::SlowRead).await?;
    let mut client = server
        .client()
        .send_timeout(Duration::from_millis(300))
        .connect()
        .await?;
    client.expect(Expect::events(["connection_established"])).await?;
    client
        .send_json(json!({"type": "chat_message", "content": "hi", "run_id": "slow"}))
        .await?;
    client.expect(Expect::events(ChatEvent::CRITICAL).strict()).await?;
    let echo = json!({"type": "echo", "payload": "x".repeat(512 * 1024)}).to_string();
    let stuck = send_until_stuck(&mut client, &echo, 1024).await;
    assert!(
        matches!(&stuck, Error::Timeout { awaited, .. } if awaited.contains("not reading")),
        "{stuck}"
    );
    Ok(())
}

#[tokio::test]
async fn fragments_with_pings_between_arrive_as_one_message_and_the_pings_are_answered() -> TestResult {
    let server = hostile(TransportFault::FragmentWithPings).await?;
    let mut client = server.connect().await?;
    assert_eq!(client.recv_json().await?, json!({"type": "fragmented", "parts": 3}));
    client.expect_type("connection_established").await?;
    let history = client.history();
    let pings: Vec<_> = history
        .frames()
        .iter()
        .filter(|frame| matches!(frame.kind, FrameKind::Ping(_)))
        .map(|frame| frame.direction)
        .collect();
    assert_eq!(pings, [Direction::In, Direction::In]);
    let pongs = history
        .frames()
        .iter()
        .filter(|frame| frame.direction == Direction::Out && matches!(frame.kind, FrameKind::Pong(_)))
        .count();
    assert_eq!(pongs, 2);
    Ok(())
}

#[tokio::test]
async fn invalid_utf8_ends_the_connection_and_the_expectation_says_why() -> TestResult {
    let server = hostile(TransportFault::InvalidUtf8).await?;
    let mut client = server.connect().await?;
    let report = client
        .expect(Expect::events(["connection_established"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(report.contains("not valid UTF-8"), "{report}");
    let (code, reason, _) = closed_on_recv(&mut client).await;
    assert_eq!(code, 1006);
    assert!(reason.contains("not valid UTF-8"), "{reason}");
    Ok(())
}

#[tokio::test]
async fn an_oversize_frame_is_refused_at_its_header_naming_the_limit() -> TestResult {
    let server = hostile(TransportFault::OversizeFrame).await?;
    let mut client = server.client().max_message_size(1 << 20).connect().await?;
    let (code, reason, took) = closed_on_recv(&mut client).await;
    assert_eq!(code, 1006);
    assert!(
        reason.contains("over the client's limit of 1048576 bytes") && reason.contains("max_message_size"),
        "{reason}"
    );
    assert!(
        took < Duration::from_secs(1),
        "it did not wait for 2^62 bytes: {took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_close_reason_over_the_control_frame_limit_is_a_protocol_error() -> TestResult {
    let server = hostile(TransportFault::LongCloseReason).await?;
    let mut client = server.connect().await?;
    let (code, reason, _) = closed_on_recv(&mut client).await;
    assert_eq!(code, 1006);
    assert!(reason.contains("broke the WebSocket protocol"), "{reason}");
    Ok(())
}

#[tokio::test]
async fn an_unsolicited_pong_is_recorded_and_ignored() -> TestResult {
    let server = hostile(TransportFault::UnsolicitedPong).await?;
    let mut client = server.connect().await?;
    client
        .expect(Expect::events(["connection_established"]).strict())
        .await?;
    let history = client.history();
    let first = &history.frames()[0];
    assert_eq!(first.direction, Direction::In);
    assert_eq!(first.kind, FrameKind::Pong(b"nobody asked".to_vec()));
    Ok(())
}

#[tokio::test]
async fn a_flooding_server_is_cut_off_at_the_history_cap_with_a_clear_error() -> TestResult {
    let server = EmbeddedServer::builder().handler(Flood).start().await?;
    let mut client = server.client().max_history_bytes(256 * 1024).connect().await?;
    let error = client.expect_type("never sent").await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(&error, Error::Closed { code: 1008, reason, .. } if reason.starts_with("flooded:"))
            && message.contains("max_history_bytes"),
        "{message}"
    );
    let kept: usize = client.history().received().map(|frame| frame.kind.payload_len()).sum();
    assert!(kept <= 256 * 1024 && kept > 128 * 1024, "{kept} bytes kept");
    Ok(())
}

#[tokio::test]
async fn every_preset_is_reachable_from_its_name() {
    for fault in TransportFault::ALL {
        let server = EmbeddedServer::builder()
            .transport_fault(fault.to_string().parse().unwrap())
            .start()
            .await
            .unwrap();
        assert!(format!("{server:?}").contains("ws://"));
    }
}

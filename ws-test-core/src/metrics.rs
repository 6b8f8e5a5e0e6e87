//! Counters of the embedded server, read as a [`MetricsSnapshot`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The live counters of one server (shared by its connection tasks).
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections_active: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub handler_errors: AtomicU64,
    pub handler_panics: AtomicU64,
    pub handshakes_timed_out: AtomicU64,
    pub connections_shed: AtomicU64,
    pub closed_too_slow: AtomicU64,
    pub closed_idle: AtomicU64,
}

impl Metrics {
    pub fn frame_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
    }

    pub fn frame_out(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            connections_active: self.connections_active.load(Relaxed),
            connections_total: self.connections_total.load(Relaxed),
            connections_refused: self.connections_refused.load(Relaxed),
            frames_in: self.frames_in.load(Relaxed),
            frames_out: self.frames_out.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            handler_errors: self.handler_errors.load(Relaxed),
            handler_panics: self.handler_panics.load(Relaxed),
            connections_pending: 0,
            handshakes_timed_out: self.handshakes_timed_out.load(Relaxed),
            connections_shed: self.connections_shed.load(Relaxed),
            closed_too_slow: self.closed_too_slow.load(Relaxed),
            closed_idle: self.closed_idle.load(Relaxed),
        }
    }
}

/// A point-in-time copy of the server's counters (`EmbeddedServer::metrics`).
///
/// Frames and bytes count WebSocket data frames (text and binary) and their payload sizes, seen from the server:
/// `frames_in` came from clients, `frames_out` went to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// WebSocket connections open now.
    pub connections_active: u64,
    /// WebSocket connections accepted since the server started.
    pub connections_total: u64,
    /// Upgrade requests refused (bad token, origin, handshake, or the connection limit).
    pub connections_refused: u64,
    /// Data frames received from clients.
    pub frames_in: u64,
    /// Data frames sent to clients.
    pub frames_out: u64,
    /// Payload bytes received from clients.
    pub bytes_in: u64,
    /// Payload bytes sent to clients.
    pub bytes_out: u64,
    /// Handler calls that returned an error.
    pub handler_errors: u64,
    /// Handler calls that panicked (each closed its connection with 1011).
    pub handler_panics: u64,
    /// Connections in their HTTP phase now (accepted, not upgraded; capped by
    /// `max_pending`).
    pub connections_pending: u64,
    /// Connections dropped because their HTTP request was not complete within the
    /// `handshake_timeout`.
    pub handshakes_timed_out: u64,
    /// Connections dropped at once because `max_pending` connections were
    /// already in their HTTP phase.
    pub connections_shed: u64,
    /// Connections closed with 1008 because a broadcast found their outbound queue full (a peer that does not
    /// read).
    pub closed_too_slow: u64,
    /// Connections closed with 1001 after the `idle_timeout`.
    pub closed_idle: u64,
}

crate::serialization::serialize_struct!(MetricsSnapshot {
    connections_active,
    connections_total,
    connections_refused,
    frames_in,
    frames_out,
    bytes_in,
    bytes_out,
    handler_errors,
    handler_panics,
    connections_pending,
    handshakes_timed_out,
    connections_shed,
    closed_too_slow,
    closed_idle
});

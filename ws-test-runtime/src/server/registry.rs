//! The registry of open WebSocket connections: it feeds broadcast, shutdown and `connections()`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc};

use crate::message::{CloseInfo, Message};
use crate::metrics::Metrics;
use crate::session::Outbound;

/// An open connection, as other parts of the server see it: its id and the upgrade request that opened it (who
/// connected, and how, is in its query and headers: a token, a tenant, the chat agent's `X-User-Id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The server-assigned connection id.
    pub connection_id: String,
    /// The URI of the upgrade request (path and query).
    pub uri: hyper::Uri,
    /// The headers of the upgrade request.
    pub headers: hyper::HeaderMap,
}

impl ConnectionInfo {
    /// A header of the upgrade request, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// A query parameter of the upgrade request, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::wire::query_param(&self.uri, name)
    }
}

struct Entry {
    /// When it was registered, counted from 0: the order `list` keeps.
    opened: u64,
    info: ConnectionInfo,
    outbound: mpsc::Sender<Outbound>,
    /// Tells the connection's writer to close with 1008: a broadcast found its queue full.
    too_slow: Arc<Notify>,
    /// Whether it was told already (it is counted once).
    told: bool,
}

/// Open connections by id.
#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<HashMap<String, Entry>>,
    registered: std::sync::atomic::AtomicU64,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn insert(&self, info: ConnectionInfo, outbound: mpsc::Sender<Outbound>, too_slow: Arc<Notify>) {
        let opened = self.registered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock().insert(
            info.connection_id.clone(),
            Entry {
                opened,
                info,
                outbound,
                too_slow,
                told: false,
            },
        );
    }

    pub(crate) fn remove(&self, connection_id: &str) {
        self.lock().remove(connection_id);
    }

    pub(crate) fn list(&self) -> Vec<ConnectionInfo> {
        let entries = self.lock();
        let mut list: Vec<(u64, ConnectionInfo)> = entries
            .values()
            .map(|entry| (entry.opened, entry.info.clone()))
            .collect();
        // By opening order: `conn-10` opened after `conn-9`, although it sorts before it as a string.
        list.sort_unstable_by_key(|(opened, _)| *opened);
        list.into_iter().map(|(_, info)| info).collect()
    }

    fn senders(&self) -> Vec<mpsc::Sender<Outbound>> {
        self.lock().values().map(|entry| entry.outbound.clone()).collect()
    }

    /// Queues `text` on every open connection without ever waiting; returns how many took it. A connection
    /// whose queue is full is told to close with 1008 instead (once), and counted in `metrics`.
    pub(crate) fn broadcast(&self, text: String, metrics: &Metrics) -> usize {
        let mut delivered = 0;
        for (id, entry) in self.lock().iter_mut() {
            match entry.outbound.try_send(Outbound::Message(Message::Text(text.clone()))) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) if !entry.told => {
                    entry.told = true;
                    entry.too_slow.notify_one();
                    metrics.closed_too_slow.fetch_add(1, Ordering::Relaxed);
                    crate::logging::log!(warn, connection_id = %id, "closing a connection too slow to take a broadcast");
                }
                Err(_) => {}
            }
        }
        delivered
    }

    /// Asks every open connection to close with `close` (without waiting for a full queue).
    pub(crate) fn close_all(&self, close: &CloseInfo) {
        for sender in self.senders() {
            // A connection whose queue is full is past saving: the shutdown grace period ends it.
            let _ = sender.try_send(Outbound::Close(close.clone()));
        }
    }
}

//! The one error type of the runtime.
//!
//! Every variant's message is a full sentence a test author can act on: it says what was attempted, what
//! happened instead and, where it helps, what arrived in the meantime.

use std::fmt;
use std::io::IsTerminal as _;
use std::time::Duration;

/// A `Result` whose error is the runtime's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while serving, connecting, sending, receiving or checking.
///
/// `Debug` prints the same sentence as `Display`, so a test returning `Result<(), Error>` fails with a message
/// a person can read rather than a nest of variant names.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The embedded server could not listen on the requested address.
    #[error("the embedded server could not listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: String,
        /// Why the operating system refused.
        #[source]
        source: std::io::Error,
    },

    /// A URL given to the client or the server builder is not usable.
    #[error("`{url}` is not a usable WebSocket URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The client could not open a connection before its connect deadline.
    #[error(
        "could not connect to {url} within {within:?} ({attempts} attempt(s)); the last attempt failed with: {last}"
    )]
    Connect {
        /// The URL the client tried.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The connect deadline.
        within: Duration,
        /// The last failure, in words.
        last: String,
    },

    /// The client offered subprotocols and the server agreed to none of them (or to one it was not offered).
    #[error("the server at {url} agreed to none of the offered subprotocols ({}): it answered {answered}", .offered.join(", "))]
    Subprotocol {
        /// The URL the client tried.
        url: String,
        /// What the client offered, in preference order.
        offered: Vec<String>,
        /// What the server answered, in words.
        answered: String,
    },

    /// The TLS handshake of a `wss://` connection failed in a way another attempt would repeat: the server's
    /// certificate is not trusted or not valid for the host, or the server does not speak TLS. Never retried,
    /// never downgraded to plain `ws://`.
    #[error("TLS with {host} failed for {url}: {reason}")]
    Tls {
        /// The URL the client tried.
        url: String,
        /// The host the certificate had to be valid for (the URL's, sent as SNI).
        host: String,
        /// What went wrong, in words, with what to do about it.
        reason: String,
    },

    /// The server answered the upgrade request with an HTTP status instead of `101 Switching Protocols`.
    #[error("the server at {url} refused the WebSocket upgrade with HTTP {status}: {:?}", first_line(.body))]
    Rejected {
        /// The URL the client tried.
        url: String,
        /// The HTTP status code of the refusal.
        status: u16,
        /// The body of the refusal (what the server said was wrong).
        body: String,
    },

    /// The connection's [protocol](crate::protocol) could not complete its handshake after the upgrade: the
    /// server refused it (a Socket.IO namespace connect answered with a connect error, say).
    #[error("the {protocol} handshake with {url} failed: {reason}")]
    Handshake {
        /// The URL the client connected to.
        url: String,
        /// The protocol's name.
        protocol: String,
        /// Why, with the server's words.
        reason: String,
    },

    /// The server answered a request with an error (a JSON-RPC error response), in its words.
    #[error("the server answered {request} with {reason}")]
    ErrorReply {
        /// The reply that was awaited.
        request: String,
        /// The error: its code and message.
        reason: String,
    },

    /// Nothing satisfying the wait arrived before its deadline.
    #[error("timed out after {after:?} waiting for {awaited}; {}", describe_received(.received))]
    Timeout {
        /// What was being waited for, in words.
        awaited: String,
        /// The deadline that expired.
        after: Duration,
        /// One-line summaries of the frames that arrived during the wait instead.
        received: Vec<String>,
    },

    /// The peer closed the connection while something else was expected.
    #[error(
        "the connection was closed (code {code}, reason {reason:?}) while waiting for {awaited}; {}",
        describe_received(.received)
    )]
    Closed {
        /// What was being waited for, in words.
        awaited: String,
        /// The close code (1005 when the close frame carried none, 1006 when the TCP stream just ended).
        code: u16,
        /// The close reason.
        reason: String,
        /// One-line summaries of the frames that arrived during the wait before the close.
        received: Vec<String>,
    },

    /// A message arrived where none (or another one) was expected.
    #[error("expected {expected}, but received {received}")]
    Unexpected {
        /// What the test expected, in words.
        expected: String,
        /// A one-line summary of what arrived.
        received: String,
    },

    /// A text frame that should hold JSON does not.
    #[error("expected a JSON text frame, but received {received}: {reason}")]
    NotJson {
        /// A one-line summary of the frame.
        received: String,
        /// Why it is not the expected JSON.
        reason: String,
    },

    /// A value could not be serialised to JSON.
    #[error("could not serialise the message to JSON: {0}")]
    Serialize(#[source] serde_json::Error),

    /// The connection is already closed, so the operation could not be done.
    #[error("cannot {action}: the connection {connection} is already closed")]
    AlreadyClosed {
        /// What was attempted (`send a text frame`, ...).
        action: String,
        /// The connection id or URL.
        connection: String,
    },

    /// A server ws-test ran failed while it ran: a handler or connection task panicked, a replay diverged, a served
    /// function returned an error or panicked, a recorder could not write its files. What `shutdown` returns
    /// (`EmbeddedServer::shutdown`,
    /// `ServedServer::shutdown`).
    #[error("{server} failed: {}", .failures.join("; "))]
    ServerFailed {
        /// Which server, in words: `the server at ws://127.0.0.1:PORT/ws`, `the served server `echo``, ...
        server: String,
        /// One sentence per failure, in the order they happened.
        failures: Vec<String>,
    },

    /// The WebSocket layer reported a failure.
    #[error("the WebSocket connection failed: {0}")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),

    /// A fault specification could not be parsed: a transport fault's name (`close-abruptly`, ...) or a kit's own
    /// (the chat agent's `drop:agent_thinking`, ...).
    #[error("`{spec}` is not a fault specification: {reason}")]
    InvalidFault {
        /// The specification as given.
        spec: String,
        /// What is wrong with it and what would be accepted.
        reason: String,
    },

    /// An event expectation was not met: the report shows the expectation, why, the received timeline with a
    /// marker at the first divergence, what was missing and what was not expected.
    #[error("{0}")]
    Expectation(Box<ExpectationFailure>),

    /// An event pattern does not parse; the message points at the column.
    #[error("{0}")]
    Pattern(#[source] PatternError),

    /// A received event has a `type` that the typed event enum does not declare.
    #[error("received an event of type {event_type:?}, which {enum_name} does not declare; it declares: {}", .known.join(", "))]
    UnknownEvent {
        /// The received type.
        event_type: String,
        /// The enum decoded into.
        enum_name: &'static str,
        /// The wire names the enum declares.
        known: Vec<&'static str>,
    },

    /// A received event has a known type but its fields do not fit the enum's variant.
    #[error("the {event_type:?} event does not fit {enum_name}: {reason}; the frame was {frame}")]
    EventShape {
        /// The received type.
        event_type: String,
        /// The enum decoded into.
        enum_name: &'static str,
        /// What serde said.
        reason: String,
        /// The frame, as received.
        frame: String,
    },

    /// A HAR file cannot be read as a recording: which file (and entry), and why — an entry that is no WebSocket,
    /// several WebSockets without a choice (the message lists them), a message that does not read.
    #[error("{name}: {reason}")]
    Har {
        /// The file, and the entry once one is chosen.
        name: String,
        /// What is wrong, with what the file holds where that helps to choose.
        reason: String,
    },

    /// A transcript (a recording, a failure transcript) does not parse: which one, its line, and what is wrong.
    #[error("{name}, line {line}: {reason}")]
    Transcript {
        /// The file (or "the transcript" when read from text).
        name: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },

    /// A file could not be read or written.
    #[error("could not {action} {}: {source}", .path.display())]
    File {
        /// What was attempted (`read the transcript`, ...).
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why the operating system refused.
        #[source]
        source: std::io::Error,
    },

    /// A server or client setting is contradictory or out of range.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Frames that break an AsyncAPI contract (`ws_test_runtime::contract`, feature `contract`): each with the
    /// frame, the message it was checked against and every problem with its JSON pointer in the frame.
    #[error("{0}")]
    Contract(String),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(error))
    }
}

/// The first line of a refusal's body (the whole body stays in the error's field), marked when more follows.
fn first_line(body: &str) -> String {
    let body = body.trim();
    match body.split_once('\n') {
        Some((first, _)) => format!("{}…", first.trim_end()),
        None => body.to_owned(),
    }
}

fn describe_received(received: &[String]) -> String {
    if received.is_empty() {
        "nothing arrived in the meantime".to_owned()
    } else {
        let mut out = format!("{} frame(s) arrived instead:", received.len());
        for line in received {
            out.push_str("\n    ");
            out.push_str(line);
        }
        out
    }
}

/// Why an expectation was not met, with the evidence: the `Display` of [`Error::Expectation`](crate::Error).
#[derive(Debug, Clone)]
pub struct ExpectationFailure {
    pub(crate) expectation: String,
    pub(crate) reason: String,
    pub(crate) rows: Vec<Option<FailureRow>>,
    pub(crate) marker: Option<(usize, String)>,
    pub(crate) end_marker: Option<String>,
    pub(crate) missing: Vec<String>,
    pub(crate) not_matched: Vec<String>,
    pub(crate) notes: Vec<String>,
}

/// One row of a failure report's timeline.
#[derive(Debug, Clone)]
pub(crate) struct FailureRow {
    pub(crate) index: usize,
    pub(crate) at: Option<Duration>,
    pub(crate) summary: String,
    pub(crate) ignored: bool,
}

impl ExpectationFailure {
    /// `timeout` or `closed` when the expectation failed because its deadline passed or the connection closed
    /// (how load reports count it); `None` for a wrong or missing event.
    #[doc(hidden)]
    #[cfg(feature = "load")]
    pub fn ended_by(&self) -> Option<&'static str> {
        if self.reason.starts_with("timed out") {
            Some("timeout")
        } else if self.reason.starts_with("the connection was closed") {
            Some("closed")
        } else {
            None
        }
    }

    /// The expectation, in one line.
    pub fn expectation(&self) -> &str {
        &self.expectation
    }

    /// Why it failed, in one sentence.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What was still missing (per group, open pairs, sequences still to come).
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// The frames that were neither matched nor ignored (`#index summary`).
    pub fn not_matched(&self) -> &[String] {
        &self.not_matched
    }

    /// Hints about what may have led to the failure.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The whole report; `colour` adds ANSI colours (the `Display` decides by itself: only on a terminal, and
    /// never with `NO_COLOR` set).
    pub fn render(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        out.push_str(&paint("1", &format!("expectation not met: {}", self.expectation)));
        out.push('\n');
        out.push_str(&paint("31", &self.reason));
        out.push('\n');
        if self.rows.is_empty() {
            out.push_str("(no frames received)\n");
        } else {
            out.push_str(&format!("{:>6}  {:>9}  frame\n", "#", "ms"));
            for (row_number, row) in self.rows.iter().enumerate() {
                let Some(row) = row else {
                    out.push_str(&format!("{:>6}  {:>9}  …\n", "…", ""));
                    continue;
                };
                let at = row
                    .at
                    .map_or_else(|| "-".to_owned(), |at| format!("{:.3}", at.as_secs_f64() * 1000.0));
                let flag = if row.ignored { "  (ignored)" } else { "" };
                let line = format!("{:>6}  {:>9}  {}{flag}", row.index, at, row.summary);
                match &self.marker {
                    Some((marked, text)) if *marked == row_number => {
                        out.push_str(&paint("1;31", &format!("{line}   <-- {text}")));
                    }
                    _ => out.push_str(&line),
                }
                out.push('\n');
            }
        }
        if let Some(text) = &self.end_marker {
            out.push_str(&paint("1;31", &format!("{:>6}  {:>9}  (end)   <-- {text}", "", "")));
            out.push('\n');
        }
        if !self.missing.is_empty() {
            out.push_str(&paint("33", &format!("missing: {}", self.missing.join("; "))));
            out.push('\n');
        }
        if !self.not_matched.is_empty() {
            out.push_str(&format!("not matched: {}\n", self.not_matched.join(", ")));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out.truncate(out.trim_end().len());
        out
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set (`CLICOLOR_FORCE` forces it).
fn colour_enabled() -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty()) {
        return false;
    }
    std::env::var_os("CLICOLOR_FORCE").is_some_and(|value| !value.is_empty() && value != "0")
        || std::io::stderr().is_terminal()
}

impl fmt::Display for ExpectationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(colour_enabled()))
    }
}

pub use ws_test_pattern::PatternError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_lists_what_arrived_instead() {
        let error = Error::Timeout {
            awaited: "a frame of type \"agent_completed\"".into(),
            after: Duration::from_secs(5),
            received: vec!["agent_started run_id=r1".into(), "agent_thinking run_id=r1".into()],
        };
        let text = error.to_string();
        assert!(text.starts_with("timed out after 5s waiting for a frame of type \"agent_completed\";"));
        assert!(text.contains("2 frame(s) arrived instead:\n    agent_started run_id=r1\n"));
    }

    #[test]
    fn timeout_with_nothing_says_so() {
        let error = Error::Timeout {
            awaited: "x".into(),
            after: Duration::from_millis(10),
            received: vec![],
        };
        assert!(error.to_string().ends_with("nothing arrived in the meantime"));
    }
}

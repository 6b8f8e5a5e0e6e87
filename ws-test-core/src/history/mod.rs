//! The history of a connection: every frame in and out, with a monotonic timestamp.
//!
//! A `WsClient` records each frame the moment it is sent or read off the socket, whether or
//! not the test ever looks at it. The history prints as a readable [`Timeline`] and serialises to JSON Lines
//! (one format for failure transcripts, recordings and replays), so a failed test can leave a transcript
//! behind and a recorded session can be served again.

#[cfg(feature = "har")]
mod har;
mod jsonl;
mod snapshot;

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use serde_json::Value;

use crate::Field;

// The recorder's (feature `record`) JSON Lines pieces.
#[cfg(feature = "record")]
#[doc(hidden)]
pub use jsonl::{REDACTED, redact};
#[doc(hidden)]
pub use jsonl::{frame_line, header_line};

use crate::error::{Error, Result};

pub use snapshot::{AsSnapshot, Snapshot};

/// Which way a frame travelled, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent to the server.
    Out,
}

/// `"in"` or `"out"`, as transcripts spell it.
impl serde_core::Serialize for Direction {
    fn serialize<S: serde_core::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Direction::In => "in",
            Direction::Out => "out",
        })
    }
}

/// What a frame carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameKind {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A protocol-level ping.
    Ping(Vec<u8>),
    /// A protocol-level pong.
    Pong(Vec<u8>),
    /// A close frame (code 1005 when it carried none).
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl FrameKind {
    /// The size of the frame's payload in bytes (a close frame: its code and reason).
    pub fn payload_len(&self) -> usize {
        match self {
            FrameKind::Text(text) => text.len(),
            FrameKind::Binary(bytes) | FrameKind::Ping(bytes) | FrameKind::Pong(bytes) => bytes.len(),
            FrameKind::Close { reason, .. } => 2 + reason.len(),
        }
    }
}

/// One frame of a connection's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Position in the history, from 0.
    pub index: usize,
    /// Which way it travelled.
    pub direction: Direction,
    /// Time since the connection was established.
    pub at: Duration,
    /// What it carried.
    pub kind: FrameKind,
    /// What the frame meant, read once as it arrived: a binary frame received by a client with a decoder
    /// (`ClientBuilder::decode`), or any frame of a connection with a
    /// [protocol](crate::protocol) (its event, or a frame of the protocol's own).
    pub decoded: Option<Decoded>,
}

/// What a frame decoded to with the connection's decoder (MessagePack, CBOR, protobuf to JSON) or its
/// [protocol](crate::protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// The frame as JSON: expectations, `recv_json`, `expect_type`, reports and timelines read this.
    Json(Value),
    /// The decoder or the protocol refused the frame: its error, in words. Reports show it with the frame's
    /// first bytes.
    Failed(String),
    /// A frame of the protocol's own (a heartbeat, the handshake, part of an event still waiting for its binary
    /// attachments): not an event, and no receive or expectation reads it. The words say what it was.
    Control(String),
}

/// The first bytes of a payload in hex, for messages about a frame that did not decode.
pub fn first_bytes(bytes: &[u8]) -> String {
    const SHOWN: usize = 16;
    let mut hex: Vec<String> = bytes.iter().take(SHOWN).map(|byte| format!("{byte:02x}")).collect();
    if bytes.len() > SHOWN {
        hex.push("…".to_owned());
    }
    hex.join(" ")
}

const SUMMARY_TEXT_LIMIT: usize = 120;
/// How many identifying fields a one-line summary shows next to the event's name.
const SUMMARY_FIELDS: usize = 4;

impl Frame {
    /// The text of a text frame.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            FrameKind::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The frame as JSON: what it decoded to, else a text frame holding JSON (none for a protocol's own frame or
    /// one that did not decode).
    pub fn json(&self) -> Option<Value> {
        match &self.decoded {
            Some(Decoded::Json(value)) => Some(value.clone()),
            Some(Decoded::Failed(_) | Decoded::Control(_)) => None,
            None => self.text().and_then(|text| serde_json::from_str(text).ok()),
        }
    }

    /// The event's name: the string at `key` (the event key: `"type"`, `"event"`, `"/data/kind"`, ...) of what
    /// the frame decoded to; `None` for a frame that is not such an event.
    ///
    /// ```
    /// use ws_test_runtime::{Direction, FrameKind, History};
    ///
    /// let mut history = History::new();
    /// history.record(Direction::In, FrameKind::Text(r#"{"event":"joined","data":{"kind":"k"}}"#.into()));
    /// let frame = &history.frames()[0];
    /// assert_eq!(frame.event("event").as_deref(), Some("joined"));
    /// assert_eq!(frame.event("/data/kind").as_deref(), Some("k"));
    /// assert_eq!(frame.event("type"), None);
    /// ```
    pub fn event(&self, key: impl Into<Field>) -> Option<String> {
        key.into().str(&self.json()?).map(str::to_owned)
    }

    /// A one-line description: the event type and its key fields for JSON events, a clipped text otherwise.
    pub fn summary(&self) -> String {
        self.summary_by(&Field::type_key())
    }

    /// [`summary`](Self::summary) with events named by `key`.
    #[doc(hidden)]
    pub fn summary_by(&self, key: &Field) -> String {
        match (&self.kind, &self.decoded) {
            (FrameKind::Text(text), Some(Decoded::Json(value))) => {
                summarize_json(value, key).unwrap_or_else(|| format!("text {}", clip(text)))
            }
            (FrameKind::Text(text), Some(Decoded::Failed(reason))) => {
                format!("text that did not decode ({reason}) {}", clip(text))
            }
            (FrameKind::Text(text), Some(Decoded::Control(what))) => format!("{what}: {}", clip(text)),
            (FrameKind::Binary(bytes), Some(Decoded::Control(what))) => {
                format!("{what}: binary frame of {} byte(s)", bytes.len())
            }
            (FrameKind::Text(text), None) => summarize_text_by(text, key),
            (FrameKind::Binary(bytes), _) => match &self.decoded {
                Some(Decoded::Json(value)) => summarize_json(value, key).unwrap_or_else(|| {
                    format!(
                        "binary frame of {} byte(s), decoded: {}",
                        bytes.len(),
                        clip(&value.to_string())
                    )
                }),
                Some(Decoded::Failed(reason)) => format!(
                    "binary frame of {} byte(s) that did not decode ({reason}), starting {}",
                    bytes.len(),
                    first_bytes(bytes)
                ),
                _ => format!("binary frame of {} byte(s)", bytes.len()),
            },
            (FrameKind::Ping(bytes), _) => format!("ping frame of {} byte(s)", bytes.len()),
            (FrameKind::Pong(bytes), _) => format!("pong frame of {} byte(s)", bytes.len()),
            (FrameKind::Close { code, reason }, _) => {
                format!("close frame, code {code}, reason {reason:?}")
            }
        }
    }
}

/// One line describing a text frame: `type key=value ...` for a typed JSON object, the clipped text otherwise.
pub fn summarize_text(text: &str) -> String {
    summarize_text_by(text, &Field::type_key())
}

/// [`summarize_text`] with events named by `key`.
pub(crate) fn summarize_text_by(text: &str, key: &Field) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => summarize_json(&value, key).unwrap_or_else(|| format!("text {}", clip(text))),
        Err(_) => format!("text (not JSON) {}", clip(text)),
    }
}

/// `name key=value ...` for a JSON object with a string at `key` (the event key, default `type`), with up to four
/// identifying fields (`id`, `*_id`, `seq`, `code`); `None` otherwise.
pub fn summarize_json(value: &Value, key: &Field) -> Option<String> {
    let kind = key.str(value)?;
    let mut line = kind.to_owned();
    let Some(object) = value.as_object() else {
        return Some(line);
    };
    // What tells runs, calls and operations apart in a timeline, whatever the protocol: `id` and any `*_id`, then
    // `seq` and `code`, each group in the object's order.
    let ids = object
        .iter()
        .filter(|(field, _)| field.as_str() == "id" || field.ends_with("_id"));
    let others = object
        .iter()
        .filter(|(field, _)| matches!(field.as_str(), "seq" | "code"));
    let shown = ids
        .chain(others)
        .filter(|(field, _)| key.as_str() != field.as_str())
        .filter_map(|(field, v)| match v {
            Value::String(v) => Some(format!(" {field}={v}")),
            Value::Number(v) => Some(format!(" {field}={v}")),
            _ => None,
        })
        .take(SUMMARY_FIELDS);
    for part in shown {
        line.push_str(&part);
    }
    Some(line)
}

fn clip(text: &str) -> String {
    match char_prefix(text, SUMMARY_TEXT_LIMIT) {
        Some(prefix) => format!("{prefix:?}… ({} bytes)", text.len()),
        None => format!("{text:?}"),
    }
}

/// The first `limit` characters of `text` when it has more (for messages that show a clipped frame).
pub(crate) fn char_prefix(text: &str, limit: usize) -> Option<&str> {
    text.char_indices().nth(limit).map(|(cut, _)| &text[..cut])
}

/// The HTTP upgrade that opened a connection, as HAR files keep it beside the frames: the request's headers, the
/// response's status and headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handshake {
    /// The upgrade request's headers, in order (`Host`, `Sec-WebSocket-Protocol`, a token, cookies).
    pub request_headers: Vec<(String, String)>,
    /// The response's status: 101 when the upgrade was accepted.
    pub status: u16,
    /// The response's headers, in order (the subprotocol the server chose among them).
    pub response_headers: Vec<(String, String)>,
}

impl Handshake {
    /// The subprotocol the server chose (the response's `Sec-WebSocket-Protocol`), when it chose one.
    pub fn subprotocol(&self) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// A recording read from a file or text, whatever its format, with where each frame is in it (for messages that
/// point into the file).
pub(crate) struct Source {
    pub(crate) history: History,
    /// Each frame's line (a transcript) or message number (a HAR entry), from 1.
    pub(crate) numbers: Vec<usize>,
    /// "line" or "message".
    pub(crate) unit: &'static str,
    /// A HAR's entry: "entry 3 (ws://127.0.0.1:4000/ws)".
    pub(crate) entry: Option<String>,
}

/// Whether `text` is a HAR file rather than a transcript: a JSON object with a `log`, not a transcript's header.
fn looks_like_har(text: &str) -> bool {
    let start = text.trim_start();
    if !start.starts_with('{') {
        return false;
    }
    // A transcript's first line is its header, a whole object naming itself.
    let first = start.lines().next().unwrap_or_default();
    if first.contains("\"ws_test\"") {
        return false;
    }
    // Browsers write `{"log": {...}}` (pretty or on one line); the key comes first.
    start[1..].trim_start().starts_with("\"log\"")
        || serde_json::from_str::<Value>(start).is_ok_and(|value| value.get("log").is_some())
}

/// Reads a recording: a transcript (JSON Lines, as `ws-test record` writes) or a HAR file (as browsers save
/// them), told apart by their content. `entry` chooses a HAR's WebSocket (its index in `log.entries` or its URL);
/// a transcript holds one session, so it takes no entry.
pub(crate) fn read_recording(text: &str, source: &str, entry: Option<&str>) -> Result<Source> {
    if looks_like_har(text) {
        #[cfg(feature = "har")]
        {
            let read = har::read(text, source, entry)?;
            return Ok(Source {
                history: read.history,
                numbers: read.numbers,
                unit: "message",
                entry: Some(read.entry),
            });
        }
        #[cfg(not(feature = "har"))]
        return Err(Error::Har {
            name: source.to_owned(),
            reason: "this is a HAR file, and reading one needs ws-test-runtime's `har` feature: \
                     ws-test-runtime = { version = \"0.1\", features = [\"har\"] }"
                .to_owned(),
        });
    }
    if let Some(entry) = entry {
        return Err(Error::Config(format!(
            "{source} is a transcript of one session, so it has no entry to choose ({entry:?}): an entry chooses \
             one WebSocket of a HAR file"
        )));
    }
    let (history, numbers) = jsonl::read_numbered(text, source)?;
    Ok(Source {
        history,
        numbers,
        unit: "line",
        entry: None,
    })
}

/// Every frame of one connection, in the order it was sent or received.
#[derive(Debug, Clone)]
pub struct History {
    started: Instant,
    recorded_at: SystemTime,
    url: Option<String>,
    handshake: Option<std::sync::Arc<Handshake>>,
    frames: Vec<Frame>,
    /// The field that names events in this connection's timeline (the client's event key).
    event_key: Field,
}

impl History {
    /// An empty history whose clock starts now.
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// An empty history whose clock started at `started`.
    pub fn starting_at(started: Instant) -> Self {
        History {
            started,
            recorded_at: SystemTime::now(),
            url: None,
            handshake: None,
            frames: Vec::new(),
            event_key: Field::type_key(),
        }
    }

    /// The same history, naming the URL of the connection (what a transcript's header shows).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The same history, with the upgrade that opened the connection (what a HAR entry shows beside the frames).
    pub fn with_handshake(mut self, handshake: Handshake) -> Self {
        self.set_handshake(handshake);
        self
    }

    /// Keeps the upgrade in place (a client learns it once its history exists).
    #[doc(hidden)]
    pub fn set_handshake(&mut self, handshake: Handshake) {
        self.handshake = Some(std::sync::Arc::new(handshake));
    }

    /// The upgrade that opened the connection, when known: a client's own, a recorder's session, a HAR entry's.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_deref()
    }

    /// Names events in the timeline by this field (the client's event key) instead of `"type"`.
    #[doc(hidden)]
    pub fn with_event_key(mut self, key: Field) -> Self {
        self.event_key = key;
        self
    }

    /// The URL of the connection, when known.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The wall-clock time the history started (a transcript's `recorded_at`).
    pub fn recorded_at(&self) -> SystemTime {
        self.recorded_at
    }

    /// When the clock started (the connection was established), on tokio's clock: under a paused clock
    /// (`start_paused = true`) the times in a history are virtual too.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Appends a frame at a given time since the start (times should not go backwards) and returns its index.
    pub fn record_at(&mut self, direction: Direction, at: Duration, kind: FrameKind) -> usize {
        let index = self.frames.len();
        self.frames.push(Frame {
            index,
            direction,
            at,
            kind,
            decoded: None,
        });
        index
    }

    /// Sets what the binary frame at `index` decoded to.
    #[doc(hidden)]
    pub fn set_decoded(&mut self, index: usize, decoded: Decoded) {
        if let Some(frame) = self.frames.get_mut(index) {
            frame.decoded = Some(decoded);
        }
    }

    /// Appends a frame stamped with the current time and returns its index.
    pub fn record(&mut self, direction: Direction, kind: FrameKind) -> usize {
        let index = self.frames.len();
        self.frames.push(Frame {
            index,
            direction,
            at: self.started.elapsed(),
            kind,
            decoded: None,
        });
        index
    }

    /// All frames, in order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The frames received from the server, in order.
    pub fn received(&self) -> impl Iterator<Item = &Frame> {
        self.frames.iter().filter(|frame| frame.direction == Direction::In)
    }

    /// The frames sent to the server, in order.
    pub fn sent(&self) -> impl Iterator<Item = &Frame> {
        self.frames.iter().filter(|frame| frame.direction == Direction::Out)
    }

    /// The name of every received event, in order, by this history's event key (the client's: `"type"` unless
    /// its protocol or `event_key` says otherwise).
    pub fn received_events(&self) -> Vec<String> {
        self.received()
            .filter_map(|frame| Some(self.event_key.str(&frame.json()?)?.to_owned()))
            .collect()
    }

    /// Number of frames recorded.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// A readable table of the frames: index, direction, milliseconds since connect and a summary.
    pub fn timeline(&self) -> Timeline<'_> {
        Timeline {
            frames: &self.frames,
            key: &self.event_key,
        }
    }

    /// The history as a transcript in JSON Lines: a header line (`url`, `recorded_at`, `ws_test_version`), then
    /// one object per frame with `index`, `direction` (seen from the client), `at_ms`, `kind` and the payload:
    /// `text`, `base64` for binary, ping and pong data, `code` and `reason` for a close. The same format serves
    /// failure transcripts, recordings and replays; [`History::from_json_lines`] reads it back.
    ///
    /// ```
    /// use ws_test_runtime::{Direction, FrameKind, History};
    ///
    /// let mut history = History::new().with_url("ws://127.0.0.1:4000/ws");
    /// history.record(Direction::Out, FrameKind::Text(r#"{"type":"chat_message","content":"hi"}"#.into()));
    /// history.record(Direction::In, FrameKind::Binary(vec![0xde, 0xad]));
    /// let text = history.to_json_lines();
    /// let back = History::from_json_lines(&text)?;
    /// assert_eq!(back.url(), Some("ws://127.0.0.1:4000/ws"));
    /// assert_eq!(back.frames()[1].kind, FrameKind::Binary(vec![0xde, 0xad]));
    /// # Ok::<(), ws_test_runtime::Error>(())
    /// ```
    pub fn to_json_lines(&self) -> String {
        jsonl::write(self)
    }

    /// Reads a transcript written by [`to_json_lines`](Self::to_json_lines) (a failure transcript, a
    /// recording). A line that does not parse is an [`Error::Transcript`] naming the
    /// line and what is wrong with it.
    pub fn from_json_lines(text: &str) -> Result<History> {
        jsonl::read(text, "the transcript")
    }

    /// Reads a recording from a file: a transcript (as [`save`](Self::save) and `ws-test record` write it), or a
    /// HAR file a browser saved (Chromium's or Firefox's DevTools, "Save all as HAR") holding one WebSocket; errors
    /// name the file and the line, or the HAR entry and message. A HAR with several WebSockets is an error that
    /// lists them: choose one with [`load_entry`](Self::load_entry).
    pub fn load(path: impl AsRef<Path>) -> Result<History> {
        Self::load_source(path.as_ref(), None).map(|source| source.history)
    }

    /// Reads one WebSocket of a HAR file: `entry` is its index in the HAR's `log.entries` (`"3"`), its URL
    /// (`"ws://localhost:4000/ws?room=a"`), or a part of its URL that only one WebSocket entry has (`"room=a"`), as
    /// `--entry` takes it on the command line. The history keeps the entry's URL (path and query) and its upgrade's
    /// headers ([`handshake`](Self::handshake): the subprotocol among them); binary frames come out of their base64.
    ///
    /// ```
    /// use ws_test_runtime::{Direction, FrameKind, History};
    ///
    /// let har = r#"{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
    ///   {"startedDateTime": "2026-12-03T08:00:00.000Z", "time": 1, "request": {"method": "GET", "url": "http://localhost:4000/"}, "response": {"status": 200}},
    ///   {"startedDateTime": "2026-12-03T08:00:00.100Z", "time": 1,
    ///    "request": {"method": "GET", "url": "ws://localhost:4000/ws?room=a",
    ///                "headers": [{"name": "Sec-WebSocket-Protocol", "value": "chat.v1"}]},
    ///    "response": {"status": 101, "headers": [{"name": "Sec-WebSocket-Protocol", "value": "chat.v1"}]},
    ///    "_resourceType": "websocket",
    ///    "_webSocketMessages": [
    ///      {"type": "receive", "time": 1796284800.105, "opcode": 1, "data": "{\"type\":\"connection_established\"}"},
    ///      {"type": "send", "time": 1796284800.2, "opcode": 2, "data": "3q0="}]}]}}"#;
    /// let path = std::env::temp_dir().join(format!("ws-test-doc-{}.har", std::process::id()));
    /// std::fs::write(&path, har)?;
    ///
    /// let history = History::load_entry(&path, "room=a")?;
    /// assert_eq!(history.url(), Some("ws://localhost:4000/ws?room=a"));
    /// assert_eq!(history.handshake().and_then(|upgrade| upgrade.subprotocol()), Some("chat.v1"));
    /// assert_eq!(history.frames()[1].direction, Direction::Out);
    /// assert_eq!(history.frames()[1].kind, FrameKind::Binary(vec![0xde, 0xad]));
    /// // Entry 0 is the page, not a WebSocket: the error says so and lists the WebSockets.
    /// let error = History::load_entry(&path, "0").unwrap_err().to_string();
    /// assert!(error.contains("entry 0 is GET http://localhost:4000/ (200"), "{error}");
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_entry(path: impl AsRef<Path>, entry: impl AsRef<str>) -> Result<History> {
        Self::load_source(path.as_ref(), Some(entry.as_ref())).map(|source| source.history)
    }

    /// A recording file read whatever its format, `entry` choosing a HAR's WebSocket.
    pub(crate) fn load_source(path: &Path, entry: Option<&str>) -> Result<Source> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            action: "read the recording",
            path: path.to_path_buf(),
            source,
        })?;
        read_recording(&text, &path.display().to_string(), entry)
    }

    /// The history as a HAR file (HTTP Archive 1.2) with one WebSocket entry, as Chromium's DevTools write one:
    /// the upgrade's request and response headers when known ([`handshake`](Self::handshake)), each text and binary
    /// frame under `_webSocketMessages` (`send` for frames the client sent; binary data in base64; times in seconds
    /// since the epoch). DevTools' Network panel imports it ("Import HAR file"), and every reader of a recording
    /// here reads it back.
    ///
    /// Needs ws-test-runtime's `har` feature.
    #[cfg(feature = "har")]
    pub fn to_har(&self) -> String {
        har::write(&[self])
    }

    /// The HAR of several sessions, one WebSocket entry each, in the order given (a recorder's sessions). Needs the
    /// `har` feature.
    #[cfg(feature = "har")]
    pub fn to_har_all<'a>(histories: impl IntoIterator<Item = &'a History>) -> String {
        har::write(&histories.into_iter().collect::<Vec<_>>())
    }

    /// Writes `to_har` to a file. Needs the `har` feature.
    #[cfg(feature = "har")]
    pub fn save_har(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_har()).map_err(|source| Error::File {
            action: "write the HAR file",
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the transcript to a file (see [`to_json_lines`](Self::to_json_lines)): any client's history saves
    /// as a recording that [`Replay`](crate::Replay) serves and
    /// [`Expect::from_recording`](crate::expect::Expect::from_recording) turns into an expectation.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json_lines()).map_err(|source| Error::File {
            action: "write the transcript",
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

/// A printable table of frames (see [`History::timeline`]).
#[derive(Debug, Clone, Copy)]
pub struct Timeline<'a> {
    frames: &'a [Frame],
    key: &'a Field,
}

impl fmt::Display for Timeline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.frames.is_empty() {
            return writeln!(f, "(no frames)");
        }
        writeln!(f, "{:>4}  {:<3}  {:>9}  frame", "#", "dir", "ms")?;
        for frame in self.frames {
            writeln!(
                f,
                "{:>4}  {:<3}  {:>9.3}  {}",
                frame.index,
                frame.direction,
                frame.at.as_secs_f64() * 1000.0,
                frame.summary_by(self.key)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut history = History::new();
        history.record(
            Direction::In,
            FrameKind::Text(r#"{"type":"agent_started","run_id":"r1","seq":1}"#.into()),
        );
        history.record(Direction::Out, FrameKind::Text("not json".into()));
        history.record(Direction::In, FrameKind::Binary(vec![0xde, 0xad]));
        history.record(
            Direction::In,
            FrameKind::Close {
                code: crate::wire::close_code::GOING_AWAY,
                reason: "bye".into(),
            },
        );
        history
    }

    #[test]
    fn summaries_show_type_and_key_fields() {
        let history = sample();
        let frames = history.frames();
        assert_eq!(frames[0].summary(), "agent_started run_id=r1 seq=1");
        assert_eq!(frames[1].summary(), "text (not JSON) \"not json\"");
        assert_eq!(frames[2].summary(), "binary frame of 2 byte(s)");
        assert_eq!(frames[3].summary(), "close frame, code 1001, reason \"bye\"");
        assert_eq!(history.received_events(), vec!["agent_started".to_owned()]);
        assert_eq!(history.sent().count(), 1);
    }

    #[test]
    fn long_text_is_clipped_on_a_char_boundary() {
        let text = "é".repeat(200);
        let summary = summarize_text(&text);
        assert!(summary.ends_with("… (400 bytes)"), "{summary}");
    }

    #[test]
    fn json_lines_round_trip_every_kind() {
        let lines = sample().to_json_lines();
        let parsed: Vec<Value> = lines.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed[0]["ws_test"], "transcript");
        assert_eq!(parsed[1]["direction"], "in");
        assert_eq!(parsed[1]["kind"], "text");
        assert_eq!(parsed[2]["direction"], "out");
        assert_eq!(parsed[3]["base64"], "3q0=");
        assert_eq!(parsed[4]["code"], 1001);
        assert_eq!(parsed[4]["reason"], "bye");
        let back = History::from_json_lines(&lines).unwrap();
        assert_eq!(
            back.frames(),
            sample()
                .frames()
                .iter()
                .map(|frame| Frame {
                    at: back.frames()[frame.index].at,
                    ..frame.clone()
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn timeline_has_one_row_per_frame() {
        let table = sample().timeline().to_string();
        assert_eq!(table.lines().count(), 5);
        assert!(table.lines().nth(1).unwrap().contains("agent_started run_id=r1"));
    }
}

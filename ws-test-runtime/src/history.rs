//! The history of a connection: every frame in and out, with a monotonic timestamp.
//!
//! A [`WsClient`](crate::WsClient) records each frame the moment it is sent or read off the socket, whether or
//! not the test ever looks at it. The history prints as a readable [`Timeline`] and serialises to JSON Lines,
//! so a failed test can leave a transcript behind.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;

use serde::Serialize;
use serde_json::Value;

/// Which way a frame travelled, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent to the server.
    Out,
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
}

const SUMMARY_TEXT_LIMIT: usize = 120;
/// JSON fields shown next to the type in one-line summaries: they tell runs and tool calls apart.
pub(crate) const KEY_FIELDS: [&str; 4] = ["run_id", "tool_call_id", "seq", "code"];

impl Frame {
    /// The text of a text frame.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            FrameKind::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The frame parsed as JSON, when it is a text frame holding JSON.
    pub fn json(&self) -> Option<Value> {
        self.text().and_then(|text| serde_json::from_str(text).ok())
    }

    /// The string `"type"` field of a JSON object text frame.
    pub fn event_type(&self) -> Option<String> {
        match self.json()? {
            Value::Object(mut map) => match map.remove("type") {
                Some(Value::String(kind)) => Some(kind),
                _ => None,
            },
            _ => None,
        }
    }

    /// A one-line description: the event type and its key fields for JSON events, a clipped text otherwise.
    pub fn summary(&self) -> String {
        match &self.kind {
            FrameKind::Text(text) => summarize_text(text),
            FrameKind::Binary(bytes) => format!("binary frame of {} byte(s)", bytes.len()),
            FrameKind::Ping(bytes) => format!("ping frame of {} byte(s)", bytes.len()),
            FrameKind::Pong(bytes) => format!("pong frame of {} byte(s)", bytes.len()),
            FrameKind::Close { code, reason } => {
                format!("close frame, code {code}, reason {reason:?}")
            }
        }
    }
}

/// One line describing a text frame: `type key=value ...` for a typed JSON object, the clipped text otherwise.
pub(crate) fn summarize_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => summarize_json(&value).unwrap_or_else(|| format!("text {}", clip(text))),
        Err(_) => format!("text (not JSON) {}", clip(text)),
    }
}

/// `type key=value ...` for a JSON object with a string `type`; `None` otherwise.
pub(crate) fn summarize_json(value: &Value) -> Option<String> {
    let kind = value.get("type")?.as_str()?;
    let mut line = kind.to_owned();
    for field in KEY_FIELDS {
        match value.get(field) {
            Some(Value::String(v)) => {
                let _ = write!(line, " {field}={v}");
            }
            Some(v @ Value::Number(_)) => {
                let _ = write!(line, " {field}={v}");
            }
            _ => {}
        }
    }
    Some(line)
}

fn clip(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(SUMMARY_TEXT_LIMIT) {
        Some((cut, _)) => format!("{:?}… ({} bytes)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

/// Every frame of one connection, in the order it was sent or received.
#[derive(Debug, Clone)]
pub struct History {
    started: Instant,
    frames: Vec<Frame>,
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
            frames: Vec::new(),
        }
    }

    /// When the clock started (the connection was established), on tokio's clock: under a paused clock
    /// (`start_paused = true`) the times in a history are virtual too.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Appends a frame stamped with the current time and returns its index.
    pub fn record(&mut self, direction: Direction, kind: FrameKind) -> usize {
        let index = self.frames.len();
        self.frames.push(Frame {
            index,
            direction,
            at: self.started.elapsed(),
            kind,
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

    /// The `type` of every received JSON event, in order.
    pub fn received_types(&self) -> Vec<String> {
        self.received().filter_map(Frame::event_type).collect()
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
        Timeline { frames: &self.frames }
    }

    /// The history as JSON Lines: one object per frame with `index`, `direction`, `at_ms`, `kind` and the
    /// payload (`text`, `hex` for binary, ping and pong data, `code` and `reason` for close frames).
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for frame in &self.frames {
            let line = serde_json::to_string(&JsonLine::from(frame)).unwrap_or_default();
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Serialize)]
struct JsonLine<'a> {
    index: usize,
    direction: Direction,
    at_ms: f64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl<'a> From<&'a Frame> for JsonLine<'a> {
    fn from(frame: &'a Frame) -> Self {
        let mut line = JsonLine {
            index: frame.index,
            direction: frame.direction,
            at_ms: frame.at.as_secs_f64() * 1000.0,
            kind: "text",
            text: None,
            hex: None,
            code: None,
            reason: None,
        };
        match &frame.kind {
            FrameKind::Text(text) => line.text = Some(text),
            FrameKind::Binary(bytes) => (line.kind, line.hex) = ("binary", Some(hex(bytes))),
            FrameKind::Ping(bytes) => (line.kind, line.hex) = ("ping", Some(hex(bytes))),
            FrameKind::Pong(bytes) => (line.kind, line.hex) = ("pong", Some(hex(bytes))),
            FrameKind::Close { code, reason } => {
                (line.kind, line.code, line.reason) = ("close", Some(*code), Some(reason.as_str()));
            }
        }
        line
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// A printable table of frames (see [`History::timeline`]).
#[derive(Debug, Clone, Copy)]
pub struct Timeline<'a> {
    frames: &'a [Frame],
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
                frame.summary()
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
                code: crate::protocol::close_code::GOING_AWAY,
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
        assert_eq!(history.received_types(), vec!["agent_started".to_owned()]);
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
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0]["direction"], "in");
        assert_eq!(parsed[0]["kind"], "text");
        assert_eq!(parsed[1]["direction"], "out");
        assert_eq!(parsed[2]["hex"], "dead");
        assert_eq!(parsed[3]["code"], 1001);
        assert_eq!(parsed[3]["reason"], "bye");
    }

    #[test]
    fn timeline_has_one_row_per_frame() {
        let table = sample().timeline().to_string();
        assert_eq!(table.lines().count(), 5);
        assert!(table.lines().nth(1).unwrap().contains("agent_started run_id=r1"));
    }
}

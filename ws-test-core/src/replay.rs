//! [`Replay`]: a recorded session served again, as a [`Handler`].
//!
//! The recording is a transcript (see [`History::to_json_lines`]): what the client sent and what the server
//! answered. Served, it waits for the client's frames in the recorded order; each one that matches (JSON
//! compared as values, [`ignore_fields`](Replay::ignore_fields) left out) gets the server frames that followed
//! it in the recording. A frame that diverges closes the connection with 1008, the reason naming the line of
//! the recording and the difference, and the divergence is reported to the test
//! ([`Session::report_failure`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::error::Result;
use crate::field::Field;
use crate::handler::{Handler, HandlerResult};
use crate::history::{Direction, FrameKind, History, Source, char_prefix, read_recording};
use crate::message::{CloseInfo, Message};
use crate::session::Session;
use crate::wire::close_code;

/// A recorded session served as a mock: a [`Handler`] for the embedded server, `#[ws_test(replay = "...")]`
/// and `ws-test serve --replay FILE`.
///
/// Every connection replays the whole recording from its start: the server frames recorded before the
/// client's first frame (a welcome) are sent on connect; then each client frame, when it matches the next one
/// recorded, gets the server frames recorded after it, up to the next client frame. A close the server
/// recorded is replayed too. Frames come at once unless [`speed`](Self::speed) asks for the recorded gaps.
///
/// ```
/// use ws_test_runtime::prelude::*;
/// use ws_test_runtime::Replay;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// // Record a session with the built-in agent; any client's history is a recording.
/// let agent = EmbeddedServer::start().await?;
/// let mut client = agent.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "echo", "payload": 1})).await?;
/// client.expect_type("echo").await?;
/// let recording = client.history();
///
/// // Serve it again, without the agent.
/// let mock = EmbeddedServer::builder().handler(Replay::from_history(&recording)).start().await?;
/// let mut client = mock.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "echo", "payload": 1})).await?;
/// assert_eq!(client.expect_type("echo").await?["payload"], 1);
///
/// // A message the recording does not have: closed with 1008, and the test sees why.
/// client.send_json(json!({"type": "echo", "payload": 2})).await?;
/// let close = client.expect_closed(1008).await?;
/// assert!(close.reason.contains("line"), "{}", close.reason);
/// assert_eq!(mock.failures().len(), 1);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Replay {
    script: Arc<Script>,
    /// The recording as read, with its line (or message) numbers and their word: cut again when a protocol is given.
    source: Arc<(History, Vec<usize>, &'static str)>,
    ignore_fields: Arc<[String]>,
    speed: Option<f64>,
    /// The name of the event the recording's server sent first, unprompted, by the replay's event key.
    opening_event: Option<String>,
}

/// A recording cut into what the server does on connect and after each client frame.
#[derive(Debug)]
struct Script {
    /// How messages name the recording: its file name (and a HAR's entry), or "the recording".
    name: String,
    /// What a turn's number counts: "line" (a transcript, a history's frame + 1), "message" (a HAR entry).
    unit: &'static str,
    opening: Vec<Reply>,
    turns: Vec<Turn>,
}

/// A client frame the recording expects next, and the server's answer to it.
#[derive(Debug)]
struct Turn {
    /// Where the frame is in the recording (its line, or its index + 1 without a file).
    line: usize,
    frame: Message,
    /// The frame as JSON, when it is a JSON text frame.
    json: Option<Value>,
    replies: Vec<Reply>,
}

/// One thing the server does, after a gap (from the frame recorded before it).
#[derive(Debug)]
struct Reply {
    gap: Duration,
    action: Action,
}

#[derive(Debug)]
enum Action {
    Send(Message),
    Close(CloseInfo),
}

/// Which turn a connection expects next.
#[derive(Debug, Default)]
struct Cursor(AtomicUsize);

impl Replay {
    /// Reads a recording: a transcript file (as `ws-test record` writes) or a HAR file a browser saved with one
    /// WebSocket (see [`History::load`]). What does not read is an [`Error::Transcript`](crate::Error::Transcript) naming the file and the line,
    /// or an [`Error::Har`](crate::Error::Har) naming the entry and the message; a HAR with several WebSockets lists them (choose with
    /// [`from_file_entry`](Self::from_file_entry)).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_path(path.as_ref(), None)
    }

    /// One WebSocket of a HAR file, by its index in `log.entries`, its URL or a part of its URL only it has (see
    /// [`History::load_entry`]); `ws-test serve --replay FILE --entry ENTRY`.
    pub fn from_file_entry(path: impl AsRef<Path>, entry: impl AsRef<str>) -> Result<Self> {
        Self::from_path(path.as_ref(), Some(entry.as_ref()))
    }

    fn from_path(path: &Path, entry: Option<&str>) -> Result<Self> {
        let source = History::load_source(path, entry)?;
        let short = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(Self::of_source(source, short))
    }

    /// Reads a recording from its text (a transcript, or a HAR with one WebSocket); errors name the line.
    pub fn from_json_lines(text: &str) -> Result<Self> {
        let source = read_recording(text, "the recording", None)?;
        Ok(Self::of_source(source, "the recording".to_owned()))
    }

    /// The recording named `name` in errors and close reasons: what `#[ws_test(replay = "...")]` calls with
    /// the file's text, embedded at compile time, and its `entry` of a HAR file.
    #[doc(hidden)]
    pub fn from_named_text(text: &str, name: &str, entry: Option<&str>) -> Result<Self> {
        let short = Path::new(name)
            .file_name()
            .map_or_else(|| name.to_owned(), |short| short.to_string_lossy().into_owned());
        Ok(Self::of_source(read_recording(text, name, entry)?, short))
    }

    /// A recording read from a file or text: a HAR entry is named by its file and entry, a transcript by its file.
    fn of_source(source: Source, short: String) -> Self {
        let name = match &source.entry {
            Some(entry) => format!("{short}, {entry}"),
            None => short,
        };
        let script = Script::cut(&source.history, &source.numbers, name, source.unit, false);
        Self::new(script, source.history, source.numbers, source.unit)
    }

    /// Replays a history (any `WsClient`'s, or one read with [`History::load`]); the
    /// frames are named by their index + 1 where a file would name its line.
    pub fn from_history(history: &History) -> Self {
        let lines: Vec<usize> = (1..=history.len()).collect();
        let script = Script::cut(history, &lines, "the recording".to_owned(), "line", false);
        Self::new(script, history.clone(), lines, "line")
    }

    fn new(script: Script, history: History, lines: Vec<usize>, unit: &'static str) -> Self {
        Replay {
            script: Arc::new(script),
            source: Arc::new((history, lines, unit)),
            ignore_fields: Arc::from(Vec::new()),
            speed: None,
            opening_event: None,
        }
        .event_key(Field::type_key())
    }

    /// The field that names the recording's events (default `"type"`; `#[ws_test]` passes its `event_key`): the
    /// replay declares the event its server sent first, unprompted, as its [welcome](Handler::welcome).
    pub fn event_key(mut self, key: impl Into<Field>) -> Self {
        let key = key.into();
        self.opening_event = match self.script.opening.first() {
            Some(Reply {
                action: Action::Send(Message::Text(text)),
                ..
            }) => serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|value| key.str(&value).map(str::to_owned)),
            _ => None,
        };
        self
    }

    /// JSON fields left out when a client frame is compared with the recorded one: a name at any depth, or a
    /// JSON pointer at that one place (`"/params/0/nonce"`) — ids and timestamps that differ from run to run
    /// (`["run_id", "timestamp"]` or `&["run_id"]`).
    pub fn ignore_fields<I>(mut self, fields: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut all: Vec<String> = self.ignore_fields.to_vec();
        all.extend(fields.into_iter().map(|field| field.as_ref().to_owned()));
        self.ignore_fields = Arc::from(all);
        self
    }

    /// Keeps the recorded gaps between frames, divided by `factor`: 1.0 as recorded, 2.0 twice as fast, 0.5 half
    /// as fast (default: no gaps). Under a paused clock (`start_paused = true`) the gaps are virtual. A factor
    /// that is not a positive number means no gaps.
    pub fn speed(mut self, factor: f64) -> Self {
        self.speed = (factor.is_finite() && factor > 0.0).then_some(factor);
        self
    }

    /// Replays a recording of a framed protocol (Socket.IO, graphql-transport-ws, your own) event by event: the
    /// recording is read through `protocol` (`ws-test record --protocol` wrote the frames as they went), its
    /// protocol frames (the handshake, heartbeats, attachments) are left to the server's own protocol, each
    /// client event is compared with the recorded one, and each server event is sent again through the
    /// protocol. The server must speak it too: `ServerBuilder::protocol`,
    /// `#[ws_test(replay = "...", protocol = "socket.io")]` or `ws-test serve --replay FILE --protocol socket.io`.
    /// Events are named by the protocol's event key. A name that is no kit is an [`Error::Config`](crate::Error::Config).
    pub fn protocol(self, protocol: impl crate::protocol::IntoProtocol) -> Result<Self> {
        let protocol = protocol.into_protocol()?;
        let (history, lines, unit) = &*self.source;
        let decoded = crate::protocol::decode_history(history, protocol.as_ref());
        let script = Script::cut(&decoded, lines, self.script.name.clone(), unit, true);
        Ok(Replay {
            script: Arc::new(script),
            ..self
        }
        .event_key(protocol.event_key()))
    }

    /// The recording as read (before a [protocol](Self::protocol) cut it into events): its URL, its upgrade's
    /// headers when the file kept them (a HAR entry, a recorder's session), every frame.
    pub fn recording(&self) -> &History {
        &self.source.0
    }

    /// The path the recording's connection was opened at (its URL's path, `/v2/realtime`): where `ws-test serve
    /// --replay` and `#[ws_test(replay = ..)]` serve it unless told otherwise. `None` when the recording has no URL or
    /// its path is `/`.
    pub fn recorded_path(&self) -> Option<String> {
        let url = self.source.0.url()?;
        let uri: tokio_tungstenite::tungstenite::http::Uri = url.parse().ok()?;
        Some(uri.path().to_owned()).filter(|path| path != "/" && !path.is_empty())
    }

    /// The subprotocol the recording's server chose (a HAR entry's or a recorder's upgrade response): the replay's
    /// server agrees to it when a client offers it, as the recorded one did.
    pub fn recorded_subprotocol(&self) -> Option<&str> {
        self.source.0.handshake()?.subprotocol()
    }

    /// How many client frames the recording expects.
    pub fn client_frames(&self) -> usize {
        self.script.turns.len()
    }

    /// The name of the event the recording's server sent first, before any client frame: its welcome.
    #[doc(hidden)]
    pub fn opening_event(&self) -> Option<&str> {
        self.opening_event.as_deref()
    }

    async fn perform(&self, session: &Session, replies: &[Reply]) -> HandlerResult {
        for reply in replies {
            if let Some(speed) = self.speed {
                if !reply.gap.is_zero() {
                    tokio::time::sleep(reply.gap.div_f64(speed)).await;
                }
            }
            match &reply.action {
                Action::Send(Message::Text(text)) => session.send_text(text.clone()).await?,
                Action::Send(Message::Binary(bytes)) => session.send_binary(bytes.clone()).await?,
                Action::Close(close) => {
                    session.close(close.code, close.reason.clone()).await?;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Why `received` is not the recorded frame of `turn`, or `None` when it matches.
    fn difference(&self, turn: &Turn, received: &Message) -> Option<String> {
        match (&turn.frame, received) {
            (Message::Text(expected), Message::Text(actual)) => match (&turn.json, serde_json::from_str(actual)) {
                (Some(expected), Ok(mut actual)) => {
                    let mut expected = expected.clone();
                    strip(&mut expected, &self.ignore_fields);
                    strip(&mut actual, &self.ignore_fields);
                    json_difference(&expected, &actual, "")
                }
                _ if expected == actual => None,
                _ => Some(format!("expected the text {}, got {}", clip(expected), clip(actual))),
            },
            (Message::Binary(expected), Message::Binary(actual)) if expected == actual => None,
            (Message::Binary(expected), Message::Binary(actual)) => Some(format!(
                "expected a binary frame of {} byte(s), got a different one of {} byte(s)",
                expected.len(),
                actual.len()
            )),
            (expected, actual) => Some(format!(
                "expected a {} frame, got a {} frame",
                frame_kind(expected),
                frame_kind(actual)
            )),
        }
    }

    async fn diverged(&self, session: &Session, line: Option<usize>, difference: String) -> HandlerResult {
        let name = &self.script.name;
        let (place, short) = match line {
            Some(line) => {
                let at = format!("{} {line} of {name}", self.script.unit);
                (at.clone(), at)
            }
            None => (
                format!("{name}: it has no more client frames"),
                format!("{name} has no more client frames"),
            ),
        };
        let failure = format!("the replay of {name} diverged at {place}: {difference}");
        crate::logging::log!(warn, connection_id = %session.connection_id(), "{failure}");
        session.report_failure(failure);
        session
            .close(
                close_code::POLICY_VIOLATION,
                format!("diverged from {short}: {difference}"),
            )
            .await?;
        Ok(())
    }
}

impl Handler for Replay {
    async fn on_connect(&self, session: &Session) -> HandlerResult {
        self.perform(session, &self.script.opening).await
    }

    /// The event the recording's server sent first, unprompted: the driver waits for it as for any welcome.
    fn welcome(&self) -> Option<&str> {
        self.opening_event()
    }

    async fn on_message(&self, session: &Session, message: Message) -> HandlerResult {
        let cursor = session.local::<Cursor>();
        let next = cursor.0.fetch_add(1, Ordering::AcqRel);
        let Some(turn) = self.script.turns.get(next) else {
            let last = self.script.turns.last().map_or(0, |turn| turn.line);
            let difference = format!(
                "got {} after the last one ({} {last})",
                describe(&message),
                self.script.unit
            );
            return self.diverged(session, None, difference).await;
        };
        match self.difference(turn, &message) {
            None => self.perform(session, &turn.replies).await,
            Some(difference) => self.diverged(session, Some(turn.line), difference).await,
        }
    }
}

impl Script {
    /// The script of a recording: its raw frames, or with `events`, what each data frame decoded to (a protocol's
    /// own frames and those it could not read left out).
    fn cut(history: &History, lines: &[usize], name: String, unit: &'static str, events: bool) -> Self {
        let mut script = Script {
            name,
            unit,
            opening: Vec::new(),
            turns: Vec::new(),
        };
        let mut previous = Duration::ZERO;
        let mut client_closed = false;
        for (frame, line) in history.frames().iter().zip(lines) {
            let gap = frame.at.saturating_sub(previous);
            let event;
            let kind = match (&frame.kind, &frame.decoded) {
                (FrameKind::Text(_) | FrameKind::Binary(_), decoded) if events => match decoded {
                    Some(crate::history::Decoded::Json(value)) => {
                        event = FrameKind::Text(value.to_string());
                        &event
                    }
                    _ => continue,
                },
                (kind, _) => kind,
            };
            previous = frame.at;
            let action = match (frame.direction, kind) {
                (Direction::Out, FrameKind::Text(text)) => {
                    script.turns.push(Turn {
                        line: *line,
                        frame: Message::Text(text.clone()),
                        json: serde_json::from_str(text).ok(),
                        replies: Vec::new(),
                    });
                    continue;
                }
                (Direction::Out, FrameKind::Binary(bytes)) => {
                    script.turns.push(Turn {
                        line: *line,
                        frame: Message::Binary(bytes.clone()),
                        json: None,
                        replies: Vec::new(),
                    });
                    continue;
                }
                (Direction::Out, FrameKind::Close { .. }) => {
                    client_closed = true;
                    continue;
                }
                (Direction::In, FrameKind::Text(text)) => Action::Send(Message::Text(text.clone())),
                (Direction::In, FrameKind::Binary(bytes)) => Action::Send(Message::Binary(bytes.clone())),
                // The server's answer to the client's close is tungstenite's, not the handler's.
                (Direction::In, FrameKind::Close { .. }) if client_closed => continue,
                // A connection that vanished (1006, 1015) has no close frame to send again.
                (Direction::In, FrameKind::Close { code, .. })
                    if *code == close_code::ABNORMAL || *code == close_code::TLS_HANDSHAKE =>
                {
                    continue;
                }
                // A close without a code is sent as a plain 1000 (1005 never goes on the wire).
                (Direction::In, FrameKind::Close { code, reason }) => Action::Close(CloseInfo::new(
                    if *code == close_code::NO_STATUS {
                        close_code::NORMAL
                    } else {
                        *code
                    },
                    reason.clone(),
                )),
                // Pings and pongs are the WebSocket layer's business on both ends.
                (_, FrameKind::Ping(_) | FrameKind::Pong(_)) => continue,
            };
            let reply = Reply { gap, action };
            match script.turns.last_mut() {
                Some(turn) => turn.replies.push(reply),
                None => script.opening.push(reply),
            }
        }
        script
    }
}

/// Removes the named fields from `value`, at any depth.
/// Leaves `fields` out of `value`: a plain name at any depth, a JSON pointer (`/params/0/id`) at that place.
fn strip(value: &mut Value, fields: &[String]) {
    for pointer in fields.iter().filter(|field| field.starts_with('/')) {
        remove_at(value, pointer);
    }
    strip_names(value, fields);
}

/// Removes what a JSON pointer points at, if anything.
fn remove_at(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = last.parse::<usize>() {
                if index < items.len() {
                    items.remove(index);
                }
            }
        }
        _ => {}
    }
}

fn strip_names(value: &mut Value, fields: &[String]) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !fields.iter().any(|field| field == key));
            map.values_mut().for_each(|inner| strip_names(inner, fields));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| strip_names(item, fields)),
        _ => {}
    }
}

/// The first difference between two JSON values, as `at PATH: expected X, got Y`.
fn json_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    let at = if path.is_empty() { "the top level" } else { path };
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let inner = format!("{path}{}{key}", if path.is_empty() { "" } else { "." });
                match actual.get(key) {
                    Some(other) => {
                        if let Some(difference) = json_difference(value, other, &inner) {
                            return Some(difference);
                        }
                    }
                    None => return Some(format!("`{inner}` is missing (expected {})", clip(&value.to_string()))),
                }
            }
            actual.keys().find(|key| !expected.contains_key(*key)).map(|key| {
                format!(
                    "`{path}{}{key}` is not in the recording",
                    if path.is_empty() { "" } else { "." }
                )
            })
        }
        (Value::Array(expected), Value::Array(actual)) if expected.len() == actual.len() => expected
            .iter()
            .zip(actual)
            .enumerate()
            .find_map(|(index, (expected, actual))| json_difference(expected, actual, &format!("{path}[{index}]"))),
        _ if expected == actual => None,
        _ => Some(format!(
            "at `{at}` expected {}, got {}",
            clip(&expected.to_string()),
            clip(&actual.to_string())
        )),
    }
}

fn frame_kind(message: &Message) -> &'static str {
    match message {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("the text {}", clip(text)),
        Message::Binary(bytes) => format!("a binary frame of {} byte(s)", bytes.len()),
    }
}

fn clip(text: &str) -> String {
    match char_prefix(text, 60) {
        Some(prefix) => format!("{prefix}…"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn differences_name_the_field() {
        let difference = |expected: Value, actual: Value| json_difference(&expected, &actual, "");
        assert_eq!(difference(json!({"a": 1}), json!({"a": 1})), None);
        assert_eq!(
            difference(
                json!({"type": "chat", "content": "hi"}),
                json!({"type": "chat", "content": "bye"})
            ),
            Some("at `content` expected \"hi\", got \"bye\"".into())
        );
        assert_eq!(
            difference(json!({"a": {"b": [1, 2]}}), json!({"a": {"b": [1, 3]}})),
            Some("at `a.b[1]` expected 2, got 3".into())
        );
        assert_eq!(
            difference(json!({"a": 1, "b": 2}), json!({"a": 1})),
            Some("`b` is missing (expected 2)".into())
        );
        assert_eq!(
            difference(json!({"a": 1}), json!({"a": 1, "c": 3})),
            Some("`c` is not in the recording".into())
        );
        assert_eq!(
            difference(json!([1]), json!(2)),
            Some("at `the top level` expected [1], got 2".into())
        );
    }

    #[test]
    fn ignored_fields_go_at_any_depth() {
        let mut value = json!({"run_id": 1, "inner": [{"run_id": 2, "keep": 3}]});
        strip(&mut value, &["run_id".to_owned()]);
        assert_eq!(value, json!({"inner": [{"keep": 3}]}));
    }

    #[test]
    fn a_pointer_leaves_out_one_place() {
        let mut value = json!({"id": 1, "params": [{"nonce": "n1", "id": 7}, "x"], "a/b": {"nonce": 2}});
        strip(
            &mut value,
            &[
                "/params/0/nonce".to_owned(),
                "/a~1b".to_owned(),
                "/missing/x".to_owned(),
            ],
        );
        assert_eq!(value, json!({"id": 1, "params": [{"id": 7}, "x"]}));
        strip(&mut value, &["/params/1".to_owned()]);
        assert_eq!(value, json!({"id": 1, "params": [{"id": 7}]}));
    }

    #[test]
    fn a_recording_is_cut_into_opening_and_turns() {
        let mut history = History::new();
        let at = |ms| Duration::from_millis(ms);
        history.record_at(
            Direction::In,
            at(1),
            FrameKind::Text(r#"{"type":"connection_established"}"#.into()),
        );
        history.record_at(Direction::Out, at(10), FrameKind::Text(r#"{"type":"ping"}"#.into()));
        history.record_at(Direction::Out, at(11), FrameKind::Ping(vec![1]));
        history.record_at(Direction::In, at(15), FrameKind::Text(r#"{"type":"pong"}"#.into()));
        history.record_at(Direction::In, at(18), FrameKind::Binary(vec![7]));
        history.record_at(
            Direction::Out,
            at(20),
            FrameKind::Close {
                code: 1000,
                reason: String::new(),
            },
        );
        history.record_at(
            Direction::In,
            at(21),
            FrameKind::Close {
                code: 1000,
                reason: String::new(),
            },
        );
        let replay = Replay::from_history(&history);
        assert!(replay.sends_welcome());
        assert_eq!(replay.client_frames(), 1);
        let turn = &replay.script.turns[0];
        assert_eq!(turn.line, 2);
        let gaps: Vec<Duration> = turn.replies.iter().map(|reply| reply.gap).collect();
        assert_eq!(
            gaps,
            [at(4), at(3)],
            "the gap of each reply runs from the frame recorded before it"
        );
    }
}

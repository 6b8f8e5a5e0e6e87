//! A conversation as one stable text: what insta (or a plain `assert_eq!`) compares from run to run.
//!
//! ```text
//! ← connection_established {"connection_id":"[connection_id 1]","type":"connection_established","user_id":"[user_id 1]"}
//! → chat_message {"content":"hi","type":"chat_message"}
//! ← agent_started {"agent_name":"TestChatAgent","run_id":"[run_id 1]","seq":1,"timestamp":"[timestamp]",...}
//! ← close 1000 "done"
//! ```
//!
//! One line per frame: `→` sent, `←` received; the event (by the connection's event key), then the payload as JSON
//! with its keys sorted (a binary frame: its decoded JSON, or its bytes in hex; a close: its code and reason).
//! Pings and pongs are left out: heartbeats come when the clock says, not when the conversation does. What changes
//! at every run is redacted by default: timestamps, UUIDs, and the values of id fields (`id`, `*_id`) renumbered in
//! order of appearance, so the same id is the same number and two runs are told apart only by what they did.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::{Decoded, Direction, FrameKind, History};
use crate::Field;

/// A conversation as one readable, stable text ([`History::snapshot`], `WsClient::snapshot`).
///
/// One line per frame: `→` sent, `←` received; the event (by the connection's event key), then the payload as JSON
/// with its keys sorted (a binary frame: its decoded JSON, or its bytes in hex; a close: its code and reason).
/// Pings and pongs are left out. What changes at every run is redacted by default: timestamps, UUIDs, and the
/// values of id fields (`id`, `*_id`) renumbered in order of appearance. It prints with `Display`; with the
/// runtime's `insta` feature, `assert_ws_snapshot!` stores it through insta.
///
/// ```
/// use ws_test_runtime::{Direction, FrameKind, History};
///
/// let mut history = History::new();
/// history.record(Direction::Out, FrameKind::Text(r#"{"type":"chat_message","content":"hi"}"#.into()));
/// history.record(Direction::In, FrameKind::Text(
///     r#"{"type":"agent_started","run_id":"r-7f3a","timestamp":1796284800123,"trace":"0b5c"}"#.into(),
/// ));
/// history.record(Direction::In, FrameKind::Text(r#"{"type":"agent_completed","run_id":"r-7f3a"}"#.into()));
///
/// assert_eq!(
///     history.snapshot().redact("/trace").to_string(),
///     "→ chat_message {\"content\":\"hi\",\"type\":\"chat_message\"}\n\
///      ← agent_started {\"run_id\":\"[run_id 1]\",\"timestamp\":\"[timestamp]\",\"trace\":\"[redacted]\",\"type\":\"agent_started\"}\n\
///      ← agent_completed {\"run_id\":\"[run_id 1]\",\"type\":\"agent_completed\"}\n"
/// );
/// // `keep` leaves a field as it came.
/// assert!(history.snapshot().keep("run_id").to_string().contains("\"run_id\":\"r-7f3a\""));
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    history: History,
    key: Field,
    redact: Vec<String>,
    keep: Vec<String>,
    renumber: Vec<String>,
}

/// The value a field redacted by [`Snapshot::redact`] shows.
const REDACTED: &str = "[redacted]";
/// Names of fields whose values are times.
const TIME_FIELDS: [&str; 5] = ["timestamp", "ts", "time", "date", "datetime"];

/// What `assert_ws_snapshot!` (feature `insta`) takes: a `WsClient`, a [`History`] or a
/// configured [`Snapshot`], by value or by reference.
pub trait AsSnapshot {
    /// The snapshot, with its defaults unless it is one already.
    fn as_snapshot(&self) -> Snapshot;
}

impl AsSnapshot for History {
    fn as_snapshot(&self) -> Snapshot {
        self.snapshot()
    }
}

impl AsSnapshot for Snapshot {
    fn as_snapshot(&self) -> Snapshot {
        self.clone()
    }
}

impl<T: AsSnapshot + ?Sized> AsSnapshot for &T {
    fn as_snapshot(&self) -> Snapshot {
        (**self).as_snapshot()
    }
}

impl<T: AsSnapshot + ?Sized> AsSnapshot for &mut T {
    fn as_snapshot(&self) -> Snapshot {
        (**self).as_snapshot()
    }
}

impl History {
    /// The conversation as one stable text: see [`Snapshot`].
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            history: self.clone(),
            key: self.event_key.clone(),
            redact: Vec::new(),
            keep: Vec::new(),
            renumber: Vec::new(),
        }
    }
}

impl Snapshot {
    /// Replaces a field with `"[redacted]"`: a JSON pointer at that place (`"/run_id"`, `"/data/0/nonce"`) or a
    /// name at any depth (`"nonce"`). Call again for more.
    pub fn redact(mut self, field: impl Into<String>) -> Self {
        self.redact.push(field.into());
        self
    }

    /// Keeps a field as it came, where the defaults would redact or renumber it (a pointer or a name, as in
    /// [`redact`](Self::redact)): an id that is the same on every run, a time the test fixed.
    pub fn keep(mut self, field: impl Into<String>) -> Self {
        self.keep.push(field.into());
        self
    }

    /// Renumbers this field's values in order of appearance (`"[cursor 1]"`, `"[cursor 2]"`), as the defaults do
    /// for `id` and `*_id`: a field that changes at every run but whose repetitions matter (a pointer or a name).
    pub fn renumber(mut self, field: impl Into<String>) -> Self {
        self.renumber.push(field.into());
        self
    }

    /// Names events by this field instead of the connection's event key.
    pub fn event_key(mut self, key: impl Into<Field>) -> Self {
        self.key = key.into();
        self
    }

    fn line(
        &self,
        direction: Direction,
        kind: &FrameKind,
        decoded: Option<&Decoded>,
        state: &mut Numbers,
    ) -> Option<String> {
        let arrow = match direction {
            Direction::Out => '→',
            Direction::In => '←',
        };
        let json = match (kind, decoded) {
            (FrameKind::Ping(_) | FrameKind::Pong(_), _) => return None,
            (_, Some(Decoded::Control(_))) => return None,
            (FrameKind::Close { code, reason }, _) => return Some(format!("{arrow} close {code} {reason:?}")),
            (_, Some(Decoded::Json(value))) => Some(value.clone()),
            (FrameKind::Text(text), _) => serde_json::from_str::<Value>(text).ok(),
            (FrameKind::Binary(_), _) => None,
        };
        Some(match (json, kind) {
            (Some(mut value), _) => {
                let event = self.key.str(&value).map(str::to_owned);
                self.clean(&mut value, "", None, state);
                let payload = canonical(&value);
                match event {
                    Some(event) => format!("{arrow} {event} {payload}"),
                    None => format!("{arrow} {payload}"),
                }
            }
            (None, FrameKind::Text(text)) => format!("{arrow} text {text:?}"),
            (None, FrameKind::Binary(bytes)) => {
                let hex: Vec<String> = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
                format!("{arrow} binary {} byte(s): {}", bytes.len(), hex.join(" "))
            }
            (None, _) => return None,
        })
    }

    /// Redacts and renumbers `value` in place; `pointer` is where it is, `name` the field that holds it.
    fn clean(&self, value: &mut Value, pointer: &str, name: Option<&str>, state: &mut Numbers) {
        let named = |list: &[String]| {
            list.iter()
                .any(|field| field == pointer || name.is_some_and(|name| !field.starts_with('/') && field == name))
        };
        if named(&self.redact) {
            *value = Value::String(REDACTED.to_owned());
            return;
        }
        let kept = named(&self.keep);
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    self.clean(inner, &at, Some(key), state);
                }
            }
            Value::Array(items) => {
                for (index, inner) in items.iter_mut().enumerate() {
                    self.clean(inner, &format!("{pointer}/{index}"), None, state);
                }
            }
            _ if kept => {}
            Value::String(_) | Value::Number(_) => {
                let field = name.unwrap_or_default();
                if named(&self.renumber) || is_id_field(field) {
                    let label = if field.is_empty() { "value" } else { field };
                    *value = Value::String(state.number(label, value));
                } else if is_time_field(field) || value.as_str().is_some_and(looks_like_time) {
                    *value = Value::String("[timestamp]".to_owned());
                } else if value.as_str().is_some_and(looks_like_uuid) {
                    *value = Value::String(state.number("uuid", value));
                }
            }
            _ => {}
        }
    }
}

/// The numbers given so far, per label, in order of appearance.
#[derive(Default)]
struct Numbers(HashMap<String, Vec<Value>>);

impl Numbers {
    fn number(&mut self, label: &str, value: &Value) -> String {
        let seen = self.0.entry(label.to_owned()).or_default();
        let position = match seen.iter().position(|known| known == value) {
            Some(position) => position,
            None => {
                seen.push(value.clone());
                seen.len() - 1
            }
        };
        format!("[{label} {}]", position + 1)
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut numbers = Numbers::default();
        for frame in self.history.frames() {
            if let Some(line) = self.line(frame.direction, &frame.kind, frame.decoded.as_ref(), &mut numbers) {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

fn is_id_field(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || name.ends_with("Id") && name.len() > 2
}

fn is_time_field(name: &str) -> bool {
    TIME_FIELDS.contains(&name) || name.ends_with("_at") || name.ends_with("At") && name.len() > 2
}

/// `2026-12-03T08:00:00Z`, `2026-12-03 08:00:00.123+01:00`: a date, a separator and a time.
fn looks_like_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|part| part.iter().all(u8::is_ascii_digit));
    bytes.len() >= 19
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && (bytes[10] == b'T' || bytes[10] == b' ')
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
}

/// Eight, four, four, four and twelve hex digits.
fn looks_like_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(part, len)| part.len() == len && part.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// JSON with every object's keys sorted, whatever order the frame had them in.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| format!("{}:{}", Value::String(key.clone()), canonical(&map[key])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_values_are_told_apart() {
        assert!(looks_like_time("2026-12-03T08:00:00.123Z"));
        assert!(looks_like_time("2026-12-03 08:00:00+01:00"));
        assert!(!looks_like_time("2026-12-03"));
        assert!(looks_like_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"));
        assert!(!looks_like_uuid("67e55044-10b1-426f-9247"));
        assert!(is_id_field("run_id") && is_id_field("id") && is_id_field("itemId"));
        assert!(!is_id_field("Id") && !is_id_field("idle"));
        assert!(is_time_field("created_at") && is_time_field("timestamp"));
    }

    #[test]
    fn the_same_id_is_the_same_number_and_binary_frames_show_their_bytes() {
        let mut history = History::new();
        for run in ["a", "b", "a"] {
            history.record(
                Direction::In,
                FrameKind::Text(format!(r#"{{"type":"e","run_id":"{run}","id":7}}"#)),
            );
        }
        history.record(Direction::Out, FrameKind::Binary(vec![0xde, 0xad]));
        history.record(Direction::In, FrameKind::Ping(vec![1]));
        history.record(
            Direction::In,
            FrameKind::Close {
                code: 1000,
                reason: "done".into(),
            },
        );
        assert_eq!(
            history.snapshot().to_string(),
            "← e {\"id\":\"[id 1]\",\"run_id\":\"[run_id 1]\",\"type\":\"e\"}\n\
             ← e {\"id\":\"[id 1]\",\"run_id\":\"[run_id 2]\",\"type\":\"e\"}\n\
             ← e {\"id\":\"[id 1]\",\"run_id\":\"[run_id 1]\",\"type\":\"e\"}\n\
             → binary 2 byte(s): de ad\n\
             ← close 1000 \"done\"\n"
        );
    }
}

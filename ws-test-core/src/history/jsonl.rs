//! The transcript format: a [`History`] as JSON Lines, written and read back.
//!
//! ```text
//! {"ws_test":"transcript","format":1,"url":"ws://127.0.0.1:4000/ws","recorded_at":"2026-11-24T09:30:00.123Z","ws_test_version":"0.1.0"}
//! {"index":0,"direction":"in","at_ms":0.41,"kind":"text","text":"{\"type\":\"connection_established\"}"}
//! {"index":1,"direction":"out","at_ms":2.07,"kind":"binary","base64":"3q0="}
//! {"index":2,"direction":"in","at_ms":3.5,"kind":"close","code":1000,"reason":"bye"}
//! ```
//!
//! The first line is the header; every other line is one frame, `direction` seen from the client. A reader
//! ignores fields it does not know (a later version may add some) and blank lines; anything else that does not
//! fit is an error naming its line.

use std::time::{Duration, SystemTime};

use data_encoding::BASE64;

use super::{Decoded, Direction, Frame, FrameKind, History, char_prefix};
use crate::error::{Error, Result};
use crate::serialization::Object;

/// What the header's `ws_test` field says.
const MAGIC: &str = "transcript";
/// The version of the format this build writes and reads.
const FORMAT: u32 = 1;

/// The value a redacted field gets in a recording.
#[cfg(feature = "record")]
pub const REDACTED: &str = "[redacted]";

struct Header {
    ws_test: String,
    format: u32,
    url: Option<String>,
    recorded_at: Option<String>,
    ws_test_version: Option<String>,
}

crate::serialization::serialize_struct!(Header { ws_test, format, ?url, ?recorded_at, ?ws_test_version });

impl Header {
    fn parse(text: &str) -> std::result::Result<Header, String> {
        let mut object = Object::parse(text, "the header")?;
        Ok(Header {
            ws_test: object.required("ws_test")?,
            format: object.required("format")?,
            url: object.optional("url")?,
            recorded_at: object.optional("recorded_at")?,
            ws_test_version: object.optional("ws_test_version")?,
        })
    }
}

struct Line {
    index: Option<usize>,
    direction: String,
    at_ms: f64,
    kind: String,
    text: Option<String>,
    base64: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
    /// A binary frame's decoded JSON (the bytes stay in `base64`).
    decoded: Option<serde_json::Value>,
    /// Why a frame did not decode.
    decode_error: Option<String>,
    /// What a frame of the connection's protocol's own was (a heartbeat, the handshake).
    control: Option<String>,
}

crate::serialization::serialize_struct!(Line {
    ?index, direction, at_ms, kind, ?text, ?base64, ?code, ?reason, ?decoded, ?decode_error, ?control
});

impl Line {
    fn parse(text: &str) -> std::result::Result<Line, String> {
        let mut object = Object::parse(text, "a frame line")?;
        Ok(Line {
            index: object.optional("index")?,
            direction: object.required("direction")?,
            at_ms: object.required("at_ms")?,
            kind: object.required("kind")?,
            text: object.optional("text")?,
            base64: object.optional("base64")?,
            code: object.optional("code")?,
            reason: object.optional("reason")?,
            decoded: object.optional("decoded")?,
            decode_error: object.optional("decode_error")?,
            control: object.optional("control")?,
        })
    }
}

/// The transcript of `history`: its header line, then one line per frame.
pub(super) fn write(history: &History) -> String {
    let mut out = header_line(history);
    out.push('\n');
    for frame in &history.frames {
        out.push_str(&frame_line(frame));
        out.push('\n');
    }
    out
}

/// The header line of `history`'s transcript (no newline).
pub fn header_line(history: &History) -> String {
    let header = Header {
        ws_test: MAGIC.to_owned(),
        format: FORMAT,
        url: history.url.clone(),
        recorded_at: Some(humantime::format_rfc3339_millis(history.recorded_at).to_string()),
        ws_test_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    };
    serde_json::to_string(&header).unwrap_or_default()
}

/// The line of one frame (no newline).
pub fn frame_line(frame: &Frame) -> String {
    let mut line = Line {
        index: Some(frame.index),
        direction: frame.direction.to_string(),
        // Microsecond precision: enough for gaps, and short.
        at_ms: (frame.at.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        kind: String::new(),
        text: None,
        base64: None,
        code: None,
        reason: None,
        decoded: None,
        decode_error: None,
        control: None,
    };
    match &frame.decoded {
        Some(Decoded::Json(value)) => line.decoded = Some(value.clone()),
        Some(Decoded::Failed(reason)) => line.decode_error = Some(reason.clone()),
        Some(Decoded::Control(what)) => line.control = Some(what.clone()),
        None => {}
    }
    let kind = match &frame.kind {
        FrameKind::Text(text) => {
            line.text = Some(text.clone());
            "text"
        }
        FrameKind::Binary(bytes) => {
            line.base64 = Some(BASE64.encode(bytes));
            "binary"
        }
        FrameKind::Ping(bytes) => {
            line.base64 = Some(BASE64.encode(bytes));
            "ping"
        }
        FrameKind::Pong(bytes) => {
            line.base64 = Some(BASE64.encode(bytes));
            "pong"
        }
        FrameKind::Close { code, reason } => {
            (line.code, line.reason) = (Some(*code), Some(reason.clone()));
            "close"
        }
    };
    line.kind = kind.to_owned();
    serde_json::to_string(&line).unwrap_or_default()
}

/// Reads a transcript; `source` names it in errors (a path, "the transcript").
pub(super) fn read(text: &str, source: &str) -> Result<History> {
    read_numbered(text, source).map(|(history, _)| history)
}

/// Reads a transcript, with the line number of each frame (for messages that point into the file).
pub(crate) fn read_numbered(text: &str, source: &str) -> Result<(History, Vec<usize>)> {
    let error = |line: usize, reason: String| Error::Transcript {
        name: source.to_owned(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(number, line)| (number + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty());
    let Some((number, first)) = lines.next() else {
        return Err(error(1, "it is empty: a transcript starts with its header line".into()));
    };
    let header = Header::parse(first)
        .ok()
        .filter(|header: &Header| header.ws_test == MAGIC)
        .ok_or_else(|| {
            error(
                number,
                format!(
                    "expected the header {{\"ws_test\":\"transcript\",\"format\":1,...}}, found {}",
                    clip(first)
                ),
            )
        })?;
    if header.format != FORMAT {
        return Err(error(
            number,
            format!(
                "format {} is not one this build reads (it reads format {FORMAT}; ws-test {} wrote it)",
                header.format,
                header.ws_test_version.as_deref().unwrap_or("of unknown version")
            ),
        ));
    }
    let recorded_at = match &header.recorded_at {
        Some(at) => humantime::parse_rfc3339_weak(at).map_err(|reason| {
            error(
                number,
                format!("`recorded_at` {at:?} is not an RFC 3339 time: {reason}"),
            )
        })?,
        None => SystemTime::UNIX_EPOCH,
    };
    let mut history = History::new();
    history.recorded_at = recorded_at;
    history.url = header.url;
    let mut previous = Duration::ZERO;
    let mut numbers = Vec::new();
    for (number, text) in lines {
        let line = Line::parse(text)
            .map_err(|reason| error(number, format!("not a frame line ({reason}): {}", clip(text))))?;
        let direction = match line.direction.as_str() {
            "in" => Direction::In,
            "out" => Direction::Out,
            other => {
                return Err(error(
                    number,
                    format!("`direction` is {other:?}; expected \"in\" (from the server) or \"out\" (to it)"),
                ));
            }
        };
        if !line.at_ms.is_finite() || line.at_ms < 0.0 {
            return Err(error(number, format!("`at_ms` is {}; expected a time ≥ 0", line.at_ms)));
        }
        let at = Duration::from_secs_f64(line.at_ms / 1000.0);
        if at < previous {
            return Err(error(
                number,
                format!(
                    "`at_ms` {} goes back in time (the line before is at {})",
                    line.at_ms,
                    previous.as_secs_f64() * 1000.0
                ),
            ));
        }
        previous = at;
        let bytes = |line: &Line| -> Result<Vec<u8>> {
            let encoded = line
                .base64
                .as_deref()
                .ok_or_else(|| error(number, format!("a {} frame needs `base64`", line.kind)))?;
            BASE64
                .decode(encoded.as_bytes())
                .map_err(|reason| error(number, format!("`base64` does not decode: {reason}")))
        };
        let kind = match line.kind.as_str() {
            "text" => FrameKind::Text(
                line.text
                    .clone()
                    .ok_or_else(|| error(number, "a text frame needs `text`".into()))?,
            ),
            "binary" => FrameKind::Binary(bytes(&line)?),
            "ping" => FrameKind::Ping(bytes(&line)?),
            "pong" => FrameKind::Pong(bytes(&line)?),
            "close" => FrameKind::Close {
                code: line
                    .code
                    .ok_or_else(|| error(number, "a close frame needs `code`".into()))?,
                reason: line.reason.clone().unwrap_or_default(),
            },
            other => {
                return Err(error(
                    number,
                    format!("`kind` is {other:?}; expected text, binary, ping, pong or close"),
                ));
            }
        };
        let index = history.record_at(direction, at, kind);
        match (line.decoded, line.decode_error, line.control) {
            (Some(value), _, _) => history.set_decoded(index, Decoded::Json(value)),
            (None, Some(reason), _) => history.set_decoded(index, Decoded::Failed(reason)),
            (None, None, Some(what)) => history.set_decoded(index, Decoded::Control(what)),
            (None, None, None) => {}
        }
        numbers.push(number);
    }
    Ok((history, numbers))
}

fn clip(text: &str) -> String {
    match char_prefix(text, 80) {
        Some(prefix) => format!("{prefix:?}…"),
        None => format!("{text:?}"),
    }
}

/// `text` with every field named in `fields` (at any depth of its JSON) replaced by `"[redacted]"`; `None` when
/// it is not JSON or has none of them.
#[cfg(feature = "record")]
pub fn redact(text: &str, fields: &[String]) -> Option<String> {
    if fields.is_empty() {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
    redact_value(&mut value, fields).then(|| value.to_string())
}

#[cfg(feature = "record")]
fn redact_value(value: &mut serde_json::Value, fields: &[String]) -> bool {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, inner) in map.iter_mut() {
                if fields.iter().any(|field| field == key) {
                    *inner = Value::String(REDACTED.to_owned());
                    changed = true;
                } else {
                    changed |= redact_value(inner, fields);
                }
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| redact_value(item, fields) | changed),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> Result<History> {
        read(text, "chat.jsonl")
    }

    const HEADER: &str =
        r#"{"ws_test":"transcript","format":1,"url":"ws://h/ws","recorded_at":"2026-11-24T09:30:00.123Z"}"#;

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            ("", "chat.jsonl, line 1: it is empty"),
            ("{\"type\":\"x\"}", "chat.jsonl, line 1: expected the header"),
            (
                &format!("{HEADER}\n\n{{\"direction\":\"sideways\",\"at_ms\":1,\"kind\":\"text\",\"text\":\"x\"}}"),
                "chat.jsonl, line 3: `direction` is \"sideways\"",
            ),
            (
                &format!("{HEADER}\n{{\"direction\":\"in\",\"at_ms\":1,\"kind\":\"binary\",\"base64\":\"!!\"}}"),
                "chat.jsonl, line 2: `base64` does not decode",
            ),
            (
                &format!(
                    "{HEADER}\n{{\"direction\":\"in\",\"at_ms\":5,\"kind\":\"text\",\"text\":\"a\"}}\n{{\"direction\":\"in\",\"at_ms\":2,\"kind\":\"text\",\"text\":\"b\"}}"
                ),
                "chat.jsonl, line 3: `at_ms` 2 goes back in time",
            ),
            (&format!("{HEADER}\nnot json"), "chat.jsonl, line 2: not a frame line"),
            (
                &format!("{HEADER}\n{{\"direction\":\"in\",\"at_ms\":1,\"kind\":\"close\"}}"),
                "chat.jsonl, line 2: a close frame needs `code`",
            ),
            (
                r#"{"ws_test":"transcript","format":9,"ws_test_version":"9.0.0"}"#,
                "chat.jsonl, line 1: format 9 is not one this build reads",
            ),
        ];
        for (text, expected) in cases {
            let message = read_str(text).unwrap_err().to_string();
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_blank_lines_are_ignored() {
        let text = format!(
            "{HEADER}\n{{\"direction\":\"out\",\"at_ms\":0.5,\"kind\":\"text\",\"text\":\"hi\",\"session\":3}}\n\n"
        );
        let history = read_str(&text).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history.url(), Some("ws://h/ws"));
        assert_eq!(history.frames()[0].at, Duration::from_micros(500));
        assert_eq!(
            humantime::format_rfc3339_millis(history.recorded_at()).to_string(),
            "2026-11-24T09:30:00.123Z"
        );
    }

    #[test]
    #[cfg(feature = "record")]
    fn redaction_reaches_every_depth_and_leaves_other_text_alone() {
        let fields = vec!["token".to_owned()];
        let redacted = redact(r#"{"type":"auth","token":"s3cret","nested":[{"token":1}]}"#, &fields).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&redacted).unwrap(),
            serde_json::json!({"type":"auth","token":"[redacted]","nested":[{"token":"[redacted]"}]})
        );
        assert_eq!(redact(r#"{"type":"chat"}"#, &fields), None);
        assert_eq!(redact("token", &fields), None);
    }
}

#[cfg(test)]
mod decoded_tests {
    use super::super::{Decoded, Direction, FrameKind, History};

    #[test]
    fn a_transcript_keeps_the_bytes_and_the_decoded_json_beside_them() {
        let mut history = History::new();
        let ok = history.record(Direction::In, FrameKind::Binary(vec![0x81, 0xa1, 0x6e, 0x01]));
        history.set_decoded(ok, Decoded::Json(serde_json::json!({"n": 1})));
        let bad = history.record(Direction::In, FrameKind::Binary(vec![0xc1]));
        history.set_decoded(bad, Decoded::Failed("reserved byte 0xc1".into()));
        let text = history.to_json_lines();
        assert!(text.contains(r#""base64":"gaFuAQ==","decoded":{"n":1}"#), "{text}");
        assert!(text.contains(r#""decode_error":"reserved byte 0xc1""#), "{text}");
        let back = History::from_json_lines(&text).unwrap();
        assert_eq!(
            back.frames()[ok].decoded,
            Some(Decoded::Json(serde_json::json!({"n": 1})))
        );
        assert_eq!(
            back.frames()[bad].decoded,
            Some(Decoded::Failed("reserved byte 0xc1".into()))
        );
        assert!(
            back.frames()[bad]
                .summary()
                .contains("did not decode (reserved byte 0xc1), starting c1")
        );
    }
}

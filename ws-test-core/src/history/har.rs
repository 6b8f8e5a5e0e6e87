//! HAR files (HTTP Archive 1.2, as browsers save them) read as recordings and written from histories.
//!
//! Chromium's DevTools keep a WebSocket's frames under its entry's `_webSocketMessages`: `type` (`send` or
//! `receive`, seen from the browser), `time` (seconds since the epoch), `opcode` (1 text, 2 binary) and `data` (the
//! text, or a binary payload in base64). The entry's request and response headers are those of the upgrade.
//! Firefox and the tools that follow DevTools (Selenium's and Playwright's HAR capture among them) use the same
//! fields. A HAR holds a whole page's traffic: its WebSocket entries are the ones with `_resourceType`
//! `websocket`, `_webSocketMessages` or a `ws://`/`wss://` URL.

use std::time::{Duration, SystemTime};

use data_encoding::BASE64;
use serde_json::{Map, Value, json};

use super::{Direction, FrameKind, Handshake, History};
use crate::error::{Error, Result};

/// A HAR entry read as a recording: its history, each frame's message number (from 1) and the words that name
/// the entry in messages ("entry 3 (ws://127.0.0.1:4000/ws)").
pub(crate) struct Read {
    pub(crate) history: History,
    pub(crate) numbers: Vec<usize>,
    pub(crate) entry: String,
}

/// Reads the WebSocket entry of a HAR that `entry` names (its index in `log.entries`, its URL, or a part of its URL
/// that only one WebSocket entry has); without `entry`, the HAR must hold exactly one WebSocket. `source` names the
/// file in errors.
pub(crate) fn read(text: &str, source: &str, entry: Option<&str>) -> Result<Read> {
    let error = |reason: String| Error::Har {
        name: source.to_owned(),
        reason,
    };
    let root: Value = serde_json::from_str(text).map_err(|why| error(format!("it is not JSON: {why}")))?;
    let entries = root
        .get("log")
        .and_then(|log| log.get("entries"))
        .and_then(Value::as_array)
        .ok_or_else(|| error("it has no `log.entries` array: a HAR file holds its requests there".into()))?;
    let websockets: Vec<usize> = (0..entries.len()).filter(|&i| is_websocket(&entries[i])).collect();
    let index = match entry {
        Some(wanted) => choose(entries, &websockets, wanted).map_err(error)?,
        None => match websockets.as_slice() {
            [only] => *only,
            [] => return Err(error(no_websocket(entries))),
            several => {
                return Err(error(format!(
                    "it holds {} WebSockets; choose one by its index or URL (`--entry`, `entry = \"...\"` on \
                     #[ws_test], `History::load_entry`):\n{}",
                    several.len(),
                    listing(entries, several)
                )));
            }
        },
    };
    let chosen = &entries[index];
    let url = chosen
        .pointer("/request/url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let entry = format!("entry {index} ({url})");
    let name = format!("{source}, {entry}");
    let fail = |reason: String| Error::Har {
        name: name.clone(),
        reason,
    };
    let started = match chosen.get("startedDateTime").and_then(Value::as_str) {
        Some(at) => parse_time(at).map_err(|why| fail(format!("`startedDateTime` {at:?}: {why}")))?,
        None => return Err(fail("it has no `startedDateTime`".into())),
    };
    let mut history = History::new();
    history.recorded_at = started;
    history.url = Some(url.clone());
    history.handshake = Some(std::sync::Arc::new(Handshake {
        request_headers: headers(chosen.pointer("/request/headers")),
        status: chosen
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or(101),
        response_headers: headers(chosen.pointer("/response/headers")),
    }));
    let started_secs = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    let messages = chosen
        .get("_webSocketMessages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut numbers = Vec::with_capacity(messages.len());
    let mut previous = Duration::ZERO;
    for (position, message) in messages.iter().enumerate() {
        let number = position + 1;
        let at_message = |reason: String| fail(format!("message {number} of `_webSocketMessages`: {reason}"));
        let direction = match message.get("type").and_then(Value::as_str) {
            Some("send") => Direction::Out,
            Some("receive") => Direction::In,
            // DevTools logs a frame error as a message of its own: no frame travelled.
            Some("error") => continue,
            other => {
                return Err(at_message(format!(
                    "`type` is {}; expected \"send\" or \"receive\"",
                    other.map_or_else(|| "missing".to_owned(), |other| format!("{other:?}"))
                )));
            }
        };
        let time = message
            .get("time")
            .and_then(Value::as_f64)
            .ok_or_else(|| at_message("it has no `time` (seconds since the epoch)".into()))?;
        // Browsers stamp frames on a clock of their own: a frame a little before the entry starts is at its start,
        // and a frame never goes back in time.
        let at = Duration::try_from_secs_f64(time - started_secs)
            .unwrap_or_default()
            .max(previous);
        previous = at;
        let data = message.get("data").and_then(Value::as_str).unwrap_or_default();
        let base64 = |what: &str| {
            BASE64
                .decode(data.as_bytes())
                .map_err(|why| at_message(format!("a {what} frame's `data` is not base64: {why}")))
        };
        let kind = match message.get("opcode").and_then(Value::as_u64) {
            Some(1) => FrameKind::Text(data.to_owned()),
            Some(2) => FrameKind::Binary(base64("binary")?),
            Some(8) => close_of(data),
            Some(9) => FrameKind::Ping(data.as_bytes().to_vec()),
            Some(10) => FrameKind::Pong(data.as_bytes().to_vec()),
            other => {
                return Err(at_message(format!(
                    "`opcode` is {}; expected 1 (text) or 2 (binary)",
                    other.map_or_else(|| "missing".to_owned(), |other| other.to_string())
                )));
            }
        };
        history.record_at(direction, at, kind);
        numbers.push(number);
    }
    Ok(Read {
        history,
        numbers,
        entry,
    })
}

/// The code of a close frame that carried none (RFC 6455, 7.1.5), as the history records it.
const NO_STATUS: u16 = 1005;

/// A close frame as a HAR message's data: its code and reason as text ("1000 bye"), or nothing.
fn close_of(data: &str) -> FrameKind {
    let (code, reason) = data.split_once(' ').unwrap_or((data, ""));
    FrameKind::Close {
        code: code.parse().unwrap_or(NO_STATUS),
        reason: reason.to_owned(),
    }
}

fn is_websocket(entry: &Value) -> bool {
    entry.get("_resourceType").and_then(Value::as_str) == Some("websocket")
        || entry.get("_webSocketMessages").is_some_and(Value::is_array)
        || entry
            .pointer("/request/url")
            .and_then(Value::as_str)
            .is_some_and(|url| url.starts_with("ws://") || url.starts_with("wss://"))
}

/// The entry `wanted` names: an index into `log.entries` (a WebSocket's), its exact URL, or a part of the URL only
/// one WebSocket entry has.
fn choose(entries: &[Value], websockets: &[usize], wanted: &str) -> std::result::Result<usize, String> {
    let url = |index: usize| entries[index].pointer("/request/url").and_then(Value::as_str);
    if let Ok(index) = wanted.trim().parse::<usize>() {
        return match entries.get(index) {
            Some(_) if websockets.contains(&index) => Ok(index),
            Some(entry) => Err(format!(
                "entry {index} is {}, not a WebSocket; {}",
                describe(entry),
                these(entries, websockets)
            )),
            None => Err(format!(
                "it has {} entries (0 to {}), so no entry {index}; {}",
                entries.len(),
                entries.len().saturating_sub(1),
                these(entries, websockets)
            )),
        };
    }
    if let Some(&exact) = websockets.iter().find(|&&index| url(index) == Some(wanted)) {
        return Ok(exact);
    }
    let partial: Vec<usize> = websockets
        .iter()
        .copied()
        .filter(|&index| url(index).is_some_and(|url| url.contains(wanted)))
        .collect();
    match partial.as_slice() {
        [only] => Ok(*only),
        [] => Err(format!(
            "no WebSocket entry's URL is or contains {wanted:?}; {}",
            these(entries, websockets)
        )),
        several => Err(format!(
            "{} WebSocket entries' URLs contain {wanted:?}; choose by index or the whole URL:\n{}",
            several.len(),
            listing(entries, several)
        )),
    }
}

/// "the WebSockets are:\n..." or "it holds no WebSocket: ...".
fn these(entries: &[Value], websockets: &[usize]) -> String {
    if websockets.is_empty() {
        no_websocket(entries)
    } else {
        format!("its WebSockets are:\n{}", listing(entries, websockets))
    }
}

fn no_websocket(entries: &[Value]) -> String {
    const SHOWN: usize = 20;
    if entries.is_empty() {
        return "it holds no WebSocket: its `log.entries` is empty (was the page's traffic captured with DevTools \
                open before the page connected?)"
            .to_owned();
    }
    let mut text = format!(
        "it holds no WebSocket (no entry with `_webSocketMessages` or a ws:// URL); its {} entries are:",
        entries.len()
    );
    for (index, entry) in entries.iter().enumerate().take(SHOWN) {
        text.push_str(&format!("\n  {index}: {}", describe(entry)));
    }
    if entries.len() > SHOWN {
        text.push_str(&format!("\n  … and {} more", entries.len() - SHOWN));
    }
    text
}

fn listing(entries: &[Value], indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&index| format!("  {index}: {}", describe(&entries[index])))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "GET ws://host/ws (101, 12 messages)", "GET http://host/ (200, document)".
fn describe(entry: &Value) -> String {
    let text = |pointer: &str| entry.pointer(pointer).and_then(Value::as_str).unwrap_or("?");
    let status = entry.pointer("/response/status").and_then(Value::as_i64).unwrap_or(0);
    let what = match entry.get("_webSocketMessages").and_then(Value::as_array) {
        Some(messages) => format!("{} message(s)", messages.len()),
        None => entry
            .get("_resourceType")
            .and_then(Value::as_str)
            .unwrap_or_else(|| text("/response/content/mimeType"))
            .to_owned(),
    };
    format!(
        "{} {} ({status}, {what})",
        text("/request/method"),
        text("/request/url")
    )
}

fn headers(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|header| {
                    Some((
                        header.get("name")?.as_str()?.to_owned(),
                        header.get("value")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An ISO 8601 time as browsers write it: `2026-12-03T08:00:00.123Z` (Chromium) or with an offset,
/// `2026-12-03T09:00:00.123+01:00` (Firefox).
fn parse_time(text: &str) -> std::result::Result<SystemTime, String> {
    let text = text.trim();
    let offset = text
        .len()
        .checked_sub(6)
        .filter(|&cut| text.is_char_boundary(cut))
        .map(|cut| text.split_at(cut))
        .filter(|(_, zone)| {
            let bytes = zone.as_bytes();
            (bytes[0] == b'+' || bytes[0] == b'-') && bytes[3] == b':'
        });
    match offset {
        Some((local, zone)) => {
            let at = humantime::parse_rfc3339_weak(local).map_err(|why| why.to_string())?;
            let hours: u64 = zone[1..3].parse().map_err(|_| "its offset is not ±HH:MM".to_owned())?;
            let minutes: u64 = zone[4..6].parse().map_err(|_| "its offset is not ±HH:MM".to_owned())?;
            let shift = Duration::from_secs(hours * 3600 + minutes * 60);
            // Local time minus its offset is UTC.
            Ok(if zone.starts_with('+') { at - shift } else { at + shift })
        }
        None => humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).map_err(|why| why.to_string()),
    }
}

/// The HAR of `histories`, one WebSocket entry each, as Chromium's DevTools write them (and import them back).
pub(crate) fn write(histories: &[&History]) -> String {
    let entries: Vec<Value> = histories.iter().map(|history| entry(history)).collect();
    let har = json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "ws-test", "version": env!("CARGO_PKG_VERSION")},
            "pages": [],
            "entries": entries,
        }
    });
    serde_json::to_string_pretty(&har).unwrap_or_default()
}

fn entry(history: &History) -> Value {
    // `startedDateTime` has milliseconds: the messages' times count from that, so that they read back as they were.
    let since_epoch = history
        .recorded_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_millis(since_epoch.as_millis() as u64);
    let started = (since_epoch.as_millis() as f64) / 1000.0;
    let url = history.url.clone().unwrap_or_else(|| "ws://unknown/".to_owned());
    let handshake = history.handshake.as_deref();
    let messages: Vec<Value> = history
        .frames
        .iter()
        .filter_map(|frame| {
            let (opcode, data) = match &frame.kind {
                FrameKind::Text(text) => (1, text.clone()),
                FrameKind::Binary(bytes) => (2, BASE64.encode(bytes)),
                // DevTools show data frames only; a close is in the entry's time.
                _ => return None,
            };
            let kind = match frame.direction {
                Direction::Out => "send",
                Direction::In => "receive",
            };
            // Microseconds, as DevTools' own monotonic-to-wall conversion gives.
            let time = ((started + frame.at.as_secs_f64()) * 1e6).round() / 1e6;
            Some(json!({"type": kind, "time": time, "opcode": opcode, "data": data}))
        })
        .collect();
    let duration_ms = history
        .frames
        .last()
        .map_or(0.0, |frame| frame.at.as_secs_f64() * 1000.0);
    let name_values = |pairs: &[(String, String)]| -> Vec<Value> {
        pairs
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    let query: Vec<Value> = url
        .split_once('?')
        .map(|(_, query)| {
            form_urlencoded::parse(query.split('#').next().unwrap_or_default().as_bytes())
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect()
        })
        .unwrap_or_default();
    // HAR 1.2 wants an IP address here: a host name is left out.
    let address = url
        .parse::<tokio_tungstenite::tungstenite::http::Uri>()
        .ok()
        .and_then(|uri| uri.host()?.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok());
    let mut entry = Map::new();
    entry.insert("startedDateTime".into(), json!(rfc3339_millis(started_at)));
    entry.insert("time".into(), json!(round3(duration_ms)));
    entry.insert(
        "request".into(),
        json!({
            "method": "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": handshake.map(|handshake| name_values(&handshake.request_headers)).unwrap_or_default(),
            "queryString": query,
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        }),
    );
    entry.insert(
        "response".into(),
        json!({
            "status": handshake.map_or(101, |handshake| handshake.status),
            "statusText": "Switching Protocols",
            "httpVersion": "HTTP/1.1",
            "headers": handshake.map(|handshake| name_values(&handshake.response_headers)).unwrap_or_default(),
            "cookies": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
            "_transferSize": 0,
            "_error": null,
        }),
    );
    entry.insert("cache".into(), json!({}));
    entry.insert(
        "timings".into(),
        json!({"blocked": -1, "dns": -1, "ssl": -1, "connect": -1, "send": 0, "wait": 0, "receive": round3(duration_ms), "_blocked_queueing": -1}),
    );
    if let Some(address) = address {
        entry.insert("serverIPAddress".into(), json!(address.to_string()));
    }
    entry.insert("_resourceType".into(), json!("websocket"));
    entry.insert("_webSocketMessages".into(), Value::Array(messages));
    Value::Object(entry)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn rfc3339_millis(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_an_offset_are_utc() {
        let utc = parse_time("2026-12-03T08:00:00.123Z").unwrap();
        assert_eq!(parse_time("2026-12-03T09:00:00.123+01:00").unwrap(), utc);
        assert_eq!(parse_time("2026-12-03T05:30:00.123-02:30").unwrap(), utc);
        assert!(parse_time("yesterday").is_err());
    }

    /// Every field HAR 1.2 requires (what har-schema, the spec's JSON Schema, checks), and an IP address or nothing
    /// in `serverIPAddress`.
    #[test]
    fn a_written_har_has_every_field_har_1_2_requires() {
        let mut history = History::new().with_url("ws://localhost:4000/ws?room=a");
        history.record(Direction::Out, FrameKind::Text("{}".into()));
        let har: Value = serde_json::from_str(&write(&[&history])).unwrap();
        let has = |value: &Value, fields: &[&str]| {
            for field in fields {
                assert!(value.get(field).is_some(), "missing `{field}` in {value}");
            }
        };
        has(&har["log"], &["version", "creator", "entries"]);
        has(&har["log"]["creator"], &["name", "version"]);
        let entry = &har["log"]["entries"][0];
        has(
            entry,
            &["startedDateTime", "time", "request", "response", "cache", "timings"],
        );
        has(
            &entry["request"],
            &[
                "method",
                "url",
                "httpVersion",
                "cookies",
                "headers",
                "queryString",
                "headersSize",
                "bodySize",
            ],
        );
        has(
            &entry["response"],
            &[
                "status",
                "statusText",
                "httpVersion",
                "cookies",
                "headers",
                "content",
                "redirectURL",
                "headersSize",
                "bodySize",
            ],
        );
        has(&entry["response"]["content"], &["size", "mimeType"]);
        has(&entry["timings"], &["send", "wait", "receive"]);
        assert_eq!(entry["request"]["queryString"], json!([{"name": "room", "value": "a"}]));
        assert!(entry.get("serverIPAddress").is_none(), "a host name is no IP address");
        let local = History::new().with_url("ws://[::1]:4000/ws");
        let har: Value = serde_json::from_str(&write(&[&local])).unwrap();
        assert_eq!(har["log"]["entries"][0]["serverIPAddress"], "::1");
    }

    #[test]
    fn a_close_message_reads_its_code_and_reason() {
        assert_eq!(
            close_of("1000 bye now"),
            FrameKind::Close {
                code: 1000,
                reason: "bye now".into()
            }
        );
        assert_eq!(
            close_of(""),
            FrameKind::Close {
                code: 1005,
                reason: String::new()
            }
        );
    }
}

//! From a recording to an expectation, and from an expectation to the Rust code that builds it.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Expect, Expectation};
#[cfg(feature = "record")]
use super::{Order, Sequence};
use crate::history::{Direction, FrameKind, History};
use crate::{Error, Field, Result};

impl Expect {
    /// The expectation of a recorded session (a transcript file, as `ws-test record` writes, or a HAR file a browser
    /// saved with one WebSocket; of several, read one with [`History::load_entry`] and use
    /// [`from_history`](Self::from_history)): the `type` of every JSON frame the server sent, in order — so a
    /// captured session becomes an ordering test.
    ///
    /// When a `run_id`-like field (`run_id`, `id`, or any `*_id`) groups the frames into runs with the same
    /// sequence of types, the expectation is that sequence [`per`](Expectation::per) that field,
    /// [`times`](Expectation::times) the number of runs when there were several, with the types that came outside
    /// the runs (a welcome) [ignored](Expectation::ignore); of several such fields, the one that groups the most
    /// frames (of equals, the one the recording names first). Otherwise it is every type, in order. The order mode is the default, in order:
    /// add [`strict`](Expectation::strict) for "nothing else".
    ///
    /// `ws-test expect FILE` prints the same expectation as code (`Expectation::to_rust`, feature `record`).
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
    /// client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
    /// let path = std::env::temp_dir().join(format!("ws-test-doc-{}.jsonl", std::process::id()));
    /// client.history().save(&path)?;
    ///
    /// let expectation = Expect::from_recording(&path)?;
    /// assert_eq!(expectation, Expect::events(ChatEvent::CRITICAL).per("run_id").ignore("connection_established"));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn from_recording(path: impl AsRef<Path>) -> Result<Expectation> {
        Self::from_recording_keyed(path, Field::type_key())
    }

    /// [`from_recording`](Self::from_recording) for a protocol whose events are named by another field (`"method"`,
    /// `"event"`, a JSON pointer): the expectation names its events by `key` and keys on it.
    pub fn from_recording_keyed(path: impl AsRef<Path>, key: impl Into<Field>) -> Result<Expectation> {
        let path = path.as_ref();
        Self::from_history_named(&History::load(path)?, &path.display().to_string(), &key.into())
    }

    /// The same as [`from_recording`](Self::from_recording), from a history in memory.
    pub fn from_history(history: &History) -> Result<Expectation> {
        Self::from_history_named(history, "the history", &Field::type_key())
    }

    /// [`from_history`](Self::from_history) with events named by `key`. A history read through a protocol
    /// ([`protocol::decode_history`](crate::protocol::decode_history), a recorder with a protocol) is read by its
    /// decoded events; the protocol's own frames are left out.
    pub fn from_history_keyed(history: &History, key: impl Into<Field>) -> Result<Expectation> {
        Self::from_history_named(history, "the history", &key.into())
    }

    fn from_history_named(history: &History, name: &str, key: &Field) -> Result<Expectation> {
        let frames: Vec<(String, Map<String, Value>)> = history
            .frames()
            .iter()
            .filter(|frame| frame.direction == Direction::In)
            .filter(|frame| matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_)))
            .filter_map(|frame| match frame.json() {
                Some(value @ Value::Object(_)) => {
                    let kind = key.str(&value)?.to_owned();
                    match value {
                        Value::Object(map) => Some((kind, map)),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        if frames.is_empty() {
            return Err(Error::Config(format!(
                "{name} has no frame from the server that is a JSON object with a {:?}: there is no order to expect",
                key.as_str()
            )));
        }
        let keyed = |expectation: Expectation| match key.is_type() {
            true => expectation,
            false => expectation.event_key(key),
        };
        Ok(keyed(match best_grouping(&frames) {
            Some(grouping) => {
                let mut expectation = Expect::events(grouping.sequence).per(grouping.field);
                if grouping.runs > 1 {
                    expectation = expectation.times(grouping.runs as u32);
                }
                for kind in grouping.outside {
                    expectation = expectation.ignore(kind);
                }
                expectation
            }
            None => Expect::events(frames.into_iter().map(|(kind, _)| kind)),
        }))
    }
}

/// Runs found in a recording: one sequence of types per value of `field`.
struct Grouping {
    field: String,
    sequence: Vec<String>,
    runs: usize,
    /// The types of the frames without the field, in order of first appearance.
    outside: Vec<String>,
    covered: usize,
}

fn is_run_like(field: &str) -> bool {
    field == "id" || field.ends_with("_id")
}

/// The field that groups the most frames into runs with the same sequence of types, if any does.
fn best_grouping(frames: &[(String, Map<String, Value>)]) -> Option<Grouping> {
    let mut candidates: Vec<&str> = Vec::new();
    for (_, map) in frames {
        for key in map.keys() {
            if is_run_like(key) && !candidates.contains(&key.as_str()) {
                candidates.push(key);
            }
        }
    }
    // Of equals, the field seen first in the recording: the same choice on every run, whatever the protocol.
    candidates
        .into_iter()
        .enumerate()
        .filter_map(|(seen, field)| Some((seen, grouping(frames, field)?)))
        .max_by_key(|(seen, grouping)| (grouping.covered, grouping.runs, std::cmp::Reverse(*seen)))
        .map(|(_, grouping)| grouping)
}

fn grouping(frames: &[(String, Map<String, Value>)], field: &str) -> Option<Grouping> {
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    let mut outside: Vec<String> = Vec::new();
    let mut inside: Vec<&str> = Vec::new();
    let mut covered = 0;
    for (kind, map) in frames {
        let key = match map.get(field) {
            Some(Value::String(value)) => value.clone(),
            Some(value @ Value::Number(_)) => value.to_string(),
            _ => {
                if !outside.contains(kind) {
                    outside.push(kind.clone());
                }
                continue;
            }
        };
        covered += 1;
        if !inside.contains(&kind.as_str()) {
            inside.push(kind);
        }
        match runs.iter_mut().find(|(value, _)| *value == key) {
            Some((_, types)) => types.push(kind.clone()),
            None => runs.push((key, vec![kind.clone()])),
        }
    }
    let first = &runs.first()?.1;
    let consistent = runs.iter().all(|(_, types)| types == first);
    let disjoint = outside.iter().all(|kind| !inside.contains(&kind.as_str()));
    // One run of every frame (a `user_id` on each) says nothing a plain sequence does not.
    let informative = runs.len() > 1 || covered < frames.len();
    (covered >= 2 && consistent && disjoint && informative).then(|| Grouping {
        field: field.to_owned(),
        sequence: first.clone(),
        runs: runs.len(),
        outside,
        covered,
    })
}

#[cfg(feature = "record")]
impl Expectation {
    /// The Rust code that builds this expectation with [`Expect`]: what `ws-test expect FILE` prints, to paste
    /// into a test. A pattern comes as `Expect::pattern("...")?`; fields as `json!(...)`.
    ///
    /// ```
    /// use ws_test_runtime::expect::Expect;
    ///
    /// let expectation = Expect::events(["agent_started", "agent_completed"]).strict().per("run_id");
    /// assert_eq!(
    ///     expectation.to_rust(),
    ///     "Expect::events([\"agent_started\", \"agent_completed\"])\n    .strict()\n    .per(\"run_id\")"
    /// );
    /// ```
    pub fn to_rust(&self) -> String {
        let mut code = match &self.sequence {
            Sequence::Events(steps) if steps.iter().all(|step| step.fields.is_none()) => {
                let names: Vec<String> = steps.iter().map(|step| format!("{:?}", step.event_type)).collect();
                format!("Expect::events([{}])", names.join(", "))
            }
            Sequence::Events(steps) => {
                let steps: Vec<String> = steps
                    .iter()
                    .map(|step| match &step.fields {
                        Some(fields) => format!("step({:?}).matching(json!({fields}))", step.event_type),
                        None => format!("step({:?})", step.event_type),
                    })
                    .collect();
                format!("Expect::events([{}])", steps.join(", "))
            }
            Sequence::Pattern { node } => format!("Expect::pattern({:?})?", node.to_string()),
        };
        let mut call = |text: String| {
            use std::fmt::Write as _;
            let _ = write!(code, "\n    .{text}");
        };
        match self.order {
            Order::Strict => call("strict()".into()),
            Order::AnyOrder => call("any_order()".into()),
            Order::InOrder => {}
        }
        if let Some(key) = self.event_key.as_ref().filter(|key| !key.is_type()) {
            call(format!("event_key({:?})", key.as_str()));
        }
        if let Some(field) = &self.per {
            call(format!("per({:?})", field.as_str()));
        }
        if let Some(n) = self.times {
            call(format!("times({n})"));
        }
        for pair in &self.pairs {
            call(format!(
                "pair({:?}, {:?}, {:?})",
                pair.open,
                pair.close,
                pair.key.as_str()
            ));
        }
        for (event, fields) in &self.matching {
            call(format!("matching_every({event:?}, json!({fields}))"));
        }
        for event in &self.forbid {
            call(format!("forbid({event:?})"));
        }
        for event in &self.ignore {
            call(format!("ignore({event:?})"));
        }
        if let Some(within) = self.within {
            call(format!("within(Duration::from_millis({}))", within.as_millis()));
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::expect::step;

    fn history(frames: &[Value]) -> History {
        let mut history = History::new();
        history.record(Direction::Out, FrameKind::Text(r#"{"type":"chat_message"}"#.into()));
        for frame in frames {
            history.record(Direction::In, FrameKind::Text(frame.to_string()));
        }
        history
    }

    #[test]
    fn runs_are_found_by_the_field_that_groups_the_most_frames() {
        let frames = [
            json!({"type": "connection_established", "connection_id": "c1", "user_id": "u"}),
            json!({"type": "agent_started", "run_id": "r1", "user_id": "u"}),
            json!({"type": "tool_executing", "run_id": "r1", "tool_call_id": "t1"}),
            json!({"type": "agent_started", "run_id": "r2"}),
            json!({"type": "tool_completed", "run_id": "r1", "tool_call_id": "t1"}),
            json!({"type": "tool_executing", "run_id": "r2", "tool_call_id": "t2"}),
            json!({"type": "tool_completed", "run_id": "r2", "tool_call_id": "t2"}),
        ];
        let expectation = Expect::from_history(&history(&frames)).unwrap();
        assert_eq!(
            expectation,
            Expect::events(["agent_started", "tool_executing", "tool_completed"])
                .per("run_id")
                .times(2)
                .ignore("connection_established")
        );
        // The recording it came from meets it.
        assert!(expectation.check(&frames).is_ok());
    }

    #[test]
    fn without_consistent_runs_every_type_is_expected_in_order() {
        let frames = [
            json!({"type": "a", "run_id": "r1"}),
            json!({"type": "b", "run_id": "r1"}),
            json!({"type": "a", "run_id": "r2"}),
            json!({"type": "c"}),
        ];
        assert_eq!(
            Expect::from_history(&history(&frames)).unwrap(),
            Expect::events(["a", "b", "a", "c"])
        );
        let message = Expect::from_history(&history(&[])).unwrap_err().to_string();
        assert!(message.contains("no frame from the server"), "{message}");
    }

    #[test]
    #[cfg(feature = "record")]
    fn code_covers_every_refinement() {
        let expectation = Expect::events([step("a").matching(json!({"x": 1})), step("b")])
            .any_order()
            .times(3)
            .pair("open", "close", "id")
            .matching_every("b", json!({"ok": true}))
            .forbid("error")
            .within(Duration::from_millis(1500));
        assert_eq!(
            expectation.to_rust(),
            "Expect::events([step(\"a\").matching(json!({\"x\":1})), step(\"b\")])\n    .any_order()\n    .times(3)\n    \
             .pair(\"open\", \"close\", \"id\")\n    .matching_every(\"b\", json!({\"ok\":true}))\n    .forbid(\"error\")\n    \
             .within(Duration::from_millis(1500))"
        );
        let pattern = Expect::pattern("a (b | c)+").unwrap().strict();
        assert_eq!(
            pattern.to_rust(),
            format!("Expect::pattern({:?})?\n    .strict()", "a (b | c)+")
        );
    }
}

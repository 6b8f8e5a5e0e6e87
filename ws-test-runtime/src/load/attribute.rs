//! Which client frame prompted each server frame, and how long it took: the latencies of a [`Report`].

use std::time::Duration;

use serde_json::Value;

use super::report::{Group, Label, Report};
use crate::Field;
use crate::history::{Direction, Frame, FrameKind};

/// How server frames are tied to the client frame that prompted them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attribution {
    /// The field that names events (the client's event key).
    pub(crate) key: Field,
    /// A field both a client frame and its replies carry (`id`, `run_id`, `/params/id`): a server frame answers
    /// the client frame with the same value. Without it (or for a server frame without it), a server frame
    /// answers the latest client frame before it.
    pub(crate) correlate: Option<Field>,
}

/// One client frame and what it prompted so far.
struct Prompt {
    label: String,
    at: Duration,
    /// Added to every latency measured from this frame: the open model's lag of the iteration's first frame.
    shift: Duration,
    correlate: Option<String>,
    /// The first server frame after it, whatever it answers.
    first: Option<Duration>,
    /// The first and the last server frame that answer it.
    reply: Option<Duration>,
    last: Option<Duration>,
}

fn label_of(frame: &Frame, value: Option<&Value>, key: &Field) -> String {
    match (value.and_then(|value| key.str(value)), &frame.kind) {
        (Some(name), _) => name.to_owned(),
        (None, _) if value.is_some() => format!("(no {key})"),
        (None, FrameKind::Binary(_)) => "(binary)".to_owned(),
        (None, _) => "(text)".to_owned(),
    }
}

impl Attribution {
    /// Records into `report` the latencies of `frames` (one iteration's, or one connection's): each server frame
    /// under its event type, from the client frame that prompted it (or from `start`, on the connection's clock,
    /// when none did); each client frame's reply, first and last frame under `TYPE.reply`, `TYPE.first`,
    /// `TYPE.last`, and its last under `response`. `lag` is added to what the first client frame prompted (and
    /// to what came before it): the open model measures from the intended start. Returns the data frames sent
    /// and received.
    pub(crate) fn record(&self, frames: &[Frame], start: Duration, lag: Duration, report: &mut Report) -> (u64, u64) {
        let mut prompts: Vec<Prompt> = Vec::new();
        let (mut sent, mut received) = (0, 0);
        for frame in frames {
            if !matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_)) {
                continue;
            }
            let value = frame.json();
            let label = label_of(frame, value.as_ref(), &self.key);
            let correlate = match (&self.correlate, &value) {
                (Some(field), Some(value)) => field.text(value).map(|text| text.into_owned()),
                _ => None,
            };
            if frame.direction == Direction::Out {
                sent += 1;
                prompts.push(Prompt {
                    label,
                    at: frame.at,
                    shift: if prompts.is_empty() { lag } else { Duration::ZERO },
                    correlate,
                    first: None,
                    reply: None,
                    last: None,
                });
                continue;
            }
            received += 1;
            let answered = match &correlate {
                Some(id) => prompts
                    .iter()
                    .rposition(|prompt| prompt.correlate.as_deref() == Some(id.as_str()))
                    .or_else(|| prompts.len().checked_sub(1)),
                None => prompts.len().checked_sub(1),
            };
            let latency = match answered {
                Some(at) => frame.at.saturating_sub(prompts[at].at) + prompts[at].shift,
                None => frame.at.saturating_sub(start) + lag,
            };
            report.record(&label, Group::Received, latency);
            if let Some(latest) = prompts.last_mut() {
                if latest.first.is_none() {
                    latest.first = Some(frame.at.saturating_sub(latest.at) + latest.shift);
                }
            }
            if let Some(at) = answered {
                let prompt = &mut prompts[at];
                prompt.reply.get_or_insert(latency);
                prompt.last = Some(latency);
            }
        }
        for prompt in &prompts {
            let stages = [("reply", prompt.reply), ("first", prompt.first), ("last", prompt.last)];
            for (stage, latency) in stages {
                if let Some(latency) = latency {
                    report.record(&format!("{}.{stage}", prompt.label), Group::Sent, latency);
                }
            }
            if let Some(last) = prompt.last {
                report.record(Label::RESPONSE, Group::Response, last);
            }
        }
        (sent, received)
    }
}

impl Report {
    /// Records the latencies of frames from a connection driven by hand (pipelined requests, say), as
    /// [`Load`](super::Load) does after each iteration: each server frame under its event type from the client
    /// frame that prompted it (the one with the same `correlate` value, else the latest before it), each client
    /// frame's `TYPE.reply`, `TYPE.first`, `TYPE.last` and `response`. Server frames before any client frame are
    /// timed from the connection's start. Counts the data frames too.
    pub fn measure(&mut self, frames: &[crate::Frame], event_key: &crate::Field, correlate: Option<&crate::Field>) {
        let attribution = Attribution {
            key: event_key.clone(),
            correlate: correlate.cloned(),
        };
        let (sent, received) = attribution.record(frames, Duration::ZERO, Duration::ZERO, self);
        self.count_frames(sent, received);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::History;

    fn at(history: &mut History, ms: u64, direction: Direction, text: &str) {
        history.record_at(direction, Duration::from_millis(ms), FrameKind::Text(text.to_owned()));
    }

    #[test]
    fn replies_are_timed_from_what_prompted_them() {
        let mut history = History::new();
        at(&mut history, 1, Direction::In, r#"{"type":"hello"}"#);
        at(&mut history, 10, Direction::Out, r#"{"type":"ask","id":1}"#);
        at(&mut history, 11, Direction::Out, r#"{"type":"ask","id":2}"#);
        at(&mut history, 15, Direction::In, r#"{"type":"answer","id":1}"#);
        at(&mut history, 16, Direction::In, r#"{"type":"tick"}"#);
        at(&mut history, 31, Direction::In, r#"{"type":"answer","id":2}"#);
        let mut report = Report::new();
        let attribution = Attribution {
            key: Field::type_key(),
            correlate: Some(Field::new("id")),
        };
        let counts = attribution.record(
            history.frames(),
            Duration::ZERO,
            Duration::from_millis(100),
            &mut report,
        );
        assert_eq!(counts, (2, 4));
        let ms = |label: &str| report.find(label).map(|stats| stats.max().as_millis());
        // Before any client frame: from the start, plus the lag.
        assert_eq!(ms("hello"), Some(101));
        // The first ask carries the lag; the second does not (the tick, without an id, answers the latest).
        assert_eq!(ms("ask.reply"), Some(105));
        assert_eq!(report.find("ask.reply").unwrap().count, 2);
        assert_eq!(report.find("answer").unwrap().quantile(0.0).as_millis(), 20);
        // The tick has no id: the latest client frame (id 2) prompted it.
        assert_eq!(ms("tick"), Some(5));
        assert_eq!(ms("ask.last"), Some(105));
        assert_eq!(report.find("ask.last").unwrap().quantile(0.0).as_millis(), 20);
        // The first frame after a client frame, whatever it answers: only the second ask saw one.
        assert_eq!(ms("ask.first"), Some(4));
        assert_eq!(report.find("response").unwrap().count, 2);
    }
}

//! The verdict types the matcher produces and the report reads: what became of each frame, where the
//! expectation diverged, why the waiting ended, and the frames as the report shows them. Both
//! [`matcher`](super::matcher) and [`report`](super::report) import these; neither imports the other's types.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::Value;

use crate::Field;
use crate::history::{summarize_json, summarize_text};
use crate::message::{CloseInfo, Message};

/// What became of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// Left out of matching (`ignore`).
    Ignored,
    /// Advanced the match.
    Matched,
    /// Neither: another frame (allowed between, except in strict mode).
    Other,
}

/// Why an expectation can no longer be met, found at one frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Divergence {
    OutOfOrder {
        frame: usize,
        group: Option<String>,
        expected: Vec<String>,
        got: String,
    },
    NotAnEvent {
        frame: usize,
    },
    Forbidden {
        frame: usize,
        event_type: String,
    },
    MissingKey {
        frame: usize,
        field: String,
        event_type: String,
    },
    UnmatchedCloser {
        frame: usize,
        pair: usize,
        key: String,
    },
    DuplicateOpener {
        frame: usize,
        pair: usize,
        key: String,
        first: usize,
    },
    AfterCompletion {
        frame: usize,
    },
    /// The frame breaks the expectation's AsyncAPI contract.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    Contract {
        frame: usize,
        reason: String,
    },
}

impl Divergence {
    pub(crate) fn frame(&self) -> usize {
        match self {
            Divergence::OutOfOrder { frame, .. }
            | Divergence::NotAnEvent { frame }
            | Divergence::Forbidden { frame, .. }
            | Divergence::MissingKey { frame, .. }
            | Divergence::UnmatchedCloser { frame, .. }
            | Divergence::DuplicateOpener { frame, .. }
            | Divergence::AfterCompletion { frame }
            | Divergence::Contract { frame, .. } => *frame,
        }
    }
}

/// Why the waiting stopped before the expectation was met.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The deadline passed.
    Timeout(Duration),
    /// The connection closed.
    Closed(CloseInfo),
    /// A fixed list of frames ran out ([`Expectation::check`](super::Expectation::check)).
    EndOfInput,
    /// An `ExpectGuard` was dropped with the expectation not met by the frames received.
    Dropped,
}

/// One frame as the report shows it.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ReportFrame {
    /// The frame's number as the user sees it (its index in the client's history).
    pub index: usize,
    /// Time since connect, when known.
    pub(crate) at: Option<Duration>,
    /// The frame as JSON, when it is JSON.
    pub(crate) value: Option<Value>,
    /// The one-line summary of a frame that is not JSON (a JSON frame's is made when a report needs it).
    not_json: Option<String>,
}

impl ReportFrame {
    /// A frame already parsed as JSON.
    pub fn from_value(index: usize, at: Option<Duration>, value: &Value) -> Self {
        ReportFrame {
            index,
            at,
            value: Some(value.clone()),
            not_json: None,
        }
    }

    /// A text frame: parsed once, here.
    pub fn from_text(index: usize, at: Option<Duration>, text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(value) => ReportFrame {
                index,
                at,
                value: Some(value),
                not_json: None,
            },
            Err(_) => ReportFrame {
                index,
                at,
                value: None,
                not_json: Some(summarize_text(text)),
            },
        }
    }

    /// A frame that is not JSON, described by `summary`.
    pub fn not_json(index: usize, at: Option<Duration>, summary: String) -> Self {
        ReportFrame {
            index,
            at,
            value: None,
            not_json: Some(summary),
        }
    }

    /// A frame as the client read it: parsed when it is text.
    pub fn from_message(index: usize, at: Option<Duration>, message: &Message) -> Self {
        match message {
            Message::Text(text) => Self::from_text(index, at, text),
            Message::Binary(_) => ReportFrame {
                index,
                at,
                value: None,
                not_json: Some(message.summary()),
            },
        }
    }

    /// One line: the event's name (read at `key`) and key fields.
    pub(crate) fn summary(&self, key: &Field) -> String {
        match (&self.value, &self.not_json) {
            (Some(value), _) => summarize_json(value, key).unwrap_or_else(|| summarize_text(&value.to_string())),
            (None, Some(summary)) => summary.clone(),
            (None, None) => String::new(),
        }
    }

    /// The value the matcher is fed: the JSON, or a string standing for a frame that is not JSON (no `type`).
    pub fn fed_value(&self) -> Cow<'_, Value> {
        match &self.value {
            Some(value) => Cow::Borrowed(value),
            None => Cow::Owned(Value::String(self.not_json.clone().unwrap_or_default())),
        }
    }
}

/// What the matcher knew when it gave up.
pub(crate) struct Summary {
    pub(crate) divergence: Option<Divergence>,
    pub(crate) missing: Vec<String>,
    /// The first frame that did not advance an unfinished sequence, and what was expected there.
    pub(crate) stall: Option<(usize, String)>,
}

//! The failure report: readable in one glance.

use std::collections::BTreeSet;
use std::fmt;
use std::io::IsTerminal as _;
use std::time::Duration;

use serde_json::Value;

use super::Expectation;
use super::matcher::{Divergence, Tag};
use crate::history::{summarize_json, summarize_text};
use crate::message::{CloseInfo, Message};

/// Why the waiting stopped before the expectation was met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The deadline passed.
    Timeout(Duration),
    /// The connection closed.
    Closed(CloseInfo),
    /// A fixed list of frames ran out ([`Expectation::check`]).
    EndOfInput,
}

/// One frame as the report shows it.
#[derive(Debug, Clone)]
pub(crate) struct ReportFrame {
    /// The frame's number as the user sees it (its index in the client's history).
    pub(crate) index: usize,
    /// Time since connect, when known.
    pub(crate) at: Option<Duration>,
    /// The frame as JSON, when it is JSON.
    pub(crate) value: Option<Value>,
    /// One line: type and key fields.
    pub(crate) summary: String,
}

impl ReportFrame {
    pub(crate) fn from_value(index: usize, at: Option<Duration>, value: &Value) -> Self {
        let summary = summarize_json(value).unwrap_or_else(|| summarize_text(&value.to_string()));
        ReportFrame {
            index,
            at,
            value: Some(value.clone()),
            summary,
        }
    }

    pub(crate) fn from_message(index: usize, at: Option<Duration>, message: &Message) -> Self {
        match message.json() {
            Ok(value) => Self::from_value(index, at, &value),
            Err(_) => ReportFrame {
                index,
                at,
                value: None,
                summary: message.summary(),
            },
        }
    }

    /// The value the matcher is fed: the JSON, or a string standing for a frame that is not JSON (no `type`).
    pub(crate) fn fed_value(&self) -> Value {
        self.value
            .clone()
            .unwrap_or_else(|| Value::String(self.summary.clone()))
    }
}

/// What the matcher knew when it gave up.
pub(crate) struct Summary {
    pub(crate) divergence: Option<Divergence>,
    pub(crate) missing: Vec<String>,
    /// The first frame that did not advance an unfinished sequence, and what was expected there.
    pub(crate) stall: Option<(usize, String)>,
}

#[derive(Debug, Clone)]
struct Row {
    index: usize,
    at: Option<Duration>,
    summary: String,
    tag: Tag,
}

/// Why an expectation was not met, with the evidence: the `Display` of [`Error::Expectation`](crate::Error).
#[derive(Debug, Clone)]
pub struct ExpectationFailure {
    expectation: String,
    reason: String,
    rows: Vec<Option<Row>>,
    marker: Option<(usize, String)>,
    end_marker: Option<String>,
    missing: Vec<String>,
    not_matched: Vec<String>,
    notes: Vec<String>,
}

const MAX_ROWS: usize = 60;
const MAX_LISTED: usize = 20;

pub(crate) fn build(
    expectation: &Expectation,
    summary: &Summary,
    tags: &[Tag],
    end: EndReason,
    frames: &[ReportFrame],
) -> ExpectationFailure {
    let number = |position: usize| frames.get(position).map_or(position, |frame| frame.index);
    let pairs = &expectation.pairs;
    let (reason, marker) = match &summary.divergence {
        Some(divergence) => {
            let at = divergence.frame();
            let (reason, short) = match divergence {
                Divergence::OutOfOrder {
                    group, expected, got, ..
                } => {
                    let whose = match (group, &expectation.per) {
                        (Some(key), Some(field)) => format!(" of {field}={key}"),
                        _ => String::new(),
                    };
                    let expected = if expected.is_empty() {
                        "nothing more".to_owned()
                    } else {
                        expected.join(" or ")
                    };
                    (
                        format!(
                            "frame #{} broke the order{whose}: expected {expected}, got {got}",
                            number(at)
                        ),
                        format!("expected {expected}"),
                    )
                }
                Divergence::NotAnEvent { .. } => (
                    format!(
                        "frame #{} is not a JSON event with a \"type\" (strict mode allows nothing else)",
                        number(at)
                    ),
                    "not an event".to_owned(),
                ),
                Divergence::Forbidden { event_type, .. } => (
                    format!("forbidden event {event_type:?} at frame #{}", number(at)),
                    "forbidden".to_owned(),
                ),
                Divergence::MissingKey { field, event_type, .. } => (
                    format!("frame #{} ({event_type}) has no {field:?}", number(at)),
                    format!("no {field}"),
                ),
                Divergence::UnmatchedCloser { pair, key, .. } => {
                    let pair = &pairs[*pair];
                    (
                        format!(
                            "{} at frame #{} closes {}={key}, which no {} opened",
                            pair.close,
                            number(at),
                            pair.key,
                            pair.open
                        ),
                        format!("no {} opened it", pair.open),
                    )
                }
                Divergence::DuplicateOpener { pair, key, first, .. } => {
                    let pair = &pairs[*pair];
                    (
                        format!(
                            "{} at frame #{} opens {}={key} again (already opened at frame #{})",
                            pair.open,
                            number(at),
                            pair.key,
                            number(*first)
                        ),
                        "opened twice".to_owned(),
                    )
                }
                Divergence::AfterCompletion { .. } => (
                    format!(
                        "frame #{} came after the expectation was complete (strict mode allows nothing after)",
                        number(at)
                    ),
                    "after completion".to_owned(),
                ),
            };
            (reason, Some((at, format!("first divergence: {short}"))))
        }
        None => {
            let reason = match &end {
                EndReason::Timeout(after) => format!("timed out after {after:?}"),
                EndReason::Closed(close) => {
                    format!("the connection was closed ({close}) before the expectation was met")
                }
                EndReason::EndOfInput => "the frames ended before the expectation was met".to_owned(),
            };
            let marker = summary
                .stall
                .as_ref()
                .map(|(at, next)| (*at, format!("first divergence: expected {next}")));
            (reason, marker)
        }
    };
    let end_marker = match (&marker, summary.missing.first()) {
        (None, Some(first)) => Some(format!("still expected: {first}")),
        _ => None,
    };

    let count = frames.len().min(tags.len());
    let mut keep: BTreeSet<usize> = BTreeSet::new();
    if count <= MAX_ROWS {
        keep.extend(0..count);
    } else {
        keep.extend(0..20);
        keep.extend(count - 10..count);
        if let Some((at, _)) = &marker {
            keep.extend(at.saturating_sub(10)..(at + 11).min(count));
        }
    }
    let mut rows = Vec::new();
    let mut marker_row = None;
    let mut previous = None;
    for position in keep {
        if previous.is_some_and(|previous: usize| position > previous + 1) {
            rows.push(None);
        }
        if marker.as_ref().is_some_and(|(at, _)| *at == position) {
            marker_row = Some(rows.len());
        }
        let frame = &frames[position];
        rows.push(Some(Row {
            index: frame.index,
            at: frame.at,
            summary: frame.summary.clone(),
            tag: tags[position],
        }));
        previous = Some(position);
    }

    let others: Vec<usize> = (0..count).filter(|&position| tags[position] == Tag::Other).collect();
    let mut not_matched: Vec<String> = others
        .iter()
        .take(MAX_LISTED)
        .map(|&position| format!("#{} {}", frames[position].index, frames[position].summary))
        .collect();
    if others.len() > MAX_LISTED {
        not_matched.push(format!("… and {} more", others.len() - MAX_LISTED));
    }

    ExpectationFailure {
        expectation: expectation.to_string(),
        reason,
        rows,
        marker: marker_row.zip(marker.map(|(_, text)| text)),
        end_marker,
        missing: summary.missing.clone(),
        not_matched,
        notes: Vec::new(),
    }
}

impl ExpectationFailure {
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

    pub(crate) fn add_note(&mut self, note: String) {
        self.notes.push(note);
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
                let flag = match row.tag {
                    Tag::Ignored => "  (ignored)",
                    _ => "",
                };
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

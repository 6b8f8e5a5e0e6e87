//! The failure report: the matcher's verdict turned into an [`ExpectationFailure`] that reads at a glance.

use std::collections::BTreeSet;

use super::Expectation;
use super::verdict::{Divergence, EndReason, ReportFrame, Summary, Tag};
use crate::error::{ExpectationFailure, FailureRow};

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
                        "frame #{} is not a JSON event with a {:?} (strict mode allows nothing else)",
                        number(at),
                        expectation.key().as_str()
                    ),
                    "not an event".to_owned(),
                ),
                Divergence::Contract { reason, .. } => (
                    format!("frame #{} breaks the contract: {reason}", number(at)),
                    "breaks the contract".to_owned(),
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
                EndReason::Dropped => "the guard of `expect_eventually` was dropped (the test ended) before the \
                                       frames received met the expectation; `guard.verify().await` waits for them"
                    .to_owned(),
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
        rows.push(Some(FailureRow {
            index: frame.index,
            at: frame.at,
            summary: frame.summary(expectation.key()),
            ignored: tags[position] == Tag::Ignored,
        }));
        previous = Some(position);
    }

    let others: Vec<usize> = (0..count).filter(|&position| tags[position] == Tag::Other).collect();
    let mut not_matched: Vec<String> = others
        .iter()
        .take(MAX_LISTED)
        .map(|&position| {
            format!(
                "#{} {}",
                frames[position].index,
                frames[position].summary(expectation.key())
            )
        })
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

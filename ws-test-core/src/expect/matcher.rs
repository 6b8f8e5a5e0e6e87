//! The streaming matcher: one pass over the frames, constant work per frame, a verdict as soon as there is one.

use rustc_hash::FxHashMap as HashMap;

use serde_json::Value;

use super::pattern::{Automaton, BitSet};
use super::report;
use super::verdict::{Divergence, EndReason, ReportFrame, Summary, Tag};
use super::{Expectation, Order, Sequence, Step, subset_matches};
use crate::Field;
use crate::{Error, Result};

/// Where a matcher stands.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not met yet, and it still can be.
    Pending,
    /// Met.
    Met,
    /// Can no longer be met.
    Failed,
}

enum Engine {
    Automaton {
        automaton: Automaton,
        /// The positions of each event type (few types: a linear scan beats hashing).
        masks: Vec<(String, BitSet)>,
        predicates: Vec<Vec<Value>>,
        any_predicate: bool,
    },
    AnyOrder {
        steps: Vec<(String, Vec<Value>)>,
    },
}

struct Group {
    key: Option<Box<str>>,
    start: bool,
    set: BitSet,
    /// In order: the positions the last taken frame reached (`last_start`: none taken yet). A frame that goes on
    /// from them is taken even when it reaches no new position, so `x+` takes every `x` it can.
    last: BitSet,
    last_start: bool,
    remaining: Vec<u32>,
    completed: u32,
    done: bool,
    /// The first frame of this group that did not advance it since its last progress.
    stall: Option<usize>,
}

/// The events that met an expectation, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    events: Vec<Value>,
    per: Option<Field>,
    key: Field,
}

impl Matched {
    /// Every matched event, in arrival order.
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The matched events of one type.
    pub fn of_type<'a>(&'a self, event_type: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |event| self.key.str(event) == Some(event_type))
    }

    /// The matched events whose grouping field (see [`Expectation::per`]) has this value.
    pub fn group<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |event| match &self.per {
            Some(field) => field.text(event).as_deref() == Some(key),
            None => false,
        })
    }

    /// How many events matched.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing matched (an expectation of nothing).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Evaluates an [`Expectation`] over frames fed one at a time.
///
/// `WsClient::expect` and [`Expectation::check`] drive it; use it directly to check
/// frames from elsewhere (a log, a recorded transcript).
#[doc(hidden)]
#[allow(missing_debug_implementations)] // holds borrowed engines; the runtime's client drives it, never prints it
pub struct Matcher<'e> {
    expectation: &'e Expectation,
    /// The event key, looked up once.
    key: &'e Field,
    engine: Engine,
    target: u32,
    groups: Vec<Group>,
    done_groups: usize,
    index: HashMap<Box<str>, usize>,
    open: Vec<HashMap<Box<str>, usize>>,
    tags: Vec<Tag>,
    failure: Option<Divergence>,
    progress: Progress,
    mask: BitSet,
    scratch: BitSet,
}

impl<'e> Matcher<'e> {
    /// A matcher for `expectation`; an error when the expectation cannot be evaluated (a pattern in any-order
    /// mode, `times(0)`).
    pub fn new(expectation: &'e Expectation) -> Result<Self> {
        let target = expectation.times.unwrap_or(1);
        if target == 0 {
            return Err(Error::Config("`times` must be at least 1".into()));
        }
        let engine = match (&expectation.sequence, expectation.order) {
            (Sequence::Pattern { .. }, Order::AnyOrder) => {
                return Err(Error::Config(
                    "a pattern already says the order: use `in_order()` or `strict()` with it, not `any_order()`"
                        .into(),
                ));
            }
            (Sequence::Events(steps), Order::AnyOrder) => Engine::AnyOrder {
                steps: steps
                    .iter()
                    .map(|step| (step.event_type.clone(), predicates(expectation, step)))
                    .collect(),
            },
            (Sequence::Events(steps), _) => {
                let automaton = Automaton::chain(steps.iter().map(|step| step.event_type.clone()).collect());
                let predicates = steps.iter().map(|step| predicates(expectation, step)).collect();
                automaton_engine(automaton, predicates)
            }
            (Sequence::Pattern { node }, _) => {
                let automaton = Automaton::from_node(node);
                let predicates = automaton
                    .names
                    .iter()
                    .map(|name| {
                        expectation
                            .matching
                            .iter()
                            .filter(|(t, _)| t == name)
                            .map(|(_, v)| v.clone())
                            .collect()
                    })
                    .collect();
                automaton_engine(automaton, predicates)
            }
        };
        let size = match &engine {
            Engine::Automaton { automaton, .. } => automaton.size(),
            Engine::AnyOrder { .. } => 0,
        };
        let mut matcher = Matcher {
            key: expectation.key(),
            expectation,
            engine,
            target,
            groups: Vec::new(),
            done_groups: 0,
            index: HashMap::default(),
            open: vec![HashMap::default(); expectation.pairs.len()],
            tags: Vec::new(),
            failure: None,
            progress: Progress::Pending,
            mask: BitSet::new(size),
            scratch: BitSet::new(size),
        };
        if expectation.per.is_none() {
            let group = matcher.new_group(None);
            matcher.groups.push(group);
            matcher.settle(0);
        }
        matcher.update_progress();
        Ok(matcher)
    }

    fn new_group(&self, key: Option<Box<str>>) -> Group {
        let per_group = if self.expectation.per.is_some() { 1 } else { self.target };
        let (set, remaining) = match &self.engine {
            Engine::Automaton { automaton, .. } => (BitSet::new(automaton.size()), Vec::new()),
            Engine::AnyOrder { steps } => (BitSet::new(0), vec![per_group; steps.len()]),
        };
        Group {
            key,
            start: true,
            last: set.clone(),
            last_start: true,
            set,
            remaining,
            completed: 0,
            done: false,
            stall: None,
        }
    }

    /// Where the matcher stands.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Feeds the next frame (a JSON value; anything without a string `"type"` is not an event).
    ///
    /// Once the outcome is known, further frames are not taken (see [`feed_after`](Self::feed_after)).
    pub fn feed(&mut self, frame: &Value) -> Progress {
        if self.progress != Progress::Pending {
            return self.progress;
        }
        let at = self.tags.len();
        let tag = self.classify(frame, at);
        self.tags.push(tag);
        self.update_progress();
        self.progress
    }

    /// Feeds a frame that was already received when the expectation was met: in strict mode anything but an
    /// ignored type fails it ("nothing after"); otherwise it is left for later.
    pub fn feed_after(&mut self, frame: &Value) {
        let at = self.tags.len();
        let event_type = self.key.str(frame);
        let ignored = event_type.is_some_and(|t| self.expectation.ignore.iter().any(|i| i == t));
        self.tags.push(if ignored { Tag::Ignored } else { Tag::Other });
        if self.expectation.order == Order::Strict && !ignored && self.failure.is_none() {
            self.failure = Some(Divergence::AfterCompletion { frame: at });
            self.progress = Progress::Failed;
        }
    }

    fn fail(&mut self, divergence: Divergence) -> Tag {
        self.failure = Some(divergence);
        Tag::Other
    }

    fn classify(&mut self, frame: &Value, at: usize) -> Tag {
        #[cfg(feature = "contract")]
        if let Some(validator) = &self.expectation.validator {
            if let Err(problems) = validator.0.check_received(frame) {
                return self.fail(Divergence::Contract {
                    frame: at,
                    reason: problems,
                });
            }
        }
        let strict = self.expectation.order == Order::Strict;
        let Some(event_type) = self.key.str(frame) else {
            // Strict per group, a JSON object that names no event (a JSON-RPC reply beside its notifications)
            // belongs to no group; without groups, or for a frame that is not JSON at all, strict allows nothing
            // else.
            let outside_groups = self.expectation.per.is_some() && frame.is_object();
            return if strict && !outside_groups {
                self.fail(Divergence::NotAnEvent { frame: at })
            } else {
                Tag::Other
            };
        };
        if self.expectation.ignore.iter().any(|ignored| ignored == event_type) {
            return Tag::Ignored;
        }
        if self.expectation.forbid.iter().any(|forbidden| forbidden == event_type) {
            return self.fail(Divergence::Forbidden {
                frame: at,
                event_type: event_type.to_owned(),
            });
        }
        for (number, pair) in self.expectation.pairs.iter().enumerate() {
            let opens = pair.open == event_type;
            if !opens && pair.close != event_type {
                continue;
            }
            let Some(key) = pair.key.text(frame) else {
                let missing = Divergence::MissingKey {
                    frame: at,
                    field: pair.key.to_string(),
                    event_type: event_type.to_owned(),
                };
                return self.fail(missing);
            };
            let open = &mut self.open[number];
            if opens {
                if let Some(&first) = open.get(key.as_ref()) {
                    let key = key.into_owned();
                    return self.fail(Divergence::DuplicateOpener {
                        frame: at,
                        pair: number,
                        key,
                        first,
                    });
                }
                open.insert(key.into(), at);
            } else if open.remove(key.as_ref()).is_none() {
                return self.fail(Divergence::UnmatchedCloser {
                    frame: at,
                    pair: number,
                    key: key.into_owned(),
                });
            }
        }
        let group = match &self.expectation.per {
            None => 0,
            Some(field) => match field.text(frame) {
                Some(key) => match self.index.get(key.as_ref()) {
                    Some(&group) => group,
                    None => {
                        let key: Box<str> = key.into();
                        let group = self.new_group(Some(key.clone()));
                        self.groups.push(group);
                        self.index.insert(key, self.groups.len() - 1);
                        self.groups.len() - 1
                    }
                },
                None if strict => {
                    let missing = Divergence::MissingKey {
                        frame: at,
                        field: field.to_string(),
                        event_type: event_type.to_owned(),
                    };
                    return self.fail(missing);
                }
                None => return Tag::Other,
            },
        };
        let tag = self.advance(group, event_type, frame, at);
        if tag == Tag::Matched {
            self.settle(group);
        }
        tag
    }

    fn advance(&mut self, group: usize, event_type: &str, frame: &Value, at: usize) -> Tag {
        let strict = self.expectation.order == Order::Strict;
        let state = &mut self.groups[group];
        let tag = match &self.engine {
            Engine::AnyOrder { steps } => {
                let found = (!state.done)
                    .then(|| {
                        steps.iter().zip(&state.remaining).position(|((t, fields), left)| {
                            *left > 0 && t == event_type && fields.iter().all(|f| subset_matches(f, frame))
                        })
                    })
                    .flatten();
                match found {
                    Some(step) => {
                        state.remaining[step] -= 1;
                        Tag::Matched
                    }
                    None => Tag::Other,
                }
            }
            Engine::Automaton {
                automaton,
                masks,
                predicates,
                any_predicate,
            } => {
                match masks
                    .iter()
                    .find(|(name, _)| name.as_str() == event_type)
                    .map(|(_, mask)| mask)
                {
                    Some(mask) => {
                        self.mask.copy_from(mask);
                        if *any_predicate {
                            for position in mask.iter() {
                                if !predicates[position].iter().all(|fields| subset_matches(fields, frame)) {
                                    self.mask.remove(position);
                                }
                            }
                        }
                    }
                    None => self.mask.clear(),
                }
                if state.done {
                    if strict {
                        self.failure = Some(Divergence::AfterCompletion { frame: at });
                    }
                    Tag::Other
                } else {
                    automaton.next_into(state.start, &state.set, &mut self.scratch);
                    // `mask` becomes the positions this frame moves to; `scratch` keeps what could come next.
                    self.mask.intersect_with(&self.scratch);
                    if strict {
                        if self.mask.is_empty() {
                            let mut expected: Vec<String> = self
                                .scratch
                                .iter()
                                .map(|position| automaton.names[position].clone())
                                .collect();
                            expected.sort();
                            expected.dedup();
                            self.failure = Some(Divergence::OutOfOrder {
                                frame: at,
                                group: state.key.as_deref().map(str::to_owned),
                                expected,
                                got: event_type.to_owned(),
                            });
                            Tag::Other
                        } else {
                            std::mem::swap(&mut state.set, &mut self.mask);
                            state.start = false;
                            Tag::Matched
                        }
                    } else if self.mask.is_empty() {
                        Tag::Other
                    } else {
                        // Greedy: a frame that goes on from the last taken one is part of the match (the second
                        // and third `delta` of `delta+`), as is one that reaches a position not reached yet; one
                        // that only repeats what an earlier frame did (a second `b` for `b?`) is passed over.
                        automaton.next_into(state.last_start, &state.last, &mut self.scratch);
                        self.scratch.intersect_with(&self.mask);
                        let goes_on = !self.scratch.is_empty();
                        if goes_on || !self.mask.is_subset(&state.set) {
                            state.set.union_with(&self.mask);
                            if goes_on {
                                std::mem::swap(&mut state.last, &mut self.scratch);
                            } else {
                                state.last.copy_from(&self.mask);
                            }
                            state.last_start = false;
                            Tag::Matched
                        } else {
                            Tag::Other
                        }
                    }
                }
            }
        };
        match tag {
            Tag::Matched => state.stall = None,
            _ => {
                state.stall.get_or_insert(at);
            }
        }
        tag
    }

    /// Counts a completed sequence in `group`, and starts the next one when more are wanted.
    fn settle(&mut self, group: usize) {
        let per = self.expectation.per.is_some();
        let target = self.target;
        let state = &mut self.groups[group];
        let was_done = state.done;
        match &self.engine {
            Engine::AnyOrder { .. } => {
                if state.remaining.iter().all(|left| *left == 0) {
                    state.completed = if per { 1 } else { target };
                    state.done = true;
                }
            }
            Engine::Automaton { automaton, .. } => {
                while !state.done && automaton.accepts(state.start, &state.set) {
                    state.completed += 1;
                    if per || state.completed >= target {
                        state.done = true;
                    } else {
                        state.start = true;
                        state.set.clear();
                        state.last.clear();
                        state.last_start = true;
                    }
                }
            }
        }
        if state.done && !was_done {
            self.done_groups += 1;
        }
    }

    fn update_progress(&mut self) {
        self.progress = if self.failure.is_some() {
            Progress::Failed
        } else {
            // Counters, not scans: this runs once per frame.
            let groups_done = self.done_groups == self.groups.len()
                && (self.expectation.per.is_none() || self.groups.len() >= self.target as usize);
            if groups_done && self.open.iter().all(HashMap::is_empty) {
                Progress::Met
            } else {
                Progress::Pending
            }
        };
    }

    /// The events of a met expectation, picked from `fed`: every frame fed, in order, as JSON (`None` for a frame
    /// that is not JSON, which never matches).
    pub(crate) fn matched<'v>(&self, fed: impl IntoIterator<Item = Option<&'v Value>>) -> Matched {
        let events = fed
            .into_iter()
            .zip(&self.tags)
            .filter(|(_, tag)| **tag == Tag::Matched)
            .filter_map(|(value, _)| value.cloned())
            .collect();
        Matched {
            events,
            per: self.expectation.per.clone(),
            key: self.expectation.key().clone(),
        }
    }

    /// The matched events taken out of `frames` (the frames fed, in order), without copying them: for a met
    /// expectation whose frames are not needed any more.
    pub fn into_matched(self, frames: Vec<ReportFrame>) -> Matched {
        let events = frames
            .into_iter()
            .zip(&self.tags)
            .filter(|(_, tag)| **tag == Tag::Matched)
            .filter_map(|(frame, _)| frame.value)
            .collect();
        Matched {
            events,
            per: self.expectation.per.clone(),
            key: self.expectation.key().clone(),
        }
    }

    /// The verdict: the matched events, or the failure report (built from `frames`, the frames fed, in order).
    pub fn conclude(self, end: EndReason, frames: &[ReportFrame]) -> Result<Matched> {
        if self.progress == Progress::Met {
            return Ok(self.matched(frames.iter().map(|frame| frame.value.as_ref())));
        }
        let summary = self.summary();
        Err(Error::Expectation(Box::new(report::build(
            self.expectation,
            &summary,
            &self.tags,
            end,
            frames,
        ))))
    }

    fn summary(&self) -> Summary {
        let mut missing = Vec::new();
        let mut stalls: Vec<(usize, String)> = Vec::new();
        let per = self.expectation.per.as_ref();
        for group in self.groups.iter().filter(|group| !group.done) {
            let remaining = self.remaining(group);
            let label = match (per, &group.key) {
                (Some(field), Some(key)) => format!("{field}={key}: "),
                _ if self.target > 1 && matches!(self.engine, Engine::Automaton { .. }) => {
                    format!("sequence {} of {}: ", group.completed + 1, self.target)
                }
                _ => String::new(),
            };
            if let Some(stall) = group.stall {
                stalls.push((stall, remaining.first().cloned().unwrap_or_default()));
            }
            missing.push(format!("{label}{}", remaining.join(", ")));
        }
        if let Some(field) = per {
            let have = self.groups.len() as u32;
            if have < self.target {
                missing.push(format!(
                    "{} more complete sequence(s), each with its own {field}",
                    self.target - have
                ));
            }
        }
        for (pair, open) in self.expectation.pairs.iter().zip(&self.open) {
            let mut open: Vec<(&Box<str>, &usize)> = open.iter().collect();
            open.sort_by_key(|(_, frame)| **frame);
            for (key, frame) in open {
                missing.push(format!(
                    "{} for {}={key} (opened at frame #{frame})",
                    pair.close, pair.key
                ));
            }
        }
        stalls.sort();
        Summary {
            divergence: self.failure.clone(),
            missing,
            stall: stalls.into_iter().next(),
        }
    }

    /// What a group still needs, in words (first the very next event).
    fn remaining(&self, group: &Group) -> Vec<String> {
        match &self.engine {
            Engine::AnyOrder { steps } => steps
                .iter()
                .zip(&group.remaining)
                .filter(|(_, left)| **left > 0)
                .map(|((name, _), left)| {
                    if *left > 1 {
                        format!("{name} ×{left}")
                    } else {
                        name.clone()
                    }
                })
                .collect(),
            Engine::Automaton { automaton, .. } => {
                if automaton.chain {
                    let reached = if group.start && group.set.is_empty() {
                        None
                    } else {
                        group.set.iter().last()
                    };
                    let from = reached.map_or(0, |position| position + 1);
                    automaton.names[from..].to_vec()
                } else {
                    let mut next = BitSet::new(automaton.size());
                    // In order, the start stays active; once something matched, what counts is what follows it.
                    let from_start = group.start && group.set.is_empty();
                    automaton.next_into(from_start, &group.set, &mut next);
                    let mut names: Vec<String> =
                        next.iter().map(|position| automaton.names[position].clone()).collect();
                    names.sort();
                    names.dedup();
                    match names.len() {
                        0 => vec!["(nothing can complete it)".into()],
                        1 => names,
                        _ => vec![format!("one of {}", names.join(" | "))],
                    }
                }
            }
        }
    }
}

fn predicates(expectation: &Expectation, step: &Step) -> Vec<Value> {
    step.fields
        .iter()
        .cloned()
        .chain(
            expectation
                .matching
                .iter()
                .filter(|(t, _)| *t == step.event_type)
                .map(|(_, fields)| fields.clone()),
        )
        .collect()
}

fn automaton_engine(automaton: Automaton, predicates: Vec<Vec<Value>>) -> Engine {
    let mut masks: Vec<(String, BitSet)> = Vec::new();
    for (position, name) in automaton.names.iter().enumerate() {
        match masks.iter_mut().find(|(known, _)| known == name) {
            Some((_, mask)) => mask.insert(position),
            None => {
                let mut mask = BitSet::new(automaton.size());
                mask.insert(position);
                masks.push((name.clone(), mask));
            }
        }
    }
    let any_predicate = predicates.iter().any(|fields| !fields.is_empty());
    Engine::Automaton {
        automaton,
        masks,
        predicates,
        any_predicate,
    }
}

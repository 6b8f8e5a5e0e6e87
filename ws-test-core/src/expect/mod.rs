//! Event expectations: "did the user see the agent start, think, use its tool and finish, in that order, for
//! each run?" — one matcher for hand-written tests, `#[ws_test]` and the check suite.
//!
//! Build an [`Expectation`] with [`Expect::events`] or [`Expect::pattern`], refine it, then hand it to
//! `WsClient::expect`, which consumes frames as they arrive and returns as soon as
//! the expectation is met or can no longer be met; or check a list of JSON values with
//! [`Expectation::check`].
//!
//! # Modes, each with an example
//!
//! Order (one of them; [`in_order`](Expectation::in_order) is the default):
//!
//! ```
//! use ws_test_runtime::expect::Expect;
//! use ws_test_runtime::prelude::*;
//!
//! let frames = [json!({"type": "a"}), json!({"type": "x"}), json!({"type": "b"})];
//! // in order: these, in this order, other frames allowed between.
//! assert!(Expect::events(["a", "b"]).check(&frames).is_ok());
//! // strict: exactly these frames, nothing between or after.
//! assert!(Expect::events(["a", "b"]).strict().check(&frames).is_err());
//! // any order.
//! assert!(Expect::events(["b", "a"]).any_order().check(&frames).is_ok());
//! ```
//!
//! One sequence per run, several runs, interleaved:
//!
//! ```
//! # use ws_test_runtime::expect::Expect;
//! # use ws_test_runtime::prelude::*;
//! let frames = [
//!     json!({"type": "start", "run_id": "r1"}),
//!     json!({"type": "start", "run_id": "r2"}),
//!     json!({"type": "end", "run_id": "r2"}),
//!     json!({"type": "end", "run_id": "r1"}),
//! ];
//! assert!(Expect::events(["start", "end"]).per("run_id").times(2).check(&frames).is_ok());
//! ```
//!
//! Paired events, field subsets, forbidden and ignored types, a grammar:
//!
//! ```
//! # use ws_test_runtime::expect::{Expect, step};
//! # use ws_test_runtime::prelude::*;
//! let frames = [
//!     json!({"type": "agent_started", "agent_name": "Bot"}),
//!     json!({"type": "heartbeat"}),
//!     json!({"type": "tool_executing", "tool_call_id": "c1"}),
//!     json!({"type": "tool_completed", "tool_call_id": "c1", "result": {"status": "ok", "rows": 3}}),
//!     json!({"type": "agent_completed"}),
//! ];
//! let expectation = Expect::events([
//!     step("agent_started").matching(json!({"agent_name": "Bot"})),
//!     step("tool_executing"),
//!     step("tool_completed").matching(json!({"result": {"status": "ok"}})),
//!     step("agent_completed"),
//! ])
//! .strict()
//! .ignore("heartbeat")
//! .forbid("error")
//! .pair("tool_executing", "tool_completed", "tool_call_id");
//! let matched = expectation.check(&frames)?;
//! assert_eq!(matched.events()[2]["result"]["rows"], 3);
//!
//! let grammar = Expect::pattern("agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed")?;
//! assert!(grammar.ignore("heartbeat").check(&frames).is_ok());
//! # Ok::<(), ws_test_runtime::Error>(())
//! ```
//!
//! # What a failure looks like
//!
//! Every failure is an [`Error::Expectation`] whose message is a report: the expectation in one line, why
//! it failed, the received timeline with a marker at the first divergence, what was missing and what was not
//! expected. A missing event:
//!
//! ```text
//! expectation not met: events [agent_started, agent_thinking, tool_executing, tool_completed, agent_completed] in order
//! timed out after 5s
//!      #         ms  frame
//!      0      0.612  agent_started run_id=r1 seq=1
//!      1      0.617  tool_executing run_id=r1 tool_call_id=call-1 seq=2   <-- first divergence: expected agent_thinking
//!      2      0.620  tool_completed run_id=r1 tool_call_id=call-1 seq=3
//!      3      0.623  agent_completed run_id=r1 seq=4
//! missing: agent_thinking, tool_executing, tool_completed, agent_completed
//! not matched: #1 tool_executing, #2 tool_completed, #3 agent_completed
//! ```
//!
//! A wrong order in strict mode fails at once, at the frame that broke it:
//!
//! ```text
//! expectation not met: events [agent_started, agent_thinking, tool_executing, tool_completed, agent_completed] strictly, per run_id
//! frame #3 broke the order of run_id=r1: expected tool_executing, got tool_completed
//!      #         ms  frame
//!      0      0.512  agent_started run_id=r1 seq=1
//!      1      0.515  agent_thinking run_id=r1 seq=2
//!      2      0.518  tool_completed run_id=r1 tool_call_id=call-1 seq=3   <-- first divergence: expected tool_executing
//! missing: run_id=r1: tool_executing, tool_completed, agent_completed
//! ```
//!
//! The other kinds read the same way: `forbidden event "error" at frame #2`, `frame #4 has no "run_id"`,
//! `tool_completed at frame #3 closes tool_call_id=c9, which no tool_executing opened`, `tool_executing at frame
//! #5 opens tool_call_id=c1 again (already opened at frame #2)`, `frame #6 came after the expectation was
//! complete` (strict), and `the connection was closed (code 1011, reason "...")`.

#[cfg(feature = "fuzz")]
#[doc(hidden)]
pub mod hooks;
mod matcher;
mod pattern;
mod recording;
mod report;
#[cfg(test)]
mod tests;
mod verdict;

use std::fmt;
use std::time::Duration;

use serde_json::Value;

pub use matcher::Matched;
pub use matcher::{Matcher, Progress};
pub use verdict::{EndReason, ReportFrame};

use crate::{Error, Field, Result};

/// Entry points for building an [`Expectation`].
#[derive(Debug, Clone, Copy)]
pub struct Expect;

impl Expect {
    /// These event types, in this order (by default other frames may come between; see the modes).
    pub fn events<I>(steps: I) -> Expectation
    where
        I: IntoIterator,
        I::Item: Into<Step>,
    {
        Expectation::new(Sequence::Events(steps.into_iter().map(Into::into).collect()))
    }

    /// The order as a small regular grammar over event types: names separated by spaces, `*`, `+`, `?`, `|` and
    /// parentheses. A bad pattern is an [`Error::Pattern`] that points at the column.
    pub fn pattern(source: &str) -> Result<Expectation> {
        let node = pattern::parse(source).map_err(Error::Pattern)?;
        Ok(Expectation::new(Sequence::Pattern { node }))
    }
}

/// One expected event: its type and, optionally, a subset of its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    event_type: String,
    fields: Option<Value>,
}

/// A [`Step`] for this event type.
pub fn step(event_type: impl Into<String>) -> Step {
    Step {
        event_type: event_type.into(),
        fields: None,
    }
}

impl Step {
    /// The event type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// Requires these fields: only the listed fields are compared, nested objects by subset too, arrays
    /// element by element (same length).
    pub fn matching(mut self, fields: Value) -> Self {
        self.fields = Some(fields);
        self
    }
}

impl From<&str> for Step {
    fn from(event_type: &str) -> Self {
        step(event_type)
    }
}

impl From<String> for Step {
    fn from(event_type: String) -> Self {
        step(event_type)
    }
}

impl From<&&str> for Step {
    fn from(event_type: &&str) -> Self {
        step(*event_type)
    }
}

impl From<&String> for Step {
    fn from(event_type: &String) -> Self {
        step(event_type.as_str())
    }
}

/// How the expected events relate to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Exactly these frames, nothing between or after (after the client's cursor).
    Strict,
    /// These, in this order; other frames may come between.
    #[default]
    InOrder,
    /// These, in any order; other frames may come between.
    AnyOrder,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sequence {
    Events(Vec<Step>),
    Pattern { node: pattern::Node },
}

/// Every opener of type `open` must be closed by a later `close` with the same `key` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    pub(crate) open: String,
    pub(crate) close: String,
    pub(crate) key: Field,
}

/// What a test expects of the events it receives. Build it with [`Expect`].
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub(crate) sequence: Sequence,
    pub(crate) order: Order,
    /// The field that names an event; `None`: the client's (default `"type"`).
    pub(crate) event_key: Option<Field>,
    pub(crate) per: Option<Field>,
    pub(crate) times: Option<u32>,
    pub(crate) pairs: Vec<Pair>,
    pub(crate) matching: Vec<(String, Value)>,
    pub(crate) forbid: Vec<String>,
    pub(crate) ignore: Vec<String>,
    pub(crate) within: Option<Duration>,
    /// Every frame the expectation reads must pass this check (an AsyncAPI contract's, `conforming_to`).
    #[cfg(feature = "contract")]
    pub(crate) validator: Option<Validator>,
}

/// A check of every received frame an expectation reads (the AsyncAPI contract implements it): the expectation
/// module knows this, not the contract.
#[doc(hidden)]
#[cfg(feature = "contract")]
pub trait FrameCheck: std::fmt::Debug + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe {
    /// What the reports call it (the document's name).
    fn name(&self) -> &str;
    /// `Err` with why, in one line, when `frame` breaks it.
    fn check_received(&self, frame: &Value) -> std::result::Result<(), String>;
}

/// What [`Expectation::conforming_to`] takes: ws-test-runtime's AsyncAPI `Contract` (feature `contract`), by value
/// or by reference.
#[doc(hidden)]
#[cfg(feature = "contract")]
pub trait IntoFrameCheck {
    /// The check, shared by the expectation's clones.
    fn into_frame_check(self) -> std::sync::Arc<dyn FrameCheck>;
}

#[cfg(feature = "contract")]
impl Expectation {
    /// Every frame this expectation reads must be a message the contract lets the server send, its payload
    /// satisfying the message's schema (feature `contract`); the first that is not fails the expectation at
    /// once, its report naming the frame, the message and the JSON pointer. It takes a
    /// `ws_test_runtime::contract::Contract`, by value or by reference. `WsClient::conforms_to` checks the frames
    /// the client sent too.
    ///
    /// ```
    /// use ws_test_runtime::contract::Contract;
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), ws_test_runtime::Error> {
    /// let contract = Contract::from_asyncapi(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/asyncapi/chat.yaml"))?;
    /// let server = EmbeddedServer::start().await?;
    /// let mut client = server.connect().await?;
    /// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
    /// client.expect(Expect::events(ChatEvent::CRITICAL).per("run_id").conforming_to(&contract)).await?;
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn conforming_to(mut self, contract: impl IntoFrameCheck) -> Self {
        self.validator = Some(Validator(contract.into_frame_check()));
        self
    }
}

/// A shared check inside an expectation: equal when it is the same one.
#[doc(hidden)]
#[cfg(feature = "contract")]
#[derive(Debug, Clone)]
pub struct Validator(pub std::sync::Arc<dyn FrameCheck>);

#[cfg(feature = "contract")]
impl PartialEq for Validator {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Expectation {
    fn new(sequence: Sequence) -> Self {
        Expectation {
            sequence,
            order: Order::InOrder,
            event_key: None,
            per: None,
            times: None,
            pairs: Vec::new(),
            matching: Vec::new(),
            forbid: Vec::new(),
            ignore: Vec::new(),
            within: None,
            #[cfg(feature = "contract")]
            validator: None,
        }
    }

    /// Exactly these frames: nothing between them, nothing after them among the frames already received
    /// when the expectation completes. Ignored types do not count.
    pub fn strict(mut self) -> Self {
        self.order = Order::Strict;
        self
    }

    /// These, in this order, other frames allowed between (the default).
    pub fn in_order(mut self) -> Self {
        self.order = Order::InOrder;
        self
    }

    /// These, in any order (not with a pattern).
    pub fn any_order(mut self) -> Self {
        self.order = Order::AnyOrder;
        self
    }

    /// Sets the order mode.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// One sequence per distinct value of this JSON field (`"run_id"`, or a JSON pointer such as
    /// `"/params/subscription"`); groups may interleave, and every group that appears must complete.
    pub fn per(mut self, field: impl Into<Field>) -> Self {
        self.per = Some(field.into());
        self
    }

    /// The field that names an event: a key (`"method"`, `"event"`, `"t"`) or a JSON pointer (`"/data/kind"`);
    /// default `"type"`, or the client's (`ClientBuilder::event_key`). Frames
    /// without a string at this field are not events.
    ///
    /// ```
    /// use ws_test_runtime::prelude::*;
    ///
    /// let frames = [
    ///     json!({"jsonrpc": "2.0", "id": 1, "result": 9}),
    ///     json!({"jsonrpc": "2.0", "method": "ticks", "params": {"subscription": 9, "result": 0}}),
    ///     json!({"jsonrpc": "2.0", "method": "ticks", "params": {"subscription": 9, "result": 1}}),
    /// ];
    /// let ticks = Expect::events(["ticks", "ticks"]).strict().per("/params/subscription").event_key("method");
    /// assert!(ticks.check(&frames[1..]).is_ok());
    /// ```
    pub fn event_key(mut self, key: impl Into<Field>) -> Self {
        self.event_key = Some(key.into());
        self
    }

    /// This expectation with `key` as its event key unless it names its own (what a client with an event key
    /// does before matching).
    #[doc(hidden)]
    pub fn keyed_by(&self, key: &Field) -> std::borrow::Cow<'_, Expectation> {
        match &self.event_key {
            None if !key.is_type() => std::borrow::Cow::Owned(self.clone().event_key(key)),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The field that names an event here.
    pub(crate) fn key(&self) -> &Field {
        static TYPE: std::sync::OnceLock<Field> = std::sync::OnceLock::new();
        self.event_key
            .as_ref()
            .unwrap_or_else(|| TYPE.get_or_init(Field::type_key))
    }

    /// `n` complete sequences (with [`per`](Self::per): `n` distinct groups). A sequence ends as soon as it is
    /// complete.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Every `open` event must be closed by a later `close` event with the same value of `key`; a closer
    /// without an opener, an opener opened twice, or an opener left open fails.
    pub fn pair(mut self, open: impl Into<String>, close: impl Into<String>, key: impl Into<Field>) -> Self {
        self.pairs.push(Pair {
            open: open.into(),
            close: close.into(),
            key: key.into(),
        });
        self
    }

    /// Requires these fields on every expected event of this type (a subset match): what
    /// [`Step::matching`] does for one step, for all of a type at once — the way to match fields in a
    /// [`pattern`](Expect::pattern), which has no steps.
    pub fn matching_every(mut self, event_type: impl Into<String>, fields: Value) -> Self {
        self.matching.push((event_type.into(), fields));
        self
    }

    /// A type that must not appear: it fails the expectation at once.
    pub fn forbid(mut self, event_type: impl Into<String>) -> Self {
        self.forbid.push(event_type.into());
        self
    }

    /// Noise left out of matching (it counts neither as expected nor as unexpected).
    pub fn ignore(mut self, event_type: impl Into<String>) -> Self {
        self.ignore.push(event_type.into());
        self
    }

    /// The deadline of `WsClient::expect` (default: the client's receive timeout).
    pub fn within(mut self, deadline: Duration) -> Self {
        self.within = Some(deadline);
        self
    }

    /// The deadline set with [`within`](Self::within), if any (what the driver reads).
    #[doc(hidden)]
    pub fn deadline(&self) -> Option<Duration> {
        self.within
    }

    /// Checks a complete list of received JSON values (no waiting): the matched events, or the failure report.
    pub fn check(&self, frames: &[Value]) -> Result<Matched> {
        let matcher = feed_all(Matcher::new(self)?, frames);
        if matcher.progress() == Progress::Met {
            return Ok(matcher.matched(frames.iter().map(Some)));
        }
        // Only a failure needs the report's view of every frame.
        let report_frames: Vec<ReportFrame> = frames
            .iter()
            .enumerate()
            .map(|(index, value)| ReportFrame::from_value(index, None, value))
            .collect();
        matcher.conclude(EndReason::EndOfInput, &report_frames)
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sequence {
            Sequence::Events(steps) => {
                f.write_str("events [")?;
                for (i, step) in steps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&step.event_type)?;
                    if let Some(fields) = &step.fields {
                        write!(f, " {fields}")?;
                    }
                }
                f.write_str("]")?;
            }
            Sequence::Pattern { node } => write!(f, "pattern \"{node}\"")?,
        }
        f.write_str(match self.order {
            Order::Strict => " strictly",
            Order::InOrder => " in order",
            Order::AnyOrder => " in any order",
        })?;
        if let Some(field) = &self.per {
            write!(f, ", per {field}")?;
        }
        if let Some(n) = self.times {
            write!(f, ", {n} time(s)")?;
        }
        if let Some(key) = self.event_key.as_ref().filter(|key| !key.is_type()) {
            write!(f, ", named by {key}")?;
        }
        for pair in &self.pairs {
            write!(f, ", pair {} -> {} by {}", pair.open, pair.close, pair.key)?;
        }
        for (event_type, fields) in &self.matching {
            write!(f, ", {event_type} matching {fields}")?;
        }
        if !self.forbid.is_empty() {
            write!(f, ", forbid [{}]", self.forbid.join(", "))?;
        }
        if !self.ignore.is_empty() {
            write!(f, ", ignore [{}]", self.ignore.join(", "))?;
        }
        if let Some(within) = self.within {
            write!(f, ", within {within:?}")?;
        }
        #[cfg(feature = "contract")]
        if let Some(validator) = &self.validator {
            write!(f, ", conforming to {}", validator.0.name())?;
        }
        Ok(())
    }
}

/// Whether `actual` contains `expected`: objects by subset (recursively), arrays element by element with the
/// same length, everything else by equality.
pub fn subset_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => expected
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|actual| subset_matches(value, actual))),
        (Value::Array(expected), Value::Array(actual)) => {
            expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| subset_matches(e, a))
        }
        _ => expected == actual,
    }
}

/// Feeds a complete list to `matcher`: frames while it is pending, then (once met) the frames after, which strict
/// mode does not allow; it stops at the first failure.
fn feed_all<'e>(mut matcher: Matcher<'e>, frames: &[Value]) -> Matcher<'e> {
    for frame in frames {
        match matcher.progress() {
            Progress::Pending => {
                matcher.feed(frame);
            }
            Progress::Met => matcher.feed_after(frame),
            Progress::Failed => break,
        }
    }
    matcher
}

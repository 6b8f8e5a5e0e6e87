//! What a connection's reader records, and a [`Tap`] that watches it: the history, the close, and a signal on
//! every change. Expectations are evaluated here, so they work whether or not the [`WsClient`](super::WsClient)
//! itself is still around (a test body may take the client by value).

use std::borrow::Borrow;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::time::Instant;

use crate::error::Result;
use crate::expect::{EndReason, Expectation, Matched, Matcher, Progress, ReportFrame};
use crate::history::{Decoded, Direction, Frame, FrameKind, History};
use crate::message::{CloseInfo, Message};

/// The record of one connection, shared by its reader task, its client and any tap.
pub(crate) struct Recording {
    history: Mutex<History>,
    closed: Mutex<Option<CloseInfo>>,
    /// Counts changes (a frame, the close) and wakes whoever waits for the next one.
    changed: Signal,
    /// The cap on what received frames may hold, and what they hold now (payloads plus [`FRAME_OVERHEAD`]).
    max_bytes: usize,
    received_bytes: AtomicUsize,
    /// The connection's event key: expectations that name none use it.
    pub(crate) event_key: crate::Field,
    /// Turns each received binary frame into JSON ([`ClientBuilder::decode`](crate::ClientBuilder::decode)).
    decoder: Option<Decoder>,
}

/// A decoder of binary frames, with its error in words.
pub(crate) type Decoder = Arc<dyn Fn(&[u8]) -> std::result::Result<serde_json::Value, String> + Send + Sync>;

/// What a frame costs in the history beyond its payload, for the cap.
const FRAME_OVERHEAD: usize = std::mem::size_of::<Frame>();

impl Recording {
    pub(crate) fn new(max_bytes: usize, url: &str, event_key: crate::Field, decoder: Option<Decoder>) -> Arc<Self> {
        Arc::new(Recording {
            history: Mutex::new(History::new().with_url(url).with_event_key(event_key.clone())),
            event_key,
            decoder,
            closed: Mutex::new(None),
            changed: Signal::default(),
            max_bytes,
            received_bytes: AtomicUsize::new(0),
        })
    }

    /// Keeps the upgrade that opened the connection with the history (a HAR entry shows it).
    pub(crate) fn set_handshake(&self, handshake: crate::Handshake) {
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_handshake(handshake);
    }

    /// Records a received data frame unless it would take the received frames over the cap; the error is the
    /// sentence that says so.
    /// `decoded` is what the connection's protocol made of it; without a protocol, a binary frame goes through
    /// the decoder.
    pub(crate) fn record_within_cap(
        &self,
        kind: FrameKind,
        decoded: Option<Decoded>,
    ) -> std::result::Result<usize, String> {
        let cost = kind.payload_len() + FRAME_OVERHEAD;
        let held = self.received_bytes.load(Ordering::Relaxed);
        if held + cost > self.max_bytes {
            let frames = self.history().received().count();
            return Err(format!(
                "flooded: the server sent more than the client keeps — {frames} frame(s) received hold {held} \
                 byte(s), and the next of {} byte(s) would pass the cap of {} byte(s) \
                 (ClientBuilder::max_history_bytes); the client stopped reading",
                kind.payload_len(),
                self.max_bytes
            ));
        }
        self.received_bytes.store(held + cost, Ordering::Relaxed);
        // Decoded once, as it arrives, before anyone watching is woken.
        let decoded = match (&kind, &self.decoder) {
            _ if decoded.is_some() => decoded,
            (FrameKind::Binary(bytes), Some(decode)) => Some(match decode(bytes) {
                Ok(value) => Decoded::Json(value),
                Err(reason) => Decoded::Failed(reason),
            }),
            _ => None,
        };
        let index = {
            let mut history = self.history();
            let index = history.record(Direction::In, kind);
            if let Some(decoded) = decoded {
                history.set_decoded(index, decoded);
            }
            index
        };
        self.changed.bump();
        Ok(index)
    }

    pub(crate) fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a frame and wakes the watchers; returns its index.
    pub(crate) fn record(&self, direction: Direction, kind: FrameKind) -> usize {
        self.record_decoded(direction, kind, None)
    }

    /// Records a frame with what it meant to the connection's protocol, and wakes the watchers.
    pub(crate) fn record_decoded(&self, direction: Direction, kind: FrameKind, decoded: Option<Decoded>) -> usize {
        let index = {
            let mut history = self.history();
            let index = history.record(direction, kind);
            if let Some(decoded) = decoded {
                history.set_decoded(index, decoded);
            }
            index
        };
        self.changed.bump();
        index
    }

    /// Notes how the connection ended (the first close wins) and wakes the watchers.
    pub(crate) fn close(&self, close: CloseInfo) {
        self.closed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get_or_insert(close);
        self.changed.bump();
    }

    pub(crate) fn closed(&self) -> Option<CloseInfo> {
        self.closed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The client's one waiting loop: every receive, `expect_type`, `expect_closed` and `expect` (on a client or
    /// a tap) waits here. Each look reads the close first, then shows `see` every frame recorded from `from` on,
    /// then [`Seen::UpToDate`], then the close if it was there — so every frame recorded before the close is shown
    /// before it, whatever another thread's reader does meanwhile. Between looks it waits for the reader's next
    /// change, until `see` decides or the deadline passes (`None`: one look, no waiting). A reader that ends notes a
    /// close, so a wait on a connection that ended ends with [`Unseen::Closed`] (a reader aborted by a silent
    /// client's goodbye notes none, and its waits run to their deadline, as a silent peer's would).
    pub(crate) async fn watch<T: Send>(
        &self,
        from: usize,
        deadline: Option<Instant>,
        mut see: impl FnMut(Seen<'_>) -> Option<T> + Send,
    ) -> std::result::Result<T, Unseen> {
        let mut decided = None;
        self.watch_erased(from, deadline, &mut |seen| {
            decided = see(seen);
            decided.is_some()
        })
        .await?;
        decided.ok_or(Unseen::Gone)
    }

    /// [`watch`](Self::watch)'s loop, compiled once for every caller: `see` says whether it decided (and keeps
    /// what it decided itself).
    async fn watch_erased(
        &self,
        from: usize,
        deadline: Option<Instant>,
        see: &mut (dyn FnMut(Seen<'_>) -> bool + Send),
    ) -> std::result::Result<(), Unseen> {
        let mut next = from;
        // One timer for the whole wait, registered only if the first look does not decide.
        let mut sleep: Option<Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            // What changes after this point wakes the wait below, so nothing recorded during the look is missed.
            let seen = self.changed.version();
            // The close first: the reader records every frame before it notes the close, so when it is there, the
            // history scanned next holds everything that came before it.
            let closed = self.closed();
            seam::between_steps();
            {
                let history = self.history();
                for frame in history.frames().get(next..).unwrap_or_default() {
                    if see(Seen::Frame(frame)) {
                        return Ok(());
                    }
                }
                next = history.len();
            }
            if see(Seen::UpToDate) {
                return Ok(());
            }
            if let Some(close) = closed {
                return if see(Seen::Closed(&close)) {
                    Ok(())
                } else {
                    Err(Unseen::Closed(close))
                };
            }
            let Some(deadline) = deadline else {
                return Err(Unseen::NotWaiting);
            };
            let sleep = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            let changed = std::future::poll_fn(|cx| {
                if self.changed.poll_changed(seen, cx).is_ready() {
                    return Poll::Ready(true);
                }
                sleep.as_mut().poll(cx).map(|()| false)
            })
            .await;
            if !changed {
                return Err(Unseen::Timeout);
            }
        }
    }
}

/// A change counter that wakes its waiters: what the reader bumps on every frame and on the close, and every
/// wait of [`Recording::watch`] waits on. (A `tokio::sync::watch` did the same with many times the code run per
/// frame in a debug build.)
#[derive(Default)]
struct Signal {
    state: Mutex<SignalState>,
}

#[derive(Default)]
struct SignalState {
    version: u64,
    waiting: Vec<Waker>,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The number of changes so far.
    fn version(&self) -> u64 {
        self.lock().version
    }

    /// Counts a change and wakes everyone waiting for one.
    fn bump(&self) {
        let waiting = {
            let mut state = self.lock();
            state.version += 1;
            std::mem::take(&mut state.waiting)
        };
        for waker in waiting {
            waker.wake();
        }
    }

    /// Ready once the version is past `seen`; until then the task is woken by the next [`bump`](Self::bump).
    fn poll_changed(&self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.version != seen {
            return Poll::Ready(());
        }
        if !state.waiting.iter().any(|waiting| waiting.will_wake(cx.waker())) {
            state.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// What one look of [`Recording::watch`] shows its caller, in this order.
pub(crate) enum Seen<'a> {
    /// A recorded frame (either direction, control frames included), each once.
    Frame(&'a Frame),
    /// Every frame recorded so far was shown.
    UpToDate,
    /// The connection's close, after every frame recorded before it.
    Closed(&'a CloseInfo),
}

/// Why [`Recording::watch`] ended without its caller deciding.
pub(crate) enum Unseen {
    /// The connection closed, and the caller did not decide on it.
    Closed(CloseInfo),
    /// The deadline passed.
    Timeout,
    /// `see` said it decided but kept nothing. No caller in the crate does; a wait that met it would report the
    /// client gone rather than panic.
    Gone,
    /// One look was asked for, without waiting.
    NotWaiting,
}

/// Whether `frame` is a received text or binary frame.
/// A protocol's own frames (heartbeats, the handshake) are not data: no receive or expectation reads them.
pub(crate) fn is_data(frame: &Frame) -> bool {
    frame.direction == Direction::In
        && matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_))
        && !matches!(frame.decoded, Some(Decoded::Control(_)))
}

/// The data message of a received text or binary frame.
pub(crate) fn data_message(frame: &Frame) -> Option<Message> {
    if !is_data(frame) {
        return None;
    }
    match &frame.kind {
        FrameKind::Text(text) => Some(Message::Text(text.clone())),
        FrameKind::Binary(bytes) => Some(Message::Binary(bytes.clone())),
        _ => None,
    }
}

/// A received data frame as the matcher and the report see it, read in place (a text frame is parsed once).
fn report_frame(frame: &Frame) -> Option<ReportFrame> {
    if !is_data(frame) {
        return None;
    }
    Some(match (&frame.kind, &frame.decoded) {
        (_, Some(Decoded::Json(value))) => ReportFrame::from_value(frame.index, Some(frame.at), value),
        // A frame that did not decode is shown with the decoder's (or the protocol's) error and its first bytes.
        (_, Some(Decoded::Failed(_))) => ReportFrame::not_json(frame.index, Some(frame.at), frame.summary()),
        (FrameKind::Text(text), _) => ReportFrame::from_text(frame.index, Some(frame.at), text),
        (FrameKind::Binary(bytes), _) => {
            ReportFrame::from_message(frame.index, Some(frame.at), &Message::Binary(bytes.clone()))
        }
        _ => return None,
    })
}

/// A read-only view of a client's connection that stays valid after the client is gone.
///
/// [`WsClient::tap`](super::WsClient::tap) makes one; the `#[ws_test]` driver keeps one so it can check the
/// declared events even when the test body took the client by value. A tap reads like its client: it has a
/// cursor of its own, starting where the client's was when the tap was made, and a met
/// [`expect`](Self::expect) moves it past the frame that completed the match.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let mut client = server.connect().await?;
/// client.expect(&Expect::events(["connection_established"])).await?;
/// let mut tap = client.tap();
/// client.send_json(json!({"type": "echo", "payload": 1})).await?;
/// client.expect_type("echo").await?;
/// drop(client); // a test body may take its client away; the tap still sees what it received
/// tap.expect(&Expect::events(["echo"])).await?;
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone)]
pub struct Tap {
    recording: Arc<Recording>,
    cursor: usize,
    default_within: Duration,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("frames", &self.recording.history().len())
            .finish()
    }
}

/// The result of evaluating an expectation over a recording.
pub(crate) struct Outcome {
    pub(crate) result: Result<Matched>,
    /// On success: the history index after the last frame the expectation consumed.
    pub(crate) consumed_until: Option<usize>,
}

impl Tap {
    pub(crate) fn new(recording: Arc<Recording>, cursor: usize, default_within: Duration) -> Self {
        Tap {
            recording,
            cursor,
            default_within,
        }
    }

    /// A copy of every frame recorded so far.
    pub fn history(&self) -> History {
        self.recording.history().clone()
    }

    /// How the connection ended, if it did.
    pub fn close_info(&self) -> Option<CloseInfo> {
        self.recording.closed()
    }

    /// Waits until `expectation` is met over the frames received after the tap's cursor, or can no longer be,
    /// within the expectation's deadline (default: the client's receive timeout); met, the cursor moves past the
    /// frame that completed the match. Like [`WsClient::expect`](super::WsClient::expect), but on a tap, which
    /// outlives the client.
    pub async fn expect(&mut self, expectation: impl Borrow<Expectation>) -> Result<Matched> {
        let outcome = self
            .evaluate(self.cursor, expectation.borrow(), self.default_within)
            .await;
        if let Some(until) = outcome.consumed_until {
            self.cursor = until;
        }
        outcome.result
    }

    /// Evaluates `expectation` over the frames received so far, without waiting: met, or the report of why not.
    pub(crate) fn check_now(&self, expectation: &Expectation) -> Result<Matched> {
        let evaluation = self.evaluate_waiting(self.cursor, expectation, self.default_within, false);
        match evaluation.now_or_never() {
            Some(outcome) => outcome.result,
            // Without waiting, the evaluation never yields; this arm is never taken.
            None => Err(crate::Error::Config(
                "the expectation could not be checked without waiting".into(),
            )),
        }
    }

    pub(crate) async fn evaluate(&self, from: usize, expectation: &Expectation, default_within: Duration) -> Outcome {
        self.evaluate_waiting(from, expectation, default_within, true).await
    }

    /// Feeds the recorded frames to a matcher; with `wait`, waits for more until it is decided or the deadline;
    /// without, concludes on what is there (never yielding).
    async fn evaluate_waiting(
        &self,
        from: usize,
        expectation: &Expectation,
        default_within: Duration,
        wait: bool,
    ) -> Outcome {
        let expectation = &*expectation.keyed_by(&self.recording.event_key);
        let mut matcher = match Matcher::new(expectation) {
            Ok(matcher) => matcher,
            Err(error) => {
                return Outcome {
                    result: Err(error),
                    consumed_until: None,
                };
            }
        };
        let within = expectation.deadline().unwrap_or(default_within);
        let deadline = wait.then(|| Instant::now() + within);
        let mut frames: Vec<ReportFrame> = Vec::new();
        let mut fed = 0;
        let watched = self
            .recording
            .watch(from, deadline, |seen| match seen {
                Seen::Frame(frame) => {
                    if let Some(frame) = report_frame(frame) {
                        match matcher.progress() {
                            Progress::Pending => {
                                matcher.feed(&frame.fed_value());
                                fed += 1;
                            }
                            // Already received after the match: strict mode allows none.
                            Progress::Met => matcher.feed_after(&frame.fed_value()),
                            Progress::Failed => return None,
                        }
                        frames.push(frame);
                    }
                    None
                }
                // Decided once a whole look was fed: frames after a match in the same look still count.
                Seen::UpToDate => (matcher.progress() != Progress::Pending).then_some(EndReason::EndOfInput),
                Seen::Closed(close) => Some(EndReason::Closed(close.clone())),
            })
            .await;
        let end = match watched {
            Ok(end) => end,
            Err(Unseen::Closed(close)) => EndReason::Closed(close),
            Err(Unseen::Timeout) => EndReason::Timeout(within),
            Err(Unseen::Gone) => {
                EndReason::Closed(CloseInfo::new(crate::wire::close_code::ABNORMAL, "the client is gone"))
            }
            Err(Unseen::NotWaiting) => EndReason::Dropped,
        };
        let consumed_until = frames[..fed].last().map_or(from, |frame| frame.index + 1);
        if matcher.progress() == Progress::Met {
            return Outcome {
                result: Ok(matcher.into_matched(frames)),
                consumed_until: Some(consumed_until),
            };
        }
        Outcome {
            result: matcher.conclude(end, &frames),
            consumed_until: None,
        }
    }
}

/// A test's hook between the two steps of one look at a recording (reading the close and scanning the history),
/// where another thread's reader may record a frame and the close: the place of the race the one loop closes.
mod seam {
    #[cfg(test)]
    thread_local! {
        pub(super) static BETWEEN_STEPS: std::cell::RefCell<Option<Box<dyn FnMut()>>> =
            std::cell::RefCell::new(None);
    }

    /// Runs the test's hook once, if one is set (nothing outside the crate's own tests).
    #[inline(always)]
    pub(super) fn between_steps() {
        #[cfg(test)]
        BETWEEN_STEPS.with(|hook| {
            if let Some(mut hook) = hook.borrow_mut().take() {
                hook();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Recording, Tap, seam};
    use crate::expect::Expect;
    use crate::history::{Direction, FrameKind};
    use crate::message::CloseInfo;

    /// A reader on another thread records the awaited frame and then the close while a wait is between reading
    /// the close and scanning the history: the frame must be seen, the expectation met.
    #[tokio::test]
    async fn a_frame_recorded_with_the_close_between_two_steps_of_a_look_is_seen() {
        let recording = Recording::new(1 << 20, "ws://test/", crate::Field::type_key(), None);
        let reader = Arc::clone(&recording);
        seam::BETWEEN_STEPS.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move || {
                reader.record(Direction::In, FrameKind::Text(r#"{"type":"last"}"#.into()));
                reader.close(CloseInfo::new(1000, "done"));
            }));
        });
        let mut tap = Tap::new(Arc::clone(&recording), 0, Duration::from_secs(5));
        let met = tap.expect(Expect::events(["last"])).await;
        assert!(met.is_ok(), "{}", met.unwrap_err());
    }
}

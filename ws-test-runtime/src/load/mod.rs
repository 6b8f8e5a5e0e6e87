//! Load a server with your own traffic: a closure per iteration on a connected [`WsClient`], in a closed model
//! (N connections, M iterations each) or an open one (N iterations per second whatever the replies do), with the
//! latency of every reply by type in HDR histograms, errors by category, thresholds and runs merged across machines.
//! `ws-test bench` is built on it.
//!
//! ```
//! use std::time::Duration;
//!
//! use ws_test_runtime::load::{Load, Threshold};
//! use ws_test_runtime::prelude::*;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = EmbeddedServer::start().await?;
//! let report = Load::new(WsClient::builder(server.url()))
//!     .welcome("connection_established")
//!     .open(200.0, Duration::from_millis(500))
//!     .correlate("run_id")
//!     .run(async |client| {
//!         client.send_json(json!({"type": "chat_message", "content": "hi", "run_id": "r"})).await?;
//!         client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
//!         Ok(())
//!     })
//!     .await?;
//! assert_eq!(report.iterations(), 100);
//! let p99: Threshold = "agent_completed:p99<2s".parse()?;
//! assert!(p99.check(&report).passed, "{report}");
//! println!("{report}");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! # What is timed
//!
//! After each iteration its frames are read from the client's history (stamped as the reader took them off the
//! socket, so a busy load loop does not inflate them). Each server frame is tied to the client frame that
//! prompted it: the one carrying the same [`correlate`](Load::correlate) value, else the latest client frame
//! before it. The report then holds, by label:
//! - each received event type (`agent_completed`): from the client frame that prompted it;
//! - each sent type's `TYPE.reply` (its first reply), `TYPE.first` (the first server frame after it, whatever it
//!   answers) and `TYPE.last` (its last reply);
//! - `response`: every client frame to its last reply; `connect`: the handshakes (and the welcome) of the
//!   connections iterations opened; `iteration`: whole iterations.
//!
//! # Which frames count
//!
//! Every frame a connection receives after its connect, up to its close, is counted (`frames_received`) and
//! labelled by its event type; the connect's own (the handshake and, with [`welcome`](Load::welcome), the welcome
//! and whatever came before it) are not, they are `connect`'s. Each iteration takes what arrived since the one
//! before it on the same connection ended (the first, since the connect), and closing a connection counts what
//! came after its last. So a frame no iteration prompted (a greeting the load does not await, a push between
//! iterations) counts once whether it arrives before an iteration, inside one or after it; a frame that came
//! before its iteration started is timed from that start (0), one after the last from when the last ended. Shards
//! of a load merged report exactly the frames of one run of it, in both models, as long as every frame a
//! connection gets just for opening is awaited as its welcome (the open model opens as many connections as its
//! timing needs).
//!
//! In the open model an iteration that starts late (every connection busy, the machine saturated) is timed from
//! when it should have started: that lag is added to its `iteration`, its `connect`, and to what its first client
//! frame prompted, so a stalled server shows in the percentiles instead of slowing the load down (coordinated
//! omission).

mod attribute;
mod churn;
mod hdr_log;
mod report;
mod scenario;
mod threshold;

use std::cell::RefCell;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;
use tokio::time::Instant;

pub use churn::{Churn, ChurnReport};
pub use report::{Label, Report, Stats};
pub use scenario::Scenario;
pub use threshold::{Threshold, Verdict};

use attribute::Attribution;
use report::Group;

use crate::handler::BoxError;
use crate::{ClientBuilder, Error, Field, Result, WsClient};

/// What one iteration returns: `Ok(())`, or the error that failed it (any error converts with `?`).
pub type IterationResult = std::result::Result<(), BoxError>;

/// A pooled connection is retired (closed, a fresh one opened) once its history holds this many frames: the
/// history of a connection is kept whole, and a long open run would otherwise grow it without bound.
const RETIRE_AFTER_FRAMES: usize = 20_000;

/// The resolution of tokio's timers: the open model starts an iteration up to this early rather than late.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// How load is offered.
#[derive(Debug, Clone, Copy)]
enum Model {
    /// `connections` connections, each running `iterations` iterations one after the other.
    Closed { connections: usize, iterations: usize },
    /// `rate` iterations per second for `duration`, reaching the rate linearly over `ramp`, at most
    /// `max_connections` at once.
    Open {
        rate: f64,
        duration: Duration,
        ramp: Duration,
        max_connections: usize,
    },
}

/// What a progress callback sees, every [`on_progress`](Load::on_progress) interval.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Time since the load started.
    pub elapsed: Duration,
    /// Iterations finished so far.
    pub iterations: u64,
    /// Of which failed.
    pub failed: u64,
    /// Iterations per second over the last interval.
    pub rate: f64,
    /// The `response` p99 so far, when there is one.
    pub p99: Option<Duration>,
    /// Iterations running now.
    pub in_flight: usize,
}

type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// A load run: where to connect, how load is offered, how replies are tied to requests. See the
/// [module docs](self).
pub struct Load {
    builder: ClientBuilder,
    model: Model,
    attribution: Attribution,
    welcome: Option<String>,
    per_iteration: bool,
    max_handshakes: usize,
    iteration_timeout: Duration,
    shard: (u32, u32),
    noun: String,
    progress: Option<(Duration, ProgressFn)>,
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Load")
            .field("url", &self.builder.options.url)
            .field("model", &self.model)
            .field("attribution", &self.attribution)
            .field("welcome", &self.welcome)
            .field("per_iteration", &self.per_iteration)
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}

/// The category of error that failed an iteration, as reports count them.
fn kind_of(error: &BoxError) -> &'static str {
    error.downcast_ref::<Error>().map_or("other", error_category)
}

/// The category of error a report counts a failed iteration under: `timeout`, `closed`, `connect`, `unexpected`
/// (a frame that is not what was expected) or `other`.
pub fn error_category(error: &Error) -> &'static str {
    match error {
        Error::Timeout { .. } => "timeout",
        Error::Closed { .. } | Error::AlreadyClosed { .. } | Error::WebSocket(_) => "closed",
        Error::Connect { .. }
        | Error::InvalidUrl { .. }
        | Error::Rejected { .. }
        | Error::Subprotocol { .. }
        | Error::Handshake { .. }
        | Error::Tls { .. } => "connect",
        Error::Expectation(failure) => failure.ended_by().unwrap_or("unexpected"),
        Error::Unexpected { .. }
        | Error::NotJson { .. }
        | Error::UnknownEvent { .. }
        | Error::EventShape { .. }
        | Error::ErrorReply { .. } => "unexpected",
        _ => "other",
    }
}

/// When iteration `n` (from 0) should start: linearly up to `rate` over `ramp`, then at `rate`.
fn schedule(n: u64, rate: f64, ramp: Duration) -> Duration {
    let n = n as f64;
    let ramp_s = ramp.as_secs_f64();
    // Iterations started during the ramp: the area under the rising rate.
    let in_ramp = rate * ramp_s / 2.0;
    let seconds = if n < in_ramp {
        (2.0 * n * ramp_s / rate).sqrt()
    } else {
        ramp_s + (n - in_ramp) / rate
    };
    Duration::from_secs_f64(seconds)
}

/// A connection of the load and how far its frames are counted: every frame it receives after its connect (the
/// handshake and, with [`Load::welcome`], the welcome and what came before it) belongs to an iteration, each taking
/// what arrived since the one before it ended, and the last frames (up to the close) to the connection's end.
struct Connection {
    client: WsClient,
    /// The history index the next iteration counts from.
    counted: usize,
    /// When, on the connection's clock, the last iteration ended (what arrives after is timed from it).
    idle_since: Duration,
}

/// What the iterations share while they run: one task polls them all, so a `RefCell` is enough.
struct State {
    report: Report,
    in_flight: usize,
    last_tick: (Instant, u64),
}

impl Load {
    /// A load on the server `builder` connects to (its timeouts, TLS, token, event key and decoder apply to every
    /// connection). By default: one connection running one iteration (closed model).
    pub fn new(builder: ClientBuilder) -> Load {
        let key = builder.options.event_key.clone();
        Load {
            builder,
            model: Model::Closed {
                connections: 1,
                iterations: 1,
            },
            attribution: Attribution { key, correlate: None },
            welcome: None,
            per_iteration: false,
            max_handshakes: 1000,
            iteration_timeout: crate::timeout::scaled(crate::timeout::LOAD) * 6,
            shard: (1, 1),
            noun: "iterations".to_owned(),
            progress: None,
        }
    }

    /// The closed model: `connections` connections at once, each running `iterations` iterations one after the
    /// other (the next starts when the last one ends, so a slow server slows the load).
    pub fn closed(mut self, connections: usize, iterations: usize) -> Load {
        self.model = Model::Closed {
            connections,
            iterations,
        };
        self
    }

    /// The open model: `per_second` iterations start every second for `duration`, whatever the replies do
    /// (each on an idle connection, or a new one). Latencies are measured from each iteration's intended start.
    pub fn open(mut self, per_second: f64, duration: Duration) -> Load {
        let (ramp, max_connections) = match self.model {
            Model::Open {
                ramp, max_connections, ..
            } => (ramp, max_connections),
            Model::Closed { .. } => (Duration::ZERO, 10_000),
        };
        self.model = Model::Open {
            rate: per_second,
            duration,
            ramp,
            max_connections,
        };
        self
    }

    /// Open model: reaches the rate linearly over `ramp` (the run still lasts its duration).
    pub fn ramp(mut self, ramp: Duration) -> Load {
        if let Model::Open { ramp: r, .. } = &mut self.model {
            *r = ramp;
        }
        self
    }

    /// Open model: at most `n` iterations (and so connections) at once (default 10,000). An iteration that finds
    /// them all busy waits, and its lag counts in its latencies.
    pub fn max_connections(mut self, n: usize) -> Load {
        if let Model::Open { max_connections, .. } = &mut self.model {
            *max_connections = n.max(1);
        }
        self
    }

    /// Ties replies to requests by this field or JSON pointer (`id`, `run_id`, `/params/id`): a server frame
    /// answers the client frame with the same value.
    pub fn correlate(mut self, field: impl Into<Field>) -> Load {
        self.attribution.correlate = Some(field.into());
        self
    }

    /// Every new connection waits for this event (by the client's event key) before its first iteration, and
    /// the wait counts in `connect`.
    pub fn welcome(mut self, event: impl Into<String>) -> Load {
        self.welcome = Some(event.into());
        self
    }

    /// Each iteration opens its own connection and closes it at its end (default: connections are reused; a
    /// connection whose iteration failed or that the server closed is replaced).
    pub fn connection_per_iteration(mut self, yes: bool) -> Load {
        self.per_iteration = yes;
        self
    }

    /// Closed model: at most `n` connections in their handshake at once while they are opened (default 1,000).
    pub fn max_handshakes(mut self, n: usize) -> Load {
        self.max_handshakes = n.max(1);
        self
    }

    /// How long one iteration may take in all (default 60 s, scaled by `WS_TEST_TIMEOUT_SCALE`); its waits are
    /// bounded by the client's own timeouts too.
    pub fn iteration_timeout(mut self, within: Duration) -> Load {
        self.iteration_timeout = within;
        self
    }

    /// Runs share `k` of `n` (from 1): every `n`th connection of the closed model, every `n`th start of the open
    /// model's schedule, so `n` shards together offer exactly the load of one run, and their reports
    /// [merge](Report::merge) into its figures.
    pub fn shard(mut self, k: u32, n: u32) -> Load {
        self.shard = (k, n);
        self
    }

    /// What the report calls an iteration (`rounds`, `sessions`).
    pub fn noun(mut self, noun: impl Into<String>) -> Load {
        self.noun = noun.into();
        self
    }

    /// Calls `report` every `every` with the figures so far (a progress line).
    pub fn on_progress(mut self, every: Duration, report: impl FnMut(&Progress) + Send + 'static) -> Load {
        self.progress = Some((every.max(Duration::from_millis(10)), Box::new(report)));
        self
    }

    /// Runs the load and returns its figures. Failed iterations are counted in the report, not returned; the
    /// error is for a load that cannot run: a bad shard, or a server that cannot be reached at all (the first
    /// connection fails).
    pub async fn run<F>(mut self, iteration: F) -> Result<Report>
    where
        F: AsyncFn(&mut WsClient) -> IterationResult,
    {
        let (k, n) = self.shard;
        if n == 0 || k == 0 || k > n {
            return Err(Error::Config(format!("shard {k}/{n}: K must be from 1 to N")));
        }
        let started = Instant::now();
        let state = RefCell::new(State {
            report: Report::new(),
            in_flight: 0,
            last_tick: (started, 0),
        });
        let mut progress = self.progress.take();
        match self.model {
            Model::Closed {
                connections,
                iterations,
            } => {
                self.run_closed(&iteration, &state, connections, iterations, &mut progress)
                    .await?
            }
            Model::Open {
                rate,
                duration,
                ramp,
                max_connections,
            } => {
                self.run_open(
                    &iteration,
                    &state,
                    (rate, duration, ramp, max_connections),
                    &mut progress,
                )
                .await?
            }
        }
        let mut report = state.into_inner().report.with_noun(self.noun.clone());
        report.set_elapsed(started.elapsed());
        Ok(report)
    }

    /// Pipelined rounds in the closed model: on each connection, rounds of one request frame and the replies that
    /// answer it, with up to `depth` rounds in flight (the next request goes out as soon as a round ends), each
    /// connection running its [`closed`](Self::closed) number of rounds. `request(id)` is the frame a round
    /// sends, `id` unique across the run and its [shards](Self::shard) (put it where [`correlate`](Self::correlate)
    /// finds it, so each reply is timed from its own request); `ended(reply)` says whether a reply ends a round
    /// (`Ok(true)`), belongs to one (`Ok(false)`), or fails the connection (`Err(sentence)`: its unfinished rounds
    /// fail with it). What `ws-test bench --workload chat|echo --pipeline N` runs.
    ///
    /// ```
    /// use ws_test_runtime::load::Load;
    /// use ws_test_runtime::prelude::*;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = EmbeddedServer::start().await?;
    /// let report = Load::new(WsClient::builder(server.url()))
    ///     .welcome("connection_established")
    ///     .closed(2, 20)
    ///     .correlate("payload")
    ///     .run_pipelined(
    ///         8,
    ///         |id| json!({"type": "echo", "payload": format!("p{id}")}),
    ///         |reply| Ok(reply["type"] == "echo"),
    ///     )
    ///     .await?;
    /// assert_eq!((report.iterations(), report.failed()), (40, 0));
    /// assert!(report.find("echo").is_some(), "{report}");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn run_pipelined<R, E>(mut self, depth: usize, request: R, ended: E) -> Result<Report>
    where
        R: Fn(u64) -> Value,
        E: Fn(&Value) -> std::result::Result<bool, String>,
    {
        let Model::Closed {
            connections,
            iterations,
        } = self.model
        else {
            return Err(Error::Config(
                "pipelined rounds run in the closed model (Load::closed): the open model starts every iteration \
                 on its own schedule"
                    .into(),
            ));
        };
        if depth == 0 {
            return Err(Error::Config(
                "a pipeline of 0 rounds in flight sends nothing: give at least 1".into(),
            ));
        }
        let (k, n) = self.shard;
        if n == 0 || k == 0 || k > n {
            return Err(Error::Config(format!("shard {k}/{n}: K must be from 1 to N")));
        }
        let started = Instant::now();
        let state = RefCell::new(State {
            report: Report::new(),
            in_flight: 0,
            last_tick: (started, 0),
        });
        let mut progress = self.progress.take();
        let mine = (k as usize - 1..connections).step_by(n as usize).count();
        let opened = self.open_all(mine, &state).await?;
        let rounds_started = Instant::now();
        state.borrow_mut().last_tick = (rounds_started, 0);
        // Ids unique across shards: shard K of N takes K, K + N, K + 2N, ...
        let next_id = std::cell::Cell::new(0u64);
        let id = || {
            let count = next_id.get();
            next_id.set(count + 1);
            count * u64::from(n) + u64::from(k)
        };
        let (request, ended, id) = (&request, &ended, &id);
        let (this, state_ref) = (&self, &state);
        let users = opened.into_iter().map(|mut connection| async move {
            let (mut sent, mut done) = (0usize, 0usize);
            let mut failure: Option<(&'static str, String)> = None;
            'rounds: while done < iterations {
                while sent < iterations && sent - done < depth {
                    if let Err(error) = connection.client.feed_json(request(id())).await {
                        failure = Some((error_category(&error), error.to_string()));
                        break 'rounds;
                    }
                    sent += 1;
                    state_ref.borrow_mut().in_flight += 1;
                }
                let outcome = match connection.client.recv_json().await {
                    Ok(reply) => ended(&reply).map_err(|sentence| ("unexpected", sentence)),
                    Err(error) => Err((error_category(&error), error.to_string())),
                };
                match outcome {
                    Ok(true) => {
                        done += 1;
                        let mut state = state_ref.borrow_mut();
                        state.in_flight -= 1;
                        state.report.count_passed();
                    }
                    Ok(false) => {}
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            {
                let mut state = state_ref.borrow_mut();
                state.in_flight -= sent - done;
                // The connection's unfinished rounds all failed with its error.
                if let Some((category, message)) = failure {
                    for _ in 0..iterations.saturating_sub(done).max(1) {
                        state.report.count_failed(category, message.clone());
                    }
                }
            }
            // Every frame after the connect, timed from the request that prompted it.
            this.retire(connection, state_ref).await;
        });
        {
            let all = futures_util::future::join_all(users);
            tokio::pin!(all);
            let every = progress.as_ref().map_or(Duration::from_secs(3600), |(every, _)| *every);
            let mut ticker = tokio::time::interval_at(rounds_started + every, every);
            loop {
                tokio::select! {
                    _ = &mut all => break,
                    _ = ticker.tick() => self.tick(&state, rounds_started, &mut progress),
                }
            }
        }
        let mut report = state.into_inner().report.with_noun(self.noun.clone());
        report.set_elapsed(rounds_started.elapsed());
        Ok(report)
    }

    /// The connections of the closed model, opened first (at most [`max_handshakes`](Self::max_handshakes) at
    /// once: a burst of ten thousand would overflow a server's listen backlog), their connects recorded; one
    /// that cannot be opened stops the run.
    async fn open_all(&self, count: usize, state: &RefCell<State>) -> Result<Vec<Connection>> {
        let opened: Vec<Result<(Connection, Duration)>> =
            futures_util::stream::iter((0..count).map(|_| self.open_connection()))
                .buffered(self.max_handshakes)
                .collect()
                .await;
        let mut state = state.borrow_mut();
        let mut connections = Vec::with_capacity(count);
        for outcome in opened {
            let (connection, took) = outcome?;
            state.report.record(Label::CONNECT, Group::Connect, took);
            connections.push(connection);
        }
        Ok(connections)
    }

    /// A new connection, its welcome awaited; and how long that took.
    async fn open_connection(&self) -> Result<(Connection, Duration)> {
        let started = Instant::now();
        let mut client = self.builder.clone().connect().await?;
        if let Some(welcome) = &self.welcome {
            client.expect_type(welcome).await?;
        }
        let took = started.elapsed();
        // What the connect read (the welcome and anything before it) is the connect's, whenever it came.
        let counted = client.cursor();
        let idle_since = Instant::now().saturating_duration_since(client.lock_history().started());
        Ok((
            Connection {
                client,
                counted,
                idle_since,
            },
            took,
        ))
    }

    /// Closes a connection (its close handshake awaited) and counts what arrived after its last iteration, so a
    /// frame the server sent before its close counts whether it came during an iteration or after it.
    async fn retire(&self, connection: Connection, state: &RefCell<State>) {
        let Connection {
            client,
            counted,
            idle_since,
        } = connection;
        let recording = client.recording();
        client.finish().await;
        let history = recording.history();
        let rest = history.frames().get(counted..).unwrap_or_default();
        let mut state = state.borrow_mut();
        let (sent, received) = self
            .attribution
            .record(rest, idle_since, Duration::ZERO, &mut state.report);
        state.report.count_frames(sent, received);
    }

    /// One iteration on `client` (or a new connection); the client back when it can serve another.
    async fn one<F>(
        &self,
        iteration: &F,
        state: &RefCell<State>,
        connection: Option<Connection>,
        intended: Option<Instant>,
    ) -> Option<Connection>
    where
        F: AsyncFn(&mut WsClient) -> IterationResult,
    {
        let started = Instant::now();
        let lag = intended
            .map(|intended| started.saturating_duration_since(intended))
            .unwrap_or_default();
        state.borrow_mut().in_flight += 1;
        let (mut connection, connect) = match connection {
            Some(mut connection) => {
                // A reused connection: the iteration reads what arrives from its start, not a late frame of the
                // iteration before (which it still counts: see Connection).
                connection.client.watch_from_now();
                (connection, None)
            }
            None => match self.open_connection().await {
                Ok((connection, took)) => (connection, Some(took)),
                Err(error) => {
                    let mut state = state.borrow_mut();
                    state.in_flight -= 1;
                    let error: BoxError = Box::new(error);
                    state.report.count_iteration(Some((kind_of(&error), error.to_string())));
                    return None;
                }
            },
        };
        let client = &mut connection.client;
        let outcome = tokio::time::timeout(self.iteration_timeout, iteration(client)).await;
        let ended = Instant::now();
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some((kind_of(&error), error.to_string())),
            Err(_) => Some((
                "timeout",
                format!(
                    "the iteration took longer than {:?} (Load::iteration_timeout)",
                    self.iteration_timeout
                ),
            )),
        };
        let failed = error.is_some();
        let retire = {
            let history = connection.client.lock_history();
            let mut state = state.borrow_mut();
            state.in_flight -= 1;
            let report = &mut state.report;
            let start = started.saturating_duration_since(history.started());
            let frames = history.frames().get(connection.counted..).unwrap_or_default();
            let (sent, received) = self.attribution.record(frames, start, lag, report);
            report.count_frames(sent, received);
            connection.counted = history.len();
            connection.idle_since = ended.saturating_duration_since(history.started());
            if let Some(took) = connect {
                report.record(Label::CONNECT, Group::Connect, took + lag);
            }
            report.record(Label::ITERATION, Group::Iteration, ended - intended.unwrap_or(started));
            report.count_iteration(error);
            history.len() > RETIRE_AFTER_FRAMES
        };
        if failed || self.per_iteration || retire || connection.client.close_info().is_some() {
            self.retire(connection, state).await;
            None
        } else {
            Some(connection)
        }
    }

    fn tick(&self, state: &RefCell<State>, started: Instant, progress: &mut Option<(Duration, ProgressFn)>) {
        let Some((_, report)) = progress else { return };
        let mut state = state.borrow_mut();
        let now = Instant::now();
        let (last, done_then) = state.last_tick;
        let done = state.report.iterations();
        let seconds = now.saturating_duration_since(last).as_secs_f64().max(f64::EPSILON);
        state.last_tick = (now, done);
        report(&Progress {
            elapsed: now - started,
            iterations: done,
            failed: state.report.failed(),
            rate: (done - done_then) as f64 / seconds,
            p99: state.report.find(Label::RESPONSE).map(|stats| stats.quantile(0.99)),
            in_flight: state.in_flight,
        });
    }

    async fn run_closed<F>(
        &self,
        iteration: &F,
        state: &RefCell<State>,
        connections: usize,
        iterations: usize,
        progress: &mut Option<(Duration, ProgressFn)>,
    ) -> Result<()>
    where
        F: AsyncFn(&mut WsClient) -> IterationResult,
    {
        let (k, n) = self.shard;
        let mine = (k as usize - 1..connections).step_by(n as usize).count();
        if mine == 0 || iterations == 0 {
            return Ok(());
        }
        // The connections first (at most max_handshakes at once: a burst of ten thousand would overflow a
        // server's listen backlog), unless each iteration opens its own; one that cannot be opened stops the run.
        let mut clients: Vec<Option<Connection>> = Vec::with_capacity(mine);
        if self.per_iteration {
            // Only a probe that the server can be reached: it runs no iteration, so nothing of it is counted.
            let (probe, _) = self.open_connection().await?;
            probe.client.finish().await;
            clients.resize_with(mine, || None);
        } else {
            clients.extend(self.open_all(mine, state).await?.into_iter().map(Some));
        }
        let started = Instant::now();
        state.borrow_mut().last_tick = (started, 0);
        let users = clients.into_iter().map(|mut client| async move {
            for _ in 0..iterations {
                client = self.one(iteration, state, client.take(), None).await;
            }
            if let Some(connection) = client {
                self.retire(connection, state).await;
            }
        });
        let all = futures_util::future::join_all(users);
        tokio::pin!(all);
        let every = progress.as_ref().map_or(Duration::from_secs(3600), |(every, _)| *every);
        let mut ticker = tokio::time::interval_at(started + every, every);
        loop {
            tokio::select! {
                _ = &mut all => break,
                _ = ticker.tick() => self.tick(state, started, progress),
            }
        }
        Ok(())
    }

    async fn run_open<F>(
        &self,
        iteration: &F,
        state: &RefCell<State>,
        (rate, duration, ramp, max_connections): (f64, Duration, Duration, usize),
        progress: &mut Option<(Duration, ProgressFn)>,
    ) -> Result<()>
    where
        F: AsyncFn(&mut WsClient) -> IterationResult,
    {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Error::Config(format!("an open load needs a positive rate, not {rate}")));
        }
        let (k, n) = self.shard;
        // The server must be reachable at all; this connection serves the first iteration.
        let (first, took) = self.open_connection().await?;
        let mut pool = if self.per_iteration {
            first.client.finish().await;
            Vec::new()
        } else {
            state.borrow_mut().report.record(Label::CONNECT, Group::Connect, took);
            vec![first]
        };
        let started = Instant::now();
        state.borrow_mut().last_tick = (started, 0);
        let every = progress.as_ref().map_or(Duration::from_secs(3600), |(every, _)| *every);
        let mut ticker = tokio::time::interval_at(started + every, every);
        let mut in_flight = FuturesUnordered::new();
        let mut slot = u64::from(k - 1);
        loop {
            let offset = schedule(slot, rate, ramp);
            if offset >= duration {
                break;
            }
            let intended = started + offset;
            // tokio's timers tick in milliseconds: an iteration due within the next one starts now, so a
            // timer's rounding is not counted as lag.
            let due = intended.checked_sub(TIMER_RESOLUTION).unwrap_or(intended);
            loop {
                // One reading of the clock decides both whether to wait and what for. Read twice, `due` could pass
                // between the readings with nothing in flight: every branch but the progress ticker (an hour
                // without `on_progress`) would be off, and the run would hang.
                let early = Instant::now() < due;
                if !early && in_flight.len() < max_connections {
                    break;
                }
                tokio::select! {
                    biased;
                    Some(client) = in_flight.next(), if !in_flight.is_empty() => pool.extend(client),
                    () = tokio::time::sleep_until(due), if early => {}
                    _ = ticker.tick() => self.tick(state, started, progress),
                }
            }
            in_flight.push(self.one(iteration, state, pool.pop(), Some(intended)));
            slot += u64::from(n);
        }
        // What is still running gets its own timeout to finish.
        let last = Instant::now() + self.iteration_timeout;
        while !in_flight.is_empty() {
            tokio::select! {
                client = in_flight.next() => pool.extend(client.flatten()),
                _ = ticker.tick() => self.tick(state, started, progress),
                () = tokio::time::sleep_until(last) => break,
            }
        }
        let unfinished = in_flight.len();
        drop(in_flight);
        {
            let mut state = state.borrow_mut();
            for _ in 0..unfinished {
                state.report.count_iteration(Some((
                    "timeout",
                    "still running when the run ended (Load::iteration_timeout after its duration)".to_owned(),
                )));
            }
        }
        futures_util::future::join_all(pool.into_iter().map(|connection| self.retire(connection, state))).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_ramps_then_holds_the_rate() {
        // 100/s without a ramp: iteration 50 at 0.5 s.
        assert_eq!(schedule(50, 100.0, Duration::ZERO), Duration::from_millis(500));
        // A 2 s ramp to 100/s starts 100 iterations during the ramp, then 100/s.
        let ramp = Duration::from_secs(2);
        assert_eq!(schedule(0, 100.0, ramp), Duration::ZERO);
        assert!((schedule(100, 100.0, ramp).as_secs_f64() - 2.0).abs() < 1e-9);
        assert!((schedule(200, 100.0, ramp).as_secs_f64() - 3.0).abs() < 1e-9);
        // Half the ramp's iterations come in its last 30% (the rate rises).
        assert!(schedule(50, 100.0, ramp) > Duration::from_millis(1400));
    }
}

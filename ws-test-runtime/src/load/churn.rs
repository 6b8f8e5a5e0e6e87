//! Reconnect storms: sessions dropped all at once (a deploy, a load balancer) and reconnecting with jittered
//! backoff, or closed and reopened at a steady rate; how long until they are back, and what failed meanwhile.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::error_category;
use super::report::Stats;
use crate::{ClientBuilder, Error, LinkControl, Result, WsClient};

/// How a [`Churn`] drops its sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Storm {
    /// Every session reset at once; each reconnects with jittered exponential backoff.
    AllAtOnce,
    /// `rate` sessions per second closed and reopened, for `duration`.
    Rate { rate: f64, duration: Duration },
}

/// A reconnect storm against a server: `sessions` connections opened, then dropped, and the time until they are
/// back measured. What `ws-test bench --churn` runs.
///
/// ```
/// use std::time::Duration;
///
/// use ws_test_runtime::load::Churn;
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let report = Churn::new(WsClient::builder(server.url()), 20)
///     .welcome("connection_established")
///     .backoff(Duration::from_millis(10), Duration::from_millis(200))
///     .run()
///     .await?;
/// assert_eq!(report.back, 20, "{report}");
/// assert!(report.all_back_after.is_some());
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct Churn {
    builder: ClientBuilder,
    sessions: usize,
    storm: Storm,
    welcome: Option<String>,
    backoff: (Duration, Duration),
    give_up: Duration,
    seed: u64,
}

/// What a reconnect storm measured.
#[derive(Debug, Clone)]
pub struct ChurnReport {
    /// Sessions the storm started with.
    pub sessions: usize,
    /// Whether every session was dropped at once (else at a rate).
    pub all_at_once: bool,
    /// Sessions dropped (all of them at once, or every close of the rate mode).
    pub dropped: u64,
    /// Sessions back (reconnected, welcome received) by the end.
    pub back: u64,
    /// From the drop to the last session back, when every one came back (the all-at-once storm).
    pub all_back_after: Option<Duration>,
    /// Each session's time from its drop to being back.
    pub reconnect: Stats,
    /// Connection attempts made to get back, failed ones included.
    pub attempts: u64,
    /// Failed attempts by category (`connect`, `timeout`, `closed`, ...).
    pub failures: BTreeMap<String, u64>,
    /// The first few failures, in words.
    pub failure_samples: Vec<String>,
    /// How long the storm took.
    pub elapsed: Duration,
}

impl std::fmt::Display for ChurnReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        writeln!(
            f,
            "churn       {} sessions, {} dropped, {} back",
            self.sessions, self.dropped, self.back
        )?;
        match self.all_back_after {
            Some(after) => writeln!(f, "all back    after {:.1} ms", ms(after))?,
            None if self.all_at_once => writeln!(f, "all back    never, within the time given")?,
            None => {}
        }
        if self.reconnect.count > 0 {
            writeln!(
                f,
                "reconnect   p50 {:.1} ms   p90 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
                ms(self.reconnect.quantile(0.5)),
                ms(self.reconnect.quantile(0.9)),
                ms(self.reconnect.quantile(0.99)),
                ms(self.reconnect.max())
            )?;
        }
        let failed: u64 = self.failures.values().sum();
        write!(f, "attempts    {} ({} failed", self.attempts, failed)?;
        for (category, count) in &self.failures {
            write!(f, ", {category} {count}")?;
        }
        writeln!(f, ")")?;
        for sample in &self.failure_samples {
            writeln!(f, "            {sample}")?;
        }
        Ok(())
    }
}

/// At most this many failures are kept in words.
const SAMPLES: usize = 5;

struct Tally {
    back: u64,
    attempts: u64,
    reconnect: Stats,
    failures: BTreeMap<String, u64>,
    samples: Vec<String>,
}

impl Tally {
    fn failed(&mut self, error: &Error) {
        *self.failures.entry(error_category(error).to_owned()).or_default() += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(error.to_string());
        }
    }
}

impl Churn {
    /// A storm of `sessions` connections made by `builder` (its timeouts, TLS, token apply), all dropped at once
    /// by default, reconnecting with backoff from 50 ms up to 2 s, given 60 s to come back.
    pub fn new(builder: ClientBuilder, sessions: usize) -> Churn {
        Churn {
            builder,
            sessions,
            storm: Storm::AllAtOnce,
            welcome: None,
            backoff: (Duration::from_millis(50), Duration::from_secs(2)),
            give_up: Duration::from_secs(60),
            seed: 0,
        }
    }

    /// Every session is reset at once (a deploy, a load balancer): the default.
    pub fn all_at_once(mut self) -> Churn {
        self.storm = Storm::AllAtOnce;
        self
    }

    /// Instead of all at once: `per_second` sessions closed and reopened every second, for `duration`, each
    /// reopened at once.
    pub fn rate(mut self, per_second: f64, duration: Duration) -> Churn {
        self.storm = Storm::Rate {
            rate: per_second,
            duration,
        };
        self
    }

    /// A session is back once this event arrived (the server's welcome).
    pub fn welcome(mut self, event: impl Into<String>) -> Churn {
        self.welcome = Some(event.into());
        self
    }

    /// The reconnect backoff: a random wait from 0 to `initial`, doubling after each failed attempt up to `max`
    /// ("full jitter", so reconnects spread instead of arriving in waves).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Churn {
        self.backoff = (initial, max.max(initial));
        self
    }

    /// How long the sessions are given to come back (default 60 s).
    pub fn give_up_after(mut self, within: Duration) -> Churn {
        self.give_up = within;
        self
    }

    /// The seed of the backoff's draws (default 0): the same seed, the same waits.
    pub fn seed(mut self, seed: u64) -> Churn {
        self.seed = seed;
        self
    }

    /// Opens the sessions, drops them, and measures them coming back. The error is for a storm that cannot start:
    /// a session of the first round that cannot connect.
    pub async fn run(self) -> Result<ChurnReport> {
        if self.sessions == 0 {
            return Err(Error::Config(
                "a churn of 0 sessions measures nothing: give at least 1".into(),
            ));
        }
        if let Storm::Rate { rate, .. } = self.storm {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::Config(format!(
                    "a churn rate must be a positive number per second, not {rate}"
                )));
            }
        }
        let link = LinkControl::new(crate::Link::new());
        let builder = self.builder.clone().link(&link);
        let mut clients = Vec::with_capacity(self.sessions);
        for _ in 0..self.sessions {
            clients.push(self.connect_once(&builder).await?);
        }
        let tally = RefCell::new(Tally {
            back: 0,
            attempts: 0,
            reconnect: Stats::new(),
            failures: BTreeMap::new(),
            samples: Vec::new(),
        });
        let rng = RefCell::new(self.seed ^ 0x2545_f491_4f6c_dd1d);
        let started = Instant::now();
        let (dropped, all_back_after) = match self.storm {
            Storm::AllAtOnce => {
                link.cut();
                // Every client sees its connection end before the link lets new ones through.
                for client in &mut clients {
                    let _ = client.expect_closed(1006).within(Duration::from_secs(5)).await;
                }
                drop(clients);
                link.heal();
                let dropped_at = Instant::now();
                let back = futures_util::future::join_all(
                    (0..self.sessions).map(|_| self.come_back(&builder, dropped_at, &tally, &rng)),
                )
                .await;
                let all = back.iter().all(Option::is_some);
                let last = back.iter().flatten().map(|(took, _)| *took).max();
                drop(back);
                (self.sessions as u64, all.then(|| last.unwrap_or_default()))
            }
            Storm::Rate { rate, duration } => {
                let every = Duration::from_secs_f64(1.0 / rate);
                let mut dropped = 0u64;
                let mut next = Instant::now();
                let mut at = 0;
                while started.elapsed() < duration {
                    tokio::time::sleep_until(next).await;
                    next += every;
                    let closed = clients[at].close(1000, "churn").await;
                    if let Err(error) = closed {
                        tally.borrow_mut().failed(&error);
                    }
                    dropped += 1;
                    let dropped_at = Instant::now();
                    if let Some(client) = self.reconnect(&builder, dropped_at, &tally, &rng, false).await {
                        clients[at] = client;
                    }
                    at = (at + 1) % clients.len();
                }
                (dropped, None)
            }
        };
        let tally = tally.into_inner();
        Ok(ChurnReport {
            sessions: self.sessions,
            all_at_once: self.storm == Storm::AllAtOnce,
            dropped,
            back: tally.back,
            all_back_after,
            reconnect: tally.reconnect,
            attempts: tally.attempts,
            failures: tally.failures,
            failure_samples: tally.samples,
            elapsed: started.elapsed(),
        })
    }

    async fn connect_once(&self, builder: &ClientBuilder) -> Result<WsClient> {
        let mut client = builder.clone().connect().await?;
        if let Some(welcome) = &self.welcome {
            client.expect_type(welcome).await?;
        }
        Ok(client)
    }

    /// One session coming back after a drop: how long it took and the session (held until every one is back,
    /// as real clients stay, so the server carries them all at once), or `None` when it did not within the time
    /// given.
    async fn come_back(
        &self,
        builder: &ClientBuilder,
        dropped_at: Instant,
        tally: &RefCell<Tally>,
        rng: &RefCell<u64>,
    ) -> Option<(Duration, WsClient)> {
        let client = self.reconnect(builder, dropped_at, tally, rng, true).await?;
        Some((dropped_at.elapsed(), client))
    }

    /// Reconnects with jittered exponential backoff until back or out of time; the first attempt waits its
    /// share of the backoff only when `spread` (a storm of every session at once), else goes at once.
    async fn reconnect(
        &self,
        builder: &ClientBuilder,
        dropped_at: Instant,
        tally: &RefCell<Tally>,
        rng: &RefCell<u64>,
        spread: bool,
    ) -> Option<WsClient> {
        let (initial, max) = self.backoff;
        let mut ceiling = initial;
        let mut first = true;
        loop {
            let wait = if first && !spread {
                Duration::ZERO
            } else {
                ceiling.mul_f64(draw(rng))
            };
            first = false;
            if dropped_at.elapsed() + wait >= self.give_up {
                return None;
            }
            tokio::time::sleep(wait).await;
            tally.borrow_mut().attempts += 1;
            match self.connect_once(builder).await {
                Ok(client) => {
                    let mut tally = tally.borrow_mut();
                    tally.back += 1;
                    tally.reconnect.add(dropped_at.elapsed());
                    return Some(client);
                }
                Err(error) => tally.borrow_mut().failed(&error),
            }
            ceiling = (ceiling * 2).min(max);
        }
    }
}

/// A draw in [0, 1) (xorshift64*).
fn draw(rng: &RefCell<u64>) -> f64 {
    let mut state = rng.borrow_mut();
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

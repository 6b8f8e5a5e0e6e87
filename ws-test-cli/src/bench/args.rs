//! The arguments of `ws-test bench` and `ws-test bench merge`, and their parsers.

use std::path::PathBuf;
use std::time::Duration;

use ws_test_runtime::Field;
use ws_test_runtime::load::Threshold;

/// What one round of `--workload` sends and waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Workload {
    /// A chat message, answered by the five critical events.
    Chat,
    /// An echo message, answered by the same payload.
    Echo,
}

impl Workload {
    pub(super) fn name(self) -> &'static str {
        match self {
            Workload::Chat => "chat",
            Workload::Echo => "echo",
        }
    }

    /// The field a round's replies carry from its message.
    pub(super) fn correlate(self) -> Field {
        Field::new(match self {
            Workload::Chat => "run_id",
            Workload::Echo => "payload",
        })
    }
}

/// `--ramp`: a number of handshakes at once (closed model), or how long the open model takes to reach its rate.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ramp {
    Handshakes(usize),
    Over(Duration),
}

pub(super) fn ramp(text: &str) -> Result<Ramp, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("--ramp takes at least 1 handshake at once".to_owned()),
        Ok(n) => Ok(Ramp::Handshakes(n)),
        Err(_) => crate::duration(text)
            .map(Ramp::Over)
            .map_err(|_| format!("{text:?} is neither a number of handshakes at once (1000) nor a duration (10s)")),
    }
}

/// `--churn all` or `--churn N` (sessions per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ChurnMode {
    AllAtOnce,
    Rate(f64),
}

impl Args {
    /// How long the open model or a churn rate runs.
    pub(super) fn duration(&self) -> Duration {
        self.duration.unwrap_or(Duration::from_secs(10))
    }
}

pub(super) fn churn(text: &str) -> Result<ChurnMode, String> {
    match text.trim() {
        "all" => Ok(ChurnMode::AllAtOnce),
        rate => match rate.parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(ChurnMode::Rate(rate)),
            _ => Err(format!(
                "{text:?} is neither `all` (every session dropped at once) nor a rate of sessions per second (50)"
            )),
        },
    }
}

/// `--shard K/N`.
pub(super) fn shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a shard K/N with 1 <= K <= N (1/4, 2/4, ...)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

pub(super) fn threshold(text: &str) -> Result<Threshold, String> {
    text.parse().map_err(|error: ws_test_runtime::Error| error.to_string())
}

pub(super) fn speed(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed >= 0.0 => Ok(speed),
        _ => Err(format!(
            "{text:?} is not a speed (1 as recorded, 2 twice as fast, 0 no pauses)"
        )),
    }
}

/// Arguments of `ws-test bench`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(super) merge: Option<Merge>,
    /// The server's WebSocket URL; without it, the embedded server is benched in-process.
    pub(super) url: Option<String>,
    /// Closed model: how many connections run at once. Open model (--rate): at most this many iterations at once
    /// [default: 100 closed, 10000 open].
    #[arg(long)]
    pub(super) connections: Option<usize>,
    /// Closed model: how many iterations (rounds, scenario sessions) each connection runs, one after the other.
    #[arg(long, default_value_t = 10, conflicts_with = "rate")]
    pub(super) rounds: usize,
    /// What a round is, without --scenario.
    #[arg(long, value_enum, default_value = "chat", conflicts_with = "scenario")]
    pub(super) workload: Workload,
    /// Plays this recording (a `ws-test record` transcript, or a HAR file a browser saved) on every connection: its
    /// client frames sent again, its server frames awaited by their event key, its pauses kept (see --speed). A
    /// URL without a path takes the recording's path and query; the recording's subprotocol is offered.
    #[arg(long, value_name = "FILE")]
    pub(super) scenario: Option<PathBuf>,
    /// With --scenario of a HAR file holding several WebSockets: which one, by its index in `log.entries`, its URL,
    /// or a part of its URL only it has.
    #[arg(long, value_name = "URL_OR_INDEX", requires = "scenario")]
    pub(super) entry: Option<String>,
    /// The field (or JSON pointer) that names events: `method` for JSON-RPC, `event`, `/data/kind` [with
    /// --protocol: the protocol's, unless given].
    #[arg(long, value_name = "FIELD", default_value = "type")]
    pub(super) event_key: String,
    /// Every connection speaks this protocol kit (`socket.io`, `graphql-transport-ws`, `jsonrpc`), and the
    /// scenario is read through it: the events it decodes are sent again and awaited; its handshake and
    /// heartbeats are each connection's own.
    #[arg(long, value_name = "NAME", requires = "scenario")]
    pub(super) protocol: Option<String>,
    /// Scales the recording's pauses between client frames: 2 twice as fast, 0 none.
    #[arg(long, default_value = "1", value_parser = speed, requires = "scenario")]
    pub(super) speed: f64,
    /// Ties replies to requests by this field or JSON pointer (`id`, `/params/id`) when timing them; without it,
    /// a server frame answers the latest client frame before it.
    #[arg(long, value_name = "FIELD")]
    pub(super) correlate: Option<String>,
    /// A reconnect storm instead of rounds: `all` drops every one of --connections sessions at once (a deploy, a
    /// load balancer) and measures them coming back with jittered backoff; `N` closes and reopens N sessions per
    /// second for --duration. Exit 1 when a session did not come back.
    #[arg(long, value_name = "all|PER_SECOND", value_parser = churn,
          conflicts_with_all = ["scenario", "rate", "thresholds", "shard", "hdr_out"])]
    pub(super) churn: Option<ChurnMode>,
    /// The open model: start this many iterations per second, whatever the replies do.
    #[arg(long, value_name = "N")]
    pub(super) rate: Option<f64>,
    /// The open model, or a --churn rate: for how long [default: 10s].
    #[arg(long, value_parser = crate::duration)]
    pub(super) duration: Option<Duration>,
    /// Closed model: how many connections may be in their handshake at once while ramping up [default: 1000].
    /// Open model: how long to take to reach --rate (10s).
    #[arg(long, value_parser = ramp)]
    pub(super) ramp: Option<Ramp>,
    /// Closed --workload rounds: how many rounds each connection keeps in flight (the next message goes out as soon
    /// as a round completes).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..),
          conflicts_with_all = ["rate", "scenario"])]
    pub(super) pipeline: u32,
    /// The server's token.
    #[arg(long)]
    pub(super) token: Option<String>,
    /// How long a connection or one reply may take [default: 10s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_parser = crate::duration)]
    pub(super) timeout: Option<Duration>,
    /// A condition the run must meet: `p99<50ms`, `errors<0.1%`, `agent_completed:p99<200ms`,
    /// `throughput>1000` (repeatable). Exit 1 when any fails.
    #[arg(long = "threshold", value_name = "COND", value_parser = threshold)]
    pub(super) thresholds: Vec<Threshold>,
    /// Runs share K of N: every Nth connection (closed model) or start (open model), from the Kth.
    #[arg(long, value_name = "K/N", value_parser = shard)]
    pub(super) shard: Option<(u32, u32)>,
    /// Writes the histograms and counts to FILE (HdrHistogram's interval log) for `ws-test bench merge`.
    #[arg(long, value_name = "FILE")]
    pub(super) hdr_out: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) trust: crate::tls::Trust,
}

/// `ws-test bench merge`.
#[derive(Debug, clap::Subcommand)]
pub(super) enum Merge {
    /// Adds up the histogram files of several runs (`--hdr-out` of each shard) and checks the thresholds over the
    /// whole.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct MergeArgs {
    /// The files `ws-test bench --hdr-out` wrote.
    #[arg(required = true)]
    pub(super) files: Vec<PathBuf>,
    /// A condition the merged run must meet (as for `ws-test bench`).
    #[arg(long = "threshold", value_name = "COND", value_parser = threshold)]
    pub(super) thresholds: Vec<Threshold>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(super) json: bool,
}

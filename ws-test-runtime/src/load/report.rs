//! What a load run measured: latencies by label in HDR histograms, iterations, errors by category, throughput; printed
//! as a table, as JSON, and written to (and merged from) HdrHistogram's own interval-log format.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// The names of what a report times besides event types.
#[derive(Debug)]
pub struct Label;

impl Label {
    /// Every client frame, to the last server frame it prompted: the response time (a threshold without a label).
    pub const RESPONSE: &'static str = "response";
    /// The WebSocket handshake of a connection an iteration opened (and its welcome, when one is awaited).
    pub const CONNECT: &'static str = "connect";
    /// A whole iteration, from its intended start (open model) or its start (closed model) to its end.
    pub const ITERATION: &'static str = "iteration";
}

/// Which part of the table a label belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Group {
    Response,
    Sent,
    Received,
    Connect,
    Iteration,
}

impl Group {
    pub(super) fn name(self) -> &'static str {
        match self {
            Group::Response => "response",
            Group::Sent => "sent",
            Group::Received => "received",
            Group::Connect => "connect",
            Group::Iteration => "iteration",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Group> {
        Some(match text {
            "response" => Group::Response,
            "sent" => Group::Sent,
            "received" => Group::Received,
            "connect" => Group::Connect,
            "iteration" => Group::Iteration,
            _ => return None,
        })
    }
}

/// The latencies of one label, in microseconds.
#[derive(Debug, Clone)]
pub struct Stats {
    /// How many samples.
    pub count: u64,
    pub(crate) histogram: Histogram<u64>,
}

/// Values from 1 µs to an hour, 3 significant digits.
pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

impl Stats {
    pub(super) fn new() -> Stats {
        Stats {
            count: 0,
            histogram: histogram(),
        }
    }

    /// Adds one latency.
    pub(super) fn add(&mut self, latency: Duration) {
        self.count += 1;
        self.histogram.saturating_record((latency.as_micros() as u64).max(1));
    }

    /// The latency at quantile `q` (0.99 for p99; 1.0 for the maximum).
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.histogram.value_at_quantile(q))
    }

    /// The largest latency.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.histogram.max())
    }

    /// The mean latency.
    pub fn mean(&self) -> Duration {
        Duration::from_secs_f64(self.histogram.mean() / 1_000_000.0)
    }

    fn json(&self) -> Value {
        let h = &self.histogram;
        json!({
            "count": self.count,
            "p50": h.value_at_quantile(0.5),
            "p90": h.value_at_quantile(0.9),
            "p99": h.value_at_quantile(0.99),
            "p99_9": h.value_at_quantile(0.999),
            "max": h.max(),
            "mean": (h.mean() * 10.0).round() / 10.0,
        })
    }
}

/// Microseconds in the unit a person reads best.
pub(crate) fn show_micros(micros: f64) -> String {
    if micros >= 1_000_000.0 {
        format!("{:.2} s", micros / 1_000_000.0)
    } else if micros >= 1_000.0 {
        format!("{:.2} ms", micros / 1_000.0)
    } else {
        format!("{micros:.0} µs")
    }
}

/// How many error messages a report keeps as examples.
pub(super) const SAMPLES: usize = 5;

/// The figures of a load run (or of several merged): see the [module docs](super).
#[derive(Debug, Clone)]
pub struct Report {
    pub(super) labels: Vec<(String, Group, Stats)>,
    pub(super) index: HashMap<String, usize>,
    pub(super) iterations: u64,
    pub(super) failed: u64,
    pub(super) errors: BTreeMap<String, u64>,
    pub(super) samples: Vec<String>,
    pub(super) elapsed: Duration,
    pub(super) frames_sent: u64,
    pub(super) frames_received: u64,
    pub(super) runs: u32,
    pub(super) noun: String,
}

impl Default for Report {
    fn default() -> Self {
        Report::new()
    }
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report {
            labels: Vec::new(),
            index: HashMap::new(),
            iterations: 0,
            failed: 0,
            errors: BTreeMap::new(),
            samples: Vec::new(),
            elapsed: Duration::ZERO,
            frames_sent: 0,
            frames_received: 0,
            runs: 1,
            noun: "iterations".to_owned(),
        }
    }

    /// What the table calls an iteration (`rounds` for `ws-test bench --workload`).
    pub fn with_noun(mut self, noun: impl Into<String>) -> Report {
        self.noun = noun.into();
        self
    }

    pub(crate) fn record(&mut self, label: &str, group: Group, latency: Duration) {
        let at = match self.index.get(label) {
            Some(&at) => at,
            None => {
                self.labels.push((label.to_owned(), group, Stats::new()));
                self.index.insert(label.to_owned(), self.labels.len() - 1);
                self.labels.len() - 1
            }
        };
        self.labels[at].2.add(latency);
    }

    /// Records one latency under `label`: `connect` and `iteration` go to their rows, anything else is shown
    /// with the received types.
    pub fn record_latency(&mut self, label: &str, latency: Duration) {
        let group = match label {
            Label::CONNECT => Group::Connect,
            Label::ITERATION => Group::Iteration,
            Label::RESPONSE => Group::Response,
            _ => Group::Received,
        };
        self.record(label, group, latency);
    }

    /// Counts an iteration that passed.
    pub fn count_passed(&mut self) {
        self.count_iteration(None);
    }

    /// Counts an iteration that failed, with the category of error (`connect`, `timeout`, `closed`, `unexpected`,
    /// `other`, or your own) and its message (the first few are kept).
    pub fn count_failed(&mut self, category: &str, message: impl Into<String>) {
        self.iterations += 1;
        self.failed += 1;
        *self.errors.entry(category.to_owned()).or_default() += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(format!("{category}: {}", message.into()));
        }
    }

    /// Sets how long the run took (throughput is iterations over it).
    pub fn set_elapsed(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    /// Counts one iteration, failed with `error` (its category: `connect`, `timeout`, `closed`, `unexpected`,
    /// `other`) or not.
    pub(crate) fn count_iteration(&mut self, error: Option<(&'static str, String)>) {
        match error {
            Some((category, message)) => self.count_failed(category, message),
            None => self.iterations += 1,
        }
    }

    pub(crate) fn count_frames(&mut self, sent: u64, received: u64) {
        self.frames_sent += sent;
        self.frames_received += received;
    }

    /// The latencies of a label: `response`, `connect`, `iteration`, a received event type (`agent_completed`),
    /// or a sent type and its stage (`chat_message.reply`, `chat_message.first`, `chat_message.last`). A bare sent
    /// type (`chat_message`) that is not also a received type means its `.last`.
    pub fn find(&self, label: &str) -> Option<&Stats> {
        let at = self
            .index
            .get(label)
            .or_else(|| self.index.get(&format!("{label}.last")))?;
        Some(&self.labels[*at].2)
    }

    /// Every label with its latencies, in the table's order: the response, sent types, received types, connect,
    /// iteration.
    pub fn latencies(&self) -> impl Iterator<Item = (&str, &Stats)> {
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by_key(|&at| (self.labels[at].1, at));
        order
            .into_iter()
            .map(|at| (self.labels[at].0.as_str(), &self.labels[at].2))
    }

    /// How many iterations ran (passed or failed).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// How many iterations failed.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Failed iterations by kind of error.
    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    /// The first few errors, in words, prefixed by their kind.
    pub fn error_samples(&self) -> &[String] {
        &self.samples
    }

    /// How long the run took (the longest of merged runs).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Data frames sent and received by every iteration.
    pub fn frames(&self) -> (u64, u64) {
        (self.frames_sent, self.frames_received)
    }

    /// Iterations per second over the run.
    pub fn iterations_per_second(&self) -> f64 {
        self.iterations as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// How many runs this report holds (1, or the number of shards merged).
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// Adds another run's figures (a shard of the same load): counts add up, histograms merge, the elapsed time
    /// is the longest.
    pub fn merge(&mut self, other: &Report) {
        for (label, group, stats) in &other.labels {
            let at = match self.index.get(label) {
                Some(&at) => at,
                None => {
                    self.labels.push((label.clone(), *group, Stats::new()));
                    self.index.insert(label.clone(), self.labels.len() - 1);
                    self.labels.len() - 1
                }
            };
            let mine = &mut self.labels[at].2;
            mine.count += stats.count;
            // Same bounds on both sides: the addition cannot fall outside them.
            let _ = mine.histogram.add(&stats.histogram);
        }
        self.iterations += other.iterations;
        self.failed += other.failed;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += count;
        }
        for sample in &other.samples {
            if self.samples.len() < SAMPLES {
                self.samples.push(sample.clone());
            }
        }
        self.elapsed = self.elapsed.max(other.elapsed);
        self.frames_sent += other.frames_sent;
        self.frames_received += other.frames_received;
        self.runs += other.runs;
    }

    /// Every figure as JSON: `iterations`, `errors` (failed iterations), `errors_by_kind`, `error_samples`,
    /// `elapsed_ms`, `iterations_per_second`, `frames_sent`, `frames_received`, `runs`, and
    /// `latency_by_label_us`: each label's `count`, `p50`, `p90`, `p99`, `p99_9`, `max`, `mean` in microseconds.
    pub fn to_json(&self) -> Value {
        let latency: serde_json::Map<String, Value> = self
            .latencies()
            .map(|(label, stats)| (label.to_owned(), stats.json()))
            .collect();
        json!({
            "iterations": self.iterations,
            "errors": self.failed,
            "errors_by_kind": self.errors,
            "error_samples": self.samples,
            "elapsed_ms": self.elapsed.as_secs_f64() * 1000.0,
            "iterations_per_second": self.iterations_per_second(),
            "frames_sent": self.frames_sent,
            "frames_received": self.frames_received,
            "runs": self.runs,
            "latency_by_label_us": latency,
        })
    }
}

impl fmt::Display for Report {
    /// The figures as `ws-test bench` prints them: throughput, the response latency, errors, then a table of every
    /// label's percentiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64().max(f64::EPSILON);
        writeln!(
            f,
            "throughput  {} {} in {:.1} ms: {:.0} {}/s, {:.0} server frames/s",
            self.iterations,
            self.noun,
            seconds * 1000.0,
            self.iterations_per_second(),
            self.noun,
            self.frames_received as f64 / seconds
        )?;
        match self.find(Label::RESPONSE) {
            Some(stats) => {
                let h = &stats.histogram;
                writeln!(
                    f,
                    "latency     p50 {} µs  p90 {} µs  p99 {} µs  p99.9 {} µs  max {} µs",
                    h.value_at_quantile(0.5),
                    h.value_at_quantile(0.9),
                    h.value_at_quantile(0.99),
                    h.value_at_quantile(0.999),
                    h.max()
                )?;
            }
            None => writeln!(f, "latency     no replies measured")?,
        }
        write!(f, "errors      {}", self.failed)?;
        if self.failed > 0 {
            let share = self.failed as f64 * 100.0 / self.iterations.max(1) as f64;
            let kinds: Vec<String> = self.errors.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
            write!(f, " ({share:.2}% of {}: {})", self.noun, kinds.join(", "))?;
        }
        writeln!(f)?;
        if self.labels.is_empty() {
            return Ok(());
        }
        let width = self
            .labels
            .iter()
            .map(|(label, ..)| label.chars().count())
            .max()
            .unwrap_or(0)
            .max(24);
        writeln!(
            f,
            "{:<width$}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}",
            "latency by label", "count", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for (label, stats) in self.latencies() {
            let h = &stats.histogram;
            let q = |q: f64| show_micros(h.value_at_quantile(q) as f64);
            writeln!(
                f,
                "  {:<w$}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}",
                label,
                stats.count,
                q(0.5),
                q(0.9),
                q(0.99),
                q(0.999),
                show_micros(h.max() as f64),
                w = width - 2
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(iterations: u64, base: u64) -> Report {
        let mut report = Report::new();
        for n in 0..iterations {
            report.record("response", Group::Response, Duration::from_micros(base + n));
            report.record("odd, label %", Group::Received, Duration::from_micros(base * 2 + n));
            report.count_iteration((n % 10 == 0).then(|| ("timeout", format!("iteration {n}"))));
        }
        report.count_frames(iterations, 2 * iterations);
        report.set_elapsed(Duration::from_millis(100 + base));
        report
    }

    #[test]
    fn a_written_log_reads_back_and_merges_to_the_same_counts() {
        let (a, b) = (sample(100, 1000), sample(50, 3000));
        let mut bytes = Vec::new();
        a.write_hdr_log(&mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Tag=odd%2C%20label%20%25,"), "{text}");
        let back = Report::from_hdr_log(&text, "a.hdr").unwrap();
        assert_eq!(back.iterations(), 100);
        assert_eq!(back.failed(), 10);
        assert_eq!(back.errors()["timeout"], 10);
        assert_eq!(back.find("odd, label %").unwrap().count, 100);
        assert_eq!(back.find("response").unwrap().max(), a.find("response").unwrap().max());
        let mut merged = back;
        merged.merge(&b);
        assert_eq!((merged.iterations(), merged.failed(), merged.runs()), (150, 15, 2));
        assert_eq!(merged.find("response").unwrap().count, 150);
        assert_eq!(merged.frames(), (150, 300));
        assert_eq!(merged.elapsed(), Duration::from_millis(3100));
    }

    #[test]
    fn a_file_that_is_not_a_log_is_an_error_naming_it() {
        let error = Report::from_hdr_log("hello\n", "x.hdr").unwrap_err().to_string();
        assert!(error.contains("x.hdr") && error.contains("#ws-test"), "{error}");
    }
}

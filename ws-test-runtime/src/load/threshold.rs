//! Pass/fail conditions over a [`Report`]: `p99<50ms`, `errors<0.1%`, `agent_completed:p99<200ms`.

use std::fmt;
use std::str::FromStr;

use super::report::{Label, Report, show_micros};

/// One condition a load run must meet, parsed from `[LABEL:]METRIC OP VALUE`.
///
/// - `METRIC` is a latency (`p50`, `p90`, `p95`, `p99`, `p99.9`, `max`, `mean`, `min`) compared with a duration
///   (`250us`, `50ms`, `1.5s`); `errors`, compared with a share of the iterations (`0.1%`) or a count (`5`); or
///   `throughput`, iterations per second (`1000`, `1000/s`).
/// - `OP` is `<`, `<=`, `>` or `>=`.
/// - `LABEL` (latencies only) names what is timed: a received event type (`agent_completed`: from the client
///   frame that prompted it), a sent type and its stage (`chat_message.reply`, `.first`, `.last`), `connect`,
///   `iteration`, or `response` (the default: every client frame to the last frame it prompted).
///
/// ```
/// use ws_test_runtime::load::Threshold;
///
/// let threshold: Threshold = "agent_completed:p99<200ms".parse()?;
/// assert_eq!(threshold.to_string(), "agent_completed:p99<200ms");
/// assert!("p99<fast".parse::<Threshold>().is_err());
/// # Ok::<(), ws_test_runtime::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    text: String,
    metric: Metric,
    op: Op,
    value: f64,
    percent: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Metric {
    /// A quantile (0..=1), or `max` (1.0), `min` (0.0), `mean` (`None`), of a label's latencies.
    Latency {
        label: String,
        quantile: Option<f64>,
    },
    Errors,
    Throughput,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Op {
    fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Less => measured < limit,
            Op::LessOrEqual => measured <= limit,
            Op::Greater => measured > limit,
            Op::GreaterOrEqual => measured >= limit,
        }
    }
}

/// What a threshold measured and whether it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The threshold as written.
    pub threshold: String,
    /// What was measured, in the threshold's unit (`12.3 ms`, `0.05%`, `980/s`), or why nothing was.
    pub measured: String,
    /// Whether the threshold held.
    pub passed: bool,
}

fn invalid(text: &str, reason: impl fmt::Display) -> crate::Error {
    crate::Error::Config(format!(
        "threshold {text:?}: {reason} (write it as [LABEL:]METRIC<VALUE, e.g. p99<50ms, errors<0.1%, \
         agent_completed:p99<200ms, throughput>1000)"
    ))
}

/// `50ms`, `250us`, `1.5s`, `2m` as microseconds.
fn parse_micros(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        "m" | "min" => 60_000_000.0,
        _ => return None,
    };
    Some(number * scale)
}

impl FromStr for Threshold {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Threshold, crate::Error> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let at = compact
            .find(['<', '>'])
            .ok_or_else(|| invalid(text, "no comparison (<, <=, > or >=)"))?;
        let (left, rest) = compact.split_at(at);
        let (op, right) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
            (b'<', Some(b'=')) => (Op::LessOrEqual, &rest[2..]),
            (b'<', _) => (Op::Less, &rest[1..]),
            (b'>', Some(b'=')) => (Op::GreaterOrEqual, &rest[2..]),
            _ => (Op::Greater, &rest[1..]),
        };
        let (label, metric) = match left.rfind(':') {
            Some(colon) => (Some(&left[..colon]), &left[colon + 1..]),
            None => (None, left),
        };
        let quantile = |q: f64| Some(Some(q));
        let latency = match metric {
            "p50" | "median" => quantile(0.5),
            "p75" => quantile(0.75),
            "p90" => quantile(0.9),
            "p95" => quantile(0.95),
            "p99" => quantile(0.99),
            "p99.9" | "p999" => quantile(0.999),
            "p99.99" | "p9999" => quantile(0.9999),
            "max" => quantile(1.0),
            "min" => quantile(0.0),
            "mean" | "avg" => Some(None),
            _ => None,
        };
        let (metric, value, percent) = match (latency, metric) {
            (Some(quantile), _) => {
                let value = parse_micros(right)
                    .ok_or_else(|| invalid(text, format!("{right:?} is not a duration like 50ms or 250us")))?;
                let label = match label {
                    Some("") => return Err(invalid(text, "an empty label before ':'")),
                    Some(label) => label.to_owned(),
                    None => Label::RESPONSE.to_owned(),
                };
                (Metric::Latency { label, quantile }, value, false)
            }
            (None, "errors" | "error_rate") => {
                if let Some(label) = label {
                    return Err(invalid(
                        text,
                        format!("errors are counted per run, not per label ({label:?})"),
                    ));
                }
                let (number, percent) = match right.strip_suffix('%') {
                    Some(number) => (number, true),
                    None => (right, false),
                };
                let value: f64 = number
                    .parse()
                    .map_err(|_| invalid(text, format!("{right:?} is not a share like 0.1% or a count like 5")))?;
                (Metric::Errors, value, percent)
            }
            (None, "throughput" | "rate" | "rps") => {
                if let Some(label) = label {
                    return Err(invalid(
                        text,
                        format!("throughput is per run, not per label ({label:?})"),
                    ));
                }
                let number = right.strip_suffix("/s").unwrap_or(right);
                let value: f64 = number
                    .parse()
                    .map_err(|_| invalid(text, format!("{right:?} is not a number of iterations per second")))?;
                (Metric::Throughput, value, false)
            }
            (None, other) => {
                return Err(invalid(
                    text,
                    format!("unknown metric {other:?} (p50, p90, p95, p99, p99.9, max, min, mean, errors, throughput)"),
                ));
            }
        };
        if !value.is_finite() || value < 0.0 {
            return Err(invalid(text, "the limit must be a non-negative number"));
        }
        Ok(Threshold {
            text: compact,
            metric,
            op,
            value,
            percent,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Threshold {
    /// Checks the threshold against a report. A latency of a label with no samples fails, saying so.
    pub fn check(&self, report: &Report) -> Verdict {
        let verdict = |measured: String, passed: bool| Verdict {
            threshold: self.text.clone(),
            measured,
            passed,
        };
        match &self.metric {
            Metric::Latency { label, quantile } => match report.find(label) {
                Some(stats) if stats.count > 0 => {
                    let measured = match quantile {
                        Some(q) => stats.histogram.value_at_quantile(*q) as f64,
                        None => stats.histogram.mean(),
                    };
                    verdict(show_micros(measured), self.op.holds(measured, self.value))
                }
                _ => verdict(format!("no samples of {label:?}"), false),
            },
            Metric::Errors => {
                let failed = report.failed() as f64;
                if self.percent {
                    let share = if report.iterations() == 0 {
                        0.0
                    } else {
                        failed * 100.0 / report.iterations() as f64
                    };
                    verdict(format!("{share:.3}%"), self.op.holds(share, self.value))
                } else {
                    verdict(format!("{failed}"), self.op.holds(failed, self.value))
                }
            }
            Metric::Throughput => {
                let rate = report.iterations_per_second();
                verdict(format!("{rate:.1}/s"), self.op.holds(rate, self.value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_spellings() {
        let t: Threshold = "p99<50ms".parse().unwrap();
        assert_eq!(
            t.metric,
            Metric::Latency {
                label: "response".into(),
                quantile: Some(0.99)
            }
        );
        assert_eq!(t.value, 50_000.0);
        let t: Threshold = "errors<0.1%".parse().unwrap();
        assert!(t.percent && t.metric == Metric::Errors && (t.value - 0.1).abs() < 1e-9);
        let t: Threshold = "agent_completed:p99<200ms".parse().unwrap();
        assert!(matches!(&t.metric, Metric::Latency { label, .. } if label == "agent_completed"));
        let t: Threshold = "ns:event:p99.9 <= 1.5s".parse().unwrap();
        assert!(
            matches!(&t.metric, Metric::Latency { label, quantile: Some(q) } if label == "ns:event" && *q == 0.999)
        );
        assert_eq!(t.op, Op::LessOrEqual);
        assert_eq!(t.value, 1_500_000.0);
        let t: Threshold = "throughput>=1000/s".parse().unwrap();
        assert_eq!(
            (t.metric, t.op, t.value),
            (Metric::Throughput, Op::GreaterOrEqual, 1000.0)
        );
    }

    #[test]
    fn bad_thresholds_say_what_is_wrong() {
        for (text, words) in [
            ("p99=50ms", "no comparison"),
            ("p99<fast", "is not a duration"),
            ("p42<1ms", "unknown metric \"p42\""),
            ("x:errors<1%", "per run"),
            ("errors<lots", "is not a share"),
            (":p99<1ms", "empty label"),
        ] {
            let error = text.parse::<Threshold>().unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
        }
    }
}

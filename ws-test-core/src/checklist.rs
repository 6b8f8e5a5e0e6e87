//! [`CheckResult`] and [`SuiteReport`]: named checks against one server, each passed or failed, and their
//! report. What the chat kit's `Suite` and a `ContractCheck`
//! return, and what `ws-test check` prints (`--json` serializes it).

use std::fmt;
use std::time::Duration;

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check's name (stable: `critical_events`, `error_binary_frame`, ...; a contract check's operation).
    pub name: String,
    /// Whether the server did what the protocol says.
    pub passed: bool,
    /// How long the check took.
    pub duration: Duration,
    /// What was seen; on failure, what was expected and what arrived.
    pub detail: String,
}

/// Every check's outcome, in order.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    /// The server checked.
    pub url: String,
    /// One result per check.
    pub checks: Vec<CheckResult>,
    /// The whole run.
    pub duration: Duration,
}

/// A duration as milliseconds with microsecond precision, as the reports give them.
fn milliseconds(duration: &Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

crate::serialization::serialize_struct!(CheckResult { name, passed, "duration_ms" = duration => milliseconds, detail });
crate::serialization::serialize_struct!(SuiteReport { url, checks, "duration_ms" = duration => milliseconds });

impl SuiteReport {
    /// How many checks passed.
    pub fn passed(&self) -> usize {
        self.checks.iter().filter(|check| check.passed).count()
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.checks.len() - self.passed()
    }

    /// Whether every check passed.
    pub fn all_passed(&self) -> bool {
        self.failed() == 0
    }

    /// The result of one check, by name.
    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|check| check.name == name)
    }
}

impl fmt::Display for CheckResult {
    /// One line: status, name, time, the first line of the detail; a failure's other lines follow, indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = self.detail.lines();
        write!(
            f,
            "{}  {:<24} {:>9.1} ms  {}",
            if self.passed { "PASS" } else { "FAIL" },
            self.name,
            self.duration.as_secs_f64() * 1000.0,
            lines.next().unwrap_or_default()
        )?;
        if !self.passed {
            for line in lines {
                write!(f, "\n        {line}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SuiteReport {
    /// One line per check, then exactly `N passed, N failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            writeln!(f, "{check}")?;
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

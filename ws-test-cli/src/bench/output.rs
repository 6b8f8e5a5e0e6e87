//! What `ws-test bench` prints: the progress line, the header, the report's table or JSON (with the figures it printed
//! before it had labels), the thresholds and the exit code.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use ws_test_runtime::ChatEvent;
use ws_test_runtime::load::{Label, Report, Threshold};

use super::args::Args;

/// A progress line on a terminal: rate, p99, errors so far; nothing on a pipe.
pub(super) fn progress_line(args: &Args) -> ProgressBar {
    if !std::io::stderr().is_terminal() || args.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// What the progress line says every tick: iterations done, their rate, p99, errors, in flight.
pub(super) fn progress_message(bar: ProgressBar) -> impl FnMut(&ws_test_runtime::load::Progress) + Send + 'static {
    move |now| {
        let p99 = now
            .p99
            .map_or("-".to_owned(), |p99| format!("{:.2} ms", p99.as_secs_f64() * 1000.0));
        bar.set_message(format!(
            "{} done, {:.0}/s, p99 {p99}, errors {}, {} in flight",
            now.iterations, now.rate, now.failed, now.in_flight
        ));
        bar.tick();
    }
}

/// Prints the figures and the thresholds; the exit code: 1 when a threshold failed, or (without thresholds) when
/// an iteration failed.
pub(super) fn finish(header: Value, report: &Report, thresholds: &[Threshold], as_json: bool) -> ExitCode {
    let verdicts: Vec<_> = thresholds.iter().map(|threshold| threshold.check(report)).collect();
    let passed = if thresholds.is_empty() {
        report.failed() == 0
    } else {
        verdicts.iter().all(|verdict| verdict.passed)
    };
    if as_json {
        let mut figures = header;
        if let (Value::Object(figures), Value::Object(report)) = (&mut figures, report.to_json()) {
            figures.extend(report);
        }
        add_legacy_figures(&mut figures, report);
        figures["thresholds"] = verdicts
            .iter()
            .map(|verdict| {
                json!({"threshold": verdict.threshold, "measured": verdict.measured, "passed": verdict.passed})
            })
            .collect();
        figures["passed"] = json!(passed);
        match serde_json::to_string_pretty(&figures) {
            Ok(text) => out!("{text}"),
            Err(error) => eprintln!("ws-test: cannot print the figures as JSON: {error}"),
        }
    } else {
        print_header(&header, report);
        out!("{}", report.to_string().trim_end());
        if !verdicts.is_empty() {
            let width = verdicts
                .iter()
                .map(|verdict| verdict.threshold.len())
                .max()
                .unwrap_or(0);
            out!("thresholds");
            for verdict in &verdicts {
                out!(
                    "  {:<width$}  {:>12}  {}",
                    verdict.threshold,
                    verdict.measured,
                    if verdict.passed { "ok" } else { "FAILED" }
                );
            }
        }
    }
    if report.failed() > 0 {
        eprintln!(
            "ws-test: {} of {} iteration(s) failed; the first:\n{}",
            report.failed(),
            report.iterations(),
            report.error_samples().first().map_or("", String::as_str)
        );
    }
    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The figures `ws-test bench --json` printed before it had labels: `rounds`, `rounds_per_second`,
/// `frames_per_second`, `latency_us` (the response), and for chat rounds `events_us`, each critical event.
pub(super) fn add_legacy_figures(figures: &mut Value, report: &Report) {
    let percentiles = |label: &str| {
        report.find(label).map(|stats| {
            let micros = |q: f64| stats.quantile(q).as_micros() as u64;
            json!({"p50": micros(0.5), "p90": micros(0.9), "p99": micros(0.99), "p99_9": micros(0.999), "max": stats.max().as_micros() as u64})
        })
    };
    let seconds = report.elapsed().as_secs_f64().max(f64::EPSILON);
    figures["rounds"] = json!(report.iterations() - report.failed());
    figures["rounds_per_second"] = json!(report.iterations_per_second());
    figures["frames_per_second"] = json!(report.frames().1 as f64 / seconds);
    figures["latency_us"] = percentiles(Label::RESPONSE).unwrap_or(Value::Null);
    if figures["workload"] == "chat" {
        figures["events_us"] = ChatEvent::CRITICAL
            .iter()
            .filter_map(|event| {
                let mut latency = percentiles(event)?;
                latency["event"] = json!(event);
                Some(latency)
            })
            .collect();
    }
}

pub(super) fn print_header(header: &Value, report: &Report) {
    let text = |field: &str| header[field].as_str().unwrap_or_default().to_owned();
    let number = |field: &str| header[field].as_f64().unwrap_or_default();
    if let Some(files) = header["merged"].as_array() {
        out!("merged {} run(s) from {} file(s)", report.runs(), files.len());
        return;
    }
    let what = match header["scenario"].as_str() {
        Some(scenario) => format!("sessions of {scenario} ({} client frames)", number("client_frames")),
        None => format!("{} rounds", text("workload")),
    };
    let shard = match text("shard").as_str() {
        "1/1" => String::new(),
        shard => format!(", shard {shard}"),
    };
    match text("model").as_str() {
        "open" => out!(
            "bench {}: {what}, {} per second for {:.1} s (ramp {:.1} s){shard}",
            text("url"),
            number("rate"),
            number("duration_ms") / 1000.0,
            number("ramp_ms") / 1000.0
        ),
        _ if header["pipeline"].is_number() => out!(
            "bench {}: {} connections x {} {} rounds, {} in flight per connection{shard}",
            text("url"),
            number("connections"),
            number("rounds_per_connection"),
            text("workload"),
            number("pipeline")
        ),
        _ => out!(
            "bench {}: {} connections x {} {what}{shard}",
            text("url"),
            number("connections"),
            number("rounds_per_connection")
        ),
    }
}

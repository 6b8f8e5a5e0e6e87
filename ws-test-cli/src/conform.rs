//! `ws-test conform`: the Autobahn Testsuite's cases without Docker. `ws-test conform URL` grades an echoing
//! server; `ws-test conform --serve` is a fuzzing server that grades the clients an Autobahn client harness
//! drives against it.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use ws_test_runtime::conform::{Error, Expected, Report, Suite};

/// Arguments of `ws-test conform`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The echo server to grade (`ws://` or `wss://`).
    #[arg(required_unless_present = "serve", conflicts_with = "serve")]
    url: Option<String>,
    /// Grade clients instead: serve the cases in Autobahn's URL protocol (`/getCaseCount`, `/runCase?case=N&agent=A`,
    /// `/updateReports?agent=A`, ...); ends once a client asks for its reports (see --keep-serving).
    #[arg(long)]
    serve: bool,
    /// Where --serve listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001", requires = "serve")]
    bind: String,
    /// With --serve: keep serving after a client's /updateReports (Autobahn's behaviour), until Ctrl-C.
    #[arg(long, requires = "serve")]
    keep_serving: bool,
    /// The graded server's name in the reports [default: its Server header].
    #[arg(long, value_name = "NAME", conflicts_with = "serve")]
    agent: Option<String>,
    /// Only these cases, Autobahn's patterns with `*` wildcards: `--cases 1.*,7.9.*`.
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',', default_value = "*")]
    cases: Vec<String>,
    /// Leave these cases out: `--exclude-cases 9.*,12.*,13.*`.
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',')]
    exclude_cases: Vec<String>,
    /// Write Autobahn's reports there: index.json, one JSON per case, index.html.
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
    /// An Autobahn index.json: succeed only when every verdict equals its own (durations ignored), listing the
    /// differences by case.
    #[arg(long, value_name = "FILE")]
    expected: Option<PathBuf>,
    /// Print the index (Autobahn's index.json) on stdout instead of the summary.
    #[arg(long)]
    json: bool,
}

fn usage(error: &Error) -> ExitCode {
    eprintln!("ws-test conform: {error}");
    ExitCode::from(crate::UNREACHABLE)
}

/// A progress line on a terminal; nothing otherwise.
fn progress_bar(count: u64) -> Option<ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = ProgressBar::new(count);
    if let Ok(style) = ProgressStyle::with_template("{pos:>3}/{len} [{bar:30}] {elapsed_precise} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

pub(crate) async fn run(args: Args) -> ExitCode {
    let mut suite = Suite::new().cases(&args.cases).exclude_cases(&args.exclude_cases);
    if let Some(agent) = &args.agent {
        suite = suite.agent(agent);
    }
    let count = match suite.case_ids() {
        Ok(ids) => ids.len(),
        Err(error) => return usage(&error),
    };
    let expected = match &args.expected {
        Some(path) => match Expected::from_file(path, args.agent.as_deref()) {
            Ok(expected) => Some(expected),
            Err(error) => return usage(&error),
        },
        None => None,
    };
    let bar = progress_bar(count as u64);
    if let Some(bar) = bar.clone() {
        suite = suite.on_case(move |result, index, _| {
            bar.set_position(index as u64);
            bar.set_message(format!("{} {} / {}", result.id, result.behavior, result.behavior_close));
        });
    }
    let reports = if args.serve {
        match serve(&suite, &args).await {
            Ok(reports) => reports,
            Err(code) => return code,
        }
    } else {
        let url = args.url.as_deref().unwrap_or_default();
        match suite.grade_server(url).await {
            Ok(report) => {
                if let Some(dir) = &args.report_dir {
                    if let Err(error) = report.write(dir) {
                        return usage(&error);
                    }
                }
                vec![report]
            }
            Err(error) => return usage(&error),
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    verdict(&reports, expected.as_ref(), args.json)
}

/// Prints the reports and the comparison; the exit code.
fn verdict(reports: &[Report], expected: Option<&Expected>, json: bool) -> ExitCode {
    let mut failed = false;
    for report in reports {
        if json {
            out!(
                "{}",
                serde_json::to_string_pretty(&report.index_json()).unwrap_or_default()
            );
        } else {
            out!("{}", report.summary());
        }
        match expected {
            Some(expected) => {
                let differences = report.compare(expected);
                if differences.is_empty() {
                    eprintln!(
                        "every verdict equals {}'s expected one ({} cases)",
                        expected.agent(),
                        expected.len()
                    );
                } else {
                    failed = true;
                    eprintln!("{} verdicts differ from the expected results:", differences.len());
                    for difference in &differences {
                        eprintln!("  {difference}");
                    }
                }
            }
            None => failed |= !report.passed(),
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// `--serve`: the fuzzing server until a client's `/updateReports` (or Ctrl-C with --keep-serving).
async fn serve(suite: &Suite, args: &Args) -> Result<Vec<Report>, ExitCode> {
    let stop = crate::stop_signal();
    let server = suite.serve(&args.bind).await.map_err(|error| usage(&error))?;
    if let Some(dir) = &args.report_dir {
        server.report_dir(dir);
    }
    out!("listening on {}", server.url());
    if args.keep_serving {
        stop.await;
    } else {
        tokio::select! {
            agent = server.reports_requested() => {
                return Ok(server.report(&agent).into_iter().collect());
            }
            () = stop => {}
        }
    }
    let reports: Vec<Report> = server
        .agents()
        .iter()
        .filter_map(|agent| server.report(agent))
        .collect();
    if reports.is_empty() {
        eprintln!("ws-test conform: no client played a case");
    }
    Ok(reports)
}

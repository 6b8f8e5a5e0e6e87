//! `ws-test bench merge` and `--hdr-out`: runs written to HdrHistogram's interval log and added up.

use std::process::ExitCode;

use serde_json::json;
use ws_test_runtime::load::Report;

use super::args::MergeArgs;
use super::output::finish;

pub(super) fn write_hdr(path: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    report.write_hdr_log(&mut file)?;
    std::io::Write::flush(&mut file)
}

pub(super) fn run_merge(args: MergeArgs) -> ExitCode {
    let mut merged: Option<Report> = None;
    for path in &args.files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("ws-test: cannot read {}: {error}", path.display());
                return ExitCode::from(crate::UNREACHABLE);
            }
        };
        match Report::from_hdr_log(&text, &path.display().to_string()) {
            Ok(report) => match &mut merged {
                Some(merged) => merged.merge(&report),
                None => merged = Some(report),
            },
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        }
    }
    let Some(report) = merged else {
        return ExitCode::from(crate::UNREACHABLE);
    };
    let files: Vec<String> = args.files.iter().map(|path| path.display().to_string()).collect();
    finish(json!({"merged": files}), &report, &args.thresholds, args.json)
}

//! `ws-test expect FILE`: the `Expect` code that checks a recording's server frames, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use ws_test_runtime::expect::Expect;

/// Arguments of `ws-test expect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A recording (a transcript from `ws-test record`, or a failed test's `.jsonl`).
    file: PathBuf,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    match Expect::from_recording(&args.file) {
        Ok(expectation) => {
            out!("{}", expectation.to_rust());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ws-test: {error}");
            ExitCode::from(crate::UNREACHABLE)
        }
    }
}

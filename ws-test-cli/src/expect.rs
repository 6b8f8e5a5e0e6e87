//! `ws-test expect FILE`: the `Expect` code that checks a recording's server frames, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use ws_test_runtime::expect::Expect;

/// Arguments of `ws-test expect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A recording (a transcript from `ws-test record`, or a failed test's `.jsonl`).
    file: PathBuf,
    /// The field that names an event: a key (`method` for JSON-RPC, `event`) or a JSON pointer (`/data/kind`).
    #[arg(long, value_name = "FIELD", default_value = "type")]
    event_key: String,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    match Expect::from_recording_keyed(&args.file, args.event_key.as_str()) {
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

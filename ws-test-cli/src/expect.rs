//! `ws-test expect FILE`: the `Expect` code that checks a recording's server frames, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use ws_test_runtime::History;
use ws_test_runtime::expect::Expect;
use ws_test_runtime::protocol;

/// Arguments of `ws-test expect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A recording (a transcript from `ws-test record`, or a failed test's `.jsonl`).
    file: PathBuf,
    /// The field that names an event: a key (`method` for JSON-RPC, `event`) or a JSON pointer (`/data/kind`)
    /// [default: `type`, or the protocol's].
    #[arg(long, value_name = "FIELD")]
    event_key: Option<String>,
    /// Reads the recording through a protocol kit (`socket.io`, `graphql-transport-ws`, `jsonrpc`): the
    /// expectation names the events it decodes, and leaves out its own frames (handshake, heartbeats).
    #[arg(long, value_name = "NAME")]
    protocol: Option<String>,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let expectation = History::load(&args.file).and_then(|history| match &args.protocol {
        Some(name) => {
            let kit = protocol::by_name(name)?;
            let key = args.event_key.clone().map_or_else(|| kit.event_key(), Into::into);
            Expect::from_history_keyed(&protocol::decode_history(&history, &*kit), key)
        }
        None => Expect::from_recording_keyed(&args.file, args.event_key.as_deref().unwrap_or("type")),
    });
    match expectation {
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

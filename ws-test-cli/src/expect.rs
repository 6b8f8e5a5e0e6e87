//! `ws-test expect FILE`: the `Expect` code that checks a recording's server frames, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use ws_test_runtime::History;
use ws_test_runtime::expect::Expect;
use ws_test_runtime::protocol;

/// Arguments of `ws-test expect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A recording (a transcript from `ws-test record`, a failed test's `.jsonl`, or a HAR file a browser saved).
    file: PathBuf,
    /// Of a HAR file holding several WebSockets: which one, by its index in `log.entries`, its URL, or a part of its
    /// URL only it has.
    #[arg(long, value_name = "URL_OR_INDEX")]
    entry: Option<String>,
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
    let loaded = match &args.entry {
        Some(entry) => History::load_entry(&args.file, entry),
        None => History::load(&args.file),
    };
    let expectation = loaded.and_then(|history| match &args.protocol {
        Some(name) => {
            let kit = protocol::by_name(name)?;
            let key = args.event_key.clone().map_or_else(|| kit.event_key(), Into::into);
            Expect::from_history_keyed(&protocol::decode_history(&history, &*kit), key)
        }
        None => Expect::from_history_keyed(&history, args.event_key.as_deref().unwrap_or("type")),
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

//! `ws-test record`: a recording proxy. Every client that connects is relayed to the upstream server and each
//! session is written, frame by frame, to a transcript file, until N sessions ended, Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ws_test_runtime::{Error, Recorder};

/// Arguments of `ws-test record`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("files").args(["out", "har"]).required(true).multiple(true))]
pub(crate) struct Args {
    /// The real server to relay to (ws://... or wss://...); clients connect to the recorder with its path and query.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// Where to listen (port 0: one the OS picks; the first line of output says which).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The transcript of the first session; the next ones go to FILE.2, FILE.3, ...
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Every session in one HAR file (one WebSocket entry each, with its upgrade's headers), as browsers' DevTools
    /// save and import them; written again as each session ends.
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
    /// Stop once this many sessions have ended (later connections are refused with 503).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    sessions: Option<u32>,
    // The help is an attribute, not a doc comment: rustdoc would read "[redacted]" as a link.
    #[arg(
        long,
        value_name = "FIELD",
        help = "Replace this JSON field (at any depth) and query parameter with \"[redacted]\" in the recording; the \
                relay passes it unchanged (repeatable)"
    )]
    redact: Vec<String>,
    /// Reads every session through a protocol kit (`socket.io`, `graphql-transport-ws`, `jsonrpc`): the transcript
    /// keeps each raw frame with the event it decodes to (or what the protocol's own frame was) beside it. The
    /// relay stays byte for byte.
    #[arg(long, value_name = "NAME")]
    protocol: Option<String>,
    #[command(flatten)]
    trust: crate::tls::Trust,
}

pub(crate) async fn run(args: Args) -> ExitCode {
    crate::init_logging();
    let mut builder = Recorder::builder(&args.upstream).bind(args.listen);
    if let Some(out) = &args.out {
        builder = builder.out(out);
    }
    if let Some(har) = &args.har {
        builder = builder.har(har);
    }
    let mut builder = match args.trust.apply(builder) {
        Ok(builder) => builder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    for field in &args.redact {
        builder = builder.redact(field);
    }
    if let Some(protocol) = &args.protocol {
        builder = builder.protocol(protocol);
    }
    if let Some(n) = args.sessions {
        builder = builder.max_sessions(n as usize);
    }
    let mut recorder = match builder.start().await {
        Ok(recorder) => recorder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let stop = crate::stop_signal();
    out!("listening on {}", recorder.url());
    let _ = std::io::stdout().flush();
    let all_recorded = async {
        match args.sessions {
            Some(n) => {
                let _ = recorder.wait_for_sessions(n as usize, Duration::MAX).await;
                tracing::info!(sessions = n, "recorded every session asked for");
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = all_recorded => {}
        () = stop => {}
    }
    let stopped = recorder.shutdown().await;
    let sessions = recorder.sessions();
    for (number, history) in sessions.iter().enumerate() {
        let files: Vec<String> = args
            .out
            .iter()
            .map(|out| Recorder::session_path(out, number + 1).display().to_string())
            .chain(args.har.iter().map(|har| format!("{} (entry {number})", har.display())))
            .collect();
        out!(
            "session {}: {} frame(s) -> {}",
            number + 1,
            history.len(),
            files.join(", ")
        );
    }
    if sessions.is_empty() {
        out!("no session was recorded");
    }
    // The files that could not be written, and anything else that failed while recording, one line each.
    match stopped {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::ServerFailed { failures, .. }) => {
            for failure in &failures {
                eprintln!("ws-test: {failure}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("ws-test: {error}");
            ExitCode::FAILURE
        }
    }
}

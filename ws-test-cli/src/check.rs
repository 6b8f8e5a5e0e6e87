//! `ws-test check [URL]`: the suite against a server, one line per check, then `N passed, N failed`.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use ws_test_runtime::suite::{DEFAULT_CONCURRENCY, Suite};
use ws_test_runtime::timeout;

/// Arguments of `ws-test check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The server's WebSocket URL (ws://host:port/path or wss://...); without it, an embedded server is started and checked.
    url: Option<String>,
    /// The server's token (sent as `Authorization: Bearer`); also runs the auth checks.
    #[arg(long)]
    token: Option<String>,
    /// How many users the concurrency check runs at once (the chat suite's; a contract has no such check).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, conflicts_with = "asyncapi")]
    concurrency: usize,
    /// How long each wait may take (5s, 500ms) [default: 5s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_parser = crate::duration)]
    timeout: Option<Duration>,
    /// Print the report as JSON instead of lines.
    #[arg(long)]
    json: bool,
    /// Checks the server against this AsyncAPI 3.0 document (YAML or JSON) instead of the built-in protocol:
    /// each example of each `receive` operation is sent and its replies awaited; every frame must conform.
    #[arg(long, value_name = "FILE")]
    asyncapi: Option<std::path::PathBuf>,
    /// With --asyncapi: the clients speak this protocol kit (socket.io, graphql-transport-ws, jsonrpc); the
    /// contract describes its decoded events (Socket.IO's are named by "event").
    #[arg(long, value_name = "NAME", requires = "asyncapi")]
    protocol: Option<String>,
    #[command(flatten)]
    trust: crate::tls::Trust,
}

/// `check --asyncapi FILE`: the contract's operations, one line each, then `N passed, N failed`.
async fn run_contract(args: &Args, path: &std::path::Path) -> ExitCode {
    let contract = match ws_test_runtime::contract::Contract::from_asyncapi(path) {
        Ok(contract) => contract,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let (_embedded, url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let within = args.timeout.unwrap_or_else(|| timeout::scaled(timeout::RECV));
    let mut builder = ws_test_runtime::WsClient::builder(&url)
        .connect_timeout(within)
        .recv_timeout(within)
        .send_timeout(within);
    if let Some(token) = &args.token {
        builder = builder.token(token);
    }
    if let Some(protocol) = &args.protocol {
        builder = builder.protocol(protocol.as_str());
    }
    let builder = match args.trust.apply(builder) {
        Ok(builder) => builder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    if !args.json {
        out!("checking {url} against {}", contract.name());
    }
    let report = ws_test_runtime::contract::ContractCheck::new(&contract, builder)
        .timeout(within)
        .run_with(print_each(args.json))
        .await;
    finish(&format!("cannot check {url}"), report, args.json)
}

/// Prints each check as it is known (not with `--json`).
fn print_each(json: bool) -> impl FnMut(&ws_test_runtime::suite::CheckResult) {
    move |check| {
        if !json {
            out!("{check}");
            let _ = std::io::stdout().flush();
        }
    }
}

/// The report's last line (or the JSON) and the exit code: 0 all passed, 1 one failed, 2 unreachable.
/// `failing` says what could not be done (`cannot reach URL`).
fn finish(failing: &str, report: ws_test_runtime::Result<ws_test_runtime::suite::SuiteReport>, json: bool) -> ExitCode {
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            eprintln!("ws-test: {failing}: {}", crate::tls::explained(&error));
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => out!("{text}"),
            Err(error) => eprintln!("ws-test: cannot print the report as JSON: {error}"),
        }
    } else {
        out!("{} passed, {} failed", report.passed(), report.failed());
    }
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(crate) async fn run(args: Args) -> ExitCode {
    if let Some(path) = &args.asyncapi {
        return run_contract(&args, path).await;
    }
    let (_embedded, url) = match crate::target(args.url.as_deref(), args.token.as_deref()).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let mut suite = Suite::new(url.clone())
        .concurrency(args.concurrency)
        .timeout(args.timeout.unwrap_or_else(|| timeout::scaled(timeout::RECV)));
    if let Some(token) = &args.token {
        suite = suite.token(token.clone());
    }
    let suite = match args.trust.apply(suite) {
        Ok(suite) => suite,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    if !args.json {
        out!("checking {url}");
    }
    let report = suite.run_with(print_each(args.json)).await;
    finish(&format!("cannot reach {url}"), report, args.json)
}

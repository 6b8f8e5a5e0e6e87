//! `ws-test serve`: the built-in chat agent (or a recording, `--replay`) as a standalone mock backend, until
//! Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ws_test_runtime::{ChatAgent, EmbeddedServer, Fault, Replay, TransportFault};

/// Arguments of `ws-test serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (0: one the OS picks, printed on the first line).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The WebSocket path [default: /ws; with --replay, the recording's own path when it has one].
    #[arg(long)]
    path: Option<String>,
    /// Agree to this subprotocol when a client offers it (repeatable; a recording's own is agreed to anyway).
    #[arg(long = "subprotocol", value_name = "NAME")]
    subprotocols: Vec<String>,
    /// Require this token on every upgrade.
    #[arg(long)]
    token: Option<String>,
    /// Allow this Origin (repeatable); others get 403.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// The largest message accepted, in bytes; larger ones are closed with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = ws_test_runtime::protocol::DEFAULT_MAX_MESSAGE_SIZE)]
    max_message_size: usize,
    /// A delay between two events of a chat run (runs then interleave); the chat agent's, so not with --replay
    /// or --asyncapi.
    #[arg(long, default_value = "0ms", value_parser = crate::duration, conflicts_with_all = ["replay", "asyncapi"])]
    event_delay: Duration,
    /// The most WebSocket connections open at once; more get 503.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// The most connections still in their HTTP request at once; more are answered 503 and dropped.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    max_pending: usize,
    /// How long a connection may take to send its HTTP request [default: 10s, scaled by WS_TEST_TIMEOUT_SCALE].
    #[arg(long, value_name = "DURATION", value_parser = crate::duration)]
    handshake_timeout: Option<Duration>,
    /// Close WebSocket connections with 1001 after this long without a frame from the client.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration)]
    idle_timeout: Option<Duration>,
    /// Misbehave on purpose (repeatable). In every chat run: drop:EVENT, duplicate:EVENT, swap:A,B,
    /// close:EVENT, close:EVENT:CODE, malformed:EVENT. On the transport (one at most): no-handshake, reset,
    /// half-open, slow-read, fragment-with-pings, invalid-utf8, oversize-frame, long-close-reason,
    /// unsolicited-pong.
    #[arg(long, value_name = "SPEC", value_parser = parse_fault)]
    fault: Vec<AnyFault>,
    /// Serve a recording (a transcript from `ws-test record`, or a HAR file a browser saved) instead of the chat
    /// agent: each client frame that matches the next recorded one gets the server frames recorded after it; one
    /// that diverges gets 1008. Served at the recording's path, agreeing to its subprotocol.
    #[arg(long, value_name = "FILE", conflicts_with = "asyncapi")]
    replay: Option<PathBuf>,
    /// With --replay of a HAR file holding several WebSockets: which one, by its index in `log.entries`, its URL,
    /// or a part of its URL only it has.
    #[arg(long, value_name = "URL_OR_INDEX", requires = "replay")]
    entry: Option<String>,
    /// Serve an AsyncAPI 3.0 document as a mock: the examples of its `send` operations on connect, each message
    /// of a `receive` operation answered with its reply messages (from their examples, or built from their
    /// schemas), a frame the contract does not allow answered with an error frame saying why.
    #[arg(long, value_name = "FILE")]
    asyncapi: Option<PathBuf>,
    /// Echo every text and binary message back as it came, instead of the chat agent: the server Autobahn's
    /// cases grade (`ws-test conform ws://HOST:PORT/ws`).
    #[arg(long, conflicts_with_all = ["replay", "asyncapi", "protocol"])]
    echo: bool,
    /// With --replay or --asyncapi: speak this protocol kit to the clients (socket.io, graphql-transport-ws,
    /// jsonrpc). The server does its handshake, heartbeats and framing; the recording (read through the protocol,
    /// as `record --protocol` wrote it) or the contract gives the events. The path becomes the protocol's
    /// (/socket.io/) unless --path says otherwise.
    #[arg(long, value_name = "NAME")]
    protocol: Option<String>,
    /// With --replay: a JSON field left out when client frames are compared (repeatable), e.g. run_id.
    #[arg(long = "ignore-field", value_name = "FIELD", requires = "replay")]
    ignore_field: Vec<String>,
    /// With --replay: keep the recorded gaps, divided by this factor (1 as recorded, 2 twice as fast)
    /// [default: no gaps].
    #[arg(long, value_name = "FACTOR", requires = "replay", value_parser = parse_speed)]
    speed: Option<f64>,
    #[command(flatten)]
    tls: crate::tls::Serving,
}

fn parse_speed(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("{text:?} is not a positive factor like 1, 2 or 0.5")),
    }
}

/// A `--fault`: of the chat runs or of the transport.
#[derive(Debug, Clone, Copy)]
enum AnyFault {
    Chat(Fault),
    Transport(TransportFault),
}

fn parse_fault(spec: &str) -> Result<AnyFault, String> {
    if let Ok(fault) = spec.parse::<TransportFault>() {
        return Ok(AnyFault::Transport(fault));
    }
    spec.parse()
        .map(AnyFault::Chat)
        .map_err(|error: ws_test_runtime::Error| {
            format!(
                "{error}; or a transport fault: {}",
                TransportFault::ALL.map(TransportFault::name).join(", ")
            )
        })
}

pub(crate) async fn run(args: Args) -> ExitCode {
    crate::init_logging();

    let mut agent = ChatAgent::new().event_delay(args.event_delay);
    let mut transport_faults = Vec::new();
    for fault in args.fault {
        match fault {
            AnyFault::Chat(fault) if args.replay.is_some() || args.asyncapi.is_some() || args.echo => {
                eprintln!(
                    "ws-test: --fault {fault} changes the chat agent, which --replay, --asyncapi and --echo do not serve"
                );
                return ExitCode::from(crate::UNREACHABLE);
            }
            AnyFault::Chat(fault) => agent = agent.fault(fault),
            AnyFault::Transport(fault) => transport_faults.push(fault),
        }
    }
    if args.protocol.is_some() && args.replay.is_none() && args.asyncapi.is_none() {
        eprintln!(
            "ws-test: --protocol frames the events of --replay FILE or --asyncapi FILE; the chat agent speaks plain JSON"
        );
        return ExitCode::from(crate::UNREACHABLE);
    }
    let mut builder = EmbeddedServer::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .path(args.path.clone().unwrap_or_else(|| "/ws".to_owned()))
        .max_message_size(args.max_message_size)
        .max_pending(args.max_pending);
    builder = match (&args.replay, &args.asyncapi) {
        (None, Some(file)) => match ws_test_runtime::contract::Contract::from_asyncapi(file) {
            Ok(contract) => builder.handler(contract.mock()),
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        },
        (Some(file), _) => match args
            .entry
            .as_ref()
            .map_or_else(|| Replay::from_file(file), |entry| Replay::from_file_entry(file, entry))
            .and_then(|replay| match &args.protocol {
                Some(protocol) => replay.protocol(protocol.as_str()),
                None => Ok(replay),
            }) {
            Ok(replay) => {
                // Where the recording was made, unless --path (or the protocol's own path) says otherwise.
                if let (None, None, Some(path)) = (&args.path, &args.protocol, replay.recorded_path()) {
                    builder = builder.path(path);
                }
                if let Some(subprotocol) = replay.recorded_subprotocol() {
                    builder = builder.subprotocol(subprotocol.to_owned());
                }
                let replay = replay.ignore_fields(&args.ignore_field);
                builder.handler(match args.speed {
                    Some(speed) => replay.speed(speed),
                    None => replay,
                })
            }
            Err(error) => {
                eprintln!("ws-test: {error}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        },
        (None, None) if args.echo => builder.handler(ws_test_runtime::Echo),
        (None, None) => builder.handler(agent),
    };
    if let Some(protocol) = &args.protocol {
        builder = builder.protocol(protocol.as_str());
    }
    match transport_faults.as_slice() {
        [] => {}
        [fault] => builder = builder.transport_fault(*fault),
        several => {
            let names: Vec<String> = several.iter().map(ToString::to_string).collect();
            eprintln!("ws-test: one transport fault at a time, not {}", names.join(" and "));
            return ExitCode::from(crate::UNREACHABLE);
        }
    }
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max);
    }
    if let Some(within) = args.handshake_timeout {
        builder = builder.handshake_timeout(within);
    }
    if let Some(idle) = args.idle_timeout {
        builder = builder.idle_timeout(idle);
    }
    for subprotocol in &args.subprotocols {
        builder = builder.subprotocol(subprotocol.clone());
    }
    match args.token {
        Some(token) => builder = builder.token(token),
        // The library warns as it starts, naming ServerBuilder::token; this is the flag that sets it.
        None if !args.host.is_loopback() => {
            tracing::warn!("on the command line, `--token TOKEN` requires a token on every upgrade")
        }
        None => {}
    }
    for origin in args.allow_origin {
        builder = builder.allow_origin(origin);
    }
    builder = match args.tls.apply(builder) {
        Ok(builder) => builder,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let mut server = match builder.start().await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let certificate = match args.tls.certificate_file(&server) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("ws-test: {error}");
            return ExitCode::from(crate::UNREACHABLE);
        }
    };
    let stop = crate::stop_signal();
    out!("listening on {}", server.url());
    if let Some(file) = &certificate {
        out!("{}", file.path().display());
    }
    let _ = std::io::stdout().flush();

    stop.await;
    // What failed while serving (a handler's panic, a replay that diverged) was logged as it happened.
    let _failures = server.shutdown().await;
    let metrics = server.metrics();
    tracing::info!(
        total = metrics.connections_total,
        refused = metrics.connections_refused,
        "stopped"
    );
    ExitCode::SUCCESS
}

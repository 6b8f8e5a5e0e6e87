//! The one table of arguments of `#[ws_test]` and `#[ws_profile]`: each argument defined once — its name, where
//! it is taken, how its value is read, the arguments it conflicts with or needs, how it expands, and its line of
//! documentation. The parser (`grammar::parse`), the cross-checks (`grammar::cross_check`), the expansion
//! (`expand::spec_calls`) and the docs' test read it; nothing else lists arguments.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Expr;

use crate::expanders;
use crate::model::{Args, Errors, EventsOn, Flavor, Order, Transport, Url};
use crate::read::{
    boolean, choice, crate_path, document, duration, events, events_on, header_pairs, path, pattern, positive,
    protocol, recording, route, string, strings, url,
};

/// Which attributes take an argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum On {
    Both,
    Test,
    Profile,
}

/// A rule between arguments, reported on the span of the argument that declares it. In messages, `{key}` is
/// that argument.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    /// Cannot be given with this other argument.
    Conflicts(&'static str, &'static str),
    /// Needs one of these arguments.
    Needs(&'static [&'static str], &'static str),
    /// A condition over the values: when it holds, the message is the error.
    Refuse(fn(&Args) -> bool, &'static str),
}

/// The builder call an argument adds to the `TestSpec`, and the item-level checks it needs.
pub(crate) type Expand = fn(&Args, &expanders::Context) -> Option<TokenStream>;

/// One argument, defined once.
pub(crate) struct Argument {
    pub(crate) name: &'static str,
    pub(crate) on: On,
    /// Reads the value into `Args` (every error lands in `Errors`).
    pub(crate) parse: fn(&Expr, &mut Args, &mut Errors),
    pub(crate) rules: &'static [Rule],
    /// `None` when the argument adds no call itself (`order`, `per`, `times` refine `events`).
    pub(crate) expand: Expand,
    /// What it means, in one line (the macro's docs describe each at length; a test keeps them in step).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) doc: &'static str,
}

const EMBEDDED_ONLY: &str = "`{key}` configures the embedded server, which a test with `url` does not start";
const SERVED: &str = "`{key}` configures ws-test's own server, but `serve` runs yours; keep one";
/// With a profile, `order`, `per` and `times` refine the profile's events.
const DESCRIBES_EVENTS: Rule = Rule::Needs(
    &["events", "pattern", "profile"],
    "`{key}` describes the declared events: add `events = [...]` or `pattern = \"...\"`",
);

fn none(_: &Args, _: &expanders::Context) -> Option<TokenStream> {
    None
}

/// Every argument, in the order the docs list them (`profile` first: what a test writes overrides it).
pub(crate) static ARGUMENTS: &[Argument] = &[
    Argument {
        name: "profile",
        on: On::Test,
        parse: |value, args, errors| args.profile = path(value, "profile", "profile = ChatBackend", errors),
        rules: &[],
        expand: expanders::profile,
        doc: "a shared setup declared once with #[derive(WsProfile)]",
    },
    Argument {
        name: "events",
        on: On::Both,
        parse: |value, args, errors| args.events = events(value, errors),
        rules: &[],
        expand: expanders::events,
        doc: "the event types that must arrive after the body, in this order",
    },
    Argument {
        name: "pattern",
        on: On::Both,
        parse: |value, args, errors| args.pattern = pattern(value, errors),
        rules: &[Rule::Conflicts(
            "events",
            "`pattern` and `events` both declare the events; keep one (a pattern can say what a list says: \
             `pattern = \"a b c\"`)",
        )],
        // Expanded with `events`, which it replaces.
        expand: none,
        doc: "the declared events as a pattern: names, `*`, `+`, `?`, `|` and parentheses",
    },
    Argument {
        name: "event_key",
        on: On::Both,
        parse: |value, args, errors| args.event_key = string(value, "event_key", "event_key = \"method\"", errors),
        rules: &[],
        expand: |args, _| args.event_key.as_ref().map(|key| quote!(.event_key(#key))),
        doc: "the field that names an event: a key (\"method\") or a JSON pointer (\"/data/kind\")",
    },
    Argument {
        name: "decode",
        on: On::Both,
        parse: |value, args, errors| args.decode = path(value, "decode", "decode = msgpack", errors),
        rules: &[],
        expand: |args, _| args.decode.as_ref().map(|decode| quote!(.decode(#decode))),
        doc: "a fn(&[u8]) -> Result<serde_json::Value, E> that decodes every binary frame the clients receive",
    },
    Argument {
        name: "welcome",
        on: On::Both,
        parse: |value, args, errors| args.welcome = string(value, "welcome", "welcome = \"session.created\"", errors),
        rules: &[Rule::Conflicts(
            "skip_welcome",
            "`welcome` names the frame to await and `skip_welcome` says to await none; keep one",
        )],
        expand: |args, _| args.welcome.as_ref().map(|event| quote!(.welcome(#event))),
        doc: "the event the driver awaits after connecting, named by the event key",
    },
    Argument {
        name: "order",
        on: On::Both,
        parse: |value, args, errors| {
            args.order = choice(value, "order", &["strict", "in_order", "any_order"], errors).map(|c| match c {
                "strict" => Order::Strict,
                "any_order" => Order::AnyOrder,
                _ => Order::InOrder,
            })
        },
        rules: &[DESCRIBES_EVENTS],
        expand: none,
        doc: "exactly these frames, these in order (default), or in any order",
    },
    Argument {
        name: "per",
        on: On::Both,
        parse: |value, args, errors| args.per = string(value, "per", "per = \"run_id\"", errors),
        rules: &[DESCRIBES_EVENTS],
        expand: none,
        doc: "one sequence per distinct value of that field",
    },
    Argument {
        name: "times",
        on: On::Both,
        parse: |value, args, errors| args.times = positive(value, "times", "times = 3", errors),
        rules: &[DESCRIBES_EVENTS],
        expand: none,
        doc: "N complete sequences",
    },
    Argument {
        name: "events_on",
        on: On::Both,
        parse: |value, args, errors| args.events_on = events_on(value, errors),
        rules: &[
            DESCRIBES_EVENTS,
            Rule::Refuse(
                |args| matches!(args.events_on, Some(EventsOn::Client(index)) if index >= args.clients.unwrap_or(1)),
                "`{key}` names a client the test does not connect: the clients are numbered from 0 and `clients` \
                 says how many there are (default 1)",
            ),
        ],
        expand: |args, _| {
            args.events_on.map(|on| match on {
                EventsOn::All => quote!(.events_on_every_client()),
                EventsOn::Client(index) => {
                    let index = index as usize;
                    quote!(.events_on_client(#index))
                }
            })
        },
        doc: "which clients the declared events are checked on: \"all\", or a client's index (default 0, the first)",
    },
    Argument {
        name: "handler",
        on: On::Both,
        parse: |value, args, _| args.handler = Some(value.clone()),
        rules: &[Rule::Conflicts("url", EMBEDDED_ONLY), Rule::Conflicts("serve", SERVED)],
        expand: expanders::handler,
        doc: "the embedded server's handler: a value or a function returning one",
    },
    Argument {
        name: "server",
        on: On::Both,
        parse: |value, args, _| args.server = Some(value.clone()),
        rules: &[Rule::Conflicts("url", EMBEDDED_ONLY), Rule::Conflicts("serve", SERVED)],
        expand: |args, _| args.server.as_ref().map(|server| quote!(.server(#server))),
        doc: "a fn() -> ServerBuilder giving a configured embedded server",
    },
    Argument {
        name: "app",
        on: On::Both,
        parse: |value, args, _| args.app = Some(value.clone()),
        rules: &[
            Rule::Conflicts(
                "handler",
                "`app` and `handler` both say what answers the clients; keep one (the app handles its own WebSockets)",
            ),
            Rule::Conflicts("url", EMBEDDED_ONLY),
            Rule::Conflicts("serve", "`app` and `serve` both say what answers the clients; keep one"),
        ],
        expand: expanders::app,
        doc: "your tower app (an axum::Router), hosted by the embedded server",
    },
    Argument {
        name: "serve",
        on: On::Both,
        parse: |value, args, errors| args.serve = path(value, "serve", "serve = my_server", errors),
        rules: &[Rule::Refuse(
            |args| args.transport == Some(Transport::Memory),
            "`serve` hands your server a real TCP listener, so `transport = \"memory\"` cannot apply: drop \
             `transport`, or host a tower app with `app` to test it in memory",
        )],
        expand: expanders::serve,
        doc: "your own server (actix-web, jsonrpsee, a tokio-tungstenite loop) run on a listener ws-test binds",
    },
    Argument {
        name: "replay",
        on: On::Both,
        parse: |value, args, errors| args.replay = recording(value, errors),
        rules: &[
            Rule::Conflicts(
                "handler",
                "`replay` and `handler` both say what answers the clients; keep one",
            ),
            Rule::Conflicts("app", "`replay` and `app` both say what answers the clients; keep one"),
            Rule::Conflicts(
                "serve",
                "`replay` and `serve` both say what answers the clients; keep one",
            ),
            Rule::Conflicts("url", EMBEDDED_ONLY),
        ],
        expand: expanders::replay,
        doc: "a recording served as the mock server",
    },
    Argument {
        name: "contract",
        on: On::Both,
        parse: |value, args, errors| args.contract = document(value, errors),
        rules: &[],
        expand: expanders::contract,
        doc: "an AsyncAPI 3.0 document every frame of every client must conform to",
    },
    Argument {
        name: "ignore_fields",
        on: On::Both,
        parse: |value, args, errors| {
            args.ignore_fields = strings(value, "ignore_fields", "ignore_fields = [\"run_id\"]", errors)
        },
        rules: &[Rule::Needs(
            &["replay"],
            "`ignore_fields` says which fields a replay leaves out of its comparison: add `replay = \"...\"`",
        )],
        expand: |args, _| {
            args.ignore_fields
                .as_ref()
                .map(|fields| quote!(.ignore_fields(&[#(#fields),*])))
        },
        doc: "JSON fields the replay leaves out of its comparison",
    },
    Argument {
        name: "entry",
        on: On::Both,
        parse: |value, args, errors| args.entry = string(value, "entry", "entry = \"ws://localhost:4000/ws\"", errors),
        rules: &[Rule::Needs(
            &["replay"],
            "`entry` chooses one WebSocket of the HAR file a test replays: add `replay = \"...\"`",
        )],
        expand: |args, _| args.entry.as_ref().map(|entry| quote!(.entry(#entry))),
        doc: "which WebSocket of a replayed HAR file (its index in `log.entries`, or its URL)",
    },
    Argument {
        name: "path",
        on: On::Both,
        parse: |value, args, errors| args.path = route(value, errors),
        rules: &[Rule::Conflicts("url", EMBEDDED_ONLY)],
        expand: |args, _| args.path.as_ref().map(|path| quote!(.path(#path))),
        doc: "where the clients connect (default /ws)",
    },
    Argument {
        name: "transport",
        on: On::Both,
        parse: |value, args, errors| {
            args.transport = choice(value, "transport", &["tcp", "memory"], errors).map(|c| match c {
                "memory" => Transport::Memory,
                _ => Transport::Tcp,
            })
        },
        rules: &[Rule::Conflicts("url", EMBEDDED_ONLY)],
        expand: expanders::transport,
        doc: "how the clients reach the server: tcp (default) or memory",
    },
    Argument {
        name: "link",
        on: On::Both,
        parse: |value, args, errors| {
            args.link = string(
                value,
                "link",
                "link = \"latency=50ms, jitter=10ms, bandwidth=256KiB/s, chunk=7\"",
                errors,
            )
        },
        rules: &[],
        expand: |args, _| args.link.as_ref().map(|link| quote!(.link(#link))),
        doc: "a network between the clients and the server: latency, jitter, bandwidth, chunk (up./down. for one way)",
    },
    Argument {
        name: "start_paused",
        on: On::Both,
        parse: |value, args, errors| {
            args.start_paused = boolean(value, "start_paused", errors);
            args.start_paused_span = Some(syn::spanned::Spanned::span(value));
        },
        rules: &[
            Rule::Conflicts("url", EMBEDDED_ONLY),
            Rule::Refuse(
                |args| args.start_paused == Some(true) && args.serve.is_some(),
                "`start_paused = true` cannot go with `serve`: your server listens on a real socket, where a \
                 paused clock jumps ahead while the OS delivers bytes, so every deadline would fire early",
            ),
            // With a profile, the transport may come from it: the driver checks at run time instead.
            Rule::Refuse(
                |args| {
                    args.start_paused == Some(true)
                        && args.serve.is_none()
                        && args.profile.is_none()
                        && args.transport != Some(Transport::Memory)
                },
                "`start_paused = true` needs `transport = \"memory\"`: over real sockets a paused clock jumps \
                 ahead while the OS delivers bytes, so every deadline would fire early",
            ),
            Rule::Refuse(
                |args| args.start_paused == Some(true) && args.flavor == Some(Flavor::MultiThread),
                "`start_paused = true` needs the current-thread flavor: tokio pauses only that runtime's clock",
            ),
        ],
        expand: expanders::start_paused,
        doc: "a paused tokio clock (needs transport = \"memory\")",
    },
    Argument {
        name: "url",
        on: On::Test,
        parse: |value, args, errors| args.url = url(value, errors),
        rules: &[Rule::Conflicts(
            "serve",
            "`url` and `serve` both say where the server is; keep one",
        )],
        expand: expanders::url,
        doc: "a live server to run against instead of an embedded one",
    },
    Argument {
        name: "url_env",
        on: On::Profile,
        parse: |value, args, errors| {
            args.url = string(value, "url_env", "url_env = \"STAGING_WS_URL\"", errors).map(Url::EnvOrEmbedded)
        },
        rules: &[],
        // Read into the same field as `url`, which expands it.
        expand: none,
        doc: "the live server in this variable when it is set, else embedded",
    },
    Argument {
        name: "clients",
        on: On::Both,
        parse: |value, args, errors| args.clients = positive(value, "clients", "clients = 3", errors),
        rules: &[],
        expand: |args, _| {
            args.clients.map(|clients| {
                let clients = clients as usize;
                quote!(.clients(#clients))
            })
        },
        doc: "how many clients to connect",
    },
    Argument {
        name: "headers",
        on: On::Both,
        parse: |value, args, errors| args.headers = header_pairs(value, errors),
        rules: &[],
        expand: |args, _| {
            args.headers.as_ref().map(|headers| {
                let (names, values): (Vec<_>, Vec<_>) = headers.iter().cloned().unzip();
                quote!(#(.header(#names, #values))*)
            })
        },
        doc: "headers every client adds to its upgrade request",
    },
    Argument {
        name: "token",
        on: On::Both,
        parse: |value, args, errors| args.token = string(value, "token", "token = \"s3cret\"", errors),
        rules: &[],
        expand: |args, _| args.token.as_ref().map(|token| quote!(.token(#token))),
        doc: "the bearer token the clients send",
    },
    Argument {
        name: "subprotocol",
        on: On::Both,
        parse: |value, args, errors| {
            args.subprotocol = string(value, "subprotocol", "subprotocol = \"graphql-transport-ws\"", errors)
        },
        rules: &[],
        expand: |args, _| {
            args.subprotocol
                .as_ref()
                .map(|protocol| quote!(.subprotocol(#protocol)))
        },
        doc: "the subprotocol every client offers (Sec-WebSocket-Protocol)",
    },
    Argument {
        name: "protocol",
        on: On::Both,
        parse: |value, args, errors| args.protocol = protocol(value, errors),
        rules: &[],
        expand: expanders::protocol_kit,
        doc: "the protocol every client speaks: a kit's name (\"socket.io\") or an expression (`SocketIo::new().namespace(\"/chat\")`)",
    },
    Argument {
        name: "skip_welcome",
        on: On::Both,
        parse: |value, args, errors| args.skip_welcome = boolean(value, "skip_welcome", errors),
        rules: &[],
        expand: |args, _| args.skip_welcome.map(|skip| quote!(.skip_welcome(#skip))),
        doc: "leave connection_established to the body",
    },
    Argument {
        name: "timeout",
        on: On::Both,
        parse: |value, args, errors| args.timeout = duration(value, "timeout", errors),
        rules: &[],
        expand: |args, _| args.timeout.map(|within| expanders::duration(quote!(timeout), within)),
        doc: "the body's deadline",
    },
    Argument {
        name: "event_timeout",
        on: On::Both,
        parse: |value, args, errors| args.event_timeout = duration(value, "event_timeout", errors),
        rules: &[],
        expand: |args, _| {
            args.event_timeout
                .map(|within| expanders::duration(quote!(event_timeout), within))
        },
        doc: "how long the welcome and the declared events may take",
    },
    Argument {
        name: "flavor",
        on: On::Both,
        parse: |value, args, errors| {
            args.flavor_span = Some(syn::spanned::Spanned::span(value));
            args.flavor = choice(value, "flavor", &["current_thread", "multi_thread"], errors).map(|c| match c {
                "multi_thread" => Flavor::MultiThread,
                _ => Flavor::CurrentThread,
            })
        },
        rules: &[],
        expand: expanders::flavor,
        doc: "the tokio runtime: current_thread (default) or multi_thread",
    },
    Argument {
        name: "worker_threads",
        on: On::Both,
        parse: |value, args, errors| {
            args.worker_threads = positive(value, "worker_threads", "worker_threads = 2", errors)
        },
        rules: &[Rule::Refuse(
            |args| args.flavor != Some(Flavor::MultiThread),
            "`worker_threads` requires `flavor = \"multi_thread\"`",
        )],
        expand: none,
        doc: "the multi-thread runtime's workers (with flavor)",
    },
    Argument {
        name: "crate",
        on: On::Both,
        parse: |value, args, errors| args.krate = crate_path(value, errors),
        rules: &[],
        expand: none,
        doc: "where the runtime is, for a facade crate that re-exports it",
    },
    Argument {
        name: "setup",
        on: On::Profile,
        parse: |value, args, errors| args.setup = path(value, "setup", "setup = seed_users", errors),
        rules: &[],
        expand: none,
        doc: "an async fn(&ProfileContext) run before each test",
    },
    Argument {
        name: "teardown",
        on: On::Profile,
        parse: |value, args, errors| args.teardown = path(value, "teardown", "teardown = clean_up", errors),
        rules: &[],
        expand: none,
        doc: "an async fn(&ProfileContext) run after each test",
    },
];

#[cfg(test)]
mod tests {
    use super::ARGUMENTS;

    /// The macro's docs describe every argument of the table, by its name in bold, and name no other.
    #[test]
    fn the_docs_describe_every_argument() {
        let docs = include_str!("lib.rs");
        for argument in ARGUMENTS {
            assert!(
                docs.contains(&format!("**`{}", argument.name)),
                "the docs in lib.rs do not describe `{}` ({})",
                argument.name,
                argument.doc
            );
        }
    }

    /// The guide's table of arguments (docs/attribute.md) names every argument, each as `` `name = `` in a row.
    #[test]
    fn the_guide_lists_every_argument() {
        let guide = include_str!("../../docs/attribute.md");
        let rows: Vec<&str> = guide.lines().filter(|line| line.starts_with("| `")).collect();
        let missing: Vec<&str> = ARGUMENTS
            .iter()
            .map(|argument| argument.name)
            .filter(|name| {
                !rows
                    .iter()
                    .any(|row| row.contains(&format!("`{name} =")) || row.contains(&format!("`{name}`")))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "docs/attribute.md's table leaves out: {}",
            missing.join(", ")
        );
        // Its sample of a misspelled argument is the real message (the ui test pins the whole of it).
        let real = include_str!("../../tests/ui/unknown_argument.stderr");
        let sample = guide
            .lines()
            .find(|line| line.starts_with("error: unknown argument `evnts`"))
            .expect("the guide shows a misspelled argument");
        let shown = sample.trim_end_matches("...").trim_end_matches(", ");
        let first = real.lines().next().unwrap_or_default();
        assert!(
            real.contains(shown) || first.starts_with(shown),
            "the guide's sample `{sample}` is not the real message `{first}`"
        );
    }

    #[test]
    fn each_argument_once() {
        for (i, argument) in ARGUMENTS.iter().enumerate() {
            assert!(
                ARGUMENTS[i + 1..].iter().all(|other| other.name != argument.name),
                "`{}` is in the table twice",
                argument.name
            );
        }
    }
}

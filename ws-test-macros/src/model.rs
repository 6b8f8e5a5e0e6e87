//! The argument model of `#[ws_test]` and `#[ws_profile]`: what the arguments read into (`Args` and its value
//! types) and the errors collected on the way. It depends on nothing else of the crate; every other file reads it.

use std::time::Duration;

use proc_macro2::Span;
use syn::{Expr, LitStr, Path};

/// Errors of one attribute, reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn take(self) -> Option<syn::Error> {
        self.0
    }
}

/// The declared events: a list of literals or paths, or one expression that yields them.
pub(crate) enum Events {
    List(Vec<Expr>),
    Expr(Expr),
}

/// The order mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants mirror the spellings: \"in_order\", \"any_order\""
)]
pub(crate) enum Order {
    Strict,
    InOrder,
    AnyOrder,
}

/// How the clients reach the embedded server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Transport {
    Tcp,
    Memory,
}

/// The runtime flavor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// Where the server is.
pub(crate) enum Url {
    /// `url = "ws://..."`: always that server.
    Literal(LitStr),
    /// `url = env("VAR")`: the server in VAR, which must be set.
    Env(LitStr),
    /// A profile's `url_env = "VAR"`: the server in VAR when it is set, else embedded.
    EnvOrEmbedded(LitStr),
}

/// The interpreted arguments; absent means the default.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) events: Option<Events>,
    pub(crate) order: Option<Order>,
    pub(crate) per: Option<LitStr>,
    pub(crate) times: Option<u32>,
    pub(crate) handler: Option<Expr>,
    pub(crate) server: Option<Expr>,
    pub(crate) app: Option<Expr>,
    pub(crate) serve: Option<Path>,
    pub(crate) replay: Option<LitStr>,
    pub(crate) contract: Option<LitStr>,
    pub(crate) ignore_fields: Option<Vec<LitStr>>,
    pub(crate) entry: Option<LitStr>,
    pub(crate) path: Option<LitStr>,
    pub(crate) transport: Option<Transport>,
    pub(crate) link: Option<LitStr>,
    pub(crate) start_paused: Option<bool>,
    /// Where `start_paused` was given: the span of the error when the runtime lacks its `test-util` feature.
    pub(crate) start_paused_span: Option<Span>,
    pub(crate) url: Option<Url>,
    pub(crate) clients: Option<u32>,
    pub(crate) events_on: Option<EventsOn>,
    pub(crate) headers: Option<Vec<(LitStr, LitStr)>>,
    pub(crate) token: Option<LitStr>,
    pub(crate) subprotocol: Option<LitStr>,
    pub(crate) protocol: Option<Expr>,
    pub(crate) event_key: Option<LitStr>,
    pub(crate) welcome: Option<LitStr>,
    pub(crate) pattern: Option<LitStr>,
    pub(crate) decode: Option<Path>,
    pub(crate) skip_welcome: Option<bool>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) event_timeout: Option<Duration>,
    pub(crate) flavor: Option<Flavor>,
    /// Where `flavor` was given: the span of the error when the runtime lacks its `multi-thread` feature.
    pub(crate) flavor_span: Option<Span>,
    pub(crate) worker_threads: Option<u32>,
    pub(crate) krate: Option<Path>,
    pub(crate) profile: Option<Path>,
    pub(crate) setup: Option<Path>,
    pub(crate) teardown: Option<Path>,
}

/// Which clients the declared events are checked on.
#[derive(Clone, Copy)]
pub(crate) enum EventsOn {
    /// Every client.
    All,
    /// The client at this index of the injected clients.
    Client(u32),
}

/// The names of the runtime's protocol kits (`ws_test_runtime::protocol::NAMES`, which a test of the runtime keeps
/// in step with this list).
pub(crate) const PROTOCOL_NAMES: &[&str] = &["socket.io", "graphql-transport-ws", "jsonrpc"];

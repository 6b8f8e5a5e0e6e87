//! The grammar of `#[ws_test(...)]`: parsing and validation, with every error on the offending token.

use std::time::Duration;

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use crate::table::{ARGUMENTS, Argument, On, Rule};

/// Which attribute is being parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Grammar {
    /// `#[ws_test(...)]`
    Test,
    /// `#[ws_profile(...)]` on `#[derive(WsProfile)]`
    Profile,
}

impl Grammar {
    /// The arguments this attribute takes, in the table's order.
    pub(crate) fn arguments(self) -> impl Iterator<Item = &'static Argument> {
        ARGUMENTS.iter().filter(move |argument| match argument.on {
            On::Both => true,
            On::Test => self == Grammar::Test,
            On::Profile => self == Grammar::Profile,
        })
    }

    fn names(self) -> Vec<&'static str> {
        self.arguments().map(|argument| argument.name).collect()
    }

    fn attribute(self) -> &'static str {
        match self {
            Grammar::Test => "#[ws_test]",
            Grammar::Profile => "#[ws_profile]",
        }
    }
}

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

/// `name = value`, before interpretation.
struct RawArg {
    name: Ident,
    value: Expr,
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                name.span(),
                format!("`{name}` needs a value: write `{name} = ...`"),
            ));
        }
        input.parse::<Token![=]>()?;
        Ok(RawArg {
            name,
            value: input.parse()?,
        })
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
    pub(crate) path: Option<LitStr>,
    pub(crate) transport: Option<Transport>,
    pub(crate) start_paused: Option<bool>,
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
    pub(crate) worker_threads: Option<u32>,
    pub(crate) krate: Option<Path>,
    pub(crate) profile: Option<Path>,
    pub(crate) setup: Option<Path>,
    pub(crate) teardown: Option<Path>,
}

/// Parses and validates the attribute's arguments; every problem lands in `errors`.
pub(crate) fn parse(tokens: proc_macro2::TokenStream, grammar: Grammar, errors: &mut Errors) -> Args {
    let raw = match syn::parse::Parser::parse2(Punctuated::<RawArg, Token![,]>::parse_terminated, tokens) {
        Ok(raw) => raw,
        Err(error) => {
            errors.push(error);
            return Args::default();
        }
    };
    let mut args = Args::default();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for RawArg { name, value } in raw {
        let key = name.unraw().to_string();
        if seen.iter().any(|(seen, _)| *seen == key) {
            errors.at(name.span(), format!("`{key}` is given twice; keep one"));
            continue;
        }
        seen.push((key.clone(), name.span()));
        match grammar.arguments().find(|argument| argument.name == key) {
            Some(argument) => (argument.parse)(&value, &mut args, errors),
            None => errors.at(name.span(), unknown(&key, grammar)),
        }
    }
    cross_check(&args, &seen, grammar, errors);
    args
}

/// An AsyncAPI document: a string naming a file, relative to the crate's `Cargo.toml`, that exists (an error on
/// the string otherwise).
pub(crate) fn document(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    let text = string(value, "contract", "contract = \"api/chat.yaml\"", errors)?;
    file_in_crate(text, errors, |path| {
        format!("no AsyncAPI document at `{path}` (the path is relative to the crate's Cargo.toml)")
    })
}

/// `text` when it names a file (relative to the crate's `Cargo.toml`) that exists; else an error on the string,
/// in `missing`'s words, rather than one in the `include_str!` it becomes.
fn file_in_crate(text: LitStr, errors: &mut Errors, missing: impl Fn(&str) -> String) -> Option<LitStr> {
    let path = std::path::PathBuf::from(text.value());
    let full = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if path.is_relative() => std::path::Path::new(&dir).join(&path),
        _ => path,
    };
    if full.is_file() {
        Some(text)
    } else {
        errors.at(text.span(), missing(&text.value()));
        None
    }
}

/// A recording: a string naming a file, relative to the crate's `Cargo.toml`, that exists (checked here, so a
/// wrong path is an error on the string rather than in `include_str!`).
pub(crate) fn recording(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    let text = string(value, "replay", "replay = \"tests/fixtures/chat.jsonl\"", errors)?;
    file_in_crate(text, errors, |path| {
        format!(
            "no recording at `{path}` (the path is relative to the crate's Cargo.toml): record one with \
             `ws-test record` or save a client's history with `client.history().save(path)`"
        )
    })
}

/// A list of non-empty string literals: `["a", "b"]`.
pub(crate) fn strings(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<Vec<LitStr>> {
    let Expr::Array(array) = value else {
        errors.at(
            value.span(),
            format!("`{key}` expects a list of strings, like `{example}`"),
        );
        return None;
    };
    let mut all = Vec::new();
    for element in &array.elems {
        all.push(string(element, key, example, errors)?);
    }
    Some(all)
}

/// Which clients the declared events are checked on.
#[derive(Clone, Copy)]
pub(crate) enum EventsOn {
    /// Every client.
    All,
    /// The client at this index of the injected clients.
    Client(u32),
}

/// `events_on = "all"` or `events_on = INDEX`.
pub(crate) fn events_on(value: &Expr, errors: &mut Errors) -> Option<EventsOn> {
    const EXAMPLE: &str = r#"events_on = "all" or events_on = 1"#;
    match literal(value) {
        Some(Lit::Str(text)) if text.value() == "all" => Some(EventsOn::All),
        Some(Lit::Int(number)) => match number.base10_parse::<u32>() {
            Ok(index) => Some(EventsOn::Client(index)),
            Err(_) => {
                errors.at(number.span(), "`events_on` is a client's index, from 0");
                None
            }
        },
        _ => {
            errors.at(
                value.span(),
                format!("`events_on` takes \"all\" or a client's index (0 is the first), like `{EXAMPLE}`"),
            );
            None
        }
    }
}

/// A list of `(name, value)` pairs of string literals: `[("X-User-Id", "alice")]`.
pub(crate) fn header_pairs(value: &Expr, errors: &mut Errors) -> Option<Vec<(LitStr, LitStr)>> {
    const EXAMPLE: &str = r#"headers = [("X-User-Id", "alice")]"#;
    let Expr::Array(array) = value else {
        errors.at(
            value.span(),
            format!("`headers` expects a list of (name, value) pairs, like `{EXAMPLE}`"),
        );
        return None;
    };
    let mut all = Vec::new();
    for element in &array.elems {
        match element {
            Expr::Tuple(pair) if pair.elems.len() == 2 => {
                let name = string(&pair.elems[0], "headers", EXAMPLE, errors)?;
                let value = string(&pair.elems[1], "headers", EXAMPLE, errors)?;
                all.push((name, value));
            }
            other => {
                errors.at(
                    other.span(),
                    format!("`headers` expects (name, value) pairs of strings, like `{EXAMPLE}`"),
                );
                return None;
            }
        }
    }
    Some(all)
}

/// A WebSocket path: a string that starts with `/`.
pub(crate) fn route(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    let text = string(value, "path", "path = \"/chat/ws\"", errors)?;
    if text.value().starts_with('/') {
        Some(text)
    } else {
        errors.at(
            text.span(),
            format!("`path = \"{}\"` must start with `/`, like \"/chat/ws\"", text.value()),
        );
        None
    }
}

pub(crate) fn path(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<Path> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Some(path.path.clone()),
        _ => {
            errors.at(value.span(), format!("`{key}` expects a path, like `{example}`"));
            None
        }
    }
}

fn unknown(key: &str, grammar: Grammar) -> String {
    let names = grammar.names();
    let suggestion = names
        .iter()
        .map(|name| (strsim::jaro_winkler(key, name), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| format!("did you mean `{name}`? "))
        .unwrap_or_default();
    format!(
        "unknown argument `{key}` for {}; {suggestion}expected one of: {}",
        grammar.attribute(),
        names.join(", ")
    )
}

fn span_of(seen: &[(String, Span)], key: &str) -> Option<Span> {
    seen.iter().find(|(name, _)| name == key).map(|(_, span)| *span)
}

/// Checks every rule of the table, each on the span of the argument that declares it.
fn cross_check(args: &Args, seen: &[(String, Span)], grammar: Grammar, errors: &mut Errors) {
    for argument in grammar.arguments() {
        let Some(span) = span_of(seen, argument.name) else {
            continue;
        };
        for rule in argument.rules {
            let message = |text: &str| text.replace("{key}", argument.name);
            match *rule {
                Rule::Conflicts(other, text) if span_of(seen, other).is_some() => errors.at(span, message(text)),
                Rule::Needs(any, text) if !any.iter().any(|other| span_of(seen, other).is_some()) => {
                    errors.at(span, message(text));
                }
                Rule::Refuse(refused, text) if refused(args) => errors.at(span, message(text)),
                _ => {}
            }
        }
    }
}

pub(crate) fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// The names of the runtime's protocol kits (`ws_test_runtime::protocol::NAMES`, which a test of the runtime keeps
/// in step with this list).
pub(crate) const PROTOCOL_NAMES: &[&str] = &["socket.io", "graphql-transport-ws", "jsonrpc"];

/// Other spellings the runtime accepts for the same kits.
const PROTOCOL_ALIASES: &[&str] = &["socketio", "graphql-ws", "json-rpc"];

/// `protocol = "socket.io"` (a kit's name, checked here) or `protocol = EXPR` (a kit with options, your own).
pub(crate) fn protocol(value: &Expr, errors: &mut Errors) -> Option<Expr> {
    match literal(value) {
        Some(Lit::Str(name)) => {
            let spelled = name.value().trim().to_ascii_lowercase();
            if PROTOCOL_NAMES.contains(&spelled.as_str()) || PROTOCOL_ALIASES.contains(&spelled.as_str()) {
                Some(value.clone())
            } else {
                errors.at(
                    name.span(),
                    format!(
                        "no protocol kit is called {:?}; the kits are {} (or give an expression: \
                         `protocol = MyProtocol` or `protocol = ws_test_runtime::protocol::SocketIo::new()`)",
                        name.value(),
                        PROTOCOL_NAMES.join(", ")
                    ),
                );
                None
            }
        }
        Some(_) => {
            errors.at(
                value.span(),
                "`protocol` expects a kit's name (`protocol = \"socket.io\"`) or an expression that makes a protocol",
            );
            None
        }
        None => Some(value.clone()),
    }
}

pub(crate) fn string(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match literal(value) {
        Some(Lit::Str(text)) if !text.value().is_empty() => Some(text.clone()),
        Some(Lit::Str(text)) => {
            errors.at(text.span(), format!("`{key}` cannot be empty"));
            None
        }
        _ => {
            errors.at(
                value.span(),
                format!("`{key}` expects a string literal, like `{example}`"),
            );
            None
        }
    }
}

pub(crate) fn positive(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<u32> {
    match literal(value) {
        Some(Lit::Int(number)) => match number.base10_parse::<u32>() {
            Ok(0) => {
                errors.at(number.span(), format!("`{key}` must be at least 1"));
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                errors.at(
                    number.span(),
                    format!("`{key}` must be a whole number from 1 to {}", u32::MAX),
                );
                None
            }
        },
        _ => {
            errors.at(value.span(), format!("`{key}` expects an integer, like `{example}`"));
            None
        }
    }
}

pub(crate) fn boolean(value: &Expr, key: &str, errors: &mut Errors) -> Option<bool> {
    match literal(value) {
        Some(Lit::Bool(flag)) => Some(flag.value),
        _ => {
            errors.at(value.span(), format!("`{key}` expects `true` or `false`"));
            None
        }
    }
}

pub(crate) fn choice(value: &Expr, key: &str, choices: &[&'static str], errors: &mut Errors) -> Option<&'static str> {
    let quoted = || {
        choices
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match literal(value) {
        Some(Lit::Str(text)) => {
            let given = text.value();
            match choices.iter().find(|choice| **choice == given) {
                Some(choice) => Some(choice),
                None => {
                    errors.at(
                        text.span(),
                        format!("`{key} = \"{given}\"` is not a choice; expected one of: {}", quoted()),
                    );
                    None
                }
            }
        }
        _ => {
            errors.at(
                value.span(),
                format!("`{key}` expects a string literal, one of: {}", quoted()),
            );
            None
        }
    }
}

pub(crate) fn duration(value: &Expr, key: &str, errors: &mut Errors) -> Option<Duration> {
    let text = string(value, key, &format!("{key} = \"30s\""), errors)?;
    match humantime::parse_duration(text.value().trim()) {
        Ok(duration) if !duration.is_zero() => Some(duration),
        Ok(_) => {
            errors.at(text.span(), format!("`{key}` must be longer than zero"));
            None
        }
        Err(error) => {
            errors.at(
                text.span(),
                format!("`{key}` is not a duration ({error}); write it like \"30s\", \"500ms\" or \"2m\""),
            );
            None
        }
    }
}

pub(crate) fn events(value: &Expr, errors: &mut Errors) -> Option<Events> {
    match value {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                errors.at(array.span(), "`events` is empty: name at least one event type");
                return None;
            }
            let mut items = Vec::new();
            for item in &array.elems {
                match literal(item) {
                    Some(Lit::Str(text)) if text.value().trim().is_empty() => {
                        errors.at(text.span(), "an event type cannot be empty");
                    }
                    Some(Lit::Str(_)) => items.push(item.clone()),
                    Some(other) => errors.at(
                        other.span(),
                        "an event is a string literal (\"agent_started\") or a path to a typed event",
                    ),
                    None if matches!(item, Expr::Path(_)) => items.push(item.clone()),
                    None => errors.at(
                        item.span(),
                        "an event is a string literal (\"agent_started\") or a path to a typed event",
                    ),
                }
            }
            Some(Events::List(items))
        }
        Expr::Path(_) | Expr::Field(_) | Expr::Call(_) | Expr::MethodCall(_) | Expr::Macro(_) => {
            Some(Events::Expr(value.clone()))
        }
        _ => {
            errors.at(
                value.span(),
                "`events` expects a list, like `events = [\"agent_started\", \"agent_completed\"]`",
            );
            None
        }
    }
}

pub(crate) fn url(value: &Expr, errors: &mut Errors) -> Option<Url> {
    match value {
        Expr::Call(call) if matches!(&*call.func, Expr::Path(path) if path.path.is_ident("env")) => {
            match (call.args.len(), call.args.first().and_then(literal)) {
                (1, Some(Lit::Str(variable))) if !variable.value().is_empty() => Some(Url::Env(variable.clone())),
                _ => {
                    errors.at(
                        call.span(),
                        "write `url = env(\"VARIABLE\")` with the variable's name as a string",
                    );
                    None
                }
            }
        }
        _ => match literal(value) {
            Some(Lit::Str(text)) => {
                let url = text.value();
                if url.starts_with("ws://") || url.starts_with("wss://") {
                    Some(Url::Literal(text.clone()))
                } else {
                    errors.at(
                        text.span(),
                        format!("`url = \"{url}\"` must start with ws:// or wss://"),
                    );
                    None
                }
            }
            _ => {
                errors.at(
                    value.span(),
                    "`url` expects \"ws://host:port/path\" or env(\"VARIABLE\")",
                );
                None
            }
        },
    }
}

pub(crate) fn crate_path(value: &Expr, errors: &mut Errors) -> Option<Path> {
    let text = string(value, "crate", "crate = \"my_testkit::ws\"", errors)?;
    match text.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            errors.at(text.span(), format!("`crate = \"{}\"` is not a path", text.value()));
            None
        }
    }
}

/// An event pattern: a string in the grammar of `Expect::pattern`, checked here with the same parser, so a bad
/// pattern is an error on the string.
pub(crate) fn pattern(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    let text = string(value, "pattern", "pattern = \"started delta+ done\"", errors)?;
    match ws_test_pattern::parse(&text.value()) {
        Ok(_) => Some(text),
        Err(error) => {
            errors.at(text.span(), error.to_string());
            None
        }
    }
}

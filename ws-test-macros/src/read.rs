//! The value readers: one function per kind of argument value (a string, a duration, a list of events, a URL,
//! a path, ...), each turning the attribute's expression into the model's value or an error on its token.

use std::time::Duration;

use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

use crate::model::*;

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

pub(crate) fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

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

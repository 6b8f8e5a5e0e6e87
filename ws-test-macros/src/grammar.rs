//! The grammar of `#[ws_test(...)]` and `#[ws_profile(...)]`: the arguments read through the table, unknown and
//! repeated ones refused, and the table's cross-argument rules checked, with every error on the offending token.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

use crate::model::*;
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

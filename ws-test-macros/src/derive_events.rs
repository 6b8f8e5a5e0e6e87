//! `#[derive(WsEvents)]`: wire names from serde's attributes, the critical order, typed decoding.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned as _;
use syn::{Data, DeriveInput, Expr, Ident, LitStr, Token};

use crate::model::Errors;

/// Serde's `rename_all` rules, as serde spells them.
const RULES: [&str; 8] = [
    "lowercase",
    "UPPERCASE",
    "PascalCase",
    "camelCase",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

fn apply_rule(rule: &str, variant: &str) -> String {
    let snake = || {
        let mut out = String::new();
        for (i, c) in variant.char_indices() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        }
        out
    };
    match rule {
        "lowercase" => variant.to_ascii_lowercase(),
        "UPPERCASE" => variant.to_ascii_uppercase(),
        "camelCase" => {
            let mut chars = variant.chars();
            chars
                .next()
                .map(|first| first.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        }
        "snake_case" => snake(),
        "SCREAMING_SNAKE_CASE" => snake().to_ascii_uppercase(),
        "kebab-case" => snake().replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => snake().replace('_', "-").to_ascii_uppercase(),
        _ => variant.to_owned(),
    }
}

/// Consumes a serde argument we do not interpret (`= value` or `(...)`).
fn skip(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}

/// A serde string that may be given for both directions (`rename = "x"` or `rename(deserialize = "x")`).
fn serde_string(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut found = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("deserialize") {
            found = Some(inner.value()?.parse()?);
        } else {
            skip(&inner)?;
        }
        Ok(())
    })?;
    Ok(found)
}

/// Runs `each` on every argument of every `#[name(...)]` attribute in `attrs`; parse errors land in `errors`.
fn each_argument(
    attrs: &[syn::Attribute],
    name: &str,
    errors: &mut Errors,
    mut each: impl FnMut(syn::meta::ParseNestedMeta) -> syn::Result<()>,
) {
    for attribute in attrs.iter().filter(|attribute| attribute.path().is_ident(name)) {
        if let Err(error) = attribute.parse_nested_meta(&mut each) {
            errors.push(error);
        }
    }
}

struct Container {
    tag: Option<LitStr>,
    rename_all: Option<LitStr>,
    /// `content = "..."`: serde's adjacently tagged form.
    content: Option<LitStr>,
    /// `untagged`.
    untagged: Option<proc_macro2::Span>,
}

fn container(input: &DeriveInput, errors: &mut Errors) -> Container {
    let mut found = Container {
        tag: None,
        rename_all: None,
        content: None,
        untagged: None,
    };
    each_argument(&input.attrs, "serde", errors, |meta| {
        if meta.path.is_ident("tag") {
            found.tag = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("content") {
            found.content = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("untagged") {
            found.untagged = meta.path.get_ident().map(Ident::span);
        } else if meta.path.is_ident("rename_all") {
            found.rename_all = serde_string(&meta)?;
        } else {
            skip(&meta)?;
        }
        Ok(())
    });
    found
}

struct Options {
    order: Option<Vec<Ident>>,
    krate: Option<syn::Path>,
}

fn options(input: &DeriveInput, errors: &mut Errors) -> Options {
    let mut found = Options {
        order: None,
        krate: None,
    };
    for attribute in input
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident("ws_events"))
    {
        let parsed = attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("order") {
                let list: syn::ExprArray = meta.value()?.parse()?;
                let mut idents = Vec::new();
                for item in list.elems {
                    match &item {
                        Expr::Path(path) if path.path.get_ident().is_some() => {
                            idents.extend(path.path.get_ident().cloned());
                        }
                        other => errors.at(other.span(), "name a variant of this enum, like `AgentStarted`"),
                    }
                }
                found.order = Some(idents);
            } else if meta.path.is_ident("crate") {
                let text: LitStr = meta.value()?.parse()?;
                found.krate = Some(text.parse()?);
            } else {
                let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
                errors.at(
                    meta.path.span(),
                    format!("unknown key `{name}` in #[ws_events]; expected one of: order, crate"),
                );
                skip(&meta)?;
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    found
}

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            let message = format!("WsEvents goes on an enum of events; `{}` is a struct", input.ident);
            return syn::Error::new(data.struct_token.span, message).to_compile_error();
        }
        Data::Union(data) => {
            let message = format!("WsEvents goes on an enum of events; `{}` is a union", input.ident);
            return syn::Error::new(data.union_token.span, message).to_compile_error();
        }
    };
    let container = container(&input, &mut errors);
    let options = options(&input, &mut errors);
    // The event key is serde's own internal tag: `tag = "event"` names events by their "event" field.
    match (&container.tag, &container.content, container.untagged) {
        (_, _, Some(untagged)) => errors.at(
            untagged,
            "WsEvents reads an event's name from serde's internal tag, and an untagged enum has none: use \
             #[serde(tag = \"type\")] (or the field your protocol names events by, such as \"event\")",
        ),
        (_, Some(content), _) => errors.at(
            content.span(),
            "WsEvents supports serde's internally tagged form only (the fields beside the tag), not the adjacently \
             tagged one: drop `content`",
        ),
        (Some(tag), None, None) if tag.value().is_empty() => errors.at(tag.span(), "the tag cannot be empty"),
        (Some(_), None, None) => {}
        (None, None, None) => errors.at(
            input.ident.span(),
            "WsEvents works with serde's internally tagged form: add #[serde(tag = \"type\")] (or the field your \
             protocol names events by, such as tag = \"event\"; and usually rename_all = \"snake_case\")",
        ),
    }
    let event_key = container.tag.as_ref().map_or_else(|| "type".to_owned(), LitStr::value);
    let rule = container.rename_all.as_ref().map(|rule| {
        let value = rule.value();
        if !RULES.contains(&value.as_str()) {
            errors.at(
                rule.span(),
                format!("unknown rename_all rule \"{value}\"; serde knows: {}", RULES.join(", ")),
            );
        }
        value
    });

    let mut variants: Vec<(Ident, String, bool)> = Vec::new();
    for variant in &data.variants {
        let mut wire = rule.as_deref().map_or_else(
            || variant.ident.to_string(),
            |rule| apply_rule(rule, &variant.ident.to_string()),
        );
        let mut skipped = false;
        each_argument(&variant.attrs, "serde", &mut errors, |meta| {
            if meta.path.is_ident("rename") {
                if let Some(name) = serde_string(&meta)? {
                    wire = name.value();
                }
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                skipped = true;
            } else {
                skip(&meta)?;
            }
            Ok(())
        });
        if let Some((other, _, _)) = variants
            .iter()
            .find(|(_, existing, skip)| *existing == wire && !skip && !skipped)
        {
            errors.at(
                variant.ident.span(),
                format!(
                    "`{}` and `{other}` both go on the wire as \"{wire}\"; rename one",
                    variant.ident
                ),
            );
        }
        variants.push((variant.ident.clone(), wire, skipped));
    }

    let wire_of = |ident: &Ident| {
        variants
            .iter()
            .find(|(name, _, _)| name == ident)
            .map(|(_, wire, _)| wire.clone())
    };
    let critical: Vec<String> = match &options.order {
        Some(order) => {
            let mut wires = Vec::new();
            for ident in order {
                match wire_of(ident) {
                    Some(_) if order.iter().filter(|other| *other == ident).count() > 1 => {
                        errors.at(ident.span(), format!("`{ident}` appears twice in the order"));
                    }
                    Some(wire) => wires.push(wire),
                    None => {
                        let known: Vec<String> = variants.iter().map(|(name, _, _)| name.to_string()).collect();
                        errors.at(
                            ident.span(),
                            format!(
                                "no variant `{ident}` in `{}`; its variants: {}",
                                input.ident,
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
            wires
        }
        None => variants
            .iter()
            .filter(|(_, _, skipped)| !skipped)
            .map(|(_, wire, _)| wire.clone())
            .collect(),
    };
    if let Some(error) = errors.take() {
        return error.to_compile_error();
    }

    let krate = match &options.krate {
        Some(path) => quote!(#path),
        None => quote!(::ws_test_runtime),
    };
    let ident = &input.ident;
    let name = LitStr::new(&ident.to_string(), Span::call_site());
    let vis = &input.vis;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let names = variants
        .iter()
        .filter(|(_, _, skipped)| !skipped)
        .map(|(_, wire, _)| wire);
    let pairs = variants.iter().map(|(variant, wire, _)| {
        let variant = variant.to_string();
        quote!((#variant, #wire))
    });
    let arms = variants
        .iter()
        .map(|(variant, wire, _)| quote!(Self::#variant { .. } => #wire,));
    quote! {
        impl #impl_generics #krate::__private::WsEvents for #ident #type_generics #where_clause {
            const ENUM_NAME: &'static str = #name;
            const EVENT_KEY: &'static str = #event_key;
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const CRITICAL: &'static [&'static str] = &[#(#critical),*];
            const VARIANTS: &'static [(&'static str, &'static str)] = &[#(#pairs),*];

            fn name(&self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }

            fn decode(frame: &#krate::__private::Value) -> ::core::result::Result<Self, #krate::Error> {
                #krate::__private::decode_with_serde(frame)
            }
        }

        impl #impl_generics #ident #type_generics #where_clause {
            /// The field that names these events on the wire (serde's `tag`).
            #vis const EVENT_KEY: &'static str = <Self as #krate::__private::WsEvents>::EVENT_KEY;
            /// Every wire name of these events (the event key's values), in variant order.
            #vis const NAMES: &'static [&'static str] = <Self as #krate::__private::WsEvents>::NAMES;
            /// The declared critical order of these events.
            #vis const CRITICAL: &'static [&'static str] = <Self as #krate::__private::WsEvents>::CRITICAL;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apply_rule;

    #[test]
    fn rename_rules_match_serde() {
        assert_eq!(apply_rule("snake_case", "AgentStarted"), "agent_started");
        assert_eq!(apply_rule("SCREAMING_SNAKE_CASE", "AgentStarted"), "AGENT_STARTED");
        assert_eq!(apply_rule("kebab-case", "AgentStarted"), "agent-started");
        assert_eq!(apply_rule("SCREAMING-KEBAB-CASE", "AgentStarted"), "AGENT-STARTED");
        assert_eq!(apply_rule("camelCase", "AgentStarted"), "agentStarted");
        assert_eq!(apply_rule("PascalCase", "AgentStarted"), "AgentStarted");
        assert_eq!(apply_rule("lowercase", "AgentStarted"), "agentstarted");
        assert_eq!(apply_rule("UPPERCASE", "AgentStarted"), "AGENTSTARTED");
    }
}

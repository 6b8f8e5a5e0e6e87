//! The expanders: for each argument, the `TestSpec` calls (or the code) it becomes, from the model alone. The
//! table names which expander each argument has.

use std::cell::RefCell;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned as _;

use crate::model::*;

/// `::ws_test_runtime`, or the facade path of `crate = "..."`.
pub(crate) fn runtime_path(args: &Args) -> TokenStream {
    match &args.krate {
        Some(path) => quote!(#path),
        None => quote!(::ws_test_runtime),
    }
}

/// Whether a path in an events list names an enum variant (`ChatEvent::AgentStarted`) rather than a value
/// (`protocol::AGENT_STARTED`): two segments or more, the last in CamelCase.
fn variant_path(path: &syn::Path) -> Option<(syn::Path, String)> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let camel = name.chars().next().is_some_and(char::is_uppercase) && name.chars().any(char::is_lowercase);
    if path.segments.len() < 2 || !camel {
        return None;
    }
    let segments = path.segments.iter().take(path.segments.len() - 1).cloned().collect();
    Some((
        syn::Path {
            leading_colon: path.leading_colon,
            segments,
        },
        name,
    ))
}

/// What an argument's expansion reads beside the arguments: the runtime's private path, and where the
/// item-level checks go (type-checked even where test functions are not compiled, each pointing at the user's
/// tokens).
pub(crate) struct Context {
    private: TokenStream,
    checks: RefCell<Vec<TokenStream>>,
}

impl Context {
    /// A context for one expansion: `private` is the runtime's hidden module path.
    pub(crate) fn new(private: &TokenStream) -> Context {
        Context {
            private: private.clone(),
            checks: RefCell::new(Vec::new()),
        }
    }

    fn check(&self, check: TokenStream) {
        self.checks.borrow_mut().push(check);
    }

    /// The compile-time checks the expanders asked for.
    pub(crate) fn into_checks(self) -> Vec<TokenStream> {
        self.checks.into_inner()
    }
}

/// The enum of `Enum::CRITICAL` or `Enum::NAMES` (a constant of an enum that derives `WsEvents`), not a module's
/// constant (`events::ALL`): two segments or more, the one before the last in CamelCase.
fn constant_of_enum(path: &syn::Path) -> Option<syn::Path> {
    let count = path.segments.len();
    let last = path.segments.last()?.ident.to_string();
    let owner = path.segments.iter().nth(count.checked_sub(2)?)?.ident.to_string();
    let camel = owner.chars().next().is_some_and(char::is_uppercase) && owner.chars().any(char::is_lowercase);
    if !camel || !matches!(last.as_str(), "CRITICAL" | "NAMES") {
        return None;
    }
    Some(syn::Path {
        leading_colon: path.leading_colon,
        segments: path.segments.iter().take(count - 1).cloned().collect(),
    })
}

pub(crate) fn profile(args: &Args, _: &Context) -> Option<TokenStream> {
    let profile = args.profile.as_ref()?;
    Some(quote_spanned!(profile.span()=> .profile::<#profile>()))
}

/// `events`, refined by `order`, `per` and `times` (which refine a profile's events when the test declares none).
pub(crate) fn events(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    let mut refine = TokenStream::new();
    if let Some(order) = args.order {
        let variant = match order {
            Order::Strict => quote!(Strict),
            Order::InOrder => quote!(InOrder),
            Order::AnyOrder => quote!(AnyOrder),
        };
        refine.extend(quote!(.order(#private::Order::#variant)));
    }
    if let Some(per) = &args.per {
        refine.extend(quote!(.per(#per)));
    }
    if let Some(times) = args.times {
        refine.extend(quote!(.times(#times)));
    }
    if let Some(pattern) = &args.pattern {
        // Checked by the attribute with the runtime's own parser: it parses.
        return Some(quote!(.expect(#private::parsed_pattern(#pattern) #refine)));
    }
    let Some(events) = &args.events else {
        return (!refine.is_empty())
            .then(|| quote!(.refine_events(|__ws_events: #private::Expectation| __ws_events #refine)));
    };
    // The enum the events come from, when they name one: its event key (serde's tag) applies, unless the test
    // names its own.
    let mut events_enum: Option<syn::Path> = None;
    let events = match events {
        Events::List(items) => {
            let items = items.iter().map(|item| match item {
                Expr::Path(expr) => match variant_path(&expr.path) {
                    Some((enum_path, variant)) => {
                        events_enum.get_or_insert_with(|| enum_path.clone());
                        let path = &expr.path;
                        context.check(quote_spanned! {path.span()=>
                            const _: () = {
                                #[allow(unreachable_patterns, dead_code)]
                                fn __ws_variant_exists(event: &#enum_path) {
                                    match event {
                                        #path { .. } => {}
                                        _ => {}
                                    }
                                }
                            };
                        });
                        quote!(#private::variant_name::<#enum_path>(#variant))
                    }
                    None => quote!(#item),
                },
                other => quote!(#other),
            });
            quote!([#(#items),*])
        }
        Events::Expr(expr) => {
            if let Expr::Path(expr) = expr {
                events_enum = constant_of_enum(&expr.path);
            }
            quote!(#expr)
        }
    };
    let keyed = match (&events_enum, &args.event_key) {
        (Some(enum_path), None) => quote!(.event_key(#private::event_key_of::<#enum_path>())),
        _ => TokenStream::new(),
    };
    Some(quote!(.expect(#private::Expect::events(#events) #keyed #refine)))
}

impl Context {
    /// An item that type-checks `value` with the runtime's `check` function, pointing at the user's tokens.
    fn check_value(&self, check: &str, value: &impl ToTokens) {
        let private = &self.private;
        let check = syn::Ident::new(check, value.span());
        self.check(quote_spanned! {value.span()=>
            const _: () = {
                let _ = || #private::#check(#value);
            };
        });
    }
}

pub(crate) fn handler(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    let handler = args.handler.as_ref()?;
    context.check_value("check_handler", handler);
    Some(quote! {
        .handler(|__ws_builder: #private::ServerBuilder| #private::with_handler(__ws_builder, #handler))
    })
}

pub(crate) fn app(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    let app = args.app.as_ref()?;
    context.check_value("check_app", app);
    Some(quote! {
        .app(|__ws_builder: #private::ServerBuilder| #private::with_app(__ws_builder, #app))
    })
}

pub(crate) fn serve(args: &Args, context: &Context) -> Option<TokenStream> {
    let serve = args.serve.as_ref()?;
    context.check_value("check_serve", serve);
    Some(quote!(.serve(#serve)))
}

/// `.replay(...)` with the recording embedded; a HAR file (by its extension) also asks the runtime whether it was
/// built with its `har` feature.
pub(crate) fn replay(args: &Args, context: &Context) -> Option<TokenStream> {
    let recording = args.replay.as_ref()?;
    if recording.value().to_ascii_lowercase().ends_with(".har") {
        context.needs_feature("needs_har", Some(recording.span()));
    }
    let text = embedded(recording);
    Some(quote_spanned!(recording.span()=> .replay(#recording, #text)))
}

pub(crate) fn contract(args: &Args, _: &Context) -> Option<TokenStream> {
    let document = args.contract.as_ref()?;
    let text = embedded(document);
    Some(quote_spanned!(document.span()=> .contract(#document, #text)))
}

/// A file's text embedded at compile time (`include_str!`), relative to the crate's `Cargo.toml` unless absolute:
/// the test runs anywhere (a nextest archive on another machine), and cargo rebuilds it when the file changes.
fn embedded(path: &syn::LitStr) -> TokenStream {
    let file = if std::path::Path::new(&path.value()).is_absolute() {
        quote_spanned!(path.span()=> #path)
    } else {
        quote_spanned!(path.span()=> ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path))
    };
    quote_spanned!(path.span()=> ::core::include_str!(#file))
}

pub(crate) fn transport(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    Some(match args.transport? {
        Transport::Memory => quote!(.transport(#private::Transport::Memory)),
        Transport::Tcp => quote!(.transport(#private::Transport::Tcp)),
    })
}

pub(crate) fn url(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    Some(match args.url.as_ref()? {
        Url::Literal(url) => quote!(.target(#private::Target::Url(::std::string::String::from(#url)))),
        Url::Env(variable) => quote!(.target(#private::Target::UrlFromEnv(::std::string::String::from(#variable)))),
        Url::EnvOrEmbedded(variable) => {
            quote!(.target(#private::Target::UrlFromEnvOrEmbedded(::std::string::String::from(#variable))))
        }
    })
}

/// `.flavor(...)`; the multi-thread flavor also asks the runtime whether it was built with its `multi-thread`
/// feature (an item-level check: a compile error at the argument when not).
pub(crate) fn flavor(args: &Args, context: &Context) -> Option<TokenStream> {
    let private = &context.private;
    let flavor = args.flavor?;
    if flavor == Flavor::MultiThread {
        context.needs_feature("needs_multi_thread", args.flavor_span);
    }
    Some(match (flavor, args.worker_threads) {
        (Flavor::MultiThread, Some(workers)) => {
            let workers = workers as usize;
            quote!(.flavor(#private::Flavor::MultiThread(::core::option::Option::Some(#workers))))
        }
        (Flavor::MultiThread, None) => quote!(.flavor(#private::Flavor::MultiThread(::core::option::Option::None))),
        (Flavor::CurrentThread, _) => quote!(.flavor(#private::Flavor::CurrentThread)),
    })
}

/// `.protocol(...)`; a kit named by its literal name also asks the runtime whether it was built with the kit's
/// feature (`socketio`, `graphql`, `jsonrpc`).
pub(crate) fn protocol_kit(args: &Args, context: &Context) -> Option<TokenStream> {
    let protocol = args.protocol.as_ref()?;
    if let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(name),
        ..
    }) = protocol
    {
        let needs = match name.value().trim().to_ascii_lowercase().as_str() {
            "socket.io" | "socketio" => Some("needs_socketio"),
            "graphql-transport-ws" | "graphql-ws" => Some("needs_graphql"),
            "jsonrpc" | "json-rpc" => Some("needs_jsonrpc"),
            _ => None,
        };
        if let Some(needs) = needs {
            context.needs_feature(needs, Some(name.span()));
        }
    }
    Some(quote!(.protocol(#protocol)))
}

/// `.start_paused(...)`; a paused clock also asks the runtime whether it was built with its `test-util` feature.
pub(crate) fn start_paused(args: &Args, context: &Context) -> Option<TokenStream> {
    let paused = args.start_paused?;
    if paused {
        context.needs_feature("needs_test_util", args.start_paused_span);
    }
    Some(quote!(.start_paused(#paused)))
}

impl Context {
    /// An item that calls the runtime's `__private::NAME!()`, spanned at the argument that needs a feature of the
    /// runtime: nothing when the runtime has it, its compile error pointing at the argument when not.
    fn needs_feature(&self, name: &str, span: Option<Span>) {
        let span = span.unwrap_or_else(Span::call_site);
        let name = proc_macro2::Ident::new(name, span);
        let private = self.private.clone().into_iter().map(|mut token| {
            token.set_span(span);
            token
        });
        self.check(quote_spanned!(span=> const _: () = { #(#private)*::#name!(); };));
    }
}

/// `.timeout(...)` or `.event_timeout(...)` with the duration in nanoseconds.
pub(crate) fn duration(method: TokenStream, within: std::time::Duration) -> TokenStream {
    let nanos = within.as_nanos() as u64;
    quote!(.#method(::core::time::Duration::from_nanos(#nanos)))
}

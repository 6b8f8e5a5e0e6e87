//! `#[ws_test]`: tokens in, tokens out — the placement of the generated test around the user's function, and
//! the spec's calls in the table's order. Everything that runs lives in `ws_test_runtime::driver`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Attribute, FnArg, ItemFn, LitStr, ReturnType};

use crate::expanders::{Context, runtime_path};
use crate::grammar::{self, Grammar};
use crate::model::*;
use crate::table::ARGUMENTS;

/// Expands `#[ws_test(args)] item`. On any error, emits the function unchanged (so IDEs keep working) and every
/// error of the attribute.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = grammar::parse(args, Grammar::Test, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.at(Span::call_site(), "#[ws_test] goes on an `async fn`");
            let error = errors.take().map(|error| error.to_compile_error());
            return quote! { #error #item };
        }
    };
    check_function(&function, &mut errors);
    match errors.take() {
        Some(error) => {
            let error = error.to_compile_error();
            quote! {
                #error
                #[allow(dead_code)]
                #function
            }
        }
        None => generate(&args, function),
    }
}

fn is_test_attribute(attribute: &Attribute) -> bool {
    let path = attribute.path();
    path.segments
        .last()
        .is_some_and(|last| last.ident == "test" || last.ident == "ws_test")
}

fn check_function(function: &ItemFn, errors: &mut Errors) {
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        errors.at(signature.fn_token.span(), "#[ws_test] functions must be `async fn`");
    }
    if !signature.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &signature.generics,
            "#[ws_test] functions cannot be generic",
        ));
    }
    for attribute in &function.attrs {
        if is_test_attribute(attribute) {
            let name = quote!(#attribute).to_string().replace(' ', "");
            errors.push(syn::Error::new_spanned(
                attribute,
                format!(
                    "`{name}` and #[ws_test] both make this a test; remove `{name}` (#[ws_test] builds its own runtime)"
                ),
            ));
        }
    }
    let mut count = 0;
    for input in &signature.inputs {
        count += 1;
        match input {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "#[ws_test] functions cannot take `self`",
                ));
            }
            FnArg::Typed(_) if count > 2 => errors.push(syn::Error::new_spanned(
                input,
                "#[ws_test] injects at most two parameters: a client (`&mut WsClient`, `WsClient` or \
                 `Vec<WsClient>`) and `&EmbeddedServer`",
            )),
            FnArg::Typed(_) => {}
        }
    }
}

/// The builder calls that apply `args` to a `TestSpec`, one per argument in the table's order, and the
/// item-level checks they need.
pub(crate) fn spec_calls(args: &Args, private: &TokenStream) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let context = Context::new(private);
    let calls = ARGUMENTS
        .iter()
        .filter_map(|argument| (argument.expand)(args, &context))
        .collect();
    (calls, context.into_checks())
}

/// Where the user's attributes go. The body lives in its own function beside the test, so an attribute about the
/// code (a lint level: `#[expect(unused_variables)]`, `#[allow(...)]`) goes there, an attribute about the test
/// (`#[ignore]`, `#[should_panic]`, docs, anything else) goes on the test, and a `#[cfg(...)]` goes on every item
/// generated, so the test and its body come and go together. A `#[cfg_attr(pred, a, b)]` is split and each of
/// its attributes routed the same way.
#[derive(Default)]
struct Placement {
    /// On every generated item.
    everywhere: Vec<TokenStream>,
    /// On the function that holds the body.
    body: Vec<TokenStream>,
    /// On the `#[test]` function.
    test: Vec<TokenStream>,
}

const LINT_LEVELS: [&str; 5] = ["allow", "expect", "warn", "deny", "forbid"];

impl Placement {
    fn new(attributes: &[Attribute]) -> Self {
        let mut placement = Placement::default();
        for attribute in attributes {
            placement.route(attribute.path(), &attribute.meta, None);
        }
        placement
    }

    /// Files `meta` (wrapped in `#[cfg_attr(predicate, ...)]` when it came from one).
    fn route(&mut self, path: &syn::Path, meta: &syn::Meta, predicate: Option<&TokenStream>) {
        if path.is_ident("cfg_attr") {
            if let Ok((inner_predicate, metas)) = split_cfg_attr(meta) {
                let predicate = match predicate {
                    Some(outer) => quote!(all(#outer, #inner_predicate)),
                    None => inner_predicate,
                };
                for inner in &metas {
                    self.route(inner.path(), inner, Some(&predicate));
                }
                return;
            }
        }
        let tokens = match predicate {
            Some(predicate) => quote!(#[cfg_attr(#predicate, #meta)]),
            None => quote!(#[#meta]),
        };
        if path.is_ident("cfg") {
            self.everywhere.push(tokens);
        } else if LINT_LEVELS.iter().any(|level| path.is_ident(level)) {
            self.body.push(tokens);
        } else {
            self.test.push(tokens);
        }
    }
}

/// `cfg_attr(predicate, a, b, ...)` as its predicate and its attributes.
fn split_cfg_attr(meta: &syn::Meta) -> syn::Result<(TokenStream, Vec<syn::Meta>)> {
    let list = meta.require_list()?;
    list.parse_args_with(|input: syn::parse::ParseStream| {
        let predicate: syn::Meta = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let metas = syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated(input)?;
        Ok((quote!(#predicate), metas.into_iter().collect()))
    })
}

fn generate(args: &Args, function: ItemFn) -> TokenStream {
    let krate = runtime_path(args);
    let private = quote!(#krate::__private);
    let ident = function.sig.ident.clone();
    let name = LitStr::new(&ident.to_string(), Span::call_site());
    let ItemFn {
        attrs, vis, sig, block, ..
    } = function;
    let (calls, checks) = spec_calls(args, &private);
    // The user's function stays as written (spans and all) beside the test, under a name of its own; the test
    // keeps the user's name. The checks are items, so they are type-checked even where `#[test]` functions
    // are not compiled (a `cargo check` without `--tests`), and each points at the user's tokens.
    let inner = format_ident!("__ws_test_{}", ident);
    let mut inner_sig = sig.clone();
    inner_sig.ident = inner.clone();
    // The parameter check names the function with the span of its parentheses, so an unsupported signature is
    // reported on the parameters.
    let parameters = sig.paren_token.span.join();
    let inner_at_parameters = proc_macro2::Ident::new(&inner.to_string(), parameters);
    // With `serve` there is no embedded server to inject: a `&EmbeddedServer` parameter is an error naming it.
    let parameter_check = match &args.serve {
        Some(_) => quote_spanned!(parameters=> #private::check_served_parameters(&#inner_at_parameters)),
        None => quote_spanned!(parameters=> #private::check_parameters(&#inner_at_parameters)),
    };
    let return_check = match &sig.output {
        ReturnType::Type(_, ty) => quote_spanned! {ty.span()=>
            const _: () = {
                fn __ws_returns<T: #private::TestOutcome>() {}
                let _ = __ws_returns::<#ty>;
            };
        },
        ReturnType::Default => quote!(),
    };
    let Placement {
        everywhere,
        body: body_attrs,
        test: test_attrs,
    } = Placement::new(&attrs);
    let return_check = (!return_check.is_empty()).then(|| quote!(#(#everywhere)* #return_check));
    let checks = checks.iter().map(|check| quote!(#(#everywhere)* #check));
    quote! {
        #(#everywhere)*
        #(#body_attrs)*
        #[cfg_attr(not(test), allow(dead_code))]
        #inner_sig #block

        #return_check
        #(#checks)*
        #(#everywhere)*
        const _: () = {
            let _ = || #parameter_check;
        };

        #(#everywhere)*
        #(#test_attrs)*
        #[::core::prelude::v1::test]
        #vis fn #ident() {
            let __ws_spec = #private::TestSpec::new(::core::concat!(::core::module_path!(), "::", #name)) #(#calls)*;
            #private::run(__ws_spec, #private::body(#inner))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    fn pretty(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        let tokens = expand(args, item);
        match syn::parse2::<syn::File>(tokens.clone()) {
            Ok(file) => prettyplease::unparse(&file),
            Err(_) => tokens.to_string(),
        }
    }

    #[test]
    fn the_common_case() {
        insta::assert_snapshot!(pretty(
            quote!(
                events = [
                    "agent_started",
                    "agent_thinking",
                    "tool_executing",
                    "tool_completed",
                    "agent_completed"
                ]
            ),
            quote! {
                async fn chat_flow(client: &mut WsClient) -> TestResult {
                    client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
                    Ok(())
                }
            },
        ));
    }

    #[test]
    fn every_argument() {
        insta::assert_snapshot!(pretty(
            quote!(
                events = ["a", "b"],
                order = "strict",
                per = "run_id",
                times = 2,
                handler = ChatAgent::new(),
                server = my_server,
                clients = 3,
                headers = [("X-User-Id", "alice")],
                token = "t0k",
                skip_welcome = true,
                timeout = "10s",
                event_timeout = "750ms",
                flavor = "multi_thread",
                worker_threads = 2,
                crate = "my_kit::ws"
            ),
            quote! {
                /// Documented.
                #[ignore]
                #[should_panic(expected = "boom")]
                async fn everything(clients: Vec<WsClient>, server: &EmbeddedServer) {}
            },
        ));
    }

    #[test]
    fn attributes_go_where_they_apply() {
        insta::assert_snapshot!(pretty(
            quote!(),
            quote! {
                /// Documented.
                #[cfg(feature = "slow")]
                #[expect(unused_variables)]
                #[allow(clippy::let_and_return)]
                #[cfg_attr(miri, ignore, allow(dead_code))]
                #[should_panic]
                async fn routed(client: &mut WsClient) {}
            },
        ));
    }

    #[test]
    fn an_external_url() {
        insta::assert_snapshot!(pretty(
            quote!(url = env("STAGING_WS_URL"), events = CRITICAL),
            quote!(
                async fn smoke(client: &mut WsClient) {}
            ),
        ));
    }

    #[test]
    fn errors_keep_the_function() {
        insta::assert_snapshot!(pretty(
            quote!(evnts = ["a"], times = 0, order = "sideways", worker_threads = 2),
            quote!(
                fn not_async(client: &mut WsClient) {}
            ),
        ));
    }
}

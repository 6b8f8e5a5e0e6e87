//! `#[derive(WsProfile)]`: a shared test setup from `#[ws_profile(...)]`, the same grammar as `#[ws_test]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::expand::spec_calls;
use crate::expanders::runtime_path;
use crate::grammar::{self, Grammar};
use crate::model::Errors;

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let mut tokens = TokenStream::new();
    for attribute in input
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident("ws_profile"))
    {
        match attribute.meta.require_list() {
            Ok(list) => {
                if !tokens.is_empty() {
                    tokens.extend(quote!(,));
                }
                tokens.extend(list.tokens.clone());
            }
            Err(error) => errors.push(error),
        }
    }
    // Without `handler`, `server` or `url_env`, a profile means what `#[ws_test]` means without them: the
    // built-in chat agent on an embedded server.
    let args = grammar::parse(tokens, Grammar::Profile, &mut errors);
    if let Some(error) = errors.take() {
        return error.to_compile_error();
    }
    let krate = runtime_path(&args);
    let private = quote!(#krate::__private);
    let (calls, checks) = spec_calls(&args, &private);
    let hook = |name: &str, path: &Option<syn::Path>| {
        let method = syn::Ident::new(name, proc_macro2::Span::call_site());
        path.as_ref().map(|path| {
            quote! {
                async fn #method(
                    context: &#private::ProfileContext<'_>,
                ) -> ::core::result::Result<(), #private::BoxError> {
                    #path(context).await.map_err(::core::convert::Into::into)
                }
            }
        })
    };
    let setup = hook("setup", &args.setup);
    let teardown = hook("teardown", &args.teardown);
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #private::WsProfile for #ident #type_generics #where_clause {
            fn configure(spec: #private::TestSpec) -> #private::TestSpec {
                spec #(#calls)*
            }
            #setup
            #teardown
        }
        #(#checks)*
    }
}

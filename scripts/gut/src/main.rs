//! Replaces the body of every function in the given Rust files with `unimplemented!()` and drops their
//! `#[cfg(test)]` modules, keeping every signature: what compiling the crate would cost without that code, while
//! every caller still type-checks. `scripts/removal_cost.py` runs it on a scratch copy, never on the checkout.
//!
//! A function returning `impl Trait` keeps its body (`!` implements no trait).

use syn::visit_mut::VisitMut;

struct Gut;

impl VisitMut for Gut {
    fn visit_item_fn_mut(&mut self, item: &mut syn::ItemFn) {
        if !is_test(&item.attrs) && !returns_impl(&item.sig) {
            *item.block = syn::parse_quote!({ ::core::unimplemented!() });
        }
    }

    fn visit_impl_item_fn_mut(&mut self, item: &mut syn::ImplItemFn) {
        if !returns_impl(&item.sig) {
            item.block = syn::parse_quote!({ ::core::unimplemented!() });
        }
    }

    fn visit_trait_item_fn_mut(&mut self, item: &mut syn::TraitItemFn) {
        if item.default.is_some() && !returns_impl(&item.sig) {
            item.default = Some(syn::parse_quote!({ ::core::unimplemented!() }));
        }
    }

    fn visit_item_mod_mut(&mut self, item: &mut syn::ItemMod) {
        if is_test(&item.attrs) {
            item.content = Some((Default::default(), Vec::new()));
        } else {
            syn::visit_mut::visit_item_mod_mut(self, item);
        }
    }
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let text = quote::quote!(#attr).to_string().replace(' ', "");
        text.contains("cfg(test)") || text == "#[test]"
    })
}

fn returns_impl(sig: &syn::Signature) -> bool {
    matches!(&sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::ImplTrait(_)))
}

fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let gutted = std::fs::read_to_string(&path)
            .map_err(|error| error.to_string())
            .and_then(|text| syn::parse_file(&text).map_err(|error| error.to_string()))
            .map(|mut file| {
                Gut.visit_file_mut(&mut file);
                prettyplease::unparse(&file)
            })
            .and_then(|text| std::fs::write(&path, text).map_err(|error| error.to_string()));
        if let Err(error) = gutted {
            eprintln!("gut: {path}: {error}");
            failed = true;
        }
    }
    std::process::exit(i32::from(failed));
}

//! Compile errors of `#[ws_test]`, pinned with trybuild (regenerate with `TRYBUILD=overwrite`).

#[test]
fn misuse_is_a_compile_error_on_the_offending_token() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}

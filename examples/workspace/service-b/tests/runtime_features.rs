//! This workspace builds ws-test-runtime as most users do, without its `multi-thread` and `test-util` features and
//! without the protocol kits' (`socketio`, `graphql`, `jsonrpc`) and `har`: a test that needs one is refused at compile time
//! with the line to add, and the same spec built by hand is refused when it runs.

use chat_testkit::ws::__private::{Flavor, TestSpec, body, run};
use chat_testkit::ws::prelude::*;

#[test]
fn an_attribute_that_needs_a_feature_the_runtime_lacks_is_a_compile_error_naming_it() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

async fn nothing(_client: &mut WsClient) -> TestResult {
    Ok(())
}

#[test]
#[should_panic(expected = "the multi-thread flavor needs ws-test-runtime's `multi-thread` feature")]
fn a_multi_thread_spec_by_hand_is_refused_with_the_feature_to_add() {
    run(
        TestSpec::new("by_hand").flavor(Flavor::MultiThread(None)),
        body(nothing),
    );
}

#[test]
#[should_panic(expected = "`start_paused = true` needs ws-test-runtime's `test-util` feature")]
fn a_paused_clock_by_hand_is_refused_with_the_feature_to_add() {
    run(
        TestSpec::new("by_hand")
            .transport(chat_testkit::ws::__private::Transport::Memory)
            .start_paused(true),
        body(nothing),
    );
}

async fn every_kit_refused(client: &mut WsClient) -> TestResult {
    for (name, feature) in [
        ("socket.io", "socketio"),
        ("graphql-transport-ws", "graphql"),
        ("json-rpc", "jsonrpc"),
    ] {
        let refused = WsClient::builder(client.url()).protocol(name).connect().await;
        let Err(error) = refused else {
            panic!("{name}: a kit this build lacks connected");
        };
        let kit = name.replace("json-rpc", "jsonrpc");
        let error = error.to_string();
        assert!(
            error.contains(&format!("the {kit} kit needs ws-test-runtime's `{feature}` feature")),
            "{name}: {error}"
        );
    }
    Ok(())
}

#[test]
fn a_kit_by_name_without_its_feature_is_refused_with_the_feature_to_add() {
    run(TestSpec::new("kits_by_hand"), body(every_kit_refused));
}

#[test]
fn a_har_recording_without_the_feature_is_refused_with_the_feature_to_add() {
    // A HAR that Chromium's DevTools saved: told apart from a transcript by its content, and refused, not misread.
    let har = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chromium.har");
    let error = chat_testkit::ws::Replay::from_file(har).expect_err("a HAR is refused without the feature");
    let error = error.to_string();
    assert!(
        error.contains("this is a HAR file, and reading one needs ws-test-runtime's `har` feature"),
        "{error}"
    );
}

//! Arbitrary client bytes against the embedded server through the in-memory transport: hyper's request parsing,
//! the upgrade decision, tungstenite's frame decoding and the chat agent must never panic, record a failure or
//! hang. The first byte picks the mode (see `ws_test_runtime::__private::fuzz_server`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ws_test_runtime::__private::fuzz_server(data);
});

//! Arbitrary text as an event-order pattern: the parser never panics or overflows its stack, and every pattern
//! it accepts prints back as a pattern that parses to the same expectation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_test_runtime::expect::Expect;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expectation) = Expect::pattern(source) {
        // `pattern "NODE" in order`: NODE is the pattern printed in its own syntax.
        let printed = expectation.to_string();
        let node = printed
            .strip_prefix("pattern \"")
            .and_then(|rest| rest.rsplit_once("\" "))
            .map_or_else(|| panic!("{source:?} printed as {printed:?}"), |(node, _)| node);
        let again = Expect::pattern(node)
            .unwrap_or_else(|error| panic!("{source:?} printed as {node:?}, which does not parse: {error}"));
        assert_eq!(again.to_string(), printed, "printing is not stable for {source:?}");
    }
});

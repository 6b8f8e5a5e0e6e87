//! Arbitrary frame sequences and expectations: the matcher and the pattern parser must never panic.
//!
//! The input's first line is a pattern (or a list of event types when it does not parse), the rest are frames,
//! one JSON value per line; the first byte picks the mode and options. See `ws_test_runtime::__private::fuzz_one`,
//! which the property tests also drive with random bytes on every CI run.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ws_test_runtime::__private::fuzz_one(data);
});

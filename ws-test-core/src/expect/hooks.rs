//! Entry points for the fuzz targets and the matcher benchmark: public only through the hidden
//! `ws_test_runtime::__private` path, and unstable.

use serde_json::Value;

use super::{Expect, Expectation, Matcher, Progress, feed_all};
use crate::Result;

/// Feeds `frames` through the streaming matcher alone and says whether `expectation` is met: no report, no
/// matched events collected. The matcher benchmark's entry point (what `client.expect` and
/// [`Expectation::check`] add around it is measured elsewhere).
pub fn is_met(expectation: &Expectation, frames: &[Value]) -> Result<bool> {
    Ok(feed_all(Matcher::new(expectation)?, frames).progress() == Progress::Met)
}

/// Runs one arbitrary input through pattern parsing and matching: what the `fuzz/` target calls. Never panics
/// on any input (that is the property the fuzzer checks).
pub fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\n');
    let spec = parts.next().unwrap_or_default();
    let frames: Vec<Value> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.to_owned())))
        .collect();
    let flags = data.first().copied().unwrap_or(0);
    let base = match Expect::pattern(spec) {
        Ok(expectation) => expectation,
        Err(error) => {
            let _ = error.to_string();
            Expect::events(spec.split_whitespace())
        }
    };
    let mut expectation = match flags % 3 {
        0 => base.strict(),
        1 => base.in_order(),
        _ => base.any_order(),
    };
    if flags & 4 != 0 {
        expectation = expectation.per("id");
    }
    if flags & 8 != 0 {
        expectation = expectation.times(u32::from(flags >> 5));
    }
    if flags & 16 != 0 {
        expectation = expectation.pair("open", "close", "id").forbid("error").ignore("noise");
    }
    let _ = expectation.to_string();
    if let Err(error) = expectation.check(&frames) {
        let _ = error.to_string();
    }
}

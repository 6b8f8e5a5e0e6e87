//! Every default timeout of ws-test, the environment variables that change them, and their scaling on slow
//! machines — in one place. The CLI takes its defaults from here too.
//!
//! Every default passes through [`scaled`], which multiplies it by `WS_TEST_TIMEOUT_SCALE` when that is set
//! (`WS_TEST_TIMEOUT_SCALE=3` on a slow CI runner). Timeouts a test or a command line sets explicitly are taken
//! as written, never scaled. A factor that is not a number above 0 and at most [`MAX_SCALE`] is refused:
//! [`check_env`] says so in a sentence (the `#[ws_test]` driver fails the test with it and the CLI exits with
//! it), and [`scale`] falls back to 1 after a warning, so no arithmetic on a wild factor can overflow.

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};

/// The environment variable that multiplies every default timeout.
pub const SCALE_ENV: &str = "WS_TEST_TIMEOUT_SCALE";
/// The environment variable with the default body timeout of a `#[ws_test]` (`30s`, `2m`, `500ms`).
pub const BODY_ENV: &str = "WS_TEST_TIMEOUT";
/// The largest factor `WS_TEST_TIMEOUT_SCALE` accepts: a thousand times the defaults is already hours.
pub const MAX_SCALE: f64 = 1000.0;

/// How long `WsClient::connect` keeps retrying by default.
pub const CONNECT: Duration = Duration::from_secs(5);
/// How long a receive waits by default.
pub const RECV: Duration = Duration::from_secs(5);
/// How long a send may wait for the peer to take the frame (a peer that stops reading fills the socket).
pub const SEND: Duration = Duration::from_secs(5);
/// How long a close handshake may take before the connection is dropped (the client's close, its close on
/// drop, and the server's goodbye).
pub const CLOSE: Duration = Duration::from_secs(2);
/// How long the declared events of a `#[ws_test]` (and the welcome) may take by default.
pub const EVENTS: Duration = Duration::from_secs(5);
/// The body timeout of a `#[ws_test]` when neither the test nor `WS_TEST_TIMEOUT` sets one (not scaled: it is
/// a backstop far above every other deadline).
pub const BODY: Duration = Duration::from_secs(30);
/// How long a profile's `setup` and `teardown` may each take.
pub const HOOK: Duration = Duration::from_secs(30);
/// How long the embedded server waits for a connection's complete HTTP request (the upgrade included) before
/// dropping it.
pub const HANDSHAKE: Duration = Duration::from_secs(10);
/// How long one step of `ws-test bench` may take (a connection, one round): a loaded server answers slower than
/// a test's.
pub const LOAD: Duration = Duration::from_secs(10);
/// How long the embedded server's shutdown waits for connections to finish their close handshake.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The factor read from `WS_TEST_TIMEOUT_SCALE`: 1 when unset, and 1 (after a warning) when it is not a usable
/// factor; [`check_env`] turns that case into an error.
pub fn scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| match parse_scale(std::env::var(SCALE_ENV).ok().as_deref()) {
        Ok(factor) => factor,
        Err(error) => {
            crate::logging::log!(warn, %error, "using the default timeouts unscaled");
            1.0
        }
    })
}

/// `default` multiplied by [`scale`].
pub fn scaled(default: Duration) -> Duration {
    Duration::try_from_secs_f64(default.as_secs_f64() * scale()).unwrap_or(default)
}

/// Checks the timeout environment variables (`WS_TEST_TIMEOUT_SCALE`, `WS_TEST_TIMEOUT`): an
/// [`Error::Config`] names the variable, its value and what it must be.
pub fn check_env() -> Result<()> {
    parse_scale(std::env::var(SCALE_ENV).ok().as_deref())?;
    body_from_env()?;
    Ok(())
}

/// The body timeout set by `WS_TEST_TIMEOUT`, or [`BODY`] when it is unset.
pub fn body_from_env() -> Result<Duration> {
    match std::env::var(BODY_ENV) {
        Ok(text) => humantime::parse_duration(text.trim())
            .map_err(|error| Error::Config(format!("{BODY_ENV}={text:?} is not a duration like 30s or 2m: {error}"))),
        Err(_) => Ok(BODY),
    }
}

fn parse_scale(value: Option<&str>) -> Result<f64> {
    let Some(value) = value else {
        return Ok(1.0);
    };
    match value.trim().parse::<f64>() {
        Ok(factor) if factor > 0.0 && factor <= MAX_SCALE => Ok(factor),
        _ => Err(Error::Config(format!(
            "{SCALE_ENV}={value:?} is not a usable factor: it must be a number above 0 and at most {MAX_SCALE} \
             (3 on a slow CI runner, for instance)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_scale;

    #[test]
    fn scale_accepts_factors_above_zero_up_to_the_maximum() {
        assert_eq!(parse_scale(None).unwrap(), 1.0);
        assert_eq!(parse_scale(Some("3")).unwrap(), 3.0);
        assert_eq!(parse_scale(Some(" 0.5 ")).unwrap(), 0.5);
        assert_eq!(parse_scale(Some("1000")).unwrap(), 1000.0);
        for wild in ["0", "-2", "fast", "inf", "NaN", "1e300", "1000.5", ""] {
            let error = parse_scale(Some(wild)).unwrap_err().to_string();
            assert!(
                error.contains("WS_TEST_TIMEOUT_SCALE") && error.contains("at most 1000"),
                "{wild}: {error}"
            );
        }
    }

    #[test]
    fn the_largest_factor_cannot_overflow_any_default() {
        let longest = [super::CONNECT, super::BODY, super::HOOK, super::HANDSHAKE]
            .into_iter()
            .max()
            .unwrap();
        let scaled = Duration::try_from_secs_f64(longest.as_secs_f64() * super::MAX_SCALE).unwrap();
        assert_eq!(scaled, longest * 1000);
    }
}

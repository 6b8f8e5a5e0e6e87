//! Default timeouts, and their scaling on slow machines.
//!
//! Every default timeout of the runtime passes through [`scaled`], which multiplies it by the environment
//! variable `WS_TEST_TIMEOUT_SCALE` when that is set to a positive number (`WS_TEST_TIMEOUT_SCALE=3` on a
//! slow CI runner). Timeouts a test sets explicitly are taken as written.

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that multiplies every default timeout.
pub const SCALE_ENV: &str = "WS_TEST_TIMEOUT_SCALE";

/// How long [`WsClient::connect`](crate::WsClient::connect) keeps retrying by default.
pub const CONNECT: Duration = Duration::from_secs(5);
/// How long a receive waits by default.
pub const RECV: Duration = Duration::from_secs(5);
/// How long a close handshake may take before the TCP connection is dropped.
pub const CLOSE: Duration = Duration::from_secs(2);

/// The factor read from `WS_TEST_TIMEOUT_SCALE` (1.0 when unset or not a positive number).
pub fn scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| parse_scale(std::env::var(SCALE_ENV).ok().as_deref()))
}

/// `default` multiplied by [`scale`].
pub fn scaled(default: Duration) -> Duration {
    default.mul_f64(scale())
}

fn parse_scale(value: Option<&str>) -> f64 {
    match value.map(str::trim).map(str::parse::<f64>) {
        Some(Ok(factor)) if factor.is_finite() && factor > 0.0 => factor,
        Some(_) => {
            tracing::warn!(
                variable = SCALE_ENV,
                ?value,
                "ignoring a timeout scale that is not a positive number"
            );
            1.0
        }
        None => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_scale;

    #[test]
    fn scale_parses_positive_numbers_only() {
        assert_eq!(parse_scale(None), 1.0);
        assert_eq!(parse_scale(Some("3")), 3.0);
        assert_eq!(parse_scale(Some(" 0.5 ")), 0.5);
        assert_eq!(parse_scale(Some("0")), 1.0);
        assert_eq!(parse_scale(Some("-2")), 1.0);
        assert_eq!(parse_scale(Some("fast")), 1.0);
        assert_eq!(parse_scale(Some("inf")), 1.0);
    }
}

//! [`ExpectGuard`]: an expectation checked when the test ends, wiremock's habit for hand-written tests.

use crate::error::Result;
use crate::expect::{Expectation, Matched};

use super::Tap;

/// An expectation that is checked when the guard is dropped: made by
/// [`WsClient::expect_eventually`](super::WsClient::expect_eventually).
///
/// Dropped (at the end of the test, or earlier with `drop(guard)`), it checks the frames received by then and
/// panics with the expectation's report when they do not meet it — unless the thread is already panicking, so
/// the first failure stays the one reported. [`verify`](Self::verify) checks it explicitly instead, waiting for
/// frames still to come within the expectation's deadline.
///
/// Bind it to a name: `let _guard = ...` lives to the end of the scope, while `let _ = ...` drops it at once.
///
/// ```
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), ws_test_runtime::Error> {
/// let server = EmbeddedServer::start().await?;
/// let mut client = server.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.watch_from_now();
/// let guard = client.expect_eventually(Expect::events(ChatEvent::CRITICAL).per("run_id"));
/// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
/// guard.verify().await?; // or let it drop at the end of the test
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the guard checks its expectation when dropped: bind it with `let _guard = ...` (`let _ = ...` drops it at once)"]
pub struct ExpectGuard {
    tap: Tap,
    expectation: Expectation,
    settled: bool,
}

impl ExpectGuard {
    pub(crate) fn new(tap: Tap, expectation: Expectation) -> Self {
        ExpectGuard {
            tap,
            expectation,
            settled: false,
        }
    }

    /// The expectation the guard checks.
    pub fn expectation(&self) -> &Expectation {
        &self.expectation
    }

    /// Waits until the expectation is met, or fails with its report, within the expectation's deadline (default:
    /// the client's receive timeout). The guard is then done: dropping it checks nothing more.
    pub async fn verify(mut self) -> Result<Matched> {
        self.settled = true;
        self.tap.expect(&self.expectation).await
    }
}

impl Drop for ExpectGuard {
    fn drop(&mut self) {
        if self.settled || std::thread::panicking() {
            return;
        }
        if let Err(error) = self.tap.check_now(&self.expectation) {
            panic!("expect_eventually: {error}");
        }
    }
}

//! The comprehensive check suite: any live WebSocket server against `PROTOCOL.md`.
//!
//! [`Suite::run`] runs one check per line of the protocol — health, the welcome, ping, the five critical events
//! and all their fields, run ids, interleaved runs, echo, routing, every error case, the size limit, auth,
//! concurrent isolated users, broadcast — each through [`WsClient`] and
//! [`Expect`](crate::expect::Expect) exactly as a user's test would, and returns a [`SuiteReport`]. The `ws-test check`
//! command is a thin shell over it.
//!
//! ```
//! use ws_test_runtime::prelude::*;
//! use ws_test_runtime::suite::Suite;
//!
//! # async fn demo() -> Result<(), ws_test_runtime::Error> {
//! let server = EmbeddedServer::start().await?;
//! let report = Suite::new(server.url()).concurrency(10).run().await?;
//! assert!(report.all_passed(), "{report}");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod checks;
mod http;

use std::time::{Duration, Instant};

pub use crate::checklist::{CheckResult, SuiteReport};
use crate::{Error, Result, WsClient, timeout};

/// The default number of concurrent users in the `concurrent_users` check.
pub const DEFAULT_CONCURRENCY: usize = 50;

/// A suite aimed at one server.
#[derive(Debug, Clone)]
pub struct Suite {
    url: String,
    token: Option<String>,
    concurrency: usize,
    timeout: Duration,
    #[cfg(feature = "tls")]
    trust: crate::tls::Trust,
}

impl Suite {
    /// A suite for the server at this WebSocket URL (`ws://host:port/path`).
    pub fn new(url: impl AsRef<str>) -> Self {
        Suite {
            url: url.as_ref().to_owned(),
            token: None,
            concurrency: DEFAULT_CONCURRENCY,
            timeout: timeout::scaled(timeout::RECV),
            #[cfg(feature = "tls")]
            trust: crate::tls::Trust::default(),
        }
    }

    /// The server's token: sent on every connection, and the auth checks run.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Trusts the certificates of this PEM text for a `wss://` server, besides the platform's roots and
    /// `SSL_CERT_FILE` (as [`ClientBuilder::root_certificate`](crate::ClientBuilder::root_certificate);
    /// `ws-test check --ca-cert PATH`). Needs the `tls` feature.
    #[cfg(feature = "tls")]
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.trust.add(pem.as_ref());
        self
    }

    /// How many users the `concurrent_users` check runs at once (default 50).
    pub fn concurrency(mut self, users: usize) -> Self {
        self.concurrency = users.max(1);
        self
    }

    /// How long each wait may take (default 5 s, scaled by `WS_TEST_TIMEOUT_SCALE`).
    pub fn timeout(mut self, within: Duration) -> Self {
        self.timeout = within;
        self
    }

    /// The names of the checks this suite runs, in order.
    pub fn check_names(&self) -> Vec<&'static str> {
        self.checks().map(|check| check.name).collect()
    }

    /// The checks this suite runs: every one, but those that need a token only with one.
    fn checks(&self) -> impl Iterator<Item = &'static checks::Check> + '_ {
        checks::CHECKS
            .iter()
            .filter(|check| !check.needs_token || self.token.is_some())
    }

    /// Runs every check. Fails only when the server cannot be reached at all ([`Error::Connect`]); everything
    /// else is a failed check in the report.
    pub async fn run(&self) -> Result<SuiteReport> {
        self.run_with(|_| {}).await
    }

    /// [`run`](Self::run), calling `progress` after each check (for a progress display).
    pub async fn run_with(&self, mut progress: impl FnMut(&CheckResult)) -> Result<SuiteReport> {
        let started = Instant::now();
        let context = checks::Context::new(self);
        // One probe first: an unreachable server is one clear error, not twenty failed checks.
        match context.connect().await {
            Err(error @ (Error::Connect { .. } | Error::InvalidUrl { .. } | Error::Tls { .. })) => return Err(error),
            Ok(client) => drop(client),
            Err(_) => {}
        }
        let mut results = Vec::new();
        for check in self.checks() {
            let check_started = Instant::now();
            let outcome = tokio::time::timeout(self.timeout * 4, (check.run)(&context)).await;
            let (passed, detail) = match outcome {
                Ok(Ok(detail)) => (true, detail),
                Ok(Err(detail)) => (false, detail),
                Err(_) => (false, format!("the check did not finish within {:?}", self.timeout * 4)),
            };
            let result = CheckResult {
                name: check.name.into(),
                passed,
                duration: check_started.elapsed(),
                detail,
            };
            progress(&result);
            results.push(result);
        }
        Ok(SuiteReport {
            url: self.url.clone(),
            checks: results,
            duration: started.elapsed(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A client of the server with the suite's timeouts and trust, without the token.
    pub(crate) fn anonymous_client(&self, url: &str) -> crate::ClientBuilder {
        let builder = WsClient::builder(url)
            .connect_timeout(self.timeout)
            .recv_timeout(self.timeout)
            .send_timeout(self.timeout);
        #[cfg(feature = "tls")]
        let builder = builder.trust(&self.trust);
        builder
    }

    /// A client of the server with the suite's timeouts, trust and token.
    pub(crate) fn client_builder(&self) -> crate::ClientBuilder {
        let builder = self.anonymous_client(&self.url);
        match &self.token {
            Some(token) => builder.token(token.clone()),
            None => builder,
        }
    }

    pub(crate) fn concurrency_level(&self) -> usize {
        self.concurrency
    }

    pub(crate) fn token_value(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

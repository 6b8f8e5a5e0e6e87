//! What the driver hands a profile's `setup` and `teardown`: the [`ProfileContext`], and the type-erased hooks
//! it keeps so that it stays non-generic (the `profile` concept fills them in; the driver only calls them).

use std::future::Future;
use std::pin::Pin;

use crate::client::WsClient;
use crate::error::Result;
use crate::server::EmbeddedServer;

/// What a profile's `setup` and `teardown` can reach.
#[derive(Debug)]
pub struct ProfileContext<'a> {
    pub(crate) server: Option<&'a EmbeddedServer>,
    pub(crate) url: &'a str,
    pub(crate) test: &'a str,
}

impl ProfileContext<'_> {
    /// The embedded server (`None` when the test runs against an external URL).
    pub fn server(&self) -> Option<&EmbeddedServer> {
        self.server
    }

    /// The WebSocket URL the test's clients connect to.
    pub fn url(&self) -> &str {
        self.url
    }

    /// The test's full name.
    pub fn test_name(&self) -> &str {
        self.test
    }

    /// A client of its own (for seeding), connected to the test's server.
    pub async fn connect(&self) -> Result<WsClient> {
        WsClient::connect(self.url).await
    }
}

pub(crate) type Hook = for<'a> fn(&'a ProfileContext<'a>) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// The type-erased hooks of one profile (so the driver stays non-generic).
#[derive(Clone, Copy)]
pub(crate) struct Hooks {
    pub(crate) profile: &'static str,
    pub(crate) setup: Hook,
    pub(crate) teardown: Hook,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

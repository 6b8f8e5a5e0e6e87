//! Profiles: a workspace declares a test setup once (`#[derive(WsProfile)]` or by hand) and every test uses it
//! with `#[ws_test(profile = ChatBackend)]`; arguments written on a test override the profile's.
//!
//! Use a profile when several tests (or crates) share a handler, server settings, the declared events, or
//! setup work (seeding a user, starting a fake dependency); use plain `#[ws_test(...)]` arguments for a
//! one-off. A hand-written implementation can do what attributes cannot: compute settings, and run async
//! `setup` and `teardown` with the server at hand. A failing setup fails the test as "setup failed", apart
//! from the test's own failures.
//!
//! ```
//! use ws_test_runtime::driver::TestSpec;
//! use ws_test_runtime::profile::{ProfileContext, WsProfile};
//! use ws_test_runtime::prelude::*;
//!
//! struct SeededChat;
//!
//! impl WsProfile for SeededChat {
//!     fn configure(spec: TestSpec) -> TestSpec {
//!         spec.handler(|server| server.handler(ChatAgent::new().agent_name("Seeded")))
//!             .expect(Expect::events(ws_test_runtime::protocol::CRITICAL_EVENTS).per("run_id"))
//!     }
//!
//!     async fn setup(context: &ProfileContext<'_>) -> Result<(), BoxError> {
//!         // Seed something through the server before the test's clients connect.
//!         let mut admin = context.connect().await?;
//!         admin.send_json(&json!({"type": "broadcast", "content": "seeded"})).await?;
//!         Ok(())
//!     }
//! }
//!
//! #[ws_test(profile = SeededChat)]
//! async fn uses_the_profile(client: &mut WsClient) -> TestResult {
//!     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::pin::Pin;

use crate::driver::TestSpec;
use crate::handler::BoxError;
use crate::{EmbeddedServer, Result, WsClient};

pub use ws_test_macros::WsProfile;

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

/// A shared test setup: settings applied to every test that names it, plus optional async hooks.
pub trait WsProfile {
    /// Applies the profile's settings; the test's own arguments are applied after, so they win.
    fn configure(spec: TestSpec) -> TestSpec {
        spec
    }

    /// Runs after the server started and before the test's clients connect.
    fn setup(context: &ProfileContext<'_>) -> impl Future<Output = Result<(), BoxError>> {
        let _ = context;
        async { Ok(()) }
    }

    /// Runs after the body and the event check, before the server stops (also after a failed body).
    fn teardown(context: &ProfileContext<'_>) -> impl Future<Output = Result<(), BoxError>> {
        let _ = context;
        async { Ok(()) }
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

fn setup_hook<'a, P: WsProfile>(
    context: &'a ProfileContext<'a>,
) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
    Box::pin(async move { P::setup(context).await.map_err(|error| error.to_string()) })
}

fn teardown_hook<'a, P: WsProfile>(
    context: &'a ProfileContext<'a>,
) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
    Box::pin(async move { P::teardown(context).await.map_err(|error| error.to_string()) })
}

pub(crate) fn hooks<P: WsProfile>() -> Hooks {
    let name = std::any::type_name::<P>();
    Hooks {
        profile: name.rsplit("::").next().unwrap_or(name),
        setup: setup_hook::<P>,
        teardown: teardown_hook::<P>,
    }
}

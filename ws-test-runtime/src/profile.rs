//! Profiles: [`WsProfile`], and [`TestSpec::profile`], which applies one.

use std::future::Future;
use std::pin::Pin;

use crate::driver::{Hooks, ProfileContext, TestSpec};
use crate::handler::BoxError;

pub use ws_test_macros::WsProfile;

/// A shared test setup: a workspace declares it once (`#[derive(WsProfile)]` or by hand) and every test uses it
/// with `#[ws_test(profile = ChatBackend)]`; arguments written on a test override the profile's.
///
/// Use a profile when several tests (or crates) share a handler, server settings, the declared events, or
/// setup work (seeding a user, starting a fake dependency); use plain `#[ws_test(...)]` arguments for a
/// one-off. A hand-written implementation can do what attributes cannot: compute settings, and run async
/// `setup` and `teardown` with the server at hand. A failing setup fails the test as "setup failed", apart
/// from the test's own failures.
///
/// ```
/// use ws_test_runtime::driver::TestSpec;
/// use ws_test_runtime::prelude::*;
///
/// struct SeededChat;
///
/// impl WsProfile for SeededChat {
///     fn configure(spec: TestSpec) -> TestSpec {
///         spec.handler(|server| server.handler(ChatAgent::new().agent_name("Seeded")))
///             .expect(Expect::events(ChatEvent::CRITICAL).per("run_id"))
///     }
///
///     async fn setup(context: &ProfileContext<'_>) -> Result<(), BoxError> {
///         // Seed something through the server before the test's clients connect.
///         let mut admin = context.connect().await?;
///         admin.send_json(&json!({"type": "broadcast", "content": "seeded"})).await?;
///         Ok(())
///     }
/// }
///
/// #[ws_test(profile = SeededChat)]
/// async fn uses_the_profile(client: &mut WsClient) -> TestResult {
///     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
///     Ok(())
/// }
/// ```
///
/// Settings apply to every test that names the profile; `setup` and `teardown` are optional async hooks.
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

impl TestSpec {
    /// Applies a profile: its settings now, its `setup` and `teardown` around the test. Settings given after
    /// this call override the profile's.
    pub fn profile<P: WsProfile>(self) -> Self {
        let name = std::any::type_name::<P>();
        P::configure(self).with_hooks(Hooks {
            profile: name.rsplit("::").next().unwrap_or(name),
            setup: setup_hook::<P>,
            teardown: teardown_hook::<P>,
        })
    }
}

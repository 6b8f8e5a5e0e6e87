//! Injection by parameter type: which test signatures `#[ws_test]` accepts, and how each gets its arguments.
//!
//! The macro does not look at parameter types: it hands the function to [`body`], and the trait [`TestFn`],
//! implemented over `AsyncFnOnce` signatures, picks what to pass. An unsupported signature is a compile error
//! that lists the supported ones.

use std::future::Future;
use std::pin::Pin;

use super::outcome::TestOutcome;
use crate::{EmbeddedServer, WsClient};

/// The values a test body can ask for.
#[derive(Debug, Default)]
pub struct Injected {
    pub(crate) clients: Vec<WsClient>,
    pub(crate) server: Option<EmbeddedServer>,
    pub(crate) served: Option<crate::ServedServer>,
    pub(crate) external_url: Option<String>,
}

type LocalFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// A test body with its signature erased: the driver is compiled once, not once per test.
pub type Body = Box<dyn for<'a> FnOnce(&'a mut Injected) -> LocalFuture<'a>>;

fn no_client() -> String {
    "the test asked for a client, but none is connected".to_owned()
}

fn no_server(external_url: &Option<String>, served: bool) -> String {
    if served {
        return "the test takes `&EmbeddedServer`, but it runs your own server (`serve`), which is not ws-test's \
                embedded server; drop that parameter"
            .to_owned();
    }
    match external_url {
        Some(url) => format!(
            "the test takes `&EmbeddedServer`, but it runs against the external server {url} (`url` or \
             WS_TEST_URL); drop that parameter or run the test embedded"
        ),
        None => "the test takes `&EmbeddedServer`, but no server is running".to_owned(),
    }
}

fn no_served() -> String {
    "the test takes `&ServedServer`, but it runs no served server: it is for `serve = ...` tests".to_owned()
}

impl Injected {
    fn client(&mut self) -> Result<&mut WsClient, String> {
        self.clients.first_mut().ok_or_else(no_client)
    }

    fn take_client(&mut self) -> Result<WsClient, String> {
        if self.clients.is_empty() {
            return Err(no_client());
        }
        Ok(self.clients.remove(0))
    }

    fn take_clients(&mut self) -> Vec<WsClient> {
        std::mem::take(&mut self.clients)
    }

    fn server(&self) -> Result<&EmbeddedServer, String> {
        self.server
            .as_ref()
            .ok_or_else(|| no_server(&self.external_url, self.served.is_some()))
    }

    fn served(&self) -> Result<&crate::ServedServer, String> {
        self.served.as_ref().ok_or_else(no_served)
    }

    fn client_and_served(&mut self) -> Result<(&mut WsClient, &crate::ServedServer), String> {
        let served = self.served.as_ref().ok_or_else(no_served)?;
        Ok((self.clients.first_mut().ok_or_else(no_client)?, served))
    }

    fn client_and_server(&mut self) -> Result<(&mut WsClient, &EmbeddedServer), String> {
        let Injected {
            clients,
            server,
            served,
            external_url,
        } = self;
        let server = server
            .as_ref()
            .ok_or_else(|| no_server(external_url, served.is_some()))?;
        Ok((clients.first_mut().ok_or_else(no_client)?, server))
    }
}

/// Markers that tell the [`TestFn`] implementations apart (one per supported signature).
pub(crate) mod signature {
    /// `async fn()`
    #[derive(Debug)]
    pub struct NoParameters;
    /// `async fn(&mut WsClient)`
    #[derive(Debug)]
    pub struct MutClient;
    /// `async fn(WsClient)`
    #[derive(Debug)]
    pub struct OwnedClient;
    /// `async fn(Vec<WsClient>)`
    #[derive(Debug)]
    pub struct Clients;
    /// `async fn(&EmbeddedServer)`
    #[derive(Debug)]
    pub struct Server;
    /// `async fn(&mut WsClient, &EmbeddedServer)`
    #[derive(Debug)]
    pub struct MutClientServer;
    /// `async fn(&EmbeddedServer, &mut WsClient)`
    #[derive(Debug)]
    pub struct ServerMutClient;
    /// `async fn(WsClient, &EmbeddedServer)`
    #[derive(Debug)]
    pub struct OwnedClientServer;
    /// `async fn(&EmbeddedServer, WsClient)`
    #[derive(Debug)]
    pub struct ServerOwnedClient;
    /// `async fn(Vec<WsClient>, &EmbeddedServer)`
    #[derive(Debug)]
    pub struct ClientsServer;
    /// `async fn(&EmbeddedServer, Vec<WsClient>)`
    #[derive(Debug)]
    pub struct ServerClients;
    /// `async fn(&ServedServer)`
    #[derive(Debug)]
    pub struct Served;
    /// `async fn(&mut WsClient, &ServedServer)`
    #[derive(Debug)]
    pub struct MutClientServed;
    /// `async fn(&ServedServer, &mut WsClient)`
    #[derive(Debug)]
    pub struct ServedMutClient;
    /// `async fn(Vec<WsClient>, &ServedServer)`
    #[derive(Debug)]
    pub struct ClientsServed;
}

/// An `async fn` whose parameters `#[ws_test]` knows how to fill.
#[diagnostic::on_unimplemented(
    message = "`#[ws_test]` cannot inject the parameters of this test function",
    label = "unsupported parameters for #[ws_test]",
    note = "a #[ws_test] function takes, in any order, at most one of `&mut WsClient`, `WsClient`, `Vec<WsClient>` \
            and at most one `&EmbeddedServer` (`&ServedServer` with `serve`), and returns `()` or `Result<(), E>` with \
            `E: Debug`"
)]
pub trait TestFn<Signature> {
    /// What the function returns.
    type Output;

    /// The function with its signature erased.
    fn into_body(self) -> Body
    where
        Self::Output: TestOutcome;
}

/// Erases a test function's signature (what the macro calls).
pub fn body<F: TestFn<S>, S>(function: F) -> Body
where
    F::Output: TestOutcome,
{
    function.into_body()
}

/// Checks only that the parameters can be injected (the macro's compile-time check; the return type is
/// checked on its own, so each mistake is reported once, where it is).
pub fn check_parameters<F: TestFn<S>, S>(_function: &F) {}

/// The signatures that take no `&EmbeddedServer`: what a test with `serve` may have.
#[diagnostic::on_unimplemented(
    message = "a `#[ws_test(serve = ...)]` function cannot take `&EmbeddedServer`",
    label = "`serve` runs your own server: there is no embedded server to inject",
    note = "with `serve`, a #[ws_test] function takes at most one of `&mut WsClient`, `WsClient` and `Vec<WsClient>`, \
            and at most one `&ServedServer`"
)]
pub trait WithoutEmbeddedServer {}

impl WithoutEmbeddedServer for signature::NoParameters {}
impl WithoutEmbeddedServer for signature::MutClient {}
impl WithoutEmbeddedServer for signature::OwnedClient {}
impl WithoutEmbeddedServer for signature::Clients {}
impl WithoutEmbeddedServer for signature::Served {}
impl WithoutEmbeddedServer for signature::MutClientServed {}
impl WithoutEmbeddedServer for signature::ServedMutClient {}
impl WithoutEmbeddedServer for signature::ClientsServed {}

/// Checks that a test with `serve` injects only clients (the macro's compile-time check).
pub fn check_served_parameters<F: TestFn<S>, S: WithoutEmbeddedServer>(_function: &F) {}

/// A test's own future, boxed: the one part of a body that is compiled per test.
type TestFuture<'a, R> = Pin<Box<dyn Future<Output = R> + 'a>>;

/// Runs a test's future and turns what it returns into the outcome: compiled once per return type, not per test.
fn outcome<'a, R: TestOutcome + 'a>(future: TestFuture<'a, R>) -> LocalFuture<'a> {
    Box::pin(async move { future.await.into_outcome() })
}

/// A body that fails before it starts (a parameter that cannot be injected).
fn failed<'a>(reason: String) -> LocalFuture<'a> {
    Box::pin(std::future::ready(Err(reason)))
}

/// The value of an injection, or the body fails with its reason.
macro_rules! inject {
    ($value:expr) => {
        match $value {
            Ok(value) => value,
            Err(reason) => return failed(reason),
        }
    };
}

/// One [`TestFn`] implementation per signature. What each test compiles is only the call of its function and
/// the box around the future; awaiting it and reading its outcome is shared ([`outcome`]).
macro_rules! test_fn {
    ($signature:ident, ($($param:ty),*), |$function:ident, $injected:ident| $body:block) => {
        impl<F, R> TestFn<signature::$signature> for F
        where
            F: AsyncFnOnce($($param),*) -> R + 'static,
            R: 'static,
        {
            type Output = R;

            fn into_body(self) -> Body
            where
                R: TestOutcome,
            {
                let $function = self;
                Box::new(move |$injected: &mut Injected| -> LocalFuture<'_> {
                    let future: TestFuture<'_, R> = $body;
                    outcome(future)
                })
            }
        }
    };
}

test_fn!(NoParameters, (), |function, _injected| { Box::pin(function()) });
test_fn!(MutClient, (&mut WsClient), |function, injected| {
    Box::pin(function(inject!(injected.client())))
});
test_fn!(OwnedClient, (WsClient), |function, injected| {
    Box::pin(function(inject!(injected.take_client())))
});
test_fn!(Clients, (Vec<WsClient>), |function, injected| {
    Box::pin(function(injected.take_clients()))
});
test_fn!(Server, (&EmbeddedServer), |function, injected| {
    Box::pin(function(inject!(injected.server())))
});
test_fn!(
    MutClientServer,
    (&mut WsClient, &EmbeddedServer),
    |function, injected| {
        let (client, server) = inject!(injected.client_and_server());
        Box::pin(function(client, server))
    }
);
test_fn!(
    ServerMutClient,
    (&EmbeddedServer, &mut WsClient),
    |function, injected| {
        let (client, server) = inject!(injected.client_and_server());
        Box::pin(function(server, client))
    }
);
test_fn!(OwnedClientServer, (WsClient, &EmbeddedServer), |function, injected| {
    let client = inject!(injected.take_client());
    Box::pin(function(client, inject!(injected.server())))
});
test_fn!(ServerOwnedClient, (&EmbeddedServer, WsClient), |function, injected| {
    let client = inject!(injected.take_client());
    Box::pin(function(inject!(injected.server()), client))
});
test_fn!(ClientsServer, (Vec<WsClient>, &EmbeddedServer), |function, injected| {
    let clients = injected.take_clients();
    Box::pin(function(clients, inject!(injected.server())))
});
test_fn!(ServerClients, (&EmbeddedServer, Vec<WsClient>), |function, injected| {
    let clients = injected.take_clients();
    Box::pin(function(inject!(injected.server()), clients))
});

test_fn!(Served, (&crate::ServedServer), |function, injected| {
    Box::pin(function(inject!(injected.served())))
});
test_fn!(
    MutClientServed,
    (&mut WsClient, &crate::ServedServer),
    |function, injected| {
        let (client, served) = inject!(injected.client_and_served());
        Box::pin(function(client, served))
    }
);
test_fn!(
    ServedMutClient,
    (&crate::ServedServer, &mut WsClient),
    |function, injected| {
        let (client, served) = inject!(injected.client_and_served());
        Box::pin(function(served, client))
    }
);
test_fn!(
    ClientsServed,
    (Vec<WsClient>, &crate::ServedServer),
    |function, injected| {
        let clients = injected.take_clients();
        Box::pin(function(clients, inject!(injected.served())))
    }
);

/// What `handler = ...` accepts: a [`Handler`](crate::Handler) value, or a function that returns one.
#[diagnostic::on_unimplemented(
    message = "`handler = ...` needs a `Handler` or a function returning one, not `{Self}`",
    label = "not a handler",
    note = "a `Router`, a `Replay`, the chat kit's agent and your own `impl Handler` types are handlers"
)]
pub trait IntoHandler<Kind> {
    /// Sets the handler on the builder.
    fn set_on(self, builder: crate::ServerBuilder) -> crate::ServerBuilder;
}

/// Marker: the handler itself.
#[derive(Debug)]
pub struct HandlerValue;
/// Marker: a function returning the handler.
#[derive(Debug)]
pub struct HandlerFactory;

impl<H: crate::Handler> IntoHandler<HandlerValue> for H {
    fn set_on(self, builder: crate::ServerBuilder) -> crate::ServerBuilder {
        builder.handler(self)
    }
}

impl<F: FnOnce() -> H, H: crate::Handler> IntoHandler<HandlerFactory> for F {
    fn set_on(self, builder: crate::ServerBuilder) -> crate::ServerBuilder {
        builder.handler(self())
    }
}

/// Sets `handler` (a value or a function returning one) on `builder`: what `handler = ...` expands to.
pub fn with_handler<Kind>(builder: crate::ServerBuilder, handler: impl IntoHandler<Kind>) -> crate::ServerBuilder {
    handler.set_on(builder)
}

/// Checks that `handler = ...` names a handler (the macro's compile-time check).
pub fn check_handler<Kind>(_handler: impl IntoHandler<Kind>) {}

/// The future a hosted app's factory returns, with the app set on the builder.
pub type AppFuture = Pin<Box<dyn Future<Output = crate::AppServerBuilder>>>;

/// What `app = ...` accepts: a function returning a [`HostedApp`](crate::HostedApp) (an `axum::Router`, any
/// tower service), plain or `async`.
#[diagnostic::on_unimplemented(
    message = "`app = ...` needs a function that returns an app (plain or async), not `{Self}`",
    label = "not a function returning a hosted app",
    note = "write `app = my_app` with `fn my_app() -> axum::Router` or `async fn my_app() -> axum::Router`; any \
            tower service over `http::Request<hyper::body::Incoming>` is an app"
)]
pub trait AppFactory<Kind> {
    /// Builds the app and sets it on the builder.
    fn set_on(self, builder: crate::ServerBuilder) -> AppFuture;
}

/// Marker: a function returning the app.
#[derive(Debug)]
pub struct AppFn;
/// Marker: an `async` function returning the app.
#[derive(Debug)]
pub struct AsyncAppFn;

impl<F: FnOnce() -> A, A: crate::HostedApp> AppFactory<AppFn> for F {
    fn set_on(self, builder: crate::ServerBuilder) -> AppFuture {
        let app = self();
        Box::pin(std::future::ready(builder.app(app)))
    }
}

impl<F, Fut, A> AppFactory<AsyncAppFn> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = A> + 'static,
    A: crate::HostedApp,
{
    fn set_on(self, builder: crate::ServerBuilder) -> AppFuture {
        let app = self();
        Box::pin(async move { builder.app(app.await) })
    }
}

/// Sets the app that `factory` makes on `builder`: what `app = ...` expands to.
pub fn with_app<Kind>(builder: crate::ServerBuilder, factory: impl AppFactory<Kind>) -> AppFuture {
    factory.set_on(builder)
}

/// Checks that `app = ...` names a function returning an app (the macro's compile-time check).
pub fn check_app<Kind>(_factory: impl AppFactory<Kind>) {}

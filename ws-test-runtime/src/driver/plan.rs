//! The plan of what a test starts: its server (ws-test's own, a hosted app, a served function, a replay) or the
//! external URL (`url =`, `WS_TEST_URL` for the tests that opt in), its clients and their welcome, and the
//! combinations that cannot apply, each refused with a sentence.

use std::time::Duration;

use super::URL_ENV;
use super::context::ProfileContext;
use super::hook;
use super::inject::Injected;
use super::spec::{Decode, Flavor};
use super::spec::{Serve, Target, TestSpec};
use crate::expect::Expect;
use crate::served::ServedServer;
use crate::server::ServerBuilder;
use crate::transport::Transport;
use crate::{EmbeddedServer, Replay, Tap, WsClient, timeout};

impl TestSpec {
    pub(super) fn body_timeout(&self) -> Result<Duration, String> {
        match self.timeout {
            Some(within) => Ok(within),
            None => timeout::body_from_env().map_err(|error| error.to_string()),
        }
    }

    pub(super) fn event_deadline(&self) -> Duration {
        self.event_timeout.unwrap_or_else(|| timeout::scaled(timeout::EVENTS))
    }

    pub(super) fn external_url(&self) -> Result<Option<String>, String> {
        match &self.target {
            Target::Url(url) => Ok(Some(url.clone())),
            Target::UrlFromEnv(variable) => env_url(variable)
                .map(Some)
                .ok_or_else(|| format!("the test runs against `url = env(\"{variable}\")`, but {variable} is not set")),
            Target::UrlFromEnvOrEmbedded(variable) => Ok(env_url(variable).or_else(|| env_url(URL_ENV))),
            // A replay is the test's own mock: it stays local whatever WS_TEST_URL says.
            Target::Embedded if self.replay.is_some() => Ok(None),
            Target::Embedded => Ok(env_url(URL_ENV)),
        }
    }

    /// What `WS_TEST_URL` replaces in this test: the parts of its own server it configured, in words (`None`
    /// when the test targets a live server itself, or configured nothing).
    pub(super) fn replaced_by_env(&self) -> Option<String> {
        if !matches!(self.target, Target::Embedded | Target::UrlFromEnvOrEmbedded(_)) {
            return None;
        }
        let configured = [
            (self.handler.is_some(), "handler"),
            (self.server.is_some(), "server"),
            (self.app.is_some(), "app"),
            (self.serve.is_some(), "serve"),
            (self.path.is_some(), "path"),
            (self.transport.is_some(), "transport"),
        ];
        let named: Vec<&str> = configured
            .iter()
            .filter(|(given, _)| *given)
            .map(|(_, name)| *name)
            .collect();
        (!named.is_empty()).then(|| named.join(", "))
    }
}

impl TestSpec {
    /// Whether the runtime starts with a paused clock, or why `start_paused` cannot be honoured.
    pub(super) fn paused_clock(&self) -> Result<bool, String> {
        if !self.start_paused {
            return Ok(false);
        }
        if !cfg!(feature = "test-util") {
            return Err(
                "`start_paused = true` needs ws-test-runtime's `test-util` feature (tokio's paused clock): \
                 ws-test-runtime = { version = \"0.1\", features = [\"test-util\"] }"
                    .into(),
            );
        }
        if let (Some(serve), Ok(None)) = (&self.serve, self.external_url()) {
            return Err(format!(
                "`start_paused = true` cannot run `serve = {serve:?}`: a served server listens on a real socket, \
                 where a paused clock jumps ahead while the OS delivers bytes"
            ));
        }
        if let Ok(Some(url)) = self.external_url() {
            eprintln!(
                "ws-test: {} runs against the external server {url}, over real sockets: its clock runs normally \
                 (start_paused is for the in-memory transport)",
                self.name
            );
            return Ok(false);
        }
        if self.transport != Some(Transport::Memory) {
            return Err(
                "`start_paused = true` needs `transport = \"memory\"`: over real sockets a paused clock \
                        jumps ahead while the OS delivers bytes, so every deadline would fire early"
                    .into(),
            );
        }
        if self.flavor != Flavor::CurrentThread {
            return Err(
                "`start_paused = true` needs the current-thread flavor (tokio pauses only that runtime)".into(),
            );
        }
        Ok(true)
    }

    /// The event the clients await first: the test's `welcome`; else what the embedded server's handler declares
    /// ([`Handler::welcome`](crate::Handler::welcome)); against `WS_TEST_URL` in place of an embedded server, what
    /// that server's handler would have declared; with `app`, `serve`, `url` or `skip_welcome`, none.
    pub(super) fn welcome_event(&self, server: Option<&EmbeddedServer>) -> Option<String> {
        if self.welcome.is_some() {
            return self.welcome.clone();
        }
        if self.skip_welcome || self.app.is_some() || self.serve.is_some() {
            return None;
        }
        if let Some(server) = server {
            return server.welcome().map(str::to_owned);
        }
        match self.target {
            Target::Url(_) | Target::UrlFromEnv(_) => None,
            // In place of the embedded server this test describes: the welcome its handler would send.
            Target::Embedded | Target::UrlFromEnvOrEmbedded(_) => match &self.replay {
                Some((name, text)) => self
                    .loaded_replay(name, text)
                    .ok()
                    .and_then(|replay| replay.opening_event().map(str::to_owned)),
                None => self.embedded_builder().welcome(),
            },
        }
    }

    /// The recording this test replays: through its protocol when the protocol has a server side (the server
    /// speaks it), its events named by the test's key.
    pub(super) fn loaded_replay(&self, name: &str, text: &str) -> crate::Result<Replay> {
        let mut replay =
            Replay::from_named_text(text, name, self.replay_entry.as_deref())?.ignore_fields(&self.ignore_fields);
        if let Some(protocol) = self.protocol.as_ref().filter(|p| p.server_session().is_some()) {
            replay = replay.protocol(std::sync::Arc::clone(protocol))?;
        }
        Ok(replay.event_key(self.key()))
    }

    /// The field that names this test's events: `event_key`, else the protocol's, else `"type"`.
    pub(super) fn key(&self) -> crate::Field {
        match (&self.event_key, &self.protocol) {
            (Some(key), _) => key.clone(),
            (None, Some(protocol)) => protocol.event_key(),
            (None, None) => crate::Field::type_key(),
        }
    }

    /// The embedded server's builder as the test configures it: `server`, then `handler`.
    pub(super) fn embedded_builder(&self) -> ServerBuilder {
        let builder = self.server.map_or_else(EmbeddedServer::builder, |server| server());
        match self.handler {
            Some(handler) => handler(builder),
            None => builder,
        }
    }

    /// What cannot go with `serve` (a test built by hand or from a profile; the macro refuses the same at compile
    /// time).
    pub(super) fn serve_conflicts(&self, serve: &Serve) -> Result<(), String> {
        let mut with = Vec::new();
        if self.handler.is_some() {
            with.push("handler");
        }
        if self.server.is_some() {
            with.push("server");
        }
        if self.app.is_some() {
            with.push("app");
        }
        if self.replay.is_some() {
            with.push("replay");
        }
        if !with.is_empty() {
            return Err(format!(
                "`serve = {serve:?}` runs your own server, so {} (ws-test's own server) cannot apply; keep one",
                with.join(", ")
            ));
        }
        if self.transport == Some(Transport::Memory) {
            return Err(format!(
                "`serve = {serve:?}` gets a real TCP listener, so `transport = \"memory\"` cannot apply"
            ));
        }
        Ok(())
    }
}

pub(super) fn env_url(variable: &str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

pub(super) async fn setup(spec: &TestSpec, injected: &mut Injected, taps: &mut Vec<Tap>) -> Result<(), String> {
    if let (Some(entry), None) = (&spec.replay_entry, &spec.replay) {
        return Err(format!(
            "`entry = {entry:?}` chooses one WebSocket of the HAR file a test replays, so it needs `replay = \"FILE\"`; \
             this test replays nothing"
        ));
    }
    if !spec.ignore_fields.is_empty() && spec.replay.is_none() {
        // The macro refuses the same at compile time; a spec built by hand or from a profile is refused here.
        return Err(format!(
            "`ignore_fields = {:?}` leaves fields out when client frames are compared with a recording's, so it \
             needs `replay = \"FILE\"`; this test replays nothing",
            spec.ignore_fields
        ));
    }
    timeout::check_env().map_err(|error| error.to_string())?;
    if let Some(problem) = spec.problems.first() {
        return Err(problem.clone());
    }
    // Over a URL the link is the clients' alone: no server handle controls it.
    let mut url_link = None;
    let url = match (spec.external_url()?, &spec.serve) {
        (Some(url), _) => {
            if let Some(replaced) = spec.replaced_by_env() {
                // One line, so a test that configured its own server never runs elsewhere without a word.
                eprintln!(
                    "ws-test: {}: the live server {url} (WS_TEST_URL) replaces this test's {replaced}; a test keeps its \
                     own server only with `replay`, or when WS_TEST_URL is unset",
                    spec.name
                );
            }
            injected.external_url = Some(url.clone());
            url_link = spec.link.clone().map(crate::LinkControl::new);
            url
        }
        (None, Some(serve)) => {
            spec.serve_conflicts(serve)?;
            let mut builder = ServedServer::erased((serve.make)(), serve.name).path(
                spec.path
                    .clone()
                    .unwrap_or_else(|| crate::server::DEFAULT_PATH.to_owned()),
            );
            if let Some(link) = &spec.link {
                builder = builder.link(link);
            }
            let served = builder.start().await.map_err(|error| error.to_string())?;
            let url = served.url();
            injected.served = Some(served);
            url
        }
        (None, None) => {
            let mut builder = spec.embedded_builder();
            if let Some((name, text)) = &spec.replay {
                let loaded = spec
                    .loaded_replay(name, text)
                    .map_err(|error| format!("the recording to replay does not read: {error}"))?;
                // Served where it was recorded, agreeing to the subprotocol the recorded server chose (the test's
                // own `path`, set below, wins).
                builder = builder.replay(loaded);
            }
            // The core's settings first: `app` carries them over to the app's builder.
            if let Some(path) = &spec.path {
                builder = builder.path(path.clone());
            }
            if let Some(transport) = spec.transport {
                builder = builder.transport(transport);
            }
            if let Some(link) = &spec.link {
                builder = builder.link(link);
            }
            // A hosted app enforces the token and picks the subprotocol itself; ws-test's own server is told to.
            let started = match spec.app {
                Some(app) => app(builder).await.start().await,
                None => {
                    if let Some(token) = &spec.token {
                        builder = builder.token(token.clone());
                    }
                    if let Some(protocol) = &spec.subprotocol {
                        builder = builder.subprotocol(protocol.clone());
                    }
                    // The test's protocol, spoken by both ends when it has a server side (the kits do).
                    if let Some(protocol) = spec.protocol.as_ref().filter(|p| p.server_session().is_some()) {
                        builder = builder.protocol(std::sync::Arc::clone(protocol));
                    }
                    builder.start().await
                }
            };
            let server = started.map_err(|error| format!("the embedded server did not start: {error}"))?;
            let url = server.url();
            injected.server = Some(server);
            url
        }
    };
    if let Some(hooks) = spec.hooks {
        let context = ProfileContext {
            server: injected.server.as_ref(),
            url: &url,
            test: &spec.name,
        };
        hook(hooks.profile, "setup", (hooks.setup)(&context)).await?;
    }
    let welcome = spec.welcome_event(injected.server.as_ref());
    for _ in 0..spec.clients {
        // An embedded server's own builder trusts its certificate when it serves TLS.
        let mut builder = match (&injected.server, &injected.served) {
            (Some(server), _) => server.client(),
            (None, Some(served)) => served.client(),
            (None, None) => WsClient::builder(url.clone()),
        };
        if let Some(link) = &url_link {
            builder = builder.link(link);
        }
        for (name, value) in &spec.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(token) = &spec.token {
            builder = builder.token(token.clone());
        }
        if let Some(protocol) = &spec.subprotocol {
            builder = builder.subprotocol(protocol.clone());
        }
        if let Some(protocol) = &spec.protocol {
            builder = builder.protocol(std::sync::Arc::clone(protocol));
        }
        if let Some(key) = &spec.event_key {
            builder = builder.event_key(key);
        }
        if let Some(Decode(decode)) = &spec.decode {
            builder = builder.decoder(decode.clone());
        }
        let connected = match &injected.served {
            Some(served) => served.connect_with(builder).await,
            None => builder.connect().await,
        };
        let mut client = connected.map_err(|error| error.to_string())?;
        if let Some(welcome) = &welcome {
            let expected = Expect::events([welcome.as_str()]).within(spec.event_deadline());
            client.expect(&expected).await.map_err(|error| {
                format!(
                    "the server's welcome ({welcome}) did not arrive (use `skip_welcome = true` if it sends none):\n{error}"
                )
            })?;
        }
        taps.push(client.tap());
        injected.clients.push(client);
    }
    Ok(())
}

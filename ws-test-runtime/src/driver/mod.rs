//! The test driver: what `#[ws_test]` expands to, usable by hand too.
//!
//! [`run`] builds the tokio runtime, starts the embedded server (or picks the external URL), connects and
//! welcomes the clients, runs the body under its timeout, checks the declared events with the one matcher,
//! tears everything down even when the body panicked or failed, and then fails the test with a report (and a
//! transcript under `target/ws-test/`), or resumes the body's panic so `#[should_panic]` works. It is not
//! generic: a crate of a hundred tests compiles it once.
//!
//! ```
//! use ws_test_runtime::driver::{TestSpec, body, run};
//! use ws_test_runtime::prelude::*;
//!
//! async fn chat_flow(client: &mut WsClient) -> TestResult {
//!     client.send_json(&json!({"type": "chat_message", "content": "hi"})).await?;
//!     Ok(())
//! }
//!
//! // What `#[ws_test(events = [...])] async fn chat_flow(...)` does:
//! let events = Expect::events(ws_test_runtime::ChatEvent::CRITICAL);
//! run(TestSpec::new("docs::chat_flow").expect(events), body(chat_flow));
//! ```

mod context;
pub(crate) mod inject;
pub(crate) mod outcome;
mod plan;
mod spec;
mod transcript;

use plan::setup;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;

pub(crate) use context::Hooks;
pub use context::ProfileContext;
use inject::Injected;
pub use inject::{AppFuture, Body, TestFn, body};
#[cfg(not(feature = "contract"))]
pub use spec::NeedsContractFeature;
pub use spec::{Flavor, Target, TestSpec, URL_ENV};

use crate::history::History;
use crate::panics::panic_message;
use crate::served::ServedServer;
use crate::{EmbeddedServer, Error, Tap, WsClient, timeout};

/// Why a test failed, after teardown.
enum Failure {
    Setup(String),
    Teardown(String),
    Body(String),
    Timeout(Duration),
    Events(String),
    /// Frames that break the test's AsyncAPI contract.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    Contract(String),
}

/// What the driver saw, for the report and the transcript.
struct Evidence {
    failures: Vec<Failure>,
    panic: Option<Box<dyn std::any::Any + Send>>,
    server_failures: Vec<String>,
    /// The clients' records, read for a transcript only when the test fails.
    taps: Vec<Tap>,
}

/// Runs one test: the function `#[ws_test]` expands to. Panics (fails the test) with a readable report.
pub fn run(spec: TestSpec, body: Body) {
    let paused = match spec.paused_clock() {
        Ok(paused) => paused,
        Err(reason) => panic!("ws-test cannot run {}: {reason}", spec.name),
    };
    let runtime = match spec.flavor {
        Flavor::CurrentThread => {
            let mut builder = tokio::runtime::Builder::new_current_thread();
            #[cfg(feature = "test-util")]
            builder.start_paused(paused);
            builder.enable_all().build()
        }
        #[cfg(feature = "multi-thread")]
        Flavor::MultiThread(workers) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(workers) = workers {
                builder.worker_threads(workers);
            }
            builder.enable_all().build()
        }
        #[cfg(not(feature = "multi-thread"))]
        Flavor::MultiThread(_) => panic!(
            "ws-test cannot run {}: the multi-thread flavor needs ws-test-runtime's `multi-thread` feature \
             (tokio's multi-thread scheduler): ws-test-runtime = {{ version = \"0.1\", features = [\"multi-thread\"] }}",
            spec.name
        ),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => panic!("ws-test could not build the tokio runtime for {}: {error}", spec.name),
    };
    let evidence = runtime.block_on(drive(&spec, body));
    drop(runtime);
    conclude(&spec, evidence, paused);
}

async fn drive(spec: &TestSpec, body: Body) -> Evidence {
    let mut evidence = Evidence {
        failures: Vec::new(),
        panic: None,
        server_failures: Vec::new(),
        taps: Vec::new(),
    };
    let mut injected = Injected::default();
    let mut taps: Vec<Tap> = Vec::new();
    match setup(spec, &mut injected, &mut taps).await {
        Ok(()) => run_body(spec, body, &mut injected, &taps, &mut evidence).await,
        Err(reason) => evidence.failures.push(Failure::Setup(reason)),
    }
    // Teardown, whatever happened: clients first (they say goodbye), then the server.
    evidence.taps = taps;
    let Injected {
        clients,
        server,
        served,
        external_url,
    } = injected;
    // Each client's goodbye, awaited (bounded by the close timeout): the server sees the clients' 1000 before it
    // shuts down, and no task is left for the runtime's drop to cancel.
    futures_util::future::join_all(clients.into_iter().map(WsClient::finish)).await;
    if let Some(hooks) = spec.hooks {
        let url = server
            .as_ref()
            .map(EmbeddedServer::url)
            .or_else(|| served.as_ref().map(ServedServer::url))
            .or(external_url)
            .unwrap_or_default();
        let context = ProfileContext {
            server: server.as_ref(),
            url: &url,
            test: &spec.name,
        };
        if let Err(reason) = hook(hooks.profile, "teardown", (hooks.teardown)(&context)).await {
            evidence.failures.push(Failure::Teardown(reason));
        }
    }
    if let Some(mut server) = server {
        if let Err(Error::ServerFailed { failures, .. }) = server.shutdown().await {
            evidence.server_failures = failures;
        }
    }
    if let Some(mut served) = served {
        if let Err(failure) = served.shutdown().await {
            evidence.server_failures.push(failure.to_string());
        }
    }
    evidence
}

/// Runs a profile's `setup` or `teardown` under [`timeout::HOOK`] (scaled); an error or the deadline is the
/// failure's sentence.
async fn hook(
    profile: &str,
    which: &str,
    run: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let within = timeout::scaled(timeout::HOOK);
    match tokio::time::timeout(within, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("the {which} of profile {profile} returned an error: {error}")),
        Err(_) => Err(format!(
            "the {which} of profile {profile} did not finish within {within:?} (timeout::HOOK, scaled by {})",
            timeout::SCALE_ENV
        )),
    }
}

async fn run_body(spec: &TestSpec, body: Body, injected: &mut Injected, taps: &[Tap], evidence: &mut Evidence) {
    let within = match spec.body_timeout() {
        Ok(within) => within,
        Err(reason) => return evidence.failures.push(Failure::Setup(reason)),
    };
    let clients_before = injected.clients.len();
    let outcome = tokio::time::timeout(within, AssertUnwindSafe(body(injected)).catch_unwind()).await;
    match outcome {
        Err(_) => return evidence.failures.push(Failure::Timeout(within)),
        Ok(Err(payload)) => {
            evidence.panic = Some(payload);
            return;
        }
        Ok(Ok(Err(reason))) => return evidence.failures.push(Failure::Body(reason)),
        Ok(Ok(Ok(()))) => {}
    }
    #[cfg(feature = "contract")]
    if let Some((name, text)) = &spec.contract {
        match crate::contract::Contract::from_asyncapi_str(text, name) {
            Ok(contract) => {
                let event_key = spec.event_key.clone();
                let contract = match event_key {
                    Some(key) => contract.event_key(key),
                    None => contract,
                };
                for (number, tap) in taps.iter().enumerate() {
                    if let Err(violations) = contract.check_history(&tap.history()) {
                        let text = crate::contract::violations_error(violations).to_string();
                        let who = if taps.len() > 1 {
                            format!("client {number}: ")
                        } else {
                            String::new()
                        };
                        evidence.failures.push(Failure::Contract(format!("{who}{text}")));
                    }
                }
            }
            Err(error) => evidence
                .failures
                .push(Failure::Setup(format!("the contract does not read: {error}"))),
        }
    }
    let Some(expectation) = &spec.expectation else { return };
    let expectation = match expectation.deadline() {
        Some(_) => expectation.clone(),
        None => expectation.clone().within(spec.event_deadline()),
    };
    // Each checked client's whole session after the welcome, whatever the body read: its tap was made at
    // connect, and reads on whether the body still lends the client or took it.
    let checked: Vec<usize> = match spec.events_on {
        Some(index) => vec![index],
        None => (0..taps.len()).collect(),
    };
    if taps.is_empty() {
        return evidence.failures.push(Failure::Setup(
            "events were declared, but the test has no client".into(),
        ));
    }
    let still_lent = clients_before == injected.clients.len();
    for &index in &checked {
        let Some(tap) = taps.get(index) else {
            return evidence.failures.push(Failure::Setup(format!(
                "the events are checked on client {index} (`events_on`), but the test has {} client(s), \
                 numbered from 0",
                taps.len()
            )));
        };
        if let (Some(client), true) = (injected.clients.get_mut(index), still_lent) {
            if let Err(error) = client.flush().await {
                return evidence.failures.push(Failure::Events(error.to_string()));
            }
        }
        let who = if taps.len() > 1 {
            format!("on client {index} of {}: ", taps.len())
        } else {
            String::new()
        };
        match tap.clone().expect(&expectation).await {
            Err(Error::Expectation(failure)) => evidence.failures.push(Failure::Events(format!("{who}{failure}"))),
            Err(other) => evidence.failures.push(Failure::Events(format!("{who}{other}"))),
            Ok(_) => {}
        }
    }
}

fn conclude(spec: &TestSpec, evidence: Evidence, paused: bool) {
    let mut report = Vec::new();
    for failure in &evidence.failures {
        report.push(match failure {
            Failure::Setup(reason) => format!("setup failed: {reason}"),
            Failure::Teardown(reason) => format!("teardown failed: {reason}"),
            Failure::Body(reason) => format!("the test body returned an error: {reason}"),
            Failure::Timeout(within) if paused => format!(
                "the test body did not finish within {} of the paused clock's virtual time (a test that waits \
                 minutes of virtual time needs a `timeout = \"...\"` to match, or {})",
                humantime::format_duration(*within),
                timeout::BODY_ENV
            ),
            Failure::Timeout(within) => format!(
                "the test body did not finish within {} (set `timeout = \"...\"` on the test or {})",
                humantime::format_duration(*within),
                timeout::BODY_ENV
            ),
            Failure::Events(report) => format!("the declared events did not arrive as declared:\n{report}"),
            Failure::Contract(report) => format!("frames broke the contract:\n{report}"),
        });
    }
    if !evidence.server_failures.is_empty() {
        let mut text = "the server side failed while the test ran:".to_owned();
        for failure in &evidence.server_failures {
            text.push_str("\n  - ");
            text.push_str(failure);
        }
        report.push(text);
    }
    if let Some(payload) = evidence.panic {
        if !report.is_empty() {
            eprintln!(
                "ws-test: the body of {} panicked; also:\n{}",
                spec.name,
                report.join("\n\n")
            );
        }
        write_transcript(
            spec,
            &format!("the test body panicked: {}", panic_message(payload.as_ref())),
            &evidence.taps,
        );
        std::panic::resume_unwind(payload);
    }
    if report.is_empty() {
        return;
    }
    let mut message = report.join("\n\n");
    if let Some(path) = write_transcript(spec, &message, &evidence.taps) {
        message.push_str(&format!("\n\ntranscript: {}", path.display()));
    }
    panic!("{message}");
}

fn write_transcript(spec: &TestSpec, report: &str, taps: &[Tap]) -> Option<std::path::PathBuf> {
    let histories: Vec<History> = taps.iter().map(Tap::history).collect();
    match transcript::write(&spec.name, report, &histories) {
        Ok(path) => {
            eprintln!("ws-test: transcript of {} written to {}", spec.name, path.display());
            Some(path)
        }
        Err(reason) => {
            eprintln!("ws-test: could not write the transcript of {}: {reason}", spec.name);
            None
        }
    }
}

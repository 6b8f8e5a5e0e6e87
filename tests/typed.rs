//! Declare once, use everywhere: typed events (`#[derive(WsEvents)]`) and profiles (`#[derive(WsProfile)]`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Deserialize;
use ws_test_runtime::driver::ProfileContext;
use ws_test_runtime::driver::TestSpec;
use ws_test_runtime::prelude::*;
use ws_test_runtime::{ChatEvent, ServerBuilder, ws_test};

#[derive(Debug, Deserialize, WsEvents)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
#[ws_events(order = [JobQueued, JobDone])]
enum JobEvent {
    JobQueued {
        job_id: String,
    },
    JobProgress(Progress),
    #[serde(rename = "job-finished")]
    JobDone {
        job_id: String,
        ok: bool,
    },
    Heartbeat,
}

#[derive(Debug, Deserialize)]
struct Progress {
    percent: u8,
}

#[test]
fn wire_names_follow_serde() {
    assert_eq!(
        JobEvent::NAMES,
        ["JOB_QUEUED", "JOB_PROGRESS", "job-finished", "HEARTBEAT"]
    );
    assert_eq!(JobEvent::CRITICAL, ["JOB_QUEUED", "job-finished"]);
    let progress = JobEvent::decode(&json!({"type": "JOB_PROGRESS", "percent": 40})).expect("decodes");
    assert!(matches!(&progress, JobEvent::JobProgress(Progress { percent: 40 })));
    assert_eq!(progress.name(), "JOB_PROGRESS");
    assert_eq!(
        JobEvent::decode(&json!({"type": "HEARTBEAT"})).expect("decodes").name(),
        "HEARTBEAT"
    );
    match JobEvent::decode(&json!({"type": "job-finished", "job_id": "j1", "ok": true})).expect("decodes") {
        JobEvent::JobDone { job_id, ok } => assert!(job_id == "j1" && ok),
        other => panic!("expected JobDone, got {other:?}"),
    }
    match JobEvent::decode(&json!({"type": "JOB_QUEUED", "job_id": "j2"})).expect("decodes") {
        JobEvent::JobQueued { job_id } => assert_eq!(job_id, "j2"),
        other => panic!("expected JobQueued, got {other:?}"),
    }
    let unknown = JobEvent::decode(&json!({"type": "JOB_EXPLODED"}))
        .unwrap_err()
        .to_string();
    assert_eq!(
        unknown,
        "received an event of type \"JOB_EXPLODED\", which JobEvent does not declare; it declares: JOB_QUEUED, \
         JOB_PROGRESS, job-finished, HEARTBEAT"
    );
    let shape = JobEvent::decode(&json!({"type": "job-finished", "job_id": 7}))
        .unwrap_err()
        .to_string();
    assert!(
        shape.starts_with("the \"job-finished\" event does not fit JobEvent: invalid type"),
        "{shape}"
    );
}

#[test]
fn the_built_in_events_are_ready() {
    assert_eq!(ChatEvent::NAMES, ChatEvent::CRITICAL);
}

#[ws_test(events = ChatEvent::CRITICAL, per = "run_id")]
async fn events_from_the_typed_enum(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "typed"}))
        .await?;
    Ok(())
}

#[ws_test(events = [ChatEvent::AgentStarted, ChatEvent::ToolCompleted, ChatEvent::AgentCompleted])]
async fn events_named_by_variant(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "variants"}))
        .await?;
    Ok(())
}

#[ws_test]
async fn typed_events_come_out_of_the_client(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "hi", "run_id": "r9"}))
        .await?;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let event: ChatEvent = client.next_event().await?;
        assert_eq!(event.run_id(), "r9");
        seen.push(event.name());
    }
    assert_eq!(seen, ChatEvent::CRITICAL);
    client.send_json(&json!({"type": "ping"})).await?;
    let error = client.next_event::<ChatEvent>().await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("received an event of type \"pong\", which ChatEvent does not declare")
    );
    Ok(())
}

// ---- Profiles ----

fn support_agent() -> ChatAgent {
    ChatAgent::new().agent_name("Support")
}

#[derive(WsProfile)]
#[ws_profile(handler = support_agent, events = ChatEvent::CRITICAL, order = "strict", per = "run_id", headers = [("X-User-Id", "alice")])]
struct SupportBackend;

#[ws_test(profile = SupportBackend)]
async fn a_profile_supplies_handler_events_and_user(client: &mut WsClient) -> TestResult {
    let welcome = client.history().frames()[0].json().unwrap_or_default();
    assert_eq!(welcome["user_id"], "alice");
    client
        .send_json(&json!({"type": "chat_message", "content": "hi"}))
        .await?;
    match client.next_event::<ChatEvent>().await? {
        ChatEvent::AgentStarted { meta, .. } => assert_eq!(meta.agent_name, "Support"),
        other => panic!("expected agent_started, got {other:?}"),
    }
    Ok(())
}

#[ws_test(profile = SupportBackend, headers = [("X-User-Id", "bob")], events = ["pong"], order = "in_order")]
async fn test_arguments_override_the_profile(client: &mut WsClient) -> TestResult {
    let welcome = client.history().frames()[0].json().unwrap_or_default();
    assert_eq!(welcome["user_id"], "bob");
    client.send_json(&json!({"type": "ping"})).await?;
    Ok(())
}

#[ws_test(profile = SupportBackend, times = 2, order = "in_order")]
async fn order_and_times_refine_the_profiles_events(client: &mut WsClient) -> TestResult {
    for run in ["a", "b"] {
        client
            .send_json(&json!({"type": "chat_message", "content": run, "run_id": run}))
            .await?;
    }
    Ok(())
}

#[ws_test(profile = SupportBackend, times = 2, event_timeout = "200ms")]
#[should_panic(expected = "1 more complete sequence(s), each with its own run_id")]
async fn a_refined_profile_expectation_still_fails_when_unmet(client: &mut WsClient) -> TestResult {
    client
        .send_json(&json!({"type": "chat_message", "content": "only one"}))
        .await?;
    Ok(())
}

static SEEDED: AtomicUsize = AtomicUsize::new(0);

async fn seed(context: &ProfileContext<'_>) -> Result<(), ws_test_runtime::Error> {
    let server = context.server().expect("an embedded server");
    assert_eq!(
        server.metrics().connections_total,
        0,
        "setup runs before the test's clients connect"
    );
    let mut admin = context.connect().await?;
    admin.expect(&Expect::events(["connection_established"])).await?;
    SEEDED.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

fn small_server() -> ServerBuilder {
    EmbeddedServer::builder().max_message_size(128)
}

#[derive(WsProfile)]
#[ws_profile(server = small_server, setup = seed, skip_welcome = true)]
struct Seeded;

#[ws_test(profile = Seeded)]
async fn setup_runs_first_with_the_server_at_hand(client: &mut WsClient, server: &EmbeddedServer) -> TestResult {
    assert!(SEEDED.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        server.metrics().connections_total,
        2,
        "the seeding client and the test's"
    );
    client.send_text("x".repeat(200)).await?;
    client.expect_closed(1009).await?;
    Ok(())
}

/// A profile written by hand: what attributes cannot say.
struct FailingSetup;

impl WsProfile for FailingSetup {
    fn configure(spec: TestSpec) -> TestSpec {
        spec.event_timeout(Duration::from_millis(500))
    }

    async fn setup(_context: &ProfileContext<'_>) -> Result<(), BoxError> {
        Err("the user database is not reachable".into())
    }
}

#[ws_test(profile = FailingSetup)]
#[should_panic(
    expected = "setup failed: the setup of profile FailingSetup returned an error: the user database is not reachable"
)]
async fn a_failing_setup_is_reported_as_setup_failed(_client: &mut WsClient) {}

struct FailingTeardown;

impl WsProfile for FailingTeardown {
    async fn teardown(context: &ProfileContext<'_>) -> Result<(), BoxError> {
        Err(format!("could not clean up after {}", context.test_name()).into())
    }
}

#[ws_test(profile = FailingTeardown)]
#[should_panic(
    expected = "teardown failed: the teardown of profile FailingTeardown returned an error: could not clean up after"
)]
async fn a_failing_teardown_fails_the_test(_client: &mut WsClient) {}

/// A setup and a teardown that never finish: each is cut off at `timeout::HOOK` (on a paused clock, at once).
struct StuckHooks;

impl WsProfile for StuckHooks {
    fn configure(spec: TestSpec) -> TestSpec {
        spec.transport(ws_test_runtime::Transport::Memory).start_paused(true)
    }

    async fn setup(_context: &ProfileContext<'_>) -> Result<(), BoxError> {
        std::future::pending().await
    }
}

#[ws_test(profile = StuckHooks)]
#[should_panic(expected = "setup failed: the setup of profile StuckHooks did not finish within 30s (timeout::HOOK")]
async fn a_setup_that_never_finishes_fails_at_its_deadline(_client: &mut WsClient) {}

struct StuckTeardown;

impl WsProfile for StuckTeardown {
    fn configure(spec: TestSpec) -> TestSpec {
        spec.transport(ws_test_runtime::Transport::Memory).start_paused(true)
    }

    async fn teardown(_context: &ProfileContext<'_>) -> Result<(), BoxError> {
        std::future::pending().await
    }
}

#[ws_test(profile = StuckTeardown)]
#[should_panic(expected = "teardown failed: the teardown of profile StuckTeardown did not finish within 30s")]
async fn a_teardown_that_never_finishes_fails_at_its_deadline(_client: &mut WsClient) {}

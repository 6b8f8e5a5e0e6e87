//! The checks, one per line of `PROTOCOL.md`. Each returns a short detail on success, or what was expected and
//! what arrived.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use futures_util::future::try_join_all;
use serde_json::{Value, json};

use super::Suite;
use crate::expect::{Expect, step};
use crate::protocol::{self, close_code, error_code};
use crate::{ChatEvent, Error, WsClient, WsEvents as _};

type Outcome = Result<String, String>;

/// What every check needs: the suite's settings.
pub(crate) struct Context<'s> {
    suite: &'s Suite,
}

fn text(error: Error) -> String {
    error.to_string()
}

impl<'s> Context<'s> {
    pub(crate) fn new(suite: &'s Suite) -> Self {
        Context { suite }
    }

    pub(crate) async fn connect(&self) -> crate::Result<WsClient> {
        self.suite.client_builder().connect().await
    }

    /// A connected client whose welcome was checked and consumed; returns it with its user id.
    async fn welcomed(&self) -> Result<(WsClient, String), String> {
        let mut client = self.connect().await.map_err(text)?;
        let matched = client
            .expect(&Expect::events([protocol::CONNECTION_ESTABLISHED]))
            .await
            .map_err(text)?;
        let user = matched.events()[0]["user_id"].as_str().unwrap_or_default().to_owned();
        Ok((client, user))
    }
}

/// A check's future, borrowing the suite's context.
type CheckFuture<'c> = Pin<Box<dyn Future<Output = Outcome> + 'c>>;

/// One check: its name (as `ws-test check` prints it), whether it needs the server's token, and what it runs.
pub(crate) struct Check {
    pub(crate) name: &'static str,
    pub(crate) needs_token: bool,
    pub(crate) run: for<'c> fn(&'c Context<'c>) -> CheckFuture<'c>,
}

/// Every check, in the order they run: the one registry of names and functions.
pub(crate) const CHECKS: &[Check] = &[
    check("health", |context| Box::pin(health(context))),
    check("connect", |context| Box::pin(connect(context))),
    check("connection_established", |context| {
        Box::pin(connection_established(context))
    }),
    check("ping_pong", |context| Box::pin(ping_pong(context))),
    check("critical_events", |context| Box::pin(critical_events(context))),
    check("event_fields", |context| Box::pin(event_fields(context))),
    check("run_id_kept", |context| Box::pin(run_id_kept(context))),
    check("interleaved_runs", |context| Box::pin(interleaved_runs(context))),
    check("echo", |context| Box::pin(echo(context))),
    check("routing", |context| Box::pin(routing(context))),
    check("error_invalid_json", |context| {
        Box::pin(error_case(
            context,
            Frame::Text("this is not json"),
            error_code::INVALID_JSON,
        ))
    }),
    check("error_non_object", |context| {
        Box::pin(error_case(context, Frame::Text("[1, 2, 3]"), error_code::INVALID_JSON))
    }),
    check("error_missing_type", |context| {
        Box::pin(error_case(
            context,
            Frame::Text(r#"{"content":"no type"}"#),
            error_code::MISSING_TYPE,
        ))
    }),
    check("error_unknown_type", |context| {
        let frame = Frame::Text(r#"{"type":"ws_test_no_such_type"}"#);
        Box::pin(error_case(context, frame, error_code::UNKNOWN_TYPE))
    }),
    check("error_binary_frame", |context| {
        Box::pin(error_case(
            context,
            Frame::Binary(&[0, 1, 2]),
            error_code::UNSUPPORTED_FRAME,
        ))
    }),
    check("open_after_errors", |context| Box::pin(open_after_errors(context))),
    check("oversize_close_1009", |context| Box::pin(oversize(context))),
    with_token(check("auth_refused", |context| Box::pin(auth_refused(context)))),
    with_token(check("auth_accepted", |context| Box::pin(auth_accepted(context)))),
    check("concurrent_users", |context| Box::pin(concurrent_users(context))),
    check("broadcast", |context| Box::pin(broadcast(context))),
];

const fn check(name: &'static str, run: for<'c> fn(&'c Context<'c>) -> CheckFuture<'c>) -> Check {
    Check {
        name,
        needs_token: false,
        run,
    }
}

const fn with_token(check: Check) -> Check {
    Check {
        needs_token: true,
        ..check
    }
}

async fn health(context: &Context<'_>) -> Outcome {
    let response = super::http::get(&context.suite.client_builder(), "/health").await?;
    if response.status != 200 {
        return Err(format!(
            "expected GET /health to answer 200, got {}: {:?}",
            response.status, response.body
        ));
    }
    if !response
        .content_type
        .as_deref()
        .is_some_and(|kind| kind.starts_with("application/json"))
    {
        return Err(format!(
            "expected Content-Type application/json, got {:?}",
            response.content_type
        ));
    }
    let body: Value = serde_json::from_str(&response.body)
        .map_err(|error| format!("expected a JSON body, got {:?} ({error})", response.body))?;
    let count = |field: &str| body.get(field).and_then(Value::as_u64);
    match (
        body.get("status").and_then(Value::as_str),
        count("active_connections"),
        count("total_connections"),
    ) {
        (Some("ok"), Some(active), Some(total)) => Ok(format!("status ok, {active} active, {total} total")),
        _ => Err(format!(
            "expected {{\"status\":\"ok\",\"active_connections\":N,\"total_connections\":N}}, got {body}"
        )),
    }
}

async fn connect(context: &Context<'_>) -> Outcome {
    let mut client = context.connect().await.map_err(text)?;
    let _ = client.close(close_code::NORMAL, "suite done").await;
    Ok("the upgrade was accepted".into())
}

async fn connection_established(context: &Context<'_>) -> Outcome {
    let mut client = context.connect().await.map_err(text)?;
    let first = client.recv_json().await.map_err(text)?;
    let strings = ["connection_id", "user_id"]
        .iter()
        .all(|field| first[field].is_string());
    if first["type"] != protocol::CONNECTION_ESTABLISHED || !strings {
        return Err(format!(
            "expected the first frame to be {{\"type\":\"connection_established\",\"connection_id\":STRING,\
             \"user_id\":STRING}}, got {first}"
        ));
    }
    Ok(format!(
        "connection {} for user {}",
        first["connection_id"], first["user_id"]
    ))
}

async fn ping_pong(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    client.send_json(&json!({"type": protocol::PING})).await.map_err(text)?;
    let matched = client
        .expect(&Expect::events([protocol::PONG]).forbid(protocol::ERROR))
        .await
        .map_err(text)?;
    let pong = &matched.events()[0];
    match pong["timestamp"].as_u64() {
        Some(timestamp) => Ok(format!("pong with timestamp {timestamp}")),
        None => Err(format!(
            "expected the pong to carry a numeric \"timestamp\" (ms), got {pong}"
        )),
    }
}

/// Sends one chat message and returns the five events of its run (strictly in order).
async fn chat_run(client: &mut WsClient, message: Value) -> Result<Vec<Value>, String> {
    client.send_json(&message).await.map_err(text)?;
    let expectation = Expect::events(ChatEvent::CRITICAL)
        .strict()
        .per("run_id")
        .pair(protocol::TOOL_EXECUTING, protocol::TOOL_COMPLETED, "tool_call_id")
        .forbid(protocol::ERROR);
    Ok(client.expect(&expectation).await.map_err(text)?.events().to_vec())
}

async fn critical_events(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let events = chat_run(
        &mut client,
        json!({"type": protocol::CHAT_MESSAGE, "content": "suite: critical events"}),
    )
    .await?;
    Ok(format!("5 events in order for run {}", events[0]["run_id"]))
}

async fn event_fields(context: &Context<'_>) -> Outcome {
    let (mut client, user) = context.welcomed().await?;
    let content = "suite: fields";
    let frames = chat_run(&mut client, json!({"type": protocol::CHAT_MESSAGE, "content": content})).await?;
    // The shape of every field is ChatEvent's: decoding is the check.
    let events = frames
        .iter()
        .map(ChatEvent::decode)
        .collect::<crate::Result<Vec<ChatEvent>>>()
        .map_err(text)?;
    let mut problems = Vec::new();
    let first = events[0].meta();
    for (offset, event) in events.iter().enumerate() {
        let (kind, meta) = (event.name(), event.meta());
        if meta.user_id != user {
            problems.push(format!(
                "{kind} has user_id {:?}, but the connection's user is {user:?}",
                meta.user_id
            ));
        }
        if meta.run_id != first.run_id {
            problems.push(format!(
                "{kind} has run_id {:?}, the run started as {:?}",
                meta.run_id, first.run_id
            ));
        }
        if meta.seq != first.seq + offset as u64 {
            problems.push(format!(
                "{kind} has seq {}, expected one more than the previous event",
                meta.seq
            ));
        }
    }
    let expected_message = format!("Processing your message: {content}");
    if let ChatEvent::AgentStarted { message, .. } = &events[0] {
        if *message != expected_message {
            problems.push(format!(
                "agent_started has message {message:?}, expected {expected_message:?}"
            ));
        }
    }
    if let (
        ChatEvent::ToolExecuting {
            tool_name, parameters, ..
        },
        ChatEvent::ToolCompleted {
            tool_name: completed_tool,
            ..
        },
    ) = (&events[2], &events[3])
    {
        if !parameters.is_object() {
            problems.push(format!("tool_executing needs an object parameters, got {parameters}"));
        }
        if completed_tool != tool_name {
            problems.push(format!(
                "tool_completed names tool {completed_tool:?}, but tool_executing named {tool_name:?}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!("every field present, agent {:?}", first.agent_name))
    } else {
        Err(problems.join("\n"))
    }
}

async fn run_id_kept(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let run_id = "ws-test-suite-run";
    let message = json!({"type": protocol::CHAT_MESSAGE, "content": "suite: run id", "run_id": run_id});
    let events = chat_run(&mut client, message).await?;
    match events.iter().find(|event| event["run_id"] != run_id) {
        None => Ok(format!("all five events carry run_id {run_id:?}")),
        Some(event) => Err(format!("expected run_id {run_id:?} on every event, got {event}")),
    }
}

async fn interleaved_runs(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    for run in ["suite-run-a", "suite-run-b", "suite-run-c"] {
        let message = json!({"type": protocol::CHAT_MESSAGE, "content": run, "run_id": run});
        client.send_json(&message).await.map_err(text)?;
    }
    let expectation = Expect::events(ChatEvent::CRITICAL)
        .strict()
        .per("run_id")
        .times(3)
        .forbid(protocol::ERROR);
    client.expect(&expectation).await.map_err(text)?;
    Ok("3 runs, each in order".into())
}

async fn echo(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let payload = json!({"nested": {"list": [1, 2.5, "three", null, true]}, "text": "héllo ✓"});
    client
        .send_json(&json!({"type": protocol::ECHO, "payload": payload}))
        .await
        .map_err(text)?;
    let matched = client
        .expect(&Expect::events([protocol::ECHO]).forbid(protocol::ERROR))
        .await
        .map_err(text)?;
    let expected = json!({"type": protocol::ECHO, "payload": payload});
    if matched.events()[0] == expected {
        Ok("the payload came back unchanged".into())
    } else {
        Err(format!("expected {expected}, got {}", matched.events()[0]))
    }
}

async fn routing(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let cases = [
        (json!({"type": protocol::PING}), protocol::PONG),
        (
            json!({"type": protocol::CHAT_MESSAGE, "content": "route"}),
            protocol::AGENT_COMPLETED,
        ),
        (
            json!({"type": protocol::USER_MESSAGE, "content": "route"}),
            protocol::AGENT_COMPLETED,
        ),
        (json!({"type": protocol::ECHO, "payload": "route"}), protocol::ECHO),
        (
            json!({"type": protocol::BROADCAST, "content": "ws-test routing"}),
            protocol::BROADCAST,
        ),
    ];
    for (message, answer) in &cases {
        client.send_json(message).await.map_err(text)?;
        client
            .expect(&Expect::events([*answer]).forbid(protocol::ERROR))
            .await
            .map_err(|error| format!("{} should be answered with {answer}:\n{error}", message["type"]))?;
    }
    Ok("ping, chat_message, user_message, echo and broadcast each reached their route".into())
}

enum Frame {
    Text(&'static str),
    Binary(&'static [u8]),
}

async fn send(client: &mut WsClient, frame: &Frame) -> Result<(), String> {
    match frame {
        Frame::Text(text_frame) => client.send_text(*text_frame).await.map_err(text),
        Frame::Binary(bytes) => client.send_binary(bytes.to_vec()).await.map_err(text),
    }
}

async fn expect_error(client: &mut WsClient, code: &str) -> Outcome {
    let expectation = Expect::events([step(protocol::ERROR).matching(json!({"code": code}))]);
    let matched = client.expect(&expectation).await.map_err(text)?;
    let error = &matched.events()[0];
    match error["error"].as_str() {
        Some(message) if !message.is_empty() => Ok(format!("{code}: {message}")),
        _ => Err(format!("expected a non-empty \"error\" text, got {error}")),
    }
}

async fn error_case(context: &Context<'_>, frame: Frame, code: &str) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    send(&mut client, &frame).await?;
    expect_error(&mut client, code).await
}

async fn open_after_errors(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let cases = [
        (Frame::Text("not json"), error_code::INVALID_JSON),
        (Frame::Text("42"), error_code::INVALID_JSON),
        (Frame::Text(r#"{"no":"type"}"#), error_code::MISSING_TYPE),
        (
            Frame::Text(r#"{"type":"ws_test_no_such_type"}"#),
            error_code::UNKNOWN_TYPE,
        ),
        (Frame::Binary(&[7]), error_code::UNSUPPORTED_FRAME),
    ];
    for (frame, code) in &cases {
        send(&mut client, frame).await?;
        expect_error(&mut client, code).await?;
    }
    client.send_json(&json!({"type": protocol::PING})).await.map_err(text)?;
    client.expect(&Expect::events([protocol::PONG])).await.map_err(text)?;
    Ok("five errors in a row, and the connection still answers".into())
}

async fn oversize(context: &Context<'_>) -> Outcome {
    let (mut client, _) = context.welcomed().await?;
    let size = protocol::DEFAULT_MAX_MESSAGE_SIZE + 1024;
    let payload = "x".repeat(size);
    // A server may close while the message is still being sent: the send may fail, the close must still come.
    let sent = client
        .send_json(&json!({"type": protocol::ECHO, "payload": payload}))
        .await;
    let close = client
        .expect_closed(close_code::MESSAGE_TOO_BIG)
        .await
        .map_err(|error| match sent {
            Ok(()) => text(error),
            Err(send) => format!("sending failed ({send}), and then: {error}"),
        })?;
    Ok(format!(
        "a {size}-byte message was closed with 1009 ({:?})",
        close.reason
    ))
}

async fn auth_refused(context: &Context<'_>) -> Outcome {
    let builder = context.suite.anonymous_client(context.suite.url());
    for (label, attempt) in [
        ("no token", builder.clone()),
        ("a wrong token", builder.token("ws-test-wrong-token")),
    ] {
        match attempt.connect().await {
            Err(Error::Rejected { status: 401, .. }) => {}
            Err(error) => return Err(format!("with {label}, expected HTTP 401, got: {error}")),
            Ok(_) => return Err(format!("with {label}, expected HTTP 401, but the upgrade was accepted")),
        }
    }
    Ok("401 without the token and with a wrong one".into())
}

async fn auth_accepted(context: &Context<'_>) -> Outcome {
    context.welcomed().await?;
    let token = context.suite.token_value().unwrap_or_default();
    let url = context.suite.url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let by_query = context
        .suite
        .anonymous_client(&format!("{url}{separator}token={token}"))
        .connect()
        .await
        .map_err(|error| format!("the token as ?token= was refused: {error}"))?;
    drop(by_query);
    Ok("accepted as a Bearer header and as ?token=".into())
}

async fn concurrent_users(context: &Context<'_>) -> Outcome {
    let users = context.suite.concurrency_level();
    let runs = (0..users).map(|index| async move {
        let (mut client, user) = context.welcomed().await?;
        let content = format!("suite: user {index}");
        let events = chat_run(&mut client, json!({"type": protocol::CHAT_MESSAGE, "content": content})).await?;
        if let Some(foreign) = events.iter().find(|event| event["user_id"] != user.as_str()) {
            return Err(format!("user {user:?} received another user's event: {foreign}"));
        }
        Ok::<_, String>(user)
    });
    let users_seen: HashSet<String> = try_join_all(runs).await?.into_iter().collect();
    if users_seen.len() == users {
        Ok(format!("{users} users at once, each with its own user id and events"))
    } else {
        Err(format!("expected {users} distinct user ids, got {}", users_seen.len()))
    }
}

async fn broadcast(context: &Context<'_>) -> Outcome {
    let (mut sender, sender_user) = context.welcomed().await?;
    let (mut other, _) = context.welcomed().await?;
    let content = "ws-test suite broadcast";
    sender
        .send_json(&json!({"type": protocol::BROADCAST, "content": content}))
        .await
        .map_err(text)?;
    let expected =
        Expect::events([step(protocol::BROADCAST).matching(json!({"content": content, "from": sender_user}))]);
    sender
        .expect(&expected)
        .await
        .map_err(|error| format!("the sender did not get its broadcast:\n{error}"))?;
    other
        .expect(&expected)
        .await
        .map_err(|error| format!("another connection did not get the broadcast:\n{error}"))?;
    Ok("the sender and another connection both received it".into())
}

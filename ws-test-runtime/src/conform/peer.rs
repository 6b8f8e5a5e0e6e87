//! Playing a case: the fuzzer's side of one connection, acting as the case says, recording what arrives, and
//! grading it as Autobahn does when the connection ends; and the short exchanges of the fuzzing server's commands.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;

use super::cases::{Act, CaseDef, CloseVerdict, Event, ExpectedClose, Grade, Payload, Script, Verdict};
use super::deflate::Negotiated;
use super::wire::{Got, Role, State, Timer, Wire, shown, utc_now, write_out};

/// A case being played: what it received and its verdicts so far.
struct Run {
    def: &'static CaseDef,
    received: Vec<Event>,
    behavior: Verdict,
    behavior_close: CloseVerdict,
    result: String,
    result_close: String,
    count: u32,
    data_pointer: usize,
    last_sent: Vec<u8>,
}

fn expected_close(def: &CaseDef) -> ExpectedClose {
    match &def.script {
        Script::Events(events) => events.close.clone(),
        _ => ExpectedClose {
            closed_by_me: true,
            codes: vec![1000],
            require_clean: true,
            wrong_endpoint_fatal: false,
        },
    }
}

impl Run {
    fn new(def: &'static CaseDef) -> Run {
        Run {
            def,
            received: Vec::new(),
            behavior: Verdict::Failed,
            behavior_close: CloseVerdict::Failed,
            result: "Actual events differ from any expected.".into(),
            result_close: "TCP connection was dropped without close handshake".into(),
            count: 0,
            data_pointer: 0,
            last_sent: Vec::new(),
        }
    }

    fn act(&mut self, wire: &mut Wire, act: &'static Act) {
        match act {
            Act::Frame {
                opcode,
                payload,
                fin,
                rsv,
                chop,
                sync,
            } => wire.send_frame(*opcode, payload, *fin, *rsv, *chop, *sync),
            Act::Message {
                payload,
                binary,
                fragment,
            } => wire.send_message(&payload.bytes(), *binary, *fragment),
            Act::Close { code, reason } => wire.send_close(*code, *reason),
            Act::CloseFrame { code, reason } => wire.send_close_frame(*code, reason.clone(), false),
            Act::KillAfter(secs) => {
                wire.log(json!(["KL", secs]));
                wire.schedule(Duration::from_secs_f64(*secs), Timer::Kill);
            }
            Act::CloseAfter(secs) => {
                wire.log(json!(["TI", secs]));
                wire.schedule(Duration::from_secs_f64(*secs), Timer::Close);
            }
            Act::Later {
                secs,
                tag,
                timeout,
                then,
            } => {
                wire.log(json!(["CT", secs, tag]));
                wire.schedule(
                    Duration::from_secs_f64(*secs),
                    Timer::Later {
                        tag,
                        timeout: *timeout,
                        then,
                    },
                );
            }
            Act::BeginFrame { len } => wire.begin_frame(*len),
            Act::FrameData(data) => wire.frame_data(data),
            Act::EndMessage => wire.end_message(),
            Act::AutoFragment(size) => wire.auto_fragment = *size,
        }
    }

    fn on_open(&mut self, wire: &mut Wire) {
        match &self.def.script {
            Script::Events(events) => {
                for act in &events.acts {
                    self.act(wire, act);
                }
            }
            Script::Large { send, waitsecs, .. } => {
                wire.create_wirelog = false;
                self.result = format!("Did not receive message within {} seconds.", *waitsecs as u64);
                self.act(wire, send);
                wire.schedule(Duration::from_secs_f64(*waitsecs), Timer::Close);
            }
            Script::RoundTrips { waitsecs, .. } => {
                wire.enable_wirelog(false);
                self.result = format!("Case did not finish within {} seconds.", *waitsecs as u64);
                wire.schedule(Duration::from_secs_f64(*waitsecs), Timer::Close);
                self.send_one(wire);
            }
            Script::Compressed(compressed) => {
                wire.enable_wirelog(false);
                wire.auto_fragment = compressed.auto_fragment;
                if wire.deflate.is_none() {
                    self.behavior = Verdict::Unimplemented;
                    self.result = "The peer declined permessage-deflate.".into();
                    wire.send_close(Some(1000), None);
                } else {
                    self.result = format!("Case did not finish within {} seconds.", compressed.waitsecs as u64);
                    wire.schedule(Duration::from_secs_f64(compressed.waitsecs), Timer::Close);
                    self.send_one(wire);
                }
            }
        }
    }

    fn send_one(&mut self, wire: &mut Wire) {
        match &self.def.script {
            Script::RoundTrips { len, binary, .. } => {
                let (opcode, pattern): (u8, &'static [u8]) = if *binary { (2, b"\xfe") } else { (1, b"*") };
                wire.send_frame(opcode, &Payload::Repeat(pattern, *len), true, 0, None, false);
            }
            Script::Compressed(compressed) => {
                let data = super::testdata::bytes(compressed.data);
                let message = if compressed.len == 0 {
                    Vec::new()
                } else {
                    let from = self.data_pointer;
                    let to = (from + compressed.len) % data.len();
                    self.data_pointer = to;
                    if to > from {
                        data[from..to].to_vec()
                    } else {
                        [&data[from..], &data[..to]].concat()
                    }
                };
                wire.send_message(&message, compressed.data.binary(), None);
                self.last_sent = message;
            }
            _ => return,
        }
        self.count += 1;
    }

    fn on_got(&mut self, wire: &mut Wire, got: Got) {
        match got {
            Got::Pong(payload) => {
                self.received.push(Event::Pong(payload));
                self.finish_when_done(wire);
            }
            Got::Message(payload, binary) => self.on_message(wire, payload, binary),
        }
    }

    fn on_message(&mut self, wire: &mut Wire, payload: Vec<u8>, binary: bool) {
        match &self.def.script {
            Script::Events(_) => {
                self.received.push(Event::Message(payload, binary));
                self.finish_when_done(wire);
            }
            Script::Large {
                binary: expected_binary,
                len,
                ..
            } => {
                let kind = if *expected_binary { "binary" } else { "text" };
                if binary != *expected_binary {
                    let other = if binary { "binary" } else { "text" };
                    self.result = format!("Expected {kind} message with payload, but got {other}.");
                } else if payload.len() != *len {
                    self.result = format!(
                        "Expected {kind} message with payload of length {len}, but got {}.",
                        payload.len()
                    );
                } else {
                    self.behavior = Verdict::Ok;
                    self.result = format!("Received {kind} message of length {}.", payload.len());
                }
                wire.create_wirelog = true;
                wire.send_close(Some(1000), None);
            }
            Script::RoundTrips {
                len,
                count,
                binary: expected_binary,
                ..
            } => {
                if binary != *expected_binary || payload.len() != *len {
                    self.behavior = Verdict::Failed;
                    self.result = format!(
                        "Echo'ed message type or length differs from what I sent (got binary = {}, payload length = {}).",
                        if binary { "True" } else { "False" },
                        payload.len()
                    );
                    wire.enable_wirelog(true);
                    wire.send_close(Some(1000), None);
                } else if self.count < *count {
                    self.send_one(wire);
                } else {
                    self.behavior = Verdict::Ok;
                    self.result = "Ok, received all echo'ed messages in time.".into();
                    wire.enable_wirelog(true);
                    wire.send_close(Some(1000), None);
                }
            }
            Script::Compressed(compressed) => {
                let expected_binary = compressed.data.binary();
                if binary != expected_binary || payload.len() != compressed.len || payload != self.last_sent {
                    self.behavior = Verdict::Failed;
                    wire.enable_wirelog(true);
                    wire.send_close(Some(1000), None);
                    self.result = if binary != expected_binary {
                        format!(
                            "Echo'ed message type differs from what I sent (got binary {binary}, expected binary {expected_binary})."
                        )
                    } else if payload.len() != compressed.len {
                        format!(
                            "Echo'ed message length differs from what I sent (got length {}, expected length {}).",
                            payload.len(),
                            compressed.len
                        )
                    } else {
                        "Echo'ed message contents differs from what I sent.".into()
                    };
                } else if self.count < compressed.count {
                    self.send_one(wire);
                } else {
                    self.behavior = Verdict::Ok;
                    self.result = "Ok, received all echo'ed messages in time.".into();
                    wire.enable_wirelog(true);
                    wire.send_close(Some(1000), None);
                }
            }
        }
    }

    fn expected(&self) -> &[(Verdict, Vec<Event>)] {
        match &self.def.script {
            Script::Events(events) => &events.expected,
            _ => &[],
        }
    }

    /// Autobahn's `finishWhenDone`: when what arrived equals every expected list, the fuzzer closes (if the case
    /// expects it to).
    fn finish_when_done(&mut self, wire: &mut Wire) {
        if self.expected().iter().any(|(_, events)| *events != self.received) {
            return;
        }
        let suppress = matches!(&self.def.script, Script::Events(events) if events.suppress_close);
        let close = expected_close(self.def);
        if close.closed_by_me && !suppress {
            wire.send_close(close.codes.first().copied(), None);
        }
    }

    fn on_timer(&mut self, wire: &mut Wire, tag: &'static str, timeout: bool, then: &'static [Act]) {
        wire.log(json!(["CTE", tag]));
        if timeout {
            if !wire.is_open() {
                return;
            }
            self.received.push(Event::Timeout(tag));
        }
        for act in then {
            self.act(wire, act);
        }
    }

    /// Autobahn's `onConnectionLost` and the case's own grading after it.
    fn grade(&mut self, wire: &Wire, was_open: bool) {
        for (verdict, events) in self.expected() {
            if *events == self.received {
                self.behavior = *verdict;
                self.result = "Actual events match at least one expected.".into();
                break;
            }
        }
        let close = expected_close(self.def);
        if was_open {
            if close.closed_by_me != wire.closed_by_me {
                self.behavior_close = CloseVerdict::Failed;
                self.result_close = "The connection was failed by the wrong endpoint".into();
            } else if close.require_clean && !wire.was_clean {
                self.behavior_close = CloseVerdict::Unclean;
                self.result_close = "The spec requires the connection to be failed cleanly here".into();
            } else if wire.remote_close_code.is_some_and(|code| !close.codes.contains(&code)) {
                self.behavior_close = CloseVerdict::WrongCode;
                let codes: Vec<String> = close.codes.iter().map(u16::to_string).collect();
                self.result_close = format!("The close code should have been {} or empty", codes.join(","));
            } else if wire.role == Role::Client && wire.dropped_by_me {
                self.behavior_close = CloseVerdict::FailedByClient;
                self.result_close = "It is preferred that the server close the TCP connection".into();
            } else {
                self.behavior_close = CloseVerdict::Ok;
                self.result_close = "Connection was properly closed".into();
            }
            if close.wrong_endpoint_fatal && close.closed_by_me != wire.closed_by_me {
                self.behavior = Verdict::Failed;
            }
        } else {
            self.behavior_close = CloseVerdict::Failed;
            self.result_close = "The WebSocket opening handshake was never completed!".into();
        }
        let grade = match &self.def.script {
            Script::Events(events) => events.grade,
            _ => Grade::Plain,
        };
        match grade {
            Grade::Plain => {}
            Grade::WrongCodeFails => {
                if self.behavior_close == CloseVerdict::WrongCode {
                    self.behavior = Verdict::Failed;
                    self.result = self.result_close.clone();
                }
            }
            Grade::Informational { says_order } => {
                if says_order {
                    match self.behavior {
                        Verdict::Ok => self.result = "Text message was processed before close.".into(),
                        Verdict::NonStrict => {
                            self.result = "Close was processed before text message could be returned.".into();
                        }
                        _ => {}
                    }
                } else {
                    self.result = "Actual events are undefined by the spec.".into();
                }
                self.behavior = Verdict::Informational;
                self.behavior_close = CloseVerdict::Informational;
            }
            Grade::AutoFragment(size) => {
                if was_open {
                    let expected = (65536 / size as u64, u64::from(65536 % size > 0));
                    let got = (
                        wire.tx_frames.get(&0).copied().unwrap_or(0),
                        wire.tx_frames.get(&1).copied().unwrap_or(0),
                    );
                    if expected != got {
                        self.behavior = Verdict::Failed;
                        self.result = format!(
                            "Frames transmitted {{0: {}, 1: {}}} does not match what we expected {{0: {}, 1: {}}}.",
                            got.0, got.1, expected.0, expected.1
                        );
                    }
                } else {
                    self.behavior = Verdict::Failed;
                    self.result = "WebSocket connection was never open".into();
                }
            }
        }
    }
}

/// The longest a case may take before the fuzzer gives up on it: its own timers, the close handshake and a
/// margin. Autobahn would wait forever for a peer that neither closes nor answers; ws-test does not.
fn deadline(def: &CaseDef) -> Duration {
    fn longest(acts: &[Act]) -> f64 {
        acts.iter()
            .map(|act| match act {
                Act::KillAfter(secs) | Act::CloseAfter(secs) => *secs,
                Act::Later { secs, then, .. } => secs + longest(then),
                _ => 0.0,
            })
            .fold(0.0, f64::max)
    }
    let secs = match &def.script {
        Script::Events(events) => longest(&events.acts),
        Script::Large { waitsecs, .. } | Script::RoundTrips { waitsecs, .. } => *waitsecs,
        Script::Compressed(compressed) => compressed.waitsecs,
    };
    Duration::from_secs_f64(secs + 5.0)
}

/// What one played case gives the report.
#[derive(Debug, Clone)]
pub(crate) struct Played {
    pub(crate) behavior: Verdict,
    pub(crate) behavior_close: CloseVerdict,
    pub(crate) duration_ms: u64,
    pub(crate) remote_close_code: Option<u16>,
    /// Autobahn's per-case report, without the agent and the case's number (the caller adds them).
    pub(crate) detail: Value,
}

/// The handshake's text for the report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Http {
    pub(crate) request: String,
    pub(crate) response: String,
}

/// What a connection that never opened gives the report.
pub(crate) fn never_opened(def: &'static CaseDef, role: Role, why: &str, http: Http) -> Played {
    let mut run = Run::new(def);
    let (out, _) = mpsc::unbounded_channel();
    let mut wire = Wire::new(role, out, Arc::default(), None);
    wire.state = State::Closed;
    wire.was_not_clean_reason = Some(why.to_owned());
    run.grade(&wire, false);
    run.result = format!("{} ({why})", run.result);
    finish(run, wire, role, Instant::now(), utc_now(), http)
}

/// Plays `def` over an open connection (the handshake done, `leftover` the bytes read past it).
pub(crate) async fn play<S>(
    stream: S,
    leftover: Vec<u8>,
    role: Role,
    def: &'static CaseDef,
    negotiated: Negotiated,
    http: Http,
) -> Played
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let started = utc_now();
    let (mut reader, writer) = tokio::io::split(stream);
    let (out, outgoing) = mpsc::unbounded_channel();
    let abort = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn(write_out(writer, outgoing, abort.clone()));
    let mut wire = Wire::new(role, out, abort, negotiated.into_deflate());
    let mut run = Run::new(def);
    let start = Instant::now();
    wire.schedule(deadline(def), Timer::Deadline);
    run.on_open(&mut wire);
    if !leftover.is_empty() {
        wire.received(&leftover);
    }
    let mut buffer = vec![0u8; 64 * 1024];
    'case: loop {
        // Everything already read, event by event.
        while let Some(got) = wire.step() {
            if let Some(got) = got {
                run.on_got(&mut wire, got);
            }
            if wire.is_closed() {
                break 'case;
            }
        }
        if wire.is_closed() {
            break;
        }
        let next = wire.timers.iter().map(|(at, _)| *at).min();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = reader.read(&mut buffer) => match read {
                Ok(0) => {
                    wire.lost("peer dropped the TCP connection without previous WebSocket closing handshake");
                    break;
                }
                Ok(n) => wire.received(&buffer[..n]),
                Err(error) => {
                    wire.lost(&format!("connection lost: {error}"));
                    break;
                }
            },
            () = sleep => {
                for timer in wire.take_due() {
                    let later = wire.fire(&timer);
                    if let (true, Timer::Later { tag, timeout, then }) = (later, timer) {
                        run.on_timer(&mut wire, tag, timeout, then);
                    }
                }
                if wire.is_closed() {
                    break;
                }
            }
        }
    }
    drop(reader);
    // The writer ends on the shutdown the wire sent; its last writes belong to the case's time.
    let _ = writing.await;
    run.grade(&wire, true);
    finish(run, wire, role, start, started, http)
}

fn finish(run: Run, wire: Wire, role: Role, start: Instant, started: String, http: Http) -> Played {
    let duration_ms = start.elapsed().as_millis() as u64;
    let events = |events: &[Event]| -> Value {
        events
            .iter()
            .map(|event| match event {
                Event::Message(payload, binary) => json!(["message", shown(payload), binary]),
                Event::Pong(payload) => json!(["pong", shown(payload)]),
                Event::Timeout(tag) => json!(["timeout", tag]),
            })
            .collect()
    };
    let expected: serde_json::Map<String, Value> = run
        .expected()
        .iter()
        .map(|(verdict, list)| (verdict.as_str().to_owned(), events(list)))
        .collect();
    let close = expected_close(run.def);
    let stats = |map: &BTreeMap<usize, u64>| -> Value {
        map.iter()
            .map(|(size, count)| (size.to_string(), json!(count)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let frame_stats = |map: &BTreeMap<u8, u64>| -> Value {
        map.iter()
            .map(|(opcode, count)| (opcode.to_string(), json!(count)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let mut expected_close = json!({
        "closedByMe": close.closed_by_me,
        "closeCode": close.codes,
        "requireClean": close.require_clean,
    });
    if close.wrong_endpoint_fatal {
        expected_close["closedByWrongEndpointIsFatal"] = json!(true);
    }
    let detail = json!({
        "id": run.def.id,
        "description": run.def.description,
        "expectation": run.def.expectation,
        "started": started,
        "duration": duration_ms,
        "reportTime": run.def.report_time,
        "behavior": run.behavior.as_str(),
        "behaviorClose": run.behavior_close.as_str(),
        "expected": expected,
        "expectedClose": expected_close,
        "received": events(&run.received),
        "result": run.result,
        "resultClose": run.result_close,
        "wirelog": wire.wirelog,
        "createWirelog": wire.create_wirelog,
        "closedByMe": wire.closed_by_me,
        "failedByMe": wire.failed_by_me,
        "droppedByMe": wire.dropped_by_me,
        "wasClean": wire.was_clean,
        "wasNotCleanReason": wire.was_not_clean_reason,
        "wasServerConnectionDropTimeout": wire.was_server_connection_drop_timeout,
        "wasCloseHandshakeTimeout": wire.was_close_handshake_timeout,
        "localCloseCode": wire.local_close_code,
        "localCloseReason": wire.local_close_reason.as_deref().map(|reason| String::from_utf8_lossy(reason).into_owned()),
        "remoteCloseCode": wire.remote_close_code,
        "remoteCloseReason": wire.remote_close_reason,
        "isServer": role == Role::Server,
        "createStats": true,
        "rxOctetStats": stats(&wire.rx_octets),
        "rxFrameStats": frame_stats(&wire.rx_frames),
        "txOctetStats": stats(&wire.tx_octets),
        "txFrameStats": frame_stats(&wire.tx_frames),
        "httpRequest": http.request,
        "httpResponse": http.response,
    });
    Played {
        behavior: run.behavior,
        behavior_close: run.behavior_close,
        duration_ms,
        remote_close_code: wire.remote_close_code,
        detail,
    }
}

/// A plain WebSocket exchange of the fuzzing server's commands (`/getCaseCount`, `/getCaseInfo`, ...): sends
/// `message` when given, starts the close handshake and ends when it does (or after a few seconds).
pub(crate) async fn command<S>(stream: S, leftover: Vec<u8>, message: Option<String>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (out, outgoing) = mpsc::unbounded_channel();
    let abort = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn(write_out(writer, outgoing, abort.clone()));
    let mut wire = Wire::new(Role::Server, out, abort, None);
    wire.create_wirelog = false;
    if let Some(message) = message {
        wire.send_message(message.as_bytes(), false, None);
    }
    wire.send_close(None, None);
    wire.schedule(Duration::from_secs(5), Timer::Deadline);
    wire.received(&leftover);
    let mut buffer = vec![0u8; 8 * 1024];
    loop {
        while wire.step().is_some() {
            if wire.is_closed() {
                break;
            }
        }
        if wire.is_closed() {
            break;
        }
        let next = wire.timers.iter().map(|(at, _)| *at).min().unwrap_or_else(Instant::now);
        tokio::select! {
            read = reader.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => wire.received(&buffer[..n]),
            },
            () = tokio::time::sleep_until(next.into()) => {
                for timer in wire.take_due() {
                    wire.fire(&timer);
                }
            }
        }
    }
    wire.lost("the command's connection ended");
    drop(reader);
    let _ = writing.await;
}

//! A recorded session as a load scenario: its client frames sent again, its server frames awaited by their event
//! key, its think times kept.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::history::{Decoded, Direction, FrameKind, History};
use crate::{Error, Field, Result, WsClient};

/// What a scenario sends at one step.
#[derive(Debug, Clone)]
enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    /// An event, sent through the connection's protocol.
    Event(Value),
}

/// One client frame of the recording and the server frames the recording shows after it.
#[derive(Debug, Clone)]
struct Step {
    /// The recording's time between what came before this frame and the frame (the think time).
    gap: Duration,
    frame: Outgoing,
    label: String,
    /// The event keys of the replies (`None`: a frame that names no event), as a multiset.
    replies: Vec<Option<String>>,
}

/// The client side of a recorded session, to play on every connection of a load (`ws-test bench --scenario`).
///
/// Each client frame of the recording (text or binary) is sent again; after it, the scenario waits for the server
/// frames the recording shows before the next client frame, matched by their event key only (field values are a
/// test's business, not the load's), in any order, each within the timeout. Server frames before the first client
/// frame (a welcome) are awaited first. The recorded gap between what came before a client frame and the frame is
/// slept again, scaled by [`speed`](Self::speed).
///
/// ```
/// use ws_test_runtime::load::{Load, Scenario};
/// use ws_test_runtime::prelude::*;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let server = EmbeddedServer::start().await?;
/// // Record one session by hand (or with `ws-test record`).
/// let mut client = server.connect().await?;
/// client.expect_type("connection_established").await?;
/// client.send_json(json!({"type": "chat_message", "content": "hi"})).await?;
/// client.expect(Expect::events(ChatEvent::CRITICAL)).await?;
/// let scenario = Scenario::from_history(&client.history()).speed(0.0);
///
/// let report = Load::new(WsClient::builder(server.url()))
///     .closed(4, 5)
///     .connection_per_iteration(true)
///     .run(async |client| Ok(scenario.play(client).await?))
///     .await?;
/// assert_eq!((report.iterations(), report.failed()), (20, 0));
/// assert_eq!(report.find("agent_completed").map(|stats| stats.count), Some(20));
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Scenario {
    history: History,
    key: Field,
    /// Read through a protocol: its own frames are left to the connection's kit, replies that name no event
    /// (acknowledgements, responses) are not awaited, and client events are sent through the protocol.
    framed: bool,
    opening: Vec<Option<String>>,
    steps: Vec<Step>,
    speed: f64,
    timeout: Duration,
}

fn key_of(kind: &FrameKind, json: Option<Value>, key: &Field) -> Option<String> {
    match kind {
        FrameKind::Text(_) | FrameKind::Binary(_) => json.as_ref().and_then(|value| key.str(value)).map(str::to_owned),
        _ => None,
    }
}

fn name(key: &Option<String>, field: &Field) -> String {
    match key {
        Some(name) => name.clone(),
        None => format!("a frame without {field}"),
    }
}

impl Scenario {
    /// The scenario of a recording (a `ws-test record` transcript, a failure transcript, any client's history),
    /// with events keyed by `type`.
    pub fn from_history(history: &History) -> Scenario {
        Scenario::keyed(history.clone(), Field::type_key(), false)
    }

    /// Reads a recording from a file: a transcript, or a HAR file a browser saved with one WebSocket (see
    /// [`History::load`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario> {
        Ok(Scenario::from_history(&History::load(path)?))
    }

    /// One WebSocket of a HAR file, by its index in `log.entries`, its URL or a part of its URL only it has (see
    /// [`History::load_entry`]); `ws-test bench --scenario FILE --entry ENTRY`.
    pub fn load_entry(path: impl AsRef<Path>, entry: impl AsRef<str>) -> Result<Scenario> {
        Ok(Scenario::from_history(&History::load_entry(path, entry)?))
    }

    fn keyed(history: History, key: Field, framed: bool) -> Scenario {
        let mut opening = Vec::new();
        let mut steps: Vec<Step> = Vec::new();
        // When the last frame before the next client frame happened: where its think time starts.
        let mut before = Duration::ZERO;
        for frame in history.frames() {
            let data = matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_));
            if !data || matches!(frame.decoded, Some(Decoded::Control(_))) {
                continue;
            }
            let frame_key = key_of(&frame.kind, frame.json(), &key);
            match frame.direction {
                Direction::In if framed && frame_key.is_none() => continue,
                Direction::In => match steps.last_mut() {
                    Some(step) => step.replies.push(frame_key),
                    None => opening.push(frame_key),
                },
                Direction::Out => {
                    let (outgoing, label) = match (&frame.kind, &frame.decoded) {
                        (_, Some(Decoded::Json(event))) if framed => (
                            Outgoing::Event(event.clone()),
                            frame_key.clone().unwrap_or_else(|| "(event)".to_owned()),
                        ),
                        _ => match &frame.kind {
                            FrameKind::Text(text) => (
                                Outgoing::Text(text.clone()),
                                frame_key.clone().unwrap_or_else(|| "(text)".to_owned()),
                            ),
                            FrameKind::Binary(bytes) => (
                                Outgoing::Binary(bytes.clone()),
                                frame_key.clone().unwrap_or_else(|| "(binary)".to_owned()),
                            ),
                            _ => continue,
                        },
                    };
                    steps.push(Step {
                        gap: frame.at.saturating_sub(before),
                        frame: outgoing,
                        label,
                        replies: Vec::new(),
                    });
                }
            }
            before = frame.at;
        }
        Scenario {
            history,
            key,
            framed,
            opening,
            steps,
            speed: 1.0,
            timeout: crate::timeout::scaled(crate::timeout::LOAD),
        }
    }

    /// Matches server frames by this field instead of `type` (`method` for JSON-RPC, `event`, a JSON pointer).
    pub fn event_key(self, key: impl Into<Field>) -> Scenario {
        Scenario {
            speed: self.speed,
            timeout: self.timeout,
            ..Scenario::keyed(self.history, key.into(), self.framed)
        }
    }

    /// Reads the recording through `protocol` (the kit the load's connections speak, `bench --scenario
    /// --protocol socket.io`): the events it decodes are what is sent again and awaited, by its event key; its
    /// own frames (a handshake, heartbeats) are left to each connection's kit; replies that name no event
    /// (acknowledgements, responses) are not awaited. An unknown kit name is an error naming the kits.
    pub fn protocol(self, protocol: impl crate::protocol::IntoProtocol) -> Result<Scenario> {
        let protocol = protocol.into_protocol()?;
        let history = crate::protocol::decode_history(&self.history, &*protocol);
        Ok(Scenario {
            speed: self.speed,
            timeout: self.timeout,
            ..Scenario::keyed(history, protocol.event_key(), true)
        })
    }

    /// Scales the recorded think times: 2.0 plays twice as fast, 0.0 sends each frame as soon as the replies to
    /// the one before have come (default 1.0: as recorded).
    pub fn speed(mut self, speed: f64) -> Scenario {
        self.speed = if speed.is_finite() && speed > 0.0 { speed } else { 0.0 };
        self
    }

    /// How long each awaited reply may take (default 10 s, scaled by `WS_TEST_TIMEOUT_SCALE`).
    pub fn timeout(mut self, within: Duration) -> Scenario {
        self.timeout = within;
        self
    }

    /// How many client frames the scenario sends.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the recording holds no client frame.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// How many server frames the scenario awaits, the welcome included.
    pub fn replies(&self) -> usize {
        self.opening.len() + self.steps.iter().map(|step| step.replies.len()).sum::<usize>()
    }

    /// Plays the scenario on a connection: awaits the welcome, then sends each client frame (after its think
    /// time) and awaits its replies. A reply that does not come within the timeout is an
    /// [`Error::Timeout`] naming it, the client frame it answers and what came instead.
    pub async fn play(&self, client: &mut WsClient) -> Result<()> {
        self.await_replies(
            client,
            &self.opening,
            "the welcome (the server frames before the first client frame)",
        )
        .await?;
        for (number, step) in self.steps.iter().enumerate() {
            if self.speed > 0.0 && !step.gap.is_zero() {
                tokio::time::sleep(step.gap.div_f64(self.speed)).await;
            }
            match &step.frame {
                Outgoing::Text(text) => client.send_text(text.clone()).await?,
                Outgoing::Binary(bytes) => client.send_binary(bytes.clone()).await?,
                Outgoing::Event(event) => client.send_event(event).await?,
            }
            let after = format!("{} (client frame {} of {})", step.label, number + 1, self.steps.len());
            self.await_replies(client, &step.replies, &after).await?;
        }
        Ok(())
    }

    async fn await_replies(&self, client: &mut WsClient, replies: &[Option<String>], after: &str) -> Result<()> {
        let mut missing: Vec<Option<String>> = replies.to_vec();
        let mut seen: Vec<String> = Vec::new();
        // What arrived that the recording does not show here: named in the error, before what the last wait saw.
        let mut others: Vec<String> = Vec::new();
        while !missing.is_empty() {
            let received = client.recv_frame().within(self.timeout).await;
            let message = match received {
                Ok(message) => message,
                Err(error) => {
                    let awaited: Vec<String> = missing.iter().map(|key| name(key, &self.key)).collect();
                    let awaited = format!(
                        "{} (the recording's replies to {after}; {} of {} arrived{})",
                        awaited.join(", "),
                        replies.len() - missing.len(),
                        replies.len(),
                        if seen.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", seen.join(", "))
                        }
                    );
                    return Err(match error {
                        Error::Timeout { after, received, .. } => Error::Timeout {
                            awaited,
                            after,
                            received: others.into_iter().chain(received).collect(),
                        },
                        Error::Closed {
                            code, reason, received, ..
                        } => Error::Closed {
                            awaited,
                            code,
                            reason,
                            received: others.into_iter().chain(received).collect(),
                        },
                        other => other,
                    });
                }
            };
            let key = key_of(&message.kind, message.json(), &self.key);
            if self.framed && key.is_none() {
                // An acknowledgement or a response: not an event the recording awaits.
                continue;
            }
            match missing.iter().position(|wanted| *wanted == key) {
                Some(at) => {
                    missing.swap_remove(at);
                    seen.push(name(&key, &self.key));
                }
                None => others.push(message.summary_by(&self.key)),
            }
        }
        Ok(())
    }
}

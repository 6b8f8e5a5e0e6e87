//! Validation: a frame checked against the messages its channel allows in its direction and their payload
//! schemas, a whole history, a client (`conforms_to`) and an expectation (`conforming_to`).

use super::*;

/// One leaf error of boon in jsonschema's words, with its JSON pointer in the frame.
pub(super) fn words(error: &boon::ValidationError<'_, '_>, frame: &Value, out: &mut Vec<String>) {
    if !error.causes.is_empty() {
        for cause in &error.causes {
            words(cause, frame, out);
        }
        return;
    }
    let at = error.instance_location.to_string();
    let got = frame.pointer(&at).map(|value| value.to_string()).unwrap_or_default();
    let line = match &error.kind {
        boon::ErrorKind::Type { want, .. } => {
            let want: Vec<String> = want.iter().map(|kind| format!("\"{kind}\"")).collect();
            format!("{}: {got} is not of type {}", shown(&at), want.join(" or "))
        }
        boon::ErrorKind::Required { want } => {
            let missing: Vec<String> = want
                .iter()
                .map(|property| format!("{at}/{}: \"{property}\" is a required property", escape(property)))
                .collect();
            missing.join("\n    ")
        }
        boon::ErrorKind::Const { want } => format!("{}: {got} is not {want}", shown(&at)),
        boon::ErrorKind::Enum { want } => {
            let want: Vec<String> = want.iter().map(Value::to_string).collect();
            format!("{}: {got} is not one of [{}]", shown(&at), want.join(", "))
        }
        boon::ErrorKind::AdditionalProperties { got } => {
            let names: Vec<String> = got.iter().map(|name| format!("\"{name}\"")).collect();
            format!(
                "{}: additional properties are not allowed ({} unexpected)",
                shown(&at),
                names.join(", ")
            )
        }
        kind => format!("{}: {kind}", shown(&at)),
    };
    out.push(line);
}

impl Contract {
    /// The channels whose frames a client of `path` exchanges: those whose `address` is `path`, else (none
    /// matches, or no path) every channel.
    pub(super) fn channels_for(&self, path: Option<&str>) -> Vec<usize> {
        let matching: Vec<usize> = (0..self.channels.len())
            .filter(|&at| path.is_some() && self.channels[at].address.as_deref() == path)
            .collect();
        if matching.is_empty() {
            (0..self.channels.len()).collect()
        } else {
            matching
        }
    }

    /// The messages that may go `direction` (seen from the client) on `channels`.
    pub(super) fn allowed(&self, channels: &[usize], direction: Direction) -> Vec<usize> {
        let mut allowed = Vec::new();
        for operation in self.operations.iter().filter(|op| channels.contains(&op.channel)) {
            let (mine, replies) = match (operation.action, direction) {
                // The server sends: the client receives these; the client answers with the replies.
                (Action::Send, Direction::In) | (Action::Receive, Direction::Out) => (true, false),
                (Action::Send, Direction::Out) | (Action::Receive, Direction::In) => (false, true),
            };
            if mine {
                allowed.extend(&operation.messages);
            }
            if replies {
                allowed.extend(&operation.replies);
            }
        }
        allowed.sort_unstable();
        allowed.dedup();
        allowed
    }

    /// Checks one frame (a data frame of a client on `path`): a message the channel allows that way, whose
    /// payload satisfies its schema.
    pub(crate) fn check_frame(&self, frame: &Frame, path: Option<&str>) -> std::result::Result<(), ContractViolation> {
        let value = frame.json();
        self.check_value(value.as_ref(), frame.direction, path)
            .map_err(|(message, problems)| ContractViolation {
                contract: self.name.clone(),
                frame: frame.index,
                direction: frame.direction,
                summary: value
                    .as_ref()
                    .and_then(|value| summarize_json(value, &self.key))
                    .unwrap_or_else(|| frame.summary_by(&self.key)),
                message,
                problems,
            })
    }

    /// A received frame, on any channel: `Err` with the message it was checked against and its problems, in one
    /// line (what an expectation's report shows).
    pub(crate) fn check_received(&self, value: &Value) -> std::result::Result<(), String> {
        self.check_value(Some(value), Direction::In, None)
            .map_err(|(message, problems)| {
                let against = message
                    .map(|message| format!("checked as message {message}: "))
                    .unwrap_or_default();
                format!("{against}{}", problems.join("; "))
            })
    }

    /// What [`check_frame`](Self::check_frame) checks, on the frame's JSON (`None`: not JSON): `Err` with the
    /// message it was checked against (when one was) and the problems.
    pub(super) fn check_value(
        &self,
        value: Option<&Value>,
        direction: Direction,
        path: Option<&str>,
    ) -> std::result::Result<(), (Option<String>, Vec<String>)> {
        let Some(value) = value else {
            return Err((None, vec!["not JSON: every message of the contract is JSON".to_owned()]));
        };
        let channels = self.channels_for(path);
        let allowed = self.allowed(&channels, direction);
        let event = self.key.str(value);
        let candidates: Vec<&MessageDef> = allowed
            .iter()
            .map(|&at| &self.messages[at])
            .filter(|message| message.event.as_deref() == event || (event.is_none() && message.event.is_none()))
            .collect();
        if candidates.is_empty() {
            let channel_names: Vec<&str> = channels.iter().map(|&at| self.channels[at].id.as_str()).collect();
            let who = match direction {
                Direction::Out => "the client may send",
                Direction::In => "the server may send",
            };
            let mut names: Vec<String> = allowed
                .iter()
                .map(|&at| {
                    self.messages[at]
                        .event
                        .clone()
                        .unwrap_or_else(|| format!("({})", self.messages[at].id))
                })
                .collect();
            names.dedup();
            let what = match event {
                Some(event) => format!("`{event}`"),
                None => format!("a frame without `{}`", self.key),
            };
            let allows = if names.is_empty() {
                "nothing".to_owned()
            } else {
                names.join(", ")
            };
            return Err((
                None,
                vec![format!(
                    "{what} is not a message {who} on channel {}; it allows: {allows}",
                    channel_names.join(", ")
                )],
            ));
        }
        let mut first_failure = None;
        for message in &candidates {
            let Some(schema) = message.schema else { return Ok(()) };
            match self.schemas.validate(value, schema) {
                Ok(()) => return Ok(()),
                Err(error) => {
                    if first_failure.is_none() {
                        let mut problems = Vec::new();
                        words(&error, value, &mut problems);
                        first_failure = Some((format!("{} (#{})", message.id, message.at), problems));
                    }
                }
            }
        }
        let (message, problems) = first_failure.unwrap_or_default();
        Err((Some(message), problems))
    }

    /// Checks every data frame of a history (a client's, a recording) against the contract: each a message its
    /// channel allows that way, its payload satisfying the schema; and the replies of an operation with
    /// `x-ws-test-order: strict` in the listed order within each `x-ws-test-per` group (the whole session without
    /// one). Every violation, or `Ok`.
    pub fn check_history(&self, history: &crate::History) -> std::result::Result<(), Vec<ContractViolation>> {
        let path = history.url().and_then(path_of);
        let data: Vec<&Frame> = history
            .frames()
            .iter()
            .filter(|frame| matches!(frame.kind, FrameKind::Text(_) | FrameKind::Binary(_)))
            // A protocol's own frames (its handshake, heartbeats) are not the contract's events.
            .filter(|frame| !matches!(frame.decoded, Some(crate::history::Decoded::Control(_))))
            .collect();
        let mut violations: Vec<ContractViolation> = data
            .iter()
            .filter_map(|frame| self.check_frame(frame, path.as_deref()).err())
            .collect();
        let channels = self.channels_for(path.as_deref());
        for operation in self
            .operations
            .iter()
            .filter(|op| op.strict && op.action == Action::Receive && channels.contains(&op.channel))
        {
            // A reply without an event (a JSON-RPC result) is matched by a frame without the key.
            let order: Vec<Option<&str>> = operation
                .replies
                .iter()
                .map(|&at| self.messages[at].event.as_deref())
                .collect();
            let name = |event: Option<&str>| match event {
                Some(event) => format!("`{event}`"),
                None => format!("a frame without `{}`", self.key),
            };
            let mut next: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for frame in data.iter().filter(|frame| frame.direction == Direction::In) {
                let Some(value) = frame.json() else { continue };
                let event = self.key.str(&value);
                let Some(position) = order.iter().position(|listed| *listed == event) else {
                    continue;
                };
                let group = match &operation.per {
                    Some(per) => match per.text(&value) {
                        Some(id) => format!("{per}={id}"),
                        None => continue,
                    },
                    None => "the session".to_owned(),
                };
                let expected = next.entry(group.clone()).or_default();
                if position != *expected {
                    violations.push(ContractViolation {
                        contract: self.name.clone(),
                        frame: frame.index,
                        direction: frame.direction,
                        summary: summarize_json(&value, &self.key).unwrap_or_default(),
                        message: None,
                        problems: vec![format!(
                            "{} out of order in {group}: {} comes first (operation {} replies in this order, \
                             x-ws-test-order: strict: {})",
                            name(event),
                            name(order[*expected]),
                            operation.id,
                            order.iter().map(|event| name(*event)).collect::<Vec<_>>().join(", ")
                        )],
                    });
                }
                // On from where this frame stands; after the last reply, a new sequence may start.
                *expected = if position + 1 == order.len() { 0 } else { position + 1 };
            }
        }
        violations.sort_by_key(|violation| violation.frame);
        if violations.is_empty() { Ok(()) } else { Err(violations) }
    }
}

impl crate::WsClient {
    /// Checks every frame sent and received so far against an AsyncAPI contract (feature `contract`): each must
    /// be a message its channel allows that way, and its payload must satisfy the message's schema. An
    /// [`Error::Contract`] lists each violation with the frame, the message and the JSON pointer in the frame.
    pub fn conforms_to(&self, contract: impl std::borrow::Borrow<Contract>) -> Result<()> {
        let contract = contract.borrow();
        contract.check_history(&self.lock_history()).map_err(violations_error)
    }
}

// What `Expectation::conforming_to` takes: a contract, by value or by reference.
impl crate::expect::IntoFrameCheck for Contract {
    fn into_frame_check(self) -> std::sync::Arc<dyn crate::expect::FrameCheck> {
        std::sync::Arc::new(self)
    }
}

impl crate::expect::IntoFrameCheck for &Contract {
    fn into_frame_check(self) -> std::sync::Arc<dyn crate::expect::FrameCheck> {
        std::sync::Arc::new(self.clone())
    }
}

impl crate::expect::FrameCheck for Contract {
    fn name(&self) -> &str {
        &self.name
    }

    fn check_received(&self, frame: &Value) -> std::result::Result<(), String> {
        Contract::check_received(self, frame)
    }
}

/// The path of a WebSocket URL (`/ws` of `ws://host:1/ws?x=1`).
pub(super) fn path_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    Some(path.split(['?', '#']).next().unwrap_or("/").to_owned())
}

/// Every violation of a history as one error.
pub(crate) fn violations_error(violations: Vec<ContractViolation>) -> Error {
    let count = violations.len();
    let mut text = String::new();
    for (at, violation) in violations.iter().enumerate().take(10) {
        if at > 0 {
            text.push('\n');
        }
        text.push_str(&violation.to_string());
    }
    if count > 10 {
        text.push_str(&format!("\n... and {} more", count - 10));
    }
    Error::Contract(text)
}

//! Fault injection for the built-in chat agent: wrong event sequences on purpose, to test a client's resilience.

use std::fmt;
use std::str::FromStr;

use crate::protocol::{self, close_code};
use crate::{Error, Result};

/// One of the five critical events of a chat run, without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CriticalEvent {
    /// `agent_started`
    AgentStarted,
    /// `agent_thinking`
    AgentThinking,
    /// `tool_executing`
    ToolExecuting,
    /// `tool_completed`
    ToolCompleted,
    /// `agent_completed`
    AgentCompleted,
}

impl CriticalEvent {
    /// The five, in protocol order.
    pub const ALL: [CriticalEvent; 5] = [
        CriticalEvent::AgentStarted,
        CriticalEvent::AgentThinking,
        CriticalEvent::ToolExecuting,
        CriticalEvent::ToolCompleted,
        CriticalEvent::AgentCompleted,
    ];

    /// The wire name (the `"type"` field).
    pub fn as_str(self) -> &'static str {
        protocol::CRITICAL_EVENTS[self.position()]
    }

    /// Position in the protocol order, from 0.
    pub fn position(self) -> usize {
        self as usize
    }
}

impl fmt::Display for CriticalEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CriticalEvent {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        CriticalEvent::ALL
            .into_iter()
            .find(|event| event.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "{name:?} is not a critical event; expected one of {}",
                    protocol::CRITICAL_EVENTS.join(", ")
                )
            })
    }
}

/// A deliberate deviation from the protocol in every chat run of a [`ChatAgent`](crate::ChatAgent).
///
/// Several faults combine; they apply to every run. Text form (for `ws-test serve --fault` and
/// [`str::parse`]): `drop:EVENT`, `duplicate:EVENT`, `swap:EVENT,EVENT`, `close:EVENT[:CODE]` (default code
/// 1011), `malformed:EVENT`.
///
/// ```
/// use ws_test_runtime::{CriticalEvent, Fault};
///
/// let fault: Fault = "swap:tool_executing,tool_completed".parse()?;
/// assert_eq!(fault, Fault::Swap(CriticalEvent::ToolExecuting, CriticalEvent::ToolCompleted));
/// assert_eq!(fault.to_string(), "swap:tool_executing,tool_completed");
/// # Ok::<(), ws_test_runtime::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The event is never sent.
    Drop(CriticalEvent),
    /// The event is sent twice, the same frame both times.
    Duplicate(CriticalEvent),
    /// The two events are sent in each other's place.
    Swap(CriticalEvent, CriticalEvent),
    /// Right after the event, the server closes the connection with this code (the rest of the run is lost).
    CloseAfter(CriticalEvent, u16),
    /// In place of the event, a text frame holding truncated (invalid) JSON.
    Malformed(CriticalEvent),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Drop(event) => write!(f, "drop:{event}"),
            Fault::Duplicate(event) => write!(f, "duplicate:{event}"),
            Fault::Swap(a, b) => write!(f, "swap:{a},{b}"),
            Fault::CloseAfter(event, code) => write!(f, "close:{event}:{code}"),
            Fault::Malformed(event) => write!(f, "malformed:{event}"),
        }
    }
}

impl FromStr for Fault {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidFault {
            spec: spec.to_owned(),
            reason,
        };
        let event = |name: &str| name.trim().parse::<CriticalEvent>().map_err(invalid);
        let (kind, rest) = spec.split_once(':').ok_or_else(|| {
            invalid("expected KIND:EVENT with KIND one of drop, duplicate, swap, close, malformed".into())
        })?;
        match kind.trim() {
            "drop" => Ok(Fault::Drop(event(rest)?)),
            "duplicate" => Ok(Fault::Duplicate(event(rest)?)),
            "malformed" => Ok(Fault::Malformed(event(rest)?)),
            "swap" => {
                let (a, b) = rest
                    .split_once(',')
                    .ok_or_else(|| invalid("swap takes two events: swap:A,B".into()))?;
                let (a, b) = (event(a)?, event(b)?);
                if a == b {
                    return Err(invalid("swap needs two different events".into()));
                }
                Ok(Fault::Swap(a, b))
            }
            "close" => {
                let (name, code) = match rest.split_once(':') {
                    Some((name, code)) => {
                        let code = code
                            .trim()
                            .parse::<u16>()
                            .ok()
                            .filter(|code| (1000..5000).contains(code));
                        let code =
                            code.ok_or_else(|| invalid("the close code must be a number from 1000 to 4999".into()))?;
                        (name, code)
                    }
                    None => (rest, close_code::INTERNAL_ERROR),
                };
                Ok(Fault::CloseAfter(event(name)?, code))
            }
            other => Err(invalid(format!(
                "unknown fault kind {other:?}; expected one of drop, duplicate, swap, close, malformed"
            ))),
        }
    }
}

/// One thing a faulty run does, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send this event.
    Send(CriticalEvent),
    /// Send this event as truncated JSON.
    Malformed(CriticalEvent),
    /// Close the connection with this code.
    Close(u16),
}

/// The steps of one run under `faults`, applied in the order given.
pub(crate) fn plan(faults: &[Fault]) -> Vec<Step> {
    let mut steps: Vec<Step> = CriticalEvent::ALL.into_iter().map(Step::Send).collect();
    let position = |steps: &[Step], wanted: CriticalEvent| {
        steps
            .iter()
            .position(|step| matches!(step, Step::Send(event) | Step::Malformed(event) if *event == wanted))
    };
    for fault in faults {
        match *fault {
            Fault::Drop(event) => steps.retain(|step| *step != Step::Send(event) && *step != Step::Malformed(event)),
            Fault::Duplicate(event) => {
                if let Some(at) = position(&steps, event) {
                    steps.insert(at + 1, steps[at]);
                }
            }
            Fault::Swap(a, b) => {
                if let (Some(i), Some(j)) = (position(&steps, a), position(&steps, b)) {
                    steps.swap(i, j);
                }
            }
            Fault::Malformed(event) => {
                for step in &mut steps {
                    if *step == Step::Send(event) {
                        *step = Step::Malformed(event);
                    }
                }
            }
            Fault::CloseAfter(event, code) => {
                let cut = position(&steps, event).map_or(steps.len(), |at| at + 1);
                steps.truncate(cut);
                steps.push(Step::Close(code));
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::CriticalEvent::*;
    use super::*;

    #[test]
    fn every_fault_kind_round_trips_through_text() {
        for fault in [
            Fault::Drop(AgentThinking),
            Fault::Duplicate(ToolExecuting),
            Fault::Swap(ToolExecuting, ToolCompleted),
            Fault::CloseAfter(AgentStarted, 4000),
            Fault::Malformed(AgentCompleted),
        ] {
            assert_eq!(fault.to_string().parse::<Fault>().unwrap(), fault);
        }
        assert_eq!(
            "close:agent_started".parse::<Fault>().unwrap(),
            Fault::CloseAfter(AgentStarted, 1011)
        );
    }

    #[test]
    fn bad_specs_say_what_is_accepted() {
        let error = "drop:agent_sleeping".parse::<Fault>().unwrap_err().to_string();
        assert!(
            error.contains("\"agent_sleeping\" is not a critical event; expected one of agent_started"),
            "{error}"
        );
        let error = "explode:agent_started".parse::<Fault>().unwrap_err().to_string();
        assert!(error.contains("unknown fault kind \"explode\""), "{error}");
        assert!("swap:agent_started".parse::<Fault>().is_err());
        assert!("swap:agent_started,agent_started".parse::<Fault>().is_err());
        assert!("close:agent_started:99".parse::<Fault>().is_err());
        assert!("agent_started".parse::<Fault>().is_err());
    }

    #[test]
    fn plans_are_exactly_the_faulty_sequences() {
        use Step::*;
        assert_eq!(plan(&[]), CriticalEvent::ALL.map(Send).to_vec());
        assert_eq!(
            plan(&[Fault::Drop(AgentThinking)]),
            vec![
                Send(AgentStarted),
                Send(ToolExecuting),
                Send(ToolCompleted),
                Send(AgentCompleted)
            ]
        );
        assert_eq!(
            plan(&[Fault::Duplicate(AgentThinking)]),
            vec![
                Send(AgentStarted),
                Send(AgentThinking),
                Send(AgentThinking),
                Send(ToolExecuting),
                Send(ToolCompleted),
                Send(AgentCompleted)
            ]
        );
        assert_eq!(
            plan(&[Fault::Swap(ToolCompleted, ToolExecuting)]),
            vec![
                Send(AgentStarted),
                Send(AgentThinking),
                Send(ToolCompleted),
                Send(ToolExecuting),
                Send(AgentCompleted)
            ]
        );
        assert_eq!(
            plan(&[Fault::CloseAfter(AgentThinking, 1011)]),
            vec![Send(AgentStarted), Send(AgentThinking), Close(1011)]
        );
        assert_eq!(plan(&[Fault::Malformed(AgentStarted)])[0], Malformed(AgentStarted));
        assert_eq!(
            plan(&[Fault::Drop(AgentThinking), Fault::CloseAfter(AgentThinking, 1000)]).last(),
            Some(&Close(1000))
        );
    }
}

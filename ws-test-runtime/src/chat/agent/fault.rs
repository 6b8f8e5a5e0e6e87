//! Fault injection for the built-in chat agent: wrong event sequences on purpose, to test a client's resilience.

use std::fmt;
use std::str::FromStr;

use crate::chat::ChatEvent;
use crate::error::{Error, Result};
use crate::protocol::close_code;

/// The critical event named `name`, as the `&'static str` of [`ChatEvent::CRITICAL`].
fn critical_event(name: &str) -> std::result::Result<&'static str, String> {
    ChatEvent::CRITICAL
        .iter()
        .copied()
        .find(|event| *event == name)
        .ok_or_else(|| {
            format!(
                "{name:?} is not a critical event; expected one of {}",
                ChatEvent::CRITICAL.join(", ")
            )
        })
}

/// A deliberate deviation from the protocol in every chat run of a [`ChatAgent`](crate::ChatAgent).
///
/// Several faults combine; they apply to every run. Text form (for `ws-test serve --fault` and
/// [`str::parse`]): `drop:EVENT`, `duplicate:EVENT`, `swap:EVENT,EVENT`, `close:EVENT[:CODE]` (default code
/// 1011), `malformed:EVENT`. Events are named by their wire names, the entries of [`ChatEvent::CRITICAL`]
/// (also [`protocol::AGENT_STARTED`](crate::protocol::AGENT_STARTED) and its siblings).
///
/// ```
/// use ws_test_runtime::Fault;
/// use ws_test_runtime::protocol::{TOOL_COMPLETED, TOOL_EXECUTING};
///
/// let fault: Fault = "swap:tool_executing,tool_completed".parse()?;
/// assert_eq!(fault, Fault::Swap(TOOL_EXECUTING, TOOL_COMPLETED));
/// assert_eq!(fault.to_string(), "swap:tool_executing,tool_completed");
/// # Ok::<(), ws_test_runtime::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The event is never sent.
    Drop(&'static str),
    /// The event is sent twice, the same frame both times.
    Duplicate(&'static str),
    /// The two events are sent in each other's place.
    Swap(&'static str, &'static str),
    /// Right after the event, the server closes the connection with this code (the rest of the run is lost).
    CloseAfter(&'static str, u16),
    /// In place of the event, a text frame holding truncated (invalid) JSON.
    Malformed(&'static str),
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
        let event = |name: &str| critical_event(name.trim()).map_err(invalid);
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
                        let code = code.trim().parse::<u16>().ok().filter(|code| sendable(*code));
                        let code = code.ok_or_else(|| {
                            invalid(
                                "the close code must be a number from 1000 to 4999 that a close frame may carry \
                                 (not 1004, 1005, 1006 or 1015)"
                                    .into(),
                            )
                        })?;
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

/// Whether a close frame may carry `code` (RFC 6455, section 7.4: 1004-1006 and 1015 are reserved).
fn sendable(code: u16) -> bool {
    let reserved = [
        close_code::RESERVED,
        close_code::NO_STATUS,
        close_code::ABNORMAL,
        close_code::TLS_HANDSHAKE,
    ];
    (close_code::NORMAL..5000).contains(&code) && !reserved.contains(&code)
}

/// One thing a faulty run does, in order: events by their position in [`ChatEvent::CRITICAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send this event.
    Send(usize),
    /// Send this event as truncated JSON.
    Malformed(usize),
    /// Close the connection with this code.
    Close(u16),
}

/// The steps of one run under `faults`, applied in the order given.
pub(crate) fn plan(faults: &[Fault]) -> Vec<Step> {
    let mut steps: Vec<Step> = (0..ChatEvent::CRITICAL.len()).map(Step::Send).collect();
    let index = |wanted: &str| ChatEvent::CRITICAL.iter().position(|name| *name == wanted);
    let is = |step: &Step, wanted: Option<usize>| matches!(step, Step::Send(event) | Step::Malformed(event) if Some(*event) == wanted);
    let position = |steps: &[Step], wanted: &str| steps.iter().position(|step| is(step, index(wanted)));
    for fault in faults {
        match *fault {
            Fault::Drop(event) => steps.retain(|step| !is(step, index(event))),
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
                if let Some(wanted) = index(event) {
                    for step in &mut steps {
                        if *step == Step::Send(wanted) {
                            *step = Step::Malformed(wanted);
                        }
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
    use super::*;
    use crate::protocol::{AGENT_COMPLETED, AGENT_STARTED, AGENT_THINKING, TOOL_COMPLETED, TOOL_EXECUTING};

    #[test]
    fn every_fault_kind_round_trips_through_text() {
        for fault in [
            Fault::Drop(AGENT_THINKING),
            Fault::Duplicate(TOOL_EXECUTING),
            Fault::Swap(TOOL_EXECUTING, TOOL_COMPLETED),
            Fault::CloseAfter(AGENT_STARTED, 4000),
            Fault::Malformed(AGENT_COMPLETED),
        ] {
            assert_eq!(fault.to_string().parse::<Fault>().unwrap(), fault);
        }
        assert_eq!(
            "close:agent_started".parse::<Fault>().unwrap(),
            Fault::CloseAfter(AGENT_STARTED, close_code::INTERNAL_ERROR)
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
        for reserved in [1004, 1005, 1006, 1015] {
            let error = format!("close:agent_started:{reserved}").parse::<Fault>().unwrap_err();
            assert!(error.to_string().contains("not 1004, 1005, 1006 or 1015"), "{error}");
        }
    }

    #[test]
    fn plans_are_exactly_the_faulty_sequences() {
        use Step::*;
        let [started, thinking, executing, completed, done] = [0, 1, 2, 3, 4];
        assert_eq!(plan(&[]), vec![Send(0), Send(1), Send(2), Send(3), Send(4)]);
        assert_eq!(
            plan(&[Fault::Drop(AGENT_THINKING)]),
            vec![Send(started), Send(executing), Send(completed), Send(done)]
        );
        assert_eq!(
            plan(&[Fault::Duplicate(AGENT_THINKING)]),
            vec![
                Send(started),
                Send(thinking),
                Send(thinking),
                Send(executing),
                Send(completed),
                Send(done)
            ]
        );
        assert_eq!(
            plan(&[Fault::Swap(TOOL_COMPLETED, TOOL_EXECUTING)]),
            vec![
                Send(started),
                Send(thinking),
                Send(completed),
                Send(executing),
                Send(done)
            ]
        );
        assert_eq!(
            plan(&[Fault::CloseAfter(AGENT_THINKING, close_code::INTERNAL_ERROR)]),
            vec![Send(started), Send(thinking), Close(close_code::INTERNAL_ERROR)]
        );
        assert_eq!(plan(&[Fault::Malformed(AGENT_STARTED)])[0], Malformed(started));
        assert_eq!(
            plan(&[
                Fault::Drop(AGENT_THINKING),
                Fault::CloseAfter(AGENT_THINKING, close_code::NORMAL)
            ])
            .last(),
            Some(&Close(close_code::NORMAL))
        );
    }
}

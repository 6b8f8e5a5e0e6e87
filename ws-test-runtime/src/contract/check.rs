//! `ws-test check --asyncapi`: a server driven through a contract's operations, every frame checked.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Action, Contract};
use crate::checklist::{CheckResult, SuiteReport};
use crate::expect::Expect;
use crate::{ClientBuilder, Result};

/// Drives a server through a contract: for each `receive` operation, each example of its messages is sent on a
/// connection of its own and the operation's `reply` messages are awaited (in the listed order per
/// `x-ws-test-per` group with `x-ws-test-order: strict`, else in any order); every frame of the session, sent and
/// received, is checked against the contract. One [`CheckResult`] per example.
#[derive(Debug)]
pub struct ContractCheck<'c> {
    contract: &'c Contract,
    builder: ClientBuilder,
    timeout: Duration,
}

impl<'c> ContractCheck<'c> {
    /// A check of the server `builder` connects to.
    pub fn new(contract: &'c Contract, builder: ClientBuilder) -> ContractCheck<'c> {
        ContractCheck {
            contract,
            builder: builder.event_key(contract.key.clone()),
            timeout: crate::timeout::scaled(crate::timeout::RECV),
        }
    }

    /// How long the replies to one example may take (default 5 s, scaled by `WS_TEST_TIMEOUT_SCALE`).
    pub fn timeout(mut self, within: Duration) -> ContractCheck<'c> {
        self.timeout = within;
        self
    }

    /// Runs every example, calling `each` with each result as it is known. An error when the server cannot be
    /// reached at all (the first connection fails) or when the contract has no example to send.
    pub async fn run_with(self, mut each: impl FnMut(&CheckResult)) -> Result<SuiteReport> {
        let started = Instant::now();
        let mut checks = Vec::new();
        let contract = self.contract;
        let url = self.builder.options.url.clone();
        for operation in contract.operations.iter().filter(|op| op.action == Action::Receive) {
            for &message in &operation.messages {
                let examples = &contract.messages[message].examples;
                for (number, (example_name, example)) in examples.iter().enumerate() {
                    // The operation; with more than one example, which message and which example.
                    let sending = operation
                        .messages
                        .iter()
                        .map(|&at| contract.messages[at].examples.len())
                        .sum::<usize>();
                    let name = if sending > 1 {
                        let example_name = example_name.clone().unwrap_or_else(|| number.to_string());
                        format!("{}/{}/{example_name}", operation.id, contract.messages[message].id)
                    } else {
                        operation.id.clone()
                    };
                    let began = Instant::now();
                    let mut client = match self.builder.clone().connect().await {
                        Ok(client) => client,
                        Err(error) if checks.is_empty() => return Err(error),
                        Err(error) => {
                            let check = CheckResult {
                                name,
                                passed: false,
                                duration: began.elapsed(),
                                detail: format!("cannot connect: {error}"),
                            };
                            each(&check);
                            checks.push(check);
                            continue;
                        }
                    };
                    let outcome = self.one(&mut client, operation, example).await;
                    let _ = client.close(crate::wire::close_code::NORMAL, "contract checked").await;
                    let violations = contract.check_history(&client.history()).err();
                    let (passed, detail) = match (outcome, violations) {
                        (Ok(detail), None) => (true, detail),
                        (Ok(_), Some(violations)) => (false, super::violations_error(violations).to_string()),
                        (Err(error), None) => (false, error.to_string()),
                        (Err(error), Some(violations)) => {
                            (false, format!("{error}\n{}", super::violations_error(violations)))
                        }
                    };
                    let check = CheckResult {
                        name,
                        passed,
                        duration: began.elapsed(),
                        detail,
                    };
                    each(&check);
                    checks.push(check);
                }
            }
        }
        if checks.is_empty() {
            return Err(crate::Error::Config(format!(
                "{}: no `receive` operation has a message with `examples`: nothing to send",
                contract.name
            )));
        }
        Ok(SuiteReport {
            url,
            checks,
            duration: started.elapsed(),
        })
    }

    /// Sends one example and awaits the operation's replies; what was seen, in words.
    async fn one(
        &self,
        client: &mut crate::WsClient,
        operation: &super::OperationDef,
        example: &Value,
    ) -> Result<String> {
        let contract = self.contract;
        // Through the client's protocol, when it speaks one: the contract describes its events.
        client.send_event(example).await?;
        let sent = contract.key.str(example).unwrap_or("the example").to_owned();
        let events: Vec<String> = operation
            .replies
            .iter()
            .filter_map(|&at| contract.messages[at].event.clone())
            .collect();
        if events.is_empty() {
            // Nothing to await: a moment for a wrong answer to arrive, then the frames are checked.
            let _ = client.expect_no_message(Duration::from_millis(100)).await;
            return Ok(format!("sent {sent}; no reply declared, every frame conforms"));
        }
        let mut expectation = Expect::events(events.iter().map(String::as_str))
            .event_key(contract.key.clone())
            .within(self.timeout);
        expectation = if operation.strict {
            expectation.in_order()
        } else {
            expectation.any_order()
        };
        if let Some(per) = &operation.per {
            expectation = expectation.per(per.clone());
        }
        client.expect(expectation).await?;
        let replies = match (events.len(), operation.strict) {
            (1, _) => "1 reply",
            (_, true) => "replies in order",
            (_, false) => "replies",
        };
        let count = if events.len() == 1 {
            String::new()
        } else {
            format!("{} ", events.len())
        };
        Ok(format!(
            "sent {sent}, {count}{replies}: {}; every frame conforms",
            events.join(", ")
        ))
    }
}

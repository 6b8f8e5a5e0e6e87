//! The matcher's modes, its reports, and its properties (proptest).

use proptest::prelude::*;
use serde_json::{Value, json};

use super::pattern::{Node, parse};
use super::{Expect, step};
use crate::Error;
use crate::error::ExpectationFailure;
/// The built-in agent's five events, spelled out: the matcher's tests need no protocol of the chat kit.
const CRITICAL_EVENTS: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

fn ev(event_type: &str) -> Value {
    json!({ "type": event_type })
}

fn run_event(event_type: &str, run: &str) -> Value {
    json!({ "type": event_type, "run_id": run })
}

fn failure(result: crate::Result<super::Matched>) -> ExpectationFailure {
    match result {
        Err(Error::Expectation(failure)) => *failure,
        other => panic!("expected an expectation failure, got {other:?}"),
    }
}

#[test]
fn in_order_allows_frames_between_and_reports_the_first_divergence() {
    let frames = [ev("a"), ev("x"), ev("c"), ev("b")];
    assert!(Expect::events(["a", "b"]).check(&frames).is_ok());
    let report = failure(Expect::events(["a", "b", "c"]).check(&frames));
    assert_eq!(report.reason(), "the frames ended before the expectation was met");
    assert_eq!(report.missing(), ["c"]);
    let text = report.render(false);
    assert_eq!(
        text,
        "expectation not met: events [a, b, c] in order\n\
         the frames ended before the expectation was met\n\
         \x20    #         ms  frame\n\
         \x20    0          -  a\n\
         \x20    1          -  x\n\
         \x20    2          -  c\n\
         \x20    3          -  b\n\
         \x20                  (end)   <-- still expected: c\n\
         missing: c\n\
         not matched: #1 x, #2 c"
    );
}

#[test]
fn strict_allows_nothing_between_nor_after() {
    assert!(Expect::events(["a", "b"]).strict().check(&[ev("a"), ev("b")]).is_ok());
    let between = failure(Expect::events(["a", "b"]).strict().check(&[ev("a"), ev("x"), ev("b")]));
    assert_eq!(between.reason(), "frame #1 broke the order: expected b, got x");
    let after = failure(Expect::events(["a", "b"]).strict().check(&[ev("a"), ev("b"), ev("c")]));
    assert_eq!(
        after.reason(),
        "frame #2 came after the expectation was complete (strict mode allows nothing after)"
    );
    // Strict per group, an object that names no event is outside every group; a frame that is not JSON is not.
    let reply = json!({"jsonrpc": "2.0", "id": 1, "result": 7});
    let keyed = |event: &str| json!({"method": event, "params": {"subscription": 7}});
    let per = Expect::events(["tick", "tick"])
        .strict()
        .per("/params/subscription")
        .event_key("method");
    assert!(per.check(&[keyed("tick"), reply.clone(), keyed("tick")]).is_ok());
    assert!(
        Expect::events(["tick"])
            .strict()
            .event_key("method")
            .check(&[reply, keyed("tick")])
            .is_err()
    );
    let garbage = failure(per.check(&[keyed("tick"), Value::String("garbage".into())]));
    assert!(
        garbage
            .reason()
            .starts_with("frame #1 is not a JSON event with a \"method\""),
        "{}",
        garbage.reason()
    );
    let not_json = failure(Expect::events(["a"]).strict().check(&[Value::String("garbage".into())]));
    assert!(
        not_json.reason().starts_with("frame #0 is not a JSON event"),
        "{}",
        not_json.reason()
    );
    // Ignored types do not count, anywhere.
    assert!(
        Expect::events(["a", "b"])
            .strict()
            .ignore("hb")
            .check(&[ev("hb"), ev("a"), ev("hb"), ev("b"), ev("hb")])
            .is_ok()
    );
}

#[test]
fn any_order_needs_each_once_in_any_order() {
    let expectation = Expect::events(["a", "b", "c"]).any_order();
    assert!(expectation.check(&[ev("c"), ev("x"), ev("a"), ev("b")]).is_ok());
    let report = failure(expectation.check(&[ev("c"), ev("a"), ev("a")]));
    assert_eq!(report.missing(), ["b"]);
    let twice = failure(
        Expect::events(["a", "b"])
            .any_order()
            .times(2)
            .check(&[ev("a"), ev("b"), ev("a")]),
    );
    assert_eq!(twice.missing(), ["b"]);
}

#[test]
fn per_groups_interleaved_runs_and_names_the_unfinished_one() {
    let frames = [
        run_event("start", "r1"),
        run_event("start", "r2"),
        run_event("end", "r2"),
        json!({"type": "unrelated"}),
        run_event("end", "r1"),
    ];
    let per_run = Expect::events(["start", "end"]).per("run_id");
    let matched = per_run.clone().times(2).check(&frames).expect("both runs complete");
    assert_eq!(matched.group("r1").count(), 2);
    assert_eq!(matched.of_type("end").count(), 2);
    let report = failure(per_run.clone().check(&frames[..3]));
    assert_eq!(report.missing(), ["run_id=r1: end"]);
    let report = failure(per_run.clone().times(3).check(&frames));
    assert_eq!(
        report.missing(),
        ["1 more complete sequence(s), each with its own run_id"]
    );
    // Strict per run: a frame without the field is a divergence.
    let report = failure(per_run.strict().check(&frames));
    assert_eq!(report.reason(), "frame #3 (unrelated) has no \"run_id\"");
}

#[test]
fn strict_per_run_names_the_run_whose_order_broke() {
    let frames = [run_event("a", "r1"), run_event("a", "r2"), run_event("c", "r1")];
    let report = failure(Expect::events(["a", "b", "c"]).strict().per("run_id").check(&frames));
    assert_eq!(
        report.reason(),
        "frame #2 broke the order of run_id=r1: expected b, got c"
    );
    assert!(
        report
            .render(false)
            .contains("c run_id=r1   <-- first divergence: expected b")
    );
}

#[test]
fn times_counts_whole_sequences() {
    let frames = [ev("a"), ev("b"), ev("a"), ev("b")];
    assert!(Expect::events(["a", "b"]).times(2).check(&frames).is_ok());
    let report = failure(Expect::events(["a", "b"]).times(3).check(&frames));
    assert_eq!(report.missing(), ["sequence 3 of 3: a, b"]);
    assert!(Expect::events(["a"]).times(0).check(&frames).is_err());
}

#[test]
fn pairs_need_a_later_closer_with_the_same_key() {
    let pairing = Expect::events(["done"]).pair("open", "close", "id");
    let ok = [
        json!({"type": "open", "id": 1}),
        json!({"type": "close", "id": 1}),
        ev("done"),
    ];
    assert!(pairing.check(&ok).is_ok());
    let stray = failure(pairing.check(&[json!({"type": "close", "id": "k"})]));
    assert_eq!(stray.reason(), "close at frame #0 closes id=k, which no open opened");
    let twice = failure(pairing.check(&[json!({"type": "open", "id": "k"}), json!({"type": "open", "id": "k"})]));
    assert_eq!(
        twice.reason(),
        "open at frame #1 opens id=k again (already opened at frame #0)"
    );
    let left_open = failure(pairing.check(&[json!({"type": "open", "id": "k"}), ev("done")]));
    assert_eq!(left_open.missing(), ["close for id=k (opened at frame #0)"]);
    let keyless = failure(pairing.check(&[ev("open")]));
    assert_eq!(keyless.reason(), "frame #0 (open) has no \"id\"");
}

#[test]
fn matching_compares_only_the_listed_fields_recursively() {
    let frame = json!({"type": "t", "a": 1, "nested": {"x": [1, {"y": 2, "z": 3}], "w": true}, "extra": "ignored"});
    let check = |fields: Value| {
        Expect::events([step("t").matching(fields)])
            .check(std::slice::from_ref(&frame))
            .is_ok()
    };
    assert!(check(json!({"a": 1})));
    assert!(check(json!({"nested": {"x": [1, {"y": 2}]}})));
    assert!(
        !check(json!({"nested": {"x": [1]}})),
        "arrays compare with the same length"
    );
    assert!(!check(json!({"a": 2})));
    assert!(!check(json!({"missing": null})));
    assert!(
        Expect::events(["t"])
            .matching_every("t", json!({"a": 1}))
            .check(std::slice::from_ref(&frame))
            .is_ok()
    );
    assert!(
        Expect::events(["t"])
            .matching_every("t", json!({"a": 0}))
            .check(std::slice::from_ref(&frame))
            .is_err()
    );
}

#[test]
fn forbidden_types_fail_at_once_and_ignored_ones_vanish() {
    let report = failure(
        Expect::events(["a", "b"])
            .forbid("error")
            .check(&[ev("a"), ev("error"), ev("b")]),
    );
    assert_eq!(report.reason(), "forbidden event \"error\" at frame #1");
    assert!(report.render(false).contains("error   <-- first divergence: forbidden"));
    let report = failure(Expect::events(["a", "b"]).ignore("hb").check(&[ev("hb"), ev("a")]));
    assert!(report.render(false).contains("hb  (ignored)"));
    assert!(report.not_matched().is_empty());
}

#[test]
fn patterns_express_repetition_and_combine_with_per_and_pair() {
    let grammar = "agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed";
    let run = |id: &str, types: &[&str]| -> Vec<Value> {
        types
            .iter()
            .map(|t| json!({"type": t, "run_id": id, "tool_call_id": format!("{id}-tool")}))
            .collect()
    };
    let long = run(
        "r1",
        &[
            "agent_started",
            "agent_thinking",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed",
        ],
    );
    let short = run(
        "r2",
        &["agent_started", "tool_executing", "tool_completed", "agent_completed"],
    );
    let mut frames = Vec::new();
    for pair in long
        .iter()
        .zip(short.iter().chain(std::iter::repeat(&json!({"type": "noise"}))))
    {
        frames.push(pair.0.clone());
        frames.push(pair.1.clone());
    }
    let expectation = Expect::pattern(grammar)
        .unwrap()
        .per("run_id")
        .times(2)
        .ignore("noise")
        .pair("tool_executing", "tool_completed", "tool_call_id");
    assert!(
        expectation.clone().strict().check(&frames).is_ok(),
        "{:?}",
        expectation.check(&frames)
    );
    let no_tool = run("r3", &["agent_started", "agent_thinking", "agent_completed"]);
    let report = failure(Expect::pattern(grammar).unwrap().strict().check(&no_tool));
    assert_eq!(
        report.reason(),
        "frame #2 broke the order: expected agent_thinking or tool_executing, got agent_completed"
    );
    let report = failure(Expect::pattern(grammar).unwrap().check(&no_tool));
    assert_eq!(report.missing(), ["one of agent_thinking | tool_executing"]);
    let error = Expect::pattern(grammar)
        .unwrap()
        .any_order()
        .check(&no_tool)
        .unwrap_err();
    assert!(
        error.to_string().contains("a pattern already says the order"),
        "{error}"
    );
}

#[test]
fn a_bad_pattern_points_at_the_column() {
    let error = Expect::pattern("agent_started (tool_executing | )").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid event pattern at column 33: an empty alternative: put an event type on each side of `|`\n\
         \x20   agent_started (tool_executing | )\n\
         \x20                                   ^"
    );
}

#[test]
fn the_expectation_reads_as_one_line() {
    let expectation = Expect::events(["a", "b"])
        .strict()
        .per("run_id")
        .times(2)
        .pair("o", "c", "id")
        .forbid("error")
        .ignore("hb")
        .within(std::time::Duration::from_secs(3));
    assert_eq!(
        expectation.to_string(),
        "events [a, b] strictly, per run_id, 2 time(s), pair o -> c by id, forbid [error], ignore [hb], within 3s"
    );
    assert_eq!(
        Expect::pattern("a b* | c").unwrap().to_string(),
        "pattern \"a b* | c\" in order"
    );
}

#[test]
fn long_timelines_are_elided_around_the_marker() {
    let mut frames: Vec<Value> = (0..500).map(|_| ev("noise")).collect();
    frames[250] = ev("b");
    let report = failure(Expect::events(["a", "b"]).check(&frames));
    let text = report.render(false);
    assert!(text.lines().count() < 60, "{text}");
    assert!(text.contains("   499          -  noise"), "{text}");
    assert!(text.contains("… and 480 more"), "{text}");
}

#[test]
fn colour_is_only_added_on_request() {
    let report = failure(Expect::events(["a"]).check(&[ev("b")]));
    assert!(!report.render(false).contains('\x1b'));
    assert!(report.render(true).contains("\x1b[31m"));
}

// ---------------------------------------------------------------------------------------------------------------
// Properties.

/// Events of one chat run, with its run_id and tool_call_id.
fn chat_run(run: usize) -> Vec<Value> {
    CRITICAL_EVENTS
        .iter()
        .map(|t| {
            let mut event = json!({"type": t, "run_id": format!("r{run}")});
            if t.starts_with("tool_") {
                event["tool_call_id"] = json!(format!("c{run}"));
            }
            event
        })
        .collect()
}

/// Interleaves `runs` complete chat runs following `choices` (each picks the next run to advance).
fn interleave(runs: usize, choices: &[usize]) -> Vec<Value> {
    let all: Vec<Vec<Value>> = (0..runs).map(chat_run).collect();
    let mut next = vec![0; runs];
    let mut out = Vec::new();
    let mut choice = choices.iter().cycle();
    while out.len() < runs * 5 {
        let mut pick = choice.next().copied().unwrap_or(0) % runs;
        while next[pick] == 5 {
            pick = (pick + 1) % runs;
        }
        out.push(all[pick][next[pick]].clone());
        next[pick] += 1;
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Drop,
    SwapWithNextOfRun,
    Duplicate,
    Foreign,
    WrongKey,
}

/// Applies the mutation at `at`; returns the type of the event it touched.
fn mutate(frames: &mut Vec<Value>, mutation: Mutation, at: usize) -> Option<String> {
    let touched = frames[at]["type"].as_str().map(str::to_owned);
    match mutation {
        Mutation::Drop => {
            frames.remove(at);
        }
        Mutation::Duplicate => frames.insert(at + 1, frames[at].clone()),
        Mutation::Foreign => {
            let run = frames[at]["run_id"].clone();
            frames.insert(at + 1, json!({"type": "heartbeat", "run_id": run}));
        }
        Mutation::WrongKey => frames[at]["run_id"] = json!("r-wrong"),
        Mutation::SwapWithNextOfRun => {
            let run = frames[at]["run_id"].clone();
            let later = (at + 1..frames.len()).find(|&j| frames[j]["run_id"] == run)?;
            frames.swap(at, later);
        }
    }
    touched
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn interleaved_valid_runs_are_accepted_per_run(runs in 1usize..6, choices in prop::collection::vec(0usize..6, 1..40)) {
        let frames = interleave(runs, &choices);
        let per_run = Expect::events(CRITICAL_EVENTS).per("run_id").times(runs as u32);
        prop_assert!(per_run.clone().strict().check(&frames).is_ok());
        prop_assert!(per_run.clone().check(&frames).is_ok());
        prop_assert!(per_run.clone().any_order().check(&frames).is_ok());
        prop_assert!(per_run.pair("tool_executing", "tool_completed", "tool_call_id").check(&frames).is_ok());
        let grammar = Expect::pattern("agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed").unwrap();
        prop_assert!(grammar.per("run_id").times(runs as u32).strict().check(&frames).is_ok());
    }

    #[test]
    fn every_single_mutation_is_rejected_by_exactly_the_modes_that_should(
        runs in 1usize..5,
        choices in prop::collection::vec(0usize..5, 1..30),
        at_seed in 0usize..1000,
        which in 0usize..5,
    ) {
        let mutation = [Mutation::Drop, Mutation::SwapWithNextOfRun, Mutation::Duplicate, Mutation::Foreign, Mutation::WrongKey][which];
        let mut frames = interleave(runs, &choices);
        let at = at_seed % frames.len();
        let Some(touched) = mutate(&mut frames, mutation, at) else {
            return Ok(()); // the last event of its run has nothing to swap with
        };
        let tool = |t: &str| t == "tool_executing" || t == "tool_completed";
        let (strict, in_order, any_order, pair) = match mutation {
            Mutation::Drop => (false, false, false, !tool(&touched)),
            Mutation::SwapWithNextOfRun => (false, false, true, touched != "tool_executing"),
            Mutation::Duplicate => (false, true, true, !tool(&touched)),
            Mutation::Foreign => (false, true, true, true),
            Mutation::WrongKey => (false, false, false, true),
        };
        let per_run = Expect::events(CRITICAL_EVENTS).per("run_id").times(runs as u32);
        let paired = per_run.clone().pair("tool_executing", "tool_completed", "tool_call_id");
        prop_assert_eq!(per_run.clone().strict().check(&frames).is_ok(), strict, "strict, {:?} of {}", mutation, touched);
        prop_assert_eq!(per_run.clone().check(&frames).is_ok(), in_order, "in order, {:?} of {}", mutation, touched);
        prop_assert_eq!(per_run.clone().any_order().check(&frames).is_ok(), any_order, "any order, {:?} of {}", mutation, touched);
        prop_assert_eq!(paired.check(&frames).is_ok(), in_order && pair, "pair, {:?} of {}", mutation, touched);
                if matches!(mutation, Mutation::Foreign) && at + 2 < frames.len() {prop_assert!(per_run.forbid("heartbeat").check(&frames).is_err());
        }
    }

    #[test]
    fn in_order_events_agree_with_brute_force(
        steps in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4),
        input in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..9),
    ) {
        let frames: Vec<Value> = input.iter().map(|t| ev(t)).collect();
        let expected = (0u32..1 << input.len()).any(|mask| {
            let chosen: Vec<&str> = input.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, t)| *t).collect();
            chosen == steps
        });
        prop_assert_eq!(Expect::events(steps.clone()).check(&frames).is_ok(), expected);
    }

    #[test]
    fn patterns_agree_with_brute_force(pattern in small_pattern(), input in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..8)) {
        let node = parse(&pattern).unwrap();
        let frames: Vec<Value> = input.iter().map(|t| ev(t)).collect();
        // In order: some subsequence matches the whole pattern.
        let in_order = (0u32..1 << input.len()).any(|mask| {
            let chosen: Vec<&str> = input.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, t)| *t).collect();
            full_match(&node, &chosen)
        });
        prop_assert_eq!(Expect::pattern(&pattern).unwrap().check(&frames).is_ok(), in_order, "in order {} on {:?}", pattern, input);
        // Strict: the shortest matching prefix is the whole input.
        let shortest = (0..=input.len()).find(|&n| full_match(&node, &input[..n]));
        prop_assert_eq!(Expect::pattern(&pattern).unwrap().strict().check(&frames).is_ok(), shortest == Some(input.len()), "strict {} on {:?}", pattern, input);
    }

    #[test]
    fn arbitrary_input_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        super::hooks::fuzz_one(&data);
    }

    #[test]
    fn arbitrary_text_specs_never_panic(spec in "[a-c ()|*+?]{0,12}", frames in "[a-c{}\":,\\n ]{0,60}") {
        super::hooks::fuzz_one(format!("{spec}\n{frames}").as_bytes());
    }
}

fn small_pattern() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_owned);
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|items| items.join(" ")),
            prop::collection::vec(inner.clone(), 2..3).prop_map(|items| format!("({})", items.join(" | "))),
            inner.clone().prop_map(|item| format!("({item})*")),
            inner.clone().prop_map(|item| format!("({item})+")),
            inner.prop_map(|item| format!("({item})?")),
        ]
    })
}

/// The end positions reachable by matching `node` from `start` (a reference implementation by enumeration).
fn ends(node: &Node, input: &[&str], start: usize) -> Vec<usize> {
    let mut out: Vec<usize> = match node {
        Node::Name(name) => (input.get(start) == Some(&name.as_str()))
            .then_some(start + 1)
            .into_iter()
            .collect(),
        Node::Concat(items) => items.iter().fold(vec![start], |positions, item| {
            positions.iter().flat_map(|&p| ends(item, input, p)).collect()
        }),
        Node::Alt(options) => options.iter().flat_map(|option| ends(option, input, start)).collect(),
        Node::Optional(inner) => std::iter::once(start).chain(ends(inner, input, start)).collect(),
        Node::Star(inner) | Node::Plus(inner) => {
            let mut reached = if matches!(node, Node::Star(_)) {
                vec![start]
            } else {
                Vec::new()
            };
            let mut frontier = ends(inner, input, start);
            while let Some(position) = frontier.pop() {
                if !reached.contains(&position) {
                    reached.push(position);
                    frontier.extend(ends(inner, input, position));
                }
            }
            reached
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

fn full_match(node: &Node, input: &[&str]) -> bool {
    ends(node, input, 0).contains(&input.len())
}

/// A realtime-model stream: per item, `output_item.added`, three `output_text.delta` ("Hel", "lo ", "there"), one
/// `output_text.done` with the whole text.
fn realtime_stream() -> Vec<Value> {
    let mut frames = Vec::new();
    for item in ["i1", "i2"] {
        frames.push(json!({"type": "response.output_item.added", "item_id": item}));
        for delta in ["Hel", "lo ", "there"] {
            frames.push(json!({"type": "response.output_text.delta", "item_id": item, "delta": delta}));
        }
        frames.push(json!({"type": "response.output_text.done", "item_id": item, "text": "Hello there"}));
    }
    frames
}

fn joined_deltas(matched: &super::Matched, item: &str) -> String {
    matched
        .group(item)
        .filter(|event| event["type"] == "response.output_text.delta")
        .map(|event| event["delta"].as_str().unwrap_or_default())
        .collect()
}

#[test]
fn a_repeat_takes_every_event_it_can_in_order() {
    let frames = realtime_stream();
    let expectation = Expect::pattern("response.output_text.delta+ response.output_text.done")
        .unwrap()
        .per("item_id")
        .times(2);
    let matched = expectation.check(&frames).unwrap();
    assert_eq!(joined_deltas(&matched, "i1"), "Hello there");
    assert_eq!(joined_deltas(&matched, "i2"), "Hello there");
    assert_eq!(
        matched.len(),
        8,
        "three deltas and the done, per item: {:?}",
        matched.events()
    );
}

#[test]
fn a_repeat_takes_every_event_it_can_strictly() {
    let frames = realtime_stream();
    let expectation =
        Expect::pattern("response.output_item.added response.output_text.delta+ response.output_text.done")
            .unwrap()
            .per("item_id")
            .times(2)
            .strict();
    let matched = expectation.check(&frames).unwrap();
    assert_eq!(joined_deltas(&matched, "i1"), "Hello there");
    assert_eq!(matched.len(), frames.len());
}

#[test]
fn star_and_optional_are_greedy_but_an_optional_takes_one() {
    let frames = [ev("a"), ev("b"), ev("x"), ev("b"), ev("c")];
    let types = |matched: &super::Matched| -> Vec<String> {
        matched
            .events()
            .iter()
            .map(|event| event["type"].as_str().unwrap().to_owned())
            .collect()
    };
    // `b*` takes both b's, the frame between passed over.
    let matched = Expect::pattern("a b* c").unwrap().check(&frames).unwrap();
    assert_eq!(types(&matched), ["a", "b", "b", "c"]);
    // `b?` takes one: the second b only repeats what the first did.
    let matched = Expect::pattern("a b? c").unwrap().check(&frames).unwrap();
    assert_eq!(types(&matched), ["a", "b", "c"]);
    // Backtracking when the rest needs it: `a? a b` over `a b` takes the one a as the second.
    let matched = Expect::pattern("a? a b").unwrap().check(&[ev("a"), ev("b")]).unwrap();
    assert_eq!(types(&matched), ["a", "b"]);
}

#[test]
fn any_order_is_not_for_patterns_and_takes_every_listed_event() {
    let error = Expect::pattern("a+ b")
        .unwrap()
        .any_order()
        .check(&[ev("a"), ev("b")])
        .unwrap_err();
    assert!(
        error.to_string().contains("a pattern already says the order"),
        "{error}"
    );
    let frames = [ev("b"), ev("a"), ev("a")];
    let matched = Expect::events(["a", "a", "b"]).any_order().check(&frames).unwrap();
    assert_eq!(matched.len(), 3);
}

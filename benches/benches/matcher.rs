//! The expectation matcher's cost: 1,000,000 frames across 10,000 interleaved runs, checked per run.
//!
//! `cargo bench -p ws-test-benches --bench matcher`. Goal: over 5 million frames/s in release on this machine.
//! The frames are parsed JSON values built before the clock starts: this measures the one-pass streaming matcher
//! alone (through a hidden entry point, as the matcher itself is private), not parsing or collecting events.

use std::time::Instant;

use serde_json::{Value, json};
use ws_test_runtime::expect::{Expect, Expectation};

const RUNS: usize = 10_000;
const PER_RUN: usize = 100;
const GOAL_FRAMES_PER_SECOND: f64 = 5_000_000.0;

/// The `index`-th event (of 100) of one run: started, two thoughts, 48 tool calls, completed.
fn run_event(run: usize, index: usize) -> Value {
    let run_id = format!("run-{run}");
    match index {
        0 => json!({"type": "agent_started", "run_id": run_id}),
        1 | 2 => json!({"type": "agent_thinking", "run_id": run_id}),
        last if last == PER_RUN - 1 => json!({"type": "agent_completed", "run_id": run_id}),
        call => {
            let kind = if call % 2 == 1 {
                "tool_executing"
            } else {
                "tool_completed"
            };
            let call_id = format!("{run_id}-call-{}", (call - 3) / 2);
            json!({"type": kind, "run_id": run_id, "tool_call_id": call_id})
        }
    }
}

/// All runs, interleaved by a fixed pseudo-random schedule (each run keeps its own order). Each frame is built
/// when it "arrives", as a client parses frames as they arrive.
fn interleaved() -> Vec<Value> {
    let mut next = vec![0usize; RUNS];
    let mut live: Vec<usize> = (0..RUNS).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut frames = Vec::with_capacity(RUNS * PER_RUN);
    while !live.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let slot = (state % live.len() as u64) as usize;
        let run = live[slot];
        frames.push(run_event(run, next[run]));
        next[run] += 1;
        if next[run] == PER_RUN {
            live.swap_remove(slot);
        }
    }
    frames
}

fn measure(name: &str, expectation: &Expectation, frames: &[Value]) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        let met = ws_test_runtime::__private::is_met(expectation, frames).expect("a valid expectation");
        let elapsed = started.elapsed().as_secs_f64();
        assert!(met, "{name}: the benchmark's frames must meet the expectation");
        best = best.min(elapsed);
    }
    let rate = frames.len() as f64 / best;
    println!(
        "{name:<58} {:>7.1} ms  {:>6.2} M frames/s  ({:.1}× the 5 M/s goal)",
        best * 1000.0,
        rate / 1e6,
        rate / GOAL_FRAMES_PER_SECOND
    );
    rate
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let building = Instant::now();
    let frames = interleaved();
    println!(
        "{} frames across {RUNS} interleaved runs (built in {:.0} ms); best of 3 runs each",
        frames.len(),
        building.elapsed().as_secs_f64() * 1000.0
    );
    let grammar = "agent_started agent_thinking* (tool_executing tool_completed)+ agent_completed";
    let runs = RUNS as u32;
    baseline(&frames);

    measure(
        "pattern, in order, per run_id",
        &Expect::pattern(grammar)
            .expect("valid pattern")
            .per("run_id")
            .times(runs),
        &frames,
    );
    measure(
        "pattern, strict, per run_id, pair by tool_call_id",
        &Expect::pattern(grammar)
            .expect("valid pattern")
            .strict()
            .per("run_id")
            .times(runs)
            .pair("tool_executing", "tool_completed", "tool_call_id"),
        &frames,
    );
    measure(
        "pattern, strict, per run_id",
        &Expect::pattern(grammar)
            .expect("valid pattern")
            .strict()
            .per("run_id")
            .times(runs),
        &frames,
    );
    measure(
        "events [started, completed], in order, per run_id",
        &Expect::events(["agent_started", "agent_completed"])
            .per("run_id")
            .times(runs),
        &frames,
    );
}

/// What reading the two fields every check needs (`type`, `run_id`) costs by itself: the floor under any matcher
/// over `serde_json::Value`s.
fn baseline(frames: &[Value]) {
    let started = Instant::now();
    let mut n = 0usize;
    for frame in frames {
        if let Some(t) = frame.get("type").and_then(Value::as_str) {
            n += t.len();
        }
        if let Some(r) = frame.get("run_id").and_then(Value::as_str) {
            n += r.len();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{:<58} {:>7.1} ms  {:>6.2} M frames/s  (floor: reading type and run_id; checksum {n})",
        "baseline: no matching",
        elapsed * 1000.0,
        frames.len() as f64 / elapsed / 1e6
    );
}

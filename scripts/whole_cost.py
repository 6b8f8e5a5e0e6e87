#!/usr/bin/env python3
"""What one whole `#[ws_test]` costs the CPU in the dev profile, counted rather than timed: instructions, level-1
instruction-cache misses and data-cache misses per test, ws-test's against the bare floor's (tokio + hyper +
tokio-tungstenite by hand, benches/floor.rs), from valgrind's callgrind with its cache simulation.

Why counts: on this 2-core machine the timed figure (`cargo bench -p ws-test-benches --bench side_by_side --profile
dev -- --only whole`) moves by a third from one run to the next, more than most changes move it. Counts move by
well under 1%, so one change can be judged by them; the timed bench still gives the figure the goal is stated in.

Each side runs `side_by_side --child whole SIDE N` twice, with N = --tests and N = 2 x --tests, and the figure per
test is the difference divided by --tests: the process's start-up and the first test's lazy statics cancel out.
Sides: `ws-test` (the driver, as `#[ws_test]` runs it), `floor` (tungstenite's default buffers: the bare test) and
`floor-tuned` (the floor with ws-test's 8 KiB read buffer).

Needs valgrind (Debian: `apt install valgrind`); builds the bench first (dev profile).

A fourth count is the code a test runs: the functions called at least once per test (their calls in the 2N run
less those in the N run, at least N). In the dev profile each is a separate, unoptimized function, so their
number is what the instruction cache has to hold. `--footprint` also lists, grouped by crate and module, the
functions ws-test runs in every test and the last side does not.

Usage: scripts/whole_cost.py [--tests N] [--sides ws-test,floor,floor-tuned] [--footprint]
Example: scripts/whole_cost.py --tests 100 --footprint
"""

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = {
    "instructions": "I   refs",
    "I1 misses": "I1  misses",
    "D1 misses": "D1  misses",
}


def bench_binary():
    """Builds the side-by-side bench in the dev profile and returns its executable."""
    cmd = ["cargo", "bench", "-p", "ws-test-benches", "--bench", "side_by_side", "--profile", "dev",
           "--no-run", "--message-format", "json"]
    built = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"building the bench failed:\n{built.stderr}")
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") and \
                message["target"]["name"] == "side_by_side":
            return message["executable"]
    sys.exit("cargo built no side_by_side executable")


def simulated_caches(out):
    """The caches callgrind simulated (valgrind takes them from the host's CPU, so figures compare within a run)."""
    with open(out, encoding="utf-8", errors="replace") as lines:
        return [line[len("desc: "):].strip() for line in lines if line.startswith("desc: ") and "cache:" in line]


def calls_by_function(out):
    """Each function's calls in a callgrind output file, by name (callgrind writes a name once, then its number)."""
    names = {}
    calls = collections.Counter()
    callee = None
    with open(out, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(("fn=", "cfn=")):
                found = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
                if found and found.group(2):
                    names[found.group(1)] = found.group(2)
                callee = found.group(1) if found and line.startswith("cfn=") else None
            elif line.startswith("calls=") and callee is not None:
                calls[callee] += int(line[len("calls="):].split()[0])
                callee = None
    by_name = collections.Counter()
    for number, count in calls.items():
        by_name[names.get(number, number)] += count
    return by_name


def group(function):
    """A function's crate and module, for the footprint's table (drop glue is one group: the compiler makes it)."""
    name = function.lstrip("<&")
    if name.startswith("core::ptr::drop_in_place<"):
        return "drop glue (core::ptr::drop_in_place<...>)"
    parts = name.split("::")
    depth = 3 if parts[0] in ("tokio", "ws_test_runtime", "ws_test_core") else 2
    return "::".join(parts[:depth]).split(" ")[0]


def counts(binary, side, tests, scratch):
    """Runs `--child whole SIDE TESTS` under callgrind and returns its totals and each function's calls."""
    out = Path(scratch) / f"{side}.{tests}.out"
    cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--callgrind-out-file={out}", binary,
           "--child", "whole", side, str(tests)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    totals = {}
    for name, label in EVENTS.items():
        found = re.search(rf"{re.escape(label)}:\s+([\d,]+)", done.stderr)
        if not found:
            sys.exit(f"valgrind printed no '{label}' line:\n{done.stderr[-2000:]}")
        totals[name] = int(found.group(1).replace(",", ""))
    return totals, calls_by_function(out), simulated_caches(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=100, help="tests per measured run (default 100)")
    parser.add_argument("--sides", default="ws-test,floor,floor-tuned", help="comma-separated sides")
    parser.add_argument("--footprint", action="store_true",
                        help="list the functions ws-test runs in every test and the last side does not, by module")
    args = parser.parse_args()
    if args.tests < 1:
        sys.exit("--tests must be at least 1")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt install valgrind)")
    sides = [side for side in args.sides.split(",") if side]
    known = {"ws-test", "floor", "floor-tuned"}
    if not sides or any(side not in known for side in sides):
        sys.exit(f"--sides takes a comma-separated list of {', '.join(sorted(known))}")
    if args.footprint and (sides[0] != "ws-test" or len(sides) < 2):
        sys.exit("--footprint compares ws-test with another side: give --sides starting with ws-test and naming "
                 "the side to compare last (for example ws-test,floor-tuned)")
    binary = bench_binary()
    per_test = {}
    every_test = {}
    with tempfile.TemporaryDirectory() as scratch:
        for side in sides:
            once, once_calls, caches = counts(binary, side, args.tests, scratch)
            twice, twice_calls, _ = counts(binary, side, 2 * args.tests, scratch)
            per_test[side] = {name: (twice[name] - once[name]) / args.tests for name in EVENTS}
            every_test[side] = {function for function, calls in twice_calls.items()
                                if calls - once_calls.get(function, 0) >= args.tests}
            per_test[side]["functions"] = len(every_test[side])
    columns = [*EVENTS, "functions"]
    print(f"simulated caches (the host CPU's): {'; '.join(caches)}")
    print(f"per whole test (dev profile, callgrind, {args.tests} tests' difference):")
    print(f"{'':14}" + "".join(f"{name:>16}" for name in columns))
    for side in sides:
        print(f"{side:14}" + "".join(f"{per_test[side][name]:>16,.0f}" for name in columns))
    if "ws-test" in per_test:
        for base in (side for side in sides if side != "ws-test"):
            ratios = "".join(
                f"{per_test['ws-test'][name] / per_test[base][name]:>15.2f}x" for name in columns)
            print(f"{'/ ' + base:14}{ratios}")
    if args.footprint:
        base = sides[-1]
        only = every_test["ws-test"] - every_test[base]
        print(f"\nfunctions ws-test runs in every test and {base} does not: {len(only)} "
              f"({len(every_test[base] - every_test['ws-test'])} the other way), by module:")
        for name, number in collections.Counter(group(function) for function in only).most_common(30):
            print(f"{number:>6}  {name}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Run the workspace suite as N nextest partitions of one archive, as N CI machines would, and check that together
they ran every test exactly once.

Usage: python3 scripts/partitions.py [--partitions N] [--archive FILE] [--filter EXPR]

`--filter EXPR` (a nextest filterset, `-E`) limits the list and every partition to those tests: CI proves the
partitioning on the crates' own tests and runs the whole suite once, with the README's `cargo test --workspace`.

1. `cargo nextest archive --workspace --archive-file FILE` (what the build machine does),
2. `cargo nextest list --archive-file FILE` (every test the archive holds),
3. for K in 1..N: `cargo nextest run --archive-file FILE --partition hash:K/N --profile ci` (what machine K
   does), keeping each partition's JUnit report (target/nextest/ci/junit.xml) as junit-K.xml,
4. the union of the JUnit reports must be the list, with no test in two partitions and none failed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def target_dir():
    metadata = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], check=True,
                              capture_output=True, text=True)
    return json.loads(metadata.stdout)["target_directory"]


def listed(archive, filters):
    output = subprocess.run(["cargo", "nextest", "list", "--archive-file", archive, "--workspace-remap", ".",
                             "--message-format", "json", *filters], check=True, capture_output=True,
                            text=True).stdout
    tests = set()
    for binary_id, suite in json.loads(output)["rust-suites"].items():
        for name, case in suite["testcases"].items():
            if case["filter-match"]["status"] == "matches":
                tests.add((binary_id, name))
    return tests


def ran(junit):
    tests, failed = [], []
    for case in ET.parse(junit).getroot().iter("testcase"):
        test = (case.get("classname"), case.get("name"))
        tests.append(test)
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(test)
    return tests, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--archive", default=None)
    parser.add_argument("--filter", default=None, help="a nextest filterset (-E) for the list and every partition")
    args = parser.parse_args()
    filters = ["-E", args.filter] if args.filter else []
    target = target_dir()
    archive = args.archive or os.path.join(target, "ws-test-archive.tar.zst")
    subprocess.run(["cargo", "nextest", "archive", "--workspace", "--archive-file", archive], check=True)
    expected = listed(archive, filters)
    seen = {}
    problems = []
    for k in range(1, args.partitions + 1):
        partition = f"hash:{k}/{args.partitions}"
        print(f"== partition {partition}", flush=True)
        # Run from an archive, nextest keeps its store under the remapped workspace's `target/`, whatever
        # CARGO_TARGET_DIR says: look in both, after removing what an earlier run left there.
        candidates = {os.path.join(base, "nextest", "ci", "junit.xml") for base in (target, os.path.abspath("target"))}
        for stale in candidates:
            if os.path.exists(stale):
                os.remove(stale)
        result = subprocess.run(["cargo", "nextest", "run", "--archive-file", archive, "--workspace-remap", ".",
                                 "--partition", partition, "--profile", "ci", *filters])
        written = [junit for junit in candidates if os.path.exists(junit)]
        if not written:
            raise SystemExit(f"partition {partition} wrote no JUnit report (looked at {sorted(candidates)})")
        kept = os.path.join(target, "nextest", "ci", f"junit-{k}.xml")
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        shutil.copyfile(written[0], kept)
        tests, failed = ran(kept)
        if result.returncode != 0 or failed:
            problems.append(f"partition {partition} failed (exit {result.returncode}): "
                            + ", ".join("::".join(test) for test in failed))
        for test in tests:
            if test in seen:
                problems.append(f"{'::'.join(test)} ran in partition {seen[test]} and again in {partition}")
            seen[test] = partition
        print(f"partition {partition}: {len(tests)} tests, JUnit in {kept}", flush=True)
    missing = expected - seen.keys()
    extra = seen.keys() - expected
    problems += [f"{'::'.join(test)} is in the archive but ran in no partition" for test in sorted(missing)]
    problems += [f"{'::'.join(test)} ran but is not in the archive's list" for test in sorted(extra)]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        raise SystemExit(1)
    print(f"{args.partitions} partitions ran all {len(expected)} tests of the archive, each exactly once")


if __name__ == "__main__":
    main()

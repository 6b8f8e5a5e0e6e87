#!/usr/bin/env python3
"""What a part of the runtime costs its clean build: the build time of its two crates (ws-test-core and
ws-test-runtime) with and without it.

"Without it" means the named files with every function body replaced by `unimplemented!()` (their signatures kept,
their `#[cfg(test)]` modules dropped; scripts/gut does this with syn), so every caller still compiles unchanged: an
estimate of what moving that code behind a Cargo feature would take off a user's default build. Types and
signatures stay, so a real removal saves a little more.

It copies HEAD into a scratch directory (the checkout is never touched), builds the runtime's dependencies once,
then rebuilds only the two runtime libraries (default features, debug, `CARGO_INCREMENTAL=0`, as a user's clean build
compiles it) `--repeat` times for each side, alternating, and prints the medians of wall time and of CPU time
(user + system of cargo and rustc; Unix) with the difference.

With `--against REV` and no files, it compares two commits instead: the two crates as REV has them against HEAD's
(what the commits between them took off, or put on, the runtime's own build).

Usage: scripts/removal_cost.py [--repeat N] FILE... (paths under ws-test-core/src or ws-test-runtime/src, e.g. link.rs
protocol/socketio.rs served.rs; a path found under both is an error)
       scripts/removal_cost.py [--repeat N] --against REV
Example: scripts/removal_cost.py --repeat 4 link.rs replay.rs served.rs
         scripts/removal_cost.py --repeat 3 --against eb68ca1
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ("ws-test-core", "ws-test-runtime")


def run(cmd, cwd, env=None):
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def timed_build(tree, env):
    """Rebuilds the two runtime libraries alone; returns (wall seconds, CPU seconds or None)."""
    for crate in CRATES:
        (tree / crate / "src" / "lib.rs").touch()
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if hasattr(resource, "getrusage") else None
    started = time.perf_counter()
    run(["cargo", "build", "--quiet", "--offline", "-p", "ws-test-runtime", "--lib"], tree, env)
    wall = time.perf_counter() - started
    if before is None:
        return wall, None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds of each side (default 3)")
    parser.add_argument("--against", metavar="REV", help="compare the commit REV (with) against HEAD (without)")
    parser.add_argument("files", nargs="*", help="files under ws-test-core/src or ws-test-runtime/src to gut")
    args = parser.parse_args()
    if bool(args.files) == bool(args.against):
        sys.exit("name the files to gut, or --against REV to compare a commit with HEAD (not both)")

    located = []
    for name in args.files:
        found = [f"{crate}/src/{name}" for crate in CRATES if (ROOT / crate / "src" / name).is_file()]
        if len(found) != 1:
            sys.exit(f"{name}: {'in both crates' if found else 'not a file under ws-test-core/src or ws-test-runtime/src'}")
        located += found

    gut = None
    if located:
        run(["cargo", "build", "--quiet", "--release", "--manifest-path", str(ROOT / "scripts/gut/Cargo.toml")], ROOT)
        gut = ROOT / "scripts/gut/target/release" / ("gut.exe" if os.name == "nt" else "gut")

    scratch = Path(tempfile.mkdtemp(prefix="removal-cost-"))
    try:
        trees = {}
        for side in ("with", "without"):
            tree = scratch / side
            tree.mkdir()
            revision = args.against if side == "with" and args.against else "HEAD"
            archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            trees[side] = tree
        if located:
            run([str(gut), *[str(trees["without"] / path) for path in located]], ROOT)

        # Lints capped: gutted code leaves unused imports, and warnings would bury the figures.
        env = dict(
            os.environ,
            CARGO_INCREMENTAL="0",
            CARGO_TARGET_DIR=str(scratch / "target"),
            RUSTFLAGS="--cap-lints allow",
        )
        # One target directory: the dependencies are built once and shared; only the runtime is rebuilt.
        for side in ("with", "without"):
            run(["cargo", "build", "--quiet", "--offline", "-p", "ws-test-runtime", "--lib"], trees[side], env)

        figures = {"with": [], "without": []}
        for _ in range(args.repeat):
            for side in ("with", "without"):
                figures[side].append(timed_build(trees[side], env))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(side, index):
        values = [figure[index] for figure in figures[side] if figure[index] is not None]
        return statistics.median(values) if values else None

    print(f"ws-test-core and ws-test-runtime, rebuilt alone (debug, default features), median of {args.repeat}:")
    if args.against:
        print(f"  with: {args.against}   without: HEAD")
    else:
        print(f"  gutted: {' '.join(args.files)}")
    for label, index in (("wall", 0), ("CPU", 1)):
        with_, without = median("with", index), median("without", index)
        if with_ is None or without is None:
            continue
        print(
            f"  {label:<4}  with {with_:6.2f} s   without {without:6.2f} s   "
            f"saves {with_ - without:5.2f} s ({100 * (with_ - without) / with_:.0f}%)"
        )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What ws-test costs a user at build time, and what 100 tests cost under nextest, against the bare set.

Builds two user crates side by side in a scratch directory, each with its own target directory:

  ws-test  depends on ws-test-runtime (this checkout); its tests are `#[ws_test(events = ..., order = "strict")]`
  bare     depends on tokio, hyper, hyper-util, http-body-util, bytes, tokio-tungstenite, futures-util and
           serde_json (the floor's set); its tests are `#[tokio::test]`s over the floor (benches/floor.rs,
           included by path): the same server, client and order check, by hand

and, with `--tls`, a third: ws-test+tls, the same as ws-test with the runtime's `tls` feature (rustls, ring,
rcgen, the platform's roots), to price the feature. With `--bound`, another: deps, bare's tests over exactly the
runtime's own dependencies with their features (read from the Cargo.toml of ws-test-runtime and ws-test-core), without the runtime: what
any runtime on that set costs before its first line, so `1.2 x bare - deps` is what is left for the runtime
itself under a 1.2x goal (its clean build only). It measures, for each:

  clean     a clean debug build of the crate with one test (`cargo test --no-run`)
  rebuild   the rebuild after editing the file of 100 tests (`cargo test --no-run --test hundred`)
  nextest   `cargo nextest run --test hundred` (100 tests), alternating the two crates

With `--timings`, the first clean build of each crate runs with cargo's `--timings`, and the script prints its
critical path: from the last unit built back through, at each step, the dependency whose end let it start (with
`--keep DIR`, cargo's report stays as DIR/cargo-timing-CRATE.html); and the build's shape: the seconds during which
fewer units ran than the machine has cores, and the runtime's start, frontend (one thread) and codegen.

With `--cpu`, one more (untimed) clean build of each crate runs every rustc under a wrapper that records its CPU time (user + system),
and the script prints each crate's total and the runtime's own: the work a build must fit on this machine's cores
whatever the order cargo runs it in (Unix: the wrapper reads the child's rusage).

With `--plain`, both crates are the ones of the measure the people who steer took (issue 36, item 7): ws-test's one
test is `#[ws_test(events = ChatEvent::CRITICAL)]`, bare's one test a trivial `#[tokio::test]` on tokio (rt, macros,
net, time), hyper (server, http1), hyper-util, http-body-util, tokio-tungstenite and serde_json, and the clean builds
alternate (median of `--repeat`). It times the clean builds only.

Usage: scripts/compile_cost.py [--repeat N] [--nextest-runs N] [--tls] [--bound] [--plain] [--timings] [--cpu] [--json] [--keep DIR]
Versions come from this workspace's Cargo.lock, so nothing new is fetched.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EVENTS = '["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]'

# This checkout's crates, as path dependencies. A user gets them from crates.io, and cargo builds registry crates
# without incremental compilation; as path dependencies they would be built incrementally, which costs a clean build
# a third more than any user pays.
# The runtime is two crates (ws-test-core, its lower half, compiles beside it); the others are its helpers.
RUNTIME_CRATES = ("ws-test-runtime", "ws-test-core")
LOCAL_CRATES = RUNTIME_CRATES + ("ws-test-macros", "ws-test-pattern")


def manifest(name, dependencies, local=()):
    """A user crate's manifest: `dependencies` as its dev-dependency lines, the crates in `local` built as cargo
    builds them from crates.io."""
    profiles = "".join(f"[profile.dev.package.{crate}]\nincremental = false\n" for crate in local)
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n'
        f"[dev-dependencies]\n{dependencies.strip()}\n" + (f"\n{profiles}" if profiles else "")
    )


def runtime_line(features=()):
    """The dependency line of this checkout's runtime."""
    extra = f", features = {toml_value(list(features))}" if features else ""
    return f'ws-test-runtime = {{ path = "{ROOT}/ws-test-runtime"{extra} }}'


BARE_DEPENDENCIES = """tokio = { version = "1.50", default-features = false, features = ["rt", "net", "time", "sync", "macros"] }
hyper = { version = "1.7", default-features = false, features = ["server", "http1"] }
hyper-util = { version = "0.1.17", default-features = false, features = ["tokio"] }
http-body-util = { version = "0.1.3", default-features = false }
bytes = { version = "1.10", default-features = false }
tokio-tungstenite = { version = "0.30", default-features = false, features = ["connect"] }
futures-util = { version = "0.3.31", default-features = false, features = ["sink", "std"] }
serde_json = { version = "1.0.140" }
"""


# RUSTC_WRAPPER for `--cpu`: runs rustc, then appends its crate name and CPU seconds to $WS_TEST_RUSTC_CPU_LOG.
CPU_WRAPPER = """#!/usr/bin/env python3
import os, resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
args = sys.argv[1:]
name = args[args.index("--crate-name") + 1] if "--crate-name" in args else "-"
with open(os.environ["WS_TEST_RUSTC_CPU_LOG"], "a") as log:
    log.write(f"{name} {usage.ru_utime + usage.ru_stime:.3f}\\n")
sys.exit(done.returncode)
"""


def cpu_by_crate(log):
    """Seconds of rustc CPU per crate name (a crate built twice, as a build script and its library, adds up)."""
    totals = {}
    for line in log.read_text().splitlines():
        name, seconds = line.rsplit(" ", 1)
        totals[name] = totals.get(name, 0.0) + float(seconds)
    return totals


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def runtime_dependencies():
    """The runtime's non-optional dependencies (both of its crates') as manifest lines, each as the workspace
    declares it (paths made absolute) with the runtime's own features added."""
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["dependencies"]
    merged = {}
    for crate in RUNTIME_CRATES:
        for name, spec in tomllib.loads((ROOT / crate / "Cargo.toml").read_text())["dependencies"].items():
            if name in RUNTIME_CRATES:
                continue
            spec = {"version": spec} if isinstance(spec, str) else dict(spec)
            if name in merged:
                merged[name]["features"] = sorted(set(merged[name].get("features", []) + spec.get("features", [])))
            else:
                merged[name] = spec
    lines = []
    for name, spec in merged.items():
        spec = dict(spec)
        if spec.pop("optional", False):
            continue
        if spec.pop("workspace", False):
            base = workspace[name]
            base = {"version": base} if isinstance(base, str) else dict(base)
            base["features"] = base.get("features", []) + spec.pop("features", [])
            spec = {**base, **spec}
        if "path" in spec:
            spec["path"] = str((ROOT / spec["path"]).resolve())
        fields = ", ".join(f"{key} = {toml_value(value)}" for key, value in spec.items())
        lines.append(f"{name} = {{ {fields} }}")
    return "\n".join(lines)




def ws_test_case(n):
    return f"""
#[ws_test(events = {EVENTS}, order = "strict")]
async fn chat_{n}(client: &mut WsClient) -> TestResult {{
    client.send_json(&json!({{"type": "chat_message", "content": "test {n}"}})).await?;
    Ok(())
}}
"""


def plain_ws_test_case(n):
    return f"""
#[ws_test(events = ChatEvent::CRITICAL)]
async fn chat_{n}(client: &mut WsClient) -> TestResult {{
    client.send_json(&json!({{"type": "chat_message", "content": "test {n}"}})).await?;
    Ok(())
}}
"""


PLAIN_BARE_DEPENDENCIES = """tokio = { version = "1.50", default-features = false, features = ["rt", "macros", "net", "time"] }
hyper = { version = "1.7", default-features = false, features = ["server", "http1"] }
hyper-util = { version = "0.1.17", default-features = false, features = ["tokio"] }
http-body-util = { version = "0.1.3", default-features = false }
tokio-tungstenite = { version = "0.30", default-features = false, features = ["connect"] }
serde_json = { version = "1.0.140" }
"""


def plain_bare_case(n):
    return f"""
#[tokio::test]
async fn round_{n}() {{
    let value = serde_json::json!({{"type": "chat_message", "content": "test {n}"}});
    assert_eq!(value["type"], "chat_message");
}}
"""


def bare_case(n):
    return f"""
#[tokio::test]
async fn chat_{n}() {{
    floor::whole_test(None).await.expect("the chat round checks out");
}}
"""


def write_crate(directory, manifest, prelude, case):
    (directory / "src").mkdir(parents=True)
    (directory / "tests").mkdir()
    (directory / "Cargo.toml").write_text(manifest)
    (directory / "src" / "lib.rs").write_text("")
    (directory / "tests" / "one.rs").write_text(prelude + case(0))
    (directory / "tests" / "hundred.rs").write_text(prelude + "".join(case(n) for n in range(100)))
    shutil.copy(ROOT / "Cargo.lock", directory / "Cargo.lock")


def run(command, cwd, env):
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def timing_units(target):
    """The units of cargo's timing report in `target`, by their number."""
    html = (target / "cargo-timings" / "cargo-timing.html").read_text()
    found = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
    return {unit["i"]: unit for unit in json.loads(found.group(1))} if found else {}


def build_shape(target, cores):
    """Where a clean build's wall clock went, from cargo's timing report: its length, the seconds during which
    fewer units ran than this machine has cores (a core idle, unless rustc's codegen threads filled it), and the
    runtime's frontend and codegen sections when the build has the runtime."""
    units = list(timing_units(target).values())
    if not units:
        return None
    wall = max(unit["start"] + unit["duration"] for unit in units)
    edges = sorted([(unit["start"], 1) for unit in units] + [(unit["start"] + unit["duration"], -1) for unit in units])
    under, running, last = 0.0, 0, 0.0
    for at, change in edges:
        if running < cores:
            under += at - last
        running, last = running + change, at
    shape = {"wall_s": wall, "under_cores_s": under}
    core = next((unit for unit in units if unit["name"] == "ws-test-core"), None)
    if core is not None:
        shape["core_start_s"] = core["start"]
        shape["core_s"] = core["duration"]
    runtime = next((unit for unit in units if unit["name"] == "ws-test-runtime"), None)
    if runtime is not None:
        sections = dict(runtime.get("sections") or [])
        shape["runtime_start_s"] = runtime["start"]
        shape["runtime_s"] = runtime["duration"]
        if "frontend" in sections:
            shape["runtime_frontend_s"] = sections["frontend"]["end"] - sections["frontend"]["start"]
        if "codegen" in sections:
            shape["runtime_codegen_s"] = sections["codegen"]["end"] - sections["codegen"]["start"]
    return shape


def critical_path(target):
    """The chain of units that set the build's length, from cargo's timing report in `target`: (name, start, end)."""
    units = timing_units(target)
    if not units:
        return []
    unlocked_by = {}
    for unit in units.values():
        for other in unit.get("unblocked_units", []) + unit.get("unblocked_rmeta_units", []):
            unlocked_by[other] = unit["i"]
    chain = []
    current = max(units.values(), key=lambda unit: unit["start"] + unit["duration"])["i"]
    while current is not None:
        unit = units[current]
        label = unit["name"] + (unit.get("target") or "")
        chain.append((label.strip(), unit["start"], unit["start"] + unit["duration"]))
        current = unlocked_by.get(current)
    return list(reversed(chain))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="clean builds per crate (default 1)")
    parser.add_argument("--nextest-runs", type=int, default=5, help="nextest runs per crate (default 5)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", help="build in this directory and keep it")
    parser.add_argument("--tls", action="store_true", help="also a crate with the runtime's tls feature")
    parser.add_argument("--timings", action="store_true", help="print each crate's critical path (cargo --timings)")
    parser.add_argument(
        "--cpu", action="store_true", help="rustc CPU seconds of one more clean build of each crate (Unix)"
    )
    parser.add_argument(
        "--plain", action="store_true", help="issue 36's measure: a trivial #[tokio::test] as bare, clean builds only"
    )
    parser.add_argument(
        "--bound", action="store_true", help="also bare's tests over the runtime's dependencies, without the runtime"
    )
    args = parser.parse_args()

    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ws-test-compile-cost-"))
    if scratch.exists() and args.keep:
        shutil.rmtree(scratch)
    crates = {
        "ws-test": scratch / "ws-test",
        "bare": scratch / "bare",
    }
    if args.tls:
        crates["ws-test+tls"] = scratch / "ws-test-tls"
        write_crate(
            crates["ws-test+tls"],
            manifest("user-ws-test-tls", runtime_line(["tls"]), LOCAL_CRATES),
            "use ws_test_runtime::prelude::*;\n",
            ws_test_case,
        )
    write_crate(
        crates["ws-test"],
        manifest("user-ws-test", runtime_line(), LOCAL_CRATES),
        "use ws_test_runtime::prelude::*;\n",
        plain_ws_test_case if args.plain else ws_test_case,
    )
    if args.plain:
        write_crate(crates["bare"], manifest("user-bare", PLAIN_BARE_DEPENDENCIES), "", plain_bare_case)
    else:
        write_crate(
            crates["bare"],
            manifest("user-bare", BARE_DEPENDENCIES),
            f'#[path = "{ROOT}/benches/floor.rs"]\n#[allow(dead_code, missing_docs)]\nmod floor;\n',
            bare_case,
        )
    if args.bound:
        crates["deps"] = scratch / "deps"
        write_crate(
            crates["deps"],
            manifest("user-deps", runtime_dependencies(), LOCAL_CRATES[len(RUNTIME_CRATES):]),
            f'#[path = "{ROOT}/benches/floor.rs"]\n#[allow(dead_code, missing_docs)]\nmod floor;\n',
            bare_case,
        )
    figures = {name: {"clean": [], "rebuild": [], "nextest": []} for name in crates}
    base_env = dict(os.environ)
    base_env.pop("CARGO_TARGET_DIR", None)
    base_env.pop("RUSTFLAGS", None)
    base_env["CARGO_TERM_COLOR"] = "never"

    def env_for(name):
        env = dict(base_env)
        env["CARGO_TARGET_DIR"] = str(scratch / f"target-{name}")
        return env

    # Fetch (from the local cache) once, outside the timings.
    for name, directory in crates.items():
        run(["cargo", "fetch", "--quiet"], directory, env_for(name))

    if args.cpu and os.name != "posix":
        sys.exit("--cpu reads rustc's rusage through a Python wrapper, which needs a Unix system")
    wrapper = scratch / "rustc-cpu.py"
    if args.cpu:
        wrapper.write_text(CPU_WRAPPER)
        wrapper.chmod(0o755)
    paths = {}
    shapes = {}
    cpu = {}
    for repeat in range(args.repeat):
        for name, directory in crates.items():
            target = scratch / f"target-{name}"
            if target.exists():
                shutil.rmtree(target)
            timings = ["--timings"] if args.timings and repeat == 0 else []
            figures[name]["clean"].append(
                run(["cargo", "test", "--no-run", "--test", "one", *timings], directory, env_for(name))
            )
            if timings:
                paths[name] = critical_path(target)
                shapes[name] = build_shape(target, os.cpu_count() or 1)
                # The next repeat starts from an empty target directory: keep cargo's report beside the crates.
                shutil.copy(target / "cargo-timings" / "cargo-timing.html", scratch / f"cargo-timing-{name}.html")
    if args.cpu:
        # One more clean build of each, untimed: the wrapper's own start per rustc would lengthen the timed ones.
        for name, directory in crates.items():
            target = scratch / f"target-{name}"
            shutil.rmtree(target, ignore_errors=True)
            log = scratch / f"rustc-cpu-{name}.log"
            log.unlink(missing_ok=True)
            env = env_for(name)
            env["RUSTC_WRAPPER"] = str(wrapper)
            env["WS_TEST_RUSTC_CPU_LOG"] = str(log)
            run(["cargo", "test", "--no-run", "--test", "one"], directory, env)
            cpu[name] = cpu_by_crate(log)
    # The bound is a clean build's; the rebuild and nextest compare the two crates a user chooses between.
    looped = {name: directory for name, directory in crates.items() if name != "deps" and not args.plain}
    for name, directory in looped.items():
        run(["cargo", "test", "--no-run", "--test", "hundred"], directory, env_for(name))
    for edit in range(3):
        for name, directory in looped.items():
            # A real edit: one test's message changes, so its code is generated again.
            hundred = directory / "tests" / "hundred.rs"
            text = hundred.read_text()
            previous = f"test 0 edit {edit - 1}" if edit else "test 0"
            if name == "bare":
                text = text.replace("the chat round checks out" + (f" {edit - 1}" if edit else ""),
                                    f"the chat round checks out {edit}", 1)
            else:
                text = text.replace(previous, f"test 0 edit {edit}", 1)
            hundred.write_text(text)
            figures[name]["rebuild"].append(
                run(["cargo", "test", "--no-run", "--test", "hundred"], directory, env_for(name))
            )
    nextest = shutil.which("cargo-nextest") is not None
    if nextest and not args.plain:
        for _ in range(args.nextest_runs):
            for name, directory in looped.items():
                if name == "ws-test+tls":
                    continue  # the feature changes what is built, not how the tests run
                figures[name]["nextest"].append(
                    run(["cargo", "nextest", "run", "--test", "hundred", "--no-fail-fast"], directory, env_for(name))
                )

    report = {}
    for measure in ["clean", "rebuild", "nextest"]:
        ours, bare = figures["ws-test"][measure], figures["bare"][measure]
        if not ours:
            continue
        report[measure] = {
            "ws_test_s": statistics.median(ours),
            "bare_s": statistics.median(bare),
            "ratio": statistics.median(ours) / statistics.median(bare),
            "runs": len(ours),
        }
    if args.bound:
        deps, bare = statistics.median(figures["deps"]["clean"]), report["clean"]["bare_s"]
        report["bound"] = {
            "deps_s": deps,
            "bare_s": bare,
            "ratio": deps / bare,
            "left_for_the_runtime_at_1_2x_s": 1.2 * bare - deps,
            "runs": len(figures["deps"]["clean"]),
        }
    if args.cpu:
        report["cpu"] = {
            name: {
                "total_s": sum(totals.values()),
                "ws_test_runtime_s": totals.get("ws_test_runtime"),
                "ws_test_core_s": totals.get("ws_test_core"),
                "test_crate_s": totals.get("one"),
            }
            for name, totals in cpu.items()
        }
    if args.timings:
        report["shape"] = shapes
        report["critical_path"] = {
            name: [{"unit": unit, "start_s": start, "end_s": end} for unit, start, end in chain]
            for name, chain in paths.items()
        }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        labels = {
            "clean": "clean debug build, one test",
            "rebuild": "rebuild after editing 100 tests",
            "nextest": "cargo nextest run, 100 tests",
        }
        for measure, figure in report.items():
            if measure in ("critical_path", "shape", "bound", "cpu"):
                continue
            print(
                f"{labels[measure]:<34} ws-test {figure['ws_test_s']:7.2f} s   bare {figure['bare_s']:7.2f} s   "
                f"{figure['ratio']:.2f}x   (median of {figure['runs']})"
            )
        if not nextest:
            print("(cargo-nextest is not installed: no nextest figure)")
        if args.tls:
            for measure in ["clean", "rebuild"]:
                tls, plain = figures["ws-test+tls"][measure], figures["ws-test"][measure]
                print(
                    f"{labels[measure]:<34} ws-test+tls {statistics.median(tls):7.2f} s   ws-test "
                    f"{statistics.median(plain):7.2f} s   {statistics.median(tls) / statistics.median(plain):.2f}x   "
                    f"(the tls feature, median of {len(tls)})"
                )
        if args.bound:
            bound = report["bound"]
            label = "the runtime's dependencies alone"
            print(
                f"{label:<34} deps    {bound['deps_s']:7.2f} s   bare "
                f"{bound['bare_s']:7.2f} s   {bound['ratio']:.2f}x   (median of {bound['runs']}; bare's tests, no runtime)"
            )
            print(
                f"{'left for the runtime under 1.2x':<34} {bound['left_for_the_runtime_at_1_2x_s']:7.2f} s   "
                f"(1.2 x bare - deps: the runtime's build and ws-test's test crate, less bare's test crate)"
            )
        if args.cpu:
            for name, figure in report["cpu"].items():
                runtime = figure["ws_test_runtime_s"]
                print(
                    f"rustc CPU of the clean build, {name:<12} {figure['total_s']:7.2f} s in all"
                    + (f", ws-test-runtime {runtime:.2f} s" if runtime is not None else "")
                    + (f", ws-test-core {figure['ws_test_core_s']:.2f} s" if figure["ws_test_core_s"] is not None else "")
                    + f", the test crate {figure['test_crate_s']:.2f} s"
                )
            if "bare" in report["cpu"]:
                bare_cpu = report["cpu"]["bare"]["total_s"]
                print(
                    f"  ws-test / bare: {report['cpu']['ws-test']['total_s'] / bare_cpu:.2f}x the rustc work (the wall "
                    f"ratio, were both builds to keep their cores equally busy)"
                )
        for name, chain in paths.items():
            print(f"critical path of the clean build, {name}:")
            for unit, start, end in chain:
                print(f"  {start:6.2f} .. {end:6.2f} s  {end - start:5.2f} s  {unit}")
            shape = shapes.get(name)
            if shape:
                line = (
                    f"  {shape['wall_s']:.2f} s in all, {shape['under_cores_s']:.2f} s of them with fewer units "
                    f"running than the {os.cpu_count()} cores"
                )
                if "core_s" in shape:
                    line += f"; ws-test-core from {shape['core_start_s']:.2f} s for {shape['core_s']:.2f} s"
                if "runtime_s" in shape:
                    line += (
                        f"; ws-test-runtime from {shape['runtime_start_s']:.2f} s for {shape['runtime_s']:.2f} s "
                        f"(frontend {shape.get('runtime_frontend_s', 0):.2f} s on one thread, codegen "
                        f"{shape.get('runtime_codegen_s', 0):.2f} s)"
                    )
                print(line)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

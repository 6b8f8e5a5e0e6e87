#!/usr/bin/env python3
"""Reports import cycles between the concept modules of ws-test-runtime and ws-test-core, its lower half, taken as one
set (and between the files of one module), and
between the top-level modules of every other crate of the workspace (the macros, the pattern grammar, the CLI and
its tests, the workspace tests, the benches and the examples).

A concept is a top-level module of `ws-test-runtime/src` (`server`, `client`, `expect`, ...). A reference is any
`crate::name` path, including names the crate root re-exports (`crate::{EmbeddedServer, WsClient}` counts as
`server` and `client`). Inside a directory module, the same is checked between its files (`super::name`).
Exit 0 without cycles; 1, listing them, with any.
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "ws-test-runtime" / "src"
# The runtime's lower half: its top-level modules are concepts of the same set (the runtime imports them by name).
CORE_SRC = SRC.parent.parent / "ws-test-core" / "src"
SRCS = (SRC, CORE_SRC)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def strip_tests(text):
    # `#[cfg(test)] mod tests { ... }` may use anything; it is not part of the architecture.
    match = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)
    return text[: match.start()] if match else text


def source_root(path):
    """The `src` directory of the two crates that holds `path`."""
    return next(root for root in SRCS if root in path.parents)


def concept_of(path):
    rel = path.relative_to(source_root(path))
    return rel.parts[0].removesuffix(".rs")


def root_exports():
    """Names the crate root re-exports, mapped to the concept module that defines them."""
    lib = "\n".join(strip_comments((root / "lib.rs").read_text()) for root in SRCS)
    lib = lib.replace("ws_test_core::", "")
    names = {}
    for module, body in re.findall(r"pub use (\w+)(?:::[\w:]+)?::\{([^}]*)\}", lib):
        for name in re.split(r"[,\s]+", body):
            if name:
                names[name.split(" as ")[-1]] = module
    for module, name in re.findall(r"pub use (\w+)(?:::\w+)*::(\w+);", lib):
        names[name] = module
    return names


def referenced(text, exports, modules):
    found = set()
    for group in re.findall(r"crate::\{([^;]*?)\}\s*;", text, flags=re.S):
        for item in re.split(r"[,\s]+", group):
            head = item.split("::")[0].strip("{} ")
            if head in modules:
                found.add(head)
            elif head in exports:
                found.add(exports[head])
    for head in re.findall(r"crate::(\w+)", text):
        if head in modules:
            found.add(head)
        elif head in exports:
            found.add(exports[head])
    return found


def cycles(graph):
    """Every elementary cycle found by a depth-first search, each reported once."""
    seen, found = set(), []

    def visit(node, stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle + [nxt])
            elif len(stack) < 12:
                visit(nxt, stack + [nxt])

    for node in sorted(graph):
        visit(node, [node])
    return found


def main():
    modules = {p.name.removesuffix(".rs") for root in SRCS for p in root.iterdir() if p.name not in ("lib.rs",)}
    modules.discard("prelude")
    exports = root_exports()
    graph = {}
    for path in (path for root in SRCS for path in root.rglob("*.rs")):
        concept = concept_of(path)
        if concept in ("lib", "prelude"):
            continue
        text = strip_tests(strip_comments(path.read_text()))
        for target in referenced(text, exports, modules):
            if target != concept:
                graph.setdefault(concept, set()).add(target)
    problems = [" -> ".join(cycle) for cycle in cycles(graph)]
    # Between the files of one directory module.
    for directory in [p for root in SRCS for p in root.iterdir() if p.is_dir()]:
        files = {p.stem for p in directory.glob("*.rs")} - {"mod", "tests"}
        local = {}
        for path in directory.glob("*.rs"):
            if path.stem == "tests":
                continue
            text = strip_tests(strip_comments(path.read_text()))
            me = path.stem if path.stem != "mod" else "mod"
            refs = set(re.findall(rf"(?:super|crate::{directory.name}|self)::(\w+)", text))
            for ref in refs & files:
                if ref != me:
                    local.setdefault(me, set()).add(ref)
            if me != "mod" and re.search(rf"(?:super|crate::{directory.name})::(?!{'|'.join(files)}\b)\w", text):
                local.setdefault(me, set()).add("mod")
        # mod.rs naturally declares its files; only file -> file and file -> mod -> file loops count, so drop
        # mod's edges that are mere `mod x;`/re-exports by looking at uses inside mod's own code.
        problems += [f"{directory.name}/: " + " -> ".join(c) for c in cycles(local) if "mod" not in c]
    if problems:
        print("import cycles between concepts:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"no import cycle between {len(graph)} concept modules of ws-test-runtime and ws-test-core")
    return 0


ROOT = SRC.parent.parent


def crate_roots():
    """Every library and binary target of the workspace: (name, root file). From `cargo metadata` (offline)."""
    import json
    import subprocess

    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    roots = []
    for package in metadata["packages"]:
        for target in package["targets"]:
            if set(target["kind"]) & {"lib", "proc-macro", "bin", "test", "bench", "example"}:
                roots.append((f"{package['name']}::{target['name']}", Path(target["src_path"])))
    return roots


def module_files(root, name):
    """The files of the top-level module `name` of the crate rooted at `root`."""
    directory = root.parent
    single = directory / f"{name}.rs"
    nested = directory / name
    files = [single] if single.exists() else []
    if nested.is_dir():
        files += sorted(nested.rglob("*.rs"))
    return files


def crate_cycles(label, root):
    """Cycles between the top-level modules a crate root declares: `crate::x` and, from a top-level file,
    `super::x`."""
    text = strip_comments(root.read_text())
    modules = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod (\w+);", text, flags=re.M))
    graph = {}
    for module in modules:
        for path in module_files(root, module):
            body = strip_tests(strip_comments(path.read_text()))
            heads = set(re.findall(r"crate::(\w+)", body))
            for group in re.findall(r"crate::\{([^;]*?)\}\s*;", body, flags=re.S):
                heads |= {item.split("::")[0].strip("{} ") for item in re.split(r"[,\s]+", group)}
            if path.parent == root.parent:
                heads |= set(re.findall(r"super::(\w+)", body))
            for target in heads & modules:
                if target != module:
                    graph.setdefault(module, set()).add(target)
    return [f"{label}: " + " -> ".join(cycle) for cycle in cycles(graph)], len(modules)


def every_crate():
    problems, checked = [], 0
    seen = set()
    for label, root in crate_roots():
        if root in seen or "ws-test-runtime" in root.parts or "ws-test-core" in root.parts:
            continue
        seen.add(root)
        found, count = crate_cycles(label, root)
        problems += found
        checked += count
    return problems, checked


def run():
    status = main()
    problems, checked = every_crate()
    if problems:
        print("import cycles between the modules of a crate:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"no import cycle between the {checked} top-level modules of the workspace's other crates")
    return status


if __name__ == "__main__":
    sys.exit(run())

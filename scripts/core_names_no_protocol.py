#!/usr/bin/env python3
"""Fails when ws-test-runtime's core names a protocol kit: the core speaks of frames, events, keys and handlers.

The kits are `src/chat/` and ws-test-core's `src/chat.rs` (the seed report's chat agent, its faults, events and suite) and `src/protocol/` (the
`Protocol` trait and its kits: chat's wire names, Socket.IO, graphql-transport-ws, JSON-RPC); `lib.rs` and
`prelude.rs` assemble the crate and may name anything. Every other file is core. In the core's code (comments,
doc comments and `#[cfg(test)]` modules left out, as in module_cycles.py) it reports:

- a path into a kit: `crate::chat`, a name the crate root re-exports from `chat` (`ChatAgent`, `ChatEvent`, ...),
  a kit type of `crate::protocol` (`SocketIo`, ...) or a chat wire-name constant (`protocol::AGENT_STARTED`);
- a string literal that is one of the chat kit's wire names or fields (`"connection_established"`,
  `"run_id"`, ...). Words any protocol uses (`"ping"`, `"error"`, ...) are not the chat kit's.

Exit 0 when the core is clean; 1, listing file:line and what it names.
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from module_cycles import CORE_SRC, SRCS, root_exports, source_root, strip_comments, strip_tests  # noqa: E402

KIT_DIRS = ("chat", "protocol")
# The runtime's events.rs only re-exports the lower half's with the derive beside it.
ASSEMBLY = ("lib.rs", "prelude.rs", "events.rs")
# The chat kit's wire names that are also plain words of other protocols: not evidence of the chat kit.
GENERIC = {"ping", "pong", "echo", "broadcast", "error", "/ws", "/health"}
# Fields and the identity header only the chat protocol uses.
CHAT_FIELDS = {"run_id", "tool_call_id", "thread_id", "user_id", "x-user-id", "X-User-Id"}
KIT_TYPES = {"SocketIo", "GraphqlWs", "JsonRpc"}


def chat_wire():
    """The chat kit's wire-name constants, by name and by value, read from protocol/chat.rs."""
    text = (CORE_SRC / "protocol" / "chat.rs").read_text()
    consts = dict(re.findall(r'pub const (\w+): &str = "([^"]*)";', text))
    return set(consts), {value for value in consts.values() if value not in GENERIC} | CHAT_FIELDS


def is_core(path):
    root = source_root(path)
    rel = path.relative_to(root)
    assembly = str(rel) in ASSEMBLY and (str(rel) != "events.rs" or root != CORE_SRC)
    return rel.parts[0].removesuffix(".rs") not in KIT_DIRS and not assembly and path.stem != "tests"


def findings(path, chat_exports, const_names, wire_values):
    raw = strip_tests(strip_comments(path.read_text()))
    found = []
    for number, line in enumerate(raw.splitlines(), start=1):
        named = set()
        if re.search(r"crate::chat\b", line):
            named.add("crate::chat")
        for word in re.findall(r"\b[A-Z]\w*\b", line):
            if word in chat_exports:
                named.add(f"{word} (the chat kit's)")
            if word in KIT_TYPES and re.search(rf"protocol::(?:\{{[^}}]*)?\b{word}\b", line):
                named.add(f"protocol::{word}")
        for name in re.findall(r"protocol::(\w+)", line):
            if name in const_names:
                named.add(f"protocol::{name} (a chat wire name)")
        for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', line):
            if literal in wire_values:
                named.add(f'"{literal}" (a chat wire name)')
        for what in sorted(named):
            found.append((number, what))
    return found


def main():
    exports = root_exports()
    chat_exports = {name for name, module in exports.items() if module == "chat"}
    const_names, wire_values = chat_wire()
    problems = []
    files = sorted(path for root in SRCS for path in root.rglob("*.rs") if is_core(path))
    for path in files:
        for number, what in findings(path, chat_exports, const_names, wire_values):
            problems.append(f"  {path.relative_to(source_root(path).parent.parent)}:{number}: names {what}")
    if problems:
        print("the core names a protocol kit (move it into the kit, or let it follow the protocol and the event key):")
        print("\n".join(problems))
        return 1
    print(f"the core ({len(files)} files of ws-test-runtime/src and ws-test-core/src) names no protocol kit")
    return 0


if __name__ == "__main__":
    sys.exit(main())

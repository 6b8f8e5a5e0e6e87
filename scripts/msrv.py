#!/usr/bin/env python3
"""Checks each workspace member's declared `rust-version` against its dependencies: no crate it builds with
(normal and build dependencies, with every feature of the member on) may declare a newer one. Clippy's
`incompatible_msrv` (warn by default, so an error under CI's `-D warnings`) checks the std APIs our own code
calls against the same number; together they verify the MSRV without a second toolchain.

Prints one line per member; exits 1 when a member declares less than a dependency needs.
"""
import json
import subprocess
import sys


def version(text):
    return tuple(int(part) for part in text.split(".")) + (0,) * (3 - len(text.split(".")))


def main():
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--all-features"],
        capture_output=True, text=True, check=True).stdout)
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    failed = False
    for member in metadata["workspace_members"]:
        declared = packages[member].get("rust_version")
        if not declared:
            continue
        seen, stack, newest = set(), [member], (declared, packages[member]["name"])
        while stack:
            current = stack.pop()
            for dep in nodes[current]["deps"]:
                kinds = {kind["kind"] for kind in dep["dep_kinds"]}
                # Only what a user's build compiles: normal and build dependencies (None is "normal").
                if current == member and not kinds & {None, "build"}:
                    continue
                if not kinds & {None, "build"}:
                    continue
                if dep["pkg"] in seen:
                    continue
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
                needed = packages[dep["pkg"]].get("rust_version")
                if needed and version(needed) > version(newest[0]):
                    newest = (needed, packages[dep["pkg"]]["name"])
        name = packages[member]["name"]
        if version(newest[0]) > version(declared):
            failed = True
            print(f"{name}: declares rust-version {declared}, but {newest[1]} needs {newest[0]}")
        else:
            print(f"{name}: rust-version {declared} holds for its {len(seen)} dependencies")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

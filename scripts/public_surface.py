#!/usr/bin/env python3
"""Counts the public surface of ws-test-runtime as `cargo doc` shows it.

Prints the number of public items (types, traits, functions, macros, constants, modules) by kind and the number of
inherent methods (plus trait methods declared by its traits), then, with --list, every item and method. Reads the
HTML that `cargo doc -p ws-test-runtime --no-deps --all-features` writes (run it first, or pass --build).
Hidden items (`#[doc(hidden)]`) are not in the docs, so they are not counted: that is the point.
"""
import argparse
import html
import os
import re
import subprocess
import sys
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    import json
    return json.loads(out)["target_directory"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", action="store_true", help="run cargo doc first")
    parser.add_argument("--list", action="store_true", help="print every item and method")
    parser.add_argument("--crate", default="ws_test_runtime")
    args = parser.parse_args()
    if args.build:
        subprocess.run(["cargo", "doc", "-p", args.crate.replace("_", "-"), "--no-deps", "--all-features"],
                       cwd=ROOT, check=True)
    doc = os.path.join(target_dir(), "doc", args.crate)
    all_html = open(os.path.join(doc, "all.html"), encoding="utf-8").read()
    items = sorted(set(re.findall(r'href="([^"#]+\.html)"', all_html)))
    kinds = Counter()
    methods = []
    listing = []
    for href in items:
        name = os.path.basename(href)
        kind, _, rest = name.partition(".")
        path = os.path.dirname(href).replace("/", "::")
        item = (path + "::" if path else "") + rest[: -len(".html")]
        kinds[kind] += 1
        listing.append(f"{kind} {item}")
        if kind in ("struct", "enum", "trait"):
            page = open(os.path.join(doc, href), encoding="utf-8").read()
            if kind == "trait":
                own = page.split('id="implementors"')[0]
            else:
                start = page.find('id="implementations-list"')
                end = page.find('id="trait-implementations"')
                own = page[start:end] if start >= 0 else ""
            for method in sorted(set(re.findall(r'id="(?:ty)?method\.([A-Za-z0-9_]+)"', own))):
                methods.append(f"{item}::{method}")
    if args.list:
        for line in listing:
            print(line)
        for method in methods:
            print(f"fn {html.unescape(method)}")
    total = sum(kinds.values())
    by_kind = ", ".join(f"{kinds[k]} {k}" for k in sorted(kinds))
    print(f"{args.crate}: {total} public items ({by_kind}); {len(methods)} methods")


if __name__ == "__main__":
    sys.exit(main())

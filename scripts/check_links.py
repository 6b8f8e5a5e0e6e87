#!/usr/bin/env python3
"""Checks the links of README.md and docs/*.md: every relative link names a file or directory of the repository
(and a `#heading` of a Markdown file names one of its headings), and no link leaves the repository by a relative
path (`../shared/...`, which a user's clone does not have). Web links are listed, not fetched (CI has no network
but the package registries). The chat protocol's contract, docs/PROTOCOL.md, must equal ../shared/PROTOCOL.md
when that binding copy is beside the repository.

Exit 0 when every link resolves; 1, listing file:line and the link, otherwise.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def anchors(path):
    """The anchors GitHub gives the headings of a Markdown file."""
    found = set()
    fenced = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        title = re.sub(r"[^\w\- ]", "", title)
        found.add(title.replace(" ", "-"))
    return found


def links(path):
    fenced = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in LINK.findall(line):
            yield number, target


def main():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems, web = [], 0
    for path in files:
        for number, target in links(path):
            where = f"{path.relative_to(ROOT)}:{number}"
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                web += 1
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            try:
                resolved.relative_to(ROOT)
            except ValueError:
                problems.append(f"{where}: {target} leaves the repository (a user's clone does not have it)")
                continue
            if not resolved.exists():
                problems.append(f"{where}: {target} names nothing in the repository")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where}: {target}: {resolved.name} has no heading #{anchor}")
    binding = ROOT.parent / "shared" / "PROTOCOL.md"
    copy = ROOT / "docs" / "PROTOCOL.md"
    if binding.exists() and binding.read_bytes() != copy.read_bytes():
        problems.append("docs/PROTOCOL.md differs from the binding ../shared/PROTOCOL.md: copy it again")
    if problems:
        print("broken links:")
        print("\n".join("  " + problem for problem in problems))
        return 1
    count = sum(1 for path in files for _ in links(path))
    print(f"{count} links in {len(files)} files resolve ({web} web links not fetched)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

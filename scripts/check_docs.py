#!/usr/bin/env python3
"""Check the README and the mdBook under docs/ (standard library only).

- README.md is at most 250 lines: it is the front door, the manual lives in docs/.
- every chapter linked from docs/src/SUMMARY.md exists;
- every Markdown file under docs/src is listed in SUMMARY.md;
- every relative link in README.md and docs/**/*.md points to an existing file, and every
  #anchor to an existing heading (GitHub/mdBook-style slugs).

Links to docs/ARCHITECTURE.md are allowed to dangle while that guide is being written:
they give a warning, not an error.

Usage: python3 scripts/check_docs.py   (from anywhere; exit status 1 on any error)
"""
import re
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SRC = DOCS / "src"
SUMMARY = SRC / "SUMMARY.md"
README_MAX_LINES = 250
MAY_BE_MISSING = {DOCS / "ARCHITECTURE.md"}

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# the "](target)" of [text](target) and ![alt](target), also when the text began on an
# earlier line; the target ends at whitespace (before an optional title) or ')'
LINK = re.compile(r"\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target (reference definitions)
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, …


def prose_lines(path):
    """(line number, line) for the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                fence = None
            continue
        yield number, line


def slug(text):
    """The id GitHub and mdBook give a heading: markup dropped, lower case, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"(\*+|_{2,})", "", text)
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


_anchors = {}


def anchors(path):
    """Every anchor of a Markdown file; repeated headings get -1, -2, … as on GitHub."""
    if path not in _anchors:
        seen, result = {}, set()
        for _, line in prose_lines(path):
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            result.add(base if n == 0 else f"{base}-{n}")
        for _, line in prose_lines(path):  # explicit <a id="…"> / <a name="…">
            result.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
        _anchors[path] = result
    return _anchors[path]


def links(path):
    """(line number, target) of every link in prose, inline code left out."""
    for number, line in prose_lines(path):
        line = INLINE_CODE.sub("", line)
        for m in LINK.finditer(line):
            yield number, m.group(1)
        m = REFDEF.match(line)
        if m:
            yield number, m.group(1)


def rel(path):
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main():
    errors, warnings = [], []

    if not README.is_file():
        errors.append("README.md is missing")
    else:
        count = len(README.read_text(encoding="utf-8").splitlines())
        if count > README_MAX_LINES:
            errors.append(
                f"README.md has {count} lines, more than {README_MAX_LINES}: "
                "move the detail into a chapter under docs/src/ and link to it"
            )

    listed = set()
    if not SUMMARY.is_file():
        errors.append(f"{rel(SUMMARY)} is missing: the book needs a table of contents")
    else:
        for number, target in links(SUMMARY):
            if not target or EXTERNAL.match(target):
                continue
            chapter = (SRC / unquote(target.split("#", 1)[0])).resolve()
            listed.add(chapter)
            if not chapter.is_file():
                errors.append(
                    f"{rel(SUMMARY)}:{number}: chapter {target} does not exist "
                    f"(expected {rel(chapter)})"
                )
    if SRC.is_dir():
        for md in sorted(SRC.rglob("*.md")):
            if md.resolve() != SUMMARY.resolve() and md.resolve() not in listed:
                errors.append(f"{rel(md)} is not listed in {rel(SUMMARY)}: add it, or remove the file")

    files = [README] if README.is_file() else []
    if DOCS.is_dir():
        files += sorted(DOCS.rglob("*.md"))
    for md in files:
        for number, target in links(md):
            if not target or EXTERNAL.match(target) or target.startswith("//"):
                continue
            where = f"{rel(md)}:{number}"
            path_part, _, anchor = target.partition("#")
            dest = (md.parent / unquote(path_part)).resolve() if path_part else md.resolve()
            if not dest.exists():
                if md == SUMMARY and not anchor:
                    continue  # a missing chapter is reported above
                if dest in MAY_BE_MISSING:
                    warnings.append(f"{where}: link to {target}: {rel(dest)} does not exist yet")
                else:
                    errors.append(f"{where}: broken link {target}: {rel(dest)} does not exist")
                continue
            if anchor:
                if dest.is_dir() or dest.suffix.lower() not in {".md", ".markdown"}:
                    errors.append(f"{where}: link {target} has an anchor but {rel(dest)} is not Markdown")
                elif unquote(anchor).lower() not in anchors(dest):
                    errors.append(f"{where}: broken anchor {target}: {rel(dest)} has no heading #{anchor}")

    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if errors:
        print(f"check_docs: {len(errors)} error(s), {len(warnings)} warning(s)", file=sys.stderr)
        return 1
    print(f"check_docs: {len(files)} Markdown file(s) OK ({len(warnings)} warning(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fenced code blocks of the README and docs/, as a newcomer reads them: the info string, the text, and the
`<!-- … -->` markers on the lines just above the block (`<!-- snippet: NAME -->`, `<!-- walk: skip … -->`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)[^\n]*$")
MARKER = re.compile(r"^<!--\s*([\w-]+)\s*:\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int            # of the opening fence, 1-based
    language: str
    text: str
    markers: dict[str, str]  # e.g. {"walk": "skip (needs a county's own files)"}

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        markers: dict[str, str] = {}
        above = index - 1
        while above >= 0 and (lines[above].strip() == "" or MARKER.match(lines[above].strip())):
            marker = MARKER.match(lines[above].strip())
            if marker:
                markers.setdefault(marker.group(1), marker.group(2))
            above -= 1
        end = index + 1
        while end < len(lines) and not lines[end].startswith(opening.group(1)):
            end += 1
        found.append(Block(path, index + 1, opening.group(2).lower(), "\n".join(lines[index + 1:end]) + "\n",
                           markers))
        index = end + 1
    return found


def snippet(path: Path, name: str) -> Block:
    named = [block for block in blocks(path) if block.markers.get("snippet") == name]
    assert len(named) == 1, f"{path.name}: {len(named)} blocks marked <!-- snippet: {name} -->"
    return named[0]

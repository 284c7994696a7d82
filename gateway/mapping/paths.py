"""Paths into the national document: `input.data.mdtrt_id`, `output.setldetail[fund_pay_type=620100].fund_payamt`.

Parsed once when the mapping is compiled; reading and writing are then plain loops over the steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z_][A-Za-z0-9_]*)=([^\]]+)\])?$")


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    select_field: str = ""  # on a list: the element whose select_field equals select_value
    select_value: str = ""


Path = tuple[Step, ...]


def parse_path(text: str) -> Path:
    steps = []
    for part in text.split("."):
        match = _STEP.match(part)
        if not match:
            raise ValueError(f"not a path step: {part!r} in {text!r}")
        steps.append(Step(match.group(1), match.group(2) or "", match.group(3) or ""))
    return tuple(steps)


def get(document: Any, path: Path) -> Any:
    node = document
    for step in path:
        if not isinstance(node, dict):
            return None
        node = node.get(step.key)
        if step.select_field:
            if not isinstance(node, list):
                return None
            node = next((item for item in node if isinstance(item, dict)
                         and str(item.get(step.select_field)) == step.select_value), None)
    return node


def put(document: dict[str, Any], path: Path, value: Any) -> None:
    node = document
    for step in path[:-1]:
        node = node.setdefault(step.key, {})
    node[path[-1].key] = value

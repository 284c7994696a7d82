"""YAML with line numbers: every mapping and list remembers where its entries were written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LDict(dict[str, Any]):
    line: int = 0
    lines: dict[str, int]


class LList(list[Any]):
    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merges, so trades can share a shape
    result = LDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    result = LList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_located(path: Path) -> tuple[LDict | None, str, int]:
    """(document, problem, line): a YAML syntax error comes back as a problem with its line."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        return None, f"YAML: {exc.problem}", (mark.line + 1) if mark else 0
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, str(exc), 0
    if not isinstance(document, LDict):
        return None, "a mapping file is a YAML mapping (dialect:, transport:, …)", 1
    return document, "", 0

"""Golden raw messages per dialect: request bytes as a vendor sends them, answers compared structurally.

tests/fixtures/<dialect>/NN-name.in holds the exact bytes the HIS sends: the DLL input string for a dll
dialect (played through the one road), the HTTP body for an http or soap dialect (POSTed to its endpoint on a
real socket). NN-name.out holds the status on its first line (`rc=<code>` for a DLL or an HL7 ACK's MSA-1,
`http=<code>` over HTTP) and then the expected answer. In the expected answer `*` stands for a value that
differs from run to run (serials, times, generated ids). Answers are compared as structures: delimited strings
split on the dialect's separators, JSON as objects, XML as element trees (an element whose text is itself XML,
like DHC's message string, as a tree too), so a difference is reported where it is.

Recording: with HISGW_GOLDEN_RECORD=1 a missing .out is written from the actual answer (JSON and XML as
a JSON structure with the known volatile fields masked; a DLL answer as its raw text, to mask by hand), and
the test fails so that nobody commits a recording unread.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.adapters.dialect_call import call_dialect
from gateway.mapping.model import Args, Delimited, Dialect, Hl7
from tests.conftest import DIALECTS
from tests.support import Served

ROOT = Path(__file__).resolve().parent
Tree = Any  # str | list[Tree] | dict[str, Tree]
VOLATILE = {"inf_refmsgid", "refmsg_time", "respond_time", "sign_no", "sign_time", "setl_id", "setl_time",
            "SignNo", "SetlId", "SetlTime"}
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def split(text: str, separators: list[str]) -> Tree:
    if not separators:
        return text
    return [split(part, separators[1:]) for part in text.split(separators[0])]


def xml_tree(element: etree._Element) -> Tree:
    name = etree.QName(element).localname
    children = list(element)
    if children:
        return {name: [xml_tree(child) for child in children]}
    text = element.text or ""
    if text.lstrip().startswith("<"):
        return {name: xml_tree(etree.fromstring(text.encode("utf-8"), XML_PARSER))}
    return {name: text}


def structure(dialect: Dialect, raw: bytes) -> Tree:
    if dialect.transport == "soap":
        tree = xml_tree(etree.fromstring(raw, XML_PARSER))
        framing = dialect.framing
        if isinstance(framing, Args):  # the output parameter is itself a delimited record (or records)
            outputs = {name for name, source in dialect.answer_envelope if source == "output"}
            tree = split_leaves(tree, outputs, [framing.row, framing.param])
        return tree
    if dialect.framing.kind == "json":
        return json.loads(raw.decode(dialect.encoding), parse_float=str, parse_int=str)
    framing = dialect.framing
    if isinstance(framing, Hl7):  # segments, fields, repetitions, components, subcomponents
        return split(raw.decode(dialect.encoding), ["\r", "|", "~", "^", "&"])
    assert isinstance(framing, Delimited)
    return split(raw.decode(dialect.encoding), [framing.field, framing.row, framing.column, framing.param])


def split_leaves(tree: Tree, names: set[str], separators: list[str]) -> Tree:
    if isinstance(tree, dict):
        return {key: split(value, separators) if key in names and isinstance(value, str)
                else split_leaves(value, names, separators) for key, value in tree.items()}
    if isinstance(tree, list):
        return [split_leaves(item, names, separators) for item in tree]
    return tree


def differences(expected: Tree, actual: Tree, where: str = "") -> list[str]:
    if expected == "*" or expected == actual:
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            return [f"{where or 'answer'}: expected keys {list(expected)}, got {list(actual)}"]
        return [problem for key in expected for problem in differences(expected[key], actual[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where or 'answer'}: expected {len(expected)} parts, got {len(actual)}: {actual!r}"]
        return [problem for index, (e, a) in enumerate(zip(expected, actual, strict=True))
                for problem in differences(e, a, f"{where}[{index}]")]
    return [f"{where or 'answer'}: expected {expected!r}, got {actual!r}"]


def masked(tree: Tree) -> Tree:
    if isinstance(tree, dict):
        return {key: "*" if key in VOLATILE and isinstance(value, str) and value else masked(value)
                for key, value in tree.items()}
    if isinstance(tree, list):
        return [masked(item) for item in tree]
    return tree


async def exchange(served: Served, dialect: Dialect, raw: bytes) -> tuple[str, bytes]:
    if dialect.transport in ("dll", "hl7"):
        status, body = await call_dialect(served.gateway, dialect, raw)
        return f"rc={status}", body
    headers = {"Content-Type": "text/xml; charset=utf-8" if dialect.transport == "soap" else "application/json"}
    async with served.session.post(f"{served.url}{dialect.endpoint}", data=raw, headers=headers) as response:
        return f"http={response.status}", await response.read()


@pytest.mark.parametrize("dialect_name", sorted(p.name for p in (ROOT / "fixtures").iterdir() if p.is_dir()))
async def test_golden_exchanges(served: Served, dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    folder = ROOT / "fixtures" / dialect_name
    cases = sorted(folder.glob("*.in"))
    assert cases
    recorded = []
    for case in cases:  # in order: one journey, each exchange building on the ones before
        status, out = await exchange(served, dialect, case.read_bytes())
        expected_file = case.with_suffix(".out")
        if not expected_file.exists() and os.environ.get("HISGW_GOLDEN_RECORD"):
            text = (out.decode(dialect.encoding) if dialect.transport == "dll"
                    else json.dumps(masked(structure(dialect, out)), ensure_ascii=False, indent=1))
            ending = "" if dialect.transport == "dll" else "\n"  # a DLL answer's bytes end where the answer does
            expected_file.write_bytes(f"{status}\n{text}{ending}".encode(dialect.encoding))
            recorded.append(expected_file.name)
            continue
        expected_status, _, expected = expected_file.read_bytes().partition(b"\n")
        wanted = (json.loads(expected) if expected.lstrip().startswith((b"{", b"["))
                  else structure(dialect, expected))
        problems = differences(wanted, structure(dialect, out))
        assert (status, problems) == (expected_status.decode(), []), case.name
    assert not recorded, f"recorded {recorded}: review them, mask what varies with *, then commit"

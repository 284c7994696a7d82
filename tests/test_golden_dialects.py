"""Golden raw messages per dialect: request bytes as a vendor sends them, answers compared structurally.

tests/fixtures/<dialect>/NN-name.in holds the exact input bytes; NN-name.out holds `rc=<code>` on its first
line (a DLL's return code, an HL7 ACK's MSA-1) and then the expected output, in the dialect's encoding. In the
expected output `*` stands for a value that differs from run to run (serials, times, generated ids). The
comparison splits both answers on the dialect's separators, so a difference is reported at its field, row and
column (HL7: segment, field, repetition, component, subcomponent).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.adapters.dialect_call import call_dialect
from gateway.mapping.model import Delimited, Dialect, Hl7
from gateway.mapping.registry import check_all
from tests.support import Served

ROOT = Path(__file__).resolve().parent
DIALECTS, _ = check_all(ROOT.parent / "mappings")
Tree = str | list["Tree"]


def split(text: str, separators: list[str]) -> Tree:
    if not separators:
        return text
    return [split(part, separators[1:]) for part in text.split(separators[0])]


def differences(expected: Tree, actual: Tree, where: str = "") -> list[str]:
    if isinstance(expected, str) and isinstance(actual, str):
        return [] if expected in ("*", actual) else [f"{where or 'answer'}: expected {expected!r}, got {actual!r}"]
    if isinstance(expected, str) or isinstance(actual, str):
        return [f"{where}: shapes differ"]
    if len(expected) != len(actual):
        return [f"{where or 'answer'}: expected {len(expected)} parts, got {len(actual)}: {actual!r}"]
    found: list[str] = []
    for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
        found += differences(e, a, f"{where}[{index}]")
    return found


def separators(dialect: Dialect) -> list[str]:
    framing = dialect.framing
    if isinstance(framing, Hl7):
        return ["\r", "|", "~", "^", "&"]  # the fixtures use HL7's standard separators
    assert isinstance(framing, Delimited)
    return [framing.field, framing.row, framing.column, framing.param]


@pytest.mark.parametrize("dialect_name", sorted(p.name for p in (ROOT / "fixtures").iterdir() if p.is_dir()))
async def test_golden_exchanges(served: Served, dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    folder = ROOT / "fixtures" / dialect_name
    cases = sorted(folder.glob("*.in"))
    assert cases
    for case in cases:  # in order: one journey, each exchange building on the ones before
        rc, out = await call_dialect(served.gateway, dialect, case.read_bytes())
        expected_rc, _, expected = case.with_suffix(".out").read_bytes().partition(b"\n")
        problems = differences(split(expected.decode(dialect.encoding), separators(dialect)),
                               split(out.decode(dialect.encoding), separators(dialect)))
        assert (f"rc={rc}".encode(), problems) == (expected_rc, []), case.name

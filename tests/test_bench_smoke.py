"""The benchmark code runs and reports every row (a smoke run: tiny counts, no speed asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main


def test_quick_bench_prints_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--json", str(out)]) == 0
    rows = {row["name"]: row for row in json.loads(out.read_text(encoding="utf-8"))}
    assert any(name.startswith("HTTP bare") for name in rows)
    assert any(name.startswith("HTTP 2304") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("SOAP dhc") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("DLL neusoft") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("HL7 bare") for name in rows)
    assert any(name.startswith("HL7 DFT^P03") and row["ratio"] for name, row in rows.items())
    assert all(row["value"] > 0 for row in rows.values())
    assert all("bad answers" not in row["note"] for row in rows.values())
    assert "figures written" in capsys.readouterr().out

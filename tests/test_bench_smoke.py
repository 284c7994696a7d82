"""The benchmark code runs and reports every row (a smoke run: tiny counts, no speed asserted)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.run import BENCHES, main, selected


def test_quick_bench_prints_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--json", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    rows = {row["name"]: row for row in document["rows"]}
    assert any(name.startswith("HTTP bare") for name in rows)
    assert any(name.startswith("HTTP 2304") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("SOAP dhc") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("DLL neusoft") and row["ratio"] for name, row in rows.items())
    assert any(name.startswith("HL7 bare") for name in rows)
    assert any(name.startswith("HL7 DFT^P03") and row["ratio"] for name, row in rows.items())
    assert all(row["value"] > 0 for row in rows.values())
    assert all("bad answers" not in row["note"] for row in rows.values())
    assert set(document["seconds"]) == {bench.key for bench in BENCHES}
    printed = capsys.readouterr().out
    assert "figures written" in printed
    # every row shown as it is measured, with the time left, before the table at the end
    progress = re.findall(r"^\[(\d+)/(\d+)\] (.+)$", printed, re.M)
    assert [int(n) for n, _total, _row in progress][-1] == len(BENCHES)
    assert printed.index("[1/") < printed.index("\npath ")
    assert len(re.findall(r"about .+ left$", printed, re.M)) >= len(BENCHES)


def test_one_row_runs_with_the_baselines_it_needs() -> None:
    assert [bench.key for bench in selected(["http-2304"])] == ["http-bare", "http-2304"]
    assert [bench.key for bench in selected(["engine"])] == ["engine"]
    assert [bench.key for bench in selected(["dll-2410", "soap-settle"])] == [
        "dll-bare", "soap-bare", "soap-settle", "dll-2410"]  # in table order
    assert len(selected([])) == len(BENCHES)
    with pytest.raises(SystemExit, match="unknown row http-9999"):
        selected(["http-9999"])


def test_list_names_every_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--list", "--json", str(tmp_path / "none.json")]) == 0
    listed = capsys.readouterr().out
    assert all(re.search(rf"^{re.escape(bench.key)} ", listed, re.M) for bench in BENCHES)
    assert re.search(r"^all +\d+ min \d\d s$", listed, re.M)

"""Re-sending a person already loaded, as the documented JSON example does for the demo county's D0001: the
import updates that person (matched by ID number), over HTTP and on the command line; a row that would give
the ID number to another psn_no is a row problem, never a 500."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support import Served

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference-data.md").read_text(encoding="utf-8")
# The documented JSON body for persons (docs/reference-data.md, the one the README's curl line sends).
DOC_JSON = json.loads(re.search(r"```json\n(.*?)```", REFERENCE, re.S).group(1))  # type: ignore[union-attr]


def persons_in(db: Path) -> dict[str, tuple[str, str]]:
    """certno → (psn_no, psn_name), read with plain sqlite3."""
    with sqlite3.connect(db) as conn:
        return {certno: (psn_no, name) for psn_no, certno, name in
                conn.execute("SELECT psn_no, certno, psn_name FROM persons")}


async def test_the_documented_json_example_updates_the_demo_person(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    before = persons_in(db)
    (row,) = DOC_JSON["data"]
    assert before[row["certno"]][0] == "D0001"  # the example is a person the demo already holds
    for _ in range(2):
        async with served.session.post(f"{served.url}/county/v1/persons", json=DOC_JSON) as response:
            assert (response.status, await response.json()) == (200, {"code": 0, "kind": "persons", "imported": 1})
    after = persons_in(db)
    assert len(after) == len(before) and after[row["certno"]] == ("D0001", row["psn_name"])


async def test_an_id_number_held_by_another_psn_no_is_a_row_problem(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    (row,) = DOC_JSON["data"]
    body = {"data": [{**row, "psn_no": "X0001"}]}
    async with served.session.post(f"{served.url}/county/v1/persons", json=body) as response:
        answer = await response.json()
    assert response.status == 422, answer
    assert answer["problems"] == ["第1行 [certno]: 该身份证号已属于人员 D0001，不能再登记为 X0001"]
    assert persons_in(db)[row["certno"]][0] == "D0001"


def test_the_command_line_import_updates_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "hisgw.sqlite")
    assert main(["--db", db, "demo", "load"]) == 0
    count = len(persons_in(Path(db)))
    persons = tmp_path / "persons.json"
    persons.write_text(json.dumps(DOC_JSON, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", db, "persons", "import", str(persons)]) == 0
    assert capsys.readouterr().out.strip() == f"persons: imported 1 from {persons}"
    assert len(persons_in(Path(db))) == count

"""`hisgw simulate --list` and `--clean`: what the simulator offers, and how a test gateway's file loses the test
persons the simulator left behind (and nothing else)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from gateway.cli import DEMO_DIR, main
from simulators.drivers import Target, open_driver
from simulators.inprocess import local_gateway
from simulators.nhsa_client import NhsaClient
from simulators.people import TEST_PERSON_MARK, TEST_PERSON_PREFIX, PersonFactory
from simulators.runner import PASS, Runner
from simulators.scenario import load_scenarios
from tests import support
from tests.support import Journey, ok
from tests.test_simulator import DIALECTS, MAPPINGS, PACK

SCENARIOS = load_scenarios([PACK])


def test_list_names_every_scenario_and_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list"]) == 0
    listed = capsys.readouterr().out
    for scenario in SCENARIOS:
        number = scenario.path.name.split("-", 1)[0]
        assert f"{number} {scenario.name}" in listed
    for name in DIALECTS:
        assert f"  {name} " in listed
    assert main(["simulate"]) == 2  # neither --dialect nor --all-dialects nor --list
    assert "--all-dialects" in capsys.readouterr().err


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_clean_removes_the_simulators_persons_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hisgw.sqlite"
    worked = [s for s in SCENARIOS if s.name in ("worked-example", "reversal-resettle")]
    async with local_gateway(MAPPINGS, db_dir=tmp_path) as local, aiohttp.ClientSession() as session:
        runner = Runner(open_driver(DIALECTS["nhsa-http"], Target(local.url, local.dll_port), concurrency=2),
                        PersonFactory(session, local.url))
        try:
            results = [await runner.play(scenario) for scenario in worked]
        finally:
            await runner.driver.close()
        assert [r.status for r in results] == [PASS, PASS]
        # a county person's stay and settlement, which --clean must leave alone
        his = NhsaClient(session, local.url, "H43052100002")
        certno = next(row["certno"] for row in csv.DictReader(
            (DEMO_DIR / "persons.csv").read_text(encoding="utf-8").splitlines()) if row["psn_no"] == "D0001")
        journey = Journey(his, support.TestPerson("D0001", certno, "0001"))
        ok(await journey.admit())
        ok(await journey.upload(journey.line("XA01", "100.00")))
        ok(await journey.settle("100.00"))
    persons = rows(db, "SELECT psn_no, emp_name FROM persons")
    simulated = [p for p, mark in persons if p.startswith(TEST_PERSON_PREFIX)]
    assert simulated and all(mark == TEST_PERSON_MARK for p, mark in persons if p in simulated)
    before = {t: rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("persons", "stays", "settlements")}
    county_stays = rows(db, "SELECT count(*) FROM stays WHERE psn_no = 'D0001'")[0][0]
    assert county_stays >= 1

    assert main(["--db", str(db), "simulate", "--clean"]) == 0
    assert "removed" in capsys.readouterr().out
    left = [p for (p,) in rows(db, "SELECT psn_no FROM persons")]
    assert not any(p.startswith(TEST_PERSON_PREFIX) for p in left)
    assert len(left) == before["persons"] - len(simulated)
    for table in ("stays", "settlements", "accumulators"):
        assert rows(db, f"SELECT count(*) FROM {table} WHERE psn_no LIKE '{TEST_PERSON_PREFIX}%'")[0][0] == 0
    assert rows(db, "SELECT count(*) FROM stays WHERE psn_no = 'D0001'")[0][0] == county_stays
    assert rows(db, "SELECT count(*) FROM settlements WHERE psn_no = 'D0001'")[0][0] >= 1
    assert rows(db, "SELECT count(*) FROM fee_lines WHERE mdtrt_id NOT IN (SELECT mdtrt_id FROM stays)")[0][0] == 0
    assert rows(db, "SELECT count(*) FROM journal")[0][0] > 0  # the record of what was exchanged stays
    assert main(["--db", str(db), "verify"]) == 0

"""An unexpected error whose text quotes an ID number and a name: the real process's log (console format, as
`make serve` runs it; and JSON) and a crashing command's traceback show both masked, never in clear.

The error is forced with a real SQLite trigger that fails on every new person row with a message quoting the
row's ID number and name (SQLite's "JSON path error near '…'"), as a constraint or a driver may quote a value."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import structlog

from gateway.cli import main
from gateway.log import configure_logging
from tests.processes import start_serve
from tests.support import certno

ROOT = Path(__file__).resolve().parent.parent
CERTNO = certno("19580312", "013")
NAME = "欧阳建国"
# The masks written out (mask_certno: first 6, last 4; mask_name: first character), not computed by the code.
MASKED_CERTNO = CERTNO[:6] + "********" + CERTNO[-4:]
MASKED_NAME = "欧***"
ROW = {"certno": CERTNO, "psn_name": NAME, "insuplc_admdvs": "430521", "psn_idet_type": "0001"}


def refusing_db(tmp_path: Path) -> Path:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER refuse_persons BEFORE INSERT ON persons BEGIN "
                     "SELECT json_extract('{}', 'refused ' || NEW.certno || ' ' || NEW.psn_name); END")
    return db


def assert_masked(text: str) -> None:
    assert CERTNO not in text and NAME not in text
    assert MASKED_CERTNO in text and MASKED_NAME in text  # the error itself is there, masked


async def test_the_serving_process_logs_the_traceback_masked(tmp_path: Path) -> None:
    db = refusing_db(tmp_path)
    log = tmp_path / "hisgw.log"
    server, url, _ = start_serve(db, log, "--log-format", "console")
    try:
        async with aiohttp.ClientSession() as session, \
                session.post(f"{url}/county/v1/persons", json={"data": [ROW]}) as response:
            assert response.status == 500
            assert (await response.json())["code"] == "HG9001"  # the county's own JSON, not a bare 500
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "OperationalError" in text
    assert_masked(text)


def test_a_crashing_command_prints_its_traceback_masked(tmp_path: Path) -> None:
    db = refusing_db(tmp_path)
    rows = tmp_path / "persons.json"
    rows.write_text(json.dumps([ROW], ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "--db", str(db), "persons", "import", str(rows)],
                          capture_output=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1
    text = done.stderr.decode("utf-8")
    assert "Traceback (most recent call last)" in text and "OperationalError" in text
    assert_masked(text)


def test_json_logs_mask_exception_text_of_ours_and_of_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        try:
            raise ValueError(f"row refused: {CERTNO} {NAME}")
        except ValueError:
            structlog.get_logger("hisgw").exception("unhandled")
            logging.getLogger("aiohttp.server").exception("Error handling request")
        logging.getLogger("asyncio").error("Task exception was never retrieved: ValueError('%s %s')", CERTNO, NAME)
    finally:
        configure_logging("console", "WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines[:2]] == ["unhandled", "Error handling request"]
    for line in lines[:2]:
        assert "ValueError: row refused" in line["exception"]
    assert_masked(lines[2]["event"])
    assert_masked("\n".join(json.dumps(line, ensure_ascii=False) for line in lines))

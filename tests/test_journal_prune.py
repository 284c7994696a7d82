"""`hisgw journal prune`: the journal is the audit record. A floor no --days goes under, a dry run that says what
would go, and a confirmation (--yes) before anything is removed."""

from __future__ import annotations

import os
import pty
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support import Served
from tests.test_journal import journey

OLD = (datetime.now() - timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S.000")  # older than the 365-day retention
MIDDLE = (datetime.now() - timedelta(days=200)).strftime("%Y-%m-%d %H:%M:%S.000")  # past the 180-day floor only


def received(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT received_at FROM journal ORDER BY id")]


async def test_prune_has_a_floor_a_dry_run_and_a_confirmation(served: Served, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    await journey(served)  # 8 exchanges, today
    db = tmp_path / "hisgw.sqlite"
    with sqlite3.connect(db) as conn:  # age them as time would: 3 a year and more ago, 2 half a year ago
        conn.execute("UPDATE journal SET received_at = ? WHERE id <= 3", (OLD,))
        conn.execute("UPDATE journal SET received_at = ? WHERE id IN (4, 5)", (MIDDLE,))
    every = received(db)
    assert len(every) == 8
    capsys.readouterr()

    for days in ("0", "-1", "179"):  # under the floor: refused, whatever --yes says
        assert main(["--db", str(db), "journal", "prune", "--days", days, "--yes"]) == 2
        assert f"{days} days is below the floor of 180 days (journal.min_retention_days); nothing removed" in \
            capsys.readouterr().err
    assert received(db) == every

    assert main(["--db", str(db), "journal", "prune", "--dry-run"]) == 0  # retention 365: the 3 old ones
    out = capsys.readouterr().out
    assert out.startswith("journal: would prune 3 exchanges received before ") and f"from {OLD} to {OLD}" in out
    assert received(db) == every

    assert main(["--db", str(db), "journal", "prune"]) == 2  # no terminal to ask, no --yes: nothing removed
    assert "would remove 3 exchanges" in capsys.readouterr().err and received(db) == every

    assert main(["--db", str(db), "journal", "prune", "--yes"]) == 0
    assert "pruned 3 exchanges" in capsys.readouterr().out
    assert received(db) == every[3:]
    assert main(["--db", str(db), "journal", "prune", "--days", "180", "--yes"]) == 0  # at the floor: allowed
    assert "pruned 2 exchanges" in capsys.readouterr().out
    assert received(db) == every[5:]  # today's rows stay
    assert main(["--db", str(db), "journal", "prune", "--days", "180", "--yes"]) == 0
    assert "pruned 0 exchanges" in capsys.readouterr().out


def test_a_retention_setting_below_the_floor_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(tmp_path / "hisgw.sqlite"), "hospitals", "import",
                 "gateway/data/demo/hospitals.csv"]) == 0  # a database to prune: a missing one is refused
    config = tmp_path / "hisgw.toml"
    config.write_text('[store]\npath = "hisgw.sqlite"\n[journal]\nretention_days = 30\n', encoding="utf-8")
    assert main(["--config", str(config), "journal", "prune", "--yes"]) == 2
    assert "30 days is below the floor of 180 days" in capsys.readouterr().err
    config.write_text('[store]\npath = "hisgw.sqlite"\n[journal]\nretention_days = 30\nmin_retention_days = 7\n',
                      encoding="utf-8")  # a county that lowers the floor says so in its settings file
    assert main(["--config", str(config), "journal", "prune", "--yes"]) == 0


def test_at_a_terminal_prune_asks_first(tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0  # a store with its journal table
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO journal (id, received_at, fixmedins_code, dialect, transport, msgid, trade, infno, "
                     "psn_no, mdtrt_id, setl_id, protection, encoding, request, call) VALUES "
                     "(1, ?, 'H43052100002', 'nhsa-http', 'http', 'M1', '1101', '1101', '', '', '', 'mask', 'utf-8', "
                     "x'', x'')", (OLD,))
    for answer, status, said in ((b"n\n", 1, b"nothing removed"), (b"y\n", 0, b"pruned 1 exchanges")):
        pid, terminal = pty.fork()
        if pid == 0:  # the child: `hisgw journal prune` with a terminal on stdin
            try:
                os.execv(sys.executable, [sys.executable, "-m", "gateway.cli", "--db", str(db), "journal", "prune"])
            finally:
                os._exit(127)  # never back into the test runner
        seen = b""
        while b"[y/N]" not in seen:
            seen += os.read(terminal, 1024)
        assert b"Remove 1 exchanges received before" in seen
        os.write(terminal, answer)
        while True:
            try:
                chunk = os.read(terminal, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        _, code = os.waitpid(pid, 0)
        assert (os.waitstatus_to_exitcode(code), said in seen) == (status, True), seen
    assert received(db) == []

"""The commands that open the store (issue 23): a database that does not exist is refused, not created empty and
answered with zeros; a command that writes refuses while a gateway serves the file; a locked file is one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.cli import DEMO_DIR, main
from tests.processes import start_serve
from tests.test_store_file import refused_at_start

READING_AND_WRITING = [
    ["report", "annex5", "--month", "2026-05"],
    ["journal"],
    ["journal", "prune", "--dry-run"],
    ["journal", "prune", "--yes"],
    ["verify"],
    ["backup", "make", "--month", "2026-05"],
    ["simulate", "--clean"],
]


@pytest.mark.parametrize("command", READING_AND_WRITING, ids=[" ".join(c[:2]) for c in READING_AND_WRITING])
def test_a_missing_database_is_refused_and_never_created(command: list[str], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "typo.sqlite"
    assert main(["--db", str(db), *command]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and f"no database at {db}" in captured.err, captured
    assert not db.exists() and sorted(tmp_path.iterdir()) == []


def test_serve_init_refuses_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    from tests.processes import free_port, serve_command

    db = tmp_path / "nonexistent" / "dir" / "hisgw.sqlite"
    line = refused_at_start(serve_command(db, free_port(), init=True))
    assert line["event"] == "store_refused" and "no folder" in line["problem"], line
    assert not (tmp_path / "nonexistent").exists()


def test_writing_commands_refuse_while_a_gateway_serves_the_file(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hisgw.sqlite"
    process, _url, _dll = start_serve(db, tmp_path / "serve.log")
    try:
        capsys.readouterr()
        for command in (["hospitals", "import", str(DEMO_DIR / "hospitals.csv")], ["journal", "prune", "--yes"],
                        ["store", "restore", str(db), "--yes"]):
            assert main(["--db", str(db), *command]) == 1, command
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "another hisgw process writes this database" in err, (command, err)
        assert main(["--db", str(db), "verify"]) == 0  # reading needs no lock
        assert main(["--db", str(db), "journal", "prune", "--dry-run"]) == 0
        assert "nothing removed (--dry-run)" in capsys.readouterr().out
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert main(["--db", str(db), "hospitals", "import", str(DEMO_DIR / "hospitals.csv")]) == 0  # stopped: allowed


def test_verify_on_a_locked_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "hospitals", "import", str(DEMO_DIR / "hospitals.csv")]) == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        capsys.readouterr()
        assert main(["--db", str(db), "verify"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot open the database" in err and "locked" in err, err
    finally:
        holder.execute("ROLLBACK")
        holder.close()

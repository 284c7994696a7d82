"""What a newcomer reaches for in the first hour: `hisgw --version`, a plain word for a missing import file, 405
for a known path asked the wrong way, an empty journal search that says so, and an online backup that restores."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support import Served
from tests.test_journal import journey

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_packages() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"hisgw {version}\n")


def test_a_missing_import_file_is_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hisgw.sqlite"
    missing = tmp_path / "persons.csv"
    assert main(["--db", str(db), "persons", "import", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing}: 文件不存在 (no such file)\n"
    assert not db.exists()  # nothing was opened, let alone written
    assert main(["--db", str(db), "persons", "import", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"{tmp_path}: 不是文件 (not a file)\n"


async def test_known_paths_asked_the_wrong_way_answer_405(served: Served) -> None:
    for method, path, allowed in (("GET", "/county/v1/persons", "POST"), ("DELETE", "/county/v1/catalogue", "POST"),
                                  ("POST", "/county/v1/status", "GET"), ("POST", "/journal/v1/exchanges", "GET")):
        async with served.session.request(method, f"{served.url}{path}") as response:
            assert (response.status, response.headers["Allow"]) == (405, allowed), path
            body = await response.json()
        assert body["code"] == "HG1000" and f"该路径只接受 {allowed}" in body["message"]
    async with served.session.get(f"{served.url}/county/v1/people") as response:  # not a known path at all
        assert response.status == 404 and (await response.json())["code"] == "HG2000"


def test_an_empty_search_says_so_with_its_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "hisgw.sqlite")
    assert main(["--db", db, "hospitals", "import", "gateway/data/demo/hospitals.csv"]) == 0  # a database, no journal
    capsys.readouterr()
    assert main(["--db", db, "journal", "--hospital", "H43052100002", "--since", "2026-05-01"]) == 0
    assert capsys.readouterr().out == "journal: 0 exchanges match (hospital=H43052100002, since=2026-05-01)\n"
    assert main(["--db", db, "journal", "--json"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "journal: 0 exchanges match (no filter)\n")  # stdout stays JSON


async def test_an_online_backup_restores_everything(served: Served, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _stay, msgids = await journey(served)  # a settlement and its journal, committed to the WAL
    db = tmp_path / "hisgw.sqlite"
    with sqlite3.connect(db) as conn:  # what the live store holds, read another way
        live = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("settlements", "journal")}
    assert live == {"settlements": 1, "journal": 8}
    saved = tmp_path / "backup" / "hisgw-2026-05.sqlite"
    saved.parent.mkdir()
    capsys.readouterr()
    assert main(["--db", str(db), "store", "backup", str(saved)]) == 0  # the gateway still has the file open
    assert "1 settlements, 8 journal" in capsys.readouterr().out
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]  # one file, nothing beside it
    with sqlite3.connect(saved) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM settlements").fetchone()[0] == 1
    assert main(["--db", str(db), "store", "backup", str(saved)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err

    restored = tmp_path / "restored" / "hisgw.sqlite"
    moved = tmp_path / "moved.sqlite"
    shutil.copy(saved, moved)  # the backup file is all a restore needs, wherever it was carried
    assert main(["--db", str(restored), "store", "restore", str(moved)]) == 0
    assert "1 settlements, 8 journal" in capsys.readouterr().out
    assert main(["--db", str(restored), "verify"]) == 0
    assert "verify: 1 settlements, 0 differences" in capsys.readouterr().out
    assert main(["--db", str(restored), "journal", "--msgid", msgids["settle"], "--outcome", "ok"]) == 0
    assert msgids["settle"] in capsys.readouterr().out

    assert main(["--db", str(restored), "store", "restore", str(moved)]) == 2  # an existing store: asks, or --yes
    assert "confirm with --yes" in capsys.readouterr().err
    assert main(["--db", str(restored), "store", "restore", str(moved), "--yes"]) == 0
    not_a_store = tmp_path / "notes.sqlite"
    sqlite3.connect(not_a_store).close()
    assert main(["--db", str(restored), "store", "restore", str(not_a_store), "--yes"]) == 2
    assert "not a hisgw database" in capsys.readouterr().err

"""The database file under a real `hisgw serve` (issue 12): deleted or replaced while the gateway runs, missing
at start, on a read-only file system, and the gateway started from a folder without mappings/.

Before: settlements kept answering ok after the file was deleted and were lost at the restart, which silently
created a new empty database; a read-only folder gave a traceback; another folder served zero endpoints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators.nhsa_client import NhsaClient
from tests.processes import free_port, serve_command, start_serve
from tests.support import PERSONS, Journey, failed, load_reference_data, ok

ROOT = Path(__file__).resolve().parent.parent


def log_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"event": "(not a log line)", "text": line})
    return lines


def refused_at_start(command: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    """Runs a `hisgw serve` that must refuse to start: exit 1, one error line, no traceback. The error line."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=30, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in log_lines(output) if line.get("level") in ("error", "critical")
              or line["event"] == "(not a log line)"]
    assert len(errors) == 1, output
    return errors[0]


async def settle_one(his: NhsaClient, key: str) -> dict[str, Any]:
    stay = Journey(his, PERSONS[key])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "100.00")))
    return await stay.settle("100.00")


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_database_deleted_or_replaced_under_the_gateway_stops_it_taking_calls(tmp_path: Path,
                                                                                     how: str) -> None:
    db = tmp_path / "hisgw.sqlite"
    log = tmp_path / "serve.log"
    server, url, _ = start_serve(db, log)  # a new file: --init
    try:
        async with aiohttp.ClientSession() as session:
            await load_reference_data(session, url)
            his = NhsaClient(session, url, "T2")
            ok(await settle_one(his, "poor"))
            if how == "deleted":
                db.unlink()  # what `rm var/hisgw.sqlite` does
            else:
                other = tmp_path / "other.sqlite"  # a copy of the file, moved over it (a restore gone wrong)
                with sqlite3.connect(db) as source, sqlite3.connect(other) as copy:
                    source.backup(copy)
                os.replace(other, db)
            why = failed(await Journey(his, PERSONS["poor3"]).admit(), "HG9003")  # a money-moving call: refused
            assert ("已不存在" if how == "deleted" else "已被另一个文件替换") in why
            failed(await his.call("1101", {"data": {"psn_no": PERSONS["poor"].psn_no}}), "HG9003")
            async with session.get(f"{url}/health") as response:
                assert response.status == 503 and (await response.json())["status"] == "store_lost"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    lines = log_lines(log.read_text(encoding="utf-8"))
    lost = [line for line in lines if line["event"] == "store_lost"]
    assert len(lost) == 1 and lost[0]["level"] == "critical", lost  # loud, and once
    assert "HG9003" in {line.get("err_code") for line in lines if line["event"] == "exchange"}
    if how == "deleted":  # and a restart does not make a new empty database of it
        line = refused_at_start(serve_command(db, free_port(), init=False))
        assert line["event"] == "store_refused" and str(db) in line["problem"] and "--init" in line["problem"]
        assert not db.exists()


def test_serve_from_another_folder_refuses_to_serve_no_dialect(tmp_path: Path) -> None:
    """mappings/ is relative to where hisgw runs: from elsewhere it found none and served zero endpoints."""
    line = refused_at_start(serve_command(tmp_path / "hisgw.sqlite", free_port(), init=True), cwd=tmp_path)
    assert line["event"] == "mappings_missing" and str(tmp_path / "mappings") == line["folder"], line
    assert "--mappings" in line["problem"]


def test_an_unwritable_database_folder_is_one_clear_line() -> None:
    # /proc: a file system nobody, root included, creates files on
    line = refused_at_start(serve_command(Path("/proc/hisgw.sqlite"), free_port(), init=True))
    assert line["event"] == "store_refused" and "cannot open the database /proc/hisgw.sqlite" in line["problem"], line


def test_a_database_on_a_read_only_file_system_is_one_clear_line(tmp_path: Path) -> None:
    """An existing database in a folder mounted read-only (a private mount namespace: `unshare -m`)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "hisgw.sqlite"
    assert subprocess.run([sys.executable, "-m", "gateway.cli", "--db", str(db), "demo", "load"], cwd=ROOT,
                          capture_output=True, timeout=60).returncode == 0
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-m", "true"], capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
    read_only = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec \"$@\""
    line = refused_at_start([unshare, "-m", "sh", "-c", read_only, "sh", *serve_command(db, free_port())])
    assert line["event"] == "store_refused" and str(db) in line["problem"], line
    assert "read-only" in line["problem"], line

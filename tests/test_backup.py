"""The monthly backup: made from a month of traffic, verified, refused when altered, loaded for audit."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from gateway.county.backup import (
    ArchiveRefused,
    archive_name,
    collect,
    load_archive,
    manifest_of,
    verify_archive,
    write_archive,
)
from gateway.county.backup_schedule import BackupSchedule, due_month, previous_month
from gateway.county.period import Period, month
from gateway.county.records import AuditQuery
from gateway.county.reports import annex5_of
from gateway.store.sqlite import SqliteStore
from tests.processes import start_serve
from tests.support import Served
from tests.test_annex5 import month_of_traffic


def hisgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, timeout=60)


async def march_archive(served: Served, folder: Path) -> Path:
    await month_of_traffic(served)  # settlements and reversals in March, one of each in April
    members = await served.gateway.run(lambda: collect(served.gateway.deps.store, "2026-03"))
    path = folder / archive_name("2026-03")
    write_archive(path, manifest_of("2026-03", members, datetime(2026, 4, 1, 1, 0)), members)
    return path


async def test_an_archive_loads_into_an_empty_gateway_with_the_same_figures(served: Served, tmp_path: Path) -> None:
    path = await march_archive(served, tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600  # names and ID numbers in clear: the owner's only
    done = hisgw("backup", "verify", str(path))
    assert done.returncode == 0 and "complete and unaltered" in done.stdout, done.stderr

    copy = tmp_path / "audit.sqlite"
    done = hisgw("--db", str(copy), "backup", "load", str(path))
    assert done.returncode == 0, done.stderr
    quarter = Period(month("2026-01").since, month("2026-03").until)
    original = await served.gateway.run(lambda: annex5_of(served.gateway.deps.store, quarter))
    audit = SqliteStore(copy)
    try:
        assert annex5_of(audit, quarter) == original
        assert annex5_of(audit, month("2026-03")) == await served.gateway.run(
            lambda: annex5_of(served.gateway.deps.store, month("2026-03")))
        # April is not in the archive: the March settlement reversed in April is valid in it, as it was then.
        assert annex5_of(audit, month("2026-04")).total.in_county.persons == 0
        # the load is a write like any other: on the copy's audit trail, by the host account that ran it
        [loaded] = audit.audit_search(AuditQuery(action="backup.load"))
        assert (loaded.role, loaded.subject, loaded.operator) == ("host", "backup:2026-03", getpass.getuser())
        assert loaded.after["archive"] == path.name
        assert loaded.after["rows"]["settlements.jsonl"] == annex_rows(path, "settlements.jsonl")
    finally:
        audit.close()
    # Accumulators were recomputed from the archived settlements: the ledger check agrees with them.
    done = hisgw("--db", str(copy), "verify")
    assert done.returncode == 0, done.stdout + done.stderr

    # A second load into the same, now full, database is refused.
    done = hisgw("--db", str(copy), "backup", "load", str(path))
    assert done.returncode == 1 and "not empty" in done.stderr


def annex_rows(path: Path, member: str) -> int:
    """Lines of one member of the archive, read with zipfile."""
    with zipfile.ZipFile(path) as archive:
        return len(archive.read(member).splitlines())


def rewrite(path: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """A copy of the archive with members replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            if name not in change:
                out.writestr(name, source.read(name))
        for name, data in change.items():
            if data is not None:
                out.writestr(name, data)


async def test_an_altered_or_incomplete_archive_is_named_and_refused(served: Served, tmp_path: Path) -> None:
    path = await march_archive(served, tmp_path)
    with zipfile.ZipFile(path) as archive:
        settlements = archive.read("settlements.jsonl")
        manifest = json.loads(archive.read("manifest.json"))
    first = json.loads(settlements.splitlines()[0])
    first["figures"]["payments"][0][2] = "1.00"  # one fund's amount changed
    forged = json.dumps(first, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    # The forger also rewrites the manifest's checksum: the totals still give it away.
    manifest["members"]["settlements.jsonl"]["sha256"] = hashlib.sha256(
        forged + b"".join(line + b"\n" for line in settlements.splitlines()[1:])).hexdigest()
    cases = {
        "altered.zip": ({"settlements.jsonl": forged + settlements.split(b"\n", 1)[1]}, "SHA-256 differs"),
        "forged.zip": ({"settlements.jsonl": forged + settlements.split(b"\n", 1)[1],
                        "manifest.json": json.dumps(manifest).encode()}, "settlement totals"),
        "short.zip": ({"persons.jsonl": None}, "persons.jsonl: listed in the manifest but missing"),
        "extra.zip": ({"notes.txt": b"x\n"}, "notes.txt: not listed"),
    }
    for name, (change, said) in cases.items():
        rewrite(path, tmp_path / name, change)
        verified = verify_archive(tmp_path / name)
        assert not verified.ok and any(said in problem for problem in verified.problems), (name, verified.problems)
        empty = SqliteStore(tmp_path / f"{name}.sqlite")
        try:
            with pytest.raises(ArchiveRefused):
                load_archive(empty, verified)
            assert empty.counts()["settlements"] == 0
        finally:
            empty.close()
    done = hisgw("backup", "verify", str(tmp_path / "forged.zip"))  # the command says the same, exit 1
    assert done.returncode == 1 and "settlement totals" in done.stderr


def test_when_the_backup_is_due() -> None:
    folder = Path("/nonexistent-backups")
    assert due_month(datetime(2026, 6, 1, 0, 59), 1, folder) is None
    assert due_month(datetime(2026, 6, 1, 1, 0), 1, folder) == "2026-05"
    assert due_month(datetime(2026, 1, 3, 12, 0), 1, folder) == "2025-12"  # still missing on the 3rd: make it


async def test_the_schedule_retries_until_it_succeeds(served: Served, tmp_path: Path) -> None:
    blocked = tmp_path / "backups"
    blocked.write_text("a file where the folder should be")
    schedule = BackupSchedule(served.gateway, blocked, hour=0, retry_seconds=0.05)
    task = asyncio.create_task(schedule.run())
    try:
        for _ in range(100):
            if schedule.status.ok is False and schedule.status.attempts >= 2:
                break
            await asyncio.sleep(0.02)
        assert schedule.status.ok is False and schedule.status.attempts >= 2, schedule.status
        blocked.unlink()
        for _ in range(200):
            if schedule.status.ok:
                break
            await asyncio.sleep(0.02)
        assert schedule.status.ok, schedule.status
    finally:
        task.cancel()
    made = blocked / archive_name(previous_month(datetime.now()))
    assert made.is_file()
    # The audit trail names the schedule, the month and the archive's checksum, computed here from the file.
    trail = served.gateway.deps.store.audit_search(AuditQuery(action="backup.make"))
    assert [(e.operator, e.role, e.subject) for e in trail] == [
        ("hisgw-schedule", "host", f"backup:{previous_month(datetime.now())}")]
    assert trail[0].after["sha256"] == hashlib.sha256(made.read_bytes()).hexdigest()


async def test_serve_keeps_the_backup_and_health_says_so(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path / "hisgw.sqlite", tmp_path / "serve.log")
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 15
            backup: dict[str, object] = {}
            while time.monotonic() < deadline:
                async with session.get(f"{url}/health") as response:
                    backup = (await response.json())["backup"]
                if backup["ok"] is not None:
                    break
                await asyncio.sleep(0.1)
        now = datetime.now()
        if now.day == 1 and now.hour < 1:
            assert backup["ok"] is None  # not due before 01:00 on the 1st
            return
        assert backup["ok"] is True, backup
        assert Path(str(backup["path"])).parent == tmp_path / "backups"
        assert hisgw("backup", "verify", str(backup["path"])).returncode == 0
    finally:
        process.terminate()
        process.wait(timeout=10)

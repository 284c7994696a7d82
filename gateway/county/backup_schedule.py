"""The gateway keeps the monthly backup itself: from the 1st of a month at `hour`, last month's archive is made
if the folder lacks it, and a failure is tried again every `retry_seconds` until it succeeds. Each result is a
log line and what /health says under "backup"."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from gateway.county.audit import record_host_command
from gateway.county.backup import archive_name, backup_record, collect, manifest_of, write_archive
from gateway.runtime import Gateway

log = structlog.get_logger("hisgw.backup")
CHECK_SECONDS = 60.0
SCHEDULE = "hisgw-schedule"  # the audit trail's operator for the gateway's own monthly backup


def previous_month(now: datetime) -> str:
    return f"{(now.replace(day=1) - timedelta(days=1)):%Y-%m}"


def due_month(now: datetime, hour: int, folder: Path) -> str | None:
    """Last month, once this month's 1st at `hour` has passed and its archive is not in the folder."""
    if now < now.replace(day=1, hour=hour, minute=0, second=0, microsecond=0):
        return None
    wanted = previous_month(now)
    return None if (folder / archive_name(wanted)).exists() else wanted


@dataclass
class BackupStatus:
    month: str = ""
    ok: bool | None = None  # None: nothing tried since the gateway started
    path: str = ""
    at: str = ""
    error: str = ""
    attempts: int = 0

    def document(self) -> dict[str, Any]:
        return {"month": self.month, "ok": self.ok, "path": self.path, "at": self.at, "error": self.error,
                "attempts": self.attempts}


class BackupSchedule:
    def __init__(self, gateway: Gateway, folder: Path, *, hour: int = 1, retry_seconds: float = 1800.0) -> None:
        self.gateway = gateway
        self.folder = folder
        self.hour = hour
        self.retry_seconds = retry_seconds
        self.status = BackupStatus()

    async def make(self, month_text: str) -> None:
        now = self.gateway.deps.now()
        self.status.month, self.status.attempts = month_text, self.status.attempts + 1
        try:
            # Read on the store's thread; compress and write off it, so settlements wait only for the read.
            members = await self.gateway.run(lambda: collect(self.gateway.deps.store, month_text))
            manifest = manifest_of(month_text, members, now)
            path = self.folder / archive_name(month_text)
            await asyncio.to_thread(write_archive, path, manifest, members)
            made = await asyncio.to_thread(backup_record, path, manifest)
            await self.gateway.run(lambda: record_host_command(self.gateway.deps.store, "backup.make",
                                                               f"backup:{month_text}", made, SCHEDULE, now))
        except Exception as exc:  # any failure is reported and tried again later
            self.status.ok, self.status.error, self.status.at = False, f"{type(exc).__name__}: {exc}", f"{now}"
            log.error("backup_failed", month=month_text, folder=str(self.folder), problem=self.status.error,
                      retry_in_s=self.retry_seconds)
            return
        self.status.ok, self.status.error, self.status.path, self.status.at = True, "", str(path), f"{now}"
        log.info("backup_made", month=month_text, path=str(path), settlements=manifest["totals"]["settlements"],
                 persons=manifest["members"]["persons.jsonl"]["rows"])

    async def run(self) -> None:
        while True:
            wanted = due_month(self.gateway.deps.now(), self.hour, self.folder)
            if wanted is not None:
                await self.make(wanted)
                if self.status.ok is False:
                    await asyncio.sleep(self.retry_seconds)
                    continue
            await asyncio.sleep(CHECK_SECONDS)

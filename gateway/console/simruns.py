"""Simulator runs started from the console: `hisgw simulate` in a process of its own, one at a time, each in a
folder of its own under the runs folder (kept: earlier runs stay listed with their HTML report).

A run's folder holds run.json (who started it, when, the target and dialects, its state and exit status),
progress.jsonl (`hisgw simulate --progress`: the total of steps, then a line per scenario), output.log (what
the command printed) and report.html. The target is the simulator's own in-process gateway with the demo county
(the default: nothing touches this gateway's ledger) or a test gateway's URL the operator names; the console
never offers the gateway it runs in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RUN_ID = re.compile(r"^\d{8}-\d{6}-\d{1,4}$")
MAX_KEPT = 200  # runs listed (newest first); older folders stay on disk
TIMEOUT = 1800.0  # s: a run still going after this is stopped
FILTER = re.compile(r"^[0-9A-Za-z_.-]{0,40}$")


class RunRefused(ValueError):
    pass


@dataclass
class RunInfo:
    id: str
    started_at: str
    started_by: str
    target: str  # "" = the simulator's in-process gateway
    dialects: list[str]
    only: str
    state: str = "running"  # running | passed | failed | error
    exit_code: int | None = None
    finished_at: str = ""


class Runs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._task: asyncio.Task[None] | None = None
        self._serial = 0

    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, *, by: str, dialects: list[str], known: set[str], target: str, only: str,
              own_url: str) -> RunInfo:
        """A new run, or RunRefused saying why (one at a time; known dialects; a test target only)."""
        if self.busy():
            raise RunRefused("已有一个模拟联调在运行，请等它结束")
        if not dialects or not set(dialects) <= known:
            raise RunRefused(f"请选择方言（可用：{', '.join(sorted(known))}）")
        if target and not re.match(r"^https?://[0-9A-Za-z.\-\[\]:]+/?$", target):
            raise RunRefused("目标网关应为 http(s)://主机:端口")
        if target and target.rstrip("/") == own_url.rstrip("/"):
            raise RunRefused("不能对本网关（生产）运行模拟联调：请选择内置测试网关或另一测试网关")
        if not FILTER.match(only):
            raise RunRefused("场景筛选只能含字母、数字、- _ .")
        self._serial += 1
        now = datetime.now()
        info = RunInfo(id=f"{now:%Y%m%d-%H%M%S}-{self._serial}", started_at=now.isoformat(sep=" ", timespec="seconds"),
                       started_by=by, target=target, dialects=dialects, only=only)
        folder = self.folder / info.id
        folder.mkdir(parents=True)
        self._write(info)
        self._task = asyncio.get_running_loop().create_task(self._run(info, folder))
        return info

    async def _run(self, info: RunInfo, folder: Path) -> None:
        command = [sys.executable, "-m", "gateway.cli", "simulate", "--quiet", "--progress",
                   str(folder / "progress.jsonl"), "--html", str(folder / "report.html")]
        for dialect in info.dialects:
            command += ["--dialect", dialect]
        if info.target:
            command += ["--gateway", info.target]
        if info.only:
            command += ["-k", info.only]
        try:
            with (folder / "output.log").open("wb") as out:
                process = await asyncio.create_subprocess_exec(*command, stdout=out, stderr=asyncio.subprocess.STDOUT,
                                                               stdin=asyncio.subprocess.DEVNULL)
                try:
                    code = await asyncio.wait_for(process.wait(), TIMEOUT)
                except (TimeoutError, asyncio.CancelledError):
                    process.kill()
                    await process.wait()
                    raise
        except (TimeoutError, OSError):
            info.state, info.exit_code = "error", None
        except asyncio.CancelledError:
            info.state = "error"
            raise
        else:
            info.exit_code = code
            info.state = {0: "passed", 1: "failed"}.get(code, "error")
        finally:
            info.finished_at = datetime.now().isoformat(sep=" ", timespec="seconds")
            self._write(info)

    def _write(self, info: RunInfo) -> None:
        path = self.folder / info.id / "run.json"
        path.write_text(json.dumps(asdict(info), ensure_ascii=False), encoding="utf-8")

    def get(self, run_id: str) -> RunInfo | None:
        if not RUN_ID.match(run_id):
            return None
        path = self.folder / run_id / "run.json"
        try:
            return RunInfo(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def listing(self) -> list[RunInfo]:
        if not self.folder.is_dir():
            return []
        names = sorted((p.name for p in self.folder.iterdir() if RUN_ID.match(p.name)), reverse=True)
        return [info for name in names[:MAX_KEPT] if (info := self.get(name)) is not None]

    def progress(self, run_id: str) -> dict[str, Any]:
        """{total, done, scenarios: [...last lines], tail: the output's last lines}."""
        folder = self.folder / run_id
        total = done = 0
        scenarios: list[dict[str, Any]] = []
        try:
            lines = (folder / "progress.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line being written
            total = int(entry.get("total", total))
            if "scenario" in entry:
                done = int(entry["done"])
                scenarios.append(entry)
        try:
            tail = (folder / "output.log").read_bytes()[-4000:].decode("utf-8", errors="replace")
        except OSError:
            tail = ""
        return {"total": total, "done": done, "scenarios": scenarios, "tail": tail,
                "report": (folder / "report.html").is_file()}

    def report(self, run_id: str) -> Path | None:
        path = self.folder / run_id / "report.html"
        return path if RUN_ID.match(run_id) and path.is_file() else None

    async def close(self) -> None:
        if self.busy():
            assert self._task is not None
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

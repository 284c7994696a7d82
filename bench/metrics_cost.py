"""What serving /metrics costs the settlement path: `make bench`'s 2304 row with and without a Prometheus
scrape every second, each twice, interleaved, against a fresh copy of the same prepared database.

    .venv/bin/python -m bench.metrics_cost              # about 1 minute
    .venv/bin/python -m bench.metrics_cost --base main  # also the gateway of a git ref without the metrics hooks

Same set-up as bench/run.py: the gateway pinned to core 0, the load generator (32 keep-alive clients, 2 s
warm-up, 8 s measured) and the scraper on core 1, every answer checked. The run-to-run noise is the spread of
each mode's two runs; the verdict compares the modes' difference of means with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
from prometheus_client import generate_latest

from bench.httpload import LoadResult, run_load
from bench.prepare import prepare_stays
from bench.run import LOAD_CORE, PATH, ROOT, free_port, ok_answer, server, settle_body
from gateway.journal.model import Exchange
from gateway.metrics import Metrics
from gateway.runtime import Outcome

CONCURRENCY = 32
NONE, SCRAPE = "no scrape", "scrape every 1 s"


@dataclass
class Run:
    mode: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    scrapes: int
    scrape_ms: float  # mean time of one scrape, seen by the scraper
    scrape_bytes: int
    cpu_ms: float  # the gateway's CPU time (all its threads) per measured settlement: robust to a busy machine


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, every thread included (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def scraped_load(port: int, pid: int, bodies: list[bytes], seconds: float, warmup: float, scrape: bool
                       ) -> tuple[LoadResult, list[float], int, float]:
    pending = iter(bodies)
    cpu: list[float] = []

    async def cpu_meter() -> None:  # the gateway's CPU over the measured window only
        await asyncio.sleep(warmup)
        cpu.append(cpu_seconds(pid))
        await done.wait()
        cpu.append(cpu_seconds(pid))

    done = asyncio.Event()
    times: list[float] = []
    size = 0

    async def scraper() -> None:
        nonlocal size
        async with aiohttp.ClientSession() as session:
            while not done.is_set():
                started = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    text = await response.read()
                    assert response.status == 200 and b"hisgw_requests_total" in text, response.status
                times.append(time.perf_counter() - started)
                size = len(text)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 1.0)

    async def load() -> LoadResult:
        try:
            return await run_load("127.0.0.1", port, PATH, lambda _n: next(pending, None), concurrency=CONCURRENCY,
                                  seconds=seconds, warmup=warmup, ok=ok_answer)
        finally:
            done.set()

    beside = [asyncio.ensure_future(cpu_meter()), *([asyncio.ensure_future(scraper())] if scrape else [])]
    result = await load()
    await asyncio.gather(*beside)
    return result, times, size, cpu[1] - cpu[0]


def one_run(mode: str, code: Path, prepared: Path, work: Path, bodies: list[bytes], seconds: float,
            warmup: float) -> Run:
    db = work / f"run-{time.monotonic_ns()}.sqlite"
    shutil.copy(prepared, db)
    port = free_port()
    # env -C: the gateway runs from `code`'s tree (its mappings/, its gateway package first on the path)
    command = ["env", "-C", str(code), f"PYTHONPATH={code}", sys.executable, "-m", "gateway.cli", "--db", str(db),
               "serve", "--port", str(port), "--dll-port", str(free_port()), "--hl7-port", str(free_port()),
               "--log-format", "json"]
    with server(command, port, work / "servers.log") as process:
        result, times, size, cpu = asyncio.run(scraped_load(port, process.pid, bodies, seconds, warmup,
                                                            scrape=mode == SCRAPE))
    db.unlink()
    assert not result.exhausted, "prepare more stays"
    return Run(mode, result.rate, result.percentile(0.5) * 1000, result.percentile(0.99) * 1000, result.errors,
               len(times), sum(times) / len(times) * 1000 if times else 0.0, size,
               cpu / len(result.latencies) * 1000 if result.latencies else float("nan"))


def connection(metrics: Metrics) -> None:
    metrics.opened("http")
    metrics.closed("http")


def hook_costs(count: int = 100_000) -> dict[str, float]:
    """CPU time of what a settlement adds to the gateway's work (µs) and of one scrape (ms), in this process:
    the part of the comparison above that a busy machine cannot blur."""
    metrics = Metrics()
    exchange = Exchange(dialect="nhsa-http", transport="http", encoding="utf-8", trade="2304", infno="2304",
                        fixmedins_code="H1", msgid="M1", request=b"", received_at=datetime.now())
    settled = Outcome(b"", replayed=False)
    costs: dict[str, float] = {}
    works: list[tuple[str, Callable[[], None]]] = [
        ("exchange µs", lambda: metrics.exchange(exchange, settled, 0.004)),
        ("connection open+close µs", lambda: connection(metrics)),
        ("batch of 16, per call µs", lambda: metrics.batch_committed(16, True, 0.001, ["ok"] * 16))]
    for name, work in works:
        started = time.process_time()
        for _ in range(count):
            work()
        costs[name] = (time.process_time() - started) / count * 1e6
    costs["batch of 16, per call µs"] /= 16
    started = time.process_time()
    for _ in range(200):
        generate_latest(metrics.registry)
    costs["scrape ms"] = (time.process_time() - started) / 200 * 1000
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the 2304 row with and without a /metrics scrape every second")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode (interleaved)")
    parser.add_argument("--stays", type=int, help="stays to prepare (default: enough for 3,000 req/s)")
    parser.add_argument("--base", help="a git ref: also run its gateway (e.g. main, before the metrics)")
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        modes: dict[str, Path] = {NONE: ROOT, SCRAPE: ROOT}
        if args.base:
            base = work / "base"
            base.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            modes = {f"{args.base}, no metrics code": base, **modes}
        stays = args.stays or int(3000 * (args.seconds + args.warmup))  # above one run (≈ 2,000/s when quiet)
        print(f"preparing {stays:,} stays of 10 lines…", flush=True)
        prepared = work / "prepared.sqlite"
        bodies = [settle_body(stay, n) for n, stay in enumerate(prepare_stays(prepared, stays, 10), start=1)]
        runs: list[Run] = []
        for round_ in range(args.rounds):
            order = list(modes.items()) if round_ % 2 == 0 else list(reversed(modes.items()))  # drift cancels
            for mode, code in order:
                run = one_run(mode, code, prepared, work, bodies, args.seconds, args.warmup)
                runs.append(run)
                print(f"round {round_ + 1} {mode:28} {run.rate:8,.0f} req/s  p50 {run.p50_ms:5.2f} ms  "
                      f"p99 {run.p99_ms:5.2f} ms  {run.cpu_ms:.3f} CPU ms/settlement  {run.errors} bad  "
                      f"{run.scrapes} scrapes ({run.scrape_ms:.1f} ms, {run.scrape_bytes:,} B)", flush=True)
    print_summary(runs)
    costs = hook_costs()
    print("\nin-process CPU: " + ", ".join(f"{name} {value:.2f}" for name, value in costs.items()))
    return 0


def print_summary(runs: list[Run]) -> None:
    modes = list(dict.fromkeys(run.mode for run in runs))
    figures_of: list[tuple[str, str, Callable[[Run], float]]] = [
        ("throughput", "req/s", lambda run: run.rate), ("gateway CPU per settlement", "ms", lambda run: run.cpu_ms)]
    for title, unit, value in figures_of:
        print(f"\nHTTP 2304 settlement, 10 lines, durable: {title} ({unit})")
        means: dict[str, float] = {}
        noise: dict[str, float] = {}
        for mode in modes:
            figures = [value(run) for run in runs if run.mode == mode]
            means[mode] = sum(figures) / len(figures)
            noise[mode] = max(figures) - min(figures)
            print(f"  {mode:28} runs {' / '.join(f'{f:,.3g}' for f in figures):24} mean {means[mode]:,.4g}  "
                  f"noise {noise[mode]:,.3g} ({noise[mode] / means[mode]:.1%})")
        off, on = means[NONE], means[SCRAPE]
        spread = max(noise[NONE], noise[SCRAPE])
        verdict = "less than" if abs(on - off) < spread else "NOT less than"
        print(f"  scrape every 1 s vs none: {on - off:+,.3g} {unit} ({(on - off) / off:+.1%}), {verdict} the "
              f"run-to-run noise of {spread:,.3g} {unit} ({spread / off:.1%}: the larger spread of a mode's runs)")
    p99 = {mode: [f"{run.p99_ms:.1f}" for run in runs if run.mode == mode] for mode in modes}
    print("\np99 ms: " + "; ".join(f"{mode} {' / '.join(values)}" for mode, values in p99.items()))


if __name__ == "__main__":
    sys.exit(main())

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
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.httpload import LoadResult, run_load
from bench.prepare import prepare_stays
from bench.run import LOAD_CORE, PATH, ROOT, free_port, ok_answer, server, settle_body

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


async def scraped_load(port: int, bodies: list[bytes], seconds: float, warmup: float, scrape: bool
                       ) -> tuple[LoadResult, list[float], int]:
    pending = iter(bodies)
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

    if scrape:
        result, _ = await asyncio.gather(load(), scraper())
    else:
        result = await load()
    return result, times, size


def one_run(mode: str, code: Path, prepared: Path, work: Path, bodies: list[bytes], seconds: float,
            warmup: float) -> Run:
    db = work / f"run-{time.monotonic_ns()}.sqlite"
    shutil.copy(prepared, db)
    port = free_port()
    # env -C: the gateway runs from `code`'s tree (its mappings/, its gateway package first on the path)
    command = ["env", "-C", str(code), f"PYTHONPATH={code}", sys.executable, "-m", "gateway.cli", "--db", str(db),
               "serve", "--port", str(port), "--dll-port", str(free_port()), "--hl7-port", str(free_port()),
               "--log-format", "json"]
    with server(command, port, work / "servers.log"):
        result, times, size = asyncio.run(scraped_load(port, bodies, seconds, warmup, scrape=mode == SCRAPE))
    db.unlink()
    assert not result.exhausted, "prepare more stays"
    return Run(mode, result.rate, result.percentile(0.5) * 1000, result.percentile(0.99) * 1000, result.errors,
               len(times), sum(times) / len(times) * 1000 if times else 0.0, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the 2304 row with and without a /metrics scrape every second")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode (interleaved)")
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
        stays = int(3000 * (args.seconds + args.warmup))  # well above what one run settles (≈ 2,000/s)
        print(f"preparing {stays:,} stays of 10 lines…", flush=True)
        prepared = work / "prepared.sqlite"
        bodies = [settle_body(stay, n) for n, stay in enumerate(prepare_stays(prepared, stays, 10), start=1)]
        runs: list[Run] = []
        for round_ in range(args.rounds):
            for mode, code in modes.items():
                run = one_run(mode, code, prepared, work, bodies, args.seconds, args.warmup)
                runs.append(run)
                print(f"round {round_ + 1} {mode:28} {run.rate:8,.0f} req/s  p50 {run.p50_ms:5.2f} ms  "
                      f"p99 {run.p99_ms:5.2f} ms  {run.errors} bad  {run.scrapes} scrapes "
                      f"({run.scrape_ms:.1f} ms, {run.scrape_bytes:,} B)", flush=True)
    print_summary(runs)
    return 0


def print_summary(runs: list[Run]) -> None:
    print(f"\n{'HTTP 2304 settlement, 10 lines, durable':40} {'runs (req/s)':>22} {'mean':>8} {'noise':>7} "
          f"{'p99 ms':>14}")
    means: dict[str, float] = {}
    noise: dict[str, float] = {}
    for mode in dict.fromkeys(run.mode for run in runs):
        rates = [run.rate for run in runs if run.mode == mode]
        p99s = [run.p99_ms for run in runs if run.mode == mode]
        means[mode] = sum(rates) / len(rates)
        noise[mode] = max(rates) - min(rates)
        print(f"{mode:40} {' / '.join(f'{r:,.0f}' for r in rates):>22} {means[mode]:8,.0f} "
              f"{noise[mode] / means[mode]:6.1%} {' / '.join(f'{p:.1f}' for p in p99s):>14}")
    off, on = means[NONE], means[SCRAPE]
    spread = max(noise[NONE], noise[SCRAPE])
    verdict = "less than" if abs(on - off) < spread else "NOT less than"
    print(f"\nscrape every 1 s vs none: {on - off:+,.0f} req/s ({(on - off) / off:+.1%}), {verdict} the run-to-run "
          f"noise of {spread:,.0f} req/s ({spread / off:.1%}; the larger spread of a mode's runs)")


if __name__ == "__main__":
    sys.exit(main())

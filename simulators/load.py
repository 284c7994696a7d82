"""Load mode: N virtual HIS play the pack's journeys at once, for a fixed time or a fixed number of journeys.

Bounded (exactly N journeys in flight, no queue behind them) and self-stopping: no journey starts after the
time is up or the count is reached, the ones under way finish, and any still running after a grace period are
cancelled and reported. Every answer is checked exactly as in a pack run; the result is throughput, p50/p95/p99
per transaction type, and every incorrect answer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from simulators.runner import FAIL, NOT_APPLICABLE, PASS, SKIP, Runner, ScenarioResult, not_applicable
from simulators.scenario import TRANSACTIONS, Scenario

GRACE_SECONDS = 30.0


@dataclass
class Incorrect:
    dialect: str
    scenario: str
    step: str
    problem: str


@dataclass
class LoadStats:
    his: int
    latencies: dict[str, list[float]] = field(default_factory=dict)  # infno → seconds of each call
    errors: dict[str, int] = field(default_factory=dict)  # infno → calls whose answer was wrong
    by_dialect: dict[str, list[float]] = field(default_factory=dict)  # dialect → seconds of each call
    dialect_errors: dict[str, int] = field(default_factory=dict)  # dialect → calls whose answer was wrong
    dialect_journeys: dict[str, int] = field(default_factory=dict)
    incorrect: list[Incorrect] = field(default_factory=list)
    journeys: int = 0
    failed_journeys: int = 0
    cut_off: int = 0  # still running when the grace period ended
    seconds: float = 0.0

    def add(self, result: ScenarioResult) -> None:
        self.journeys += 1
        self.dialect_journeys[result.dialect] = self.dialect_journeys.get(result.dialect, 0) + 1
        if result.status != PASS:
            self.failed_journeys += 1
            if not result.steps and result.reason:
                self.incorrect.append(Incorrect(result.dialect, result.scenario.name, "-", result.reason))
        for step in result.steps:
            if step.status == SKIP or step.exchange is None:
                if step.status == FAIL or step.status == "blocked":
                    self.incorrect.append(Incorrect(result.dialect, result.scenario.name, step.step.title,
                                                    "; ".join(step.problems) or step.reason))
                continue
            key = step.step.infno
            self.latencies.setdefault(key, []).append(step.exchange.seconds)
            self.by_dialect.setdefault(result.dialect, []).append(step.exchange.seconds)
            if step.status == FAIL:
                self.errors[key] = self.errors.get(key, 0) + 1
                self.dialect_errors[result.dialect] = self.dialect_errors.get(result.dialect, 0) + 1
                self.incorrect.append(Incorrect(result.dialect, result.scenario.name,
                                                f"step {step.step.number} {step.step.title}",
                                                "; ".join(step.problems)))

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def wrong_answers(self) -> int:
        return sum(self.errors.values())


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 1))))
    return ordered[rank - 1]


Progress = Callable[[LoadStats, float], None]


async def run_load(runners: Sequence[Runner], scenarios: Sequence[Scenario], *, his: int,
                   duration: float | None = None, count: int | None = None, on_progress: Progress | None = None,
                   grace: float = GRACE_SECONDS) -> LoadStats:
    """`his` virtual HIS, each playing journeys one after another (round robin over the pack and the dialects)."""
    if duration is None and count is None:
        raise ValueError("load mode needs a duration or a count")
    # scenario-major, so every dialect plays from the first journeys on, however large the pack
    work = [(runner, scenario) for scenario in scenarios for runner in runners
            if not not_applicable(scenario, runner.driver)]
    if not work:
        raise ValueError("no scenario of the pack can be played through the chosen dialects")
    stats = LoadStats(his=his)
    started = time.perf_counter()
    deadline = started + duration if duration is not None else float("inf")
    tickets = itertools.count()

    def next_work() -> tuple[Runner, Scenario] | None:
        if time.perf_counter() >= deadline:
            return None
        number = next(tickets)
        if count is not None and number >= count:
            return None
        return work[number % len(work)]

    async def virtual_his() -> None:
        while (item := next_work()) is not None:
            runner, scenario = item
            result = await runner.play(scenario)
            if result.status != NOT_APPLICABLE:
                stats.add(result)

    tasks = [asyncio.create_task(virtual_his()) for _ in range(his)]
    reporter = asyncio.create_task(_report(stats, started, on_progress)) if on_progress else None
    limit = (duration + grace) if duration is not None else None
    done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    stats.cut_off = len(pending)
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a bug in the simulator itself surfaces here
    stats.seconds = time.perf_counter() - started
    if reporter is not None:
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
    return stats


async def _report(stats: LoadStats, started: float, on_progress: Progress) -> None:
    while True:
        await asyncio.sleep(0.5)
        on_progress(stats, time.perf_counter() - started)


def rows(stats: LoadStats) -> list[tuple[str, int, float, float, float, float, float, int]]:
    """(transaction, calls, per second, p50 ms, p95 ms, p99 ms, max ms, wrong answers) per transaction type."""
    result = []
    for infno in sorted(stats.latencies):
        values = stats.latencies[infno]
        result.append((f"{infno} {TRANSACTIONS[infno][1]}", len(values), len(values) / stats.seconds,
                       percentile(values, 0.50) * 1000, percentile(values, 0.95) * 1000,
                       percentile(values, 0.99) * 1000, max(values) * 1000, stats.errors.get(infno, 0)))
    return result


def dialect_rows(stats: LoadStats) -> list[tuple[str, int, int, float, float, float, float, float, int]]:
    """(dialect, journeys, calls, calls per second, p50 ms, p95 ms, p99 ms, max ms, wrong answers) per dialect."""
    result = []
    for dialect in sorted(stats.by_dialect):
        values = stats.by_dialect[dialect]
        result.append((dialect, stats.dialect_journeys.get(dialect, 0), len(values), len(values) / stats.seconds,
                       percentile(values, 0.50) * 1000, percentile(values, 0.95) * 1000,
                       percentile(values, 0.99) * 1000, max(values) * 1000, stats.dialect_errors.get(dialect, 0)))
    return result

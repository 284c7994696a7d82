"""The terminal: a live progress bar while the pack plays, then a summary, the dialect matrix and every diff."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from simulators.runner import BLOCKED, ERROR, FAIL, NOT_APPLICABLE, PASS, SKIP, ScenarioResult, StepResult
from simulators.scenario import Scenario

MARK = {PASS: "[green]✓ pass[/]", FAIL: "[red]✗ FAIL[/]", NOT_APPLICABLE: "[dim]n/a[/]", ERROR: "[red]! error[/]"}
CELL = {PASS: "[green]✓[/]", FAIL: "[red]✗[/]", NOT_APPLICABLE: "[dim]n/a[/]", ERROR: "[red]![/]"}  # the matrix's


def scenario_number(scenario: Scenario) -> str:
    """The number its file name starts with (`02-attr-0002-level-1.yaml`), or ''."""
    number = scenario.path.name.split("-", 1)[0]
    return number if number.isdigit() else ""


def scenario_label(result: ScenarioResult) -> str:
    """`02 attr-0002-level-1`: the file's number and the scenario's name, so similar names stay apart."""
    number = scenario_number(result.scenario)
    return f"{number} {result.scenario.name}" if number else result.scenario.name


@dataclass
class LiveView:
    """Progress over every step to play; a line per scenario as it finishes."""

    console: Console
    progress: Progress
    task: TaskID

    def step(self, result: ScenarioResult, step: StepResult) -> None:
        self.progress.update(self.task, advance=1, description=f"{result.dialect} · {result.scenario.name} · "
                                                              f"{step.step.title}"[:90])

    def scenario(self, result: ScenarioResult) -> None:
        if result.status == NOT_APPLICABLE:
            return
        line = f"{MARK[result.status]} {result.dialect:<14} {result.scenario.name:<36} " \
               f"{len(result.steps):>3} steps {result.seconds * 1000:>7.0f} ms"
        self.progress.console.print(line)
        for failure in result.failures()[:3]:
            self.progress.console.print(f"    [red]{escape(failure)}[/]")


@contextmanager
def live_view(console: Console, total_steps: int) -> Iterator[LiveView]:
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    with progress:
        task = progress.add_task("starting", total=total_steps)
        yield LiveView(console, progress, task)


def _counts(result: ScenarioResult) -> str:
    passed = sum(1 for s in result.steps if s.status == PASS)
    failed = sum(1 for s in result.steps if s.status in (FAIL, BLOCKED))
    skipped = sum(1 for s in result.steps if s.status == SKIP)
    text = f"{passed}/{len(result.steps)}"
    if failed:
        text += f" [red]{failed} failed[/]"
    if skipped:
        text += f" [dim]{skipped} skipped[/]"
    return text


def summary(console: Console, results: Sequence[ScenarioResult], title: str = "hisgw simulate") -> None:
    dialects = list(dict.fromkeys(r.dialect for r in results))
    if len(dialects) > 1:
        # 80 columns: one-character cells under dialect names broken at their hyphen; a long label wraps
        matrix = Table(title=f"{title}: scenarios × dialects", show_lines=False, box=box.SIMPLE_HEAD,
                       padding=(0, 1), pad_edge=False, collapse_padding=True)
        matrix.add_column("scenario", overflow="fold", ratio=1)
        for dialect in dialects:
            matrix.add_column(dialect.replace("-", "\n", 1), justify="center", no_wrap=True)
        by_key = {(r.scenario.name, r.dialect): r for r in results}
        labels = {r.scenario.name: scenario_label(r) for r in results}
        for name in dict.fromkeys(r.scenario.name for r in results):
            matrix.add_row(labels[name], *(CELL[by_key[(name, d)].status] for d in dialects))
        matrix.add_row("[bold]passed[/]", *(_dialect_total(results, d) for d in dialects))
        console.print(matrix)
    else:
        table = Table(title=f"{title}: {dialects[0] if dialects else ''}")
        for column in ("scenario", "result", "steps", "ms", "title"):
            table.add_column(column, justify="right" if column in ("steps", "ms") else "left")
        for result in results:
            table.add_row(result.scenario.name, MARK[result.status], _counts(result),
                          f"{result.seconds * 1000:.0f}", escape(result.scenario.title)[:60])
        console.print(table)
    for result in results:
        if result.status == NOT_APPLICABLE:
            continue
        failures = result.failures()
        if failures:
            console.print(f"[red bold]✗ {result.dialect} · {result.scenario.name}[/] ({result.scenario.path})")
            for failure in failures:
                console.print(f"    {escape(failure)}")
    not_played = [r for r in results if r.status == NOT_APPLICABLE]
    for result in not_played:
        console.print(f"[dim]n/a {result.dialect} · {result.scenario.name}: {escape(result.reason)}[/]")
    for dialect, lines in not_carried(results).items():
        console.print(f"[dim]{dialect}: figures its answers have no place for (not compared)[/]")
        for line in lines:
            console.print(f"[dim]    {escape(line)}[/]")
    for dialect, lines in own_refusals(results).items():
        console.print(f"[dim]{dialect}: malformed requests it refuses its own way (checked so)[/]")
        for line in lines:
            console.print(f"[dim]    {escape(line)}[/]")
    console.print(totals_line(results))


def _dialect_total(results: Sequence[ScenarioResult], dialect: str) -> str:
    mine = [r for r in results if r.dialect == dialect and r.status != NOT_APPLICABLE]
    passed = sum(1 for r in mine if r.status == PASS)
    colour = "green" if passed == len(mine) else "red"
    return f"[{colour}]{passed}/{len(mine)}[/]"


def not_carried(results: Sequence[ScenarioResult]) -> dict[str, list[str]]:
    """Per dialect, the figures its answers have no place for (a property of the dialect, not a failure), as
    lines `2303/2304: act_pay_dedc, 310100, …`."""
    found: dict[str, dict[str, dict[str, None]]] = {}
    for result in results:
        for step in result.steps:
            for check in step.checks:
                if not check.carried:
                    words = check.name.split()
                    name = " ".join(words[:2]) if words[0] in ("line", "attribute") else words[0]
                    if words[0] == "line":
                        name = words[2]
                    found.setdefault(result.dialect, {}).setdefault(step.step.infno, {})[name] = None
    report: dict[str, list[str]] = {}
    for dialect, by_infno in found.items():
        grouped: dict[tuple[str, ...], list[str]] = {}
        for infno in sorted(by_infno):
            grouped.setdefault(tuple(sorted(by_infno[infno])), []).append(infno)
        report[dialect] = [f"{'/'.join(infnos)}: {', '.join(names)}" for names, infnos in grouped.items()]
    return report


def own_refusals(results: Sequence[ScenarioResult]) -> dict[str, list[str]]:
    """Per dialect, the malformations it answers with another error than the pack's, and why, as lines
    `encoding: Fault:Client, not HG1001 (a SOAP string argument is text: …)`."""
    found: dict[str, dict[str, str]] = {}
    for result in results:
        for step in result.steps:
            if step.refusal is not None:
                line = f"{step.refusal.error}, not {step.step.expect.error} ({step.refusal.why})"
                found.setdefault(result.dialect, {})[step.step.malformed] = line
    return {dialect: [f"{how}: {line}" for how, line in sorted(lines.items())] for dialect, lines in found.items()}


def totals_line(results: Sequence[ScenarioResult]) -> str:
    played = [r for r in results if r.status != NOT_APPLICABLE]
    passed = sum(1 for r in played if r.status == PASS)
    steps = sum(len(r.steps) for r in played)
    failed_steps = sum(1 for r in played for s in r.steps if s.status in (FAIL, BLOCKED))
    seconds = sum(s.seconds for r in played for s in r.steps)
    colour = "green" if passed == len(played) else "red"
    return (f"[{colour} bold]{passed}/{len(played)} scenario plays passed[/], {steps} steps "
            f"({failed_steps} failed), {len(results) - len(played)} not applicable, "
            f"{seconds:.2f} s in calls")

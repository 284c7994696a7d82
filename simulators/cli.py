"""`hisgw simulate`: play the scenario pack against a gateway as a HIS would, through a dialect's real transport.

    hisgw simulate --all-dialects                                   # a gateway in-process, every dialect
    hisgw simulate --gateway http://10.1.2.3:8080 --dll-port 8081 --dialect neusoft-dll --html report.html
    hisgw simulate --gateway http://10.1.2.3:8080 --hl7-port 2575 --dialect hl7v2 --dialect dhc-soap
    hisgw simulate --dialect nhsa-http --load 200 --duration 30     # load mode

Exit status: 0 when every played scenario passed, 1 when one failed (or a load run saw a wrong answer),
2 when the scenarios or the options are wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACK = Path(__file__).resolve().parent / "scenarios"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("the gateway")
    where.add_argument("--gateway", metavar="URL", help="the gateway's HTTP base URL (default: start one in-process "
                                                        "on 127.0.0.1 with the demo county)")
    where.add_argument("--dll-port", type=int, help="the gateway's DLL listener port, on the --gateway host")
    where.add_argument("--dll-lib", type=Path, help="libhisgw_dll.so to load (default build/, built if missing)")
    where.add_argument("--hl7-port", type=int, help="the gateway's MLLP (HL7 v2) listener port, on the --gateway host")
    where.add_argument("--gateway-mappings", type=Path,
                       help="in-process gateway: the mapping folder it serves (default: --mappings)")
    where.add_argument("--policy", type=Path, action="append", help="in-process gateway: policy file (repeat)")
    which = parser.add_argument_group("what to play")
    dialect = which.add_mutually_exclusive_group()
    dialect.add_argument("--dialect", action="append", help="the dialect the HIS speaks (repeat for several)")
    dialect.add_argument("--all-dialects", action="store_true", help="every dialect in --mappings")
    which.add_argument("--mappings", type=Path, default=ROOT / "mappings",
                       help="the dialect definitions the HIS side follows (default mappings/)")
    which.add_argument("--scenario", type=Path, action="append",
                       help=f"a scenario file or folder (repeat; default {PACK.relative_to(ROOT)})")
    which.add_argument("-k", dest="only", help="only scenarios whose name contains this")
    which.add_argument("--jobs", type=int, default=8, help="scenarios played at once (default 8)")
    report = parser.add_argument_group("reports")
    report.add_argument("--junit", type=Path, help="write JUnit XML here")
    report.add_argument("--html", type=Path, help="write the self-contained HTML report here")
    report.add_argument("--quiet", action="store_true", help="no live progress view")
    report.add_argument("--progress", type=Path, help="append progress here as JSON lines (the total, then one "
                                                      "line per scenario played), for the web console")
    housekeeping = parser.add_argument_group("housekeeping")
    housekeeping.add_argument("--list", action="store_true", help="list the scenarios and the dialects, then stop")
    housekeeping.add_argument("--clean", action="store_true",
                              help="remove the simulator's test persons, their stays, settlements and accumulators "
                                   "from the store named by hisgw --db/--config (the gateway's own file), then stop")
    load = parser.add_argument_group("load mode")
    load.add_argument("--load", type=int, metavar="N", help="N virtual HIS playing journeys at once")
    load.add_argument("--duration", type=float, metavar="S", help="for S seconds")
    load.add_argument("--count", type=int, metavar="C", help="or for C journeys in all")


def run(args: argparse.Namespace) -> int:
    from simulators.scenario import ScenarioError, load_scenarios

    if args.clean:
        return _clean(args)
    if not args.list and not args.dialect and not args.all_dialects:
        print("one of --dialect NAME or --all-dialects is needed (--list shows them)", file=sys.stderr)
        return 2
    if args.load is not None and (args.load < 1 or (args.duration is None and args.count is None)):
        print("--load N needs N ≥ 1 and --duration S or --count C", file=sys.stderr)
        return 2
    try:
        scenarios = load_scenarios(args.scenario or [PACK])
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.only:
        scenarios = [s for s in scenarios if args.only in s.name]
    if not scenarios:
        print("no scenarios to play", file=sys.stderr)
        return 2
    if args.list:
        return _list(args, scenarios)
    try:
        return asyncio.run(_main(args, scenarios))
    except _Usage as exc:
        print(exc, file=sys.stderr)
        return 2


class _Usage(Exception):
    pass


def _list(args: argparse.Namespace, scenarios: list[Any]) -> int:
    from gateway.mapping.registry import check_all
    from simulators.drivers import supported
    from simulators.report.console import scenario_number

    print(f"scenarios ({len(scenarios)}, -k NAME picks by name):")
    for scenario in scenarios:
        print(f"  {scenario_number(scenario):>2} {scenario.name:<30} {scenario.title}")
    dialects, errors = check_all(args.mappings)
    print(f"dialects ({len(dialects)} in {args.mappings}, --dialect NAME or --all-dialects):")
    for name, dialect in sorted(dialects.items()):
        driver = "" if supported(dialect) else "  (no simulator driver)"
        print(f"  {name:<14} {dialect.transport:<5} {dialect.encoding:<6} {len(dialect.trades):>2} trades{driver}")
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


def _clean(args: argparse.Namespace) -> int:

    from gateway.settings import Settings
    from gateway.store.base import StoreUnavailable
    from gateway.store.factory import open_store
    from simulators.people import TEST_PERSON_MARK, TEST_PERSON_PREFIX

    settings = Settings.from_file(args.config) if getattr(args, "config", None) else Settings()
    if getattr(args, "db", None):
        settings = settings.with_db(args.db)
    try:
        store = open_store(settings.db)
    except StoreUnavailable as exc:
        print(f"{exc} (hisgw --db FILE simulate --clean)", file=sys.stderr)
        return 2
    try:
        removed = store.remove_test_persons(TEST_PERSON_PREFIX, TEST_PERSON_MARK)
    finally:
        store.close()
    print(f"{settings.db}: removed " + ", ".join(f"{count} {table}" for table, count in removed.items()))
    return 0


async def _main(args: argparse.Namespace, scenarios: list[Any]) -> int:
    from gateway.log import configure_logging
    from gateway.mapping.registry import check_all
    from simulators.drivers import Target
    from simulators.inprocess import local_gateway

    dialects, errors = check_all(args.mappings)
    if errors:
        raise _Usage("the dialect definitions do not compile:\n" + "\n".join(map(str, errors)))
    if args.all_dialects:
        chosen = sorted(dialects)
    else:
        unknown = [name for name in args.dialect if name not in dialects]
        if unknown:
            raise _Usage(f"unknown dialect {', '.join(unknown)}; {args.mappings} has {', '.join(sorted(dialects))}")
        chosen = list(dict.fromkeys(args.dialect))
    if args.gateway:
        target = Target(args.gateway, args.dll_port, args.dll_lib, args.hl7_port)
        return await _play(args, scenarios, [dialects[n] for n in chosen], target)
    configure_logging("console", "WARNING")  # the in-process gateway's exchange lines would drown the view
    async with local_gateway(args.gateway_mappings or args.mappings,
                             policy_files=tuple(args.policy or ())) as local:
        target = Target(local.url, local.dll_port, args.dll_lib, local.hl7_port)
        return await _play(args, scenarios, [dialects[n] for n in chosen], target)


async def _pack_with_progress(path: Path, runners: list[Any], scenarios: list[Any], jobs: int,
                              total: int) -> list[Any]:
    """play_pack, with the total and each scenario's result appended to `path` (JSON lines) as they come."""
    import json

    from simulators.runner import play_pack

    done = 0
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"total": total}) + "\n")
        out.flush()

        def step(_result: Any, _step: Any) -> None:
            nonlocal done
            done += 1

        def scenario(result: Any) -> None:
            out.write(json.dumps({"done": done, "total": total, "dialect": result.dialect,
                                  "scenario": result.scenario.name, "status": result.status,
                                  "ms": round(result.seconds * 1000)}, ensure_ascii=False) + "\n")
            out.flush()

        for runner in runners:
            runner.on_step = step
        return list(await play_pack(runners, scenarios, jobs=jobs, on_scenario=scenario))


async def _play(args: argparse.Namespace, scenarios: list[Any], dialects: list[Any], target: Any) -> int:
    import aiohttp
    from rich.console import Console

    from simulators.drivers import UnsupportedDialect, open_driver, supported
    from simulators.drivers.dll import LibraryMissing
    from simulators.people import PersonFactory
    from simulators.runner import Runner

    console = Console()
    concurrency = args.load or args.jobs
    drivable = [d for d in dialects if supported(d)]
    for dialect in dialects:
        if not supported(dialect):
            console.print(f"[yellow]{dialect.name}: no simulator driver yet for transport {dialect.transport} "
                          f"with framing {dialect.framing.kind}; not played[/]")
    if not drivable:
        raise _Usage("none of the chosen dialects has a simulator driver")
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(f"{target.url.rstrip('/')}/health",
                                   timeout=aiohttp.ClientTimeout(total=10)) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            console.print(f"[red]cannot reach the gateway at {target.url}: {exc}[/]")
            return 1
        factory = PersonFactory(session, target.url, batch=50 if args.load else 1)
        runners: list[Runner] = []
        try:
            for dialect in drivable:
                runners.append(Runner(open_driver(dialect, target, concurrency=concurrency), factory))
        except (UnsupportedDialect, LibraryMissing) as exc:
            for runner in runners:
                await runner.driver.close()
            raise _Usage(str(exc)) from exc
        try:
            if args.load:
                return await _load(args, console, runners, scenarios)
            return await _pack(args, console, runners, scenarios, target, drivable)
        finally:
            for runner in runners:
                await runner.driver.close()


async def _pack(args: argparse.Namespace, console: Any, runners: list[Any], scenarios: list[Any], target: Any,
                dialects: list[Any]) -> int:
    from simulators.report.console import live_view, summary
    from simulators.report.html import write_html
    from simulators.report.junit import write_junit
    from simulators.runner import ERROR, FAIL, not_applicable, play_pack

    started = datetime.now()
    total = sum(len(s.steps) for r in runners for s in scenarios if not not_applicable(s, r.driver))
    console.print(f"hisgw simulate: {len(scenarios)} scenarios × {', '.join(r.driver.name for r in runners)} "
                  f"against {target.url}" + "".join(f" ({name} port {port})" for name, port in
                                                    (("DLL", target.dll_port), ("MLLP", target.hl7_port)) if port))
    if args.progress:
        results = await _pack_with_progress(args.progress, runners, scenarios, args.jobs, total)
    elif args.quiet:
        results = await play_pack(runners, scenarios, jobs=args.jobs)
    else:
        with live_view(console, total) as view:
            for runner in runners:
                runner.on_step = view.step
            results = await play_pack(runners, scenarios, jobs=args.jobs, on_scenario=view.scenario)
    summary(console, results)
    if args.junit:
        write_junit(args.junit, results)
        console.print(f"JUnit XML: {args.junit}")
    if args.html:
        write_html(args.html, results, target=target.url, encodings={d.name: d.encoding for d in dialects},
                   started=started)
        console.print(f"HTML report: {args.html}")
    return 1 if any(r.status in (FAIL, ERROR) for r in results) else 0


async def _load(args: argparse.Namespace, console: Any, runners: list[Any], scenarios: list[Any]) -> int:
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from simulators.load import dialect_rows, rows, run_load

    goal = f"{args.duration:g} s" if args.duration is not None else f"{args.count} journeys"
    console.print(f"load: {args.load} virtual HIS × {', '.join(r.driver.name for r in runners)}, {goal}, "
                  f"{len(scenarios)} scenarios in rotation, every answer checked")
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                        transient=True, disable=args.quiet)
    with progress:
        task = progress.add_task("starting", total=args.duration if args.duration is not None else args.count)

        def update(stats: Any, elapsed: float) -> None:
            done = elapsed if args.duration is not None else stats.journeys
            progress.update(task, completed=done, description=f"{stats.journeys} journeys · {stats.calls} calls · "
                                                              f"{stats.calls / max(elapsed, 1e-9):.0f}/s · "
                                                              f"{stats.wrong_answers} wrong")

        stats = await run_load(runners, scenarios, his=args.load, duration=args.duration, count=args.count,
                               on_progress=update)
    table = Table(title=f"load: {args.load} virtual HIS, {stats.seconds:.1f} s")
    for column in ("transaction", "calls", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "wrong"):
        table.add_column(column, justify="left" if column == "transaction" else "right")
    for name, calls, rate, p50, p95, p99, top, wrong in rows(stats):
        table.add_row(name, str(calls), f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}", f"{top:.1f}",
                      f"[red]{wrong}[/]" if wrong else "0")
    console.print(table)
    per_dialect = Table(title="per dialect")
    for column in ("dialect", "journeys", "calls", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "wrong"):
        per_dialect.add_column(column, justify="left" if column == "dialect" else "right")
    for dialect, journeys, calls, rate, p50, p95, p99, top, wrong in dialect_rows(stats):
        per_dialect.add_row(dialect, str(journeys), str(calls), f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}",
                            f"{p99:.1f}", f"{top:.1f}", f"[red]{wrong}[/]" if wrong else "0")
    console.print(per_dialect)
    console.print(f"{stats.journeys} journeys ({stats.journeys / stats.seconds:.1f}/s), {stats.calls} calls "
                  f"({stats.calls / stats.seconds:.1f}/s), {stats.failed_journeys} journeys failed, "
                  f"{stats.wrong_answers} wrong answers, {stats.cut_off} cut off at the end of the grace period")
    for item in stats.incorrect[:20]:
        console.print(f"[red]✗ {item.dialect} · {item.scenario} · {escape(item.step)}: {escape(item.problem)}[/]")
    if len(stats.incorrect) > 20:
        console.print(f"[red]… and {len(stats.incorrect) - 20} more[/]")
    return 1 if stats.failed_journeys or stats.cut_off else 0

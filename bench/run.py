"""`make bench`: each path beside its bare baseline, server and load generator on separate cores.

Prints a table and writes var/bench.json. Bounded: every phase stops by itself on time or count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import simplejson

from bench.httpload import LoadResult, NextBody, run_load
from bench.mllpload import run_mllp_load
from bench.prepare import HOSPITAL, PreparedStay, fee_lines, open_deps, prepare_stays
from gateway.canonical import calls as c
from gateway.engine.chain import settle as run_chain
from gateway.engine.fees import FeeTotals, classify_line
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.engine.types import StayFacts
from gateway.service.dispatch import handle

PATH = "/fsi/api/rsfComIfsService/callService"
HL7_LINES = 8  # a DFT^P03 of about 1 KB, the size hl7.parse was measured on
SERVER_CORE, LOAD_CORE = 0, 1


@dataclass
class Row:
    name: str
    unit: str
    value: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(command: list[str], port: int, log: Path, *more_ports: int) -> Iterator[subprocess.Popen[bytes]]:
    pin = ["taskset", "-c", str(SERVER_CORE)] if (os.cpu_count() or 1) > 1 else []
    with log.open("ab") as out:
        process = subprocess.Popen([*pin, *command], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        for listening in (port, *more_ports):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", listening), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server did not start: {command}") from None
                    time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def envelope(infno: str, payload: dict[str, object], serial: int) -> bytes:
    document = {"infno": infno, "msgid": f"{HOSPITAL}20260601100000{serial:08d}", "fixmedins_code": HOSPITAL,
                "inf_time": "2026-06-01 10:00:00", "opter": "001", "input": payload}
    text: str = simplejson.dumps(document, use_decimal=True)
    return text.encode()


def settle_body(stay: PreparedStay, serial: int) -> bytes:
    return envelope("2304", {"data": {"psn_no": stay.psn_no, "mdtrt_id": stay.mdtrt_id,
                                      "medfee_sumamt": stay.medfee}}, serial)


def upload_body(mdtrt_id: str, psn_no: str, first_sn: int, serial: int) -> bytes:
    lines = [{"feedetl_sn": line.feedetl_sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no,
              "med_list_codg": line.med_list_codg, "cnt": line.cnt, "pric": line.pric,
              "det_item_fee_sumamt": line.det_item_fee_sumamt, "fee_ocur_time": "2026-06-01 10:00:00"}
             for line in fee_lines(mdtrt_id, psn_no, 50, first_sn)]
    return envelope("2301", {"feedetail": lines}, serial)


ROOT = Path(__file__).resolve().parent.parent


def build_library(work: Path) -> Path:
    library = work / "libhisgw_dll.so"
    subprocess.run(["gcc", "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
                    "-o", str(library), str(ROOT / "dll" / "hisgw_dll.c"), "-lpthread", "-lcrypto"], check=True)
    return library


def dll_load(library: Path, port: int, inputs: list[bytes], seconds: float, warmup: float, work: Path) -> LoadResult:
    """32 threads of one process calling BUSINESS_HANDLE (bench/dllload.py), each request used once."""
    config, requests = work / f"dll-{port}.ini", work / f"dll-{port}.in"
    config.write_text(f"host = 127.0.0.1\nport = {port}\ntimeout_ms = 30000\ndialect = neusoft-dll\n"
                      "out_size = 8192\n", encoding="ascii")
    requests.write_bytes(b"\n".join(inputs))
    done = subprocess.run([sys.executable, "-m", "bench.dllload", str(library), str(config), str(requests),
                           str(seconds), str(warmup), "32"], check=True, capture_output=True)
    figures = json.loads(done.stdout)
    return LoadResult(latencies=figures["latencies"], errors=figures["errors"], measured_seconds=figures["seconds"],
                      exhausted=figures["exhausted"])


def dll_settle_input(stay: PreparedStay, serial: int) -> bytes:
    return (f"2410^{HOSPITAL}^001^C01^DLL{serial:010d}^430521^{stay.mdtrt_id}|{stay.psn_no}|{stay.medfee}^1^"
            .encode("gbk"))


def soap_ok(payload: bytes) -> bool:
    return b"&lt;ResultCode&gt;0&lt;/ResultCode&gt;" in payload


def dft_message(mdtrt_id: str, psn_no: str, first_sn: int, serial: int) -> bytes:
    """DFT^P03 as mappings/hl7v2.yaml reads it: the stay in PID-3/PV1-50, one FT1 per fee line."""
    segments = [f"MSH|^~\\&|HIS|{HOSPITAL}|HISGW|NHSA|20260601100000||DFT^P03^DFT_P03|B{serial:012d}|P|2.5|||||CHN|"
                "UNICODE UTF-8", "EVN|P03|20260601100000|||001^收费员", f"PID|1||{psn_no}^^^NHSA^PN||患者",
                "PV1|1|I|A03^^^^^^^^内科" + "|" * 47 + mdtrt_id]
    for n, line in enumerate(fee_lines(mdtrt_id, psn_no, HL7_LINES, first_sn), start=1):
        segments.append(f"FT1|{n}|{line.feedetl_sn}||20260601100000||CG|{line.med_list_codg}^收费项目^^H{n:04d}|||"
                        f"{line.cnt}|{line.det_item_fee_sumamt}|{line.pric}|A03^内科||||||||D01^医生")
    return ("\r".join(segments) + "\r").encode()


def hl7_accepted(answer: bytes) -> bool:
    return b"MSA|AA|" in answer


def ok_answer(payload: bytes) -> bool:
    return b'"infcode":0' in payload


def load(port: int, next_body: NextBody, seconds: float, warmup: float, ok: Callable[[bytes], bool] = ok_answer,
         path: str = PATH, content_type: str = "application/json") -> LoadResult:
    return asyncio.run(run_load("127.0.0.1", port, path, next_body, concurrency=32, seconds=seconds, warmup=warmup,
                                ok=ok, content_type=content_type))


SOAP_ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope '
                 'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:d="http://www.dhcc.com.cn">'
                 "<soapenv:Body><d:{operation}><d:action>{action}</d:action><d:message>{message}</d:message>"
                 "</d:{operation}></soapenv:Body></soapenv:Envelope>")


def dhc_settle_body(stay: PreparedStay, serial: int, operation: str = "HIPMessageServer") -> bytes:
    """HIPMessageServer("InpatSettle", <Request>…</Request>) as a DHC HIS sends it; the message is escaped text."""
    message = (f"&lt;Request&gt;&lt;Header&gt;&lt;MessageID&gt;DHC{serial:010d}&lt;/MessageID&gt;&lt;/Header&gt;"
               f"&lt;Body&gt;&lt;HospitalCode&gt;{HOSPITAL}&lt;/HospitalCode&gt;&lt;AdmNo&gt;{stay.mdtrt_id}"
               f"&lt;/AdmNo&gt;&lt;PsnNo&gt;{stay.psn_no}&lt;/PsnNo&gt;&lt;TotalAmount&gt;{stay.medfee}"
               "&lt;/TotalAmount&gt;&lt;/Body&gt;&lt;/Request&gt;")
    return SOAP_ENVELOPE.format(operation=operation, action="InpatSettle", message=message).encode()


def http_row(name: str, result: LoadResult, baseline: float | None, target: str, met: bool | None,
             scale: float = 1.0, unit: str = "req/s") -> Row:
    note = f"{result.errors} bad answers" if result.errors else ""
    if result.exhausted:
        note = (note + "; " if note else "") + "ran out of prepared work"
    return Row(name, unit, result.rate * scale, result.percentile(0.5) * 1000, result.percentile(0.99) * 1000,
               baseline, target, met, note)


def bench_engine(seconds: float) -> Row:
    policy = PolicyBook.load([default_policy_path()]).for_date(date(2026, 6, 1))
    lines = [classify_line(Decimal(a), lv, Decimal(p)) for a, lv, p in
             (("14500.00", "01", "0"), ("4000.00", "02", "0.10"), ("1500.00", "03", "0"))]
    facts = StayFacts("390", 2, True, frozenset({"0001"}), FeeTotals.of(lines), date(2026, 6, 1))
    ytd = {"390100": Decimal("1000.00"), "390200:base": Decimal("5000.00")}
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            run_chain(policy, facts, ytd)
        count += 200
    rate = count / (time.perf_counter() - start)
    return Row("engine alone: settlement chain", "settle/s", rate, target="≥ 20,000/s", met=rate >= 20000)


def bench_growth(workdir: Path, earlier: int, measured: int) -> float:
    """Mean ms of one durable settlement (service + SQLite commit) for a person with `earlier` settlements."""
    db = workdir / f"growth-{earlier}.sqlite"
    prepare_stays(db, earlier, 10, persons=("D0009",), settle=True)
    stays = prepare_stays(db, measured, 10, persons=("D0009",))
    deps = open_deps(db)
    try:
        start = time.perf_counter()
        for n, stay in enumerate(stays):
            ctx = c.CallContext(msgid=f"G{n}", infno="2304", fixmedins_code=HOSPITAL)
            with deps.store.transaction():
                handle(deps, c.Call(ctx, c.Settle(mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no, trial=False)))
        return (time.perf_counter() - start) / measured * 1000
    finally:
        deps.store.close()


class Context:
    """What the rows share: the phase lengths, the work folder, the stays prepared before the gateway starts, the
    library, one gateway process for every row that needs it, and the rows measured so far (baselines)."""

    def __init__(self, quick: bool, work: Path, stack: ExitStack) -> None:
        self.quick = quick
        self.seconds, self.warmup = (0.5, 0.1) if quick else (8.0, 2.0)
        self.work, self.stack = work, stack
        self.db = work / "hisgw.sqlite"
        self.log = work / "servers.log"
        self.stays: dict[str, list[PreparedStay]] = {}
        self.rows: dict[str, list[Row]] = {}
        self.serial = iter(range(1, 10**9))
        self.keys: set[str] = set()  # the rows of this run
        self.pending: Iterator[PreparedStay] | None = None  # settlements not yet sent (2304, then memory)
        self._library: Path | None = None
        self._gateway: tuple[subprocess.Popen[bytes], int, int, int] | None = None

    def scaled(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def prepare(self, name: str, count: int, lines: int) -> None:
        self.stays[name] = prepare_stays(self.db, count, lines)

    @property
    def library(self) -> Path:
        if self._library is None:
            self._library = build_library(self.work)
        return self._library

    def gateway(self) -> tuple[subprocess.Popen[bytes], int, int, int]:
        """(process, HTTP, DLL and HL7 ports) of the one gateway, started on first use after every preparation."""
        if self._gateway is None:
            port, dll_port, hl7_port = free_port(), free_port(), free_port()
            command = [sys.executable, "-m", "gateway.cli", "--db", str(self.db), "serve", "--init",
                       "--port", str(port), "--dll-port", str(dll_port), "--hl7-port", str(hl7_port),
                       "--log-format", "json"]
            process = self.stack.enter_context(server(command, port, self.log, hl7_port))
            self._gateway = (process, port, dll_port, hl7_port)
        return self._gateway

    def rate(self, key: str) -> float | None:
        """A baseline's figure, when that row was measured in this run."""
        rows = self.rows.get(key)
        return rows[0].value if rows else None


@dataclass(frozen=True)
class Bench:
    """One row (or a few) of the table. `needs`: the baselines its ratio is taken against, measured first even
    when only this row is asked for. `prepare` runs before the gateway starts (stays written through the
    service into its database). `estimate` and `prepare_estimate`: the seconds a full run takes on a quiet
    2-core machine to measure and to prepare the row; a run under load took 3 times as long. make bench prints
    the time left from these, or from the last full run's var/bench.json."""

    key: str
    title: str
    estimate: float
    measure: Callable[[Context], list[Row]]
    needs: tuple[str, ...] = ()
    prepare: Callable[[Context], None] | None = None
    prepare_estimate: float = 0.0


# The bare echoes read nothing: any stay makes a body of the right size and shape.
ECHOED = PreparedStay("202606010000000001", "D0001", Decimal("1234.00"))


def prepare_settlements(ctx: Context) -> None:
    """The stays the 2304 row settles and the memory row settles the rest of: 100,000 when memory is measured."""
    if "settle" not in ctx.stays:
        ctx.prepare("settle", ctx.scaled(100_000 if "memory" in ctx.keys else 30_000, 2_000), 10)


def engine_row(ctx: Context) -> list[Row]:
    return [bench_engine(ctx.seconds)]


def dll_bare_row(ctx: Context) -> list[Row]:
    stay = ECHOED
    port = free_port()
    with server([sys.executable, "-m", "bench.dll_echo_server", str(port)], port, ctx.log):
        inputs = [dll_settle_input(stay, n) for n in range(ctx.scaled(150_000, 2_000))]
        result = dll_load(ctx.library, port, inputs, ctx.seconds, ctx.warmup, ctx.work)
    return [http_row("DLL bare: the C library calling an echo listener", result, None, "", None)]


def http_bare_row(ctx: Context) -> list[Row]:
    sample = settle_body(ECHOED, 0)
    port = free_port()
    with server([sys.executable, "-m", "bench.echo_server", str(port)], port, ctx.log):
        result = load(port, lambda _n: sample, ctx.seconds, ctx.warmup, ok=lambda answer: answer.startswith(b"{"))
    return [http_row("HTTP bare: aiohttp + orjson echo of a 2304 body", result, None, "", None)]


def soap_bare_row(ctx: Context) -> list[Row]:
    sample = dhc_settle_body(ECHOED, 0, operation="Echo")
    port = free_port()
    with server([sys.executable, "-m", "bench.soap_echo_server", str(port)], port, ctx.log):
        result = load(port, lambda _n: sample, ctx.seconds, ctx.warmup, path="/soap/echo",
                      ok=lambda answer: b"EchoResponse" in answer, content_type="text/xml; charset=utf-8")
    return [http_row("SOAP bare: spyne echo of two strings", result, None, "", None)]


def hl7_bare_row(ctx: Context) -> list[Row]:
    dft = dft_message(ECHOED.mdtrt_id, ECHOED.psn_no, 0, 0)
    port = free_port()
    with server([sys.executable, "-m", "bench.hl7_bare", str(port)], port, ctx.log):
        result = asyncio.run(run_mllp_load("127.0.0.1", port, lambda _n: dft, concurrency=32, seconds=ctx.seconds,
                                           warmup=ctx.warmup, ok=hl7_accepted))
    return [http_row(f"HL7 bare: python-hl7 MLLP parse + ACK, {len(dft)} B DFT^P03", result, None, "", None,
                     unit="msg/s")]


def http_1101_row(ctx: Context) -> list[Row]:
    _process, port, _dll, _hl7 = ctx.gateway()
    query = envelope("1101", {"data": {"psn_no": "D0001"}}, 0)
    return [http_row("HTTP 1101 person info", load(port, lambda _n: query, ctx.seconds, ctx.warmup),
                     ctx.rate("http-bare"), "", None)]


def soap_settle_row(ctx: Context) -> list[Row]:
    _process, port, _dll, _hl7 = ctx.gateway()
    pending = iter(ctx.stays["soap"])

    def next_settlement(_n: int) -> bytes | None:
        stay = next(pending, None)
        return None if stay is None else dhc_settle_body(stay, next(ctx.serial))

    result = load(port, next_settlement, ctx.seconds, ctx.warmup, ok=soap_ok, path="/soap/dhc",
                  content_type="text/xml; charset=utf-8")
    bare = ctx.rate("soap-bare")
    return [http_row("SOAP dhc HIPMessageServer settlement, durable", result, bare, "≥ 60% of bare spyne",
                     result.rate / bare >= 0.60 if bare else None)]


def dll_settle_row(ctx: Context) -> list[Row]:
    _process, _port, dll_port, _hl7 = ctx.gateway()
    inputs = [dll_settle_input(stay, n) for n, stay in enumerate(ctx.stays["dll"])]
    result = dll_load(ctx.library, dll_port, inputs, ctx.seconds, ctx.warmup, ctx.work)
    bare = ctx.rate("dll-bare")
    return [http_row("DLL neusoft 2410 settlement through the library, durable", result, bare,
                     "≥ 30% of its bare echo", result.rate / bare >= 0.30 if bare else None)]


def http_upload_row(ctx: Context) -> list[Row]:
    _process, port, _dll, _hl7 = ctx.gateway()
    stays, batches = ctx.stays["upload"], [0] * 32

    def next_upload(n: int) -> bytes:
        batches[n] += 1
        return upload_body(stays[n].mdtrt_id, stays[n].psn_no, batches[n] * 50, next(ctx.serial))

    result = load(port, next_upload, ctx.seconds, ctx.warmup)
    return [http_row("HTTP 2301 upload, 50 lines a call", result, None, "≥ 25,000 lines/s",
                     result.rate * 50 >= 25000, scale=50, unit="lines/s")]


def hl7_fees_row(ctx: Context) -> list[Row]:
    _process, _port, _dll, hl7_port = ctx.gateway()
    stays, batches = ctx.stays["hl7"], [0] * 32

    def next_dft(n: int) -> bytes:
        batches[n] += 1
        return dft_message(stays[n].mdtrt_id, stays[n].psn_no, batches[n] * HL7_LINES, next(ctx.serial))

    result = asyncio.run(run_mllp_load("127.0.0.1", hl7_port, next_dft, concurrency=32, seconds=ctx.seconds,
                                       warmup=ctx.warmup, ok=hl7_accepted))
    bare = ctx.rate("hl7-bare")
    return [http_row(f"HL7 DFT^P03 fee upload, {HL7_LINES} FT1 lines, durable", result, bare,
                     "≥ 70% of bare python-hl7", result.rate / bare >= 0.70 if bare else None, unit="msg/s")]


def settlement_source(ctx: Context) -> Callable[[int], bytes | None]:
    """One iterator over the prepared settlements, shared by the 2304 row and the memory row after it."""
    if ctx.pending is None:
        ctx.pending = iter(ctx.stays["settle"])
    pending = ctx.pending

    def next_settlement(_n: int) -> bytes | None:
        stay = next(pending, None)
        return None if stay is None else settle_body(stay, next(ctx.serial))

    return next_settlement


def http_settle_row(ctx: Context) -> list[Row]:
    _process, port, _dll, _hl7 = ctx.gateway()
    result = load(port, settlement_source(ctx), ctx.seconds, ctx.warmup)
    echo = ctx.rate("http-bare")
    met = (result.rate / echo >= 0.30 and result.percentile(0.99) < 0.025) if echo else None
    return [http_row("HTTP 2304 settlement, 10 lines, durable", result, echo, "≥ 30% of echo, p99 < 25 ms", met)]


def memory_row(ctx: Context) -> list[Row]:
    """Settle every prepared stay not settled yet (all of them when run alone), then read the resident memory."""
    process, port, _dll, _hl7 = ctx.gateway()
    rest = load(port, settlement_source(ctx), 600.0, 0.0)
    memory = rss_mb(process.pid)
    total = len(ctx.stays["settle"])
    return [Row(f"gateway RSS after {total:,} settlements", "MB", memory, target="≤ 200 MB", met=memory <= 200,
                note=f"{rest.errors} bad answers" if rest.errors else "")]


def growth_rows(ctx: Context) -> list[Row]:
    sizes = (1, 50) if ctx.quick else (1, 1_000, 100_000)
    growth = {n: bench_growth(ctx.work, n, 50 if ctx.quick else 300) for n in sizes}
    first, rows = growth[sizes[0]], []
    for n, ms in growth.items():
        last = n == sizes[-1]
        rows.append(Row(f"settlement with {n:,} earlier in the year (service + commit)", "ms", ms,
                        target="≤ 1.2 × with 1" if last else "", met=(ms <= 1.2 * first) if last else None,
                        note=f"{ms / first:.2f} × with 1"))
    return rows


# The table, in the order it is measured. A new row is one entry (and its function above or in a module of
# its own); ROW=<key> runs it alone with the baselines it names.
BENCHES: tuple[Bench, ...] = (
    Bench("engine", "engine alone: settlement chain", 9, engine_row),
    Bench("dll-bare", "DLL bare echo (the C library built first)", 15, dll_bare_row),
    Bench("http-bare", "HTTP bare echo", 12, http_bare_row),
    Bench("soap-bare", "SOAP bare echo", 12, soap_bare_row),
    Bench("hl7-bare", "HL7 bare parse + ACK", 12, hl7_bare_row),
    Bench("http-1101", "HTTP 1101 person info (the gateway started first)", 15, http_1101_row, needs=("http-bare",)),
    Bench("soap-settle", "SOAP dhc settlement", 11, soap_settle_row, needs=("soap-bare",),
          prepare=lambda ctx: ctx.prepare("soap", ctx.scaled(30_000, 500), 10), prepare_estimate=20),
    Bench("dll-2410", "DLL 2410 settlement", 11, dll_settle_row, needs=("dll-bare",),
          prepare=lambda ctx: ctx.prepare("dll", ctx.scaled(30_000, 500), 10), prepare_estimate=30),
    Bench("http-2301", "HTTP 2301 upload, 50 lines", 11, http_upload_row,
          prepare=lambda ctx: ctx.prepare("upload", 32, 0)),
    Bench("hl7-dft", "HL7 DFT^P03 fee upload", 11, hl7_fees_row, needs=("hl7-bare",),
          prepare=lambda ctx: ctx.prepare("hl7", 32, 0)),
    Bench("http-2304", "HTTP 2304 settlement", 11, http_settle_row, needs=("http-bare",),
          prepare=prepare_settlements, prepare_estimate=90),
    Bench("memory", "RSS after settling every prepared stay", 160, memory_row, prepare=prepare_settlements),
    Bench("growth", "settlement time with 1, 1,000, 100,000 earlier", 300, growth_rows),
)


def selected(keys: list[str]) -> list[Bench]:
    """The rows asked for and the baselines they need, in table order; every row when none is asked for."""
    by_key = {bench.key: bench for bench in BENCHES}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise SystemExit(f"unknown row {', '.join(unknown)}; rows: {', '.join(by_key)}")
    if not keys:
        return list(BENCHES)
    wanted = set(keys) | {need for key in keys for need in by_key[key].needs}
    return [bench for bench in BENCHES if bench.key in wanted]


def estimates(previous: Path, quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per row to measure and to prepare: the last full run's, where var/bench.json has them, else the
    stated ones (a quick run takes a small part of them)."""
    scale = 0.1 if quick else 1.0
    try:
        last = json.loads(previous.read_text(encoding="utf-8"))
        usable = isinstance(last, dict) and not last.get("quick") and not quick
    except (OSError, ValueError):
        last, usable = {}, False
    measured = last.get("seconds", {}) if usable else {}
    prepared = last.get("prepare_seconds", {}) if usable else {}
    return ({b.key: float(measured.get(b.key, b.estimate * scale)) for b in BENCHES},
            {b.key: float(prepared.get(b.key, b.prepare_estimate * scale)) for b in BENCHES})


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hisgw benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small counts, short phases")
    parser.add_argument("--json", type=Path, default=Path("var/bench.json"))
    parser.add_argument("--row", action="append", default=[], metavar="KEY",
                        help="measure this row (and the baselines it needs) only; repeat or comma-separate")
    parser.add_argument("--list", action="store_true", help="list the rows and what each takes, then stop")
    args = parser.parse_args(argv)
    keys = [key for value in args.row for key in value.split(",") if key]
    plan = selected(keys)
    expected, to_prepare = estimates(args.json, args.quick)
    if args.list:
        for bench in BENCHES:
            needs = f"  (with {', '.join(bench.needs)})" if bench.needs else ""
            took = expected[bench.key] + to_prepare[bench.key]
            print(f"{bench.key:12} {duration(took):>12}  {bench.title}{needs}")
        print(f"{'all':12} {duration(sum(expected.values()) + sum(to_prepare.values())):>12}")
        return 0
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    started = time.monotonic()
    left = sum(expected[bench.key] + to_prepare[bench.key] for bench in plan)
    print(f"hisgw bench: {len(plan)} rows ({', '.join(b.key for b in plan)}), about {duration(left)}", flush=True)
    rows: list[Row] = []
    spent: dict[str, float] = {}
    prepared: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        ctx = Context(args.quick, Path(folder), stack)
        ctx.keys = {bench.key for bench in plan}
        preparing = [bench for bench in plan if bench.prepare is not None]
        for number, bench in enumerate(preparing):  # all before the gateway starts: they write its database
            assert bench.prepare is not None
            begun = time.monotonic()
            bench.prepare(ctx)
            prepared[bench.key] = time.monotonic() - begun
            left = (sum(to_prepare[b.key] for b in preparing[number + 1:])
                    + sum(expected[b.key] for b in plan))
            print(f"  prepared {bench.key} in {duration(prepared[bench.key])}; about {duration(left)} left",
                  flush=True)
        for number, bench in enumerate(plan, start=1):
            begun = time.monotonic()
            measured = bench.measure(ctx)
            spent[bench.key] = time.monotonic() - begun
            ctx.rows[bench.key] = measured
            rows.extend(measured)
            left = sum(expected[b.key] for b in plan[number:])
            for row in measured:
                print(f"[{number}/{len(plan)}] {row_line(row)}", flush=True)
            print(f"      {bench.key} took {duration(spent[bench.key])}; about {duration(left)} left", flush=True)
    print_table(rows)
    print(f"\ntotal {duration(time.monotonic() - started)}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {"quick": args.quick, "rows_measured": [b.key for b in plan],
                "seconds": {key: round(value, 1) for key, value in spent.items()},
                "prepare_seconds": {key: round(value, 1) for key, value in prepared.items()},
                "rows": [{**asdict(r), "ratio": r.ratio} for r in rows]}
    args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    print(f"figures written to {args.json}")
    return 0


def row_line(r: Row) -> str:
    ratio = f"{r.ratio:.0%}" if r.ratio is not None else ""
    p50 = f"{r.p50_ms:.2f}" if r.p50_ms is not None else ""
    p99 = f"{r.p99_ms:.2f}" if r.p99_ms is not None else ""
    verdict = "" if r.met is None else ("met" if r.met else "MISSED")
    figure = f"{r.value:,.1f} {r.unit}"
    return f"{r.name:58} {figure:>16} {p50:>8} {p99:>8} {ratio:>7}  {r.target} {verdict} {r.note}".rstrip()


def print_table(rows: list[Row]) -> None:
    print(f"\n{'path':58} {'figure':>16} {'p50 ms':>8} {'p99 ms':>8} {'× bare':>7}  target")
    for r in rows:
        print(row_line(r))


if __name__ == "__main__":
    sys.exit(main())

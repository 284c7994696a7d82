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
from contextlib import contextmanager
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hisgw benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small counts, short phases")
    parser.add_argument("--json", type=Path, default=Path("var/bench.json"))
    args = parser.parse_args(argv)
    seconds, warmup = (0.5, 0.1) if args.quick else (8.0, 2.0)
    settlements_for_memory = 2_000 if args.quick else 100_000
    growth_sizes = (1, 50) if args.quick else (1, 1_000, 100_000)
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        log = work / "servers.log"
        rows.append(bench_engine(seconds))

        soap_stays = prepare_stays(work / "hisgw.sqlite", 500 if args.quick else 30_000, 10)
        dll_stays = prepare_stays(work / "hisgw.sqlite", 500 if args.quick else 30_000, 10)
        library = build_library(work)

        port = free_port()
        with server([sys.executable, "-m", "bench.dll_echo_server", str(port)], port, log):
            echo_inputs = [dll_settle_input(dll_stays[0], n) for n in range(2_000 if args.quick else 150_000)]
            dll_echo = dll_load(library, port, echo_inputs, seconds, warmup, work)
        rows.append(http_row("DLL bare: the C library calling an echo listener", dll_echo, None, "", None))
        stays = prepare_stays(work / "hisgw.sqlite", settlements_for_memory, 10)
        upload_stays = prepare_stays(work / "hisgw.sqlite", 32, 0)
        sample = settle_body(stays[0], 0)

        port = free_port()
        with server([sys.executable, "-m", "bench.echo_server", str(port)], port, log):
            echo = load(port, lambda _n: sample, seconds, warmup, ok=lambda answer: answer.startswith(b"{"))
        rows.append(http_row("HTTP bare: aiohttp + orjson echo of a 2304 body", echo, None, "", None))

        hl7_stays = prepare_stays(work / "hisgw.sqlite", 32, 0)
        dft = dft_message(hl7_stays[0].mdtrt_id, hl7_stays[0].psn_no, 0, 0)
        port = free_port()
        soap_sample = dhc_settle_body(soap_stays[0], 0, operation="Echo")
        with server([sys.executable, "-m", "bench.soap_echo_server", str(port)], port, log):
            soap_echo = load(port, lambda _n: soap_sample, seconds, warmup, path="/soap/echo",
                             ok=lambda answer: b"EchoResponse" in answer, content_type="text/xml; charset=utf-8")
        rows.append(http_row("SOAP bare: spyne echo of two strings", soap_echo, None, "", None))

        port = free_port()
        with server([sys.executable, "-m", "bench.hl7_bare", str(port)], port, log):
            bare_hl7 = asyncio.run(run_mllp_load("127.0.0.1", port, lambda _n: dft, concurrency=32, seconds=seconds,
                                                 warmup=warmup, ok=hl7_accepted))
        rows.append(http_row(f"HL7 bare: python-hl7 MLLP parse + ACK, {len(dft)} B DFT^P03", bare_hl7, None, "",
                             None, unit="msg/s"))

        port = free_port()
        dll_port = free_port()
        hl7_port = free_port()
        gateway = [sys.executable, "-m", "gateway.cli", "--db", str(work / "hisgw.sqlite"), "serve", "--init",
                   "--port", str(port), "--dll-port", str(dll_port), "--hl7-port", str(hl7_port),
                   "--log-format", "json"]
        with server(gateway, port, log, hl7_port) as process:
            serial = iter(range(1, 10**9))
            query = envelope("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "430521195803120133"}}, 0)
            person = load(port, lambda _n: query, seconds, warmup)
            rows.append(http_row("HTTP 1101 person info", person, echo.rate, "", None))

            soap_pending = iter(soap_stays)

            def next_soap_settlement(_n: int) -> bytes | None:
                stay = next(soap_pending, None)
                return None if stay is None else dhc_settle_body(stay, next(serial))

            soap_settled = load(port, next_soap_settlement, seconds, warmup, ok=soap_ok, path="/soap/dhc",
                                content_type="text/xml; charset=utf-8")
            soap_ratio = soap_settled.rate / soap_echo.rate if soap_echo.rate else 0
            rows.append(http_row("SOAP dhc HIPMessageServer settlement, durable", soap_settled, soap_echo.rate,
                                 "≥ 60% of bare spyne", soap_ratio >= 0.60))

            dll_inputs = [dll_settle_input(stay, n) for n, stay in enumerate(dll_stays)]
            dll_settled = dll_load(library, dll_port, dll_inputs, seconds, warmup, work)
            dll_ratio = dll_settled.rate / dll_echo.rate if dll_echo.rate else 0
            rows.append(http_row("DLL neusoft 2410 settlement through the library, durable", dll_settled,
                                 dll_echo.rate, "≥ 30% of its bare echo", dll_ratio >= 0.30))

            batches = [0] * 32

            def next_upload(n: int) -> bytes:
                stay = upload_stays[n]
                batches[n] += 1
                return upload_body(stay.mdtrt_id, stay.psn_no, batches[n] * 50, next(serial))

            upload = load(port, next_upload, seconds, warmup)
            lines_rate = upload.rate * 50
            rows.append(http_row("HTTP 2301 upload, 50 lines a call", upload, None, "≥ 25,000 lines/s",
                                 lines_rate >= 25000, scale=50, unit="lines/s"))

            hl7_batches = [0] * 32

            def next_dft(n: int) -> bytes:
                stay = hl7_stays[n]
                hl7_batches[n] += 1
                return dft_message(stay.mdtrt_id, stay.psn_no, hl7_batches[n] * HL7_LINES, next(serial))

            fees = asyncio.run(run_mllp_load("127.0.0.1", hl7_port, next_dft, concurrency=32, seconds=seconds,
                                             warmup=warmup, ok=hl7_accepted))
            ratio = fees.rate / bare_hl7.rate if bare_hl7.rate else 0
            rows.append(http_row(f"HL7 DFT^P03 fee upload, {HL7_LINES} FT1 lines, durable", fees, bare_hl7.rate,
                                 "≥ 70% of bare python-hl7", ratio >= 0.70, unit="msg/s"))

            pending = iter(stays)

            def next_settlement(_n: int) -> bytes | None:
                stay = next(pending, None)
                return None if stay is None else settle_body(stay, next(serial))

            settled = load(port, next_settlement, seconds, warmup)
            ratio = settled.rate / echo.rate if echo.rate else 0
            rows.append(http_row("HTTP 2304 settlement, 10 lines, durable", settled, echo.rate,
                                 "≥ 30% of echo, p99 < 25 ms",
                                 ratio >= 0.30 and settled.percentile(0.99) < 0.025))
            # Settle every remaining prepared stay, then read the server's resident memory.
            rest = load(port, next_settlement, 600.0, 0.0)
            total = len(settled.latencies) + len(rest.latencies)
            memory = rss_mb(process.pid)
            rows.append(Row(f"gateway RSS after {settlements_for_memory:,} settlements", "MB", memory,
                            target="≤ 200 MB", met=memory <= 200,
                            note=f"{rest.errors + settled.errors} bad answers" if rest.errors else ""))
            assert total <= settlements_for_memory

        growth = {n: bench_growth(work, n, 50 if args.quick else 300) for n in growth_sizes}
        first = growth[growth_sizes[0]]
        for n, ms in growth.items():
            rows.append(Row(f"settlement with {n:,} earlier in the year (service + commit)", "ms", ms,
                            baseline=None, target="≤ 1.2 × with 1" if n == growth_sizes[-1] else "",
                            met=(ms <= 1.2 * first) if n == growth_sizes[-1] else None,
                            note=f"{ms / first:.2f} × with 1"))

    print_table(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([{**asdict(r), "ratio": r.ratio} for r in rows], ensure_ascii=False, indent=2))
    print(f"\nfigures written to {args.json}")
    return 0


def print_table(rows: list[Row]) -> None:
    print(f"\n{'path':58} {'figure':>16} {'p50 ms':>8} {'p99 ms':>8} {'× bare':>7}  target")
    for r in rows:
        ratio = f"{r.ratio:.0%}" if r.ratio is not None else ""
        p50 = f"{r.p50_ms:.2f}" if r.p50_ms is not None else ""
        p99 = f"{r.p99_ms:.2f}" if r.p99_ms is not None else ""
        verdict = "" if r.met is None else ("met" if r.met else "MISSED")
        figure = f"{r.value:,.1f} {r.unit}"
        print(f"{r.name:58} {figure:>16} {p50:>8} {p99:>8} {ratio:>7}  {r.target} {verdict} {r.note}".rstrip())


if __name__ == "__main__":
    sys.exit(main())

"""Soak under abuse (issue 12): normal mixed traffic through every dialect while a hostile client keeps 500
stalled connections and a slowloris open against the same `hisgw serve`, for 10 minutes by default.

    python -m bench.soak [--seconds 600] [--quiet 30] [--stalled 500] [--slowloris 50] [--json var/soak.json]

Normal traffic (closed loop, each answer checked, bench/httpload.py's loop): the national HTTP interface (1101
person info, 2303 trial settlement, 2301 uploads of 10 lines), DHC SOAP (InpatPreSettle), NCMS SOAP
(GetPersonInfo), the Neusoft DLL frame protocol (2420 trial settlement) and HL7 over MLLP (ZSR^Z01 trial
settlement), 4 connections each. A quiet phase first measures the same traffic without the hostile client.

The hostile client (127.0.0.1 only): `--stalled` connections spread over the HTTP, DLL and MLLP listeners, each
sending the start of a message (a head declaring 1 MB, then 8 KB) and nothing more, reopened as soon as the
gateway drops it (after its read timeout); `--slowloris` HTTP connections sending a request head one byte a
second, reopened when cut. The gateway runs with its default [limits]; server on core 0, load on core 1.

Prints, per phase and dialect, requests, p50/p99 and errors, the hostile client's reconnections, and the
gateway's RSS and descriptors (min/max, sampled each second); writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.httpload import LoadResult, NextBody, closed_loop, run_load
from bench.mllpload import run_mllp_load
from bench.prepare import HOSPITAL, PreparedStay, prepare_stays
from bench.run import LOAD_CORE, PATH, SOAP_ENVELOPE, envelope, free_port, hl7_accepted, ok_answer, rss_mb, server

CERTNO = "43052119580312013X"  # D0001 of the demo county
CONNECTIONS = 4  # per dialect of normal traffic


@dataclass
class Figures:
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, result: LoadResult) -> Figures:
        return cls(len(result.latencies), result.errors, round(result.rate, 1),
                   round(result.percentile(0.50) * 1000, 2), round(result.percentile(0.99) * 1000, 2))


@dataclass
class Hostile:
    stalled_opened: int = 0
    stalled_dropped: int = 0  # closed by the gateway (read timeout, busy)
    slowloris_opened: int = 0
    slowloris_cut: int = 0
    slowloris_lifetimes: list[float] = field(default_factory=list)


@dataclass
class Process:
    rss_mb: list[float] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)


def trial_body(stay: PreparedStay, serial: int) -> bytes:
    return envelope("2303", {"data": {"psn_no": stay.psn_no, "mdtrt_id": stay.mdtrt_id,
                                      "medfee_sumamt": stay.medfee}}, serial)


def dhc_trial(stay: PreparedStay, serial: int) -> bytes:
    message = (f"&lt;Request&gt;&lt;Header&gt;&lt;MessageID&gt;SOAK{serial:010d}&lt;/MessageID&gt;&lt;/Header&gt;"
               f"&lt;Body&gt;&lt;HospitalCode&gt;{HOSPITAL}&lt;/HospitalCode&gt;&lt;AdmNo&gt;{stay.mdtrt_id}"
               f"&lt;/AdmNo&gt;&lt;PsnNo&gt;{stay.psn_no}&lt;/PsnNo&gt;&lt;TotalAmount&gt;{stay.medfee}"
               "&lt;/TotalAmount&gt;&lt;/Body&gt;&lt;/Request&gt;")
    return SOAP_ENVELOPE.format(operation="HIPMessageServer", action="InpatPreSettle", message=message).encode()


def ncms_person(serial: int) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:n="http://ncms.hisgw.org/inpatient">'
            f"<soapenv:Body><n:GetPersonInfo><n:sHospCode>{HOSPITAL}</n:sHospCode><n:sOperator>001</n:sOperator>"
            f"<n:sMsgId>NCMS{serial:012d}</n:sMsgId><n:sCardNo>{CERTNO}</n:sCardNo><n:sCardType>1</n:sCardType>"
            "</n:GetPersonInfo></soapenv:Body></soapenv:Envelope>").encode()


def dll_trial(stay: PreparedStay, serial: int) -> bytes:
    text = f"2420^{HOSPITAL}^001^C01^SOAK{serial:010d}^430521^{stay.mdtrt_id}|{stay.psn_no}|{stay.medfee}^1^"
    return b"neusoft-dll\0" + text.encode("gbk")


def zsr_trial(stay: PreparedStay, serial: int) -> bytes:
    segments = [f"MSH|^~\\&|HIS|{HOSPITAL}|HISGW|NHSA|20260601100000||ZSR^Z01|S{serial:012d}|P|2.5|||||CHN|"
                "UNICODE UTF-8", f"PID|1||{stay.psn_no}^^^NHSA^PN||患者", "PV1|1|I|A03" + "|" * 47 + stay.mdtrt_id,
                f"ZSR|1|{stay.medfee}"]
    return ("\r".join(segments) + "\r").encode()


def upload_body(stay: PreparedStay, batch: int, serial: int) -> bytes:
    lines = [{"feedetl_sn": f"K{batch:07d}{i}", "mdtrt_id": stay.mdtrt_id, "psn_no": stay.psn_no,
              "med_list_codg": "XJ01BAA001", "cnt": 1, "pric": 12.5, "det_item_fee_sumamt": 12.5,
              "fee_ocur_time": "2026-06-01 10:00:00"} for i in range(10)]
    return envelope("2301", {"feedetail": lines}, serial)


async def dll_exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> bytes:
    writer.write(struct.pack(">I", len(payload)) + payload)
    length, rc = struct.unpack(">Ii", await reader.readexactly(8))
    return struct.pack(">i", rc) + await reader.readexactly(length - 4)


def dll_ok(answer: bytes) -> bool:
    return answer[:4] == b"\0\0\0\0"


SERIALS = iter(range(1, 10**12))  # msgids and fee line numbers, unique over both phases
BAD: dict[str, list[str]] = {}  # the first wrong answers of each kind of traffic, for the report


def checked(name: str, ok: Callable[[bytes], bool]) -> Callable[[bytes], bool]:
    def check(answer: bytes) -> bool:
        good = ok(answer)
        if not good and len(BAD.setdefault(name, [])) < 3:
            BAD[name].append(answer[:400].decode("utf-8", errors="replace"))
        return good

    return check


async def normal_traffic(ports: dict[str, int], stays: dict[str, list[PreparedStay]], seconds: float,
                         warmup: float) -> dict[str, Figures]:
    serial = batches = SERIALS

    def cycling(kind: str, make: Callable[[PreparedStay, int], bytes]) -> NextBody:
        return lambda n: make(stays[kind][n % len(stays[kind])], next(serial))

    host, http = "127.0.0.1", ports["http"]
    runs = {
        "HTTP 1101": run_load(host, http, PATH, lambda _n: envelope("1101", {"data": {
            "mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}}, next(serial)), concurrency=CONNECTIONS,
            seconds=seconds, warmup=warmup, ok=checked("1101", ok_answer)),
        "HTTP 2303 trial": run_load(host, http, PATH, cycling("trial", trial_body), concurrency=CONNECTIONS,
                                    seconds=seconds, warmup=warmup, ok=checked("2303", ok_answer)),
        "HTTP 2301 upload": run_load(host, http, PATH, lambda n: upload_body(stays["upload"][n], next(batches),
                                                                             next(serial)),
                                     concurrency=CONNECTIONS, seconds=seconds, warmup=warmup,
                                     ok=checked("2301", ok_answer)),
        "SOAP dhc InpatPreSettle": run_load(host, http, "/soap/dhc", cycling("trial", dhc_trial),
                                            concurrency=CONNECTIONS, seconds=seconds, warmup=warmup,
                                            ok=checked("dhc", lambda a: b"&lt;ResultCode&gt;0&lt;/ResultCode&gt;" in a),
                                            content_type="text/xml; charset=utf-8"),
        "SOAP ncms GetPersonInfo": run_load(host, http, "/soap/ncms", lambda _n: ncms_person(next(serial)),
                                            concurrency=CONNECTIONS, seconds=seconds, warmup=warmup,
                                            ok=checked("ncms", lambda a: b"Result>0<" in a),
                                            content_type="text/xml; charset=utf-8"),
        "DLL neusoft 2420 trial": closed_loop(host, ports["dll"], cycling("trial", dll_trial), dll_exchange,
                                              concurrency=CONNECTIONS, seconds=seconds, warmup=warmup,
                                              ok=checked("dll", dll_ok)),
        "HL7 ZSR^Z01 trial": run_mllp_load(host, ports["hl7"], cycling("trial", zsr_trial), concurrency=CONNECTIONS,
                                           seconds=seconds, warmup=warmup, ok=checked("hl7", hl7_accepted)),
    }
    results = await asyncio.gather(*runs.values())
    return {name: Figures.of(result) for name, result in zip(runs, results, strict=True)}


async def stalled_connection(port: int, start: bytes, hostile: Hostile, stop: asyncio.Event) -> None:
    """The start of a message, then silence; reopened whenever the gateway drops it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        hostile.stalled_opened += 1
        try:
            writer.write(start)
            await writer.drain()
            closed = asyncio.ensure_future(reader.read())  # b"" (or an error) once the gateway lets go
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([closed, stopping], return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                hostile.stalled_dropped += 1
            for task in (closed, stopping):
                task.cancel()
        except OSError:
            hostile.stalled_dropped += 1
        finally:
            writer.close()


async def slowloris(port: int, hostile: Hostile, stop: asyncio.Event) -> None:
    head = (f"POST {PATH} HTTP/1.1\r\nHost: x\r\nUser-Agent: {'s' * 2000}\r\n\r\n").encode()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        hostile.slowloris_opened += 1
        opened = time.monotonic()
        try:
            for byte in range(len(head)):
                if stop.is_set():
                    break
                writer.write(head[byte:byte + 1])
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                        raise ConnectionResetError
        except OSError:
            hostile.slowloris_cut += 1
            hostile.slowloris_lifetimes.append(time.monotonic() - opened)
        finally:
            writer.close()


async def sample(pid: int, process: Process, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(OSError):
            process.rss_mb.append(rss_mb(pid))
            process.fds.append(len(os.listdir(f"/proc/{pid}/fd")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def soak(ports: dict[str, int], pid: int, stays: dict[str, list[PreparedStay]], args: argparse.Namespace
               ) -> dict[str, object]:
    quiet_process, hostile_process = Process(), Process()
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(sample(pid, quiet_process, stop))
    quiet = await normal_traffic(ports, stays, args.quiet, 2.0) if args.quiet else {}
    stop.set()
    await sampler

    hostile, stop = Hostile(), asyncio.Event()
    starts = {"http": (f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {1024 * 1024}\r\n\r\n").encode() + b"{" * 8192,
              "dll": struct.pack(">I", 1024 * 1024) + b"neusoft-dll\0" + b"x" * 8192,
              "hl7": b"\x0bMSH|^~\\&|HIS|" + HOSPITAL.encode() + b"|" + b"x" * 8192}
    kinds = list(starts)
    attackers = [asyncio.ensure_future(stalled_connection(ports[kinds[n % 3]], starts[kinds[n % 3]], hostile, stop))
                 for n in range(args.stalled)]
    attackers += [asyncio.ensure_future(slowloris(ports["http"], hostile, stop)) for _ in range(args.slowloris)]
    sampler = asyncio.ensure_future(sample(pid, hostile_process, stop))
    await asyncio.sleep(3.0)  # the hostile connections are open before the measured traffic starts
    under_abuse = await normal_traffic(ports, stays, args.seconds, 2.0)
    stop.set()
    await asyncio.gather(*attackers, sampler, return_exceptions=True)
    lifetimes = sorted(hostile.slowloris_lifetimes)
    return {
        "seconds": args.seconds, "stalled": args.stalled, "slowloris": args.slowloris,
        "quiet": {name: asdict(f) for name, f in quiet.items()},
        "under_abuse": {name: asdict(f) for name, f in under_abuse.items()},
        "hostile": {"stalled_opened": hostile.stalled_opened, "stalled_dropped": hostile.stalled_dropped,
                    "slowloris_opened": hostile.slowloris_opened, "slowloris_cut": hostile.slowloris_cut,
                    "slowloris_lifetime_s_max": round(lifetimes[-1], 2) if lifetimes else None},
        "wrong_answers": BAD,
        "process": {phase: {"rss_mb_min": min(p.rss_mb, default=0), "rss_mb_max": max(p.rss_mb, default=0),
                            "fds_max": max(p.fds, default=0)}
                    for phase, p in (("quiet", quiet_process), ("under_abuse", hostile_process))},
    }


def report(figures: dict[str, object]) -> None:
    for phase in ("quiet", "under_abuse"):
        rows = figures[phase]
        assert isinstance(rows, dict)
        if not rows:
            continue
        print(f"\n{phase.replace('_', ' ')}:")
        print(f"  {'dialect / transaction':30} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, f in rows.items():
            print(f"  {name:30} {f['requests']:>9} {f['rate']:>8} {f['p50_ms']:>8} {f['p99_ms']:>8} {f['errors']:>7}")
        total = sum(f["requests"] for f in rows.values())
        errors = sum(f["errors"] for f in rows.values())
        worst = max(f["p99_ms"] for f in rows.values())
        print(f"  all: {total} requests, error rate {errors / total if total else 0:.4%}, worst p99 {worst} ms")
    print(f"\nhostile client: {figures['hostile']}")
    print(f"gateway process: {figures['process']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hisgw soak under abuse (issue 12)")
    parser.add_argument("--seconds", type=float, default=600.0, help="the phase under abuse (default 600)")
    parser.add_argument("--quiet", type=float, default=30.0, help="the phase before it, without the hostile client")
    parser.add_argument("--stalled", type=int, default=500)
    parser.add_argument("--slowloris", type=int, default=50)
    parser.add_argument("--json", type=Path, default=Path("var/soak.json"))
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db = work / "hisgw.sqlite"
        stays = {"trial": prepare_stays(db, 200, 10), "upload": prepare_stays(db, CONNECTIONS, 0)}
        ports = {"http": free_port(), "dll": free_port(), "hl7": free_port()}
        command = [sys.executable, "-m", "gateway.cli", "--db", str(db), "serve", "--port", str(ports["http"]),
                   "--dll-port", str(ports["dll"]), "--hl7-port", str(ports["hl7"]), "--log-format", "json"]
        with server(command, ports["http"], work / "serve.log", ports["dll"], ports["hl7"]) as process:
            figures = asyncio.run(soak(ports, process.pid, stays, args))
        log_lines = sum(b'"exchange"' not in line for line in (work / "serve.log").read_bytes().splitlines())
        figures["log_lines_besides_exchanges"] = log_lines
        args.json.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "serve.log", args.json.with_suffix(".log"))
    report(figures)
    print(f"server log: {log_lines} lines besides the one per exchange")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

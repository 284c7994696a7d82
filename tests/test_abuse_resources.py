"""Resource exhaustion against a real `hisgw serve` process (issue 12): what a client without credentials can
make the gateway hold. The figures are the process's own (/proc/PID/status VmRSS, /proc/PID/fd), with the
[limits] lowered so each test takes seconds: a 16 MB bytes-in-flight budget, a 1 s header timeout, a 4 s read
timeout, RLIMIT_NOFILE 1,024 set on the running process (prlimit) with a reserve of 64.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.settings import Settings
from tests.processes import free_port, start_serve

CALL = "/fsi/api/rsfComIfsService/callService"
NOFILE = 1024
CONFIG = """
[limits]
memory_budget_mb = 16
budget_wait = 0.3
header_timeout = 1.0
read_timeout = 4.0
fd_reserve = 64
log_interval = 5
"""
CERTNO = "43052119580312013X"  # D0001 of the demo county
HOSPITAL = "H43052100002"
MB = 1024 * 1024


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    http: int
    dll: int
    hl7: int
    log: Path

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # this test's own client sockets
    folder = tmp_path_factory.mktemp("abuse")
    db, config, log = folder / "hisgw.sqlite", folder / "hisgw.toml", folder / "serve.log"
    assert main(["--db", str(db), "demo", "load"]) == 0
    config.write_text(CONFIG, encoding="utf-8")
    hl7 = free_port()
    process, url, dll = start_serve(db, log, "--log-format", "json", config=config, hl7_port=hl7)
    resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    try:
        served = Served(process, int(url.rsplit(":", 1)[1]), dll, hl7, log)
        assert national_1101(served) == 0  # warm: the first call compiles and caches what every call uses
        yield served
    finally:
        process.terminate()
        process.wait(10)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect(port: int, timeout: float = 2.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setblocking(False)
    return sock


def push(sock: socket.socket, data: bytes) -> int:
    """As much of `data` as the kernel takes now, without waiting (a stalled sender's partial message)."""
    view, sent = memoryview(data), 0
    while sent < len(data):
        try:
            sent += sock.send(view[sent:])
        except (BlockingIOError, ConnectionError):
            break
    return sent


def national_1101(served: Served, timeout: float = 2.0) -> int:
    """The national 1101 over a fresh HTTP connection: its infcode (503 busy answers count as -1)."""
    envelope = {"infno": "1101", "msgid": f"{HOSPITAL}{time.strftime('%Y%m%d%H%M%S')}{time.monotonic_ns() % 10000:04d}",
                "fixmedins_code": HOSPITAL, "inf_time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO}}}
    body = json.dumps(envelope).encode()
    with socket.create_connection(("127.0.0.1", served.http), timeout=timeout) as sock:
        sock.sendall(f"POST {CALL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    infcode: int = json.loads(answer.split(b"\r\n\r\n", 1)[1])["infcode"]
    return infcode


def dll_call(served: Served, timeout: float = 2.0) -> tuple[int, str]:
    """Neusoft 2100 (read card) in a DLL frame over a fresh connection: (rc, output)."""
    payload = b"neusoft-dll\0" + f"2100^{HOSPITAL}^001^C^R{time.monotonic_ns()}^430521^{CERTNO}|1|^1^".encode("gbk")
    with socket.create_connection(("127.0.0.1", served.dll), timeout=timeout) as sock:
        sock.sendall(struct.pack(">I", len(payload)) + payload)
        return read_dll_answer(sock)


def read_dll_answer(sock: socket.socket) -> tuple[int, str]:
    head = recv_exactly(sock, 8)
    length, rc = struct.unpack(">Ii", head)
    return rc, recv_exactly(sock, length - 4).decode("gbk")


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def paced_send(sock: socket.socket, data: bytes) -> None:
    """1 MB every 10 ms (about 800 Mbit/s): on loopback the kernel would otherwise take 20 MB at once, which a
    real network never does, and a gateway that stops reading half-way could not be told from one that drains."""
    view = memoryview(data)
    for start in range(0, len(data), MB):
        sock.sendall(view[start:start + MB])
        time.sleep(0.01)


def mllp_answer(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\x1c\r"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data


def until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def eventually(attempt: Callable[[], bool], seconds: float) -> bool:
    """An attempt retried (a busy answer, a refused or reset connection) until it succeeds or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, struct.error):
            if attempt():
                return True
        time.sleep(0.2)
    return False


def test_stalled_partial_messages_are_bounded_and_memory_goes_back(served: Served) -> None:
    """200 stalled partial messages per listener, each 512 KB of a message declared 16 MB: 300 MB offered. The
    gateway holds at most its 16 MB budget of them (plus each stream's own ≤ 64 KB buffer); the rest wait
    briefly and are refused. Before the budget the listeners kept every byte (readexactly of the declared
    frame, aiohttp's read() of the body, MLLP's readuntil): RSS grew by the 300 MB and stayed."""
    before = served.rss_mb()
    part = b"x" * (512 * 1024)
    http_head = (f"POST {CALL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {16 * MB - 1}\r\n\r\n").encode()
    dll_head = struct.pack(">I", 16 * MB - 1) + b"neusoft-dll\0"
    mllp_head = b"\x0bMSH|^~\\&|HIS|" + HOSPITAL.encode() + b"|"
    stalled: list[socket.socket] = []
    try:
        for port, head in ((served.http, http_head), (served.dll, dll_head), (served.hl7, mllp_head)):
            for _ in range(200):
                sock = connect(port)
                push(sock, head + part)
                stalled.append(sock)
        peak = before
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            peak = max(peak, served.rss_mb())
            time.sleep(0.1)
    finally:
        for sock in stalled:
            sock.close()
    assert peak - before < 120, f"RSS {before:.0f} MB → {peak:.0f} MB with 600 stalled messages"
    assert until(lambda: served.rss_mb() - before < 20, 4.0), (
        f"RSS {before:.0f} MB → {served.rss_mb():.0f} MB after the stalled connections closed")


def test_a_slowloris_is_cut_after_the_header_timeout(served: Served) -> None:
    """50 connections sending a request head one byte every 0.2 s: each is closed about 1 s (header_timeout)
    after it opened, however steadily it trickles; before, aiohttp's keep-alive timer (3,630 s) let them be."""
    fds_before = served.fds()
    head = f"POST {CALL} HTTP/1.1\r\nHost: x\r\nX-Padding: {'a' * 200}".encode()
    socks = [connect(served.http) for _ in range(50)]
    opened = time.monotonic()
    open_ones = set(range(len(socks)))
    closed_at: dict[int, float] = {}
    try:
        for byte in range(len(head)):
            if not open_ones or time.monotonic() - opened > 4.0:
                break
            for i in list(open_ones):
                try:
                    socks[i].send(head[byte:byte + 1])
                    if socks[i].recv(1024) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                except (ConnectionError, OSError):
                    open_ones.discard(i)
                    closed_at[i] = time.monotonic() - opened
            time.sleep(0.2)
    finally:
        for sock in socks:
            sock.close()
    assert not open_ones, f"{len(open_ones)} of 50 slow connections still open after 4 s"
    assert max(closed_at.values()) < 3.0, sorted(closed_at.values())
    assert until(lambda: served.fds() <= fds_before + 5, 2.0), (fds_before, served.fds())


def test_silent_sockets_do_not_stop_a_1101_or_a_dll_call(served: Served) -> None:
    """1,500 silent sockets, 500 on each listener, against a process limited to 1,024 descriptors: each listener
    takes at most its share (a third of 1,024 − 64) and answers the rest busy, so descriptors never run out; the
    HTTP and DLL silent ones are closed after header_timeout; a 1101 over HTTP and a DLL call are answered
    within seconds while the MLLP ones stay. Before, accept() failed with EMFILE (and logged each failure),
    and the silent sockets held the descriptors for the keep-alive and idle timeouts."""
    log_before = served.log.read_bytes().count(b"\n")
    silent: list[socket.socket] = []
    highest = 0
    try:
        for port in (served.hl7, served.http, served.dll):
            for _ in range(500):
                with contextlib.suppress(OSError):
                    silent.append(connect(port, timeout=0.5))
            highest = max(highest, served.fds())
        started = time.monotonic()
        answered = {"1101": eventually(lambda: national_1101(served) == 0, 5.0),
                    "dll": eventually(lambda: dll_call(served)[0] == 0, 5.0)}
        took = time.monotonic() - started
        highest = max(highest, served.fds())
    finally:
        for sock in silent:
            sock.close()
    assert answered == {"1101": True, "dll": True}, f"answered: {answered} after {took:.1f} s"
    assert highest < NOFILE, highest
    log = served.log.read_bytes().split(b"\n")[log_before:]
    assert sum(b"accept_failed" in line for line in log) <= 2
    assert len(log) < 200, f"{len(log)} log lines for 1,500 silent sockets"


def test_a_20_mb_mllp_frame_gets_msa_ar_and_a_20_mb_dll_frame_its_refusal(served: Served) -> None:
    """The MLLP listener refuses a message over 8 MB with MSA|AR HG1001 and drops the rest of the frame, so a
    sender that writes all 20 MB before reading gets the ACK (before: a TCP reset). A DLL frame whose length
    says 20 MB is refused before it is read (-1), and its bytes are drained the same way."""
    message = b"MSH|^~\\&|HIS|" + HOSPITAL.encode() + b"|HISGW|NHSA|20260301080000||ADT^A01|BIG1|P|2.5\r"
    frame = b"\x0b" + message + b"Z" * (20 * MB) + b"\x1c\r"
    with socket.create_connection(("127.0.0.1", served.hl7), timeout=10) as sock:
        paced_send(sock, frame)  # all of it, at a network's pace, then the answer
        ack = mllp_answer(sock)
        assert sock.recv(1) == b""  # then an orderly close (before: a reset, ECONNRESET here or while sending)
    assert b"MSA|AR|" in ack and b"HG1001" in ack, ack

    big = b"neusoft-dll\0" + b"Z" * (20 * MB)
    with socket.create_connection(("127.0.0.1", served.dll), timeout=10) as sock:
        paced_send(sock, struct.pack(">I", len(big)) + big)
        rc, text = read_dll_answer(sock)
        assert sock.recv(1) == b""
    assert rc == -1 and "too large" in text
    assert national_1101(served) == 0 and dll_call(served)[0] == 0  # and both listeners go on


def test_limits_are_read_from_the_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "hisgw.toml"
    path.write_text(CONFIG + "max_connections = 300\n", encoding="utf-8")
    settings = Settings.from_file(path)
    assert (settings.memory_budget_mb, settings.header_timeout, settings.read_timeout, settings.fd_reserve,
            settings.max_connections, settings.limits_log_interval, settings.dll_idle_timeout) == (
        16, 1.0, 4.0, 64, 300, 5.0, 120.0)
    path.write_text("[limits]\nheader_timeout = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header_timeout"):
        Settings.from_file(path)
    path.write_text("[limits]\nheader_timout = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown setting"):
        Settings.from_file(path)

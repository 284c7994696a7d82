"""Ports: `hisgw serve` checks every listener's port before starting any and names a taken one in one line; and
the suite's gateway-starting helpers take free ports for every listener, so the suite runs beside `make serve`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import pytest

from gateway.cli import main
from gateway.ports import port_problem
from gateway.settings import Settings
from simulators.inprocess import local_gateway
from tests.processes import free_port, start_serve

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = Settings()


def listening(port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.fixture
def defaults_busy() -> Iterator[list[int]]:
    """The default ports (8080, 8081, 2575) held by this test where they are free; where they are not, something
    else (a live `make serve`) already holds them, which is the case to prove too."""
    with ExitStack() as stack:
        held = []
        for port in (DEFAULTS.http_port, DEFAULTS.dll_port, DEFAULTS.hl7_port):
            try:
                stack.enter_context(listening(port))
                held.append(port)
            except OSError:
                pass
        yield held


def test_port_problem_names_the_listener() -> None:
    with listening(0) as busy:
        taken = busy.getsockname()[1]
        free = free_port()
        for name in ("http", "dll", "hl7"):
            listeners = [(other, taken if other == name else free_port()) for other in ("http", "dll", "hl7")]
            assert port_problem("127.0.0.1", listeners) == (name, taken, "Address already in use")
        assert port_problem("127.0.0.1", [("http", free), ("dll", free)]) == (
            "dll", free, "the same port as the http listener")
        assert port_problem("127.0.0.1", [("http", free), ("dll", 0), ("hl7", 0)]) is None


def test_a_taken_port_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    http_port, dll_port = free_port(), free_port()
    with listening(0) as busy:
        hl7_port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "--db", str(db), "serve", "--port", str(http_port), "--dll-port",
             str(dll_port), "--hl7-port", str(hl7_port)], capture_output=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1 and done.stdout == b""
    (line,) = done.stderr.decode("utf-8").splitlines()  # one line, no traceback
    event = json.loads(line)
    assert (event["event"], event["listener"], event["port"]) == ("port_unavailable", "hl7", hl7_port)
    assert event["problem"] == "Address already in use"
    for port in (http_port, dll_port):  # nothing was listening before it stopped: both are still free
        listening(port).close()


async def test_the_suites_gateway_helpers_take_free_ports(defaults_busy: list[int], tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    server, url, dll_port = start_serve(db, tmp_path / "hisgw.log")  # tests/processes.py
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as response:
            assert response.status == 200
        assert dll_port not in (DEFAULTS.dll_port, 0)
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    log = (tmp_path / "hisgw.log").read_text(encoding="utf-8")
    ports = {json.loads(line)["listener"]: json.loads(line)["port"] for line in log.splitlines()
             if '"listening"' in line}
    assert set(ports) == {"http", "dll", "hl7"}
    assert not set(ports.values()) & {DEFAULTS.http_port, DEFAULTS.dll_port, DEFAULTS.hl7_port}
    async with local_gateway(ROOT / "mappings") as local:  # the simulator's in-process gateway (tests use it)
        assert not {int(local.url.rsplit(":", 1)[1]), local.dll_port, local.hl7_port} & {
            DEFAULTS.http_port, DEFAULTS.dll_port, DEFAULTS.hl7_port}

"""`make serve` as a newcomer runs it, on free ports: the demo county loaded (`hisgw demo load`), then
`hisgw serve` in a process of its own. Used by the tests that play examples/ and the README's commands."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.processes import start_serve_ports

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoGateway:
    url: str
    http_port: int
    dll_port: int
    hl7_port: int
    db: Path
    log: Path


@contextmanager
def demo_gateway(folder: Path, *extra: str) -> Iterator[DemoGateway]:
    db, log = folder / "var" / "hisgw.sqlite", folder / "serve.log"  # var/: where `make serve` keeps it
    db.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "gateway.cli", "--db", str(db), "demo", "load"], check=True, cwd=ROOT,
                   capture_output=True)
    process, url, dll_port, hl7_port = start_serve_ports(db, log, *extra)
    try:
        for port in (dll_port, hl7_port):  # HTTP accepts first; the other listeners follow within moments
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        yield DemoGateway(url, int(url.rsplit(":", 1)[1]), dll_port, hl7_port, db, log)
    finally:
        process.terminate()
        process.wait(timeout=20)

"""`hisgw serve` in a process of its own, as an operator runs it (and as kill -9 meets it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(db: Path, log: Path, *extra: str, config: Path | None = None,
                hl7_port: int | None = None) -> tuple[subprocess.Popen[bytes], str, int]:
    """(process, base URL, DLL port), once the HTTP listener accepts connections. `config`: a settings file."""
    port, dll_port, hl7_port = free_port(), free_port(), hl7_port or free_port()
    settings = ["--config", str(config)] if config else []
    with log.open("ab") as out:
        command = [sys.executable, "-m", "gateway.cli", *settings, "--db", str(db), "serve", "--port", str(port),
                   "--dll-port", str(dll_port), "--hl7-port", str(hl7_port), *extra]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}", dll_port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"hisgw serve did not start: {log.read_text(encoding='utf-8', errors='replace')}")

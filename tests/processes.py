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


def serve_command(db: Path, port: int, *extra: str, init: bool | None = None, dll_port: int = 0,
                  hl7_port: int = 0, config: Path | None = None) -> list[str]:
    """`hisgw serve` on free ports; `init` (--init: create the database) by default only for a new file;
    `config`: a settings file."""
    create = not db.exists() if init is None else init
    settings = ["--config", str(config)] if config else []
    return [sys.executable, "-m", "gateway.cli", *settings, "--db", str(db), "serve", *(["--init"] if create else []),
            "--port", str(port), "--dll-port", str(dll_port or free_port()), "--hl7-port",
            str(hl7_port or free_port()), *extra]


def start_serve(db: Path, log: Path, *extra: str, init: bool | None = None, config: Path | None = None,
                hl7_port: int | None = None) -> tuple[subprocess.Popen[bytes], str, int]:
    """(process, base URL, DLL port), once the HTTP listener accepts connections."""
    process, url, dll_port, _hl7_port = start_serve_ports(db, log, *extra, init=init, config=config,
                                                          hl7_port=hl7_port)
    return process, url, dll_port


def start_serve_ports(db: Path, log: Path, *extra: str, init: bool | None = None, config: Path | None = None,
                      hl7_port: int | None = None) -> tuple[subprocess.Popen[bytes], str, int, int]:
    """(process, base URL, DLL port, HL7 port), once the HTTP listener accepts connections."""
    port, dll_port, hl7_port = free_port(), free_port(), hl7_port or free_port()
    command = serve_command(db, port, *extra, init=init, dll_port=dll_port, hl7_port=hl7_port, config=config)
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}", dll_port, hl7_port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"hisgw serve did not start: {log.read_text(encoding='utf-8', errors='replace')}")

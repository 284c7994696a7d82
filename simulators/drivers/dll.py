"""DLL transport: BUSINESS_HANDLE(in, out) of the hisgw library (dll/hisgw_dll.c), loaded with ctypes exactly
as a HIS loads its vendor's DLL, configured (hisgw_dll.ini) for one dialect and one gateway."""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.mapping.model import Dialect, Trade
from simulators.drivers.base import Delivery

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "dll" / "hisgw_dll.c"
BUILT = ROOT / "build" / "libhisgw_dll.so"
GCC_FLAGS = ["-std=c99", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-shared",
             "-fvisibility=hidden"]
OUT_SIZE = 1 << 20  # the HIS's output buffer: a fee batch answer of a few thousand lines fits
_ENV_LOCK = threading.Lock()  # INIT reads HISGW_DLL_CONFIG from the process environment


class LibraryMissing(RuntimeError):
    pass


def build_library(out: Path) -> Path:
    """dll/hisgw_dll.c compiled with the Makefile's flags (what `make dll` does)."""
    if shutil.which("gcc") is None or not SOURCE.exists():
        raise LibraryMissing(f"{out} is missing and cannot be built here (needs gcc and {SOURCE}); run `make dll`")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", *GCC_FLAGS, "-o", str(out), str(SOURCE), "-lpthread", "-lcrypto"], check=True)
    return out


def library_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        if not explicit.exists():
            raise LibraryMissing(f"no DLL library at {explicit}")
        return explicit
    if not BUILT.exists() or (SOURCE.exists() and SOURCE.stat().st_mtime > BUILT.stat().st_mtime):
        build_library(BUILT)
    return BUILT


class DllTransport:
    """One private copy of the library per dialect and gateway: INIT reads its configuration once per image."""

    def __init__(self, dialect: Dialect, host: str, port: int, library: Path, *, threads: int = 32,
                 timeout_ms: int = 30000) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix=f"hisgw-sim-{dialect.name}-")
        folder = Path(self._folder.name)
        copy = folder / library.name
        shutil.copy(library, copy)
        config = folder / "hisgw_dll.ini"
        config.write_text(f"host = {host}\nport = {port}\ntimeout_ms = {timeout_ms}\ndialect = {dialect.name}\n"
                          f"out_size = {OUT_SIZE}\n", encoding="ascii")
        with _ENV_LOCK:
            before = os.environ.get("HISGW_DLL_CONFIG")
            os.environ["HISGW_DLL_CONFIG"] = str(config)
            try:
                self._lib = ctypes.CDLL(str(copy))
                self._lib.INIT.argtypes = [ctypes.c_char_p]
                self._lib.INIT.restype = ctypes.c_int
                self._lib.BUSINESS_HANDLE.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
                self._lib.BUSINESS_HANDLE.restype = ctypes.c_int
                err = ctypes.create_string_buffer(256)
                rc = self._lib.INIT(err)
            finally:
                if before is None:
                    os.environ.pop("HISGW_DLL_CONFIG", None)
                else:
                    os.environ["HISGW_DLL_CONFIG"] = before
        if rc != 0:
            raise LibraryMissing(f"INIT returned {rc}: {err.value.decode('gbk', 'replace')}")
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"his-{dialect.name}")

    def _handle(self, raw: bytes) -> tuple[int, bytes]:
        out = ctypes.create_string_buffer(OUT_SIZE)
        rc = self._lib.BUSINESS_HANDLE(raw, out)
        return int(rc), out.value

    async def send(self, raw: bytes, trade: Trade) -> Delivery:
        rc, body = await asyncio.get_running_loop().run_in_executor(self._pool, self._handle, raw)
        return Delivery(body=body, rc=rc, meta=f"rc={rc}")

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._folder.cleanup()  # the loaded image stays mapped; the file is no longer needed

"""A gateway started inside the simulator's process on 127.0.0.1: the demo county's reference data
(`hisgw demo load`), its policy or the policy files given, the HTTP listener (JSON and SOAP), the DLL listener
and the MLLP listener (HL7 v2)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gateway.adapters.dll_listener import start_dll_listener
from gateway.adapters.mllp_listener import MllpListener
from gateway.app import build_app, build_gateway
from gateway.mapping.model import Dialect
from gateway.mapping.registry import check_all
from gateway.refdata.read import read_rows
from gateway.runtime import Gateway
from gateway.service.refdata import import_rows
from gateway.settings import Settings
from gateway.store.factory import open_store

DEMO_DIR = Path(__file__).resolve().parents[1] / "gateway" / "data" / "demo"
DEMO_FILES = (("hospitals", "hospitals.csv"), ("identities", "identities.csv"), ("catalogue", "catalogue.csv"),
              ("persons", "persons.csv"))


@dataclass
class LocalGateway:
    url: str
    dll_port: int
    gateway: Gateway
    dialects: dict[str, Dialect]
    hl7_port: int = 0


def load_demo(db_path: Path) -> None:
    store = open_store(db_path, create=True)
    try:
        for kind, name in DEMO_FILES:
            import_rows(store, kind, read_rows(DEMO_DIR / name))
    finally:
        store.close()


@asynccontextmanager
async def local_gateway(mappings: Path, *, policy_files: tuple[Path, ...] = (),
                        db_dir: Path | None = None) -> AsyncIterator[LocalGateway]:
    dialects, errors = check_all(mappings)
    if errors:
        raise ValueError("the gateway's mapping files do not compile:\n" + "\n".join(map(str, errors)))
    with tempfile.TemporaryDirectory(prefix="hisgw-sim-") as scratch:
        db_path = (db_dir or Path(scratch)) / "hisgw.sqlite"
        load_demo(db_path)
        gateway = build_gateway(Settings(db_path=db_path, policy_files=policy_files))
        runner = web.AppRunner(build_app(gateway, lambda: dialects), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        dll = await start_dll_listener(gateway, lambda: dialects, "127.0.0.1", 0)
        mllp = MllpListener(gateway, lambda: dialects)
        await mllp.start("127.0.0.1", 0)
        try:
            http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            yield LocalGateway(url=f"http://127.0.0.1:{http_port}", dll_port=dll.sockets[0].getsockname()[1],
                               gateway=gateway, dialects=dialects, hl7_port=mllp.port)
        finally:
            await mllp.stop()
            dll.close()
            await dll.wait_closed()
            await runner.cleanup()
            gateway.close()

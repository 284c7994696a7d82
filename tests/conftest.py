from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_gateway
from gateway.mapping.registry import check_all
from gateway.settings import Settings
from tests.support import Served, load_reference_data

MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"
DIALECTS, _PROBLEMS = check_all(MAPPINGS)
assert not _PROBLEMS, _PROBLEMS


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """A real gateway on 127.0.0.1 over a real SQLite file, loaded with the test county's reference data."""
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    server = TestServer(build_app(gateway, lambda: DIALECTS), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            await load_reference_data(session, url)
            yield Served(url=url, session=session, gateway=gateway)
    finally:
        await server.close()
        gateway.close()

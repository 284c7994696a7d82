"""The golden fixtures replay against `make serve`'s data: a gateway loaded by `hisgw demo load` and nothing else.

The fixtures play on the joint-testing entries (hospital T2, catalogue A/B10/C, persons TP0001-TP0002) that
`hisgw demo load` adds after the demo county (gateway/data/demo/joint-test-*.csv). Each .out is compared as
tests/test_golden_dialects.py compares it, so a fixture that names something the demo lacks fails here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_gateway
from gateway.cli import main
from gateway.settings import Settings
from tests.conftest import DIALECTS
from tests.support import Served
from tests.test_golden_dialects import ROOT, differences, exchange, structure


@pytest.fixture
async def demo_served(tmp_path: Path) -> AsyncIterator[Served]:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    gateway = build_gateway(Settings(db_path=db))
    server = TestServer(build_app(gateway, lambda: DIALECTS), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(url=str(server.make_url("")).rstrip("/"), session=session, gateway=gateway)
    finally:
        await server.close()
        gateway.close()


@pytest.mark.parametrize("dialect_name", sorted(p.name for p in (ROOT / "fixtures").iterdir() if p.is_dir()))
async def test_golden_exchanges_on_the_demo_data(demo_served: Served, dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    for case in sorted((ROOT / "fixtures" / dialect_name).glob("*.in")):
        status, out = await exchange(demo_served, dialect, case.read_bytes())
        expected_status, _, expected = case.with_suffix(".out").read_bytes().partition(b"\n")
        wanted = (json.loads(expected) if expected.lstrip().startswith((b"{", b"["))
                  else structure(dialect, expected))
        assert (status, differences(wanted, structure(dialect, out))) == (expected_status.decode(), []), case.name

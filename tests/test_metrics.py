"""GET /metrics and GET /health over real sockets: counters scraped before and after a known set of calls
(HTTP and HL7 over MLLP), the money per fund against the answers' own setldetail, the token rule, and /health
turning 503 when the store cannot take a write."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hl7.mllp import open_hl7_connection
from prometheus_client.parser import text_string_to_metric_families

from gateway.adapters.mllp_listener import MllpListener
from gateway.adapters.ops_http import LISTENERS, METRICS_PUBLIC
from gateway.app import build_app, build_gateway
from gateway.auth.credentials import load_credentials
from gateway.auth.signature import Authenticator
from gateway.settings import Settings
from simulators.nhsa_client import NhsaClient
from tests.conftest import DIALECTS, MAPPINGS
from tests.processes import start_serve
from tests.support import PERSONS, Journey, Served, failed, ok
from tests.test_auth import CREDENTIALS, READER
from tests.test_dialect_hl7 import His

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> Samples:
    async with session.get(f"{url}/metrics", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def delta(before: Samples, after: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every series of `name` that moved, by its labels."""
    moved = {}
    for (sample, labels), value in after.items():
        if sample == name and value != before.get((sample, labels), 0.0):
            moved[labels] = value - before.get((sample, labels), 0.0)
    return moved


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


async def worked_example(journey: Journey) -> None:
    """DOMAIN.md's worked example (0001, level-2 hospital): 甲 14,500, 乙 4,000 at 10%, 丙 1,500."""
    ok(await journey.admit())
    ok(await journey.upload(journey.line("A", "14500.00"), journey.line("B10", "4000.00"),
                            journey.line("C", "1500.00")))


def fund_sums(*outputs: dict[str, Any], sign: int = 1) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for output in outputs:
        for row in output["setldetail"]:
            code = row["fund_pay_type"]
            sums[code] = sums.get(code, Decimal(0)) + sign * Decimal(str(row["fund_payamt"]))
    return sums


async def test_counters_move_by_exactly_the_calls_made(served: Served) -> None:
    mllp = MllpListener(served.gateway, lambda: DIALECTS)
    await mllp.start("127.0.0.1", 0)
    try:
        before = await scrape(served.session, served.url)
        his = served.his("T2")
        poor, ordinary = Journey(his, PERSONS["poor"]), Journey(his, PERSONS["ordinary"])
        await worked_example(poor)
        ok(await ordinary.admit())
        ok(await ordinary.upload(ordinary.line("A", "3000.00"), ordinary.line("C", "250.50")))
        ok(await poor.trial())
        first = ok(await poor.settle("20000.00", msgid="T220260301100000" + "0001"))
        again = ok(await poor.settle("20000.00", msgid="T220260301100000" + "0001"))  # a retry: replayed
        assert again == first
        second = ok(await ordinary.settle("3250.50"))
        failed(await poor.settle("20000.00"), "HG3004")  # already settled
        failed(await his.call("9999", {}), "HG1004")
        reversed_ = ok(await ordinary.reverse(second["setlinfo"]["setl_id"]))

        hl7_reader, hl7_writer = await open_hl7_connection("127.0.0.1", mllp.port)
        hl7_his = His(hl7_reader, hl7_writer)
        card = await hl7_his.ok("QRY^A19", f"QRD|20260301080000|R|I|Q0001|||1^RD|{PERSONS['poor'].certno}|DEM")
        assert card.whole("MSH", 9).startswith("ADR^A19")
        refused = await hl7_his.send("QRY^A19", "QRD|20260301080000|R|I|Q0002|||1^RD|430521199901010004|DEM")
        assert refused.status == "AE"
        hl7_writer.close()
        await hl7_writer.wait_closed()
        await asyncio.sleep(0.05)  # the listener sees the close
        after = await scrape(served.session, served.url)
    finally:
        await mllp.stop()

    http = {"dialect": "nhsa-http", "transport": "http"}
    expected_requests = {
        labels(**http, infno="2401", outcome="ok"): 2, labels(**http, infno="2301", outcome="ok"): 2,
        labels(**http, infno="2303", outcome="ok"): 1, labels(**http, infno="2304", outcome="ok"): 2,
        labels(**http, infno="2304", outcome="replayed"): 1, labels(**http, infno="2304", outcome="error"): 1,
        labels(**http, infno="", outcome="error"): 1, labels(**http, infno="2305", outcome="ok"): 1,
        labels(dialect="hl7v2", transport="hl7", infno="1101", outcome="ok"): 1,
        labels(dialect="hl7v2", transport="hl7", infno="1101", outcome="error"): 1,
    }
    assert delta(before, after, "hisgw_requests_total") == expected_requests
    assert delta(before, after, "hisgw_errors_total") == {
        labels(dialect="nhsa-http", infno="2304", code="HG3004"): 1,
        labels(dialect="nhsa-http", infno="", code="HG1004"): 1,
        labels(dialect="hl7v2", infno="1101", code="HG2001"): 1,  # the ID number nobody holds
    }

    # The latency histogram saw every exchange once, in its (dialect, infno) series.
    counts: Counter[tuple[str, str]] = Counter()
    for key, n in expected_requests.items():
        counts[(dict(key)["dialect"], dict(key)["infno"])] += n
    histogram = {(dict(k)["dialect"], dict(k)["infno"]): v
                 for k, v in delta(before, after, "hisgw_request_duration_seconds_count").items()}
    assert histogram == dict(counts)

    # Settlements and money: the 2304s that ran (not the replay), the 2305, the funds of their answers.
    assert delta(before, after, "hisgw_settlements_total") == {labels(dialect="nhsa-http"): 2}
    assert delta(before, after, "hisgw_settlement_reversals_total") == {labels(dialect="nhsa-http"): 1}
    paid = {dict(k)["fund_pay_type"]: v for k, v in delta(before, after, "hisgw_fund_paid_yuan_total").items()}
    assert {code: Decimal(str(round(v, 2))) for code, v in paid.items()} == fund_sums(first, second)
    # The worked example's own figures, written out: basic 15,172.50, 特惠保 1,463.75, assistance 1,171.00,
    # backstop 192.75; the ordinary stay adds its basic only.
    assert fund_sums(first) == {"390100": Decimal("15172.50"), "620100": Decimal("1463.75"),
                                "610100": Decimal("1171.00"), "640100": Decimal("192.75")}
    given_back = {dict(k)["fund_pay_type"]: v
                  for k, v in delta(before, after, "hisgw_fund_reversed_yuan_total").items()}
    assert {code: Decimal(str(round(v, 2))) for code, v in given_back.items()} == fund_sums(reversed_, sign=-1)
    assert fund_sums(reversed_, sign=-1) == fund_sums(second)

    # Every exchange is one journal row, written in one batch; the HL7 connection opened and closed.
    journal = {dict(k)["outcome"]: v for k, v in delta(before, after, "hisgw_journal_rows_total").items()}
    by_outcome: Counter[str] = Counter()
    for key, n in expected_requests.items():
        by_outcome[dict(key)["outcome"]] += n
    assert journal == dict(by_outcome) == {"ok": 9, "replayed": 1, "error": 3}
    assert delta(before, after, "hisgw_store_batch_calls_sum") == {labels(): 13}
    commits = sum(delta(before, after, "hisgw_store_batch_calls_count").values())
    assert sum(delta(before, after, "hisgw_store_commit_seconds_count").values()) == commits
    assert delta(before, after, "hisgw_listener_connections_total") == {labels(listener="http"): 11,
                                                                        labels(listener="hl7"): 1}
    assert after[("hisgw_listener_open_connections", labels(listener="hl7"))] == 0
    assert after[("hisgw_listener_open_connections", labels(listener="http"))] == 0


async def test_metrics_need_a_county_token_unless_public(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    apps = [build_app(gateway, lambda: DIALECTS, Authenticator(load_credentials(path))) for _ in range(2)]
    apps[1][METRICS_PUBLIC] = True
    servers = [TestServer(app, host="127.0.0.1") for app in apps]
    try:
        async with aiohttp.ClientSession() as session:
            for server in servers:
                await server.start_server()
            closed, public = (str(server.make_url("")).rstrip("/") for server in servers)
            async with session.get(f"{closed}/metrics") as response:
                assert response.status == 401
                assert (await response.json())["code"] == "HG4002"
            async with session.get(f"{closed}/metrics", headers={"Authorization": "Bearer wrong"}) as response:
                assert response.status == 401
            samples = await scrape(session, closed, READER)
            unsigned = await NhsaClient(session, closed, "T2").call("1101", {"data": {"psn_no": "TP0001"}})
            failed(unsigned, "HG4002")
            moved = await scrape(session, closed, READER)
            # refused before it became an exchange: an error with no infno, under its code
            assert delta(samples, moved, "hisgw_requests_total") == {
                labels(dialect="nhsa-http", transport="http", infno="", outcome="error"): 1}
            assert delta(samples, moved, "hisgw_errors_total") == {
                labels(dialect="nhsa-http", infno="", code="HG4002"): 1}
            await scrape(session, public)  # no token
            async with session.get(f"{closed}/health") as response:  # an orchestrator's probe needs none
                assert response.status == 200
    finally:
        for server in servers:
            await server.close()
        gateway.close()


def test_the_metrics_setting(tmp_path: Path) -> None:
    path = tmp_path / "hisgw.toml"
    path.write_text("[metrics]\npublic = true\n", encoding="utf-8")
    assert Settings.from_file(path).metrics_public is True
    assert Settings().metrics_public is False
    path.write_text("[metrics]\nopen = true\n", encoding="utf-8")
    with pytest.raises(ValueError, match="public"):
        Settings.from_file(path)


@pytest.fixture
async def health_app(tmp_path: Path) -> AsyncIterator[tuple[str, aiohttp.ClientSession, Any, asyncio.Server]]:
    """A gateway with a DLL-like TCP listener registered for /health, as `serve` registers its own."""
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    app = build_app(gateway, lambda: DIALECTS)
    listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    app[LISTENERS] = {"dll": listener}
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield str(server.make_url("")).rstrip("/"), session, gateway, listener
    finally:
        await server.close()
        listener.close()
        gateway.close()


async def health(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(f"{url}/health") as response:
        return response.status, await response.json()


async def test_health_is_503_while_another_process_holds_the_database(
        health_app: tuple[str, aiohttp.ClientSession, Any, asyncio.Server], tmp_path: Path) -> None:
    url, session, _gateway, listener = health_app
    status, document = await health(session, url)
    assert status == 200 and document["status"] == "ok", document
    assert document["store"]["writable"] is True
    assert document["listeners"]["dll"] == {"up": True, "port": listener.sockets[0].getsockname()[1]}
    other = sqlite3.connect(tmp_path / "hisgw.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. an operator's sqlite3 shell in a write transaction
    try:
        status, document = await health(session, url)
        assert status == 503 and document["status"] == "fail"
        assert document["store"]["writable"] is False and "did not take a write" in document["store"]["problem"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    for _ in range(100):  # the probe stuck behind the lock finishes as soon as it is released
        status, document = await health(session, url)
        if status == 200:
            break
        await asyncio.sleep(0.05)
    assert status == 200, document


async def test_health_is_503_when_the_store_is_closed_or_a_listener_stopped(
        health_app: tuple[str, aiohttp.ClientSession, Any, asyncio.Server]) -> None:
    url, session, gateway, listener = health_app
    listener.close()
    await listener.wait_closed()
    status, document = await health(session, url)
    assert status == 503 and document["listeners"]["dll"]["up"] is False and document["store"]["writable"] is True
    gateway.deps.store.close()
    status, document = await health(session, url)
    assert status == 503 and document["store"]["writable"] is False
    assert "closed" in document["store"]["problem"]


async def test_serve_reports_listeners_and_mapping_reloads(tmp_path: Path) -> None:
    """`hisgw serve` as an operator runs it: /health names its listeners, and a refused reload shows in
    /health and /metrics while the gateway goes on serving (200)."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    for source in MAPPINGS.glob("*.yaml"):
        shutil.copy(source, folder / source.name)
    process, url, dll_port = start_serve(tmp_path / "hisgw.sqlite", tmp_path / "serve.log", "--mappings", str(folder))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # HTTP listens first; the DLL and MLLP listeners right after
                status, document = await health(session, url)
                if status == 200:
                    break
                await asyncio.sleep(0.05)
            assert status == 200, document
            assert document["listeners"]["dll"] == {"up": True, "port": dll_port}
            assert document["listeners"]["hl7"]["up"] is True
            assert document["mappings"]["ok"] is True and document["mappings"]["dialects"] == len(DIALECTS)
            assert "backup" in document
            before = await scrape(session, url)
            assert before[("hisgw_mapping_reloads_total", labels(result="ok"))] == 1  # the load at start
            (folder / "broken.yaml").write_text("dialect: broken\ntransport: carrier-pigeon\n", encoding="utf-8")
            process.send_signal(signal.SIGHUP)  # at once (the folder is also polled every 2 s)
            for _ in range(100):
                after = await scrape(session, url)
                if after.get(("hisgw_mapping_reloads_total", labels(result="refused"))):
                    break
                await asyncio.sleep(0.1)
            assert after[("hisgw_mapping_last_reload_ok", labels())] == 0
            error = next(dict(k) for (name, k) in after if name == "hisgw_mapping_last_reload_error_info")
            assert error["file"] == str(folder / "broken.yaml") and error["line"] and error["problem"]
            assert after[("hisgw_mapping_dialects", labels())] == len(DIALECTS)  # the previous set serves
            status, document = await health(session, url)
            assert status == 200 and document["mappings"]["ok"] is False
            assert document["mappings"]["problems"][0]["file"] == str(folder / "broken.yaml")
    finally:
        process.terminate()
        process.wait(timeout=10)

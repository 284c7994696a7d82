"""The exchange journal: every exchange with its outcome, searchable over HTTP and on the command line, bodies
masked, clear or encrypted as set, pruned by age."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_gateway
from gateway.cli import main
from gateway.journal.model import JournalQuery
from gateway.settings import Settings
from tests.conftest import DIALECTS
from tests.support import PERSONS, Journey, Served, failed, load_reference_data, ok

CALL = "/fsi/api/rsfComIfsService/callService"


async def journal(served: Served, status: int = 200, **params: str) -> dict[str, Any]:
    async with served.session.get(f"{served.url}/journal/v1/exchanges", params=params) as response:
        assert response.status == status
        document: dict[str, Any] = await response.json()
        return document


async def rows(served: Served, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await journal(served, **params))["exchanges"]
    return found


async def post(served: Served, body: bytes) -> bytes:
    async with served.session.post(f"{served.url}{CALL}", data=body) as response:
        return await response.read()


async def journey(served: Served) -> tuple[Journey, dict[str, str]]:
    """A stay through settlement, a replay, a refusal and two unreadable messages; msgids by step."""
    stay = Journey(served.his(), PERSONS["poor"])
    msgids = {name: stay.his.new_msgid() for name in ("person", "admit", "settle", "again")}
    ok(await stay.his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": stay.person.certno}},
                           msgid=msgids["person"]))
    ok(await stay.admit(msgid=msgids["admit"]))
    ok(await stay.upload(stay.line("A", "14500.00"), stay.line("B10", "4000.00"), stay.line("C", "1500.00")))
    ok(await stay.settle("20000.00", msgid=msgids["settle"]))
    ok(await stay.settle("20000.00", msgid=msgids["settle"]))  # a retry: replayed
    failed(await stay.settle("20000.00", msgid=msgids["again"]), "HG3004")
    await post(served, b"{not json")
    await post(served, json.dumps({"infno": "7777", "msgid": "T2X", "fixmedins_code": "T2", "input": {}}).encode())
    return stay, msgids


async def test_every_exchange_has_a_row_with_its_outcome_and_keys(served: Served) -> None:
    stay, msgids = await journey(served)
    everything = await rows(served)
    assert [(r["infno"], r["outcome"]) for r in everything] == [
        ("", "error"), ("", "error"), ("2304", "error"), ("2304", "replayed"), ("2304", "ok"), ("2301", "ok"),
        ("2401", "ok"), ("1101", "ok")]  # newest first
    unknown_trade = everything[0]
    assert (unknown_trade["err_code"], unknown_trade["trade"], unknown_trade["msgid"]) == ("HG1004", "", "")
    assert everything[1]["err_code"] == "HG1001"
    settled = everything[4]
    assert (settled["dialect"], settled["transport"], settled["hospital"], settled["trade"]) == (
        "nhsa-http", "http", "T2", "2304")
    assert settled["psn_no"] == stay.person.psn_no and settled["mdtrt_id"] == stay.mdtrt_id
    assert settled["setl_id"] and settled["ms"] > 0 and settled["answered_at"] >= settled["received_at"]
    assert "request" not in settled  # bodies only when asked for
    assert (await rows(served, hospital="T2", person=stay.person.psn_no))[-1]["infno"] == "1101"  # key from answer
    admitted = await rows(served, msgid=msgids["admit"])
    assert [r["mdtrt_id"] for r in admitted] == [stay.mdtrt_id]  # the new mdtrt_id, filled from the answer

    assert [r["infno"] for r in await rows(served, stay=stay.mdtrt_id)] == ["2304", "2304", "2304", "2301", "2401"]
    assert [r["outcome"] for r in await rows(served, setl=settled["setl_id"])] == ["replayed", "ok"]
    assert [r["msgid"] for r in await rows(served, outcome="replayed")] == [msgids["settle"]]
    assert len(await rows(served, outcome="error")) == 3
    assert await rows(served, outcome="unknown") == []
    assert len(await rows(served, limit="2")) == 2
    day = settled["received_at"][:10]
    assert len(await rows(served, since=day, until=day)) == 8  # a bare `until` date: through that day
    yesterday = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    assert await rows(served, until=yesterday) == [] and await rows(served, since="2999-01-01") == []
    assert len(await rows(served, since=f"{day} 00:00", until=f"{yesterday}T23:59:59")) == 0
    assert (await journal(served, 400, outcome="lost"))["code"] == "HG1003"
    assert (await journal(served, 400, who="me"))["code"] == "HG1003"
    assert (await journal(served, 400, since="yesterday"))["code"] == "HG1003"


async def test_bodies_are_masked_by_default(served: Served) -> None:
    stay, msgids = await journey(served)
    certno, name = stay.person.certno, "测试poor"
    for row in await rows(served, raw="1"):
        for body in (row["request"], row["call"], row["answer"]):
            assert certno not in (body or "") and name not in (body or "")
    person = (await rows(served, msgid=msgids["person"], raw="1"))[0]
    assert f"{certno[:6]}********{certno[-4:]}" in person["request"]
    answer = json.loads(person["answer"])["output"]["baseinfo"]
    assert (answer["psn_name"], answer["certno"]) == ("测*****", f"{certno[:6]}********{certno[-4:]}")
    call = json.loads((await rows(served, msgid=msgids["settle"], outcome="ok", raw="1"))[0]["call"])
    assert call["call"] == "Settle" and call["body"]["mdtrt_id"] == stay.mdtrt_id
    assert call["body"]["medfee_sumamt"] == "20000.00" and call["context"]["infno"] == "2304"


@asynccontextmanager
async def gateway_with(tmp_path: Path, **settings: Any) -> AsyncIterator[Served]:
    """The `served` fixture's gateway with other journal settings."""
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite", **settings))
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


async def sent_and_answered(served: Served) -> tuple[bytes, bytes, str]:
    his = served.his()
    person = PERSONS["tekun"]
    msgid = his.new_msgid()
    request = json.dumps(his.envelope("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno}},
                                      msgid=msgid), ensure_ascii=False).encode("utf-8")
    return request, await post(served, request), msgid


async def test_clear_keeps_the_exact_bytes(tmp_path: Path) -> None:
    async with gateway_with(tmp_path, journal_raw="clear") as served:
        request, answer, msgid = await sent_and_answered(served)
        store = served.gateway.deps.store
        row = (await served.gateway.run(lambda: store.journal_search(JournalQuery(msgid=msgid, raw=True))))[0]
        assert (row.protection, row.request, row.answer) == ("clear", request, answer)


async def test_encrypt_keeps_nothing_readable_without_the_key(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cryptography")
    assert main(["journal", "key"]) == 0
    key = tmp_path / "journal.key"
    key.write_text(capsys.readouterr().out, encoding="ascii")
    config = tmp_path / "hisgw.toml"
    config.write_text('[store]\npath = "hisgw.sqlite"\n[journal]\nraw = "encrypt"\nkey_file = "journal.key"\n',
                      encoding="utf-8")
    async with gateway_with(tmp_path, journal_raw="encrypt", journal_key_file=key) as served:
        request, answer, msgid = await sent_and_answered(served)
        row = (await rows(served, msgid=msgid, raw="1"))[0]
        assert (row["protection"], row["request"], row["answer"], row["call"]) == ("encrypt", None, None, None)
    blobs = _journal_blobs(tmp_path)
    assert PERSONS["tekun"].certno.encode() not in blobs and "测试tekun".encode() not in blobs
    assert main(["--config", str(config), "journal", "--msgid", msgid, "--raw", "--json"]) == 0
    document = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (document["request"].encode("utf-8"), document["answer"].encode("utf-8")) == (request, answer)
    config.write_text('[store]\npath = "hisgw.sqlite"\n', encoding="utf-8")  # the default mode, and no key
    assert main(["--config", str(config), "journal", "--msgid", msgid, "--raw"]) == 0
    assert "(encrypted; set journal.key_file)" in capsys.readouterr().out


def _journal_blobs(tmp_path: Path) -> bytes:
    with sqlite3.connect(tmp_path / "hisgw.sqlite") as conn:
        return b"".join(bytes(b or b"") for row in conn.execute(
            "SELECT j.request, j.call, o.answer FROM journal j LEFT JOIN journal_outcomes o ON o.id = j.id")
                        for b in row)


async def test_command_line_search_and_prune(served: Served, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    stay, msgids = await journey(served)
    db = str(tmp_path / "hisgw.sqlite")
    assert main(["--db", db, "journal", "--msgid", msgids["settle"], "--outcome", "ok"]) == 0
    line = capsys.readouterr().out.strip()
    assert f"T2  nhsa-http/http  {msgids['settle']}  2304→2304  ok" in line and "setl=" in line
    assert main(["--db", db, "journal", "--outcome", "error", "--json"]) == 0
    assert {json.loads(line)["err_code"] for line in capsys.readouterr().out.splitlines() if line[:1] == "{"} == {
        "HG3004", "HG1001", "HG1004"}
    assert main(["--db", db, "journal", "--outcome", "gone"]) == 2
    assert main(["--db", db, "journal", "prune"]) == 0  # retention 365 days: today's rows stay
    assert "pruned 0 exchanges" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:  # a year and more later (the floor keeps anything younger: test_journal_prune)
        conn.execute("UPDATE journal SET received_at = '2020-01-01 00:00:00.000'")
    assert main(["--db", db, "journal", "prune", "--yes"]) == 0
    assert "pruned 8 exchanges" in capsys.readouterr().out
    assert await rows(served) == []
    replayed = ok(await stay.settle("20000.00", msgid=msgids["settle"]))  # idempotency does not need the journal
    assert (await rows(served))[0]["outcome"] == "replayed" and replayed["setlinfo"]["setl_id"]

"""The README's journal and store commands, run as written (in a working directory whose var/hisgw.sqlite is the
demo county after a few calls of today): each journal search finds something (the dates and keys match the
demo), and the backup-and-restore lines restore what was there."""

from __future__ import annotations

import csv
import re
import shlex
import sqlite3
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import build_app, build_gateway
from gateway.cli import DEMO_DIR, main
from gateway.settings import Settings
from simulators.nhsa_client import NhsaClient
from tests.conftest import DIALECTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## The journal"):]
BLOCK = re.search(r"```sh\n(.*?)```", SECTION, re.S).group(1)  # type: ignore[union-attr]
D0001 = next(row for row in csv.DictReader((DEMO_DIR / "persons.csv").read_text(encoding="utf-8").splitlines())
             if row["psn_no"] == "D0001")
COMMANDS = [line.split("  #")[0].strip() for line in BLOCK.splitlines() if line.strip()]


def expanded(command: str, msgid: str) -> str:
    """What the shell makes of it: $(date +%F) is today; <msgid> is one the reader saw in the lines above."""
    return command.replace("$(date +%F)", date.today().isoformat()).replace("<msgid>", msgid)


async def test_every_journal_example_finds_the_demos_exchanges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # var/hisgw.sqlite, the default store, as after `make serve`
    assert main(["demo", "load"]) == 0
    gateway = build_gateway(Settings(db_path=tmp_path / "var" / "hisgw.sqlite"))
    server = TestServer(build_app(gateway, lambda: DIALECTS), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            his = NhsaClient(session, url, "H43052100002")
            await his.sign_in()
            found = await his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": D0001["certno"]}})
            assert found["output"]["baseinfo"]["psn_no"] == "D0001"
            msgid = his.new_msgid()
            refused = await his.call("2304", {"data": {"psn_no": "D0001", "mdtrt_id": "none", "medfee_sumamt": 1}},
                                     msgid=msgid)
            assert refused["infcode"] == -1
            capsys.readouterr()
            shell = [c for c in COMMANDS if c.startswith(".venv/bin/hisgw journal")]
            assert len(shell) >= 5, COMMANDS
            for command in shell:
                argv = shlex.split(expanded(command, msgid))[1:]
                if argv[:2] == ["journal", "prune"]:
                    assert main(argv) == 0 and "pruned 0 exchanges" in capsys.readouterr().out  # nothing that old
                    continue
                assert main(argv) == 0, command
                out = capsys.readouterr()
                assert "0 exchanges match" not in out.out + out.err and out.out.strip(), command
            store_lines = [line.strip() for line in README.splitlines() if line.strip().startswith(
                ".venv/bin/hisgw") and " store " in line]
            assert len(store_lines) == 2, store_lines
            for line in store_lines:  # the gateway still has the store open, as with make serve
                for command in expanded(line.split("  #")[0], msgid).split("&&"):
                    assert main(shlex.split(command)[1:]) == 0, command
            assert "verify: 0 settlements, 0 differences" in capsys.readouterr().out
            with sqlite3.connect(tmp_path / "var" / "restored.sqlite") as conn:
                assert conn.execute("SELECT count(*) FROM journal WHERE msgid = ?", (msgid,)).fetchone()[0] == 1
            (curl,) = [c for c in COMMANDS if c.startswith("curl")]
            address = shlex.split(expanded(curl, msgid))[1].replace("localhost:8080", url.split("//")[1])
            async with session.get(f"http://{address}") as response:
                document = await response.json()
            assert response.status == 200 and document["count"] >= 3 and document["exchanges"][0]["request"]
    finally:
        await server.close()
        gateway.close()

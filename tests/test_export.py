"""De-identified exports: only the agreed fields, no identifier of the source, pseudonyms per recipient."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.county.export import AgreementError, load_agreements
from gateway.county.period import Period, month
from gateway.county.records import AuditQuery
from gateway.county.reports import export_of
from gateway.store.sqlite import SqliteStore
from tests.support import Served, person_rows
from tests.test_annex5 import month_of_traffic


def write_agreements(folder: Path, *, fpb_fields: str = '"birth_year", "gend", "identities", "medfee_sumamt", '
                                                         '"funds", "in_county"', same_key: bool = False) -> Path:
    keys = [base64.b64encode(os.urandom(32)).decode() for _ in range(2)]
    (folder / "fpb.key").write_text(keys[0])
    (folder / "mz.key").write_text(keys[0] if same_key else keys[1])
    path = folder / "exports.toml"
    path.write_text(f"""
[[agreement]]
id = "FPB-2026"
recipient = "县扶贫办"
fields = [{fpb_fields}]
fee_details = true
key_file = "fpb.key"

[[agreement]]
id = "MZ-2026"
recipient = "县民政局"
fields = ["birth_year", "identities", "fund_pay_sumamt", "psn_part_amt"]
key_file = "mz.key"
""", encoding="utf-8")
    return path


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rows(data: bytes, name: str = "settlements.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(members(data)[name].decode("utf-8-sig"))))


async def test_no_identifier_of_the_source_and_pseudonyms_per_recipient(served: Served, tmp_path: Path) -> None:
    await month_of_traffic(served)
    agreements = load_agreements(write_agreements(tmp_path))
    store = served.gateway.deps.store
    spring = Period(month("2026-03").since, month("2026-04").until)

    async def export(agreement_id: str, period: Period) -> bytes:
        return (await served.gateway.run(lambda: export_of(store, agreements[agreement_id], period)))[0]

    fpb_march, fpb_spring, mz_march = (await export("FPB-2026", month("2026-03")), await export("FPB-2026", spring),
                                       await export("MZ-2026", month("2026-03")))

    # Everything that identifies a person or a record at the source, as the gateway holds it.
    ledger = await served.gateway.run(lambda: list(store.ledger(*spring.bounds())))
    secrets = {ident for p in person_rows() for ident in (p["certno"], p["psn_name"], p["psn_no"])}
    secrets |= {f"{p['certno'][6:10]}-{p['certno'][10:12]}-{p['certno'][12:14]}" for p in person_rows()}  # birth dates
    secrets |= {r.record.setl_id for r in ledger} | {r.record.mdtrt_id for r in ledger}
    assert len(ledger) > 10
    for data in (fpb_march, fpb_spring, mz_march):
        for name, content in members(data).items():
            text = content.decode("utf-8-sig")
            found = sorted(s for s in secrets if s in text)
            assert not found, (name, found)

    # Only the agreed fields, in the agreed order, after the two pseudonyms.
    assert list(rows(mz_march)[0]) == ["person", "settlement", "birth_year", "identities", "fund_pay_sumamt",
                                       "psn_part_amt"]
    assert "fee_lines.csv" not in members(mz_march) and "fee_lines.csv" in members(fpb_march)
    manifest = json.loads(members(fpb_march)["manifest.json"])
    assert manifest["members"]["settlements.csv"]["rows"] == len(rows(fpb_march))
    assert manifest["members"]["settlements.csv"]["sha256"] == hashlib.sha256(
        members(fpb_march)["settlements.csv"]).hexdigest()

    # One recipient: the same person has the same pseudonym in both of its files; another recipient: never.
    def by_settlement(data: bytes) -> dict[str, tuple[str, str]]:
        return {r["settlement"]: (r["person"], r["birth_year"]) for r in rows(data)}

    march, spring_rows = by_settlement(fpb_march), by_settlement(fpb_spring)
    assert march and set(march) <= set(spring_rows)
    assert all(spring_rows[s] == person for s, person in march.items())
    fpb_people = {r["person"] for r in rows(fpb_spring)}
    mz_people = {r["person"] for r in rows(mz_march)}
    assert len(mz_people) > 1 and not fpb_people & mz_people
    # The birth year is the person's, the money the ledger's: an export stays useful.
    years = {p["certno"][6:10] for p in person_rows()}
    assert {r["birth_year"] for r in rows(fpb_march)} <= years
    total = sum(int(r.sign) * r.record.figures.totals.medfee_sumamt for r in ledger
                if r.record.setl_time < datetime(2026, 4, 1))
    assert sum(Decimal(r["medfee_sumamt"]) for r in rows(fpb_march)) == total


def test_an_agreement_cannot_name_a_personal_field_or_share_a_key(tmp_path: Path) -> None:
    with pytest.raises(AgreementError, match=r"psn_name"):
        load_agreements(write_agreements(tmp_path, fpb_fields='"birth_year", "psn_name"'))
    with pytest.raises(AgreementError, match="shares its key"):
        load_agreements(write_agreements(tmp_path, same_key=True))


def test_the_command_writes_the_export_and_logs_who_what_and_its_checksum(tmp_path: Path) -> None:
    path = write_agreements(tmp_path)
    out = tmp_path / "fpb.zip"
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "--db", str(tmp_path / "hisgw.sqlite"), "export",
                           "make", "--agreements", str(path), "--agreement", "FPB-2026", "--month", "2026-03",
                           "--out", str(out), "--operator", "op-zhang"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "export_made" in said and "FPB-2026" in said and "op-zhang" in said, said
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest in said
    store = SqliteStore(tmp_path / "hisgw.sqlite")
    try:
        trail = store.audit_search(AuditQuery(action="export.make"))
    finally:
        store.close()
    assert [(e.operator, e.role, e.subject) for e in trail] == [("op-zhang", "host", "export:FPB-2026")]
    assert trail[0].after["sha256"] == digest and trail[0].after["recipient"] == "县扶贫办"

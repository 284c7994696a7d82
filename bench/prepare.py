"""Preparing databases for the benchmarks through the real service (no shortcuts into the tables)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from gateway.canonical import calls as c
from gateway.canonical.answers import AdmissionAnswer
from gateway.cli import DEMO_DIR, DEMO_FILES
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.refdata.read import read_rows
from gateway.service.deps import Deps
from gateway.service.dispatch import handle
from gateway.service.refdata import import_rows
from gateway.store.factory import open_store

HOSPITAL = "H43052100002"
PERSONS = ("D0001", "D0002", "D0003", "D0004", "D0005", "D0006", "D0007", "D0008", "D0009", "D0014")
# A realistic mix of classes: 甲 drugs and services, 乙 with several selfpay_prop, one 丙 material.
LINE_CODES = ("XJ01BAA001", "XJ01DCA001", "XJ01DDA001", "001102000010000", "002201000010000",
              "002103000010000", "003100000010000", "001203000010000", "C001000003", "ZA01AAA001")
AT = datetime(2026, 6, 1, 10, 0)


@dataclass(frozen=True)
class PreparedStay:
    mdtrt_id: str
    psn_no: str
    medfee: Decimal


def open_deps(db: Path) -> Deps:
    store = open_store(db, create=True)
    if not store.counts()["hospitals"]:
        for kind, name in DEMO_FILES.items():
            import_rows(store, kind, read_rows(DEMO_DIR / name))
    return Deps(store=store, policies=PolicyBook.load([default_policy_path()]), now=lambda: AT)


def fee_lines(mdtrt_id: str, psn_no: str, count: int, first_sn: int) -> tuple[c.FeeLine, ...]:
    lines = []
    for i in range(count):
        price = Decimal(37 + 13 * ((first_sn + i) % 17)).quantize(Decimal("0.01"))
        lines.append(c.FeeLine(
            feedetl_sn=f"S{first_sn + i:07d}", mdtrt_id=mdtrt_id, psn_no=psn_no,
            med_list_codg=LINE_CODES[(first_sn + i) % len(LINE_CODES)], cnt=Decimal(2), pric=price,
            det_item_fee_sumamt=price * 2, fee_ocur_time=AT))
    return tuple(lines)


def prepare_stays(db: Path, count: int, lines_per_stay: int, persons: tuple[str, ...] = PERSONS,
                  settle: bool = False) -> list[PreparedStay]:
    """Admit `count` stays and upload their lines (and settle them, if asked), in batches of a thousand."""
    deps = open_deps(db)
    serial = itertools.count(1)
    prepared: list[PreparedStay] = []
    try:
        for batch_start in range(0, count, 1000):
            with deps.store.transaction():
                for n in range(batch_start, min(count, batch_start + 1000)):
                    psn_no = persons[n % len(persons)]

                    def call(body: c.Transaction) -> object:
                        ctx = c.CallContext(msgid=f"PREP{next(serial):09d}", infno="", fixmedins_code=HOSPITAL,
                                            inf_time=AT)
                        return handle(deps, c.Call(ctx, body))

                    admitted = call(c.Admission(psn_no=psn_no, insutype="390", begntime=AT))
                    assert isinstance(admitted, AdmissionAnswer)
                    lines = fee_lines(admitted.mdtrt_id, psn_no, lines_per_stay, 0)
                    if lines:
                        call(c.FeeUpload(admitted.mdtrt_id, psn_no, lines))
                    if settle:
                        call(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=psn_no, trial=False))
                    medfee = sum((line.det_item_fee_sumamt for line in lines), Decimal(0))
                    prepared.append(PreparedStay(admitted.mdtrt_id, psn_no, medfee))
    finally:
        deps.store.close()
    return prepared

"""The county's reports read from the ledger: the store gives rows, the pure tables turn them into figures."""

from __future__ import annotations

from typing import Any

from gateway.county.annex5 import Annex5, annex5
from gateway.county.export import Agreement, Row, fee_rows, package, settlement_rows
from gateway.county.period import Period
from gateway.store.base import Store


def annex5_of(store: Store, period: Period) -> Annex5:
    since, until = period.bounds()
    return annex5(store.ledger(since, until), period.since, period.until)


def export_of(store: Store, agreement: Agreement, period: Period) -> tuple[bytes, dict[str, Any]]:
    """The agreement's de-identified export of the period's ledger (call on the store's thread)."""
    since, until = period.bounds()
    rows: list[Row] = []
    for ledger in store.ledger(since, until):
        person, stay = store.person(ledger.record.psn_no), store.stay(ledger.record.mdtrt_id)
        assert person is not None and stay is not None  # a settlement names both (foreign keys)
        rows.append((ledger, person, stay))
    fees = None
    if agreement.fee_details:
        fees = fee_rows(agreement, ((ledger.record.setl_id, line) for ledger, _person, stay in rows
                                    if ledger.sign > 0 for line in store.fee_lines(stay.mdtrt_id).values()))
    return package(agreement, period.label(), settlement_rows(agreement, rows), fees)

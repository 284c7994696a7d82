"""SQLite side of the referral port (gateway/referral/port.py), mixed into SqliteStore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

from gateway.referral.port import Carried, ImportRow, ReferralRow
from gateway.store.sql import SqlConnection


class ReferralSql:
    _conn: SqlConnection

    def referral_insert(self, row: ReferralRow) -> None:
        self._conn.execute("INSERT INTO referrals VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            row.trt_dcla_detl_sn, row.fixmedins_code, row.psn_no, row.year, row.status, row.filed_at, row.msgid,
            json.dumps(row.details, ensure_ascii=False)))

    def referral(self, sn: str) -> ReferralRow | None:
        found = self._conn.execute("SELECT * FROM referrals WHERE trt_dcla_detl_sn = ?", (sn,)).fetchone()
        if found is None:
            return None
        return ReferralRow(str(found[0]), str(found[1]), str(found[2]), int(found[3]), str(found[4]),
                           str(found[5]), str(found[6]), json.loads(found[7]))

    def referral_set_status(self, sn: str, status: str) -> None:
        self._conn.execute("UPDATE referrals SET status = ? WHERE trt_dcla_detl_sn = ?", (status, sn))

    def referral_import_of(self, issuer: str, psn_no: str, year: int) -> ImportRow | None:
        found = self._conn.execute(
            "SELECT issuer, psn_no, year, trt_dcla_detl_sn, issued_at, record FROM referral_imports "
            "WHERE issuer = ? AND psn_no = ? AND year = ?", (issuer, psn_no, year)).fetchone()
        return None if found is None else _import(found)

    def referral_import_put(self, row: ImportRow, imported_at: str) -> None:
        self._conn.execute(
            "INSERT INTO referral_imports VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issuer, psn_no, year) "
            "DO UPDATE SET trt_dcla_detl_sn = excluded.trt_dcla_detl_sn, issued_at = excluded.issued_at, "
            "imported_at = excluded.imported_at, record = excluded.record",
            (row.issuer, row.psn_no, row.year, row.trt_dcla_detl_sn, row.issued_at, imported_at, row.record))

    def referral_import_drop(self, issuer: str, psn_no: str, year: int) -> None:
        self._conn.execute("DELETE FROM referral_imports WHERE issuer = ? AND psn_no = ? AND year = ?",
                           (issuer, psn_no, year))

    def referral_imports(self, psn_no: str | None = None, year: int | None = None) -> Iterator[ImportRow]:
        query = "SELECT issuer, psn_no, year, trt_dcla_detl_sn, issued_at, record FROM referral_imports"
        if psn_no is not None:
            rows = self._conn.execute(f"{query} WHERE psn_no = ? AND year = ? ORDER BY issuer", (psn_no, year))
        else:
            rows = self._conn.execute(f"{query} ORDER BY issuer, psn_no, year")
        for found in rows.fetchall():
            yield _import(found)

    def referral_carried_put(self, setl_id: str, carried: Carried) -> None:
        self._conn.execute("INSERT INTO referral_carried VALUES (?, ?, ?, ?, ?, ?)", (
            setl_id, ",".join(carried.issuers), f"{carried.cum_cmpl_fee:.2f}", f"{carried.cum_basic_pay:.2f}",
            f"{carried.cum_crit_pay:.2f}", f"{carried.cum_crit_base:.2f}"))

    def referral_carried(self, setl_id: str) -> Carried | None:
        found = self._conn.execute(
            "SELECT issuers, cum_cmpl_fee, cum_basic_pay, cum_crit_pay, cum_crit_base FROM referral_carried "
            "WHERE setl_id = ?", (setl_id,)).fetchone()
        if found is None:
            return None
        return Carried(tuple(str(found[0]).split(",")), *(Decimal(str(value)) for value in found[1:]))


def _import(found: tuple[object, ...]) -> ImportRow:
    return ImportRow(str(found[0]), str(found[1]), int(str(found[2])), str(found[3]), str(found[4]), str(found[5]))

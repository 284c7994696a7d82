"""SQLite side of gateway.store.arrears_port (mixed into SqliteStore)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.lifecycle import StayState
from gateway.money import from_fen_int, to_fen_int
from gateway.store.arrears_port import ArrearsRecord, CatalogueException
from gateway.store.records import StayRecord
from gateway.store.sql import SqlConnection

_COLUMNS = ("arrears_id, psn_no, fixmedins_code, mdtrt_id, owed_fen, paid_fen, reported_on, recorded_at, "
            "recorded_by, cleared_on")


def _record(row: tuple[Any, ...]) -> ArrearsRecord:
    return ArrearsRecord(
        arrears_id=row[0], psn_no=row[1], fixmedins_code=row[2], mdtrt_id=row[3], owed=from_fen_int(row[4]),
        paid=from_fen_int(row[5]), reported_on=date.fromisoformat(row[6]), recorded_at=datetime.fromisoformat(row[7]),
        recorded_by=row[8], cleared_on=date.fromisoformat(row[9]) if row[9] else None)


_EXCEPTION = "mdtrt_id, fixmedins_code, reason, requested_by, requested_at, status, decided_by, decided_at"


def _exception(row: tuple[Any, ...]) -> CatalogueException:
    return CatalogueException(mdtrt_id=row[0], fixmedins_code=row[1], reason=row[2], requested_by=row[3],
                              requested_at=datetime.fromisoformat(row[4]), status=row[5], decided_by=row[6] or "",
                              decided_at=datetime.fromisoformat(row[7]) if row[7] else None)


class ArrearsSqlite:
    _conn: SqlConnection

    if TYPE_CHECKING:
        def stay(self, mdtrt_id: str) -> StayRecord | None: ...  # SqliteStore's

    def insert_arrears(self, record: ArrearsRecord) -> None:
        self._conn.execute(f"INSERT INTO arrears ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            record.arrears_id, record.psn_no, record.fixmedins_code, record.mdtrt_id, to_fen_int(record.owed),
            to_fen_int(record.paid), record.reported_on.isoformat(), record.recorded_at.isoformat(sep=" "),
            record.recorded_by, record.cleared_on.isoformat() if record.cleared_on else None))

    def arrears(self, arrears_id: str) -> ArrearsRecord | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM arrears WHERE arrears_id = ?", (arrears_id,)).fetchone()
        return _record(row) if row else None

    def arrears_of_stay(self, mdtrt_id: str) -> ArrearsRecord | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM arrears WHERE mdtrt_id = ?", (mdtrt_id,)).fetchone()
        return _record(row) if row else None

    def arrears_list(self, psn_no: str | None, open_only: bool) -> list[ArrearsRecord]:
        where, args = ["1 = 1"], []
        if psn_no is not None:
            where.append("psn_no = ?")
            args.append(psn_no)
        if open_only:
            where.append("paid_fen < owed_fen")
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM arrears WHERE {' AND '.join(where)} "
                                  "ORDER BY reported_on, recorded_at, arrears_id", args).fetchall()
        return [_record(row) for row in rows]

    def record_arrears_payment(self, arrears_id: str, paid: Decimal, cleared_on: date | None) -> None:
        self._conn.execute("UPDATE arrears SET paid_fen = ?, cleared_on = ? WHERE arrears_id = ?",
                           (to_fen_int(paid), cleared_on.isoformat() if cleared_on else None, arrears_id))

    def discharged_unsettled(self, dscg_way: str, ended_before: datetime) -> list[StayRecord]:
        rows = self._conn.execute(
            "SELECT mdtrt_id FROM stays WHERE state = ? AND endtime < ? AND json_extract(discharge, '$.dscg_way') = ?"
            " ORDER BY endtime, mdtrt_id",
            (StayState.DISCHARGED.value, ended_before.isoformat(sep=" "), dscg_way)).fetchall()
        return [stay for (mdtrt_id,) in rows if (stay := self.stay(mdtrt_id)) is not None]

    def insert_catalogue_exception(self, record: CatalogueException) -> None:
        self._conn.execute(f"INSERT INTO catalogue_exceptions ({_EXCEPTION}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)", (
            record.mdtrt_id, record.fixmedins_code, record.reason, record.requested_by,
            record.requested_at.isoformat(sep=" "), record.status))

    def catalogue_exception(self, mdtrt_id: str) -> CatalogueException | None:
        row = self._conn.execute(f"SELECT {_EXCEPTION} FROM catalogue_exceptions WHERE mdtrt_id = ?",
                                 (mdtrt_id,)).fetchone()
        return _exception(row) if row else None

    def catalogue_exceptions(self, status: str | None) -> list[CatalogueException]:
        sql = f"SELECT {_EXCEPTION} FROM catalogue_exceptions"
        rows = (self._conn.execute(sql + " WHERE status = ? ORDER BY requested_at", (status,)) if status else
                self._conn.execute(sql + " ORDER BY requested_at")).fetchall()
        return [_exception(row) for row in rows]

    def decide_catalogue_exception(self, mdtrt_id: str, status: str, by: str, at: datetime) -> None:
        self._conn.execute("UPDATE catalogue_exceptions SET status = ?, decided_by = ?, decided_at = ? "
                           "WHERE mdtrt_id = ?", (status, by, at.isoformat(sep=" "), mdtrt_id))

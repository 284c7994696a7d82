"""SQLite side of gateway.store.outpatient_port (mixed into SqliteStore)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import date, datetime

from gateway.store.outpatient_port import LateRegistration, RecognitionRecord
from gateway.store.sql import SqlConnection


class OutpatientSqlite:
    _conn: SqlConnection

    def add_batch_lines(self, mdtrt_id: str, chrg_bchno: str, sns: Sequence[str]) -> None:
        self._conn.executemany("INSERT INTO outpatient_batches VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               [(mdtrt_id, sn, chrg_bchno) for sn in sns])

    def batch_lines(self, mdtrt_id: str, chrg_bchno: str) -> list[str]:
        rows = self._conn.execute("SELECT feedetl_sn FROM outpatient_batches WHERE mdtrt_id = ? AND chrg_bchno = ?",
                                  (mdtrt_id, chrg_bchno)).fetchall()
        return [str(row[0]) for row in rows]

    def forget_batch_lines(self, mdtrt_id: str, sns: Collection[str] | None) -> None:
        if sns is None:
            self._conn.execute("DELETE FROM outpatient_batches WHERE mdtrt_id = ?", (mdtrt_id,))
        else:
            self._conn.executemany("DELETE FROM outpatient_batches WHERE mdtrt_id = ? AND feedetl_sn = ?",
                                   [(mdtrt_id, sn) for sn in sns])

    _RECOGNITION = ("SELECT recog_id, psn_no, fixmedins_code, dise_codg, dise_name, recog_date, doctors, recorded_at, "
                    "msgid, status, cancelled_at, cancelled_by, cancel_reason FROM chronic_recognitions")

    def insert_recognition(self, record: RecognitionRecord) -> None:
        self._conn.execute(
            "INSERT INTO chronic_recognitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.recog_id, record.psn_no, record.fixmedins_code, record.dise_codg, record.dise_name,
             record.recog_date.isoformat(), json.dumps(record.doctors, ensure_ascii=False),
             record.recorded_at.isoformat(sep=" "), record.msgid, record.status, None, None, None))

    def recognition(self, recog_id: str) -> RecognitionRecord | None:
        row = self._conn.execute(f"{self._RECOGNITION} WHERE recog_id = ?", (recog_id,)).fetchone()
        return None if row is None else _recognition(row)

    def recognitions_of(self, psn_no: str) -> list[RecognitionRecord]:
        rows = self._conn.execute(f"{self._RECOGNITION} WHERE psn_no = ? ORDER BY recog_date, recog_id",
                                  (psn_no,)).fetchall()
        return [_recognition(row) for row in rows]

    def recognitions_recorded(self, fixmedins_code: str | None, since: date, until: date) -> list[RecognitionRecord]:
        where = "recog_date >= ? AND recog_date < ?"
        args: tuple[str, ...] = (since.isoformat(), until.isoformat())
        if fixmedins_code is not None:
            where += " AND fixmedins_code = ?"
            args += (fixmedins_code,)
        rows = self._conn.execute(f"{self._RECOGNITION} WHERE {where} ORDER BY fixmedins_code, recog_date, recog_id",
                                  args).fetchall()
        return [_recognition(row) for row in rows]

    def cancel_recognition(self, recog_id: str, at: datetime, by: str, reason: str) -> None:
        self._conn.execute(
            "UPDATE chronic_recognitions SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?, "
            "cancel_reason = ? WHERE recog_id = ?", (at.isoformat(sep=" "), by, reason, recog_id))

    def add_late_registration(self, row: LateRegistration) -> None:
        self._conn.execute("INSERT INTO late_registrations VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (mdtrt_id) "
                           "DO UPDATE SET fixmedins_code = excluded.fixmedins_code, psn_no = excluded.psn_no, "
                           "begntime = excluded.begntime, received_at = excluded.received_at, "
                           "minutes_late = excluded.minutes_late",
                           (row.mdtrt_id, row.fixmedins_code, row.psn_no, row.begntime.isoformat(sep=" "),
                            row.received_at.isoformat(sep=" "), row.minutes_late))

    def late_registrations(self, fixmedins_code: str | None, since: datetime,
                           until: datetime) -> list[LateRegistration]:
        where = "received_at >= ? AND received_at < ?"
        args: tuple[str, ...] = (since.isoformat(sep=" "), until.isoformat(sep=" "))
        if fixmedins_code is not None:
            where += " AND fixmedins_code = ?"
            args += (fixmedins_code,)
        rows = self._conn.execute(
            "SELECT mdtrt_id, fixmedins_code, psn_no, begntime, received_at, minutes_late FROM late_registrations "
            f"WHERE {where} ORDER BY fixmedins_code, received_at, mdtrt_id", args).fetchall()
        return [LateRegistration(str(r[0]), str(r[1]), str(r[2]), datetime.fromisoformat(str(r[3])),
                                 datetime.fromisoformat(str(r[4])), int(r[5])) for r in rows]


def _recognition(row: tuple[object, ...]) -> RecognitionRecord:
    (recog_id, psn_no, hospital, code, name, on, doctors, recorded, msgid, status, cancelled_at, by, reason) = row
    return RecognitionRecord(
        recog_id=str(recog_id), psn_no=str(psn_no), fixmedins_code=str(hospital), dise_codg=str(code),
        dise_name=str(name), recog_date=date.fromisoformat(str(on)),
        doctors=tuple((str(d[0]), str(d[1]), str(d[2])) for d in json.loads(str(doctors))),
        recorded_at=datetime.fromisoformat(str(recorded)), msgid=str(msgid), status=str(status),
        cancelled_at=datetime.fromisoformat(str(cancelled_at)) if cancelled_at else None,
        cancelled_by=str(by or ""), cancel_reason=str(reason or ""),
    )

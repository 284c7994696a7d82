"""SQLite side of gateway/county/agency_port.py, mixed into SqliteStore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

from gateway.county.agency_port import AgencyListed, AgencyRecord, ReconRow
from gateway.store.sql import SqlConnection


class AgencySql:
    _conn: SqlConnection
    _SETTLEMENT: str

    def agency_insert(self, record: AgencyRecord) -> None:
        self._conn.execute(
            "INSERT INTO agency_settlements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.setl_id, record.mode, record.psn_no, record.fixmedins_code, record.begndate.isoformat(),
             record.enddate.isoformat(), record.operator, record.request_id,
             json.dumps(record.entry, ensure_ascii=False, separators=(",", ":"))))

    def agency_record(self, setl_id: str) -> AgencyRecord | None:
        row = self._conn.execute("SELECT * FROM agency_settlements WHERE setl_id = ?", (setl_id,)).fetchone()
        if row is None:
            return None
        return AgencyRecord(setl_id=row[0], mode=row[1], psn_no=row[2], fixmedins_code=row[3],
                            begndate=date.fromisoformat(row[4]), enddate=date.fromisoformat(row[5]),
                            operator=row[6], request_id=row[7], entry=json.loads(row[8]))

    def agency_listing(self, since: datetime, until: datetime, status: str, limit: int, offset: int
                       ) -> tuple[int, list[AgencyListed]]:
        where = ("FROM agency_settlements a JOIN settlements s ON s.setl_id = a.setl_id "
                 "WHERE s.setl_time >= ? AND s.setl_time < ? AND (? = '' OR s.status = ?)")
        bounds = (since.isoformat(sep=" "), until.isoformat(sep=" "), status, status)
        count = int(self._conn.execute(f"SELECT count(*) {where}", bounds).fetchone()[0])
        rows = self._conn.execute(
            f"SELECT a.setl_id, s.setl_time, s.status, (SELECT min(l.claim_id) FROM claim_lines l "
            f"WHERE l.setl_id = a.setl_id AND l.kind = 'settlement') {where} ORDER BY s.setl_time, a.setl_id "
            "LIMIT ? OFFSET ?", (*bounds, limit, offset)).fetchall()
        listed = []
        for setl_id, setl_time, standing, claim_id in rows:
            record = self.agency_record(setl_id)
            assert record is not None
            listed.append(AgencyListed(record, datetime.fromisoformat(setl_time), standing,
                                       None if claim_id is None else int(claim_id)))
        return count, listed

    def agency_duplicate(self, psn_no: str, fixmedins_code: str, begndate: date, enddate: date) -> str | None:
        row = self._conn.execute(
            "SELECT a.setl_id FROM agency_settlements a JOIN settlements s ON s.setl_id = a.setl_id "
            "WHERE a.psn_no = ? AND a.fixmedins_code = ? AND a.begndate = ? AND a.enddate = ? "
            "AND s.status = 'valid'", (psn_no, fixmedins_code, begndate.isoformat(), enddate.isoformat())).fetchone()
        return None if row is None else str(row[0])

    def recon_rows(self, fixmedins_code: str, since: datetime, until: datetime) -> Iterator[ReconRow]:
        from gateway.store.sqlite import _settlement

        cursor = self._conn.execute(
            f"SELECT s.*, t.insutype, t.med_type, coalesce(p.insuplc_admdvs, '') FROM ({self._SETTLEMENT} "
            "WHERE fixmedins_code = ? AND setl_time >= ? AND setl_time < ? "
            "AND (kind = 'settlement' OR status = 'valid')) s JOIN stays t ON t.mdtrt_id = s.mdtrt_id "
            "LEFT JOIN persons p ON p.psn_no = s.psn_no "
            "WHERE NOT EXISTS (SELECT 1 FROM agency_settlements a WHERE a.setl_id = coalesce(s.reverses, s.setl_id)) "
            "ORDER BY s.setl_time, s.setl_id",
            (fixmedins_code, since.isoformat(sep=" "), until.isoformat(sep=" ")))
        for row in cursor:
            record = _settlement(row[:-3])
            assert record is not None
            yield ReconRow(record=record, insutype=str(row[-3]), med_type=str(row[-2]), setl_optins=str(row[-1]))

"""SQLite side of the claims and special-account part of the county port, mixed into SqliteStore."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from gateway.county.claim_records import AGENCY_CLAIMANT, AccountEntry, ClaimEvent, ClaimLine, ClaimRecord
from gateway.store.sql import SqlConnection


def _time(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="milliseconds")


class ClaimsSql:
    _conn: SqlConnection

    def claim_insert(self, claim: ClaimRecord, lines: Sequence[ClaimLine]) -> int:
        cursor = self._conn.execute(
            "INSERT INTO claims (fixmedins_code, since, until, state, submitted_by, submitted_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING claim_id",
            (claim.fixmedins_code, claim.since.isoformat(), claim.until.isoformat(), claim.state, claim.submitted_by,
             _time(claim.submitted_at)))
        claim_id = int(cursor.fetchone()[0])
        self._conn.executemany(
            "INSERT INTO claim_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(claim_id, line.line_no, line.kind, line.setl_id, line.psn_no, line.setl_time.isoformat(sep=" "),
              str(line.medfee_sumamt), json.dumps([[c, str(a)] for c, a in line.funds]), line.origin)
             for line in lines])
        return claim_id

    def claim_set_state(self, claim_id: int, state: str) -> None:
        self._conn.execute("UPDATE claims SET state = ? WHERE claim_id = ?", (state, claim_id))

    _CLAIM = "SELECT claim_id, fixmedins_code, since, until, state, submitted_by, submitted_at FROM claims"

    def claim(self, claim_id: int) -> ClaimRecord | None:
        row = self._conn.execute(f"{self._CLAIM} WHERE claim_id = ?", (claim_id,)).fetchone()
        return _claim(row) if row else None

    def claim_for(self, fixmedins_code: str, since: date, until: date) -> ClaimRecord | None:
        row = self._conn.execute(f"{self._CLAIM} WHERE fixmedins_code = ? AND since = ? AND until = ?",
                                 (fixmedins_code, since.isoformat(), until.isoformat())).fetchone()
        return _claim(row) if row else None

    def claims(self, fixmedins_code: str, state: str, limit: int) -> list[ClaimRecord]:
        rows = self._conn.execute(
            f"{self._CLAIM} WHERE (? = '' OR fixmedins_code = ?) AND (? = '' OR state = ?) "
            "ORDER BY claim_id DESC LIMIT ?", (fixmedins_code, fixmedins_code, state, state, limit))
        return [_claim(r) for r in rows]

    def claim_lines(self, fixmedins_code: str, claim_id: int = 0) -> list[ClaimLine]:
        rows = self._conn.execute(
            "SELECT l.claim_id, line_no, kind, setl_id, psn_no, setl_time, medfee_sumamt, funds, origin "
            "FROM claim_lines l JOIN claims c ON c.claim_id = l.claim_id "
            "WHERE c.fixmedins_code = ? AND (? = 0 OR l.claim_id = ?) ORDER BY l.claim_id, line_no",
            (fixmedins_code, claim_id, claim_id))
        return [ClaimLine(claim_id=int(r[0]), line_no=int(r[1]), kind=r[2], setl_id=r[3], psn_no=r[4],
                          setl_time=datetime.fromisoformat(r[5]), medfee_sumamt=Decimal(r[6]),
                          funds=tuple((c, Decimal(a)) for c, a in json.loads(r[7])), origin=r[8]) for r in rows]

    def claim_event_add(self, event: ClaimEvent) -> int:
        cursor = self._conn.execute(
            "INSERT INTO claim_events (claim_id, line_no, event, by, at, detail) VALUES (?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (event.claim_id, event.line_no, event.event, event.by, _time(event.at),
             json.dumps(event.detail, ensure_ascii=False)))
        return int(cursor.fetchone()[0])

    def claim_events(self, fixmedins_code: str, claim_id: int = 0) -> list[ClaimEvent]:
        rows = self._conn.execute(
            "SELECT id, e.claim_id, line_no, event, by, at, detail FROM claim_events e "
            "JOIN claims c ON c.claim_id = e.claim_id WHERE c.fixmedins_code = ? AND (? = 0 OR e.claim_id = ?) "
            "ORDER BY id", (fixmedins_code, claim_id, claim_id))
        return [ClaimEvent(id=int(r[0]), claim_id=int(r[1]), line_no=int(r[2]), event=r[3], by=r[4],
                           at=datetime.fromisoformat(r[5]), detail=json.loads(r[6])) for r in rows]

    def unclaimed_settlements(self, fixmedins_code: str, until: datetime) -> list[str]:
        if fixmedins_code == AGENCY_CLAIMANT:
            rows = self._conn.execute(
                "SELECT s.setl_id FROM settlements s JOIN agency_settlements a ON a.setl_id = s.setl_id "
                "WHERE s.kind = 'settlement' AND s.status = 'valid' AND s.setl_time < ? "
                "AND NOT EXISTS (SELECT 1 FROM claim_lines l WHERE l.setl_id = s.setl_id) "
                "ORDER BY s.setl_time, s.setl_id", (until.isoformat(sep=" "),))
            return [str(r[0]) for r in rows]
        rows = self._conn.execute(
            "SELECT setl_id FROM settlements s WHERE fixmedins_code = ? AND kind = 'settlement' AND status = 'valid' "
            "AND setl_time < ? AND NOT EXISTS (SELECT 1 FROM claim_lines l WHERE l.setl_id = s.setl_id) "
            "AND NOT EXISTS (SELECT 1 FROM agency_settlements a WHERE a.setl_id = s.setl_id) "
            "ORDER BY setl_time, setl_id", (fixmedins_code, until.isoformat(sep=" ")))
        return [str(r[0]) for r in rows]

    def account_add(self, entry: AccountEntry) -> int:
        cursor = self._conn.execute(
            "INSERT INTO account_entries (on_date, kind, source, amount, reference, claim_id, note, by, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (entry.on_date.isoformat(), entry.kind, entry.source, str(entry.amount), entry.reference, entry.claim_id,
             entry.note, entry.by, _time(entry.at)))
        return int(cursor.fetchone()[0])

    def account_entries(self, until: date) -> list[AccountEntry]:
        rows = self._conn.execute(
            "SELECT id, on_date, kind, source, amount, reference, claim_id, note, by, at FROM account_entries "
            "WHERE on_date <= ? ORDER BY on_date, id", (until.isoformat(),))
        return [AccountEntry(id=int(r[0]), on_date=date.fromisoformat(r[1]), kind=r[2], source=r[3],
                             amount=Decimal(r[4]), reference=r[5], claim_id=None if r[6] is None else int(r[6]),
                             note=r[7], by=r[8], at=datetime.fromisoformat(r[9])) for r in rows]


def _claim(r: tuple[object, ...]) -> ClaimRecord:
    return ClaimRecord(claim_id=int(str(r[0])), fixmedins_code=str(r[1]), since=date.fromisoformat(str(r[2])),
                       until=date.fromisoformat(str(r[3])), state=str(r[4]), submitted_by=str(r[5]),
                       submitted_at=datetime.fromisoformat(str(r[6])))

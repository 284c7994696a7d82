"""SQLite side of the county port (gateway/county/port.py), mixed into SqliteStore."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from gateway.canonical.refdata import Person
from gateway.county.records import (
    AttributePeriod,
    AuditEntry,
    AuditQuery,
    IdentityImport,
    ListMember,
    PolicyVersion,
    ReplayRow,
)
from gateway.referral.port import Carried
from gateway.store.sql import SqlConnection


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="milliseconds")


def _opt_time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


class CountySql:
    _conn: SqlConnection

    # --- audit ----------------------------------------------------------------------------------

    def audit_append(self, entry: AuditEntry) -> int:
        cursor = self._conn.execute(
            "INSERT INTO county_audit (at, operator, role, action, subject, before, after, request_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (_time(entry.at), entry.operator, entry.role, entry.action, entry.subject, _dumps(entry.before),
             _dumps(entry.after), entry.request_id))
        return int(cursor.fetchone()[0])

    def audit_search(self, query: AuditQuery) -> list[AuditEntry]:
        where, params = [], []
        for column, value in (("operator", query.operator), ("subject", query.subject),
                              ("request_id", query.request_id)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if query.action:
            if query.action.endswith("."):
                where.append("substr(action, 1, ?) = ?")
                params += [str(len(query.action)), query.action]
            else:
                where.append("action = ?")
                params.append(query.action)
        if query.since:
            where.append("at >= ?")
            params.append(query.since)
        if query.until:
            where.append("at < ?")
            params.append(query.until)
        sql = ("SELECT id, at, operator, role, action, subject, before, after, request_id FROM county_audit"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
        rows = self._conn.execute(sql, (*params, query.limit)).fetchall()
        return [AuditEntry(id=int(r[0]), at=datetime.fromisoformat(r[1]), operator=r[2], role=r[3], action=r[4],
                           subject=r[5], before=json.loads(r[6]), after=json.loads(r[7]), request_id=r[8])
                for r in rows]

    # --- policy versions ------------------------------------------------------------------------

    def policy_insert(self, version: PolicyVersion) -> int:
        cursor = self._conn.execute(
            "INSERT INTO policy_versions (source, status, uploaded_by, uploaded_at) VALUES (?, 'draft', ?, ?) "
            "RETURNING version",
            (version.source, version.uploaded_by, _time(version.uploaded_at)))
        return int(cursor.fetchone()[0])

    def policy_publish(self, version: int, effective_from: date, policy_id: str, by: str, at: datetime) -> None:
        self._conn.execute(
            "UPDATE policy_versions SET status = 'published', effective_from = ?, policy_id = ?, published_by = ?, "
            "published_at = ? WHERE version = ? AND status = 'draft'",
            (effective_from.isoformat(), policy_id, by, _time(at), version))

    _POLICY = ("SELECT version, source, status, uploaded_by, uploaded_at, effective_from, policy_id, published_by, "
               "published_at FROM policy_versions")

    def policy_versions(self) -> list[PolicyVersion]:
        return [_policy(r) for r in self._conn.execute(f"{self._POLICY} ORDER BY version")]

    def policy_version(self, version: int) -> PolicyVersion | None:
        row = self._conn.execute(f"{self._POLICY} WHERE version = ?", (version,)).fetchone()
        return _policy(row) if row else None

    # --- identity lists -------------------------------------------------------------------------

    def import_insert(self, record: IdentityImport) -> int:
        cursor = self._conn.execute(
            "INSERT INTO identity_imports (source, filename, as_of, state, uploaded_by, uploaded_at, note, counts, "
            "digest, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING import_id",
            (record.source, record.filename, record.as_of.isoformat(), record.state, record.uploaded_by,
             _time(record.uploaded_at), record.note, _dumps(dict(record.counts)), record.digest,
             _dumps([dict(r) for r in record.rows])))
        return int(cursor.fetchone()[0])

    def import_decide(self, import_id: int, state: str, by: str, at: datetime, note: str) -> None:
        self._conn.execute("UPDATE identity_imports SET state = ?, decided_by = ?, decided_at = ?, note = ? "
                           "WHERE import_id = ?", (state, by, _time(at), note, import_id))

    _IMPORT = ("SELECT import_id, source, filename, as_of, state, uploaded_by, uploaded_at, counts, digest, "
               "decided_by, decided_at, note")

    def import_get(self, import_id: int) -> IdentityImport | None:
        row = self._conn.execute(f"{self._IMPORT}, rows FROM identity_imports WHERE import_id = ?",
                                 (import_id,)).fetchone()
        return _import(row[:-1], tuple(json.loads(row[-1]))) if row else None

    def imports(self, limit: int) -> list[IdentityImport]:
        rows = self._conn.execute(f"{self._IMPORT} FROM identity_imports ORDER BY import_id DESC LIMIT ?", (limit,))
        return [_import(r, ()) for r in rows]

    def persons_by_certno(self, certnos: Collection[str]) -> dict[str, Person]:
        from gateway.store.sqlite import _chunks, _person

        found: dict[str, Person] = {}
        select = ("SELECT psn_no, certno, psn_name, gend, brdy, naty, insutype, insuplc_admdvs, identities, "
                  "insured, uninsured_reason, emp_name, psn_cert_type FROM persons")
        for chunk, marks in _chunks(certnos):
            for row in self._conn.execute(f"{select} WHERE certno IN ({marks})", chunk):
                person = _person(row)
                assert person is not None
                found[person.certno] = person
        return found

    def persons_holding_any(self, codes: Collection[str]) -> list[Person]:
        from gateway.store.sqlite import _person

        wanted = set(codes)
        select = ("SELECT psn_no, certno, psn_name, gend, brdy, naty, insutype, insuplc_admdvs, identities, "
                  "insured, uninsured_reason, emp_name, psn_cert_type FROM persons WHERE identities <> ''")
        found = []
        for row in self._conn.execute(select):
            if wanted & set(str(row[8]).split(",")):
                person = _person(row)
                assert person is not None
                found.append(person)
        return found

    def set_person_identities(self, psn_no: str, codes: Sequence[str]) -> None:
        self._conn.execute("UPDATE persons SET identities = ? WHERE psn_no = ?", (",".join(codes), psn_no))

    def identity_periods(self, psn_no: str) -> list[AttributePeriod]:
        return [AttributePeriod(psn_no=r[1], source=r[2], code=r[3], valid_from=date.fromisoformat(r[4]),
                                valid_to=None if r[5] is None else date.fromisoformat(r[5]), import_id=r[6],
                                id=int(r[0]))
                for r in self._conn.execute(
                    "SELECT id, psn_no, source, code, valid_from, valid_to, import_id FROM identity_periods "
                    "WHERE psn_no = ? ORDER BY id", (psn_no,))]

    def add_period(self, period: AttributePeriod) -> None:
        self._conn.execute(
            "INSERT INTO identity_periods (psn_no, source, code, valid_from, valid_to, import_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (period.psn_no, period.source, period.code, period.valid_from.isoformat(),
             None if period.valid_to is None else period.valid_to.isoformat(), period.import_id))

    def close_period(self, period_id: int, valid_to: date) -> None:
        self._conn.execute("UPDATE identity_periods SET valid_to = ? WHERE id = ?", (valid_to.isoformat(), period_id))

    def replace_list_members(self, source: str, members: Sequence[ListMember]) -> None:
        self._conn.execute("DELETE FROM identity_list_members WHERE source = ?", (source,))
        self._conn.executemany(
            "INSERT INTO identity_list_members VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, certno) DO UPDATE "
            "SET psn_name = excluded.psn_name, codes = excluded.codes, import_id = excluded.import_id, "
            "as_of = excluded.as_of",
            [(m.source, m.certno, m.psn_name, ",".join(m.codes), m.import_id, m.as_of.isoformat()) for m in members])

    def list_members(self, as_of: date) -> list[ListMember]:
        return [ListMember(source=r[0], certno=r[1], psn_name=r[2], codes=tuple(c for c in r[3].split(",") if c),
                           import_id=int(r[4]), as_of=date.fromisoformat(r[5]))
                for r in self._conn.execute(
                    "SELECT source, certno, psn_name, codes, import_id, as_of FROM identity_list_members "
                    "WHERE as_of <= ? ORDER BY source, certno", (as_of.isoformat(),))]

    # --- the ledger for the what-if -------------------------------------------------------------

    def replay_rows(self, since: datetime, until: datetime) -> Iterator[ReplayRow]:
        # every settlement, reversed or not, and every reversal in force (one undone by 2601 is as if never made)
        cursor = self._conn.execute(
            "SELECT s.setl_id, s.psn_no, s.year, s.setl_time, s.figures, t.insutype, t.hosp_lv, t.in_county, "
            "s.kind, s.status, coalesce(s.reverses, ''), "
            "t.endtime, coalesce(a.mode, ''), t.admission, coalesce(e.status, ''), "
            "c.issuers, c.cum_cmpl_fee, c.cum_basic_pay, c.cum_crit_pay, c.cum_crit_base "
            "FROM settlements s JOIN stays t ON t.mdtrt_id = s.mdtrt_id "
            "LEFT JOIN agency_settlements a ON a.setl_id = s.setl_id "
            "LEFT JOIN catalogue_exceptions e ON e.mdtrt_id = s.mdtrt_id "
            "LEFT JOIN referral_carried c ON c.setl_id = s.setl_id "
            "WHERE (s.kind = 'settlement' OR s.status = 'valid') AND s.setl_time < ? AND s.year IN "
            "(SELECT DISTINCT year FROM settlements WHERE setl_time >= ? AND setl_time < ?) ORDER BY s.rowid",
            (until.isoformat(sep=" "), since.isoformat(sep=" "), until.isoformat(sep=" ")))
        start = since.isoformat(sep=" ")
        for (setl_id, psn_no, year, setl_time, figures, insutype, level, in_county, kind, status, reverses, endtime,
             agency, admission, exception, *carry) in cursor:
            doc = json.loads(figures)
            # basic settled elsewhere (gateway/county/agency.py): a draft replays the rest of the chain, not basic
            elsewhere = {p[0]: Decimal(p[2]) for p in doc["payments"] if p[6] == "hifp_pay"} \
                if agency == "basic_settled" else {}
            at = datetime.fromisoformat(setl_time)
            context = setl_time < start
            yield ReplayRow(
                setl_id=setl_id, psn_no=psn_no, year=int(year), setl_time=at, insutype=insutype, hosp_lv=int(level),
                in_county=bool(in_county),
                on=datetime.fromisoformat(endtime).date() if endtime else at.date(),
                attributes=frozenset(doc.get("attributes", ())),
                totals=tuple(Decimal(v) for v in doc["totals"]),  # type: ignore[arg-type]
                paid={p[0]: Decimal(p[2]) for p in doc["payments"]}, psn_part=Decimal(doc["psn_part_amt"]),
                policy_id=doc["policy_id"], deltas={k: Decimal(v) for k, v in doc["deltas"].items()}, context=context,
                elsewhere=elsewhere, elsewhere_dedc=Decimal(doc["act_pay_dedc"]),
                visit=str(doc.get("visit") or _visit_of_old(admission)),
                catalogue_exception=bool(doc.get("catalogue_exception", exception == "approved")),
                reversed=kind == "settlement" and status != "valid", reverses=reverses if kind == "reversal" else "",
                carried=None if carry[0] is None else Carried(
                    tuple(str(carry[0]).split(",")), *(Decimal(str(value)) for value in carry[1:])))


def _visit_of_old(admission: str) -> str:
    """Figures written before they kept the visit kind: an outpatient visit as an ordinary one (a chronic visit of
    then cannot be told from the ledger), anything else a stay."""
    return "outpatient" if json.loads(admission or "{}").get("visit") == "outpatient" else "inpatient"


def _policy(r: tuple[object, ...]) -> PolicyVersion:
    return PolicyVersion(
        version=int(str(r[0])), source=str(r[1]), status=str(r[2]), uploaded_by=str(r[3]),
        uploaded_at=datetime.fromisoformat(str(r[4])),
        effective_from=None if r[5] is None else date.fromisoformat(str(r[5])),
        policy_id=None if r[6] is None else str(r[6]), published_by=None if r[7] is None else str(r[7]),
        published_at=_opt_time(r[8]))


def _import(r: tuple[object, ...], rows: tuple[dict[str, object], ...]) -> IdentityImport:
    return IdentityImport(
        import_id=int(str(r[0])), source=str(r[1]), filename=str(r[2]), as_of=date.fromisoformat(str(r[3])),
        state=str(r[4]), uploaded_by=str(r[5]), uploaded_at=datetime.fromisoformat(str(r[6])),
        counts=json.loads(str(r[7])), digest=str(r[8]), rows=rows,
        decided_by=None if r[9] is None else str(r[9]), decided_at=_opt_time(r[10]), note=str(r[11]))

"""The embedded store: one SQLite file in WAL mode, synchronous=FULL so a commit survives a power cut."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from gateway.canonical.refdata import CatalogueItem, Hospital, IdentityAttribute, Person
from gateway.engine.fees import FeeTotals, LineAmounts
from gateway.errors import StoreLost
from gateway.journal.model import Ending, Entry, JournalQuery, JournalRow
from gateway.lifecycle import StayState
from gateway.money import from_fen_int, to_fen_int
from gateway.store import journal_sql
from gateway.store.agency_sql import AgencySql
from gateway.store.arrears_sql import ArrearsSqlite
from gateway.store.base import StoreUnavailable
from gateway.store.claims_sql import ClaimsSql
from gateway.store.county_sql import CountySql
from gateway.store.figures_json import dump_figures, load_figures
from gateway.store.migrate import migrate_sqlite
from gateway.store.outpatient_sql import OutpatientSqlite
from gateway.store.records import (
    LedgerRow,
    SettlementRecord,
    SignInRecord,
    StayRecord,
    StoredAnswer,
    StoredFeeLine,
)
from gateway.store.referral_sql import ReferralSql
from gateway.store.sql import SqlConnection

# Tables whose rows belong to one stay (besides fee_lines), removed with it by remove_test_persons.
_STAY_PARTS = ("outpatient_batches", "late_registrations", "catalogue_exceptions")

class SqlStore(CountySql, AgencySql, ClaimsSql, OutpatientSqlite, ArrearsSqlite, ReferralSql):
    """Implements gateway.store.base.Store in the SQL both engines speak (gateway/store/sql.py); SqliteStore and
    PostgresStore (gateway/store/postgres.py) add opening, the unit of work and journal ids. Use from one
    thread (the gateway's store thread)."""

    _conn: SqlConnection

    def transaction(self, *, fsync: bool = True) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _journal_ids(self, count: int) -> list[int]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def check(self) -> None:
        raise NotImplementedError

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._conn.execute("SAVEPOINT call")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO call")
            raise
        finally:
            self._conn.execute("RELEASE call")

    def next_serial(self, name: str) -> int:
        row = self._conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    # --- reference data -------------------------------------------------------------------------

    def upsert_hospitals(self, items: Sequence[Hospital]) -> int:
        self._conn.executemany(
            "INSERT INTO hospitals VALUES (?, ?, ?, ?) ON CONFLICT (fixmedins_code) DO UPDATE SET "
            "fixmedins_name = excluded.fixmedins_name, hosp_lv = excluded.hosp_lv, admdvs = excluded.admdvs",
            [(h.fixmedins_code, h.fixmedins_name, h.hosp_lv, h.admdvs) for h in items],
        )
        return len(items)

    def upsert_catalogue(self, items: Sequence[CatalogueItem]) -> int:
        self._conn.executemany(
            "INSERT INTO catalogue VALUES (?, ?, ?, ?, ?) ON CONFLICT (med_list_codg) DO UPDATE SET "
            "med_list_name = excluded.med_list_name, med_chrgitm_type = excluded.med_chrgitm_type, "
            "chrgitm_lv = excluded.chrgitm_lv, selfpay_prop = excluded.selfpay_prop",
            [(c.med_list_codg, c.med_list_name, c.med_chrgitm_type, c.chrgitm_lv, str(c.selfpay_prop))
             for c in items],
        )
        return len(items)

    def upsert_identity_attributes(self, items: Sequence[IdentityAttribute]) -> int:
        self._conn.executemany(
            "INSERT INTO identity_attributes VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
            "name = excluded.name, type_code = excluded.type_code, type_name = excluded.type_name",
            [(a.code, a.name, a.type_code, a.type_name) for a in items],
        )
        return len(items)

    def upsert_persons(self, items: Sequence[Person]) -> int:
        self._conn.executemany(
            "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (psn_no) DO UPDATE SET "
            "certno = excluded.certno, psn_cert_type = excluded.psn_cert_type, psn_name = excluded.psn_name, "
            "gend = excluded.gend, brdy = excluded.brdy, naty = excluded.naty, insutype = excluded.insutype, "
            "insuplc_admdvs = excluded.insuplc_admdvs, identities = excluded.identities, "
            "insured = excluded.insured, uninsured_reason = excluded.uninsured_reason, "
            "emp_name = excluded.emp_name",
            [(p.psn_no, p.certno, p.psn_cert_type, p.psn_name, p.gend, p.brdy.isoformat(), p.naty, p.insutype,
              p.insuplc_admdvs, ",".join(p.identities), int(p.insured), p.uninsured_reason, p.emp_name)
             for p in items],
        )
        return len(items)

    def hospital(self, fixmedins_code: str) -> Hospital | None:
        row = self._conn.execute(
            "SELECT fixmedins_code, fixmedins_name, hosp_lv, admdvs FROM hospitals WHERE fixmedins_code = ?",
            (fixmedins_code,),
        ).fetchone()
        return Hospital(row[0], row[1], int(row[2]), row[3]) if row else None

    def catalogue_items(self, codes: Collection[str]) -> dict[str, CatalogueItem]:
        found: dict[str, CatalogueItem] = {}
        for chunk, marks in _chunks(codes):
            for row in self._conn.execute(
                "SELECT med_list_codg, med_list_name, med_chrgitm_type, chrgitm_lv, selfpay_prop "
                f"FROM catalogue WHERE med_list_codg IN ({marks})",
                chunk,
            ):
                found[row[0]] = CatalogueItem(row[0], row[1], row[2], row[3], Decimal(row[4]))
        return found

    def identity_attributes(self) -> dict[str, IdentityAttribute]:
        return {
            row[0]: IdentityAttribute(*row)
            for row in self._conn.execute("SELECT code, name, type_code, type_name FROM identity_attributes")
        }

    _PERSON = ("SELECT psn_no, certno, psn_name, gend, brdy, naty, insutype, insuplc_admdvs, identities, insured, "
               "uninsured_reason, emp_name, psn_cert_type FROM persons")

    def person(self, psn_no: str) -> Person | None:
        return _person(self._conn.execute(f"{self._PERSON} WHERE psn_no = ?", (psn_no,)).fetchone())

    def person_by_certno(self, certno: str) -> Person | None:
        return _person(self._conn.execute(f"{self._PERSON} WHERE certno = ?", (certno,)).fetchone())

    def iter_persons(self) -> Iterator[Person]:
        for row in self._conn.execute(f"{self._PERSON} ORDER BY psn_no"):
            person = _person(row)
            assert person is not None
            yield person

    def iter_hospitals(self) -> Iterator[Hospital]:
        for row in self._conn.execute("SELECT fixmedins_code, fixmedins_name, hosp_lv, admdvs FROM hospitals "
                                      "ORDER BY fixmedins_code"):
            yield Hospital(str(row[0]), str(row[1]), int(row[2]), str(row[3]))
    def remove_test_persons(self, prefix: str, mark: str) -> dict[str, int]:
        """Remove the persons whose psn_no starts with `prefix` and whose emp_name is `mark` (the simulator's test
        persons), with their stays, fee lines, settlements and accumulators, in one transaction. The journal and
        the stored answers stay: they are the record of what was exchanged. SQLite only, not part of the port:
        housekeeping of a test gateway's file (`hisgw simulate --clean`)."""
        chosen = "SELECT psn_no FROM persons WHERE substr(psn_no, 1, ?) = ? AND emp_name = ?"
        args = (len(prefix), prefix, mark)
        stays = f"SELECT mdtrt_id FROM stays WHERE psn_no IN ({chosen})"
        removed: dict[str, int] = {}
        with self.transaction():
            carried = f"setl_id IN (SELECT setl_id FROM settlements WHERE psn_no IN ({chosen}))"
            for table, where in (("fee_lines", f"mdtrt_id IN ({stays})"), ("referral_carried", carried),
                                 ("referrals", f"psn_no IN ({chosen})"), ("referral_imports", f"psn_no IN ({chosen})"),
                                 ("settlements", f"psn_no IN ({chosen})"),
                                 *((t, f"mdtrt_id IN ({stays})") for t in _STAY_PARTS),
                                 ("arrears", f"psn_no IN ({chosen})"),
                                 ("chronic_recognitions", f"psn_no IN ({chosen})"),
                                 ("stays", f"psn_no IN ({chosen})"), ("accumulators", f"psn_no IN ({chosen})"),
                                 ("persons", f"psn_no IN ({chosen})")):
                removed[table] = self._conn.execute(f"DELETE FROM {table} WHERE {where}", args).rowcount
        return removed
    def psn_nos_by_certno(self, certnos: Collection[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk, marks in _chunks(certnos):
            found.update(self._conn.execute(f"SELECT certno, psn_no FROM persons WHERE certno IN ({marks})", chunk))
        return found

    def counts(self) -> dict[str, int]:
        tables = ("hospitals", "catalogue", "identity_attributes", "persons", "stays", "settlements")
        return {t: int(self._conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}

    # --- sign-in --------------------------------------------------------------------------------

    def add_sign_in(self, record: SignInRecord) -> None:
        self._conn.execute(
            "INSERT INTO sign_ins (sign_no, fixmedins_code, opter_no, sign_time) VALUES (?, ?, ?, ?)",
            (record.sign_no, record.fixmedins_code, record.opter_no, record.sign_time.isoformat(sep=" ")),
        )

    def sign_out(self, sign_no: str, at: str) -> bool:
        cursor = self._conn.execute(
            "UPDATE sign_ins SET signed_out_at = ? WHERE sign_no = ? AND signed_out_at IS NULL", (at, sign_no)
        )
        return cursor.rowcount == 1

    # --- stays ----------------------------------------------------------------------------------

    def insert_stay(self, stay: StayRecord) -> None:
        self._conn.execute("INSERT INTO stays VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _stay_row(stay))

    def update_stay(self, stay: StayRecord) -> None:
        row = _stay_row(stay)
        # created_msgid never changes: leaving it out of SET spares its index (stays_by_msgid) an update
        self._conn.execute(
            "UPDATE stays SET fixmedins_code = ?, psn_no = ?, insutype = ?, state = ?, hosp_lv = ?, in_county = ?, "
            "begntime = ?, endtime = ?, ipt_no = ?, med_type = ?, admission = ?, discharge = ? WHERE mdtrt_id = ?",
            (*row[1:-1], row[0]),
        )

    _STAY = ("SELECT mdtrt_id, fixmedins_code, psn_no, insutype, state, hosp_lv, in_county, begntime, endtime, "
             "ipt_no, med_type, admission, discharge, created_msgid FROM stays")

    def stay(self, mdtrt_id: str) -> StayRecord | None:
        return _stay(self._conn.execute(f"{self._STAY} WHERE mdtrt_id = ?", (mdtrt_id,)).fetchone())

    def stay_created_by(self, fixmedins_code: str, msgid: str) -> StayRecord | None:
        return _stay(self._conn.execute(f"{self._STAY} WHERE created_msgid = ? AND fixmedins_code = ?",
                                        (msgid, fixmedins_code)).fetchone())

    def open_stay_by_ipt_no(self, fixmedins_code: str, ipt_no: str) -> StayRecord | None:
        return _stay(self._conn.execute(
            f"{self._STAY} WHERE fixmedins_code = ? AND ipt_no = ? AND state NOT IN ('cancelled', 'completed')",
            (fixmedins_code, ipt_no),
        ).fetchone())

    # --- fee lines ------------------------------------------------------------------------------

    _LINE = ("SELECT feedetl_sn, init_feedetl_sn, med_list_codg, cnt, pric, amount_fen, fulamt_ownpay_fen, "
             "preselfpay_fen, inscp_scp_fen, overlmt_fen, chrgitm_lv, med_chrgitm_type, selfpay_prop, line "
             "FROM fee_lines WHERE mdtrt_id = ?")

    def fee_lines(self, mdtrt_id: str, sns: Collection[str] | None = None) -> dict[str, StoredFeeLine]:
        if sns is None:
            rows = self._conn.execute(f"{self._LINE} ORDER BY rowid", (mdtrt_id,)).fetchall()
        else:
            rows = []
            for chunk, marks in _chunks(sns):
                rows += self._conn.execute(f"{self._LINE} AND feedetl_sn IN ({marks})", (mdtrt_id, *chunk)).fetchall()
        return {row[0]: _line(row) for row in rows}

    def refunds_of(self, mdtrt_id: str, sns: Collection[str]) -> dict[str, list[StoredFeeLine]]:
        found: dict[str, list[StoredFeeLine]] = {}
        for chunk, marks in _chunks(sns):
            for row in self._conn.execute(f"{self._LINE} AND init_feedetl_sn IN ({marks})", (mdtrt_id, *chunk)):
                line = _line(row)
                found.setdefault(line.init_feedetl_sn, []).append(line)
        return found

    def insert_fee_lines(self, mdtrt_id: str, lines: Sequence[StoredFeeLine]) -> None:
        self._conn.executemany(
            "INSERT INTO fee_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(mdtrt_id, ln.feedetl_sn, ln.init_feedetl_sn, ln.med_list_codg, str(ln.cnt), str(ln.pric),
              to_fen_int(ln.amounts.det_item_fee_sumamt), to_fen_int(ln.amounts.fulamt_ownpay_amt),
              to_fen_int(ln.amounts.preselfpay_amt), to_fen_int(ln.amounts.inscp_scp_amt),
              to_fen_int(ln.amounts.overlmt_amt), ln.chrgitm_lv, ln.med_chrgitm_type, str(ln.selfpay_prop),
              ln.fingerprint) for ln in lines],
        )

    def delete_fee_lines(self, mdtrt_id: str, sns: Collection[str] | None) -> int:
        if sns is None:
            return self._conn.execute("DELETE FROM fee_lines WHERE mdtrt_id = ?", (mdtrt_id,)).rowcount
        deleted = 0
        for chunk, marks in _chunks(sns):
            deleted += self._conn.execute(
                f"DELETE FROM fee_lines WHERE mdtrt_id = ? AND feedetl_sn IN ({marks})", (mdtrt_id, *chunk)
            ).rowcount
        return deleted

    def fee_totals(self, mdtrt_id: str) -> tuple[int, FeeTotals]:
        row = self._conn.execute(
            "SELECT count(*), coalesce(sum(amount_fen), 0), coalesce(sum(fulamt_ownpay_fen), 0), "
            "coalesce(sum(overlmt_fen), 0), coalesce(sum(preselfpay_fen), 0), coalesce(sum(inscp_scp_fen), 0) "
            "FROM fee_lines WHERE mdtrt_id = ?", (mdtrt_id,),
        ).fetchone()
        return int(row[0]), FeeTotals(*(from_fen_int(int(v)) for v in row[1:]))

    def fee_line_count(self, mdtrt_id: str) -> int:
        return int(self._conn.execute("SELECT count(*) FROM fee_lines WHERE mdtrt_id = ?", (mdtrt_id,)).fetchone()[0])

    # --- settlements ----------------------------------------------------------------------------

    def insert_settlement(self, record: SettlementRecord) -> None:
        figures = record.figures
        sign = -1 if record.kind == "reversal" else 1
        self._conn.execute(
            "INSERT INTO settlements (setl_id, mdtrt_id, psn_no, fixmedins_code, year, setl_time, kind, status, "
            "reverses, medfee_sumamt_fen, fund_pay_sumamt_fen, hosp_part_amt_fen, psn_part_amt_fen, figures, msgid, "
            "medins_setl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.setl_id, record.mdtrt_id, record.psn_no, record.fixmedins_code, record.year,
             record.setl_time.isoformat(sep=" "), record.kind, record.status, record.reverses,
             sign * to_fen_int(figures.totals.medfee_sumamt), sign * to_fen_int(figures.fund_pay_sumamt),
             sign * to_fen_int(figures.hosp_part_amt), sign * to_fen_int(figures.psn_part_amt),
             dump_figures(figures), record.msgid, record.medins_setl_id),
        )

    _SETTLEMENT = ("SELECT setl_id, mdtrt_id, psn_no, fixmedins_code, year, setl_time, kind, status, reverses, "
                   "figures, msgid, medins_setl_id FROM settlements")

    def settlement(self, setl_id: str) -> SettlementRecord | None:
        return _settlement(self._conn.execute(f"{self._SETTLEMENT} WHERE setl_id = ?", (setl_id,)).fetchone())

    def valid_settlement_of(self, mdtrt_id: str) -> SettlementRecord | None:
        return _settlement(self._conn.execute(
            f"{self._SETTLEMENT} WHERE mdtrt_id = ? AND kind = 'settlement' AND status = 'valid'", (mdtrt_id,)
        ).fetchone())

    def mark_reversed(self, setl_id: str) -> None:
        self.set_settlement_status(setl_id, "reversed")

    def set_settlement_status(self, setl_id: str, status: str) -> None:
        self._conn.execute("UPDATE settlements SET status = ? WHERE setl_id = ?", (status, setl_id))

    def settlement_by_msgid(self, fixmedins_code: str, msgid: str, kind: str) -> SettlementRecord | None:
        return _settlement(self._conn.execute(
            f"{self._SETTLEMENT} WHERE msgid = ? AND fixmedins_code = ? AND kind = ?", (msgid, fixmedins_code, kind)
        ).fetchone())

    def settlements_after(self, psn_no: str, year: int, setl_id: str) -> int:
        """How many settlement records (settlements and reversals) of the person's year came after `setl_id`."""
        row = self._conn.execute(
            "SELECT count(*) FROM settlements WHERE psn_no = ? AND year = ? "
            "AND rowid > (SELECT rowid FROM settlements WHERE setl_id = ?)", (psn_no, year, setl_id)
        ).fetchone()
        return int(row[0])

    def settlements_of_year(self, psn_no: str, year: int) -> list[SettlementRecord]:
        rows = self._conn.execute(f"{self._SETTLEMENT} WHERE psn_no = ? AND year = ? ORDER BY rowid", (psn_no, year))
        return [record for record in map(_settlement, rows) if record is not None]

    def record_sheet_print(self, setl_id: str, at: str, by: str, layout: str) -> int:
        row = self._conn.execute("SELECT coalesce(max(print_no), 0) + 1 FROM sheet_prints WHERE setl_id = ?",
                                 (setl_id,)).fetchone()
        number = int(row[0])
        self._conn.execute("INSERT INTO sheet_prints VALUES (?, ?, ?, ?, ?)", (setl_id, number, at, by, layout))
        return number

    def sheet_printed_at(self, setl_id: str, print_no: int) -> str | None:
        row = self._conn.execute("SELECT printed_at FROM sheet_prints WHERE setl_id = ? AND print_no = ?",
                                 (setl_id, print_no)).fetchone()
        return None if row is None else str(row[0])

    def iter_valid_settlements(self) -> Iterator[SettlementRecord]:
        cursor = self._conn.execute(f"{self._SETTLEMENT} WHERE kind = 'settlement' AND status = 'valid'")
        for row in cursor:
            record = _settlement(row)
            assert record is not None
            yield record

    def ledger(self, since: datetime, until: datetime) -> Iterator[LedgerRow]:
        cursor = self._conn.execute(
            f"SELECT s.*, t.in_county, coalesce(p.insuplc_admdvs, ''), coalesce(a.mode, '') FROM ({self._SETTLEMENT} "
            "WHERE setl_time >= ? AND setl_time < ? AND (kind = 'settlement' OR status = 'valid') "
            ") s JOIN stays t ON t.mdtrt_id = s.mdtrt_id LEFT JOIN persons p ON p.psn_no = s.psn_no "
            "LEFT JOIN agency_settlements a ON a.setl_id = coalesce(s.reverses, s.setl_id) "
            "ORDER BY s.setl_time, s.setl_id",
            (since.isoformat(sep=" "), until.isoformat(sep=" ")))
        for row in cursor:
            record = _settlement(row[:-3])
            assert record is not None
            yield LedgerRow(record=record, sign=1 if record.kind == "settlement" else -1,
                            in_county=bool(row[-3]), insuplc_admdvs=str(row[-2]), agency=str(row[-1]))

    # --- accumulators ---------------------------------------------------------------------------

    def year_to_date(self, psn_no: str, year: int) -> dict[str, Decimal]:
        return {
            key: from_fen_int(amount)
            for key, amount in self._conn.execute(
                "SELECT key, amount_fen FROM accumulators WHERE psn_no = ? AND year = ?", (psn_no, year)
            )
        }

    def add_to_accumulators(self, psn_no: str, year: int, deltas: Mapping[str, Decimal]) -> None:
        self._conn.executemany(
            "INSERT INTO accumulators VALUES (?, ?, ?, ?) "
            "ON CONFLICT (psn_no, year, key) DO UPDATE SET amount_fen = accumulators.amount_fen + excluded.amount_fen",
            [(psn_no, year, key, to_fen_int(amount)) for key, amount in deltas.items()],
        )

    def all_accumulators(self) -> dict[tuple[str, int, str], Decimal]:
        return {
            (psn, int(year), key): from_fen_int(amount)
            for psn, year, key, amount in self._conn.execute("SELECT psn_no, year, key, amount_fen FROM accumulators")
        }

    # --- idempotency ----------------------------------------------------------------------------

    def answer_for(self, fixmedins_code: str, msgid: str) -> StoredAnswer | None:
        row = self._conn.execute(
            "SELECT infno, request_digest, answer FROM answers WHERE fixmedins_code = ? AND msgid = ?",
            (fixmedins_code, msgid),
        ).fetchone()
        return StoredAnswer(row[0], row[1], bytes(row[2])) if row else None

    def save_answer(self, fixmedins_code: str, msgid: str, answer: StoredAnswer, at: str) -> None:
        self._conn.execute(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)",
            (fixmedins_code, msgid, answer.infno, answer.request_digest, answer.answer, at),
        )


    # --- journal --------------------------------------------------------------------------------

    def journal_write(self, entries: Sequence[Entry]) -> list[int]:
        return journal_sql.write(self._conn, self._journal_ids(len(entries)), entries) if entries else []

    def journal_finish(self, endings: Sequence[tuple[int, Ending]]) -> None:
        if endings:
            journal_sql.finish(self._conn, endings)

    def journal_search(self, query: JournalQuery) -> list[JournalRow]:
        return journal_sql.search(self._conn, query)

    def journal_window(self, since: str, limit: int) -> list[tuple[str, str, str, str, str, float | None]]:
        return journal_sql.window(self._conn, since, limit)

    def journal_of_msgid(self, fixmedins_code: str, msgid: str) -> list[JournalRow]:
        return journal_sql.of_msgid(self._conn, fixmedins_code, msgid)

    def journal_first_ok(self, fixmedins_code: str, msgid: str) -> JournalRow | None:
        return journal_sql.first_ok(self._conn, fixmedins_code, msgid)

    def journal_prune(self, before: str, limit: int) -> int:
        return journal_sql.prune(self._conn, before, limit)

    def journal_prunable(self, before: str) -> tuple[int, str, str]:
        return journal_sql.prunable(self._conn, before)


class SqliteStore(SqlStore):
    """The embedded store: one file, one writer (the gateway's store thread).

    `create=False` opens only a database that exists (`hisgw serve` without --init): a missing file is a
    mistake to say, not an empty database to start silently. StoreUnavailable says what is wrong in one line."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path).absolute()
        if not create and not self.path.is_file():
            raise StoreUnavailable(f"no database at {self.path} (hisgw serve --init creates a new one)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the folder {self.path.parent}: {exc.strerror}") from exc
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly our unit of work.
            # mode=rw: a file that vanishes between the check above and here is not created either.
            target = f"{self.path.as_uri()}?mode={'rwc' if create else 'rw'}"
            self._conn = sqlite3.connect(target, uri=True, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self.schema_version = migrate_sqlite(self._conn)
            self._conn.execute("BEGIN IMMEDIATE")  # a read-only file opens without complaint: write, then undo
            self._conn.execute(f"PRAGMA user_version = {self.schema_version}")
            self._conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            writable = os.access(self.path.parent, os.W_OK) and (not self.path.exists()
                                                                  or os.access(self.path, os.W_OK))
            hint = "" if writable else " (the file or its folder is not writable: read-only file system?)"
            raise StoreUnavailable(f"cannot open the database {self.path}: {exc}{hint}") from exc
        self._identity = _identity(self.path)
        self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def check(self) -> None:
        try:
            now = _identity(self.path)
        except OSError as exc:
            raise StoreLost(f"{self.path} 已不存在（{exc.strerror}）") from exc
        if now != self._identity:
            raise StoreLost(f"{self.path} 已被另一个文件替换")

    @contextmanager
    def transaction(self, *, fsync: bool = True) -> Iterator[None]:
        if self._depth:  # nested use joins the outer unit of work
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not fsync:
            # WAL: this commit is appended to the log without an fsync. The next fsync'd commit syncs the log
            # up to itself, and recovery replays the log in order, so whatever outlives a later durable commit
            # outlives this one too; a process crash loses neither (the OS holds the pages).
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._depth = 0
            if not fsync:
                self._conn.execute("PRAGMA synchronous=FULL")

    def _journal_ids(self, count: int) -> list[int]:
        # The store thread is SQLite's only writer, so the next ids after max(id) are ours.
        first = int(self._conn.execute("SELECT coalesce(max(id), 0) + 1 FROM journal").fetchone()[0])
        return list(range(first, first + count))


def _identity(path: Path) -> tuple[int, int, int]:
    """Which file the path names: device and inode (replaced by another file: they differ), and its link count
    (0 once unlinked, though a stat by name then fails first)."""
    info = os.stat(path)
    return info.st_dev, info.st_ino, min(info.st_nlink, 1)


def _chunks(keys: Collection[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """Distinct keys in slices under SQLite's bound-parameter limit, with their `?,?,…` placeholders."""
    wanted = list(set(keys))
    for start in range(0, len(wanted), size):
        chunk = wanted[start:start + size]
        yield chunk, ",".join("?" * len(chunk))


def _person(row: tuple[object, ...] | None) -> Person | None:
    if row is None:
        return None
    (psn_no, certno, name, gend, brdy, naty, insutype, admdvs, identities, insured, reason, emp, cert_type) = row
    return Person(
        psn_no=str(psn_no), certno=str(certno), psn_name=str(name), gend=str(gend),
        brdy=date.fromisoformat(str(brdy)), naty=str(naty), insutype=str(insutype), insuplc_admdvs=str(admdvs),
        identities=tuple(code for code in str(identities).split(",") if code), insured=bool(insured),
        uninsured_reason=None if reason is None else str(reason), emp_name=str(emp), psn_cert_type=str(cert_type),
    )


def _stay_row(stay: StayRecord) -> tuple[object, ...]:
    return (
        stay.mdtrt_id, stay.fixmedins_code, stay.psn_no, stay.insutype, stay.state.value, stay.hosp_lv,
        int(stay.in_county), stay.begntime.isoformat(sep=" "),
        stay.endtime.isoformat(sep=" ") if stay.endtime else None, stay.ipt_no, stay.med_type,
        json.dumps(stay.admission, ensure_ascii=False),
        json.dumps(stay.discharge, ensure_ascii=False) if stay.discharge is not None else None,
        stay.created_msgid,
    )


def _stay(row: tuple[object, ...] | None) -> StayRecord | None:
    if row is None:
        return None
    (mdtrt_id, hospital, psn_no, insutype, state, level, in_county, begin, end, ipt_no, med_type, admission,
     discharge, msgid) = row
    return StayRecord(
        mdtrt_id=str(mdtrt_id), fixmedins_code=str(hospital), psn_no=str(psn_no), insutype=str(insutype),
        state=StayState(str(state)), hosp_lv=int(str(level)), in_county=bool(in_county),
        begntime=datetime.fromisoformat(str(begin)), endtime=datetime.fromisoformat(str(end)) if end else None,
        ipt_no=str(ipt_no), med_type=str(med_type), admission=json.loads(str(admission)),
        discharge=json.loads(str(discharge)) if discharge else None, created_msgid=str(msgid),
    )


def _line(row: tuple[object, ...]) -> StoredFeeLine:
    (sn, init_sn, code, cnt, pric, amount, fulamt, preselfpay, inscp, overlmt, lv, category, prop, line) = row
    return StoredFeeLine(
        feedetl_sn=str(sn), init_feedetl_sn=str(init_sn), med_list_codg=str(code), cnt=Decimal(str(cnt)),
        pric=Decimal(str(pric)),
        amounts=LineAmounts(from_fen_int(int(str(amount))), from_fen_int(int(str(fulamt))),
                            from_fen_int(int(str(preselfpay))), from_fen_int(int(str(inscp))),
                            from_fen_int(int(str(overlmt)))),
        chrgitm_lv=str(lv), med_chrgitm_type=str(category), selfpay_prop=Decimal(str(prop)), fingerprint=str(line),
    )


def _settlement(row: tuple[object, ...] | None) -> SettlementRecord | None:
    if row is None:
        return None
    setl_id, mdtrt_id, psn_no, hospital, year, setl_time, kind, status, reverses, figures, msgid, medins_setl_id = row
    return SettlementRecord(
        setl_id=str(setl_id), mdtrt_id=str(mdtrt_id), psn_no=str(psn_no), fixmedins_code=str(hospital),
        year=int(str(year)), setl_time=datetime.fromisoformat(str(setl_time)), kind=str(kind), status=str(status),
        reverses=None if reverses is None else str(reverses), figures=load_figures(str(figures)), msgid=str(msgid),
        medins_setl_id=str(medins_setl_id),
    )

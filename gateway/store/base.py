"""The repository port. The service talks to this, never to SQL; a PostgreSQL store implements it too.

All methods are synchronous and called from the gateway's single store thread, inside `transaction()`
for anything that writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gateway.canonical.refdata import CatalogueItem, Hospital, IdentityAttribute, Person
from gateway.county.agency_port import AgencyLedger
from gateway.county.port import CountyLedger
from gateway.engine.fees import FeeTotals
from gateway.journal.model import Ending, Entry, JournalQuery, JournalRow
from gateway.referral.port import ReferralLedger
from gateway.store.arrears_port import ArrearsStore
from gateway.store.outpatient_port import OutpatientStore
from gateway.store.records import (
    CategorySum,
    LedgerRow,
    SettlementRecord,
    SignInRecord,
    StayRecord,
    StoredAnswer,
    StoredFeeLine,
)


class StoreUnavailable(Exception):
    """The store cannot be opened (missing and not to be created, unreadable, read-only): one line for the
    operator, said at start instead of a traceback."""


class Store(CountyLedger, AgencyLedger, OutpatientStore, ArrearsStore, ReferralLedger, Protocol):
    def transaction(self, *, fsync: bool = True) -> AbstractContextManager[None]:
        """All-or-nothing unit of work; durable (fsync) on commit. fsync=False: the commit may be lost to a
        power cut, but never while a later durable commit survives (the journal's attempts, runtime.py)."""

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside a transaction: a part that is undone alone if it raises (one call of a batch)."""

    def close(self) -> None: ...

    def check(self) -> None:
        """Raise gateway.errors.StoreLost when what is written would no longer be kept (SQLite: its file was
        deleted or replaced under the running gateway). Cheap: the gateway asks before every batch."""

    def next_serial(self, name: str) -> int:
        """A gap-free counter per name, for mdtrt_id, setl_id and sign_no."""

    # reference data
    def upsert_hospitals(self, items: Sequence[Hospital]) -> int: ...
    def upsert_catalogue(self, items: Sequence[CatalogueItem]) -> int: ...
    def upsert_identity_attributes(self, items: Sequence[IdentityAttribute]) -> int: ...
    def upsert_persons(self, items: Sequence[Person]) -> int: ...
    def hospital(self, fixmedins_code: str) -> Hospital | None: ...
    def catalogue_items(self, codes: Collection[str]) -> dict[str, CatalogueItem]: ...
    def identity_attributes(self) -> dict[str, IdentityAttribute]: ...
    def person(self, psn_no: str) -> Person | None: ...
    def person_by_certno(self, certno: str) -> Person | None: ...
    def psn_nos_by_certno(self, certnos: Collection[str]) -> dict[str, str]:
        """certno → psn_no of the persons already loaded among `certnos`."""
    def counts(self) -> dict[str, int]: ...
    def iter_persons(self) -> Iterator[Person]: ...
    def iter_hospitals(self) -> Iterator[Hospital]: ...

    # sign-in
    def add_sign_in(self, record: SignInRecord) -> None: ...
    def sign_out(self, sign_no: str, at: str) -> bool: ...

    # stays
    def insert_stay(self, stay: StayRecord) -> None: ...
    def update_stay(self, stay: StayRecord) -> None: ...
    def stay(self, mdtrt_id: str) -> StayRecord | None: ...
    def open_stay_by_ipt_no(self, fixmedins_code: str, ipt_no: str) -> StayRecord | None: ...
    def stay_created_by(self, fixmedins_code: str, msgid: str) -> StayRecord | None: ...

    # fee lines
    def fee_lines(self, mdtrt_id: str, sns: Collection[str] | None = None) -> dict[str, StoredFeeLine]: ...
    def refunds_of(self, mdtrt_id: str, sns: Collection[str]) -> dict[str, list[StoredFeeLine]]: ...
    def insert_fee_lines(self, mdtrt_id: str, lines: Sequence[StoredFeeLine]) -> None: ...
    def delete_fee_lines(self, mdtrt_id: str, sns: Collection[str] | None) -> int: ...
    def fee_line_count(self, mdtrt_id: str) -> int: ...
    def fee_totals(self, mdtrt_id: str) -> tuple[int, FeeTotals]:
        """(line count, sums) of a stay's lines, summed exactly in fen."""

    # settlements
    def insert_settlement(self, record: SettlementRecord) -> None: ...
    def settlement(self, setl_id: str) -> SettlementRecord | None: ...
    def valid_settlement_of(self, mdtrt_id: str) -> SettlementRecord | None: ...
    def mark_reversed(self, setl_id: str) -> None: ...
    def set_settlement_status(self, setl_id: str, status: str) -> None: ...
    def settlement_by_msgid(self, fixmedins_code: str, msgid: str, kind: str) -> SettlementRecord | None:
        """The settlement (kind 'settlement') or reversal (kind 'reversal') record a msgid created."""

    def settlements_after(self, psn_no: str, year: int, setl_id: str) -> int:
        """Settlement records of the person's accounting year written after `setl_id`."""

    def settlements_of_year(self, psn_no: str, year: int) -> list[SettlementRecord]:
        """Every settlement and reversal record of the person's accounting year, in the order written."""

    # accumulators
    def year_to_date(self, psn_no: str, year: int) -> dict[str, Decimal]: ...
    def add_to_accumulators(self, psn_no: str, year: int, deltas: Mapping[str, Decimal]) -> None: ...
    def iter_valid_settlements(self) -> Iterator[SettlementRecord]: ...
    def all_accumulators(self) -> dict[tuple[str, int, str], Decimal]: ...

    # the county's reports
    def ledger(self, since: datetime, until: datetime) -> Iterator[LedgerRow]:
        """Settlements and standing reversals booked (setl_time) in [since, until), oldest first."""

    # one-stop settlement sheets (gateway/county/sheet)
    def record_sheet_print(self, setl_id: str, at: str, by: str, layout: str) -> int:
        """One more print of the layout's sheet by a hospital; its number in that layout (1 = the original)."""

    def settlement_categories(self, setl_id: str) -> list[CategorySum] | None:
        """The stay's fee lines by category as they stood when the settlement was made; None for one made before
        schema 12 kept them (or a reversal)."""

    def sheet_prints(self, setl_id: str, layout: str) -> int:
        """How many times a hospital printed the layout's sheet of the settlement."""

    def record_sheet_view(self, setl_id: str, at: str, by: str, layout: str) -> None:
        """A county reader saw the sheet: kept, but not a print."""

    def sheet_printed_at(self, setl_id: str, layout: str, print_no: int) -> str | None:
        """When that print of the layout's sheet was issued; None if it never was."""

    # idempotency
    def answer_for(self, fixmedins_code: str, msgid: str) -> StoredAnswer | None: ...
    def save_answer(self, fixmedins_code: str, msgid: str, answer: StoredAnswer, at: str) -> None: ...

    # journal (gateway/journal)
    def journal_write(self, entries: Sequence[Entry]) -> list[int]:
        """Rows without outcome (an attempt, before its call runs); their ids, in order."""

    def journal_finish(self, endings: Sequence[tuple[int, Ending]]) -> None:
        """Outcomes of written rows."""

    def journal_search(self, query: JournalQuery) -> list[JournalRow]:
        """Newest first."""

    def journal_of_msgid(self, fixmedins_code: str, msgid: str) -> list[JournalRow]:
        """Oldest first."""

    def journal_window(self, since: str, limit: int) -> list[tuple[str, str, str, str, str, float | None]]:
        """(dialect, infno, outcome, err_code, fixmedins_code, ms) received since `since`, newest first."""

    def journal_first_ok(self, fixmedins_code: str, msgid: str) -> JournalRow | None: ...
    def journal_prune(self, before: str, limit: int) -> int: ...
    def journal_prunable(self, before: str) -> tuple[int, str, str]:
        """(count, first received_at, last received_at) of what journal_prune(before) would remove."""

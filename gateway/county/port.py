"""The county side's part of the store port: small and storage-neutral (a PostgreSQL store implements it too).

Called from the gateway's store thread; writes inside `Store.transaction()`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime
from typing import Protocol

from gateway.canonical.refdata import Person
from gateway.county.claim_records import AccountEntry, ClaimEvent, ClaimLine, ClaimRecord
from gateway.county.records import (
    AttributePeriod,
    AuditEntry,
    AuditQuery,
    IdentityImport,
    ListMember,
    PolicyVersion,
    ReplayRow,
)


class CountyLedger(Protocol):
    # audit trail (append-only)
    def audit_append(self, entry: AuditEntry) -> int: ...
    def audit_search(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first."""

    # policy versions
    def policy_insert(self, version: PolicyVersion) -> int:
        """Its version number (the given one is ignored)."""

    def policy_publish(self, version: int, effective_from: date, policy_id: str, by: str, at: datetime) -> None: ...
    def policy_versions(self) -> list[PolicyVersion]:
        """Oldest first."""

    def policy_version(self, version: int) -> PolicyVersion | None: ...

    # identity lists
    def import_insert(self, record: IdentityImport) -> int: ...
    def import_decide(self, import_id: int, state: str, by: str, at: datetime, note: str) -> None: ...
    def import_get(self, import_id: int) -> IdentityImport | None: ...
    def imports(self, limit: int) -> list[IdentityImport]:
        """Newest first, without their rows."""

    def persons_by_certno(self, certnos: Collection[str]) -> dict[str, Person]: ...
    def persons_holding_any(self, codes: Collection[str]) -> list[Person]: ...
    def set_person_identities(self, psn_no: str, codes: Sequence[str]) -> None: ...
    def identity_periods(self, psn_no: str) -> list[AttributePeriod]: ...
    def add_period(self, period: AttributePeriod) -> None: ...
    def close_period(self, period_id: int, valid_to: date) -> None: ...
    def replace_list_members(self, source: str, members: Sequence[ListMember]) -> None: ...
    def list_members(self, as_of: date) -> list[ListMember]:
        """Members of every source's last applied list dated on or before `as_of`."""

    # claims (gateway/county/claims.py) and the special account (gateway/county/account.py)
    def claim_insert(self, claim: ClaimRecord, lines: Sequence[ClaimLine]) -> int:
        """The claim and its lines (their claim_id is set to the new claim's number)."""

    def claim_set_state(self, claim_id: int, state: str) -> None: ...
    def claim(self, claim_id: int) -> ClaimRecord | None: ...
    def claim_for(self, fixmedins_code: str, since: date, until: date) -> ClaimRecord | None: ...
    def claims(self, fixmedins_code: str, state: str, limit: int) -> list[ClaimRecord]:
        """Newest first; an empty filter matches every claim."""

    def claim_lines(self, fixmedins_code: str, claim_id: int = 0) -> list[ClaimLine]:
        """Lines of one claim, or (claim_id 0) of every claim of the hospital; in claim and line order."""

    def claim_event_add(self, event: ClaimEvent) -> int: ...
    def claim_events(self, fixmedins_code: str, claim_id: int = 0) -> list[ClaimEvent]:
        """Oldest first."""

    def unclaimed_settlements(self, fixmedins_code: str, until: datetime) -> list[str]:
        """setl_ids of the hospital's valid settlements booked before `until` that no claim has a line of; not
        those made at the agency's window (the agency paid them: no hospital advanced anything). The agency
        window's own claimant (gateway/county/claims.py AGENCY_CLAIMANT) gets exactly those: every valid
        settlement made at the window, whatever its hospital."""

    def account_add(self, entry: AccountEntry) -> int: ...
    def account_entries(self, until: date) -> list[AccountEntry]:
        """Every entry dated on or before `until`, by date then as written."""

    # the ledger, read for the what-if
    def replay_rows(self, since: datetime, until: datetime) -> Iterator[ReplayRow]:
        """Valid settlements with since <= setl_time < until, in the order they were made, after those of the
        same accounting years made before `since` (context=True)."""

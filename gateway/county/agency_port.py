"""The store's port for the agency window and the daily reconciliation: small and storage-neutral."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from gateway.store.records import SettlementRecord


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """A settlement made at the county agency's window (Hunan 三(二)3)."""

    setl_id: str
    mode: str  # basic_settled | self_paid (gateway/county/agency.py MODES)
    psn_no: str
    fixmedins_code: str
    begndate: date
    enddate: date
    operator: str
    request_id: str
    entry: dict[str, Any]  # what the operator entered, JSON-ready


@dataclass(frozen=True, slots=True)
class AgencyListed:
    """A window settlement as the listing shows it: what was entered, when it was booked, whether it stands and
    the claim (of the agency window, gateway/county/claims.py AGENCY_CLAIMANT) that holds it, if any."""

    record: AgencyRecord
    setl_time: datetime
    status: str  # valid | reversed
    claim_id: int | None


@dataclass(frozen=True, slots=True)
class ReconRow:
    """One settlement record of a hospital as its daily reconciliation (3201/3202) reads it."""

    record: SettlementRecord
    insutype: str  # the stay's scheme
    med_type: str  # the stay's 医疗类别 (its clearing type follows from it)
    setl_optins: str  # 结算经办机构: the person's insurance area (setlinfo.clr_optins)


class AgencyLedger(Protocol):
    def agency_insert(self, record: AgencyRecord) -> None: ...
    def agency_record(self, setl_id: str) -> AgencyRecord | None: ...
    def agency_duplicate(self, psn_no: str, fixmedins_code: str, begndate: date, enddate: date) -> str | None:
        """The valid agency settlement of the same person, hospital and dates, if there is one."""

    def agency_listing(self, since: datetime, until: datetime, status: str, limit: int, offset: int
                       ) -> tuple[int, list[AgencyListed]]:
        """How many window settlements were booked in [since, until) with `status` (valid | reversed; "": either),
        and `limit` of them from `offset`, oldest first."""

    def recon_rows(self, fixmedins_code: str, since: datetime, until: datetime) -> Iterator[ReconRow]:
        """The hospital's own settlements and standing reversals booked in [since, until), oldest first; the
        agency window's settlements are not the hospital's and are left out."""

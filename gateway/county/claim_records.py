"""What the claims cycle and the special account keep (frozen values; the store never changes one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# The agency window's own claimant code: its settlements (Hunan 三(二)3) are one claim a period, the agency paying
# each patient what the funds owe (not a hospital: the registry never holds this code as a hospital's).
AGENCY_CLAIMANT = "AGENCY"

Funds = tuple[tuple[str, Decimal], ...]  # (fund_pay_type, amount), chain order, signed like the line


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    claim_id: int
    fixmedins_code: str
    since: date
    until: date  # inclusive
    state: str
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimLine:
    claim_id: int
    line_no: int
    kind: str  # settlement | reclaim | reversal
    setl_id: str
    psn_no: str
    setl_time: datetime
    medfee_sumamt: Decimal
    funds: Funds
    origin: str = ""  # 'claim_id:line_no' a reclaim or a reversal follows

    @property
    def amount(self) -> Decimal:
        return sum((a for _code, a in self.funds), Decimal(0))

    @property
    def ref(self) -> str:
        return f"{self.claim_id}:{self.line_no}"


@dataclass(frozen=True, slots=True)
class ClaimEvent:
    """A step of a claim (line_no 0) or a decision / explanation on one of its lines."""

    claim_id: int
    line_no: int
    event: str
    by: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)  # JSON-ready
    id: int = 0


@dataclass(frozen=True, slots=True)
class AccountEntry:
    on_date: date
    kind: str  # receipt | payment
    source: str  # receipt: account.SOURCES key; payment: the hospital's fixmedins_code
    amount: Decimal
    reference: str
    by: str
    at: datetime
    claim_id: int | None = None
    note: str = ""
    id: int = 0

"""What the county side keeps (frozen values): audit entries, policy versions, identity imports and periods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gateway.referral.port import Carried


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    operator: str
    role: str
    action: str
    subject: str
    before: Any  # JSON-ready
    after: Any
    request_id: str
    id: int = 0  # given by the store


@dataclass(frozen=True, slots=True)
class AuditQuery:
    operator: str = ""
    action: str = ""  # exact, or a prefix ending in '.' ("policy.")
    subject: str = ""
    request_id: str = ""
    since: str = ""  # 'YYYY-MM-DD[ HH:MM:SS]', inclusive
    until: str = ""  # exclusive
    limit: int = 100


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int
    source: str  # the TOML text as uploaded
    status: str  # draft | published
    uploaded_by: str
    uploaded_at: datetime
    effective_from: date | None = None
    policy_id: str | None = None
    published_by: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IdentityImport:
    import_id: int
    source: str
    filename: str
    as_of: date
    state: str
    uploaded_by: str
    uploaded_at: datetime
    counts: Mapping[str, int]
    digest: str
    rows: tuple[Mapping[str, Any], ...]  # the diff's rows (gateway/county/identities.py DiffRow.document())
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AttributePeriod:
    """A person held `code` (from `source`'s list) from valid_from (inclusive) to valid_to (exclusive)."""

    psn_no: str
    source: str
    code: str
    valid_from: date
    valid_to: date | None
    import_id: int | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class ListMember:
    source: str
    certno: str
    psn_name: str
    codes: tuple[str, ...]
    import_id: int
    as_of: date


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One real settlement as the what-if replays it: the facts the chain saw and what each fund paid."""

    setl_id: str
    psn_no: str
    year: int
    setl_time: datetime
    insutype: str
    hosp_lv: int
    in_county: bool
    on: date  # the accounting date that chose the policy
    attributes: frozenset[str]
    totals: tuple[Decimal, Decimal, Decimal, Decimal, Decimal]  # FeeTotals fields in order
    paid: Mapping[str, Decimal] = field(default_factory=dict)  # fund_pay_type -> amount (hospital included)
    psn_part: Decimal = Decimal(0)
    policy_id: str = ""  # the version it was settled under
    deltas: Mapping[str, Decimal] = field(default_factory=dict)  # what it added to the year-to-date
    context: bool = False  # made before the period, in the same year: only its year-to-date counts
    elsewhere: Mapping[str, Decimal] = field(default_factory=dict)  # agency window: funds paid elsewhere (basic)
    elsewhere_dedc: Decimal = Decimal(0)  # and the deductible that settlement applied
    visit: str = "inpatient"  # the policy's visit kind it was settled as (chronic while a recognition was in force)
    catalogue_exception: bool = False  # it was settled with an approved exception to the 90% catalogue rule
    # A settlement reversed since counted for the year-to-date of those made while it stood, and its reversal (a
    # row of its own, naming it) took it out again: both are replayed, neither is a cost of the period.
    reversed: bool = False
    reverses: str = ""  # a reversal: the settlement it undid (its figures are that one's)
    carried: Carried | None = None  # what it took over from partners' referral records (added to its year-to-date)

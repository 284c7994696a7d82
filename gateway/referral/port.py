"""What the referral part needs from the store: its tables, storage-neutral."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ReferralRow:
    trt_dcla_detl_sn: str
    fixmedins_code: str
    psn_no: str
    year: int
    status: str  # 1 valid, 0 cancelled
    filed_at: str
    msgid: str
    details: dict[str, str]


@dataclass(frozen=True, slots=True)
class ImportRow:
    issuer: str
    psn_no: str
    year: int
    trt_dcla_detl_sn: str
    issued_at: str
    record: str  # JSON as received


@dataclass(frozen=True, slots=True)
class Carried:
    """What one settlement took over from partners' records: their sums, as the sheet shows them."""

    issuers: tuple[str, ...]
    cum_cmpl_fee: Decimal  # 转入累计合规费用
    cum_basic_pay: Decimal  # 转入基本累计补偿
    cum_crit_pay: Decimal  # 转入大病累计补偿
    cum_crit_base: Decimal  # 转入大病累计合规自付


class ReferralLedger(Protocol):
    def referral_insert(self, row: ReferralRow) -> None: ...
    def referral(self, sn: str) -> ReferralRow | None: ...
    def referral_set_status(self, sn: str, status: str) -> None: ...
    def referral_import_of(self, issuer: str, psn_no: str, year: int) -> ImportRow | None: ...
    def referral_import_put(self, row: ImportRow, imported_at: str) -> None: ...
    def referral_import_drop(self, issuer: str, psn_no: str, year: int) -> None: ...
    def referral_imports(self, psn_no: str | None = None, year: int | None = None) -> Iterator[ImportRow]: ...
    def referral_next_seq(self, audience: str) -> int: ...
    def referral_seen_seq(self, issuer: str, psn_no: str, year: int) -> int | None: ...
    def referral_seen_put(self, issuer: str, psn_no: str, year: int, seq: int) -> None: ...
    def referral_nonce_add(self, partner: str, nonce: str, now: float, window: float) -> bool: ...
    def referral_carried_put(self, setl_id: str, carried: Carried) -> None: ...
    def referral_carried(self, setl_id: str) -> Carried | None: ...

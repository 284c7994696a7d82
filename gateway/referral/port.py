"""What the referral part needs from the store: its two tables, storage-neutral."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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


class ReferralLedger(Protocol):
    def referral_insert(self, row: ReferralRow) -> None: ...
    def referral(self, sn: str) -> ReferralRow | None: ...
    def referral_set_status(self, sn: str, status: str) -> None: ...
    def referral_import_of(self, issuer: str, psn_no: str, year: int) -> ImportRow | None: ...
    def referral_import_put(self, row: ImportRow, imported_at: str) -> None: ...
    def referral_import_drop(self, issuer: str, psn_no: str, year: int) -> None: ...
    def referral_imports(self, psn_no: str | None = None, year: int | None = None) -> Iterator[ImportRow]: ...

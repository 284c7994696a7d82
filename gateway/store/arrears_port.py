"""The store port's part for the registers the county reviews (SQLite side: gateway.store.arrears_sql): Gannan's
先诊疗后付费 arrears register, and the exceptions to Guangxi's 90% catalogue rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from gateway.store.records import StayRecord


@dataclass(frozen=True, slots=True)
class ArrearsRecord:
    arrears_id: str
    psn_no: str
    fixmedins_code: str
    mdtrt_id: str
    owed: Decimal
    paid: Decimal
    reported_on: date
    recorded_at: datetime
    recorded_by: str
    cleared_on: date | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.owed - self.paid


@dataclass(frozen=True, slots=True)
class CatalogueException:
    mdtrt_id: str
    fixmedins_code: str
    reason: str
    requested_by: str
    requested_at: datetime
    status: str = "requested"  # requested | approved | refused
    decided_by: str = ""
    decided_at: datetime | None = None


class ArrearsStore(Protocol):
    def insert_arrears(self, record: ArrearsRecord) -> None: ...
    def arrears(self, arrears_id: str) -> ArrearsRecord | None: ...
    def arrears_of_stay(self, mdtrt_id: str) -> ArrearsRecord | None: ...
    def arrears_list(self, psn_no: str | None, open_only: bool) -> list[ArrearsRecord]:
        """Oldest report first; open_only: those not yet paid in full."""

    def record_arrears_payment(self, arrears_id: str, paid: Decimal, cleared_on: date | None) -> None: ...

    def discharged_unsettled(self, dscg_way: str, ended_before: datetime) -> list[StayRecord]:
        """Stays discharged (2402) with that 离院方式, ended before the time given, and not settled since."""

    def insert_catalogue_exception(self, record: CatalogueException) -> None: ...
    def catalogue_exception(self, mdtrt_id: str) -> CatalogueException | None: ...
    def catalogue_exceptions(self, status: str | None) -> list[CatalogueException]: ...
    def decide_catalogue_exception(self, mdtrt_id: str, status: str, by: str, at: datetime) -> None: ...

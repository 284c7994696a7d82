"""The store port's outpatient part: charge batches, chronic-disease recognitions, late registrations.

A part of gateway.store.base.Store of its own so the outpatient work stays in its own files; the SQLite
implementation is gateway.store.outpatient_sql.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RecognitionRecord:
    recog_id: str
    psn_no: str
    fixmedins_code: str
    dise_codg: str
    dise_name: str
    recog_date: date
    doctors: tuple[tuple[str, str, str], ...]  # (code, name, title)
    recorded_at: datetime
    msgid: str
    status: str = "active"  # active | cancelled
    cancelled_at: datetime | None = None
    cancelled_by: str = ""
    cancel_reason: str = ""


@dataclass(frozen=True, slots=True)
class LateRegistration:
    mdtrt_id: str
    fixmedins_code: str
    psn_no: str
    begntime: datetime
    received_at: datetime
    minutes_late: int


class OutpatientStore(Protocol):
    # 2204/2205 charge batches
    def add_batch_lines(self, mdtrt_id: str, chrg_bchno: str, sns: Sequence[str]) -> None: ...
    def batch_lines(self, mdtrt_id: str, chrg_bchno: str) -> list[str]: ...
    def forget_batch_lines(self, mdtrt_id: str, sns: Collection[str] | None) -> None: ...

    # chronic-disease recognitions
    def insert_recognition(self, record: RecognitionRecord) -> None: ...
    def recognition(self, recog_id: str) -> RecognitionRecord | None: ...
    def recognitions_of(self, psn_no: str) -> list[RecognitionRecord]: ...
    def recognitions_recorded(self, fixmedins_code: str | None, since: date, until: date) -> list[RecognitionRecord]:
        """Recognitions of one hospital (None: every hospital) whose recog_date is in [since, until)."""

    def cancel_recognition(self, recog_id: str, at: datetime, by: str, reason: str) -> None: ...

    # late 2401 registrations
    def add_late_registration(self, row: LateRegistration) -> None: ...
    def late_registrations(self, fixmedins_code: str | None, since: datetime,
                           until: datetime) -> list[LateRegistration]:
        """Received in [since, until), oldest first."""

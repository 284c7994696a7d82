"""Canonical answers: what a transaction gives back, before any dialect renders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.canonical.refdata import IdentityAttribute, Person
from gateway.engine.fees import LineAmounts
from gateway.engine.types import ChainResult


@dataclass(frozen=True, slots=True)
class SignInAnswer:
    sign_no: str
    sign_time: datetime


@dataclass(frozen=True, slots=True)
class PersonAnswer:
    person: Person
    attributes: tuple[IdentityAttribute, ...]  # the catalogue entries of the codes the person holds
    age: int


@dataclass(frozen=True, slots=True)
class AdmissionAnswer:
    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str


@dataclass(frozen=True, slots=True)
class FeeLineAnswer:
    feedetl_sn: str
    cnt: Decimal
    pric: Decimal
    amounts: LineAmounts
    chrgitm_lv: str
    med_chrgitm_type: str
    selfpay_prop: Decimal


@dataclass(frozen=True, slots=True)
class FeeUploadAnswer:
    lines: tuple[FeeLineAnswer, ...]


@dataclass(frozen=True, slots=True)
class SettlementAnswer:
    """2303/2304 (and 5203): the one-stop settlement. setl_id is empty for a trial."""

    setl_id: str
    mdtrt_id: str
    person: Person
    age: int
    setl_time: datetime
    med_type: str
    figures: ChainResult
    year: int


@dataclass(frozen=True, slots=True)
class ReversalAnswer:
    """2305: the reversal record; its figures are the original's, negated when rendered."""

    setl_id: str  # the reversal's own id
    reversed_setl_id: str
    mdtrt_id: str
    person: Person
    setl_time: datetime
    figures: ChainResult


@dataclass(frozen=True, slots=True)
class Accumulator:
    key: str
    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AccumulatorAnswer:
    psn_no: str
    year: int
    items: tuple[Accumulator, ...]


@dataclass(frozen=True, slots=True)
class Done:
    """A state change with nothing to report beyond success."""

    mdtrt_id: str = ""


Answer = (
    SignInAnswer | PersonAnswer | AdmissionAnswer | FeeUploadAnswer | SettlementAnswer | ReversalAnswer
    | AccumulatorAnswer | Done
)

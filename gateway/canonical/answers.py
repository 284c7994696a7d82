"""Canonical answers: what a transaction gives back, before any dialect renders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from gateway.canonical.refdata import IdentityAttribute, Person
from gateway.county.sheet.model import Sheet
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
    arrears_owed: Decimal | None = None  # on the 先诊疗后付费 arrears register (Gannan): what is still owed
    arrears_since: date | None = None


@dataclass(frozen=True, slots=True)
class AdmissionAnswer:
    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str
    warn_msg: str = ""  # accepted, but late (Hunan 三(二)1: 24 h): rendered as the envelope's warn_msg


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
    medins_setl_id: str  # the HIS's own settlement id (2304 input, or its msgid), echoed in every answer about it


@dataclass(frozen=True, slots=True)
class ReversalAnswer:
    """2305: the reversal record; its figures are the original's, negated when rendered."""

    setl_id: str  # the reversal's own id
    reversed_setl_id: str
    mdtrt_id: str
    person: Person
    setl_time: datetime
    figures: ChainResult
    age: int  # as the settlement carried them
    med_type: str
    medins_setl_id: str


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
class CorrectionAnswer:
    """2601: what was undone. setl_id: the settlement concerned (undone: 2304/2207; valid again: 2305/2208);
    reversal_setl_id: the reversal record (made by this 2601, or the one it undid). 5203 knows both."""

    omsgid: str
    oinfno: str
    psn_no: str
    mdtrt_id: str
    setl_id: str
    reversal_setl_id: str = ""


@dataclass(frozen=True, slots=True)
class MessageAnswer:
    """5999: what became of a msgid. status: ok | error | unknown (no outcome committed) | none (never seen)."""

    omsgid: str
    infno: str
    status: str
    err_msg: str
    attempts: int  # exchanges journalled under this msgid (retries included)
    first_at: datetime | None
    last_at: datetime | None
    undone: bool  # its effect was reversed since (2305, 2601, 2404)
    psn_no: str
    mdtrt_id: str
    setl_id: str
    answer: str  # the answer the call got, exactly (state-changing calls that succeeded), else ""

    @property
    def effective(self) -> bool:
        return self.status == "ok" and not self.undone


@dataclass(frozen=True, slots=True)
class SheetAnswer:
    """5998: the settlement's sheet, and the files asked for besides its JSON (html)."""

    sheet: Sheet
    psn_no: str
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReconTotals:
    """A side's figures of a period: amounts net of reversals (each a negative record), count of records."""

    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    setl_cnt: int


@dataclass(frozen=True, slots=True)
class OneSided:
    """A 单边账 or a record whose amounts differ, and how to repair it (gateway/service/reconcile.py)."""

    side: str  # gateway_only | hospital_only | amounts_differ
    setl_id: str
    msgid: str  # the message that made the record: what 5999 asks about, what 2601 undoes, what is resent
    oinfno: str  # its transaction (2304, 2305, 2601)
    refd_setl_flag: str
    psn_no: str
    mdtrt_id: str
    medins_setl_id: str
    repair: str  # 2601 | 5999 | resend
    gateway: ReconTotals | None
    hospital: ReconTotals | None


@dataclass(frozen=True, slots=True)
class ReconciliationAnswer:
    """3201 (differences empty) and 3202."""

    setl_optins: str
    agrees: bool
    description: str
    gateway: ReconTotals
    hospital: ReconTotals
    differences: tuple[OneSided, ...] = ()
    detail: bool = False  # a 3202
    file_qury_no: str = ""


@dataclass(frozen=True, slots=True)
class VisitAnswer:
    """2201 门诊挂号."""

    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str


@dataclass(frozen=True, slots=True)
class RecognitionAnswer:
    """2503 慢特病备案: the recognition's id (trt_dcla_detl_sn), which the agency's cancellation names."""

    recog_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class Done:
    """A state change with nothing to report beyond success."""

    mdtrt_id: str = ""


@dataclass(frozen=True, slots=True)
class ReferralAnswer:
    """2501/2502: the referral's 待遇申报明细流水号 and where it stands (1 valid, 0 cancelled)."""

    trt_dcla_detl_sn: str
    psn_no: str
    status: str


Answer = (
    SignInAnswer | PersonAnswer | AdmissionAnswer | FeeUploadAnswer | SettlementAnswer | ReversalAnswer
    | AccumulatorAnswer | CorrectionAnswer | MessageAnswer | SheetAnswer | ReconciliationAnswer | VisitAnswer
    | RecognitionAnswer | Done | ReferralAnswer
)

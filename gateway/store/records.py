"""What the store keeps about stays, fee lines, settlements and answers (frozen values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.engine.fees import LineAmounts
from gateway.engine.types import ChainResult
from gateway.lifecycle import StayState


@dataclass(frozen=True, slots=True)
class StayRecord:
    mdtrt_id: str
    fixmedins_code: str
    psn_no: str
    insutype: str
    state: StayState
    hosp_lv: int
    in_county: bool
    begntime: datetime
    endtime: datetime | None
    ipt_no: str
    med_type: str
    admission: Mapping[str, object]  # the admission details as registered (JSON-ready)
    discharge: Mapping[str, object] | None
    created_msgid: str


@dataclass(frozen=True, slots=True)
class StoredFeeLine:
    feedetl_sn: str
    init_feedetl_sn: str
    med_list_codg: str
    cnt: Decimal
    pric: Decimal
    amounts: LineAmounts
    chrgitm_lv: str
    med_chrgitm_type: str
    selfpay_prop: Decimal
    fingerprint: str  # canonical JSON of the line as sent: an identical re-send is not a second line


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    setl_id: str
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    year: int  # accumulator year the settlement counted in
    setl_time: datetime
    kind: str  # "settlement" or "reversal"
    status: str  # "valid" or "reversed"
    reverses: str | None
    figures: ChainResult
    msgid: str
    medins_setl_id: str = ""  # the HIS's own settlement id (2304 input, else its msgid); a reversal keeps it


@dataclass(frozen=True, slots=True)
class CategorySum:
    """A settlement's fee lines of one national med_chrgitm_type, as they stood when it was settled."""

    med_chrgitm_type: str
    total: Decimal  # det_item_fee_sumamt
    inscp: Decimal  # inscp_scp_amt


@dataclass(frozen=True, slots=True)
class SignInRecord:
    sign_no: str
    fixmedins_code: str
    opter_no: str
    sign_time: datetime


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    infno: str
    request_digest: str
    answer: bytes


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One settlement record as the county's reports read it: the record, and where the stay and person sit.

    sign is +1 for a settlement and -1 for a reversal that stands (a reversal undone by 2601 is not listed)."""

    record: SettlementRecord
    sign: int
    in_county: bool
    insuplc_admdvs: str  # the person's 统筹区 (insurance area)
    agency: str = ""  # made at the county agency's window: its mode (basic_settled | self_paid); "" at a hospital

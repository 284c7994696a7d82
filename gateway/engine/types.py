"""What the engine takes and gives. Frozen values only; the store and the dialects fill and read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.engine.fees import FeeTotals

# Year-to-date accumulators of one person before this stay: key -> amount.
# Keys: "<fund_pay_type>" for what the fund paid this year, "<fund_pay_type>:base" for a fund's
# cumulative base (the critical-illness cumulative compliant self-pay). Missing key = 0.
YearToDate = Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class StayFacts:
    """Everything about a stay that the policy may look at."""

    insutype: str  # "390" residents, "310" employees
    hosp_lv: int  # 1, 2, 3
    in_county: bool  # hospital's area == the person's insured area
    attributes: frozenset[str]  # identity attribute codes held, e.g. {"0001", "0003"}
    totals: FeeTotals
    on: date  # accounting date: selects the policy version
    visit: str = "inpatient"  # inpatient | outpatient | chronic (gateway.engine.policy.VISITS)
    catalogue_exception: bool = False  # the county approved an exception to the 90% catalogue rule for this stay


@dataclass(frozen=True, slots=True)
class SettledElsewhere:
    """Funds another system already settled for this stay (Hunan 三(二)3: basic insurance at an out-of-county
    hospital): each is taken as paid, not worked out, and the chain goes on from it on the base it leaves."""

    amounts: Mapping[str, Decimal]  # fund_pay_type -> what it paid
    act_pay_dedc: Decimal = Decimal(0)  # the deductible that settlement applied, as its own sheet says


@dataclass(frozen=True, slots=True)
class FundPayment:
    """One fund's share of one settlement; a setldetail row."""

    fund_pay_type: str  # national fund code, e.g. "390100"
    fund_pay_type_name: str
    fund_payamt: Decimal
    inscp_scp_amt: Decimal  # the base this fund worked on
    crt_payb_lmt_amt: Decimal  # what this fund could still pay this year before this stay (cap left)
    setl_proc_info: str  # short trace: why it paid this much, for auditors
    setlinfo_field: str  # setlinfo field it adds to: hifp_pay, hifmi_pay, maf_pay, oth_pay, hosp_part_amt…
    counts_as_fund: bool  # False for hospital reduction: hosp_part_amt, not fund_pay_sumamt


@dataclass(frozen=True, slots=True)
class ChainResult:
    """The whole one-stop settlement of one stay. Amounts are fen-exact and ≥ 0.

    medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt
    """

    policy_id: str
    totals: FeeTotals
    referral_selfpay: Decimal  # 转外自付 (out of county)
    act_pay_dedc: Decimal  # 起付线 applied
    pool_prop_selfpay: Decimal  # basic base above the deductible that basic did not pay
    payments: tuple[FundPayment, ...]  # every fund that applied, chain order, zero amounts included
    fund_pay_sumamt: Decimal
    hosp_part_amt: Decimal
    psn_part_amt: Decimal
    deltas: Mapping[str, Decimal]  # accumulator increments this settlement makes (YearToDate keys)
    attributes: tuple[str, ...] = ()  # the identity attributes the policy was applied to (held on admission)
    # and the other facts that chose its rules but are not the stay's own (a recognition may be cancelled and an
    # exception approved after the settlement): a recomputation of it must see them as it did
    visit: str = "inpatient"
    catalogue_exception: bool = False

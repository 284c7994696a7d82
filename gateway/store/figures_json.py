"""ChainResult <-> JSON, decimals as strings so nothing passes through float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from gateway.engine.fees import FeeTotals
from gateway.engine.types import ChainResult, FundPayment


def dump_figures(figures: ChainResult) -> str:
    totals = figures.totals
    doc: dict[str, Any] = {
        "policy_id": figures.policy_id,
        "totals": [str(totals.medfee_sumamt), str(totals.fulamt_ownpay_amt), str(totals.overlmt_selfpay),
                   str(totals.preselfpay_amt), str(totals.inscp_scp_amt)],
        "referral_selfpay": str(figures.referral_selfpay),
        "act_pay_dedc": str(figures.act_pay_dedc),
        "pool_prop_selfpay": str(figures.pool_prop_selfpay),
        "payments": [
            [p.fund_pay_type, p.fund_pay_type_name, str(p.fund_payamt), str(p.inscp_scp_amt),
             str(p.crt_payb_lmt_amt), p.setl_proc_info, p.setlinfo_field, p.counts_as_fund]
            for p in figures.payments
        ],
        "fund_pay_sumamt": str(figures.fund_pay_sumamt),
        "hosp_part_amt": str(figures.hosp_part_amt),
        "psn_part_amt": str(figures.psn_part_amt),
        "deltas": {key: str(value) for key, value in figures.deltas.items()},
        "attributes": list(figures.attributes),
        "visit": figures.visit,
        "catalogue_exception": figures.catalogue_exception,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def load_figures(text: str) -> ChainResult:
    doc = json.loads(text)
    return ChainResult(
        policy_id=doc["policy_id"],
        totals=FeeTotals(*(Decimal(v) for v in doc["totals"])),
        referral_selfpay=Decimal(doc["referral_selfpay"]),
        act_pay_dedc=Decimal(doc["act_pay_dedc"]),
        pool_prop_selfpay=Decimal(doc["pool_prop_selfpay"]),
        payments=tuple(
            FundPayment(code, name, Decimal(amount), Decimal(base), Decimal(limit), trace, target, bool(counts))
            for code, name, amount, base, limit, trace, target, counts in doc["payments"]
        ),
        fund_pay_sumamt=Decimal(doc["fund_pay_sumamt"]),
        hosp_part_amt=Decimal(doc["hosp_part_amt"]),
        psn_part_amt=Decimal(doc["psn_part_amt"]),
        deltas={key: Decimal(value) for key, value in doc["deltas"].items()},
        attributes=tuple(doc.get("attributes", ())),
        visit=str(doc.get("visit", "inpatient")),  # figures written before these were kept: the defaults
        catalogue_exception=bool(doc.get("catalogue_exception", False)),
    )

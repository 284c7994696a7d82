"""Canonical answers → the national JSON `output` (its envelope is declared in mappings/nhsa-http.yaml). Pure
functions."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from gateway.canonical import answers as a
from gateway.canonical.refdata import UNINSURED_REASONS, Person
from gateway.county.sheet import render
from gateway.engine.types import ChainResult
from gateway.money import FEN, ZERO

Output = dict[str, Any]

# setlinfo fund fields; a fund adds to the one its policy names, the rest stay 0.00.
SETLINFO_FUND_FIELDS = ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _sign_in(answer: a.SignInAnswer) -> Output:
    return {"signinoutb": {"sign_time": _time(answer.sign_time), "sign_no": answer.sign_no}}


def _person(answer: a.PersonAnswer) -> Output:
    person = answer.person
    insuinfo: dict[str, Any] = {
        "balc": ZERO, "insutype": person.insutype, "psn_type": "1" if person.insutype == "310" else "11",
        "psn_insu_stas": "1" if person.insured else "4", "psn_insu_date": None, "paus_insu_date": None,
        "cvlserv_flag": "0", "insuplc_admdvs": person.insuplc_admdvs, "emp_name": person.emp_name,
    }
    if not person.insured:
        reason = person.uninsured_reason or ""
        insuinfo["nopay_rea_code"] = reason
        insuinfo["nopay_rea_name"] = UNINSURED_REASONS.get(reason, "")
    return {
        "baseinfo": {**_person_fields(person), "age": answer.age},
        "insuinfo": [insuinfo],
        "idetinfo": [
            {"psn_idet_type": attr.code, "psn_type_lv": attr.type_code, "memo": attr.name,
             "idet_type_name": attr.type_name, "begntime": None, "endtime": None}
            for attr in answer.attributes
        ],
    } | _zero_deposit(answer)


def _zero_deposit(answer: a.PersonAnswer) -> Output:
    """hisgw extension (Gannan): present only while the person is on the arrears register."""
    if answer.arrears_owed is None:
        return {}
    return {"zero_deposit": {
        "zero_deposit_flag": "0", "owed_amt": _money(answer.arrears_owed),
        "arrears_since": answer.arrears_since.isoformat() if answer.arrears_since else None,
        "memo": "恶意拖欠医疗费用，先诊疗后付费资格已取消（急诊除外），结清后恢复"}}


def _person_fields(person: Person) -> Output:
    return {
        "psn_no": person.psn_no, "psn_cert_type": person.psn_cert_type, "certno": person.certno,
        "psn_name": person.psn_name, "gend": person.gend, "naty": person.naty, "brdy": person.brdy.isoformat(),
    }


def _admission(answer: a.AdmissionAnswer) -> Output:
    return {"result": {"mdtrt_id": answer.mdtrt_id, "psn_no": answer.psn_no, "ipt_otp_no": answer.ipt_otp_no}}


# 2301 pric_uplmt_amt when the catalogue sets no price ceiling (it has no ceiling column yet): what the national
# platforms answer for "no ceiling".
NO_PRICE_CEILING = Decimal("999999.00")


def _money(value: Decimal) -> Decimal:
    """An amount as answers carry it: two decimals, whatever scale the request wrote it at."""
    return value.quantize(FEN)


def _price(value: Decimal) -> Decimal:
    """A unit price: two decimals, more where the price has them (the national field is 16,6)."""
    return value if -_exponent(value) > 2 else value.quantize(FEN)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # prices are finite
    return exponent


def _fee_upload(answer: a.FeeUploadAnswer) -> Output:
    return {"result": [
        {
            "feedetl_sn": line.feedetl_sn, "det_item_fee_sumamt": _money(line.amounts.det_item_fee_sumamt),
            "cnt": line.cnt, "pric": _price(line.pric), "pric_uplmt_amt": NO_PRICE_CEILING,
            "selfpay_prop": line.selfpay_prop, "fulamt_ownpay_amt": _money(line.amounts.fulamt_ownpay_amt),
            "overlmt_amt": _money(line.amounts.overlmt_amt), "preselfpay_amt": _money(line.amounts.preselfpay_amt),
            "inscp_scp_amt": _money(line.amounts.inscp_scp_amt),
            "chrgitm_lv": line.chrgitm_lv, "med_chrgitm_type": line.med_chrgitm_type, "bas_medn_flag": "0",
            "hi_nego_drug_flag": "0", "chld_medc_flag": "0", "list_sp_item_flag": "0", "lmt_used_flag": "0",
            "drt_reim_flag": "0", "memo": "",
        }
        for line in answer.lines
    ]}


def settlement_output(*, setl_id: str | None, mdtrt_id: str, person: Person, age: int, setl_time: datetime,
                      med_type: str, figures: ChainResult, medins_setl_id: str, sign: int = 1,
                      extra: Output | None = None) -> Output:
    """setlinfo + setldetail; sign=-1 renders a reversal (every amount negated)."""
    def amt(value: Decimal) -> Decimal:
        return value * sign if value else ZERO

    totals = figures.totals
    funds = dict.fromkeys(SETLINFO_FUND_FIELDS, ZERO)
    for payment in figures.payments:
        if payment.counts_as_fund:
            funds[payment.setlinfo_field] = funds.get(payment.setlinfo_field, ZERO) + payment.fund_payamt
    setlinfo: Output = {
        "setl_id": setl_id, "mdtrt_id": mdtrt_id, **_person_fields(person), "age": age,
        "insutype": person.insutype, "psn_type": "1" if person.insutype == "310" else "11", "cvlserv_flag": "0",
        "setl_time": _time(setl_time), "mdtrt_cert_type": "02", "med_type": med_type,
        "medfee_sumamt": amt(totals.medfee_sumamt), "fulamt_ownpay_amt": amt(totals.fulamt_ownpay_amt),
        "overlmt_selfpay": amt(totals.overlmt_selfpay), "preselfpay_amt": amt(totals.preselfpay_amt),
        "inscp_scp_amt": amt(totals.inscp_scp_amt), "act_pay_dedc": amt(figures.act_pay_dedc),
        "pool_prop_selfpay": amt(figures.pool_prop_selfpay),
        **{name: amt(value) for name, value in funds.items()},
        "fund_pay_sumamt": amt(figures.fund_pay_sumamt), "psn_part_amt": amt(figures.psn_part_amt),
        "acct_pay": ZERO, "psn_cash_pay": amt(figures.psn_part_amt), "hosp_part_amt": amt(figures.hosp_part_amt),
        "balc": ZERO, "acct_mulaid_pay": ZERO, "clr_optins": person.insuplc_admdvs, "clr_way": "1",
        "clr_type": "21", "medins_setl_id": medins_setl_id, "referral_selfpay_amt": amt(figures.referral_selfpay),
        **(extra or {}),
    }
    setldetail = [
        {"fund_pay_type": p.fund_pay_type, "fund_payamt": amt(p.fund_payamt),
         "fund_pay_type_name": p.fund_pay_type_name, "inscp_scp_amt": amt(p.inscp_scp_amt),
         "crt_payb_lmt_amt": p.crt_payb_lmt_amt, "setl_proc_info": p.setl_proc_info}
        for p in figures.payments if p.fund_payamt > 0
    ]
    return {"setlinfo": setlinfo, "setldetail": setldetail}


def _settlement(answer: a.SettlementAnswer) -> Output:
    return settlement_output(
        setl_id=answer.setl_id or None, mdtrt_id=answer.mdtrt_id, person=answer.person, age=answer.age,
        setl_time=answer.setl_time, med_type=answer.med_type, figures=answer.figures,
        medins_setl_id=answer.medins_setl_id,
    )


def _reversal(answer: a.ReversalAnswer) -> Output:
    """Every field the settlement carried, its amounts negated, plus init_setl_id."""
    return settlement_output(
        setl_id=answer.setl_id, mdtrt_id=answer.mdtrt_id, person=answer.person, age=answer.age,
        setl_time=answer.setl_time, med_type=answer.med_type, figures=answer.figures,
        medins_setl_id=answer.medins_setl_id, sign=-1,
        extra={"init_setl_id": answer.reversed_setl_id},
    )


def _accumulators(answer: a.AccumulatorAnswer) -> Output:
    return {"cuminfo": [
        {"year": answer.year, "cum_type_code": item.key, "cum_type_name": item.name, "cum": item.amount}
        for item in answer.items
    ]}


def _correction(answer: a.CorrectionAnswer) -> Output:
    """The national 2601 has no output; hisgw says what it undid (extra fields a HIS may ignore)."""
    return {"result": {"omsgid": answer.omsgid, "oinfno": answer.oinfno, "psn_no": answer.psn_no,
                       "mdtrt_id": answer.mdtrt_id or None, "setl_id": answer.setl_id or None,
                       "rvs_setl_id": answer.reversal_setl_id or None}}


MESSAGE_STATUS_NAMES = {
    "ok": "已成功", "error": "已失败，未产生变更", "none": "未收到该报文",
    "unknown": "无结果：尚在处理，或网关在提交前中断；至查询时未产生变更",
}


def _message(answer: a.MessageAnswer) -> Output:
    return {"msgrslt": {
        "omsgid": answer.omsgid, "oinfno": answer.infno or None, "seen": "1" if answer.status != "none" else "0",
        "stas": answer.status, "stas_name": MESSAGE_STATUS_NAMES[answer.status],
        "effective": "1" if answer.effective else "0", "undone": "1" if answer.undone else "0",
        "err_msg": answer.err_msg or None, "attempts": answer.attempts,
        "first_time": _time(answer.first_at) if answer.first_at else None,
        "last_time": _time(answer.last_at) if answer.last_at else None,
        "psn_no": answer.psn_no or None, "mdtrt_id": answer.mdtrt_id or None, "setl_id": answer.setl_id or None,
        "answer": answer.answer or None,
    }}


def _sheet(answer: a.SheetAnswer) -> Output:
    """The sheet's JSON; the HTML as base64 when asked for (else null); where to GET this very print's HTML and
    PDF (signed as any call; the URL shows this print again, it does not count another)."""
    sheet = answer.sheet
    query = f"?sheet_type={render.layout_of(sheet)}&print_no={sheet.issue.print_no}"
    page = render.html(sheet) if "html" in answer.files else ""
    return {"sheet": render.document(sheet), "print_no": sheet.issue.print_no,
            "html": base64.b64encode(page.encode("utf-8")).decode("ascii") if page else None,
            "html_url": f"/sheet/v1/{sheet.setl_id}.html{query}", "pdf_url": f"/sheet/v1/{sheet.setl_id}.pdf{query}"}


def _recon_totals(totals: a.ReconTotals) -> Output:
    return {"medfee_sumamt": _money(totals.medfee_sumamt), "fund_pay_sumamt": _money(totals.fund_pay_sumamt),
            "acct_pay": _money(totals.acct_pay), "fixmedins_setl_cnt": totals.setl_cnt}


def _reconciliation(answer: a.ReconciliationAnswer) -> Output:
    """stmtinfo as the national 3201/3202 (setl_optins, stmt_rslt 0 平 / 1 不平, stmt_rslt_dscr), plus the gateway's own
    figures; a 3202 adds stmtdetail[], one row per record on one side only or with other figures."""
    from gateway.service.reconcile import REPAIRS, SIDES

    info: Output = {"setl_optins": answer.setl_optins, "stmt_rslt": "0" if answer.agrees else "1",
                    "stmt_rslt_dscr": answer.description, **_recon_totals(answer.gateway)}
    if not answer.detail:
        return {"stmtinfo": info}
    info["file_qury_no"] = answer.file_qury_no or None
    info["dif_cnt"] = len(answer.differences)
    rows = []
    for d in answer.differences:
        ours, theirs = d.gateway, d.hospital
        rows.append({
            "setl_id": d.setl_id or None, "msgid": d.msgid or None, "oinfno": d.oinfno or None,
            "medins_setl_id": d.medins_setl_id or None, "psn_no": d.psn_no or None, "mdtrt_id": d.mdtrt_id or None,
            "refd_setl_flag": d.refd_setl_flag, "stmt_rslt": d.side, "stmt_rslt_dscr": SIDES[d.side],
            "repair": d.repair, "repair_dscr": REPAIRS[d.repair],
            "medfee_sumamt": _money(ours.medfee_sumamt) if ours else None,
            "fund_pay_sumamt": _money(ours.fund_pay_sumamt) if ours else None,
            "hosp_medfee_sumamt": _money(theirs.medfee_sumamt) if theirs else None,
            "hosp_fund_pay_sumamt": _money(theirs.fund_pay_sumamt) if theirs else None})
    return {"stmtinfo": info, "stmtdetail": rows}
def _visit(answer: a.VisitAnswer) -> Output:
    return {"data": {"mdtrt_id": answer.mdtrt_id, "psn_no": answer.psn_no, "ipt_otp_no": answer.ipt_otp_no,
                     "exp_content": None}}


def _recognition(answer: a.RecognitionAnswer) -> Output:
    return {"result": {"trt_dcla_detl_sn": answer.recog_id}}


def _done(_answer: a.Done) -> Output:
    return {}


def _referral(answer: a.ReferralAnswer) -> Output:
    return {"result": {"trt_dcla_detl_sn": answer.trt_dcla_detl_sn, "psn_no": answer.psn_no,
                       "vali_flag": answer.status}}


RENDERERS: dict[type, Callable[[Any], Output]] = {
    a.SignInAnswer: _sign_in,
    a.PersonAnswer: _person,
    a.AdmissionAnswer: _admission,
    a.FeeUploadAnswer: _fee_upload,
    a.SettlementAnswer: _settlement,
    a.ReversalAnswer: _reversal,
    a.AccumulatorAnswer: _accumulators,
    a.CorrectionAnswer: _correction,
    a.MessageAnswer: _message,
    a.SheetAnswer: _sheet,
    a.ReconciliationAnswer: _reconciliation,
    a.VisitAnswer: _visit,
    a.RecognitionAnswer: _recognition,
    a.Done: _done,
    a.ReferralAnswer: _referral,
}


def render_output(answer: a.Answer) -> Output:
    return RENDERERS[type(answer)](answer)

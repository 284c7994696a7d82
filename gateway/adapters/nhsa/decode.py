"""National JSON request → canonical Call. Pure: a dict in, a frozen call out, or an InputError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from gateway.adapters.nhsa.fields import Fields
from gateway.canonical import calls as c
from gateway.errors import InvalidValue, MissingField, UnknownTransaction
from gateway.money import FEN, fen

MAX_FEE_LINES = 10000
# How far a line's det_item_fee_sumamt may be from cnt × pric (README, fee lines).
LINE_AMOUNT_TOLERANCE = Decimal("0.01")


def decode_call(document: object) -> c.Call:
    envelope = Fields(document, "")
    infno = envelope.text("infno")
    decoder = DECODERS.get(infno)
    if decoder is None:
        raise UnknownTransaction(f"infno={infno[:16]}", field="infno")
    context = c.CallContext(
        msgid=envelope.text("msgid"),
        infno=infno,
        fixmedins_code=envelope.text("fixmedins_code"),
        inf_time=envelope.datetime("inf_time", required=False),
        opter=envelope.text("opter", required=False),
        opter_name=envelope.text("opter_name", required=False),
        sign_no=envelope.text("sign_no", required=False),
    )
    payload = envelope.obj("input")
    assert payload is not None
    return c.Call(context, decoder(payload, context))


Decoder = Callable[[Fields, c.CallContext], c.Transaction]


def _sign_in(payload: Fields, _ctx: c.CallContext) -> c.SignIn:
    data = payload.obj("signIn")
    assert data is not None
    return c.SignIn(opter_no=data.text("opter_no"), mac=data.text("mac", required=False),
                    ip=data.text("ip", required=False))


def _sign_out(payload: Fields, _ctx: c.CallContext) -> c.SignOut:
    data = payload.obj("signOut")
    assert data is not None
    return c.SignOut(sign_no=data.text("sign_no"), opter_no=data.text("opter_no", required=False))


def _person_query(payload: Fields, _ctx: c.CallContext) -> c.PersonQuery:
    data = _data(payload)
    certno = data.text("certno", required=False)
    cert_type = data.text("mdtrt_cert_type", required=False)
    if not certno and cert_type in ("", "02"):  # 02: 居民身份证 as the 就诊凭证
        certno = data.text("mdtrt_cert_no", required=False)
    query = c.PersonQuery(psn_no=data.text("psn_no", required=False), certno=certno,
                          psn_name=data.text("psn_name", required=False))
    if not query.psn_no and not query.certno:
        raise MissingField("需提供 mdtrt_cert_no（身份证号）或 certno 或 psn_no", field="input.data.mdtrt_cert_no")
    return query


def _diagnoses(payload: Fields) -> tuple[c.Diagnosis, ...]:
    return tuple(
        c.Diagnosis(diag_type=d.text("diag_type", required=False, default="1"), diag_code=d.text("diag_code"),
                    diag_name=d.text("diag_name"), maindiag_flag=d.text("maindiag_flag", required=False, default="0"),
                    diag_srt_no=d.text("diag_srt_no", required=False))
        for d in payload.objects("diseinfo", required=False)
    )


_ADMISSION_TEXT = ("med_type", "mdtrt_cert_type", "mdtrt_cert_no", "adm_dept_codg", "adm_dept_name", "adm_bed",
                   "atddr_no", "chfpdr_name", "adm_diag_dscr", "dise_codg", "dise_name")


def _admission(payload: Fields, _ctx: c.CallContext) -> c.Admission:
    info = payload.obj("mdtrtinfo")
    assert info is not None
    begntime = info.datetime("begntime")
    assert begntime is not None
    texts = {name: info.text(name, required=False) for name in _ADMISSION_TEXT}
    texts["med_type"] = texts["med_type"] or "21"
    return c.Admission(
        psn_no=info.text("psn_no"), insutype=info.text("insutype", required=False), begntime=begntime,
        ipt_no=info.text("ipt_no", required=False) or info.text("ipt_otp_no", required=False),
        diagnoses=_diagnoses(payload), zero_deposit=_zero_deposit(payload), **texts,
    )


def _zero_deposit(payload: Fields) -> c.ZeroDeposit | None:
    block = payload.obj("zero_deposit", required=False)
    if block is None:
        return None
    signed = block.datetime("sign_date")
    assert signed is not None
    flag = block.text("emgc_flag", required=False, default="0")
    if flag not in ("0", "1"):
        raise InvalidValue("emgc_flag 应为 0 或 1", field="input.zero_deposit.emgc_flag")
    return c.ZeroDeposit(signer_name=block.text("signer_name"), signer_rlts=block.text("signer_rlts"),
                         sign_date=signed.date(), emergency=flag == "1")


def _admission_change(payload: Fields, _ctx: c.CallContext) -> c.AdmissionChange:
    info = payload.obj("adminfo")
    assert info is not None
    changes: list[tuple[str, str]] = []
    for name in ("ipt_no", "ipt_otp_no", *_ADMISSION_TEXT):
        if info.has(name):
            changes.append(("ipt_no" if name == "ipt_otp_no" else name, info.text(name)))
    begntime = info.datetime("begntime", required=False)
    if begntime is not None:
        changes.append(("begntime", begntime.isoformat(sep=" ")))
    diagnoses = _diagnoses(payload) if payload.has("diseinfo") else None
    return c.AdmissionChange(mdtrt_id=info.text("mdtrt_id"), psn_no=info.text("psn_no"), changes=tuple(changes),
                             diagnoses=diagnoses)


def _stay_ref(payload: Fields) -> tuple[str, str]:
    data = _data(payload)
    return data.text("mdtrt_id"), data.text("psn_no", required=False)


def _admission_cancel(payload: Fields, _ctx: c.CallContext) -> c.AdmissionCancel:
    return c.AdmissionCancel(*_stay_ref(payload))


def _discharge_cancel(payload: Fields, _ctx: c.CallContext) -> c.DischargeCancel:
    return c.DischargeCancel(*_stay_ref(payload))


def _discharge(payload: Fields, _ctx: c.CallContext) -> c.Discharge:
    info = payload.obj("dscginfo")
    assert info is not None
    endtime = info.datetime("endtime")
    assert endtime is not None
    return c.Discharge(
        mdtrt_id=info.text("mdtrt_id"), psn_no=info.text("psn_no", required=False), endtime=endtime,
        dscg_way=info.text("dscg_way", required=False), dscg_dept_codg=info.text("dscg_dept_codg", required=False),
        dscg_dept_name=info.text("dscg_dept_name", required=False), dise_codg=info.text("dise_codg", required=False),
        dise_name=info.text("dise_name", required=False), diagnoses=_diagnoses(payload),
    )


def _fee_upload(payload: Fields, ctx: c.CallContext) -> c.FeeUpload:
    rows = payload.objects("feedetail", max_items=MAX_FEE_LINES)
    if not rows:
        raise MissingField("费用明细为空", field="input.feedetail")
    lines = tuple(_fee_line(row, ctx) for row in rows)
    first = lines[0]
    for line, row in zip(lines, rows, strict=True):
        if line.mdtrt_id != first.mdtrt_id or line.psn_no != first.psn_no:
            raise InvalidValue("一次上传的明细须属于同一就诊", field=row.path("mdtrt_id"))
    seen: set[str] = set()
    for line, row in zip(lines, rows, strict=True):
        if line.feedetl_sn in seen:
            raise InvalidValue(f"明细流水号 {line.feedetl_sn} 在本批次中重复", field=row.path("feedetl_sn"))
        seen.add(line.feedetl_sn)
    return c.FeeUpload(mdtrt_id=first.mdtrt_id, psn_no=first.psn_no, lines=lines)


def _fee_line(row: Fields, ctx: c.CallContext) -> c.FeeLine:
    cnt = row.decimal("cnt", places=4, required=False, allow_negative=True)
    pric = row.decimal("pric", places=6, required=False)
    amount = row.decimal("det_item_fee_sumamt", places=2, required=cnt is None or pric is None, allow_negative=True)
    if cnt is None:
        cnt = Decimal(1) if amount is None or amount >= 0 else Decimal(-1)
    if cnt == 0:
        raise InvalidValue("数量不能为 0", field=row.path("cnt"))
    if pric is None:
        assert amount is not None
        pric = abs(amount / cnt)
    feedetl_sn = row.text("feedetl_sn")
    product = cnt * pric
    if amount is None:
        amount = fen(product)
    elif abs(amount - product) > LINE_AMOUNT_TOLERANCE:
        # A HIS rounds cnt × pric its own way (C#'s Math.Round is half-to-even: 7 × 1.235 → 8.64); within the
        # tolerance its figure stands: it is what its own sheet shows and what is settled.
        raise InvalidValue(
            f"明细 {feedetl_sn} 金额 {amount} 与 数量×单价 {_plain(cnt)}×{_plain(pric)}={_plain(product)} "
            f"相差 {_plain(abs(amount - product))}，超过允许误差 {LINE_AMOUNT_TOLERANCE}",
            field=row.path("det_item_fee_sumamt"))
    if (amount < 0) != (cnt < 0):
        raise InvalidValue("明细金额与数量符号不一致", field=row.path("det_item_fee_sumamt"))
    occurred = row.datetime("fee_ocur_time", required=False) or ctx.inf_time or datetime(1970, 1, 1)
    return c.FeeLine(
        feedetl_sn=feedetl_sn, mdtrt_id=row.text("mdtrt_id"), psn_no=row.text("psn_no", required=False),
        med_list_codg=row.text("med_list_codg"), cnt=_plain(cnt), pric=_plain(pric),
        det_item_fee_sumamt=amount.quantize(FEN),
        fee_ocur_time=occurred, init_feedetl_sn=row.text("init_feedetl_sn", required=False),
        medins_list_codg=row.text("medins_list_codg", required=False),
        medins_list_name=row.text("medins_list_name", required=False),
        drord_no=row.text("drord_no", required=False), bilg_dept_codg=row.text("bilg_dept_codg", required=False),
        bilg_dept_name=row.text("bilg_dept_name", required=False),
        bilg_dr_codg=row.text("bilg_dr_codg", required=False), bilg_dr_name=row.text("bilg_dr_name", required=False),
    )


def _plain(value: Decimal) -> Decimal:
    """The value without the scale it was written at (7.0000 → 7, 1.2350 → 1.235): one canonical line whatever
    number of decimals the HIS writes."""
    return Decimal(format(value.normalize(), "f"))


def _fee_revoke(payload: Fields, _ctx: c.CallContext) -> c.FeeRevoke:
    rows = payload.objects("data")
    if not rows:
        raise MissingField(field="input.data")
    mdtrt_id = rows[0].text("mdtrt_id")
    psn_no = rows[0].text("psn_no", required=False)
    sns: list[str] = []
    for row in rows:
        if row.text("mdtrt_id") != mdtrt_id:
            raise InvalidValue("一次撤销的明细须属于同一就诊", field=row.path("mdtrt_id"))
        sns.append(row.text("feedetl_sn"))
    return c.FeeRevoke(mdtrt_id=mdtrt_id, psn_no=psn_no, feedetl_sns=tuple(sns))


def _settle(trial: bool) -> Decoder:
    def decode(payload: Fields, _ctx: c.CallContext) -> c.Settle:
        data = _data(payload)
        return c.Settle(
            mdtrt_id=data.text("mdtrt_id"), psn_no=data.text("psn_no", required=False), trial=trial,
            medfee_sumamt=data.decimal("medfee_sumamt", places=2, required=not trial),
            insutype=data.text("insutype", required=False),
            mdtrt_cert_type=data.text("mdtrt_cert_type", required=False),
            mdtrt_cert_no=data.text("mdtrt_cert_no", required=False),
            psn_setlway=data.text("psn_setlway", required=False, default="01"),
            acct_used_flag=data.text("acct_used_flag", required=False, default="0"),
            mid_setl_flag=data.text("mid_setl_flag", required=False, default="0"),
            medins_setl_id=data.text("medins_setl_id", required=False),
        )
    return decode


def _settle_reverse(payload: Fields, _ctx: c.CallContext) -> c.SettleReverse:
    data = _data(payload)
    return c.SettleReverse(setl_id=data.text("setl_id"), mdtrt_id=data.text("mdtrt_id", required=False),
                           psn_no=data.text("psn_no", required=False))


def _settlement_query(payload: Fields, _ctx: c.CallContext) -> c.SettlementQuery:
    data = _data(payload)
    return c.SettlementQuery(setl_id=data.text("setl_id"), mdtrt_id=data.text("mdtrt_id", required=False),
                             psn_no=data.text("psn_no", required=False))


def _accumulator_query(payload: Fields, ctx: c.CallContext) -> c.AccumulatorQuery:
    data = _data(payload)
    period = (data.text("cum_ym", required=False) or data.text("year", required=False)).replace("-", "")
    if period:
        if not (period.isascii() and period.isdigit() and len(period) in (4, 6)):
            raise InvalidValue("应为 yyyy 或 yyyyMM", field=data.path("cum_ym"))
        year = int(period[:4])
    else:
        year = (ctx.inf_time or datetime.now()).year
    return c.AccumulatorQuery(psn_no=data.text("psn_no"), year=year)


def _correction(payload: Fields, _ctx: c.CallContext) -> c.Correction:
    data = _data(payload)
    return c.Correction(omsgid=data.text("omsgid"), oinfno=data.text("oinfno"),
                        psn_no=data.text("psn_no", required=False))


def _message_query(payload: Fields, _ctx: c.CallContext) -> c.MessageQuery:
    data = _data(payload)
    return c.MessageQuery(omsgid=data.text("omsgid"), oinfno=data.text("oinfno", required=False))


SHEET_FILES = ("html",)  # a PDF takes WeasyPrint most of a second: fetched from the answer's pdf_url instead


def _sheet_query(payload: Fields, _ctx: c.CallContext) -> c.SheetQuery:
    data = _data(payload)
    files = tuple(f.strip() for f in data.text("file_type", required=False).split(",") if f.strip())
    unknown = [f for f in files if f not in SHEET_FILES]
    if unknown:
        raise InvalidValue(f"file_type {unknown[0][:16]!r} 不支持：可用 html；PDF 请以签名 GET 取应答的 pdf_url",
                           field="input.data.file_type")
    return c.SheetQuery(setl_id=data.text("setl_id"), psn_no=data.text("psn_no", required=False),
                        sheet_type=data.text("sheet_type", required=False) or "hunan",
                        files=tuple(dict.fromkeys(files)))


def _date(data: Fields, key: str) -> date:
    moment = data.datetime(key)
    assert moment is not None
    return moment.date()


def _amount(data: Fields, key: str, *, required: bool = True) -> Decimal:
    return data.decimal(key, places=2, required=required, allow_negative=True) or Decimal("0.00")


def _count(data: Fields, key: str) -> int:
    text = data.text(key)
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidValue("应为非负整数", field=data.path(key))
    return int(text)


def _total_reconciliation(payload: Fields, _ctx: c.CallContext) -> c.TotalReconciliation:
    data = _data(payload)
    return c.TotalReconciliation(
        insutype=data.text("insutype", required=False), clr_type=data.text("clr_type", required=False),
        setl_optins=data.text("setl_optins", required=False), begndate=_date(data, "stmt_begndate"),
        enddate=_date(data, "stmt_enddate"), medfee_sumamt=_amount(data, "medfee_sumamt"),
        fund_pay_sumamt=_amount(data, "fund_pay_sumamt"), acct_pay=_amount(data, "acct_pay", required=False),
        fixmedins_setl_cnt=_count(data, "fixmedins_setl_cnt"),
        refd_setl_flag=data.text("refd_setl_flag", required=False, default="1"))


def _detail_reconciliation(payload: Fields, _ctx: c.CallContext) -> c.DetailReconciliation:
    data = _data(payload)
    lines = []
    for row in payload.objects("detail", required=False, max_items=MAX_FEE_LINES):
        line = c.ReconciliationLine(
            setl_id=row.text("setl_id", required=False), msgid=row.text("msgid", required=False),
            medfee_sumamt=_amount(row, "medfee_sumamt"), fund_pay_sumamt=_amount(row, "fund_pay_sumamt"),
            acct_pay=_amount(row, "acct_pay", required=False),
            refd_setl_flag=row.text("refd_setl_flag", required=False, default="0"),
            psn_no=row.text("psn_no", required=False), mdtrt_id=row.text("mdtrt_id", required=False),
            medins_setl_id=row.text("medins_setl_id", required=False))
        if not line.setl_id and not line.msgid:
            raise MissingField("每条明细须有 setl_id 或其报文ID msgid", field=row.path("setl_id"))
        if line.refd_setl_flag not in ("0", "1"):
            raise InvalidValue("应为 0（结算）或 1（退费结算）", field=row.path("refd_setl_flag"))
        lines.append(line)
    return c.DetailReconciliation(
        setl_optins=data.text("setl_optins", required=False), clr_type=data.text("clr_type", required=False),
        begndate=_date(data, "stmt_begndate"), enddate=_date(data, "stmt_enddate"),
        medfee_sumamt=_amount(data, "medfee_sumamt"), fund_pay_sumamt=_amount(data, "fund_pay_sumamt"),
        cash_payamt=_amount(data, "cash_payamt", required=False),
        fixmedins_setl_cnt=_count(data, "fixmedins_setl_cnt"), lines=tuple(lines),
        file_qury_no=data.text("file_qury_no", required=False),
        refd_setl_flag=data.text("refd_setl_flag", required=False, default="1"))
# ---- outpatient (门诊) -------------------------------------------------------------------------------------


def _outpatient_register(payload: Fields, _ctx: c.CallContext) -> c.OutpatientRegister:
    info = payload.obj("mdtrtinfo", required=False) or _data(payload)  # national: mdtrtinfo; some HIS: data
    begntime = info.datetime("begntime")
    assert begntime is not None
    return c.OutpatientRegister(
        psn_no=info.text("psn_no"), insutype=info.text("insutype", required=False), begntime=begntime,
        ipt_otp_no=info.text("ipt_otp_no", required=False),
        mdtrt_cert_type=info.text("mdtrt_cert_type", required=False),
        mdtrt_cert_no=info.text("mdtrt_cert_no", required=False), atddr_no=info.text("atddr_no", required=False),
        dr_name=info.text("dr_name", required=False), dept_code=info.text("dept_code", required=False),
        dept_name=info.text("dept_name", required=False), caty=info.text("caty", required=False),
    )


def _outpatient_cancel(payload: Fields, _ctx: c.CallContext) -> c.OutpatientCancel:
    data = _data(payload)
    return c.OutpatientCancel(mdtrt_id=data.text("mdtrt_id"), psn_no=data.text("psn_no", required=False),
                              ipt_otp_no=data.text("ipt_otp_no", required=False))


def _visit_info(payload: Fields, _ctx: c.CallContext) -> c.VisitInfo:
    info = payload.obj("mdtrtinfo")
    assert info is not None
    return c.VisitInfo(
        mdtrt_id=info.text("mdtrt_id"), psn_no=info.text("psn_no", required=False), med_type=info.text("med_type"),
        begntime=info.datetime("begntime", required=False), main_cond_dscr=info.text("main_cond_dscr", required=False),
        dise_codg=info.text("dise_codg", required=False), dise_name=info.text("dise_name", required=False),
        diagnoses=_diagnoses(payload),
    )


def _outpatient_fee_upload(payload: Fields, ctx: c.CallContext) -> c.OutpatientFeeUpload:
    upload = _fee_upload(payload, ctx)
    rows = payload.objects("feedetail", max_items=MAX_FEE_LINES)
    batches = {row.text("chrg_bchno", required=False) for row in rows}
    if len(batches) > 1:
        raise InvalidValue("一次上传的明细须属于同一收费批次", field="input.feedetail[].chrg_bchno")
    return c.OutpatientFeeUpload(upload=upload, chrg_bchno=batches.pop())


def _outpatient_fee_revoke(payload: Fields, _ctx: c.CallContext) -> c.OutpatientFeeRevoke:
    data = _data(payload)
    return c.OutpatientFeeRevoke(mdtrt_id=data.text("mdtrt_id"), psn_no=data.text("psn_no", required=False),
                                 chrg_bchno=data.text("chrg_bchno", required=False, default=c.ALL_LINES))


def _outpatient_settle(trial: bool) -> Decoder:
    settle = _settle(trial)

    def decode(payload: Fields, ctx: c.CallContext) -> c.OutpatientSettle:
        data = _data(payload)
        body = settle(payload, ctx)
        assert isinstance(body, c.Settle)
        return c.OutpatientSettle(settle=body, med_type=data.text("med_type", required=False),
                                  chrg_bchno=data.text("chrg_bchno", required=False))
    return decode


def _outpatient_settle_reverse(payload: Fields, ctx: c.CallContext) -> c.OutpatientSettleReverse:
    return c.OutpatientSettleReverse(_settle_reverse(payload, ctx))


# 2503 carries one diagnosing doctor (diag_dr_codg/diag_dr_name); the recognition needs two (Guangxi 三(八)), so
# hisgw reads a second as diag_dr2_codg/diag_dr2_name and each one's title as diag_dr_prfs/diag_dr2_prfs (README).
_DOCTORS = (("diag_dr_codg", "diag_dr_name", "diag_dr_prfs"), ("diag_dr2_codg", "diag_dr2_name", "diag_dr2_prfs"))


def _chronic_recognition(payload: Fields, _ctx: c.CallContext) -> c.ChronicRecognition:
    data = _data(payload)
    on = data.datetime("hosp_ide_date")
    assert on is not None
    begin = data.datetime("begndate", required=False)
    doctors = tuple(
        (data.text(code), data.text(name, required=False), data.text(title, required=False))
        for code, name, title in _DOCTORS if data.has(code)
    )
    return c.ChronicRecognition(
        psn_no=data.text("psn_no"), opsp_dise_code=data.text("opsp_dise_code"),
        opsp_dise_name=data.text("opsp_dise_name", required=False), hosp_ide_date=on.date(), doctors=doctors,
        begndate=begin.date() if begin else None,
    )


_REFERRAL_TEXT = ("refl_fil_type", "dise_codg", "dise_name", "reflin_medins_no", "reflin_medins_name",
                  "mdtrtarea_admdvs", "hosp_agre_refl_flag", "refl_rea", "refl_opnn", "tel", "addr")


def _referral(payload: Fields, _ctx: c.CallContext) -> c.ReferralFiling:
    """2501 转院备案: input.refmedin (gateway/referral/)."""
    data = payload.obj("refmedin")
    assert data is not None
    enddate = data.datetime("enddate", required=False)
    texts = {key: data.text(key, required=False) for key in _REFERRAL_TEXT}
    if not texts["reflin_medins_name"]:
        texts["reflin_medins_name"] = data.text("refl_hosp_name", required=False)  # an older spelling
    return c.ReferralFiling(psn_no=data.text("psn_no"), insutype=data.text("insutype", required=False),
                            begndate=_date(data, "begndate"), enddate=enddate.date() if enddate else None,
                            **{key: value for key, value in texts.items() if value})


def _referral_cancel(payload: Fields, _ctx: c.CallContext) -> c.ReferralCancel:
    data = _data(payload)
    return c.ReferralCancel(trt_dcla_detl_sn=data.text("trt_dcla_detl_sn"), psn_no=data.text("psn_no", required=False),
                            memo=data.text("memo", required=False))


def _data(payload: Fields) -> Fields:
    data = payload.obj("data")
    assert data is not None
    return data


DECODERS: dict[str, Decoder] = {
    "9001": _sign_in,
    "9002": _sign_out,
    "1101": _person_query,
    "2401": _admission,
    "2403": _admission_change,
    "2404": _admission_cancel,
    "2402": _discharge,
    "2405": _discharge_cancel,
    "2301": _fee_upload,
    "2302": _fee_revoke,
    "2303": _settle(trial=True),
    "2304": _settle(trial=False),
    "2305": _settle_reverse,
    "5203": _settlement_query,
    "5206": _accumulator_query,
    "2601": _correction,
    "5999": _message_query,  # hisgw extension: 报文处理结果查询 (README)
    "5998": _sheet_query,  # hisgw extension: 一站式结算单 (README)
    "3201": _total_reconciliation,
    "3202": _detail_reconciliation,  # the detail rows inline in input.detail (no 9101 file upload)
    "2201": _outpatient_register,
    "2202": _outpatient_cancel,
    "2203": _visit_info,
    "2204": _outpatient_fee_upload,
    "2205": _outpatient_fee_revoke,
    "2206": _outpatient_settle(trial=True),
    "2207": _outpatient_settle(trial=False),
    "2208": _outpatient_settle_reverse,
    "2503": _chronic_recognition,
    "2501": _referral,  # 转院备案 (README "Cross-province referral")
    "2502": _referral_cancel,
}

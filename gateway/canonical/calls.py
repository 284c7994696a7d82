"""Canonical calls: one frozen dataclass per national transaction, plus the context every call carries.

A dialect's job is to build these from its own bytes and render the answers back; nothing here
knows how a message looked on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who is calling and under which message id (the envelope, minus its wire form)."""

    msgid: str
    infno: str  # national transaction number of the canonical call
    fixmedins_code: str
    inf_time: datetime | None = None  # the HIS's own clock; the settlement date when no discharge yet
    opter: str = ""
    opter_name: str = ""
    sign_no: str = ""
    dialect: str = "nhsa-http"


@dataclass(frozen=True, slots=True)
class SignIn:
    """9001 签到."""

    opter_no: str
    mac: str = ""
    ip: str = ""


@dataclass(frozen=True, slots=True)
class SignOut:
    """9002 签退."""

    sign_no: str
    opter_no: str = ""


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """1101 人员信息获取: by psn_no, or by certificate number (ID number for cert type 02/01)."""

    psn_no: str = ""
    certno: str = ""
    psn_name: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    diag_type: str
    diag_code: str
    diag_name: str
    maindiag_flag: str = "0"
    diag_srt_no: str = ""


@dataclass(frozen=True, slots=True)
class ZeroDeposit:
    """2401's `input.zero_deposit` (a hisgw extension, README): the 先诊疗后付费 agreement signed on admission
    (Gannan 附件1: who signed, their relation to the patient, the date) and whether the admission is an emergency."""

    signer_name: str
    signer_rlts: str  # relation to the patient: 本人, 配偶, 子女…
    sign_date: date
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class Admission:
    """2401 入院办理."""

    psn_no: str
    insutype: str
    begntime: datetime
    med_type: str = "21"  # 21 普通住院
    ipt_no: str = ""  # 住院号 (ipt_otp_no)
    mdtrt_cert_type: str = ""
    mdtrt_cert_no: str = ""
    adm_dept_codg: str = ""
    adm_dept_name: str = ""
    adm_bed: str = ""
    atddr_no: str = ""
    chfpdr_name: str = ""
    adm_diag_dscr: str = ""
    dise_codg: str = ""
    dise_name: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()
    zero_deposit: ZeroDeposit | None = None


@dataclass(frozen=True, slots=True)
class AdmissionChange:
    """2403 入院信息变更: only the fields given change."""

    mdtrt_id: str
    psn_no: str
    changes: tuple[tuple[str, str], ...]  # (Admission field name, new value as sent)
    diagnoses: tuple[Diagnosis, ...] | None = None


@dataclass(frozen=True, slots=True)
class AdmissionCancel:
    """2404 入院撤销."""

    mdtrt_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One 2301 feedetail row. A refund is a negative cnt and amount naming init_feedetl_sn."""

    feedetl_sn: str
    mdtrt_id: str
    psn_no: str
    med_list_codg: str
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal
    fee_ocur_time: datetime
    init_feedetl_sn: str = ""
    medins_list_codg: str = ""
    medins_list_name: str = ""
    drord_no: str = ""
    bilg_dept_codg: str = ""
    bilg_dept_name: str = ""
    bilg_dr_codg: str = ""
    bilg_dr_name: str = ""

    @property
    def is_refund(self) -> bool:
        return self.cnt < 0


@dataclass(frozen=True, slots=True)
class FeeUpload:
    """2301 费用明细上传: one batch, all lines of one stay, applied atomically."""

    mdtrt_id: str
    psn_no: str
    lines: tuple[FeeLine, ...]


ALL_LINES = "0000"


@dataclass(frozen=True, slots=True)
class FeeRevoke:
    """2302 费用明细撤销: the named lines, or every line when feedetl_sns == (ALL_LINES,)."""

    mdtrt_id: str
    psn_no: str
    feedetl_sns: tuple[str, ...]

    @property
    def revokes_all(self) -> bool:
        return ALL_LINES in self.feedetl_sns


@dataclass(frozen=True, slots=True)
class Settle:
    """2303 预结算 (trial=True, writes nothing) and 2304 结算."""

    mdtrt_id: str
    psn_no: str
    trial: bool
    medfee_sumamt: Decimal | None = None  # the HIS's own total; must equal the uploaded lines
    insutype: str = ""
    mdtrt_cert_type: str = ""
    mdtrt_cert_no: str = ""
    psn_setlway: str = "01"
    acct_used_flag: str = "0"
    mid_setl_flag: str = "0"
    medins_setl_id: str = ""  # the HIS's own settlement id (医药机构结算ID); its msgid when it sends none


@dataclass(frozen=True, slots=True)
class SettleReverse:
    """2305 结算撤销. mdtrt_id may be empty: the settlement names its stay."""

    setl_id: str
    mdtrt_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class Discharge:
    """2402 出院办理."""

    mdtrt_id: str
    psn_no: str
    endtime: datetime
    dscg_way: str = ""
    dscg_dept_codg: str = ""
    dscg_dept_name: str = ""
    dise_codg: str = ""
    dise_name: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()


@dataclass(frozen=True, slots=True)
class DischargeCancel:
    """2405 出院撤销."""

    mdtrt_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class SettlementQuery:
    """5203 结算信息查询."""

    setl_id: str
    mdtrt_id: str = ""
    psn_no: str = ""


@dataclass(frozen=True, slots=True)
class AccumulatorQuery:
    """5206 人员累计信息查询: a person's year-to-date accumulators."""

    psn_no: str
    year: int


# What 2601 can undo: the national list (2207/2208 are the outpatient settlement and its reversal).
CORRECTABLE_INFNOS = ("2207", "2208", "2304", "2305", "2401")


@dataclass(frozen=True, slots=True)
class Correction:
    """2601 冲正: undo what the call sent under `omsgid` did (a 2207, 2208, 2304, 2305 or 2401 of the same
    hospital)."""

    omsgid: str
    oinfno: str
    psn_no: str = ""


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """5999 报文处理结果查询 (a hisgw extension): what became of the call sent under `omsgid`."""

    omsgid: str
    oinfno: str = ""


@dataclass(frozen=True, slots=True)
class SheetQuery:
    """5998 一站式结算单 (a hisgw extension): the settlement's sheet, one more print of it (补打 after the first).
    sheet_type: hunan (附件3) | ncms (the NCMS cross-province sheet); files: besides the JSON, html."""

    setl_id: str
    psn_no: str = ""
    sheet_type: str = "hunan"
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TotalReconciliation:
    """3201 医药机构费用结算对总账: the hospital's totals of a period, to compare with the gateway's."""

    insutype: str  # "" : every scheme
    clr_type: str  # 清算类别: 21 住院, 11 门诊 ("" : both)
    setl_optins: str  # 结算经办机构 (the persons' insurance area; "" : every area)
    begndate: date
    enddate: date  # inclusive
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    fixmedins_setl_cnt: int
    refd_setl_flag: str = "1"  # 0: the totals leave reversals (退费结算) out


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    """One settlement record in the hospital's own books (a row of the 3202 detail file)."""

    setl_id: str  # the gateway's id the HIS recorded ("" if its call got no answer)
    msgid: str  # the HIS's message id of the 2304 (or 2305) that made it
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal = Decimal(0)
    refd_setl_flag: str = "0"  # 1: a reversal record
    psn_no: str = ""
    mdtrt_id: str = ""
    medins_setl_id: str = ""


@dataclass(frozen=True, slots=True)
class DetailReconciliation:
    """3202 医药机构费用结算对明细账: the hospital's settlement list of a period, record by record. The national
    interface uploads it as a file first (9101 → file_qury_no); hisgw takes the rows inline in `input.detail`."""

    setl_optins: str
    clr_type: str
    begndate: date
    enddate: date
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    cash_payamt: Decimal
    fixmedins_setl_cnt: int
    lines: tuple[ReconciliationLine, ...]
    file_qury_no: str = ""
    refd_setl_flag: str = "1"


# ---- outpatient (门诊): the 22xx trades. Fee lines, settlement and reversal wrap the inpatient calls, so one
# engine, one ledger and one journal serve both; what differs is the visit's lifecycle (gateway/lifecycle.py).


@dataclass(frozen=True, slots=True)
class OutpatientRegister:
    """2201 门诊挂号."""

    psn_no: str
    insutype: str
    begntime: datetime
    ipt_otp_no: str = ""  # 门诊号
    mdtrt_cert_type: str = ""
    mdtrt_cert_no: str = ""
    atddr_no: str = ""
    dr_name: str = ""
    dept_code: str = ""
    dept_name: str = ""
    caty: str = ""


@dataclass(frozen=True, slots=True)
class OutpatientCancel:
    """2202 挂号撤销."""

    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str = ""


@dataclass(frozen=True, slots=True)
class VisitInfo:
    """2203 就诊信息上传: the visit's medical type (14 门诊慢特病, 11 普通门诊…) and diagnoses."""

    mdtrt_id: str
    psn_no: str
    med_type: str
    begntime: datetime | None = None
    main_cond_dscr: str = ""
    dise_codg: str = ""
    dise_name: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()


@dataclass(frozen=True, slots=True)
class OutpatientFeeUpload:
    """2204 门诊费用明细上传: the lines of one charge batch (收费批次号 chrg_bchno)."""

    upload: FeeUpload
    chrg_bchno: str = ""

    @property
    def mdtrt_id(self) -> str:
        return self.upload.mdtrt_id

    @property
    def psn_no(self) -> str:
        return self.upload.psn_no


@dataclass(frozen=True, slots=True)
class OutpatientFeeRevoke:
    """2205 门诊费用明细撤销: every line of one charge batch, or all of the visit's (chrg_bchno "0000")."""

    mdtrt_id: str
    psn_no: str
    chrg_bchno: str

    @property
    def revokes_all(self) -> bool:
        return self.chrg_bchno in ("", ALL_LINES)


@dataclass(frozen=True, slots=True)
class OutpatientSettle:
    """2206 门诊预结算 (settle.trial) and 2207 门诊结算."""

    settle: Settle
    med_type: str = ""
    chrg_bchno: str = ""

    @property
    def mdtrt_id(self) -> str:
        return self.settle.mdtrt_id

    @property
    def psn_no(self) -> str:
        return self.settle.psn_no


@dataclass(frozen=True, slots=True)
class OutpatientSettleReverse:
    """2208 门诊结算撤销."""

    reverse: SettleReverse

    @property
    def mdtrt_id(self) -> str:
        return self.reverse.mdtrt_id

    @property
    def psn_no(self) -> str:
        return self.reverse.psn_no

    @property
    def setl_id(self) -> str:
        return self.reverse.setl_id


@dataclass(frozen=True, slots=True)
class ChronicRecognition:
    """2503 人员慢特病备案, as 先享受待遇、后备案 (Guangxi 三(八)): a level-2+ hospital records that two
    attending-or-higher doctors recognised one of the county's chronic diseases; the benefit applies at once."""

    psn_no: str
    opsp_dise_code: str
    opsp_dise_name: str
    hosp_ide_date: date  # 认定日期
    doctors: tuple[tuple[str, str, str], ...]  # (code, name, professional title) of each recognising doctor
    begndate: date | None = None
@dataclass(frozen=True, slots=True)
class ReferralFiling:
    """2501 转院备案: the referral to a hospital of another county or province (gateway/referral/)."""

    psn_no: str
    insutype: str
    begndate: date
    enddate: date | None = None
    refl_fil_type: str = "1"  # 转院备案类别
    dise_codg: str = ""
    dise_name: str = ""
    reflin_medins_no: str = ""  # 转往医疗机构编号
    reflin_medins_name: str = ""  # 转往医疗机构名称 (refl_hosp_name in some vendors)
    mdtrtarea_admdvs: str = ""  # 就医地医保区划: the receiving county
    hosp_agre_refl_flag: str = "1"  # 医院同意转院标志
    refl_rea: str = ""  # 转院原因
    refl_opnn: str = ""  # 转院意见
    tel: str = ""
    addr: str = ""


@dataclass(frozen=True, slots=True)
class ReferralCancel:
    """2502 转院备案撤销."""

    trt_dcla_detl_sn: str
    psn_no: str = ""
    memo: str = ""


Transaction = (
    SignIn | SignOut | PersonQuery | Admission | AdmissionChange | AdmissionCancel | FeeUpload | FeeRevoke
    | Settle | SettleReverse | Discharge | DischargeCancel | SettlementQuery | AccumulatorQuery | Correction
    | MessageQuery | SheetQuery | TotalReconciliation | DetailReconciliation | OutpatientRegister | OutpatientCancel
    | VisitInfo | OutpatientFeeUpload
    | OutpatientFeeRevoke | OutpatientSettle | OutpatientSettleReverse | ChronicRecognition | ReferralFiling
    | ReferralCancel
)

# Canonical transactions that move money or stay state: journalled before they run, idempotent by msgid.
STATE_CHANGING = (
    Admission, AdmissionChange, AdmissionCancel, FeeUpload, FeeRevoke, SettleReverse, Discharge,
    DischargeCancel, Correction, ReferralFiling, ReferralCancel,
    SheetQuery,  # it counts a print: a retry under the same msgid is the same print, not a reprint
    OutpatientRegister, OutpatientCancel, VisitInfo, OutpatientFeeUpload,
    OutpatientFeeRevoke, OutpatientSettleReverse, ChronicRecognition,
)


@dataclass(frozen=True, slots=True)
class Call:
    context: CallContext
    body: Transaction

    @property
    def changes_state(self) -> bool:
        body = self.body
        return (isinstance(body, STATE_CHANGING) or (isinstance(body, Settle) and not body.trial)
                or (isinstance(body, OutpatientSettle) and not body.settle.trial))

    @property
    def writes(self) -> bool:
        """Whether it writes anything but the journal: state, or a sign-in (not idempotent, not money)."""
        return self.changes_state or isinstance(self.body, SignIn | SignOut)

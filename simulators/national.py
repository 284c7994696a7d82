"""A dialect-free step → the national request document a HIS would send, with the usual HIS fields.

Every dialect maps onto this document (the mapping file's `to:` paths), so the driver takes from it what its
dialect carries. The journey state (persons provisioned, stays admitted, fee lines the HIS holds) is here too.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from simulators.scenario import FeeLineSpec, PersonSpec, Scenario, Step

NATIONAL = "%Y-%m-%d %H:%M:%S"
_IPT = itertools.count(random.randrange(1, 10**6))


@dataclass(frozen=True)
class Person:
    spec: PersonSpec
    psn_no: str
    certno: str


@dataclass
class Stay:
    label: str
    person: Person
    hospital: str
    begntime: datetime
    mdtrt_id: str = ""
    ipt_no: str = ""
    lines: dict[str, FeeLineSpec] = field(default_factory=dict)  # what the HIS holds as uploaded, by feedetl_sn
    batches: dict[str, str] = field(default_factory=dict)  # outpatient: feedetl_sn → 收费批次号
    settlements: list[str] = field(default_factory=list)  # valid setl_id, oldest first
    reversed: list[str] = field(default_factory=list)

    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines.values()), Decimal("0.00"))

    def setl_id(self, which: str) -> str:
        if which == "reversed":
            return self.reversed[-1] if self.reversed else ""
        if self.settlements:
            return self.settlements[0] if which == "first" else self.settlements[-1]
        return self.reversed[-1] if self.reversed else ""  # a second reversal of the same settlement


@dataclass(frozen=True)
class BookEntry:
    """A settlement record as the HIS's own book keeps it: what it reconciles (3201/3202) at the day's end."""

    hospital: str
    day: str  # yyyy-MM-dd of its inf_time
    setl_id: str
    msgid: str
    medfee_sumamt: Decimal  # as a magnitude; refd_setl_flag says whether it is a reversal
    fund_pay_sumamt: Decimal
    refd_setl_flag: str
    psn_no: str
    mdtrt_id: str
    insutype: str
    area: str


@dataclass
class Journey:
    scenario: Scenario
    persons: dict[str, Person]
    stays: dict[str, Stay] = field(default_factory=dict)
    book: list[BookEntry] = field(default_factory=list)
    sign_no: str = ""
    ipt_nos: dict[str, str] = field(default_factory=dict)  # the scenario's 住院号 labels → this play's numbers
    arrears: dict[str, str] = field(default_factory=dict)  # stay label → the county's arrears_id (C101)

    def hospital(self, step: Step) -> str:
        if step.hospital:
            return step.hospital
        if step.stay in self.stays and step.infno != "2401":
            return self.stays[step.stay].hospital
        return self.scenario.hospital


def _time(text: str, default: datetime) -> datetime:
    return datetime.strptime(text, NATIONAL) if text else default


def request(step: Step, journey: Journey, now: datetime) -> tuple[str, dict[str, Any]]:
    """(inf_time, {"input": …}) for the step; the stay must exist for stay steps (the runner checks)."""
    infno = step.infno
    inf_time = now
    data: dict[str, Any]
    if infno == "9001":
        data = {"signIn": {"opter_no": "001", "mac": "00-16-3E-00-00-01", "ip": "127.0.0.1"}}
    elif infno == "9002":
        data = {"signOut": {"sign_no": journey.sign_no, "opter_no": "001"}}
    elif infno == "1101":
        person = journey.persons[step.person]
        data = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno, "card_sn": "",
                         "begntime": "", "psn_cert_type": "01", "certno": person.certno}}
    elif infno == "2401":
        data = _admission(step, journey, now)
    elif infno == "2201":
        data = _registration(step, journey, now)
    elif infno == "2503":
        data = _recognition(step, journey, now)
    elif infno == "5206":
        person = journey.persons[step.person]
        data = {"data": {"psn_no": person.psn_no, "cum_ym": step.year or f"{now:%Y}"}}
    elif infno in ("3201", "3202"):
        data = _reconciliation(step, journey, now)
    else:
        stay = journey.stays.get(step.stay)
        mdtrt_id = step.mdtrt_id or (stay.mdtrt_id if stay else "")
        if stay is not None:
            psn_no = stay.person.psn_no
        else:  # a literal mdtrt_id (a stay that does not exist): the HIS still names its patient
            psn_no = journey.persons[step.person or next(iter(journey.persons))].psn_no
        if step.at and infno in ("2303", "2304", "2305", "5203", "2206", "2207", "2208"):
            inf_time = _time(step.at, now)  # the HIS's business date (carried where the dialect has inf_time)
        if infno in OUTPATIENT:
            data = _outpatient(step, stay, mdtrt_id, psn_no, now)
        elif infno == "2301":
            begun = stay.begntime if stay else now
            default = _time(step.at, begun + timedelta(days=1))
            data = {"feedetail": [_fee_line(line, mdtrt_id, psn_no, default) for line in step.lines]}
        elif infno == "2302":
            data = {"data": [{"feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no} for sn in step.revoke]}
        elif infno in ("2303", "2304"):
            holder = stay.person if stay else None
            total = step.medfee_sumamt if step.medfee_sumamt is not None else (stay.total() if stay else None)
            data = {"data": {"psn_no": psn_no, "mdtrt_cert_type": "02",
                             "mdtrt_cert_no": holder.certno if holder else "", "mdtrt_id": mdtrt_id,
                             "medfee_sumamt": total, "insutype": holder.spec.insutype if holder else "",
                             "psn_setlway": "01", "acct_used_flag": "0", "mid_setl_flag": "0", "invono": "",
                             "fulamt_ownpay_amt": None, "overlmt_selfpay": None, "preselfpay_amt": None,
                             "inscp_scp_amt": None}}
        elif infno in ("2305", "5203"):
            data = {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "setl_id": stay.setl_id(step.setl) if stay
                             else ""}}
        elif infno == "2402":
            begun = stay.begntime if stay else now
            data = {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no,
                                 "insutype": stay.person.spec.insutype if stay else "",
                                 "endtime": _time(step.at, begun + timedelta(days=7)).strftime(NATIONAL),
                                 "dise_codg": "J18.900", "dise_name": "肺炎", "dscg_way": "1",
                                 "dscg_dept_codg": "A03", "dscg_dept_name": "内科"},
                    "diseinfo": [_diagnosis(psn_no, stay.begntime if stay else now)]}
        elif infno == "2403":
            data = {"adminfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, **step.fields}}
        else:  # 2404, 2405
            data = {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    return inf_time.strftime(NATIONAL), {"input": data}


def day_book(step: Step, journey: Journey, now: datetime) -> tuple[list[BookEntry], str, str]:
    """The HIS's records for the step's hospital and the person's insurance area (and scheme), with the period
    they span (today when there are none)."""
    person = journey.persons[step.person].spec
    hospital = journey.hospital(step)
    entries = [e for e in journey.book if e.hospital == hospital and e.area == person.area
               and (step.infno == "3202" or e.insutype == person.insutype)]
    days = sorted(e.day for e in entries) or [f"{now:%Y-%m-%d}"]
    return entries, days[0], days[-1]


def _reconciliation(step: Step, journey: Journey, now: datetime) -> dict[str, Any]:
    entries, begin, end = day_book(step, journey, now)
    person = journey.persons[step.person].spec

    def net(key: str) -> Decimal:
        return sum((getattr(e, key) * (-1 if e.refd_setl_flag == "1" else 1) for e in entries), Decimal("0.00"))

    head: dict[str, Any] = {"clr_type": "21", "setl_optins": person.area, "stmt_begndate": begin,
                            "stmt_enddate": end, "medfee_sumamt": net("medfee_sumamt"),
                            "fund_pay_sumamt": net("fund_pay_sumamt"), "fixmedins_setl_cnt": str(len(entries))}
    if step.infno == "3201":
        return {"data": {"insutype": person.insutype, **head, "acct_pay": Decimal("0.00"), "refd_setl_flag": "1"}}
    return {"data": {**head, "cash_payamt": Decimal("0.00"), "file_qury_no": ""}, "detail": [
        {"setl_id": e.setl_id, "msgid": e.msgid, "medfee_sumamt": e.medfee_sumamt,
         "fund_pay_sumamt": e.fund_pay_sumamt, "refd_setl_flag": e.refd_setl_flag, "psn_no": e.psn_no,
         "mdtrt_id": e.mdtrt_id} for e in entries]}


def _admission(step: Step, journey: Journey, now: datetime) -> dict[str, Any]:
    person = journey.persons[step.person]
    begntime = _time(step.at, (now - timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0))
    ipt_no = journey.ipt_nos.setdefault(step.ipt_no, f"ZY{next(_IPT):08d}") if step.ipt_no else f"ZY{next(_IPT):08d}"
    journey.stays[step.stay] = Stay(label=step.stay, person=person, hospital=journey.hospital(step),
                                    begntime=begntime, ipt_no=ipt_no)
    return {
        "mdtrtinfo": {"psn_no": person.psn_no, "insutype": person.spec.insutype, "coner_name": "",
                      "tel": "", "begntime": begntime.strftime(NATIONAL), "mdtrt_cert_type": "02",
                      "mdtrt_cert_no": person.certno, "med_type": "21", "ipt_no": ipt_no, "medrcdno": ipt_no,
                      "atddr_no": "D001", "chfpdr_name": "主治医师", "adm_diag_dscr": "肺炎",
                      "adm_dept_codg": "A03", "adm_dept_name": "呼吸内科", "adm_bed": "12",
                      "dscg_maindiag_code": "J18.900", "dscg_maindiag_name": "肺炎", "dise_codg": "J18.900",
                      "dise_name": "肺炎"},
        "diseinfo": [_diagnosis(person.psn_no, begntime)],
    } | ({"zero_deposit": dict(step.zero_deposit)} if step.zero_deposit else {})


OUTPATIENT = frozenset({"2202", "2203", "2204", "2205", "2206", "2207", "2208"})
CHRONIC_DISEASE = "I10"  # 高血压病, on the demo county's list


def _registration(step: Step, journey: Journey, now: datetime) -> dict[str, Any]:
    person = journey.persons[step.person]
    begntime = _time(step.at, now.replace(hour=9, minute=0, second=0, microsecond=0))
    otp_no = f"MZ{next(_IPT):08d}"
    journey.stays[step.stay] = Stay(label=step.stay, person=person, hospital=journey.hospital(step),
                                    begntime=begntime, ipt_no=otp_no)
    return {"mdtrtinfo": {"psn_no": person.psn_no, "insutype": person.spec.insutype, "mdtrt_cert_type": "02",
                          "mdtrt_cert_no": person.certno, "begntime": begntime.strftime(NATIONAL),
                          "ipt_otp_no": otp_no, "dept_code": "A03", "dept_name": "内科", "atddr_no": "D001",
                          "dr_name": "主治医师", "caty": "A03"}}


def _recognition(step: Step, journey: Journey, now: datetime) -> dict[str, Any]:
    """Two attending-or-higher doctors (GB/T 8561: 233 主治医师, 231 主任医师), recognised on `at` (default today)."""
    person = journey.persons[step.person]
    on = _time(step.at, now).strftime("%Y-%m-%d")
    return {"data": {"psn_no": person.psn_no, "insutype": person.spec.insutype,
                     "opsp_dise_code": step.disease or CHRONIC_DISEASE, "opsp_dise_name": "", "tel": "", "addr": "",
                     "insu_optins": person.spec.area, "ide_fixmedins_no": journey.hospital(step),
                     "ide_fixmedins_name": "", "hosp_ide_date": on, "diag_dr_codg": "D101", "diag_dr_name": "主治医师",
                     "diag_dr_prfs": "233", "diag_dr2_codg": "D102", "diag_dr2_name": "主任医师",
                     "diag_dr2_prfs": "231", "begndate": on, "enddate": ""}}


def _outpatient(step: Step, stay: Stay | None, mdtrt_id: str, psn_no: str, now: datetime) -> dict[str, Any]:
    infno = step.infno
    holder = stay.person if stay else None
    if infno == "2203":
        code = step.disease or f"{CHRONIC_DISEASE}.x00"
        begun = (stay.begntime if stay else now).strftime(NATIONAL)
        return {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": step.med_type or "14",
                              "begntime": begun, "main_cond_dscr": "", "dise_codg": code, "dise_name": "门诊诊断"},
                "diseinfo": [{"diag_type": "1", "diag_srt_no": "1", "diag_code": code, "diag_name": "门诊诊断",
                              "diag_dept": "内科", "dise_dor_no": "D001", "dise_dor_name": "主治医师",
                              "diag_time": begun, "vali_flag": "1"}]}
    if infno == "2204":
        visit_begun = stay.begntime if stay else now
        default = _time(step.at, visit_begun + timedelta(minutes=20))
        rows = [_fee_line(line, mdtrt_id, psn_no, default) for line in step.lines]
        return {"feedetail": [{**row, "med_type": "14", "chrg_bchno": step.batch or "B1", "rxno": "",
                               "rx_circ_flag": "0"} for row in rows]}
    if infno == "2205":
        return {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": step.batch or "0000"}}
    if infno in ("2206", "2207"):
        total = step.medfee_sumamt if step.medfee_sumamt is not None else (stay.total() if stay else None)
        return {"data": {"psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": holder.certno if holder else "",
                         "med_type": "", "medfee_sumamt": total, "psn_setlway": "01", "mdtrt_id": mdtrt_id,
                         "chrg_bchno": "", "insutype": holder.spec.insutype if holder else "", "acct_used_flag": "0"}}
    if infno == "2208":
        return {"data": {"setl_id": stay.setl_id(step.setl) if stay else "", "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    return {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "ipt_otp_no": stay.ipt_no if stay else ""}}  # 2202


def _diagnosis(psn_no: str, when: datetime) -> dict[str, Any]:
    return {"psn_no": psn_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": "1", "diag_code": "J18.900",
            "diag_name": "肺炎", "diag_dept": "呼吸内科", "dise_dor_no": "D001", "dise_dor_name": "主治医师",
            "diag_time": when.strftime(NATIONAL), "vali_flag": "1"}


def _fee_line(line: FeeLineSpec, mdtrt_id: str, psn_no: str, default: datetime) -> dict[str, Any]:
    return {
        "feedetl_sn": line.sn, "init_feedetl_sn": line.refund_of, "mdtrt_id": mdtrt_id, "drord_no": "",
        "psn_no": psn_no, "med_type": "21", "fee_ocur_time": _time(line.at, default).strftime(NATIONAL),
        "med_list_codg": line.code, "medins_list_codg": f"H-{line.code}", "medins_list_name": f"院内{line.code}",
        "det_item_fee_sumamt": line.amount, "cnt": line.cnt, "pric": line.pric, "bilg_dept_codg": "A03",
        "bilg_dept_name": "呼吸内科", "bilg_dr_codg": "D001", "bilg_dr_name": "主治医师", "hosp_appr_flag": "1",
    }

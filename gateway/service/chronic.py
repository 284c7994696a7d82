"""门诊特殊慢性病 (Guangxi 三(八)(九)): 先享受待遇、后备案.

A level-2 (county) or higher hospital records a recognition (2503): one disease of the county's list, two
doctors of attending rank or higher, the date. The benefit applies at once: from that date, the person's
outpatient visits of medical type 14 (门诊慢特病) with that diagnosis settle under the policy's `chronic` rules.
Each month the hospital's recognitions are filed with the agency (the county API lists them); the agency may
cancel one, and from then on those visits settle as ordinary outpatient visits.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path

from gateway.canonical.answers import RecognitionAnswer
from gateway.canonical.calls import CallContext, ChronicRecognition
from gateway.errors import (
    DuplicateRecognition,
    InvalidValue,
    NotRecognisingHospital,
    UnknownChronicDisease,
    UnknownRecognition,
    UnqualifiedDoctors,
)
from gateway.service.deps import Deps, business_time, hospital_of, person_of, require_insured
from gateway.store.outpatient_port import RecognitionRecord
from gateway.store.records import StayRecord

CHRONIC_MED_TYPE = "14"  # 门诊慢特病 (national med_type)
MIN_HOSPITAL_LEVEL = 2  # 二级（县级）及以上定点医疗机构
DOCTORS_NEEDED = 2
# 主治及以上职称: GB/T 8561 professional-title codes, or their names as a HIS writes them.
QUALIFIED_TITLES = frozenset({"231", "232", "233", "主任医师", "副主任医师", "主治医师"})


def default_disease_list_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "demo" / "chronic_diseases.csv"


@cache
def disease_list(path: Path | None = None) -> Mapping[str, str]:
    """The county's list of recognisable diseases: ICD-10 category code → name (the demo ships 29)."""
    with (path or default_disease_list_path()).open(encoding="utf-8", newline="") as handle:
        return {row["dise_codg"].strip().upper(): row["dise_name"].strip() for row in csv.DictReader(handle)}


def listed_code(code: str, diseases: Mapping[str, str]) -> str | None:
    """The list entry a diagnosis code falls under (I10.x00 → I10), or None."""
    upper = code.strip().upper()
    return next((entry for entry in diseases if upper.startswith(entry)), None)


def recognise(deps: Deps, ctx: CallContext, body: ChronicRecognition) -> RecognitionAnswer:
    hospital = hospital_of(deps, ctx)
    if hospital.hosp_lv < MIN_HOSPITAL_LEVEL:
        raise NotRecognisingHospital(f"{hospital.hosp_lv} 级医疗机构不能认定门诊特殊慢性病（须二级及以上）",
                                     field="fixmedins_code")
    person = person_of(deps, body.psn_no)
    require_insured(person)
    diseases = disease_list()
    code = listed_code(body.opsp_dise_code, diseases)
    if code is None:
        raise UnknownChronicDisease(f"病种编码 {body.opsp_dise_code[:16]}（本县目录共 {len(diseases)} 种）",
                                    field="opsp_dise_code")
    _check_doctors(body.doctors)
    today = business_time(deps, ctx)
    if body.hosp_ide_date > today.date():
        raise InvalidValue(f"认定日期 {body.hosp_ide_date} 晚于今天", field="hosp_ide_date")
    store = deps.store
    if any(r.status == "active" and r.dise_codg == code for r in store.recognitions_of(person.psn_no)):
        raise DuplicateRecognition(f"病种 {code} {diseases[code]}", field="opsp_dise_code")
    recog_id = f"MB{today:%Y%m%d}{store.next_serial('recog_id'):08d}"
    store.insert_recognition(RecognitionRecord(
        recog_id=recog_id, psn_no=person.psn_no, fixmedins_code=hospital.fixmedins_code, dise_codg=code,
        dise_name=diseases[code], recog_date=body.hosp_ide_date, doctors=body.doctors, recorded_at=deps.now(),
        msgid=ctx.msgid,
    ))
    return RecognitionAnswer(recog_id=recog_id, psn_no=person.psn_no)


def _check_doctors(doctors: Iterable[tuple[str, str, str]]) -> None:
    listed = list(doctors)
    codes = {code for code, _name, _title in listed}
    if len(listed) < DOCTORS_NEEDED or len(codes) < DOCTORS_NEEDED:
        raise UnqualifiedDoctors(f"须由 {DOCTORS_NEEDED} 名不同的医师认定，收到 {len(codes)} 名", field="diag_dr_codg")
    for code, _name, title in listed:
        if title not in QUALIFIED_TITLES:
            raise UnqualifiedDoctors(f"医师 {code} 的职称 {title or '（未填）'} 不是主治医师及以上",
                                     field="diag_dr_prfs")


def visit_kind(deps: Deps, stay: StayRecord, on: date) -> str:
    """The policy's visit kind for an outpatient visit settled on `on`: `chronic` when it is a 门诊慢特病 visit
    (med_type 14) whose diagnosis falls under a recognition in force that day, otherwise `outpatient`."""
    if stay.med_type != CHRONIC_MED_TYPE:
        return "outpatient"
    in_force = [r for r in deps.store.recognitions_of(stay.psn_no)
                if r.status == "active" and r.recog_date <= on]
    diagnosed = _diagnosis_codes(stay.admission)
    if not diagnosed:  # the HIS said 14 and named no diagnosis: any recognised disease of the person
        return "chronic" if in_force else "outpatient"
    wanted = {r.dise_codg for r in in_force}
    return "chronic" if any(code.upper().startswith(tuple(wanted)) for code in diagnosed if wanted) else "outpatient"


def _diagnosis_codes(details: Mapping[str, object]) -> list[str]:
    codes = [str(details.get("dise_codg") or "")]
    diagnoses = details.get("diagnoses")
    if isinstance(diagnoses, list):
        codes += [str(d.get("diag_code") or "") for d in diagnoses if isinstance(d, dict)]
    return [code for code in codes if code]


# ---- the agency's side (county API) -----------------------------------------------------------------------


def filing_list(deps: Deps, fixmedins_code: str | None, since: date, until: date) -> list[RecognitionRecord]:
    """备案名单: the recognitions a hospital recorded with recog_date in [since, until)."""
    return deps.store.recognitions_recorded(fixmedins_code, since, until)


def cancel(deps: Deps, recog_id: str, by: str, reason: str,
           at: datetime) -> tuple[RecognitionRecord, RecognitionRecord]:
    """The agency withdraws a recognition (不符合认定条件的人员按程序取消): the recognition before and as it now
    stands (the same when it was cancelled already: the state wanted, nothing written). The caller audits it."""
    store = deps.store
    record = store.recognition(recog_id)
    if record is None:
        raise UnknownRecognition(recog_id[:40], field="recog_id")
    if record.status == "cancelled":
        return record, record
    if not reason.strip():
        raise InvalidValue("取消认定须说明原因", field="reason")
    store.cancel_recognition(recog_id, at, by, reason.strip())
    cancelled = store.recognition(recog_id)
    assert cancelled is not None
    return record, cancelled

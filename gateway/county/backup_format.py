"""The backup archive's rows as JSON documents, one per line: reference data, stays and settlements.

Storage-neutral on purpose: an archive made from SQLite loads into any store that implements the port."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gateway.canonical.refdata import Hospital, IdentityAttribute, Person
from gateway.lifecycle import StayState
from gateway.store.figures_json import dump_figures, load_figures
from gateway.store.records import SettlementRecord, StayRecord


def person_doc(p: Person) -> dict[str, Any]:
    return {"psn_no": p.psn_no, "certno": p.certno, "psn_name": p.psn_name, "gend": p.gend,
            "brdy": p.brdy.isoformat(), "naty": p.naty, "insutype": p.insutype, "insuplc_admdvs": p.insuplc_admdvs,
            "identities": list(p.identities), "insured": p.insured, "uninsured_reason": p.uninsured_reason,
            "emp_name": p.emp_name, "psn_cert_type": p.psn_cert_type}


def person_of(doc: Mapping[str, Any]) -> Person:
    return Person(**{**doc, "brdy": date.fromisoformat(doc["brdy"]), "identities": tuple(doc["identities"])})


def hospital_doc(h: Hospital) -> dict[str, Any]:
    return {"fixmedins_code": h.fixmedins_code, "fixmedins_name": h.fixmedins_name, "hosp_lv": h.hosp_lv,
            "admdvs": h.admdvs}


def hospital_of(doc: Mapping[str, Any]) -> Hospital:
    return Hospital(**doc)


def attribute_doc(a: IdentityAttribute) -> dict[str, Any]:
    return {"code": a.code, "name": a.name, "type_code": a.type_code, "type_name": a.type_name}


def attribute_of(doc: Mapping[str, Any]) -> IdentityAttribute:
    return IdentityAttribute(**doc)


def _time(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ") if value else None


def stay_doc(s: StayRecord) -> dict[str, Any]:
    return {"mdtrt_id": s.mdtrt_id, "fixmedins_code": s.fixmedins_code, "psn_no": s.psn_no,
            "insutype": s.insutype, "state": s.state.value, "hosp_lv": s.hosp_lv, "in_county": s.in_county,
            "begntime": _time(s.begntime), "endtime": _time(s.endtime), "ipt_no": s.ipt_no, "med_type": s.med_type,
            "admission": dict(s.admission), "discharge": dict(s.discharge) if s.discharge is not None else None,
            "created_msgid": s.created_msgid}


def stay_of(doc: Mapping[str, Any]) -> StayRecord:
    return StayRecord(**{**doc, "state": StayState(doc["state"]), "begntime": datetime.fromisoformat(doc["begntime"]),
                         "endtime": datetime.fromisoformat(doc["endtime"]) if doc["endtime"] else None})


def settlement_doc(r: SettlementRecord) -> dict[str, Any]:
    return {"setl_id": r.setl_id, "mdtrt_id": r.mdtrt_id, "psn_no": r.psn_no, "fixmedins_code": r.fixmedins_code,
            "year": r.year, "setl_time": _time(r.setl_time), "kind": r.kind, "status": r.status,
            "reverses": r.reverses, "figures": json.loads(dump_figures(r.figures)), "msgid": r.msgid}


def settlement_of(doc: Mapping[str, Any]) -> SettlementRecord:
    return SettlementRecord(**{**doc, "setl_time": datetime.fromisoformat(doc["setl_time"]),
                               "figures": load_figures(json.dumps(doc["figures"], ensure_ascii=False))})


def jsonl(docs: Iterable[Mapping[str, Any]]) -> bytes:
    """One document a line, UTF-8, keys in a fixed order: the same rows give the same bytes."""
    return b"".join(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for doc in docs)


def read_jsonl(data: bytes) -> Iterator[dict[str, Any]]:
    for line in data.splitlines():
        if line.strip():
            yield json.loads(line, parse_float=Decimal)

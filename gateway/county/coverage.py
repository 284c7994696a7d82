"""The monthly comparison 应保尽保、未保有因 (Hunan 三(一)3): the poor on the applied lists who are not insured,
without an uninsured reason and with one, per reason code of 附件2. A pure function of the lists and the registry."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from gateway.canonical.refdata import UNINSURED_REASONS, Person
from gateway.county.identities import SOURCES
from gateway.county.records import ListMember

CSV_HEADER = ("身份证号", "姓名", "名单来源", "身份属性", "参保状态", "未参保原因编码", "未参保原因")


def month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def compare(members: Sequence[ListMember], persons: Mapping[str, Person], month: date) -> dict[str, Any]:
    by_certno: dict[str, list[ListMember]] = {}
    for member in members:
        by_certno.setdefault(member.certno, []).append(member)
    insured = 0
    with_reason: dict[str, int] = dict.fromkeys(UNINSURED_REASONS, 0)
    without_reason = 0
    rows: list[dict[str, Any]] = []
    for certno in sorted(by_certno):
        lists = by_certno[certno]
        person = persons.get(certno)
        if person is not None and person.insured:
            insured += 1
            continue
        reason = person.uninsured_reason if person is not None else None
        if reason in UNINSURED_REASONS:
            with_reason[reason] += 1
            status = "未保有因"
        else:
            without_reason += 1
            status = "未保无因" if person is not None else "未参保登记"
            reason = None
        rows.append({"certno": certno, "name": person.psn_name if person else lists[0].psn_name,
                     "sources": sorted({SOURCES[m.source][0] for m in lists}),
                     "attributes": sorted({c for m in lists for c in m.codes}), "status": status,
                     "uninsured_reason": reason, "uninsured_reason_name": UNINSURED_REASONS.get(reason or "")})
    return {
        "code": 0, "month": f"{month:%Y-%m}", "on_lists": len(by_certno), "insured": insured,
        "uninsured_without_reason": without_reason,
        "uninsured_with_reason": {code: {"name": UNINSURED_REASONS[code], "persons": n}
                                  for code, n in with_reason.items()},
        "uninsured": rows,
    }


def as_csv(report: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in report["uninsured"]:
        writer.writerow([row["certno"], row["name"], "、".join(row["sources"]), ",".join(row["attributes"]),
                         row["status"], row["uninsured_reason"] or "", row["uninsured_reason_name"] or ""])
    return out.getvalue()

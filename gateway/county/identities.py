"""Identity lists (身份标识) against the registry: the diff an import produces, row by row with its reason. Pure.

A source (扶贫办, 民政, 残联) speaks for the attribute types it determines (Hunan 附件1): its list is the whole
truth for those types, so a registry person holding one of them who is not on the list is `removed`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.canonical.refdata import IdentityAttribute, Person
from gateway.county.listfile import ListRow
from gateway.errors import GatewayError
from gateway.refdata.idcard import check_certno, mask_certno

# source -> (office, the attribute types it determines, the attribute a row without one holds)
SOURCES: dict[str, tuple[str, frozenset[str], str]] = {
    "fupin": ("扶贫办", frozenset({"A"}), "0001"),
    "minzheng": ("民政", frozenset({"B"}), ""),
    "canlian": ("残联", frozenset({"C"}), "0006"),
}
SOURCE_NAMES = {office: key for key, (office, _, _) in SOURCES.items()}

NEW, REMOVED, CHANGED, UNCHANGED = "new", "removed", "changed", "unchanged"
CONFLICTING, INVALID, UNKNOWN, DUPLICATE = "conflicting", "invalid", "unknown", "duplicate"
# A holder not on the readable rows whose name is on a row with an unreadable ID number: that row may be theirs,
# so they are kept as they are (never `removed` for a row the import could not read).
UNREAD = "unread"
KINDS = (NEW, REMOVED, CHANGED, CONFLICTING, INVALID, UNREAD, UNKNOWN, UNCHANGED, DUPLICATE)
# what the diff calls each kind for the county's officers: a row it could not read is 未读入, never 移除
LABELS = {NEW: "新增", REMOVED: "移除（不在本次名单中）", CHANGED: "变更", CONFLICTING: "冲突", INVALID: "未读入",
          UNREAD: "未读入（可能是此人）", UNKNOWN: "未参保登记", UNCHANGED: "不变", DUPLICATE: "重复"}
APPLICABLE = frozenset({NEW, REMOVED, CHANGED})  # what applying a diff changes; the rest is for the record


@dataclass(frozen=True, slots=True)
class DiffRow:
    id: int  # position in the diff, what an apply of a subset names
    kind: str
    reason: str
    line: int | None  # the list's row (None for `removed`: not on the list)
    certno: str
    name: str
    attribute: str  # as written in the list
    psn_no: str
    before: tuple[str, ...]  # the person's attributes of the source's types in the registry
    after: tuple[str, ...]  # what applying this row makes them

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": LABELS[self.kind], "reason": self.reason,
                "line": self.line, "certno": self.certno, "name": self.name, "attribute": self.attribute,
                "psn_no": self.psn_no, "before": list(self.before), "after": list(self.after)}

    @staticmethod
    def from_document(doc: Mapping[str, Any]) -> DiffRow:
        return DiffRow(int(doc["id"]), str(doc["kind"]), str(doc["reason"]), doc["line"], str(doc["certno"]),
                       str(doc["name"]), str(doc["attribute"]), str(doc["psn_no"]), tuple(doc["before"]),
                       tuple(doc["after"]))


def source_key(value: str) -> str | None:
    """'minzheng' or '民政' -> 'minzheng'."""
    if value in SOURCES:
        return value
    return SOURCE_NAMES.get(value)


def source_codes(source: str, catalogue: Mapping[str, IdentityAttribute]) -> frozenset[str]:
    types = SOURCES[source][1]
    return frozenset(code for code, attribute in catalogue.items() if attribute.type_code in types)


def source_of(code: str, catalogue: Mapping[str, IdentityAttribute]) -> str:
    attribute = catalogue.get(code)
    if attribute is not None:
        for key, (_, types, _) in SOURCES.items():
            if attribute.type_code in types:
                return key
    return "county"  # 其他身份属性: maintained by the county itself


def diff(source: str, rows: Sequence[ListRow], catalogue: Mapping[str, IdentityAttribute],
         registry: Mapping[str, Person], holders: Iterable[Person]) -> list[DiffRow]:
    """`registry`: persons by certno for the list's numbers; `holders`: every person holding an attribute of the
    source's types (for the removed)."""
    codes = source_codes(source, catalogue)
    by_name = {a.name: code for code, a in catalogue.items() if code in codes}
    default = SOURCES[source][2]
    out: list[DiffRow] = []
    parsed: list[tuple[ListRow, str, str]] = []  # row, normalised certno, code
    unread_ids: set[str] = set()  # readable ID numbers on rows that could not be read: those persons stay
    unread_names: dict[str, int] = {}  # name -> line of a row whose ID number could not be read
    for row in rows:
        problem, certno, code = _read(row, codes, by_name, default, catalogue, source)
        if problem:
            person = registry.get(certno) if certno else None
            held = tuple(sorted(c for c in person.identities if c in codes)) if person else ()
            out.append(_row(len(out), INVALID, problem, row, certno or row.certno,
                            person.psn_no if person else "", held, held))
            if certno:
                unread_ids.add(certno)
            elif row.name:
                unread_names.setdefault(row.name, row.line)
        else:
            parsed.append((row, certno, code))
    wanted: dict[str, dict[str, set[str]]] = {}  # certno -> type -> codes
    for _, certno, code in parsed:
        wanted.setdefault(certno, {}).setdefault(catalogue[code].type_code, set()).add(code)
    seen: set[tuple[str, str]] = set()
    for row, certno, code in parsed:
        person = registry.get(certno)
        held = tuple(sorted(c for c in (person.identities if person else ()) if c in codes))
        types = wanted[certno]
        clash = [t for t, found in types.items() if len(found) > 1]
        if clash:
            listed = sorted(c for t in clash for c in types[t])
            out.append(_row(len(out), CONFLICTING, f"同一人在名单中有同类身份属性 {listed}（每类只能单选）", row,
                            certno, person.psn_no if person else "", held, held))
            continue
        if (certno, code) in seen:
            out.append(_row(len(out), DUPLICATE, "与名单中前一行重复", row, certno,
                            person.psn_no if person else "", held, held))
            continue
        seen.add((certno, code))
        if person is None:
            out.append(_row(len(out), UNKNOWN, "参保登记中没有此身份证号", row, certno, "", (), (code,)))
            continue
        type_code = catalogue[code].type_code
        same_type = tuple(c for c in held if catalogue[c].type_code == type_code)
        after = tuple(sorted({*(c for c in held if catalogue[c].type_code != type_code), code}))
        if code in held:
            out.append(_row(len(out), UNCHANGED, "与参保登记一致", row, certno, person.psn_no, held, held))
        elif same_type:
            out.append(_row(len(out), CHANGED, f"{catalogue[same_type[0]].name} → {catalogue[code].name}", row,
                            certno, person.psn_no, held, after))
        else:
            out.append(_row(len(out), NEW, f"新增 {catalogue[code].name}", row, certno, person.psn_no, held, after))
    on_list = set(wanted) | unread_ids
    for person in sorted(holders, key=lambda p: p.psn_no):
        held = tuple(sorted(c for c in person.identities if c in codes))
        if not held or person.certno in on_list:
            continue
        line = unread_names.get(person.psn_name)
        if line is not None:
            out.append(DiffRow(len(out), UNREAD, f"第 {line} 行身份证号无法读取，姓名与此人相同，此人保持不变",
                               line, person.certno, person.psn_name, "", person.psn_no, held, held))
        else:
            out.append(DiffRow(len(out), REMOVED, "不在本次名单中（脱贫、死亡、迁出等）", None, person.certno,
                               person.psn_name, "", person.psn_no, held, ()))
    return out


def _read(row: ListRow, codes: frozenset[str], by_name: Mapping[str, str], default: str,
          catalogue: Mapping[str, IdentityAttribute], source: str) -> tuple[str, str, str]:
    """(problem, certno, code): problem is '' for a usable row."""
    if not row.certno:
        return "缺少身份证号", "", ""
    try:
        certno = check_certno(row.certno).certno
    except GatewayError as exc:
        return f"身份证号无效：{exc.detail}", "", ""
    written = row.attribute.strip()
    code = written if written in catalogue else by_name.get(written, "") if written else default
    if not code:
        return ("缺少身份属性" if not written else f"未知的身份属性 {written!r}"), certno, ""
    if code not in codes:
        office = SOURCES[source][0]
        return f"身份属性 {code} {catalogue[code].name if code in catalogue else ''} 不由{office}确定", certno, ""
    return "", certno, code


def _row(n: int, kind: str, reason: str, row: ListRow, certno: str, psn_no: str, before: tuple[str, ...],
         after: tuple[str, ...]) -> DiffRow:
    return DiffRow(n, kind, reason, row.line, certno, row.name, row.attribute, psn_no, before, after)


def counts(rows: Iterable[DiffRow]) -> dict[str, int]:
    found = dict.fromkeys((k for k in KINDS if k != UNREAD), 0)  # `unread` only when there is one: older
    for row in rows:                                                # answers keep their eight kinds
        found[row.kind] = found.get(row.kind, 0) + 1
    return found


def digest(rows: Iterable[DiffRow]) -> str:
    """What the diff says, to tell at apply time whether the registry moved since the upload."""
    canonical = [[r.kind, r.line, r.certno, r.psn_no, list(r.before), list(r.after)] for r in rows]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def list_rows(rows: Iterable[DiffRow]) -> list[ListRow]:
    """The list as uploaded, back from its diff (every row but `removed` came from it), in file order."""
    found = [ListRow(r.line, r.certno, r.name, r.attribute) for r in rows if r.line is not None and r.kind != UNREAD]
    return sorted(found, key=lambda r: r.line)


def masked(row: DiffRow) -> str:
    return mask_certno(row.certno)

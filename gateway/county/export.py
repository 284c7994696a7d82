"""De-identified exports (脱敏, Hunan 三(三)2) for 扶贫办, 民政, 卫健: what an agreement allows, nothing more.

An agreement names the recipient, the fields it may receive, whether fee details are included, and a key of its
own. Every export carries:
- no name, no ID number, no psn_no, mdtrt_id or setl_id of the source;
- a pseudonym per person and recipient: HMAC-SHA256 under the agreement's key, so one recipient's files join
  with each other (the same person, the same pseudonym) but two recipients' files cannot be joined;
- the birth year instead of the birth date;
- only the agreed fields.

The rows are a pure function of ledger rows, so a test can look for every identifier of the source in them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.canonical.refdata import Person
from gateway.journal.protect import JournalKeyError, read_key
from gateway.store.records import LedgerRow, StayRecord, StoredFeeLine

# field -> what it is. `person` (the pseudonym) and `settlement` (a pseudonym of the settlement, to join fee
# lines to it) are always there; everything else only when the agreement names it.
Row = tuple[LedgerRow, Person, StayRecord]
FIELDS: dict[str, tuple[str, Callable[[Row], object]]] = {
    "birth_year": ("出生年份", lambda r: r[1].brdy.year),
    "gend": ("性别 (1 男 2 女)", lambda r: r[1].gend),
    "insutype": ("险种类型", lambda r: r[1].insutype),
    "insuplc_admdvs": ("参保地 (统筹区)", lambda r: r[1].insuplc_admdvs),
    "identities": ("身份属性", lambda r: ",".join(r[1].identities)),
    "fixmedins_code": ("定点医疗机构", lambda r: r[0].record.fixmedins_code),
    "hosp_lv": ("医院等级", lambda r: r[2].hosp_lv),
    "in_county": ("县域内 (1) / 县域外 (0)", lambda r: int(r[0].in_county)),
    "adm_date": ("入院日期", lambda r: r[2].begntime.date().isoformat()),
    "dscg_date": ("出院日期", lambda r: r[2].endtime.date().isoformat() if r[2].endtime else ""),
    "setl_date": ("结算日期", lambda r: r[0].record.setl_time.date().isoformat()),
    "kind": ("结算 (settlement) / 撤销 (reversal)", lambda r: r[0].record.kind),
    "medfee_sumamt": ("医疗总费用", lambda r: r[0].sign * r[0].record.figures.totals.medfee_sumamt),
    "inscp_scp_amt": ("政策范围内费用", lambda r: r[0].sign * r[0].record.figures.totals.inscp_scp_amt),
    "fulamt_ownpay_amt": ("全自费", lambda r: r[0].sign * r[0].record.figures.totals.fulamt_ownpay_amt),
    "fund_pay_sumamt": ("基金支付合计", lambda r: r[0].sign * r[0].record.figures.fund_pay_sumamt),
    "hosp_part_amt": ("医院减免", lambda r: r[0].sign * r[0].record.figures.hosp_part_amt),
    "psn_part_amt": ("个人负担", lambda r: r[0].sign * r[0].record.figures.psn_part_amt),
    "funds": ("各基金支付 (代码:金额;…)", lambda r: ";".join(
        f"{p.fund_pay_type}:{r[0].sign * p.fund_payamt}" for p in r[0].record.figures.payments if p.fund_payamt)),
}
FEE_FIELDS = ("settlement", "med_list_codg", "med_chrgitm_type", "chrgitm_lv", "cnt", "pric", "det_item_fee_sumamt")


class AgreementError(ValueError):
    """An agreements file that cannot be used, with the file and the agreement named."""


@dataclass(frozen=True, slots=True)
class Agreement:
    agreement_id: str
    recipient: str
    fields: tuple[str, ...]
    fee_details: bool
    key: bytes


def load_agreements(path: Path) -> dict[str, Agreement]:
    """[[agreement]] tables: id, recipient, fields = [...], fee_details = bool, key_file (base64, 32 bytes)."""
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AgreementError(f"{path}: {exc}") from exc
    found: dict[str, Agreement] = {}
    for index, table in enumerate(doc.get("agreement", [])):
        where = f"{path}: agreement[{index}]"
        unknown = set(table) - {"id", "recipient", "fields", "fee_details", "key_file"}
        if unknown:
            raise AgreementError(f"{where}: unknown keys {sorted(unknown)}")
        try:
            agreement_id, recipient, fields = str(table["id"]), str(table["recipient"]), list(table["fields"])
            key_file = path.parent / str(table["key_file"])
        except KeyError as exc:
            raise AgreementError(f"{where}: missing {exc.args[0]}") from exc
        refused = [f for f in fields if f not in FIELDS]
        if refused:
            raise AgreementError(f"{where} ({agreement_id}): fields {refused} cannot be exported; "
                                 f"allowed: {sorted(FIELDS)}")
        if agreement_id in found:
            raise AgreementError(f"{where}: id {agreement_id} given twice")
        try:
            key = read_key(key_file)
        except JournalKeyError as exc:
            raise AgreementError(f"{where} ({agreement_id}): {exc}") from exc
        if any(key == other.key for other in found.values()):
            raise AgreementError(f"{where} ({agreement_id}): shares its key with another agreement; "
                                 "each recipient needs its own, or their files could be joined")
        found[agreement_id] = Agreement(agreement_id, recipient, tuple(fields), bool(table.get("fee_details")), key)
    return found


def pseudonym(agreement: Agreement, kind: str, value: str) -> str:
    return hmac.new(agreement.key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]


def settlement_rows(agreement: Agreement, rows: Iterable[Row]) -> list[dict[str, object]]:
    return [{"person": pseudonym(agreement, "person", ledger.record.psn_no),
             "settlement": pseudonym(agreement, "settlement", ledger.record.setl_id),
             **{name: FIELDS[name][1]((ledger, person, stay)) for name in agreement.fields}}
            for ledger, person, stay in rows]


def fee_rows(agreement: Agreement, lines: Iterable[tuple[str, StoredFeeLine]]) -> list[dict[str, object]]:
    """(setl_id, line) pairs → the agreed fee-detail rows."""
    return [{"settlement": pseudonym(agreement, "settlement", setl_id), "med_list_codg": line.med_list_codg,
             "med_chrgitm_type": line.med_chrgitm_type, "chrgitm_lv": line.chrgitm_lv, "cnt": line.cnt,
             "pric": line.pric, "det_item_fee_sumamt": line.amounts.det_item_fee_sumamt}
            for setl_id, line in lines]


def _csv(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([str(row[c]) if isinstance(row[c], Decimal) else row[c] for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def package(agreement: Agreement, period_label: str, settlements: list[dict[str, object]],
            fees: list[dict[str, object]] | None) -> tuple[bytes, dict[str, Any]]:
    """A zip of settlements.csv (and fee_lines.csv) with a manifest; returns it and the manifest."""
    members = {"settlements.csv": _csv(["person", "settlement", *agreement.fields], settlements)}
    if fees is not None:
        members["fee_lines.csv"] = _csv(FEE_FIELDS, fees)
    manifest: dict[str, Any] = {
        "agreement": agreement.agreement_id, "recipient": agreement.recipient, "period": period_label,
        "fields": ["person", "settlement", *agreement.fields], "fee_details": fees is not None,
        "pseudonyms": "HMAC-SHA256 under this agreement's key, first 24 hex digits",
        "members": {name: {"rows": data.count(b"\r\n") - 1, "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in members.items()},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue(), manifest

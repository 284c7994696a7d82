"""The referral accumulator record (转诊累计记录) and its signature. Pure: values in, values out.

The NCMS pilot (2018) asks that a referral carry the year's 累计合规费用, 新农合累计补偿 and 大病保险累计补偿 so
that the receiving county settles critical illness on the right base. The record carries them as the issuing
gateway's own settlements add them up (never figures it imported itself, so two gateways that exchange records
never count a stay twice), plus the critical-illness base the engine accumulates (合规自付 = 合规费用 − 基本补偿).

Signature: HMAC-SHA256 with the key the two gateways share (one key per partner, [partners.<id>] key in the
referral partners file), over the record's canonical JSON: every field but `sign`, keys sorted, no spaces,
UTF-8. Hex in `sign`; `sign_type` says the algorithm.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal, InvalidOperation

from gateway.errors import ReferralRecordRejected

RECORD_TYPE = "hisgw-referral-accumulators"
SIGN_TYPE = "HMAC-SHA256"
MAX_RECORD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AccumulatorRecord:
    issuer: str  # the issuing gateway's id (its county's admdvs, as the partners file names it)
    audience: str  # the partner gateway it is issued to
    issued_at: str  # ISO time; a later record replaces an earlier one
    trt_dcla_detl_sn: str  # the 2501 referral it belongs to
    refl_stas: str  # 1 valid, 0 the referral was cancelled (2502): the receiver drops what it held
    psn_no: str  # at the issuer
    certno: str  # ID number: how the receiving gateway finds its own person record
    insutype: str
    year: int
    reflin_medins_name: str
    dise_codg: str
    dise_name: str
    begndate: str
    enddate: str
    cum_cmpl_fee: Decimal  # 本年累计合规费用 (Σ 政策范围内费用 of the issuer's valid settlements)
    cum_basic_pay: Decimal  # 新农合(基本医保)累计补偿
    cum_crit_pay: Decimal  # 大病保险累计补偿
    cum_crit_base: Decimal  # 大病累计合规自付 (the critical-illness base)
    setl_cnt: int  # how many valid settlements the figures add up
    seq: int  # the issuer's sequence for this audience: each record issued takes the next; the receiver refuses
    # one lower than it has accepted for the person and year (a replay), whatever the clocks say
    rec_type: str = RECORD_TYPE
    sign_type: str = SIGN_TYPE
    sign: str = ""


_MONEY = ("cum_cmpl_fee", "cum_basic_pay", "cum_crit_pay", "cum_crit_base")


def canonical(record: AccumulatorRecord) -> bytes:
    body = {key: value for key, value in _plain(record).items() if key != "sign"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signed(record: AccumulatorRecord, key: bytes) -> AccumulatorRecord:
    return replace(record, sign=hmac.new(key, canonical(record), hashlib.sha256).hexdigest())


def signature_ok(record: AccumulatorRecord, key: bytes) -> bool:
    expected = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, record.sign)


def to_json(record: AccumulatorRecord) -> bytes:
    return json.dumps(_plain(record), ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def from_json(data: bytes) -> AccumulatorRecord:
    """Parse a record; anything malformed is refused with HG3050, never a crash."""
    if len(data) > MAX_RECORD_BYTES:
        raise ReferralRecordRejected(f"记录超过 {MAX_RECORD_BYTES} 字节")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferralRecordRejected(f"不是 UTF-8 JSON: {exc.__class__.__name__}") from None
    if not isinstance(doc, dict) or doc.get("rec_type") != RECORD_TYPE:
        raise ReferralRecordRejected(f"rec_type 应为 {RECORD_TYPE}")
    if doc.get("sign_type") != SIGN_TYPE:
        raise ReferralRecordRejected(f"sign_type 应为 {SIGN_TYPE}", field="sign_type")
    values: dict[str, object] = {}
    for item in fields(AccumulatorRecord):
        if item.name not in doc:
            raise ReferralRecordRejected("缺少字段", field=item.name)
        value = doc[item.name]
        if item.name in _MONEY:
            values[item.name] = _money(value, item.name)
        elif item.name in ("year", "setl_cnt", "seq"):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9999_9999:
                raise ReferralRecordRejected("应为整数", field=item.name)
            values[item.name] = value
        else:
            if not isinstance(value, str) or len(value) > 200:
                raise ReferralRecordRejected("应为字符串", field=item.name)
            values[item.name] = value
    if values["refl_stas"] not in ("0", "1"):
        raise ReferralRecordRejected("应为 0 或 1", field="refl_stas")
    return AccumulatorRecord(**values)  # type: ignore[arg-type]


def _money(value: object, name: str) -> Decimal:
    if not isinstance(value, str):
        raise ReferralRecordRejected("金额以字符串书写（如 \"1234.50\"）", field=name)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ReferralRecordRejected("金额不合法", field=name) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 10**9:
        raise ReferralRecordRejected("金额须为非负、到分", field=name)
    return amount.quantize(Decimal("0.01"))


def _plain(record: AccumulatorRecord) -> dict[str, object]:
    doc = asdict(record)
    for name in _MONEY:
        doc[name] = f"{doc[name]:.2f}"
    return doc

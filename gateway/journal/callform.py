"""What the journal keeps of a canonical call and its answer: a compact JSON form, search keys, and the
names of the people they are about (so masking finds a name wherever a dialect put it). Pure functions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from gateway.canonical import answers as a
from gateway.canonical.calls import Call, Transaction
from gateway.county.sheet.model import HunanSheet
from gateway.journal.model import Keys
from gateway.log import NAME_KEYS


@cache
def _fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


_AS_IS = frozenset({str, int, bool, type(None)})


def plain(value: Any) -> Any:
    """A frozen dataclass tree as JSON-ready values: amounts as exact strings, times in ISO form.

    Faster than dataclasses.asdict, which deep-copies: a 2301 carries up to 10,000 lines."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return str(value)
    if kind is datetime:
        return value.isoformat(sep=" ")
    if kind is tuple or kind is list:
        return [plain(item) for item in value]
    if dataclasses.is_dataclass(kind):
        return {name: plain(getattr(value, name)) for name in _fields(kind)}
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclasses.dataclass(frozen=True, slots=True)
class CallForm:
    json: bytes  # the canonical call as the journal keeps it
    digest: str  # what makes two calls "the same request" (idempotency): the body, not the envelope's clock


def call_form(call: Call) -> CallForm:
    """Serialized once for both uses: a 2301 of many lines is costly to walk twice."""
    body = json.dumps(plain(call.body), ensure_ascii=False, separators=(",", ":"))
    head = json.dumps({"call": type(call.body).__name__, "context": plain(call.context)}, ensure_ascii=False,
                      separators=(",", ":"))
    text = f'{head[:-1]},"body":{body}}}'
    return CallForm(text.encode("utf-8"), hashlib.sha256(body.encode("utf-8")).hexdigest())


def call_json(call: Call) -> bytes:
    return call_form(call).json


def call_keys(body: Transaction) -> Keys:
    return Keys(str(getattr(body, "psn_no", "") or ""), str(getattr(body, "mdtrt_id", "") or ""),
                str(getattr(body, "setl_id", "") or ""))


def answer_keys(answer: a.Answer) -> Keys:
    """The records an answer names. A reversal is filed under the settlement it reverses (what the call named)."""
    match answer:
        case a.SettlementAnswer():
            return Keys(answer.person.psn_no, answer.mdtrt_id, answer.setl_id)
        case a.ReversalAnswer():
            return Keys(answer.person.psn_no, answer.mdtrt_id, answer.reversed_setl_id)
        case a.AdmissionAnswer() | a.VisitAnswer():
            return Keys(answer.psn_no, answer.mdtrt_id)
        case a.RecognitionAnswer():
            return Keys(answer.psn_no)
        case a.PersonAnswer():
            return Keys(answer.person.psn_no)
        case a.AccumulatorAnswer():
            return Keys(answer.psn_no)
        case a.CorrectionAnswer() | a.MessageAnswer():
            return Keys(answer.psn_no, answer.mdtrt_id, answer.setl_id)
        case a.SheetAnswer():
            return Keys(answer.psn_no, answer.sheet.mdtrt_id, answer.sheet.setl_id)
        case a.Done():
            return Keys(mdtrt_id=answer.mdtrt_id)
    return Keys()


def answer_names(answer: a.Answer) -> set[str]:
    match answer:
        case a.SettlementAnswer() | a.ReversalAnswer() | a.PersonAnswer():
            return {answer.person.psn_name}
        case a.SheetAnswer():
            return {answer.sheet.patient.name if isinstance(answer.sheet, HunanSheet) else answer.sheet.patient_name}
    return set()


def document_names(document: object) -> tuple[str, ...]:
    """Every value under a name key (psn_name, coner_name, …) anywhere in a national document."""
    return tuple(sorted(set(_names(document))))


def _names(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in NAME_KEYS and isinstance(value, str) and value.strip():
                yield value.strip()
            else:
                yield from _names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _names(item)

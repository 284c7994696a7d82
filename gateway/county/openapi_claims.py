"""The claims, special-account and 附件4 operations of /county/v1/openapi.json (gateway/county/openapi.py)."""

from __future__ import annotations

from typing import Any

from gateway.county.account import SOURCES
from gateway.county.annex4_render import FORMATS
from gateway.county.claims import REASONS, STEP_ACTIONS, STEP_NAMES, ClaimState, Step


def section() -> dict[str, Any]:
    from gateway.county.openapi import _DATE, _ERROR, _TEXT, _json_body, _ok, _op, _path, _query

    month = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-03"}
    period = [_query("month", month, "YYYY-MM (or since and until)"), _query("since", _DATE, "inclusive"),
              _query("until", {**_DATE, "example": "2026-03-31"}, "inclusive")]
    claim_id = _path("claim_id", {"type": "integer", "minimum": 1, "maximum": 999999, "example": 1})
    line_no = _path("line_no", {"type": "integer", "minimum": 1, "maximum": 999999, "example": 1})
    note = {"type": "string", "maxLength": 500}
    step_body = _json_body({"type": "object", "properties": {
        "note": note, "accept_rest": {"type": "boolean", "description": "初审: accept every undecided line"},
        "paid_on": _DATE, "amount": {"type": "string", "example": "1234.50"},
        "reference": {"type": "string", "maxLength": 64}}}, required=False)
    steps = {f"/county/v1/claims/{{claim_id}}/{done.value.replace('_', '-')}": {"post": _op(
        STEP_ACTIONS[done], f"{STEP_NAMES[done]} ({done.value})", {
            "200": _ok("the claim after the step (replayed: the step was already done)"), "404": _ERROR,
            "409": _ERROR}, params=[claim_id], body=step_body)} for done in Step}
    return {
        "/county/v1/claims": {
            "post": _op("claims.submit", "Submit a hospital's claim for a month (none named: the last one) "
                        "or since/until; the same period again answers that claim", {
                "201": _ok("the claim and its lines"), "200": _ok("the claim already made"), "404": _ERROR,
                "409": _ERROR}, body=_json_body({"type": "object", "required": ["fixmedins_code"], "properties": {
                    "fixmedins_code": {**_TEXT, "example": "T2", "description": "the hospital, or AGENCY: the agency "
                                      "window's own settlements (paid to the patients)"},
                    "month": month, "since": _DATE, "until": _DATE}})),
            "get": _op("claims.read", "List claims, newest first", {"200": _ok("claims")}, params=[
                _query("fixmedins_code", {**_TEXT, "example": "T2"}),
                _query("state", {"type": "string", "enum": [s.value for s in ClaimState]}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
        },
        "/county/v1/claims/{claim_id}": {"get": _op("claims.read", "A claim, its lines, decisions and steps", {
            "200": _ok("the claim"), "404": _ERROR}, params=[claim_id])},
        "/county/v1/claims/{claim_id}/lines/{line_no}/decision": {"post": _op(
            "claims.review", "初审: accept a line, or refuse it (whole, or some funds) with a reason code", {
                "200": _ok("the line"), "404": _ERROR, "409": _ERROR}, params=[claim_id, line_no],
            body=_json_body({"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["accept", "refuse"]},
                "reason": {"type": "string", "enum": list(REASONS)},
                "funds": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 10},
                "note": note}}))},
        "/county/v1/claims/{claim_id}/lines/{line_no}/explanation": {"post": _op(
            "claims.explain", "The hospital's explanation of a refused line: claimed again in its next claim", {
                "200": _ok("the line"), "404": _ERROR, "409": _ERROR}, params=[claim_id, line_no],
            body=_json_body({"type": "object", "required": ["note"], "properties": {"note": note}}))},
        **steps,
        "/county/v1/account": {"get": _op(
            "account.read", "The special account (一站式专户): opening balance, entries with the running balance, "
            "receipts by source, payments, closing balance", {"200": _ok("the statement")}, params=period)},
        "/county/v1/account/receipts": {"post": _op(
            "account.receive", "Record a receipt into the special account", {"201": _ok("the entry")},
            body=_json_body({"type": "object", "required": ["source", "amount", "received_on"], "properties": {
                "source": {"type": "string", "enum": list(SOURCES)},
                "amount": {"type": "string", "example": "500000.00"}, "received_on": _DATE,
                "reference": {"type": "string", "maxLength": 64}, "note": note}}))},
        "/county/v1/reports/annex4": {"get": _op(
            "account.read", '附件4 湖南省城乡居民"一站式"结算资金收支财务清算表', {"200": {
                "description": "the table", "content": {media.split(";")[0]: {"schema": {"type": "string"}}
                                                        for media in FORMATS.values()}}},
            params=[*period, _query("format", {"type": "string", "enum": list(FORMATS)}),
                    _query("unit_name", {"type": "string", "maxLength": 64}, "机构名称")])},
    }

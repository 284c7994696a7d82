"""The county API's OpenAPI 3 document, served at /county/v1/openapi.json.

Kept true by tests/test_county_openapi.py, which runs schemathesis against a running gateway: every operation
here is called with generated input and must never answer 500.
"""

from __future__ import annotations

from typing import Any

from gateway.county.roles import ACTIONS

_ERROR = {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_DATE = {"type": "string", "format": "date", "example": "2026-07-01"}


def _ok(description: str, schema: dict[str, Any] | None = None, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema or {"type": "object"}}}}


def _op(action: str, summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"{ACTIONS[action][0]}（权限 `{action}`）",
        "x-hisgw-action": action,
        "parameters": params or [],
        "responses": {**responses, "400": _ERROR, "401": _ERROR, "403": _ERROR},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _query(name: str, schema: dict[str, Any], description: str = "", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_TEXT = {"type": "string", "maxLength": 64}
_AUDIT = {
    "/county/v1/audit": {"get": _op("audit.read", "Search the audit trail (newest first)", {
        "200": _ok("entries", {"type": "object", "properties": {
            "code": {"type": "integer"}, "count": {"type": "integer"},
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}}),
    }, params=[
        _query("operator", _TEXT), _query("action", _TEXT, "exact, or a prefix ending in '.' (policy.)"),
        _query("subject", _TEXT, "policy:3, import:7, refdata:persons"), _query("request_id", _TEXT),
        _query("since", {"type": "string", "example": "2026-07-01"}, "YYYY-MM-DD[ HH:MM[:SS]], inclusive"),
        _query("until", {"type": "string", "example": "2026-07-31"}, "exclusive; a bare date: through that day"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ])},
}

_TOML = {"required": True, "content": {"text/plain": {"schema": {"type": "string", "maxLength": 4000}}}}
_VERSION = _path("version", {"type": "integer", "minimum": 1, "maximum": 999999, "example": 1})
_MISTAKES = {"type": "object", "properties": {
    "ok": {"type": "boolean"}, "mistakes": {"type": "array", "items": {"$ref": "#/components/schemas/Mistake"}}}}
_POLICIES = {
    "/county/v1/policies": {
        "get": _op("policy.read", "List the versions in force and every stored version", {"200": _ok("versions")}),
        "post": _op("policy.draft", "Upload a draft (TOML, the format of gateway/data/demo/policy.toml)",
                    {"201": _ok("the draft's number and its mistakes", _MISTAKES)}, body=_TOML),
    },
    "/county/v1/policies/check": {"post": _op("policy.read", "Check a TOML text without storing it",
                                              {"200": _ok("mistakes, each with its line", _MISTAKES)}, body=_TOML)},
    "/county/v1/policies/compare": {"get": _op("policy.read", "Compare two versions field by field", {
        "200": _ok("changed fields with both values"), "404": _ERROR, "422": _ERROR,
    }, params=[_query("a", {**_TEXT, "example": "demo-county@2018-01-01"}, "a version number, or a policy_id in force",
                      True),
               _query("b", {**_TEXT, "example": "1"}, "a version number, or a policy_id in force", True)])},
    "/county/v1/policies/{version}": {"get": _op("policy.read", "A stored version and its TOML text", {
        "200": _ok("the version"), "404": _ERROR,
    }, params=[_VERSION, _query("format", {"type": "string", "enum": ["json", "toml"]})])},
    "/county/v1/policies/{version}/check": {"get": _op("policy.read", "Check a stored version", {
        "200": _ok("mistakes, each with its line", _MISTAKES), "404": _ERROR}, params=[_VERSION])},
    "/county/v1/policies/{version}/whatif": {"post": _op(
        "policy.read", "Replay the real settlements of a period under a version (read-only)", {
            "200": _ok("per fund the cost difference, persons and stays affected; the ten largest changes"),
            "404": _ERROR, "422": _ERROR,
        }, params=[_path("version", {**_TEXT, "example": "1"})], body=_json_body({
            "type": "object", "required": ["since", "until"],
            "properties": {"since": _DATE, "until": {**_DATE, "example": "2026-12-31"}}}))},
    "/county/v1/policies/{version}/publish": {"post": _op(
        "policy.publish", "Publish a checked draft with its effective date (not by its uploader)", {
            "200": _ok("the published policy_id"), "404": _ERROR, "409": _ERROR, "422": _ERROR,
        }, params=[_VERSION], body=_json_body({
            "type": "object", "properties": {"effective_from": _DATE}}))},
}

_IMPORT_ID = _path("import_id", {"type": "integer", "minimum": 1, "maximum": 999999, "example": 1})
_DECISION = _json_body({"type": "object", "properties": {
    "rows": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 50,
             "description": "diff row ids to apply (default: every new, changed and removed row)"},
    "note": {"type": "string", "maxLength": 500}}})
_IDENTITIES = {
    "/county/v1/identities/imports": {
        "post": _op("identities.upload", "Upload a 扶贫办/民政/残联 list (CSV in GBK or UTF-8, or .xlsx); "
                    "answers its diff against the registry, changing nothing", {
                        "201": _ok("the import's id and its rows per kind")},
                    params=[_query("source", {"type": "string", "enum": ["fupin", "minzheng", "canlian",
                                                                         "扶贫办", "民政", "残联"]}, "", True),
                            _query("as_of", _DATE, "the list's date: attributes change from this day"),
                            _query("filename", {"type": "string", "maxLength": 64, "example": "list.csv"})],
                    body={"required": True, "content": {"application/octet-stream": {
                        "schema": {"type": "string", "format": "binary"}}}}),
        "get": _op("identities.read", "List imports, newest first", {"200": _ok("imports")},
                   params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
    },
    "/county/v1/identities/imports/{import_id}": {"get": _op(
        "identities.read", "An import and its diff rows (each with its kind and reason)", {
            "200": _ok("the import"), "404": _ERROR},
        params=[_IMPORT_ID, _query("kind", {"type": "string", "enum": ["new", "removed", "changed", "conflicting",
                                                                        "invalid", "unknown", "unchanged",
                                                                        "duplicate"]}),
                _query("offset", {"type": "integer", "minimum": 0}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000})])},
    "/county/v1/identities/imports/{import_id}/apply": {"post": _op(
        "identities.apply", "Apply a pending diff, whole or the chosen rows (not by its uploader)", {
            "200": _ok("applied"), "404": _ERROR, "409": _ERROR}, params=[_IMPORT_ID], body=_DECISION)},
    "/county/v1/identities/imports/{import_id}/refuse": {"post": _op(
        "identities.refuse", "Refuse a pending list (not by its uploader)", {
            "200": _ok("refused"), "404": _ERROR, "409": _ERROR}, params=[_IMPORT_ID], body=_DECISION)},
    "/county/v1/identities/persons/{psn_no}/history": {"get": _op(
        "identities.read", "A person's attributes now and their history (valid from / to)", {
            "200": _ok("history"), "404": _ERROR}, params=[_path("psn_no", {**_TEXT, "example": "TP0001"})])},
    "/county/v1/coverage": {"get": _op(
        "coverage.read", "应保尽保、未保有因: the poor on the lists not insured, without and with a reason (附件2)", {
            "200": {"description": "the comparison", "content": {
                "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}},
        params=[_query("month", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-07"}),
                _query("format", {"type": "string", "enum": ["json", "csv"]})])},
}

_AMOUNT = {"type": "number", "minimum": 0, "maximum": 99999999, "multipleOf": 0.01, "example": 1000.00}
_REQUEST_ID = {"name": "X-Request-Id", "in": "header", "required": True, "description": "the client's id of this "
               "request: a retry under it gets the first answer and settles nothing twice",
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$", "example": "win-20260701-0001"}}
_SETL_ID = _path("setl_id", {**_TEXT, "example": "202607010000000001"})
_ENTRY = {"type": "object", "required": ["mode", "psn_no", "fixmedins_code", "begndate", "enddate", "lines"],
          "properties": {
              "mode": {"type": "string", "enum": ["basic_settled", "self_paid"],
                       "description": "basic_settled: 已结算基本医保 (hifp_pay required); self_paid: 全自费出院"},
              "psn_no": {**_TEXT, "example": "TP0001"}, "fixmedins_code": {**_TEXT, "example": "TX"},
              "fixmedins_name": {**_TEXT, "description": "required for a hospital not in the registry"},
              "hosp_lv": {"type": "integer", "enum": [1, 2, 3]}, "admdvs": _TEXT,
              "begndate": _DATE, "enddate": _DATE, "ipt_no": _TEXT, "invoice_no": _TEXT,
              "medfee_sumamt": _AMOUNT, "hifp_pay": _AMOUNT, "act_pay_dedc": _AMOUNT,
              "dise_codg": _TEXT, "dise_name": _TEXT,
              "lines": {"type": "array", "minItems": 1, "maxItems": 200, "items": {
                  "type": "object", "required": ["det_item_fee_sumamt"], "properties": {
                      "med_list_codg": _TEXT, "med_list_name": _TEXT,
                      "med_chrgitm_type": {"type": "string", "example": "09"},
                      "chrgitm_lv": {"type": "string", "enum": ["01", "02", "03"]},
                      "det_item_fee_sumamt": _AMOUNT, "cnt": {"type": "number", "minimum": 0.0001},
                      "pric": {"type": "number", "minimum": 0},
                      "selfpay_prop": {"type": "number", "minimum": 0, "maximum": 1},
                      "preselfpay_amt": _AMOUNT}}}}}
_SETTLED = _ok("the settlement: setlinfo and setldetail with the national field names, sheet_url")
_FUNDS = {"type": "object", "additionalProperties": {"type": "string", "example": "3350.00"}}
_LISTED = {"type": "object", "properties": {
    "code": {"type": "integer"}, "since": _DATE, "until": _DATE, "status": {"type": "string"},
    "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
    "settlements": {"type": "array", "items": {"type": "object", "properties": {
        "setl_id": _TEXT, "mode": {"type": "string", "enum": ["basic_settled", "self_paid"]}, "mode_name": _TEXT,
        "psn_no": _TEXT, "psn_name": {"type": "string", "description": "masked: 张*"},
        "certno": {"type": "string", "description": "masked: 430521********013X"},
        "fixmedins_code": _TEXT, "begndate": _DATE, "enddate": _DATE, "setl_time": {"type": "string"},
        "status": {"type": "string", "enum": ["valid", "reversed"]}, "medfee_sumamt": {"type": "string"},
        "paid_here": {**_FUNDS, "description": "by fund: through 专户, claimed by AGENCY and paid to the patient"},
        "paid_here_total": {"type": "string"},
        "paid_elsewhere": {**_FUNDS, "description": "basic paid by the out-of-county hospital (basic_settled)"},
        "psn_part_amt": {"type": "string"}, "operator": _TEXT,
        "claim_id": {"type": "integer", "nullable": True, "description": "the AGENCY claim holding it"}}}}}}
_AGENCY = {
    "/county/v1/agency/settlements": {"post": _op(
        "agency.settle", "Settle an out-of-county stay at the agency window (Hunan 三(二)3)", {
            "200": _SETTLED, "404": _ERROR, "409": _ERROR}, params=[_REQUEST_ID], body=_json_body(_ENTRY)),
        "get": _op("agency.read", "List the window settlements booked in a period (none named: this month), oldest "
                   "first, paged; names and ID numbers masked", {"200": _ok("settlements", _LISTED)}, params=[
                       _query("month", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-05"},
                              "YYYY-MM (or since and until)"),
                       _query("since", _DATE, "inclusive"), _query("until", {**_DATE, "example": "2026-07-31"},
                                                                   "inclusive"),
                       _query("status", {"type": "string", "enum": ["valid", "reversed"]}),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                       _query("offset", {"type": "integer", "minimum": 0, "maximum": 99999999})])},
    "/county/v1/agency/settlements/{setl_id}": {"get": _op(
        "agency.read", "A window settlement", {"200": _SETTLED, "404": _ERROR}, params=[_SETL_ID])},
    "/county/v1/agency/settlements/{setl_id}/reverse": {"post": _op(
        "agency.reverse", "Reverse a window settlement (every accumulator loses what it added)", {
            "200": _ok("the reversal, amounts negated"), "404": _ERROR, "409": _ERROR},
        params=[_SETL_ID, _REQUEST_ID])},
}

_MONTH = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-03"}
_REPORT_MEDIA = ("application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "text/html", "application/pdf")
_REPORTS = {
    "/county/v1/reports/annex5": {"get": _op(
        "reports.read", '附件5 湖南省城乡居民"一站式"就医结算统计表 for a month or a period (35 numbered columns)', {
            "200": {"description": "the table in the asked format", "content": {
                media: {"schema": {"type": "string" if media != "application/json" else "object"}}
                for media in _REPORT_MEDIA}}},
        params=[_query("month", _MONTH, "YYYY-MM (or since and until)"), _query("since", _DATE, "inclusive"),
                _query("until", {**_DATE, "example": "2026-03-31"}, "inclusive"),
                _query("format", {"type": "string", "enum": ["json", "csv", "xlsx", "html", "pdf"]}),
                _query("unit", {"type": "string", "enum": ["wan", "yuan"]}, "万元 (default) or 元"),
                _query("unit_name", _TEXT, "填报单位")])},
}

_AMOUNT_TEXT = {"type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$", "example": "1234.56"}
_STAY_ID = _path("mdtrt_id", {**_TEXT, "example": "202603010000000001"})
_SEED_RULES = {  # Gannan 先诊疗后付费, the 90% rule's exception, Heyuan's funding (README)
    "/county/v1/arrears": {
        "get": _op("arrears.read", "The register of malicious defaulters (恶意拖欠)", {"200": _ok("the register")},
                   params=[_query("psn_no", _TEXT), _query("open", {"type": "string", "enum": ["0", "1"]})]),
        "post": _op("arrears.record", "Record a hospital's report: the zero-deposit privilege ends everywhere", {
            "201": _ok("recorded"), "404": _ERROR, "409": _ERROR}, body=_json_body({
                "type": "object", "required": ["mdtrt_id", "owed_amt", "reported_on"], "properties": {
                    "mdtrt_id": _TEXT, "owed_amt": _AMOUNT_TEXT, "reported_on": _DATE}})),
    },
    "/county/v1/arrears/{arrears_id}/payments": {"post": _op(
        "arrears.pay", "Record a repayment; paid in full, the privilege comes back", {
            "200": _ok("recorded"), "404": _ERROR, "409": _ERROR},
        params=[_path("arrears_id", {**_TEXT, "example": "QF20260402000001"})], body=_json_body({
            "type": "object", "required": ["amount", "paid_on"], "properties": {
                "amount": _AMOUNT_TEXT, "paid_on": _DATE}}))},
    "/county/v1/referrals/overdue": {"get": _op(
        "arrears.read", "Stays discharged as 转院 over 3 days ago and not settled", {"200": _ok("the stays")})},
    "/county/v1/catalogue-exceptions": {
        "get": _op("policy.read", "Requests for an exception to the 90% catalogue rule", {"200": _ok("requests")},
                   params=[_query("status", {"type": "string", "enum": ["requested", "approved", "refused"]})]),
        "post": _op("catalogue_exception.request", "Record a hospital's request for one open stay", {
            "201": _ok("recorded"), "404": _ERROR, "409": _ERROR}, body=_json_body({
                "type": "object", "required": ["mdtrt_id", "reason"], "properties": {
                    "mdtrt_id": _TEXT, "reason": {"type": "string", "maxLength": 500}}})),
    },
    "/county/v1/catalogue-exceptions/{mdtrt_id}/approve": {"post": _op(
        "catalogue_exception.decide", "Approve (not by the requester): the excess goes to the backstop", {
            "200": _ok("approved"), "404": _ERROR, "409": _ERROR}, params=[_STAY_ID])},
    "/county/v1/catalogue-exceptions/{mdtrt_id}/refuse": {"post": _op(
        "catalogue_exception.decide", "Refuse (not by the requester)", {
            "200": _ok("refused"), "404": _ERROR, "409": _ERROR}, params=[_STAY_ID])},
    "/county/v1/reports/funding": {"get": _op(
        "status.read", "Heyuan: the assistance prepayment and the 扶贫保险 clearing account", {"200": _ok("figures")},
        params=[_query("year", {"type": "integer", "minimum": 2000, "maximum": 2100})])},
}

SECTIONS: list[dict[str, Any]] = [_AUDIT, _POLICIES, _IDENTITIES, _REPORTS, _AGENCY, _SEED_RULES]

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["code", "message"],
              "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
    "Mistake": {"type": "object", "properties": {
        "line": {"type": "integer", "nullable": True}, "where": {"type": "string"}, "problem": {"type": "string"}}},
    "AuditEntry": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": {"type": "string"}, "operator": {"type": "string"},
        "role": {"type": "string"}, "action": {"type": "string"}, "subject": {"type": "string"},
        "before": {}, "after": {}, "request_id": {"type": "string"}}},
}


def openapi() -> dict[str, Any]:
    from gateway.county.openapi_claims import section as claims_section

    paths: dict[str, Any] = {}
    for section in [*SECTIONS, claims_section()]:
        paths.update(section)
    return {
        "openapi": "3.0.3",
        "info": {"title": "hisgw county API (县级医保经办)", "version": "1",
                 "description": "Policy versions (政策维护), identity lists (身份标识), the monthly coverage "
                                "comparison (应保尽保、未保有因), claims (申报 → 初审 → 复审 → 拒付 → 结算 → 拨付), "
                                "the special account, 附件4, and the audit trail. Who may call what: "
                                "gateway/county/roles.py (README, county section)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _SCHEMAS},
    }

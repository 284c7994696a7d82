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

SECTIONS: list[dict[str, Any]] = [_AUDIT]

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["code", "message"],
              "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
    "AuditEntry": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": {"type": "string"}, "operator": {"type": "string"},
        "role": {"type": "string"}, "action": {"type": "string"}, "subject": {"type": "string"},
        "before": {}, "after": {}, "request_id": {"type": "string"}}},
}


def openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for section in SECTIONS:
        paths.update(section)
    return {
        "openapi": "3.0.3",
        "info": {"title": "hisgw county API (县级医保经办)", "version": "1",
                 "description": "Policy versions (政策维护), identity lists (身份标识), the monthly coverage "
                                "comparison (应保尽保、未保有因) and the audit trail. Who may call what: "
                                "gateway/county/roles.py (README, county section)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _SCHEMAS},
    }

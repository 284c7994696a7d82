"""The agency's cancellation of a chronic-disease recognition is a county write like any other: on the audit trail
(who, role, action, subject, the recognition before and after, the request id), allowed to the roles the table
gives it, and an attempt by any other role refused and on the record too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.county_support import county_gateway
from tests.support import PERSONS, Served, ok
from tests.test_outpatient import recognise


async def call(served: Served, method: str, path: str, who: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    headers = {"X-Operator": who, **kwargs.pop("headers", {})}
    async with served.session.request(method, f"{served.url}/county/v1/{path}", headers=headers,
                                      **kwargs) as response:
        return response.status, await response.json()


async def test_a_cancellation_is_on_the_audit_trail_with_before_and_after(served: Served) -> None:
    person = PERSONS["poor3"]
    recog_id = ok(await recognise(served, person))["result"]["trt_dcla_detl_sn"]
    subject = f"chronic-recognition/{recog_id}"
    status, body = await call(served, "POST", f"chronic/recognitions/{recog_id}/cancel", "shenhe1",
                              json={"reason": "复核不符合认定条件"}, headers={"X-Request-Id": "req-cancel-1"})
    assert status == 200 and body["recognition"]["status"] == "cancelled", body
    assert body["recognition"]["cancelled_by"] == "shenhe1"

    status, trail = await call(served, "GET", f"audit?subject={subject}", "duzhe1")
    assert status == 200
    [entry] = trail["entries"]
    assert (entry["operator"], entry["action"], entry["request_id"]) == ("shenhe1", "chronic.cancel", "req-cancel-1")
    before, after = entry["before"], entry["after"]
    assert (before["recog_id"], before["status"], before["cancel_reason"]) == (recog_id, "active", None)
    assert (after["status"], after["cancel_reason"], after["cancelled_by"]) == (
        "cancelled", "复核不符合认定条件", "shenhe1")
    assert after["psn_no"] == person.psn_no and after["dise_codg"] == "I10" and after["psn_name"] == ""

    # cancelled again: the state wanted, nothing written, nothing more on the trail
    status, again = await call(served, "POST", f"chronic/recognitions/{recog_id}/cancel", "shenhe2",
                               json={"reason": "再次"})
    assert status == 200 and again["recognition"]["cancelled_by"] == "shenhe1"
    status, trail = await call(served, "GET", f"audit?subject={subject}", "duzhe1")
    assert len(trail["entries"]) == 1
    # bad input: a clear 400, not a 500, and no entry
    status, bad = await call(served, "POST", f"chronic/recognitions/{recog_id}/cancel", "shenhe1", data=b"{")
    assert status == 400 and bad["code"] == "HG1001"


async def test_only_the_roles_of_the_table_cancel_and_refusals_are_recorded(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        path = "/county/v1/chronic/recognitions/MB0/cancel"
        for who in ("jingban1", "caiwu1", "duzhe1", "fuhe1"):
            status, body = await county.call("POST", path, who, json={"reason": "x"})
            assert status == 403 and body["code"] == "HG4004", (who, body)
        for who in ("shenhe1", "guanli1"):
            status, body = await county.call("POST", path, who, json={"reason": "x"})
            assert status == 404, (who, body)  # allowed; there is no such recognition
        status, body = await county.call("GET", "/county/v1/audit?action=chronic.cancel", "duzhe1")
        assert sorted(e["operator"] for e in body["entries"]) == ["caiwu1", "duzhe1", "fuhe1", "jingban1"]
        assert all(e["after"]["refused"] for e in body["entries"])

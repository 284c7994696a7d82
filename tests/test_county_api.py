"""The county API: roles from the credentials file, the audit trail, the OpenAPI document kept true by schemathesis."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest

from gateway.county.roles import ACTIONS, roles_table
from gateway.engine.policy import default_policy_path
from tests.county_support import county_gateway

README = Path(__file__).resolve().parent.parent / "README.md"
DEFAULT_POLICY = default_policy_path()


def test_the_readme_shows_the_permission_table_as_the_code_has_it() -> None:
    assert roles_table() in README.read_text(encoding="utf-8")


async def test_roles_decide_and_every_write_is_audited(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        rows = {"data": [{"fixmedins_code": "T9", "fixmedins_name": "新卫生院", "hosp_lv": 1, "admdvs": "430521"}]}
        async with county.session.post(f"{county.url}/county/v1/audit") as reply:
            assert reply.status in (401, 405)
        async with county.session.get(f"{county.url}/county/v1/audit") as reply:
            assert reply.status == 401
        status, body = await county.call("POST", "/county/v1/hospitals", "duzhe1", json=rows)
        assert status == 403
        status, body = await county.call("POST", "/county/v1/hospitals", "guanli1", json=rows,
                                         headers={"X-Request-Id": "req-hosp-1"})
        assert status == 200, body
        status, body = await county.call("GET", "/county/v1/audit?action=refdata.import&subject=refdata:hospitals",
                                         "duzhe1")
        assert status == 200
        newest = body["entries"][0]
        assert (newest["operator"], newest["role"], newest["request_id"]) == ("guanli1", "admin", "req-hosp-1")
        assert newest["after"] == {"rows": 1}
        # four imports at start-up (hospitals, catalogue, persons) plus this one, newest first
        status, body = await county.call("GET", "/county/v1/audit?action=refdata.", "caiwu1")
        assert [e["subject"] for e in body["entries"]] == ["refdata:hospitals", "refdata:persons",
                                                             "refdata:catalogue", "refdata:hospitals"]
        status, body = await county.call("GET", "/county/v1/audit?limit=0", "duzhe1")
        assert status == 400
        db = county.gateway.deps.store.path  # type: ignore[attr-defined]
    with sqlite3.connect(db) as conn:  # the trail refuses to be rewritten, whoever holds the file
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE county_audit SET operator = 'someone'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM county_audit")


async def test_every_documented_operation_never_answers_500(tmp_path: Path) -> None:
    """schemathesis generates input for every operation of /county/v1/openapi.json (a few examples each)."""
    async with county_gateway(tmp_path, signed=False) as county:
        status, document = await county.call("GET", "/county/v1/openapi.json", "anyone")
        assert status == 200
        actions = {op["x-hisgw-action"] for path in document["paths"].values() for op in path.values()}
        assert actions <= set(ACTIONS)
        status, _ = await county.call("POST", "/county/v1/policies", "jingban1", data=DEFAULT_POLICY.read_bytes())
        assert status == 201  # version 1, for the documented examples to reach past a 404
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "schemathesis"), "run", f"{county.url}/county/v1/openapi.json",
            "--checks", "not_a_server_error", "--max-examples", "3", "--phases", "examples,fuzzing",
            "--workers", "1", "--no-color", "--seed", "14", "--generation-database", "none",
            "-H", "X-Operator: fuzzer", "--request-timeout", "20",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=150)
        text = out.decode("utf-8", "replace")
        assert process.returncode == 0, text[-6000:]
        assert "No issues found" in text or "passed" in text, text[-3000:]


async def test_a_list_that_is_not_one_is_refused_with_a_reason(tmp_path: Path) -> None:
    import io
    import zipfile

    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    async with county_gateway(tmp_path, signed=False) as county:
        for name, data, words in (
                ("a.xlsx", b"PK\x03\x04 broken", "不是可读取的 .xlsx"),
                ("b.xlsx", not_a_workbook.getvalue(), "不是可读取的 .xlsx"),
                ("c.csv", b"\xff\xfe\xfa\xfb", "既不是 UTF-8 也不是 GBK"),
                ("d.csv", "姓名,属性\n张三,0003\n".encode("gbk"), "找不到身份证号列"),
                ("e.csv", b"", "名单为空")):
            status, body = await county.call("POST", f"/county/v1/identities/imports?source=minzheng&filename={name}",
                                             "jingban1", data=data)
            assert status == 400 and words in body["message"], (name, body)
        status, body = await county.call("POST", "/county/v1/identities/imports?source=nobody", "jingban1",
                                         data=b"x")
        assert status == 400 and "source" in body["message"]
        status, body = await county.call("GET", "/county/v1/audit?action=identities.", "jingban1")
        assert body["entries"] == []  # nothing refused at the door was written

"""The CLI twins (`hisgw identities|policy|audit|coverage …`) against a running gateway with credentials."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from gateway.engine.policy import default_policy_path
from tests.county_support import County, county_gateway, token
from tests.support import PERSONS

HISGW = str(Path(sys.executable).parent / "hisgw")


async def hisgw(county: County, who: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        HISGW, *args, "--url", county.url, "--token", token(who),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=40)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_county_day_from_the_command_line(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        listed = tmp_path / "民政-2026-07.csv"
        listed.write_bytes(("身份证号,姓名,属性\n"
                            f"{PERSONS['urban_dibao'].certno},城镇低保,城镇低保人员\n"
                            f"{PERSONS['ordinary'].certno},新低保,0003\n").encode("gbk"))
        code, out, err = await hisgw(county, "jingban1", "identities", "diff", str(listed), "--source", "民政",
                                     "--as-of", "2026-07-01")
        assert code == 0, err
        assert out.startswith("import 1 (pending): new 1, removed 4,")  # 0003, 0004, 0005, 0001+0004 holders
        code, out, err = await hisgw(county, "jingban1", "identities", "apply", "1")
        assert code == 1 and "jingban1 的角色 经办 不能应用名单差异" in err
        code, out, err = await hisgw(county, "shenhe1", "identities", "show", "1", "--kind", "new")
        assert code == 0 and "TP0008 [] → ['0003']" in out, out
        code, out, err = await hisgw(county, "shenhe1", "identities", "apply", "1", "--rows", "1")
        assert code == 0 and out.strip() == "import 1: applied, 1 rows applied", (out, err)
        code, out, err = await hisgw(county, "duzhe1", "identities", "history", "TP0008")
        assert "0003 (minzheng) 2026-07-01 .." in out

        draft = tmp_path / "draft.toml"
        draft.write_text(default_policy_path().read_text(encoding="utf-8").replace(
            "annual_cap = 150000", "annual_cap = 160000"), encoding="utf-8")
        code, out, err = await hisgw(county, "jingban2", "policy", "upload", str(draft))
        assert code == 0 and out.strip() == "draft version 1", err
        code, out, err = await hisgw(county, "duzhe1", "policy", "compare", "demo-county@2018-01-01", "1")
        assert "funds[390100].rules[0].annual_cap: 150000.00 → 160000.00" in out, out
        code, out, err = await hisgw(county, "fuhe1", "policy", "publish", "1", "--effective", "2027-01-01")
        assert code == 0 and out.strip() == "published demo-county@2027-01-01 (in force from 2027-01-01)", err

        code, out, err = await hisgw(county, "duzhe1", "audit", "--json", "--action", "identities.")
        entries = json.loads(out)["entries"]
        assert [(e["action"], e["operator"], "refused" in e["after"]) for e in entries] == [
            ("identities.apply", "shenhe1", False), ("identities.apply", "jingban1", True),
            ("identities.upload", "jingban1", False)]
        code, out, err = await hisgw(county, "caiwu1", "coverage", "--month", "2026-07")
        assert code == 0 and out.startswith("2026-07: 2 on the lists, 2 insured"), out

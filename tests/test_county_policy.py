"""Policy maintenance over real HTTP and a real SQLite file: a draft checked (each mistake with its line),
compared, what-if'd over the year's real settlements, published by someone else than its uploader; stays
discharged before and after its effective date settle under the right version; a new fund inserted between
two others pays in its place.

Oracle: DOMAIN.md's worked example (0001, level 2, in county: 甲 14,500, 乙 4,000 at 10%, 丙 1,500) written
out again under the changed figures."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.engine.policy import default_policy_path
from tests.county_support import County, county_gateway, valid_certno
from tests.support import PERSONS, Journey, ok, person_rows
from tests.support import TestPerson as Insured

DEFAULT = default_policy_path().read_text(encoding="utf-8")
BASIC_POOR = "ratio = { 1 = 0.95, 2 = 0.85, 3 = 0.70 }"
# the draft: the poor's basic ratio at level-2 hospitals raised from 85% to 90%
DRAFT = DEFAULT.replace(BASIC_POOR, "ratio = { 1 = 0.95, 2 = 0.90, 3 = 0.70 }")
CHARITY = '''
[[funds]]
code = "650100"
stage = "assistance"
name = "慈善救助"
kind = "share_of_remaining"
setlinfo_field = "oth_pay"

[[funds.rules]]
when = { attributes_any = ["0001"] }
ratio = 0.50
'''
HOSPITAL_FUND = '\n[[funds]]\ncode = "630100"'
# a new fund (慈善救助) between 医疗救助 and 医院减免, by the policy language alone
WITH_CHARITY = DEFAULT.replace(HOSPITAL_FUND, CHARITY + HOSPITAL_FUND).replace(
    'effective_from = 2018-01-01', 'effective_from = 2026-09-01')


def people(count: int) -> list[Insured]:
    found: list[Insured] = []
    seq = 101
    while len(found) < count:
        number = valid_certno("430521", f"1958{len(found) % 12 + 1:02d}15", seq)
        seq += 2
        if number:
            found.append(Insured(f"PP{len(found):04d}", number, "0001"))
    return found


POOR = people(6)
ORDINARY = [PERSONS["ordinary"], PERSONS["ordinary2"]]


def registry() -> list[dict[str, Any]]:
    rows = person_rows()
    rows += [{"psn_no": p.psn_no, "certno": p.certno, "psn_name": f"贫困{n}", "insutype": "390",
              "insuplc_admdvs": "430521", "psn_idet_type": p.attributes} for n, p in enumerate(POOR)]
    return rows


async def worked_example_stay(county: County, person: Insured, discharged: str) -> dict[str, Any]:
    stay = Journey(county.his_client(), person)
    ok(await stay.admit(f"{discharged[:8]}01 08:00:00"))
    ok(await stay.upload(stay.line("A", "14500"), stay.line("B10", "4000"), stay.line("C", "1500")))
    ok(await stay.discharge(f"{discharged} 09:00:00"))
    return ok(await stay.settle("20000", inf_time=datetime.fromisoformat(f"{discharged} 10:00:00")))


def paid(answer: dict[str, Any]) -> dict[str, Decimal]:
    return {d["fund_pay_type"]: Decimal(str(d["fund_payamt"])) for d in answer["setldetail"]}


def policy_of(db: Path, setl_id: str) -> str:
    with sqlite3.connect(db) as conn:
        figures = conn.execute("SELECT figures FROM settlements WHERE setl_id = ?", (setl_id,)).fetchone()[0]
    return str(json.loads(figures)["policy_id"])


def chain_order(db: Path, setl_id: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        figures = conn.execute("SELECT figures FROM settlements WHERE setl_id = ?", (setl_id,)).fetchone()[0]
    return [payment[0] for payment in json.loads(figures)["payments"]]


def line_of(text: str, fragment: str, after: str = "") -> int:
    """1-based line of the first `fragment` after the line holding `after`."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if after in line) if after else 0
    return next(n for n in range(start, len(lines)) if fragment in lines[n]) + 1


async def test_a_draft_is_checked_compared_whatifd_and_published(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=False, persons=registry()) as county:
        # mistakes: a ratio above 1 in one rule, an unknown kind in another fund, each named with its line
        broken = DRAFT.replace("ratio = 0.80\nannual_cap = 50000", "ratio = 1.80\nannual_cap = 50000").replace(
            'kind = "personal_cap"', 'kind = "backstop"')
        status, body = await county.call("POST", "/county/v1/policies/check", "jingban1", data=broken.encode())
        assert status == 200 and not body["ok"]
        assert [(m["line"], m["where"]) for m in body["mistakes"]] == [
            (line_of(broken, "ratio = 1.80"), "funds[6].rules[1].ratio"),
            (line_of(broken, 'kind = "backstop"'), "funds[8].kind")]
        # out of the fixed order: the new fund listed after 医院减免 while it says it belongs to 医疗救助
        misplaced = DEFAULT.replace('\n[[funds]]\ncode = "640100"', CHARITY + '\n[[funds]]\ncode = "640100"')
        status, body = await county.call("POST", "/county/v1/policies/check", "jingban1", data=misplaced.encode())
        assert [m["line"] for m in body["mistakes"]] == [line_of(misplaced, 'stage = "assistance"', '"650100"')]
        assert "结算顺序固定" in body["mistakes"][0]["problem"]

        status, body = await county.call("POST", "/county/v1/policies", "jingban1", data=DRAFT.encode())
        assert status == 201 and body["mistakes"] == []
        draft = body["version"]
        status, body = await county.call("GET", f"/county/v1/policies/compare?a=demo-county@2018-01-01&b={draft}",
                                         "duzhe1")
        assert body["changes"] == [{"field": "funds[390100].rules[0].ratio.2", "a": "0.85", "b": "0.90"}]

        # the year's real settlements: three poor persons' worked examples and two ordinary stays
        before = {}
        for person in POOR[:3]:
            answer = await worked_example_stay(county, person, "2026-03-10")
            before[answer["setlinfo"]["setl_id"]] = paid(answer)
            assert paid(answer)["390100"] == Decimal("15172.50")
        for person in ORDINARY:
            await worked_example_stay(county, person, "2026-04-10")
        status, whatif = await county.call("POST", f"/county/v1/policies/{draft}/whatif", "caiwu1",
                                           json={"since": "2026-01-01", "until": "2026-12-31"})
        assert status == 200, whatif
        assert whatif["settlements"] == 5
        # under 90%: basic (18,100 − 250) × 90% = 16,065.00 (+892.50); compliant 2,035.00 → 特惠保 1,017.50
        # (−446.25); assistance 80% of 1,017.50 = 814.00 (−357.00); personal so far 20,000 − 16,065 − 1,017.50
        # − 814 = 2,103.50 → backstop 103.50 (−89.25); personal stays 2,000.00
        expected = {"390100": "2677.50", "620100": "-1338.75", "610100": "-1071.00", "640100": "-267.75"}
        funds = {f["fund_pay_type"]: f for f in whatif["funds"]}
        assert {code: f["difference"] for code, f in funds.items() if f["difference"] != "0.00"} == expected
        assert all(funds[code]["stays_affected"] == 3 and funds[code]["persons_affected"] == 3 for code in expected)
        assert whatif["personal"]["difference"] == "0.00"
        assert len(whatif["largest_changes"]) == 3
        # from April: the March stays only give the year-to-date; the two ordinary April stays do not change
        status, spring = await county.call("POST", f"/county/v1/policies/{draft}/whatif", "caiwu1",
                                           json={"since": "2026-04-01", "until": "2026-12-31"})
        assert spring["settlements"] == 2 and {f["difference"] for f in spring["funds"]} == {"0.00"}
        top = whatif["largest_changes"][0]
        assert (top["actual"]["390100"], top["draft"]["390100"]) == ("15172.50", "16065.00")
        assert top["size"] == str(Decimal("892.50") + Decimal("446.25") + Decimal("357.00") + Decimal("89.25"))

        # publication: never by its uploader; with an effective date
        status, body = await county.call("POST", f"/county/v1/policies/{draft}/publish", "jingban1",
                                         json={"effective_from": "2026-07-01"})
        assert status == 403, body
        status, body = await county.call("POST", f"/county/v1/policies/{draft}/publish", "shenhe1",
                                         json={"effective_from": "2026-07-01"})
        assert status == 200, body
        assert body["policy_id"] == "demo-county@2026-07-01"
        status, body = await county.call("POST", f"/county/v1/policies/{draft}/publish", "shenhe2", json={})
        assert status == 409

        db = tmp_path / "hisgw.sqlite"
        june = await worked_example_stay(county, POOR[3], "2026-06-30")
        july = await worked_example_stay(county, POOR[4], "2026-07-01")
        assert paid(june)["390100"] == Decimal("15172.50")
        assert paid(july)["390100"] == Decimal("16065.00")
        assert policy_of(db, june["setlinfo"]["setl_id"]) == "demo-county@2018-01-01"
        assert policy_of(db, july["setlinfo"]["setl_id"]) == "demo-county@2026-07-01"
        for setl_id, figures in before.items():  # the publication changed no settlement already made
            assert policy_of(db, setl_id) == "demo-county@2018-01-01"
            answer = ok(await county.his_client().call("5203", {"data": {"setl_id": setl_id, "psn_no": "",
                                                                         "mdtrt_id": ""}}))
            assert paid(answer) == figures

        # a new fund between 医疗救助 and 医院减免, published by a 复核 operator, pays in its place
        status, body = await county.call("POST", "/county/v1/policies", "jingban2", data=WITH_CHARITY.encode())
        assert status == 201 and body["mistakes"] == [], body
        status, body = await county.call("POST", f"/county/v1/policies/{body['version']}/publish", "fuhe1", json={})
        assert status == 200 and body["policy_id"] == "demo-county@2026-09-01", body
        september = await worked_example_stay(county, POOR[5], "2026-09-02")
        order = chain_order(db, september["setlinfo"]["setl_id"])  # every fund that applied, zero amounts too
        assert order.index("610100") + 1 == order.index("650100") == order.index("630100") - 1
        # basic 15,172.50, 特惠保 1,463.75, assistance 1,171.00 as before; what is left, 1,463.75 − 1,171.00 =
        # 292.75, half to charity = 146.375 → 146.38; reduction 0; personal so far 20,000 − 15,172.50 −
        # 1,463.75 − 1,171.00 − 146.38 = 2,046.37 → backstop 46.37; personal 2,000.00
        figures = paid(september)
        assert (figures["650100"], figures["640100"]) == (Decimal("146.38"), Decimal("46.37"))
        assert Decimal(str(september["setlinfo"]["psn_part_amt"])) == Decimal("2000.00")

        status, body = await county.call("GET", "/county/v1/audit?action=policy.", "duzhe1")
        assert [(e["action"], e["operator"]) for e in body["entries"]] == [
            ("policy.publish", "fuhe1"), ("policy.draft", "jingban2"), ("policy.publish", "shenhe1"),
            ("policy.publish", "jingban1"), ("policy.draft", "jingban1")]
        assert "refused" in body["entries"][3]["after"] and "refused" not in body["entries"][2]["after"]

    # a restarted gateway settles with the published versions (they are in the store, not in memory only)
    async with county_gateway(tmp_path, signed=False, persons=registry()) as county:
        status, body = await county.call("GET", "/county/v1/policies", "duzhe1")
        assert [p["policy_id"] for p in body["in_force"]] == [
            "demo-county@2018-01-01", "demo-county@2026-07-01", "demo-county@2026-09-01"]

"""The sheet of an outpatient visit reads the policy's boxes from the rule the visit was settled under — the
chronic-disease rule for a recognised 门诊慢特病 visit even after the agency cancelled the recognition, the ordinary
outpatient rule for a visit after — never the inpatient rule the visit did not use.

Oracle (gateway/data/demo/policy.toml, the worked visit of tests/test_outpatient.py, level 2, in county):
  chronic visit: 起付线 0 (门诊特殊慢性病: no deductible per visit), 封顶线 150,000; the ordinary ratio for a
  chronic visit is the same rule's, so 提高10%的报销金额 0.00
  ordinary visit: 起付线 0, 封顶线 150,000 (普通门诊); 提高 0.00
(the inpatient rule of the poor has 起付线 250 at level 2: shown, it would be wrong)
"""

from __future__ import annotations

from tests.support import PERSONS, Served, ok
from tests.test_outpatient import county, recognise, worked_visit
from tests.test_sheet import assert_money, sheet_json


async def test_a_visits_sheet_shows_the_rule_it_was_settled_under(served: Served) -> None:
    person = PERSONS["poor3"]
    recog_id = ok(await recognise(served, person))["result"]["trt_dcla_detl_sn"]
    chronic = ok(await (await worked_visit(served, person)).settle("600.00"))["setlinfo"]["setl_id"]
    status, _ = await county(served, "POST", f"/county/v1/chronic/recognitions/{recog_id}/cancel",
                             json={"reason": "复核不符合认定条件"})
    assert status == 200
    ordinary = ok(await (await worked_visit(served, person)).settle("600.00"))["setlinfo"]["setl_id"]
    for setl_id in (chronic, ordinary):
        ncms = await sheet_json(served, setl_id, "?sheet_type=ncms")
        assert_money(ncms["deductible_line"], "0.00")
        assert_money(ncms["annual_cap"], "150000.00")
        hunan = await sheet_json(served, setl_id)
        assert_money(hunan["basic_block"]["deductible"], "0.00")
        assert_money(hunan["basic_block"]["raised_amount"], "0.00")

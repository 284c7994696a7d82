"""The demo policy's outpatient rules as data (gateway/data/demo/policy.toml, `when.visit`), through the engine
alone, against figures worked by hand; and a county's mistake in `visit` refused with its key path."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from gateway.engine.chain import settle
from gateway.engine.fees import FeeTotals
from gateway.engine.policy import PolicyFileError, default_policy_path, load_policy
from gateway.engine.types import StayFacts

D = Decimal
POLICY = load_policy(default_policy_path())


def facts(visit: str, attributes: set[str], *, level: int = 2, in_county: bool = True) -> StayFacts:
    # 甲 300.00, 乙 200.00 at 20% (先行自付 40.00), 丙 100.00: total 600.00, in-policy 460.00
    totals = FeeTotals(medfee_sumamt=D("600.00"), fulamt_ownpay_amt=D("100.00"), overlmt_selfpay=D("0.00"),
                       preselfpay_amt=D("40.00"), inscp_scp_amt=D("460.00"))
    return StayFacts(insutype="390", hosp_lv=level, in_county=in_county, attributes=frozenset(attributes),
                     totals=totals, on=date(2026, 4, 10), visit=visit)


def paid(visit: str, attributes: set[str], **kwargs: int | bool) -> dict[str, Decimal]:
    result = settle(POLICY, facts(visit, attributes, **kwargs), {})  # type: ignore[arg-type]
    assert result.fund_pay_sumamt + result.hosp_part_amt + result.psn_part_amt == D("600.00")
    return {p.fund_pay_type: p.fund_payamt for p in result.payments if p.fund_payamt} | {
        "personal": result.psn_part_amt}


def cent(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(("level", "ratio"), [(1, D("0.70")), (2, D("0.65")), (3, D("0.60"))])
def test_a_chronic_visit_of_the_registered_poor_pays_at_most_20_percent_in_county(level: int, ratio: Decimal) -> None:
    basic = cent(D("460.00") * ratio)  # level 1: 322.00, level 2: 299.00, level 3: 276.00
    cap = cent(D("600.00") * D("0.20"))  # 120.00
    assert paid("chronic", {"0001"}, level=level) == {
        "390100": basic, "640100": D("600.00") - basic - cap, "personal": cap}


def test_out_of_county_or_not_registered_poor_no_backstop_and_ordinary_visits_pay_half() -> None:
    # out of county: 转外自付 10% of 460.00 = 46.00 applies as for a stay; (460 − 46) × 65% = 269.10; no backstop
    assert paid("chronic", {"0001"}, in_county=False) == {"390100": D("269.10"), "personal": D("330.90")}
    assert paid("chronic", {"0003"}) == {"390100": D("299.00"), "personal": D("301.00")}
    assert paid("outpatient", {"0001"}) == {"390100": D("230.00"), "personal": D("370.00")}  # 460 × 50%


def test_inpatient_rules_are_unchanged_by_the_outpatient_ones() -> None:
    """DOMAIN.md's worked example figures for the same 600.00 as a stay: deductible 250, (460 − 250) × 85%."""
    got = paid("inpatient", {"0001"})
    assert got["390100"] == cent((D("460.00") - D("250")) * D("0.85"))  # 178.50
    assert "640100" in got and got["personal"] <= D("60.00")  # the 10% inpatient cap


@pytest.mark.parametrize("value", ['["clinic"]', '"chronic"', "[]"])
def test_a_wrong_visit_is_refused_with_its_key_path(tmp_path: Path, value: str) -> None:
    text = default_policy_path().read_text(encoding="utf-8")
    wrong = text.replace('visit = ["chronic"] }', f"visit = {value} }}", 1)
    assert wrong != text
    path = tmp_path / "policy.toml"
    path.write_text(wrong, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    assert caught.value.where == "funds[0].rules[2].when.visit"

"""The chain alone, with the demo county's policy: one case per fund, identity, level and scheme.

Every expected figure is worked by hand in the comment above it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.engine.chain import settle
from gateway.engine.fees import FeeTotals, classify_line
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.engine.types import ChainResult, StayFacts, YearToDate

D = Decimal
POLICY = PolicyBook.load([default_policy_path()]).for_date(date(2026, 1, 1))


def run(a: str = "0", b: str = "0", c: str = "0", *, level: int = 2, attrs: str = "", in_county: bool = True,
        insutype: str = "390", ytd: YearToDate | None = None, prop: str = "0.10") -> ChainResult:
    lines = [classify_line(D(a), "01", D(0)), classify_line(D(b), "02", D(prop)), classify_line(D(c), "03", D(0))]
    facts = StayFacts(insutype=insutype, hosp_lv=level, in_county=in_county,
                      attributes=frozenset(x for x in attrs.split(",") if x), totals=FeeTotals.of(lines),
                      on=date(2026, 3, 1))
    return settle(POLICY, facts, ytd or {})


def paid(result: ChainResult) -> dict[str, Decimal]:
    return {p.fund_pay_type: p.fund_payamt for p in result.payments if p.fund_payamt}


class TestWorkedExample:
    def test_every_figure(self) -> None:
        """DOMAIN.md: 0001, level 2, in county, 甲 14500 / 乙 4000 at 10% / 丙 1500."""
        r = run("14500", "4000", "1500", attrs="0001")
        t = r.totals
        assert (t.medfee_sumamt, t.fulamt_ownpay_amt, t.preselfpay_amt, t.inscp_scp_amt) == (
            D("20000"), D("1500"), D("400.00"), D("18100.00"))
        assert r.act_pay_dedc == D("250.00")
        assert paid(r) == {"390100": D("15172.50"), "620100": D("1463.75"), "610100": D("1171.00"),
                           "640100": D("192.75")}
        assert r.psn_part_amt == D("2000.00")
        assert r.deltas == {"390100": D("15172.50"), "390200:base": D("2927.50"), "620100": D("1463.75"),
                            "610100": D("1171.00"), "640100": D("192.75")}

    def test_traces_explain_the_amounts(self) -> None:
        r = run("14500", "4000", "1500", attrs="0001")
        traces = {p.fund_pay_type: p.setl_proc_info for p in r.payments}
        assert "(18100.00-250.00)×85%=15172.50" in traces["390100"]
        assert "2927.50×50%=1463.75" in traces["620100"]
        assert all(len(text) < 200 for text in traces.values())


class TestBasic:
    @pytest.mark.parametrize(("level", "expected"), [
        # not poor: (10000 − 200)×85%, (10000 − 500)×75%, (10000 − 1000)×60%
        (1, "8330.00"), (2, "7125.00"), (3, "5400.00"),
    ])
    def test_deductible_and_ratio_by_level(self, level: int, expected: str) -> None:
        assert paid(run("10000", level=level))["390100"] == D(expected)

    @pytest.mark.parametrize("attr", ["0001", "0002", "0003", "0004", "0005", "0006"])
    def test_every_poor_attribute_halves_the_deductible_and_adds_ten_points(self, attr: str) -> None:
        # level 3: (10000 − 500)×70% = 6650
        assert paid(run("10000", level=3, attrs=attr))["390100"] == D("6650.00")

    def test_deductible_above_the_base(self) -> None:
        r = run("150", level=3)  # base 150 < line 1000: all of it is deductible, basic pays nothing
        assert r.act_pay_dedc == D("150.00") and "390100" not in paid(r)
        assert r.psn_part_amt == D("150.00")

    def test_annual_cap_left(self) -> None:
        # due (10000 − 500)×75% = 7125, but only 150000 − 148000 = 2000 left this year
        r = run("10000", ytd={"390100": D("148000")})
        assert paid(r)["390100"] == D("2000.00")
        assert r.pool_prop_selfpay == D("7500.00")  # 9500 above the deductible − 2000 paid

    def test_out_of_county_referral_share(self) -> None:
        # not poor, level 3 out of county: referral 10% of 10000 = 1000; (9000 − 1000)×60% = 4800
        r = run("10000", level=3, in_county=False)
        assert r.referral_selfpay == D("1000.00")
        assert paid(r)["390100"] == D("4800.00")


class TestCriticalIllness:
    def test_segments_for_the_poor_and_no_cap(self) -> None:
        # 0002 level 3: basic capped at 150000 of 299500×70%; compliant 250000; excess over 7500 = 242500:
        # 50000×65% + 50000×75% + 142500×85% = 32500 + 37500 + 121125 = 191125; assistance 80% of the rest.
        r = run("400000", level=3, attrs="0002")
        assert paid(r)["390100"] == D("150000.00")
        assert paid(r)["390200"] == D("191125.00")

    def test_cap_for_the_not_poor(self) -> None:
        # already paid 299000 this year: at most 1000 more
        r = run("100000", level=3, ytd={"390200": D("299000"), "390200:base": D("400000")})
        assert paid(r)["390200"] == D("1000.00")

    def test_pays_the_increase_of_the_cumulative_due(self) -> None:
        # base before 60000 (due (60000−15000)×60% = 27000, paid). This stay: level 1, 10000 甲, not poor:
        # basic (10000−200)×85% = 8330, compliant 1670 → cumulative 61670, excess 46670 → 28002 due; pays 1002.
        r = run("10000", level=1, ytd={"390200:base": D("60000"), "390200": D("27000")})
        assert paid(r)["390200"] == D("1002.00")
        assert r.deltas["390200:base"] == D("1670.00")

    def test_base_accumulates_even_when_nothing_is_paid(self) -> None:
        r = run("1000", level=1)
        assert "390200" not in paid(r)
        assert r.deltas["390200:base"] == D("320.00")  # 1000 − (1000 − 200)×85% = 1000 − 680


class TestPovertyFunds:
    def test_tekun_assistance_takes_everything_left(self) -> None:
        # 0004 level 2: basic (10000−250)×85% = 8287.50; compliant 1712.50 all paid by assistance.
        r = run("10000", attrs="0004")
        assert paid(r) == {"390100": D("8287.50"), "610100": D("1712.50")}
        assert r.psn_part_amt == D("0.00")

    def test_other_poor_assistance_eighty_percent_within_its_cap(self) -> None:
        # 0003: compliant 1712.50 × 80% = 1370, but only 50000 − 49500 = 500 left this year
        assert paid(run("10000", attrs="0003"))["610100"] == D("1370.00")
        assert paid(run("10000", attrs="0003", ytd={"610100": D("49500")}))["610100"] == D("500.00")

    def test_tehuibao_cap(self) -> None:
        r = run("10000", attrs="0001", ytd={"620100": D("49999.99")})
        assert paid(r)["620100"] == D("0.01")

    def test_poor_tekun_combination(self) -> None:
        # 0001+0004: 特惠保 takes 50% of 1712.50 = 856.25, assistance (特困 rule) the other 856.25, nothing left
        r = run("10000", attrs="0001,0004")
        assert paid(r) == {"390100": D("8287.50"), "620100": D("856.25"), "610100": D("856.25")}
        assert r.psn_part_amt == D("0.00")

    def test_hospital_reduction_only_in_county(self) -> None:
        # 0001 level 2: 甲 8000 + 丙 2000; reduction 2000 − 1000 = 1000 in county, nothing out of county.
        assert paid(run("8000", c="2000", attrs="0001"))["630100"] == D("1000.00")
        assert "630100" not in paid(run("8000", c="2000", attrs="0001", in_county=False))

    def test_backstop_out_of_county(self) -> None:
        # 0001 level 3 out of county, 丙 5000 + 甲 5000: referral 500; basic (4500−500)×70% = 2800;
        # compliant 2200 → 特惠保 1100 → assistance 880; personal 10000−2800−1100−880 = 5220 → backstop 4220
        r = run("5000", c="5000", level=3, attrs="0001", in_county=False)
        assert paid(r) == {"390100": D("2800.00"), "620100": D("1100.00"), "610100": D("880.00"),
                           "640100": D("4220.00")}
        assert r.psn_part_amt == D("1000.00")

    def test_not_poor_gets_no_poverty_fund(self) -> None:
        assert set(paid(run("10000", c="3000"))) == {"390100"}


class TestEmployees:
    def test_employee_chain(self) -> None:
        # 310, level 2: (10000 − 600)×85% = 7990; compliant 2010; 大额 80% = 1608; 补充 50% of 402 = 201.
        r = run("10000", insutype="310")
        assert paid(r) == {"310100": D("7990.00"), "330100": D("1608.00"), "370100": D("201.00")}
        assert r.psn_part_amt == D("201.00")

    def test_resident_funds_do_not_apply_to_employees(self) -> None:
        assert not {"390100", "390200"} & set(paid(run("10000", insutype="310", attrs="0003")))
        assert "610100" in paid(run("10000", insutype="310", attrs="0003"))

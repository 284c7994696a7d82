"""The simulator HIS (simulators/): the scenario pack through every shipped dialect and its real transport
(HTTP for nhsa-http, the C library through ctypes for the DLL dialects, zeep for the SOAP dialects, an MLLP
client for HL7 v2) against a gateway in this process; a wrong policy figure and a broken mapping fail named steps
with a diff; the reports; a short load run."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from lxml import html

from gateway.cli import main
from gateway.engine.policy import default_policy_path
from gateway.mapping.registry import check_all
from simulators.drivers import Target, open_driver, supported
from simulators.inprocess import LocalGateway, local_gateway
from simulators.load import dialect_rows, run_load
from simulators.people import PersonFactory
from simulators.runner import FAIL, NOT_APPLICABLE, PASS, Runner, ScenarioResult, play_pack
from simulators.scenario import COUNTY_STEPS, Scenario, ScenarioError, load_scenario, load_scenarios

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "mappings"
PACK = ROOT / "simulators" / "scenarios"
DIALECTS, _ = check_all(MAPPINGS)
SCENARIOS = load_scenarios([PACK])
WORKED = [s for s in SCENARIOS if s.name == "worked-example"]
# a dialect without a trade for a state-changing step cannot play that scenario (the others skip such a step),
# nor one with a refund line when its fee upload has no place for the original line (init_feedetl_sn)
NOT_APPLICABLE_EXPECTED = {("neusoft-dll", "cancel-discharge"), ("yunnan-dll", "cancel-admission"),
                           ("yunnan-dll", "cancel-discharge"), ("ncms-soap", "cancel-discharge"),
                           ("hl7v2", "refunds-reuploads"), ("hl7v2", "error-fees-after-settlement"),
                           ("hl7v2", "cancel-admission"), ("hl7v2", "error-fee-lines")}
# the outpatient scenarios need the 22xx trades: only nhsa-http and neusoft-dll map them
OUTPATIENT_SCENARIOS = ("guangxi-chronic-outpatient", "outpatient-ordinary-batches")
NOT_APPLICABLE_EXPECTED |= {(dialect, scenario) for dialect in ("dhc-soap", "ncms-soap", "hl7v2", "yunnan-dll",
                                                                 "hunan-json") for scenario in OUTPATIENT_SCENARIOS}
# 2401's zero-deposit agreement (Gannan) is mapped for the national interfaces and the Neusoft DLL only
NOT_APPLICABLE_EXPECTED |= {(dialect, "gannan-zero-deposit-arrears") for dialect in ("dhc-soap", "ncms-soap", "hl7v2",
                                                                                    "yunnan-dll")}
NEW_DIALECTS = ("dhc-soap", "ncms-soap", "hl7v2")


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[LocalGateway]:
    async with local_gateway(MAPPINGS, db_dir=tmp_path) as local:
        yield local


async def play(local: LocalGateway, dialects: Sequence[str], scenarios: Sequence[Scenario],
               mappings: Path = MAPPINGS) -> list[ScenarioResult]:
    """The scenarios through each dialect as the simulator's own mapping files define it."""
    definitions, errors = check_all(mappings)
    assert not errors
    target = Target(local.url, local.dll_port, hl7_port=local.hl7_port)
    async with aiohttp.ClientSession() as session:
        factory = PersonFactory(session, local.url)
        runners = [Runner(open_driver(definitions[name], target), factory) for name in dialects]
        try:
            return await play_pack(runners, scenarios)
        finally:
            for runner in runners:
                await runner.driver.close()


def failures(results: Sequence[ScenarioResult]) -> list[str]:
    return [f"{r.dialect} {r.scenario.name}: {line}" for r in results for line in r.failures()]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
async def test_the_pack_passes_through_every_shipped_dialect(gateway: LocalGateway, dialect: str) -> None:
    assert supported(DIALECTS[dialect]), f"{dialect}: no simulator driver (simulators/drivers/__init__.py)"
    results = await play(gateway, [dialect], SCENARIOS)
    assert not failures(results), "\n".join(failures(results))
    expected_na = {key for key in NOT_APPLICABLE_EXPECTED if key[0] == dialect}
    assert {(r.dialect, r.scenario.name) for r in results if r.status == NOT_APPLICABLE} == expected_na
    played = [r for r in results if r.status == PASS]
    assert len(played) == len(SCENARIOS) - len(expected_na) >= 25
    assert all(step.exchange for r in played for step in r.steps
               if step.status == PASS and step.step.infno not in COUNTY_STEPS)  # those are the county API's
    # every settlement step compared the one-stop figures (as the dialect carries them), not just the outcome
    sheets = [step for r in played for step in r.steps if step.step.infno == "2304" and not step.step.expect.error]
    assert sheets and all(any(c.name == "psn_part_amt" and c.carried for c in step.checks) for step in sheets)


def _wrong_policy(tmp_path: Path) -> Path:
    """The demo policy with 扶贫特惠保 paying 55% instead of 50%."""
    text = default_policy_path().read_text(encoding="utf-8")
    head, _, tail = text.partition('code = "620100"')
    assert "ratio = 0.50" in tail
    wrong = tmp_path / "wrong-policy.toml"
    wrong.write_text(head + 'code = "620100"' + tail.replace("ratio = 0.50", "ratio = 0.55", 1), encoding="utf-8")
    return wrong


async def test_a_wrong_policy_figure_fails_the_named_steps_with_a_diff(tmp_path: Path) -> None:
    async with local_gateway(MAPPINGS, policy_files=(_wrong_policy(tmp_path),), db_dir=tmp_path) as local:
        results = await play(local, ["nhsa-http", "neusoft-dll", "yunnan-dll", *NEW_DIALECTS], WORKED)
    assert [r.status for r in results] == [FAIL] * 6
    for result in results:
        lines = result.failures()
        # 2,927.50 × 55% = 1,610.13 instead of 1,463.75, in the trial (step 7) and the settlement (step 9)
        for step in ("step 7 2303 预结算", "step 9 2304 结算"):
            assert f"{step}: 620100 扶贫特惠保: expected 1463.75, got 1610.13 (+146.38)" in lines, lines
            # 医疗救助 80% of what is left, as the dialect carries it (610100 row or maf_pay): 1,053.90 not 1,171.00
            assert any(line.startswith((f"{step}: 610100", f"{step}: maf_pay")) and "expected 1171.00, got 1053.90"
                       in line for line in lines), lines
        assert all(line.startswith(("step 7 ", "step 9 ")) for line in lines), lines


async def test_a_broken_mapping_fails_the_named_steps(tmp_path: Path) -> None:
    """The gateway serves a neusoft-dll file with two answer positions swapped and its class codes crossed; the
    HIS still speaks the dialect as shipped."""
    broken = tmp_path / "gateway-mappings"
    shutil.copytree(MAPPINGS, broken)
    path = broken / "neusoft-dll.yaml"
    text = path.read_text(encoding="utf-8")
    row = '      - {from: "output.setldetail[fund_pay_type=%s].fund_payamt", format: amount, default: "0.00"}'
    tehuibao, assistance = row % "620100", row % "610100"
    assert tehuibao in text and assistance in text
    text = text.replace(tehuibao, "@@").replace(assistance, tehuibao).replace("@@", assistance)
    text = text.replace('catalogue_class: {"1": "01", "2": "02", "3": "03"}', 'catalogue_class: {"1": "02", "2": "01", '
                                                                              '"3": "03"}')
    path.write_text(text, encoding="utf-8")
    async with local_gateway(broken, db_dir=tmp_path) as local:
        results = await play(local, ["neusoft-dll", "nhsa-http"], WORKED)
    neusoft, national = results
    assert national.status == PASS  # only the broken dialect is affected
    assert neusoft.status == FAIL
    lines = neusoft.failures()
    assert "step 4 2301 费用明细上传 · 第一天上午: line F1 chrgitm_lv: expected 01, got 02" in lines, lines
    assert "step 4 2301 费用明细上传 · 第一天上午: line F2 chrgitm_lv: expected 02, got 01" in lines, lines
    for step in ("step 7 2303 预结算", "step 9 2304 结算"):
        assert f"{step}: 620100 扶贫特惠保: expected 1463.75, got 1171.00 (-292.75)" in lines, lines
        assert f"{step}: 610100 医疗救助: expected 1171.00, got 1463.75 (+292.75)" in lines, lines


CROSSED_CLASSES = ('catalogue_class: {"1": "01", "2": "02", "3": "03"}', 'catalogue_class: {"1": "02", "2": "01", '
                                                                         '"3": "03"}')
CROSSED_CLASS_LINES = ["step 4 2301 费用明细上传 · 第一天上午: line F1 chrgitm_lv: expected 01, got 02",
                       "step 4 2301 费用明细上传 · 第一天上午: line F2 chrgitm_lv: expected 02, got 01"]


@pytest.mark.parametrize(("dialect", "change", "lines"), [
    ("dhc-soap", CROSSED_CLASSES, CROSSED_CLASS_LINES),
    ("ncms-soap", CROSSED_CLASSES, CROSSED_CLASS_LINES),
    # ZFT-5 全自费 and ZFT-6 先行自付 written the other way round
    ("hl7v2", ("{at: ZFT-5, from: fulamt_ownpay_amt", "{at: ZFT-6, from: fulamt_ownpay_amt"),
     ["step 4 2301 费用明细上传 · 第一天上午: line F2 preselfpay_amt: expected 400.00, got 0.00 (-400.00)",
      "step 6 2301 费用明细上传 · 第二天: line F4 fulamt_ownpay_amt: expected 1500.00, got 0.00 (-1500.00)"]),
])
async def test_a_broken_soap_or_hl7_mapping_fails_the_named_steps(tmp_path: Path, dialect: str,
                                                                   change: tuple[str, str], lines: list[str]) -> None:
    """The gateway serves the dialect with 扶贫特惠保 and 医疗救助 in each other's place, and a fee line's class
    or amounts crossed; the HIS speaks the dialect as shipped, so the mistake cannot cancel itself out."""
    broken = tmp_path / "gateway-mappings"
    shutil.copytree(MAPPINGS, broken)
    path = broken / f"{dialect}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "fund_pay_type=620100]" in text and "fund_pay_type=610100]" in text and change[0] in text
    text = text.replace("fund_pay_type=620100]", "@@").replace("fund_pay_type=610100]", "fund_pay_type=620100]")
    text = text.replace("@@", "fund_pay_type=610100]")
    if dialect == "hl7v2":  # the other column takes the freed place
        text = text.replace("{at: ZFT-6, from: preselfpay_amt", "{at: ZFT-5, from: preselfpay_amt")
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    async with local_gateway(broken, db_dir=tmp_path) as local:
        results = await play(local, [dialect, "nhsa-http"], WORKED)
    mine, national = results
    assert national.status == PASS  # only the broken dialect is affected
    assert mine.status == FAIL
    found = mine.failures()
    for line in lines:
        assert line in found, found
    for step in ("step 7 2303 预结算", "step 9 2304 结算"):
        assert f"{step}: 620100 扶贫特惠保: expected 1463.75, got 1171.00 (-292.75)" in found, found
        assert f"{step}: 610100 医疗救助: expected 1171.00, got 1463.75 (+292.75)" in found, found


@pytest.mark.timeout(300)  # the whole pack through seven dialects: about 15 s alone, far more on a busy machine
def test_simulate_all_dialects_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`hisgw simulate --all-dialects`: a gateway in-process, the pack through every dialect, the matrix, JUnit
    XML and the HTML report with the raw messages."""
    junit, report = tmp_path / "junit.xml", tmp_path / "report.html"
    assert main(["simulate", "--all-dialects", "--quiet", "--junit", str(junit), "--html", str(report)]) == 0
    out = capsys.readouterr().out
    assert "scenarios × dialects" in out and "scenario plays passed" in out
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert all(supported(dialect) for dialect in DIALECTS.values())
    assert {s.get("name") for s in suites} == {f"hisgw-simulate.{name}" for name in DIALECTS}
    assert all(s.get("failures") == "0" and s.get("errors") == "0" for s in suites)
    text = report.read_text(encoding="utf-8")
    page = html.fromstring(text)
    assert not page.xpath("//script") and not page.xpath("//link")  # self-contained
    assert not [e.get("href") for e in page.xpath("//*[@href]") if not e.get("href").startswith("#")]
    # the raw exchanges as each vendor sees them: a Neusoft settlement string and its answer, a national 2304
    assert "2410^H43052100002^001^" in text and "|15172.50|0.00|1463.75|1171.00|0.00|192.75|18000.00|" in text
    assert "42|H43052100002|001|" in text and "|20000.00|15172.50|0.00|1463.75|1171.00|0.00|192.75|2000.00|" in text
    assert '"infno": "2304"' in text and '"hifp_pay":15172.50' in text
    assert '"infcode":"0"' in text  # hunan-json: its status is a JSON string
    # DHC: the action and the inner message, the Response, and the SOAP envelopes zeep sent and received
    assert "  action  = InpatSettle" in text and "&lt;TradeCode&gt;InpatSettle&lt;/TradeCode&gt;" in text
    assert "&lt;PovertyInsurance&gt;1463.75&lt;/PovertyInsurance&gt;" in text
    assert "SOAP envelope as sent" in text and "&lt;ns0:HIPMessageServer" in text and "&lt;soap11env:Envelope" in text
    # NCMS: the operation and its arguments by name, the out parameters
    assert "InpatientCalculate\n  sHospCode    = H43052100002" in text and "  sCalcType    = 1" in text
    assert "|250.00|15172.50|0.00|1463.75|1171.00|0.00|192.75|18000.00|0.00|2000.00|" in text
    assert "sMessage = 成功" in text
    # HL7 v2: the message segment by segment, the ACK with the one-stop funds
    assert "||ZSR^Z02|H43052100002" in text and "\nZSR|1|20000.00|01|0|0\n" in text
    assert "MSA|AA|H43052100002" in text and "\nZSF|15172.50|0.00|1463.75|1171.00|0.00|192.75\n" in text
    rows = page.xpath("//tr[td[1][starts-with(., '620100')]]")
    assert rows and all(r.xpath("td")[1].text == "1463.75" for r in rows[:1])
    assert " ms</span>" in text


def test_simulate_exits_non_zero_on_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--dialect", "nhsa-http", "--quiet", "-k", "worked-example", "--policy",
                 str(_wrong_policy(tmp_path))])
    assert code == 1
    out = capsys.readouterr().out
    assert "620100 扶贫特惠保: expected 1463.75, got 1610.13 (+146.38)" in out
    assert main(["simulate", "--dialect", "no-such-dialect"]) == 2
    assert "unknown dialect no-such-dialect" in capsys.readouterr().err


@pytest.mark.parametrize("dialects", [("nhsa-http", "neusoft-dll", "yunnan-dll"), NEW_DIALECTS])
async def test_a_short_load_run_checks_every_answer(gateway: LocalGateway, dialects: tuple[str, ...]) -> None:
    target = Target(gateway.url, gateway.dll_port, hl7_port=gateway.hl7_port)
    async with aiohttp.ClientSession() as session:
        factory = PersonFactory(session, gateway.url, batch=20)
        runners = [Runner(open_driver(DIALECTS[name], target, concurrency=12), factory) for name in dialects]
        try:
            stats = await run_load(runners, SCENARIOS, his=12, count=60)
        finally:
            for runner in runners:
                await runner.driver.close()
    assert stats.journeys == 60 and stats.cut_off == 0
    assert stats.failed_journeys == 0 and stats.wrong_answers == 0, stats.incorrect[:3]
    assert stats.calls > 300 and {"2301", "2304", "2305"} <= set(stats.latencies)
    # per dialect as well: every chosen dialect played, its calls adding up to the per-transaction figures
    by_dialect = {row[0]: row for row in dialect_rows(stats)}
    assert set(by_dialect) == set(dialects) == set(stats.dialect_journeys)
    assert sum(row[1] for row in by_dialect.values()) == stats.journeys
    assert sum(row[2] for row in by_dialect.values()) == stats.calls == sum(len(v) for v in stats.latencies.values())


async def test_a_load_run_reports_wrong_answers(tmp_path: Path) -> None:
    async with local_gateway(MAPPINGS, policy_files=(_wrong_policy(tmp_path),), db_dir=tmp_path) as local:
        target = Target(local.url, local.dll_port)
        async with aiohttp.ClientSession() as session:
            runner = Runner(open_driver(DIALECTS["neusoft-dll"], target, concurrency=4), PersonFactory(session,
                                                                                                      local.url))
            try:
                stats = await run_load([runner], WORKED, his=4, duration=0.5)
            finally:
                await runner.driver.close()
    assert stats.journeys >= 4 and stats.failed_journeys == stats.journeys
    assert stats.errors == {"2303": stats.journeys, "2304": stats.journeys}
    assert "620100 扶贫特惠保: expected 1463.75, got 1610.13" in stats.incorrect[0].problem


SCENARIO = """\
scenario: t
persons:
  a: {attributes: ["0001"]}
hospital: H43052100002
steps:
  - admit: {at: 2026-03-01 08:00}
  - upload_fees: {lines: [{code: XA01, amount: 100.00}]}
  - settle: {expect: {medfee_sumamt: 100.00, funds: {390100: 50.00}, psn_part_amt: 50.00}}
"""


@pytest.mark.parametrize(("change", "line", "words"), [
    (("- admit:", "- admitt:"), 6, "unknown step 'admitt'"),
    (("amount: 100.00}", "amount: 1.005}"), 7, "at most two decimals"),
    (("psn_part_amt: 50.00", "psn_part_amt: 40.00"), 8, "does not add up"),
    (("{medfee_sumamt", "{medfe_sumamt"), 8, "unknown key 'medfe_sumamt'"),
    (("- settle: {", "- settle: {stay: s9, "), 8, "stay 's9' is not admitted"),
    (("- admit: {", "- admit: {person: b, "), 6, "no person 'b'"),
    (("attributes: [\"0001\"]", "attributes: [\"0001\"], insutype: \"320\""), 3, "insutype"),
    (("  - settle", "  - upload_fees: {lines: [{code: XA01}]}\n  - settle"), 8, "needs amount, or cnt and pric"),
    (("  - admit", " - admit"), 7, "YAML"),
    (("scenario: t", "scenario: t\nscenario: u"), 2, "appears twice"),
])
def test_a_mistake_in_a_scenario_is_refused_with_file_and_line(tmp_path: Path, change: tuple[str, str], line: int,
                                                                words: str) -> None:
    assert change[0] in SCENARIO
    path = tmp_path / "t.yaml"
    path.write_text(SCENARIO.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.line == line and words in caught.value.problem, str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_a_person_with_several_stays_settles_after_discharge(tmp_path: Path) -> None:
    """Otherwise the year would be today's, and the scenario's figures would change with the calendar."""
    path = tmp_path / "t.yaml"
    second_stay = ("  - discharge: {at: 2026-03-02 08:00}\n  - admit: {stay: s2}\n"
                   "  - upload_fees: {lines: [{code: XA01, amount: 1.00}]}\n  - settle")
    path.write_text(SCENARIO.replace("  - settle", second_stay), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.line == 11 and "settles after discharge" in caught.value.problem
    path.write_text(SCENARIO, encoding="utf-8")
    assert [step.infno for step in load_scenario(path).steps] == ["2401", "2301", "2304"]


def test_every_scenario_of_the_pack_is_a_balanced_sheet() -> None:
    """The loader refuses a sheet whose funds and personal part do not add up to the total; the pack covers the
    identity attributes, the hospital levels, in and out of county and the error paths it claims."""
    covers = {tag for s in SCENARIOS for tag in s.covers}
    assert {f"attr-000{n}" for n in range(1, 7)} | {"level-1", "level-2", "level-3", "in-county", "out-of-county",
                                                     "combination", "critical-segments", "basic-cap", "critical-cap",
                                                     "reversal", "re-settlement", "year-boundary", "catalogue-90pct",
                                                     "backstop-10pct", "duplicate-settlement", "fees-after-settlement",
                                                     "unknown-person", "uninsured-with-reason",
                                                     "malformed-message", "refund", "re-upload"} <= covers

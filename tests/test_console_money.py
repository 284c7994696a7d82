"""The console's money pages in a real browser (Playwright driving Debian's chromium) against `hisgw serve`:
a claim of T2's worked-example settlement reviewed line by line by 审核, confirmed by a different 复核, its
refusals issued, settled and paid by 财务, the special account's receipts and running balance, 附件4 downloaded
and opened with openpyxl; a reader is refused every write; on a demo gateway (anybody may take any step, named
by the login) the one who took part in 初审 is refused 复审 by the service, in the page. Screenshots under
var/artifacts/console/.

`hisgw serve` has no clock to move, and a claim's period must have ended before it is submitted: the claim of
this month's settlement is submitted as the county would next month, through claim_service on the same SQLite
file the gateway serves (the service the API's POST /county/v1/claims calls)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gateway.county import claim_service
from gateway.county.period import month
from gateway.county.roles import Actor
from gateway.store.sqlite import SqliteStore
from tests.processes import start_serve
from tests.test_console_browser import CHROMIUM, Served, _in_browser, _in_thread, _login, _settle, _shot
from tests.test_console_browser import CREDENTIALS as BROWSER_CREDENTIALS

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is needed: apt-get install chromium"),
              pytest.mark.timeout(300)]

CREDENTIALS = BROWSER_CREDENTIALS + """
[county.fuhe]
token = "county-second-token-001"
role = "second_reviewer"

[county.caiwu]
token = "county-finance-token-01"
role = "finance"
"""


def _submit(db: Path, submitter: str) -> int:
    """This month's claim of T2, submitted as at the first day of next month (see the module's docstring)."""
    now = datetime.now()
    first_of_next = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, 9)
    store = SqliteStore(db, create=False)
    try:
        claim = claim_service.submit(store, Actor(submitter, "operator"), "T2", month(f"{now:%Y-%m}"), "submit-1",
                                     first_of_next)
    finally:
        store.close()
    return int(claim["claim_id"])


def _serve(folder: Path, credentials: str | None) -> tuple[Any, Served]:
    config = None
    if credentials is not None:
        (folder / "credentials.toml").write_text(credentials, encoding="utf-8")
        config = folder / "hisgw.toml"
        config.write_text('[auth]\ncredentials = "credentials.toml"\n', encoding="utf-8")
    else:  # the demo: _settle signs with T2's credentials all the same (a demo gateway does not check)
        (folder / "credentials.toml").write_text(CREDENTIALS, encoding="utf-8")
    db = folder / "hisgw.sqlite"
    process, url, _dll = start_serve(db, folder / "serve.log", config=config)
    answer = _in_thread(lambda: asyncio.run(_settle(url, folder / "credentials.toml")))
    return process, Served(url, db, answer)


def _stop(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except Exception:
        process.kill()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    process, served = _serve(tmp_path_factory.mktemp("money"), CREDENTIALS)
    try:
        yield served
    finally:
        _stop(process)


def _fen(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_a_claim_reviewed_confirmed_settled_and_paid_in_the_browser(served: Served) -> None:
    claim_id = _in_thread(lambda: _submit(served.db, "jingban"))
    _in_browser(lambda browser, served: _claim_flow(browser, served, claim_id), served)


def _claim_flow(browser: Any, served: Served, claim_id: int) -> None:
    paid = {d["fund_pay_type"]: Decimal(str(d["fund_payamt"])) for d in served.answer["setldetail"]}
    # 审核: the claim in the list, its line, one fund refused (R02), 初审 closed
    page = _login(browser, served, "shenhe", "county-reviewer-token-01")
    page.click("#menu-claims")
    page.fill("#q-hospital", "T2")
    page.click("#q-go")
    page.locator("#claims a", has_text=str(claim_id)).click()
    page.wait_for_url(f"**/console/claims/{claim_id}")
    assert page.locator("#state").inner_text() == "已申报"
    line = page.locator("#line-1")
    assert served.setl_id in line.inner_text()
    funds = line.locator("input[name=funds]").evaluate_all("boxes => boxes.map(b => b.value)")
    assert funds and set(funds) <= set(paid)
    claimed = _fen(page.locator("#claimed").inner_text())
    assert claimed == sum((paid[f] for f in funds), Decimal(0))  # the line claims what the funds paid
    refused_fund = funds[0]
    _shot(page, "claim-submitted")
    line.locator("select.decision").select_option("refuse")
    line.locator("select.reason").select_option("R02")
    line.locator(f"input[name=funds][value='{refused_fund}']").check()
    line.locator("input.note").fill("超出目录")
    line.locator("button.decide-go").click()
    page.wait_for_load_state()
    assert "第 1 行：拒付" in page.locator("#outcome").inner_text()
    assert page.locator("#line-1 td").nth(7).inner_text().startswith("拒付 R02")  # its 审核结果 column
    assert _fen(page.locator("#refused").inner_text()) == paid[refused_fund]
    accepted = claimed - paid[refused_fund]
    assert _fen(page.locator("#accepted").inner_text()) == accepted
    assert page.locator("#step-second_review").count() == 0  # not this role's step
    page.click("#step-first_review")
    page.wait_for_load_state()
    assert page.locator("#state").inner_text() == "已初审"
    _shot(page, "claim-first-reviewed")
    # the reviewer forging the 复审 form is refused by the role table, and nothing changes
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    forged = page.request.post(f"{served.url}/console/claims/{claim_id}/step/second_review", form={"csrf": csrf})
    assert forged.status == 403 and "无权访问" in forged.text()
    # 复核 (another person) confirms and issues the refusals
    second = _login(browser, served, "fuhe", "county-second-token-001")
    second.goto(f"{served.url}/console/claims/{claim_id}")
    assert second.locator(".decide").count() == 0  # lines are 审核's
    second.click("#step-second_review")
    second.wait_for_load_state()
    assert second.locator("#state").inner_text() == "已复审", second.content()
    second.click("#step-refuse")
    second.wait_for_load_state()
    assert second.locator("#state").inner_text() == "已拒付告知"
    _shot(second, "claim-confirmed")
    # 财务: receipts into the special account, 结算, 拨付 (a wrong amount is the service's clear error first)
    finance = _login(browser, served, "caiwu", "county-finance-token-01")
    finance.click("#menu-account")
    receipts = {"basic_fund": Decimal("10000.00"), "civil_assistance": Decimal("2345.67")}
    for source, amount in receipts.items():
        finance.select_option("#r-source", source)
        finance.fill("#r-amount", f"{amount}")
        finance.fill("#r-reference", f"BANK-{source}")
        finance.click("#r-go")
        finance.wait_for_load_state()
        assert f"已登记收款 {amount}" in finance.locator("#outcome").inner_text()
    received_on = finance.locator("#r-on").input_value()
    finance.goto(f"{served.url}/console/claims/{claim_id}")
    finance.click("#step-settle")
    finance.wait_for_load_state()
    assert finance.locator("#state").inner_text() == "已结算"
    assert _fen(finance.locator("#pay-amount").input_value()) == accepted
    finance.fill("#pay-amount", f"{accepted + Decimal('0.01')}")
    finance.fill("#pay-reference", "PAY-0001")
    finance.click("#step-pay")
    finance.wait_for_load_state()
    problem = finance.locator("#problem").inner_text()
    assert "与结算金额" in problem and "不符" in problem
    assert finance.locator("#state").inner_text() == "已结算"
    _shot(finance, "claim-pay-refused")
    finance.fill("#pay-amount", f"{accepted}")
    finance.fill("#pay-reference", "PAY-0001")
    finance.click("#step-pay")
    finance.wait_for_load_state()
    assert finance.locator("#state").inner_text() == "已拨付"
    assert "PAY-0001" in finance.locator("#steps").inner_text()
    _shot(finance, "claim-paid")
    # the account: the running balance is the receipts less the payment, to the fen
    finance.goto(f"{served.url}/console/account?month={received_on[:7]}")
    balances = [_fen(text) for text in finance.locator("#entries tr td:nth-child(6)").all_inner_texts()]
    running = [receipts["basic_fund"], sum(receipts.values()), sum(receipts.values()) - accepted]
    assert balances == running
    assert _fen(finance.locator("#closing").inner_text()) == running[-1]
    _shot(finance, "account")
    with sqlite3.connect(served.db) as conn:  # every write is on the audit trail under its own person
        audited = set(conn.execute("SELECT operator, action FROM county_audit WHERE action LIKE 'claims.%' "
                                   "OR action = 'account.receive'"))
    assert {("shenhe", "claims.review"), ("fuhe", "claims.confirm"), ("fuhe", "claims.refuse"),
            ("caiwu", "claims.settle"), ("caiwu", "claims.pay"), ("caiwu", "account.receive")} <= audited
    # 附件4 of the month, downloaded as a user would, opened with openpyxl
    finance.click("#menu-reports")
    finance.fill("#r-month", received_on[:7])
    finance.click("#r-show")
    finance.wait_for_load_state()
    assert finance.locator("#annex5-xlsx").count() == 1 and finance.locator("#annex4-pdf").count() == 1
    _shot(finance, "reports")
    with finance.expect_download() as download:
        finance.click("#annex4-xlsx")
    book = load_workbook(BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.active
    assert sheet["B4"].value == "一站式专户资金"
    assert Decimal(str(sheet["B5"].value)) == sum(receipts.values())  # this month's receipts into the account


def test_a_reader_is_refused_every_money_write(served: Served) -> None:
    claim_id = 1
    _in_browser(lambda browser, served: _reader(browser, served, claim_id), served)


def _reader(browser: Any, served: Served, claim_id: int) -> None:
    reader = _login(browser, served, "auditor", "county-reader-token-001")
    reader.goto(f"{served.url}/console/account")
    assert reader.locator("#receipt").count() == 0
    csrf = reader.locator("input[name=csrf]").first.get_attribute("value")
    for path, form in ((f"/console/claims/{claim_id}/step/settle", {}),
                       (f"/console/claims/{claim_id}/lines/1/decision", {"decision": "accept"}),
                       ("/console/account/receipts",
                        {"source": "fiscal", "amount": "1.00", "received_on": "2026-01-01"})):
        response = reader.request.post(f"{served.url}{path}", form={"csrf": csrf, **form})
        assert response.status == 403 and "无权访问" in response.text(), path
    reader.goto(f"{served.url}/console/reports")
    assert reader.locator("#annex5-xlsx").count() == 1
    operator = _login(browser, served, "jingban", "county-operator-token-01")
    operator.goto(f"{served.url}/console/account")  # 经办 may not read the account (roles.py)
    assert operator.locator("#refused").count() == 1
    _shot(operator, "account-refused")


def test_on_a_demo_gateway_the_first_reviewer_is_refused_the_second_review(tmp_path: Path) -> None:
    process, served = _serve(tmp_path, None)
    try:
        claim_id = _in_thread(lambda: _submit(served.db, "jingban"))
        _in_browser(lambda browser, served: _same_person(browser, served, claim_id), served)
    finally:
        _stop(process)


def _same_person(browser: Any, served: Served, claim_id: int) -> None:
    zhang = _login(browser, served, "zhang", "")  # the demo: any name logs in, with every role
    zhang.goto(f"{served.url}/console/claims/{claim_id}")
    zhang.locator("#line-1 select.decision").select_option("accept")
    zhang.locator("#line-1 button.decide-go").click()
    zhang.wait_for_load_state()
    assert "第 1 行：通过" in zhang.locator("#outcome").inner_text()
    verdict = zhang.locator("#line-1 td").nth(7).inner_text()  # the 审核结果 column, as the line now reads
    assert verdict.startswith("通过") and "拒付" not in verdict, verdict
    zhang.click("#step-first_review")
    zhang.wait_for_load_state()
    assert zhang.locator("#state").inner_text() == "已初审"
    zhang.click("#step-second_review")  # the role table lets the demo's user try; the service refuses the person
    zhang.wait_for_load_state()
    assert "未能复审" in zhang.locator("#problem").inner_text()
    assert zhang.locator("#state").inner_text() == "已初审"
    _shot(zhang, "claim-same-person-refused")
    li = _login(browser, served, "li", "")
    li.goto(f"{served.url}/console/claims/{claim_id}")
    li.click("#step-second_review")
    li.wait_for_load_state()
    assert li.locator("#state").inner_text() == "已复审"
    with sqlite3.connect(served.db) as conn:
        confirms = [(operator, json.loads(after)) for operator, after in conn.execute(
            "SELECT operator, after FROM county_audit WHERE action = 'claims.confirm' ORDER BY id")]
    # zhang's attempt is on the trail as refused; li's 复审 is the one that moved the claim
    assert [operator for operator, _after in confirms] == ["zhang", "li"]
    assert "另一人" in confirms[0][1]["refused"] and confirms[1][1]["state"] == "second_reviewed"

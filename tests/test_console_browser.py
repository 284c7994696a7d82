"""The web console in a real browser: Playwright driving Debian's chromium (/usr/bin/chromium; no browser is
downloaded) against `hisgw serve` as an operator runs it, on free ports, with a credentials file.

A signed hospital (T2) settles the worked example first; then a county admin logs in, searches the journal,
opens the 2304 exchange side by side, follows the settlement's fund trace (its figures checked against the
answer the HIS got), asks for the clear view (audited); an operator starts a simulator run and watches it finish;
a reader is refused the operator's page; a hospital sees only its own rows. Each page is saved as a screenshot
under var/artifacts/console/ (printed)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from gateway.auth.credentials import load_credentials
from simulators.nhsa_client import NhsaClient
from tests.processes import start_serve
from tests.support import CATALOGUE, HOSPITALS, PERSONS, Journey, ok, person_rows

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "artifacts" / "console"
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is needed: apt-get install chromium"),
              pytest.mark.timeout(300)]

CREDENTIALS = """
[hospitals.T2]
paasid = "paas-t2"
secret = "t2-secret-0123456789"

[hospitals.T3]
secret = "t3-secret-0123456789"

[county.console]
token = "county-admin-token-0001"
role = "admin"

[county.jingban]
token = "county-operator-token-01"
role = "operator"

[county.shenhe]
token = "county-reviewer-token-01"
role = "reviewer"

[county.auditor]
token = "county-reader-token-001"
role = "reader"
"""
T = TypeVar("T")
ADMIN = {"Authorization": "Bearer county-admin-token-0001"}


class Served:
    def __init__(self, url: str, db: Path, answer: dict[str, Any]) -> None:
        self.url, self.db, self.answer = url, db, answer

    @property
    def setl_id(self) -> str:
        return str(self.answer["setlinfo"]["setl_id"])


async def _settle(url: str, credentials: Path) -> dict[str, Any]:
    """Reference data in (as the county system sends it), then T2 settles the worked example, signed."""
    hospitals = {c.fixmedins_code: c for c in load_credentials(credentials).hospitals.values()}
    async with aiohttp.ClientSession() as session:
        for kind, rows in (("hospitals", HOSPITALS), ("catalogue", CATALOGUE), ("persons", person_rows())):
            async with session.post(f"{url}/county/v1/{kind}", json={"data": rows}, headers=ADMIN) as response:
                assert response.status == 200, await response.text()
        journey = Journey(NhsaClient(session, url, "T2", credential=hospitals["T2"]), PERSONS["poor"])
        ok(await journey.admit(ipt_no="ZY-0001"))
        ok(await journey.upload(journey.line("A", "8000"), journey.line("B10", "2500"), journey.line("C", "1500")))
        ok(await journey.discharge("2026-03-10 09:00:00"))
        return ok(await journey.settle("12000.00"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("console")
    (folder / "credentials.toml").write_text(CREDENTIALS, encoding="utf-8")
    config = folder / "hisgw.toml"
    config.write_text('[auth]\ncredentials = "credentials.toml"\n', encoding="utf-8")
    db = folder / "hisgw.sqlite"
    process, url, _dll = start_serve(db, folder / "serve.log", config=config)
    try:
        answer = _in_thread(lambda: asyncio.run(_settle(url, folder / "credentials.toml")))
        yield Served(url, db, answer)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()


def _in_thread(work: Callable[[], T]) -> T:
    """`work` on a thread of its own: pytest-asyncio keeps an event loop running on the tests' thread, where
    neither asyncio.run nor Playwright's sync API may run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _in_browser(body: Callable[[Any, Served], None], served: Served) -> None:
    """`body(browser, served)` with Debian's chromium, on a thread of its own."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {ARTIFACTS}")

    def run() -> None:
        with playwright_sync.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                body(chromium, served)
            finally:
                chromium.close()

    _in_thread(run)


def _login(browser: Any, served: Served, account: str, password: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{served.url}/console/")
    assert "/console/login" in page.url
    page.fill("#account", account)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_url("**/console/dashboard")
    return page


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_wrong_password_is_refused_and_a_form_without_its_token_too(served: Served) -> None:
    _in_browser(_a_wrong_password_is_refused_and_a_form_without_its_token_too, served)


def _a_wrong_password_is_refused_and_a_form_without_its_token_too(browser: Any, served: Served) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{served.url}/console/login")
    page.fill("#account", "console")
    page.fill("#password", "not-the-token-000000")
    page.click("#login")
    assert page.locator("#problem").inner_text() == "账号或口令不正确"
    _shot(page, "login-refused")
    # a cross-site form post carries no CSRF token: refused before the password is even looked at
    response = page.request.post(f"{served.url}/console/login",
                                 form={"account": "console", "password": "county-admin-token-0001"})
    assert response.status == 403


def test_admin_searches_the_journal_opens_the_exchange_and_follows_the_trace(served: Served) -> None:
    _in_browser(_admin_searches_the_journal_opens_the_exchange_and_follows_the_trace, served)


def _admin_searches_the_journal_opens_the_exchange_and_follows_the_trace(browser: Any, served: Served) -> None:
    with sqlite3.connect(served.db) as conn:  # a 2304 attempt whose outcome was never committed (a crash)
        conn.execute("INSERT INTO journal (id, received_at, fixmedins_code, dialect, transport, msgid, trade, infno, "
                     "psn_no, mdtrt_id, setl_id, protection, encoding, request, call) SELECT max(id) + 1000, "
                     "strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime'), 'T2', 'nhsa-http', 'http', 'LOST-0001', "
                     "'2304', '2304', '', '', '', 'mask', 'utf-8', x'7b7d', x'' FROM journal")
    page = _login(browser, served, "console", "county-admin-token-0001")
    assert "2304" in page.locator("#trades").inner_text()
    lost = page.locator("#unknown tr", has_text="LOST-0001").inner_text()
    assert "5999" in lost and "同一 msgid" in lost  # what to do about it
    http_row = page.locator("#listeners tr", has_text="http").first.locator("td").all_inner_texts()
    with sqlite3.connect(served.db) as conn:  # every journalled HTTP exchange was admitted by the listener
        journalled = conn.execute("SELECT count(*) FROM journal WHERE transport = 'http' "
                                  "AND msgid <> 'LOST-0001'").fetchone()[0]
    assert journalled >= 4 and int(http_row[1]) >= journalled, (http_row, journalled)
    _shot(page, "dashboard")
    page.click("#menu-journal")
    page.fill("#q-setl", served.setl_id)
    page.click("#q-go")
    rows = page.locator("#rows tr")
    text = page.locator("#rows").inner_text()
    assert "2304" in text and served.setl_id in text
    _shot(page, "journal")
    # the 2304 row: open it
    page.locator("#rows tr", has_text="→2304").locator("a").first.click()
    page.wait_for_url("**/console/exchange/*")
    call = json.loads(page.locator("#call").inner_text())
    assert call  # the canonical call, as JSON
    answer = json.loads(page.locator("#answer").inner_text())
    assert answer["output"]["setlinfo"]["setl_id"] == served.setl_id
    assert "2304" in page.locator("#request").inner_text()
    timeline = page.locator("#timeline").inner_text()
    for infno in ("2401", "2301", "2402", "2304"):
        assert f"→{infno}" in timeline
    certno = PERSONS["poor"].certno
    assert certno not in page.content()  # masked by default
    _shot(page, "exchange")
    page.click("#settlement-link")
    page.wait_for_url(f"**/console/settlement/{served.setl_id}")
    trace = page.locator("#trace").inner_text()
    details = served.answer["setldetail"]
    for detail in details:  # every fund that paid, with the amount the HIS was answered
        assert detail["fund_pay_type"] in trace
        assert f"{Decimal(str(detail['fund_payamt'])):.2f}" in trace
    setlinfo = served.answer["setlinfo"]
    figures = page.locator("#figures").inner_text()
    for name in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "hosp_part_amt"):
        assert f"{Decimal(str(setlinfo[name])):.2f}" in figures
    assert "✓" in page.locator("#identity").inner_text()
    assert certno not in page.content()
    _shot(page, "settlement")
    page.click("#clear")
    page.wait_for_url("**clear=1")
    assert certno in page.content()
    with sqlite3.connect(served.db) as conn:  # the clear view is on the audit trail, with who and what
        audited = conn.execute("SELECT operator, role, subject FROM county_audit WHERE action = 'console.clear'"
                               ).fetchall()
    assert ("console", "admin", f"settlement:{served.setl_id}") in audited
    with page.expect_popup() as popup:
        page.click("#sheet")
    sheet = popup.value
    sheet.wait_for_load_state()
    assert "一站式" in sheet.content()
    _shot(sheet, "sheet")
    del rows


def test_keyset_paging_walks_back_through_every_row_once(served: Served) -> None:
    _in_browser(_keyset_paging_walks_back_through_every_row_once, served)


def _keyset_paging_walks_back_through_every_row_once(browser: Any, served: Served) -> None:
    page = _login(browser, served, "auditor", "county-reader-token-001")
    with sqlite3.connect(served.db) as conn:
        expected = [row[0] for row in conn.execute("SELECT id FROM journal ORDER BY id DESC")]
    page.goto(f"{served.url}/console/journal")
    seen: list[int] = []
    while True:
        seen += [int(text) for text in page.locator("#rows tr td:first-child a").all_inner_texts()]
        older = page.locator("#older")
        if older.count() == 0:
            break
        older.click()
        page.wait_for_load_state()
    assert seen == expected


def test_operator_runs_the_simulator_and_watches_it_finish_a_reader_may_not(served: Served) -> None:
    _in_browser(_operator_runs_the_simulator_and_watches_it_finish_a_reader_may_not, served)


def _operator_runs_the_simulator_and_watches_it_finish_a_reader_may_not(browser: Any, served: Served) -> None:
    page = _login(browser, served, "jingban", "county-operator-token-01")
    page.click("#menu-simulator")
    page.check("#d-nhsa-http")
    page.fill("#only", "worked")
    _shot(page, "simulator")
    page.click("#run")
    page.wait_for_url("**/console/simulator/2*")
    page.wait_for_function("document.getElementById('state').textContent !== 'running'", timeout=240_000)
    assert page.locator("#state").inner_text() == "passed", page.locator("#tail").inner_text()
    assert page.locator("#scenarios tr").count() > 1  # the scenarios, live, as they finished
    _shot(page, "simulator-run")
    page.click("#report")
    page.wait_for_load_state()
    assert "nhsa-http" in page.content()
    _shot(page, "simulator-report")
    reader = _login(browser, served, "auditor", "county-reader-token-001")
    reader.goto(f"{served.url}/console/simulator")
    assert reader.locator("#start").count() == 0  # no form to start one
    assert reader.locator("#runs").inner_text().count("passed") >= 1  # but the runs are listed
    csrf = reader.locator("form input[name=csrf]").first.get_attribute("value")
    response = reader.request.post(f"{served.url}/console/simulator", form={"csrf": csrf, "dialect": "nhsa-http"})
    assert response.status == 403 and "无权访问" in response.text()
    reader.goto(f"{served.url}/console/settlement/{served.setl_id}?clear=1")
    assert PERSONS["poor"].certno not in reader.content()  # a reader never sees it clear
    assert reader.locator("#clear").count() == 0
    _shot(reader, "reader-refused-clear")


def test_a_hospital_sees_only_its_own(served: Served) -> None:
    _in_browser(_a_hospital_sees_only_its_own, served)


def _a_hospital_sees_only_its_own(browser: Any, served: Served) -> None:
    own = _login(browser, served, "paas-t2", "t2-secret-0123456789")
    own.goto(f"{served.url}/console/settlement/{served.setl_id}")
    assert own.locator("#trace").count() == 1
    other = _login(browser, served, "T3", "t3-secret-0123456789")
    other.goto(f"{served.url}/console/journal")
    assert "→2304" not in other.locator("#rows").inner_text()
    other.goto(f"{served.url}/console/settlement/{served.setl_id}")
    assert other.locator("#trace").count() == 0 and "不存在" in other.content()
    other.goto(f"{served.url}/console/county")
    assert other.locator("#refused").count() == 1
    _shot(other, "hospital-refused-county")
    other.goto(f"{served.url}/console/mappings")
    assert "nhsa-http" in other.locator("#dialects").inner_text()
    _shot(other, "mappings")


async def _upload_list(url: str) -> int:
    """The operator uploads 民政's list (GBK CSV) naming 城镇低保 TP0002 as 农村低保 0003: one changed row."""
    person = PERSONS["urban_dibao"]
    name = next(row["psn_name"] for row in person_rows() if row["psn_no"] == person.psn_no)
    data = f"序号,乡镇,姓名,公民身份号码,救助类别\r\n1,城关镇,{name},{person.certno},0003\r\n".encode("gbk")
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/county/v1/identities/imports?source=民政&as_of=2026-03-01&filename=mz.csv", data=data,
            headers={"Authorization": "Bearer county-operator-token-01"}) as response:
        body = await response.json()
        assert response.status == 201, body
        return int(body["import_id"])


def test_a_reviewer_applies_an_identity_list_its_uploader_may_not(served: Served) -> None:
    import_id = _in_thread(lambda: asyncio.run(_upload_list(served.url)))
    _in_browser(lambda browser, served: _review(browser, served, import_id), served)


def _review(browser: Any, served: Served, import_id: int) -> None:
    uploader = _login(browser, served, "jingban", "county-operator-token-01")
    uploader.goto(f"{served.url}/console/county?import={import_id}")
    assert uploader.locator("#apply").count() == 0  # an operator's role may not apply
    assert PERSONS["urban_dibao"].certno not in uploader.content()  # the diff's ID numbers masked
    page = _login(browser, served, "shenhe", "county-reviewer-token-01")
    page.click("#menu-county")
    page.click(f"#imports a:text-is('{import_id}')")
    assert "changed" in page.locator("#import-rows").inner_text()
    _shot(page, "county-import")
    page.fill("input[name=note]", "核对无误")
    page.click("#apply")
    page.wait_for_load_state()
    assert "applied" in page.locator("#outcome").inner_text()
    with sqlite3.connect(served.db) as conn:
        identities = conn.execute("SELECT identities FROM persons WHERE psn_no = ?",
                                  (PERSONS["urban_dibao"].psn_no,)).fetchone()[0]
        audited = conn.execute("SELECT operator FROM county_audit WHERE action = 'identities.apply' AND subject = ?",
                               (f"import:{import_id}",)).fetchall()
    assert "0003" in identities.split(",") and audited == [("shenhe",)]
    _shot(page, "county-applied")


def test_an_exchange_replayed_against_a_test_gateway_never_this_one(served: Served, tmp_path: Path) -> None:
    """A second, empty gateway (no credentials: a test gateway) gets the 2304 as the journal kept it; it knows
    no such hospital, so its answer differs from the recorded one, and the page shows both and the difference."""
    process, test_url, _dll = start_serve(tmp_path / "test.sqlite", tmp_path / "test.log")
    try:
        _in_browser(lambda browser, served: _replay(browser, served, test_url), served)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _replay(browser: Any, served: Served, test_url: str) -> None:
    page = _login(browser, served, "console", "county-admin-token-0001")
    page.goto(f"{served.url}/console/journal?setl={served.setl_id}")
    page.locator("#rows tr", has_text="→2304").locator("a").first.click()
    page.wait_for_url("**/console/exchange/*")
    page.fill("#replay-target", served.url)
    page.click("#replay-go")
    page.wait_for_load_state()
    assert "不能重放到本网关" in page.locator("#replay-problem").inner_text()
    page.fill("#replay-target", test_url)
    page.click("#replay-go")
    page.wait_for_load_state()
    replayed = json.loads(page.locator("#replay-answer").inner_text())
    assert replayed["infcode"] == -1 and replayed["err_msg"].startswith("[HG")  # that gateway knows no T2
    diff = page.locator("#replay-diff").inner_text()
    assert "-" in diff and served.setl_id in diff  # the recorded answer's settlement, gone in the replay's
    _shot(page, "exchange-replay")

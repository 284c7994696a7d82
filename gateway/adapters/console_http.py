"""The web console under /console/: server-rendered pages (aiohttp-jinja2) for joint-testing engineers, the
gateway's operators and the county's reviewers, in Chinese.

A sub-application, so its session middleware and templates never touch a dialect's request. Login is with the
credentials file: a county operator's name and token, or a hospital's paasid (or code) and secret; without a
credentials file (the demo) anyone may log in under a name. The session is an encrypted, signed cookie
(aiohttp-session's Fernet storage, a key made at start: a restart logs everyone out), HttpOnly, SameSite=Strict;
every form carries the session's CSRF token. What a page shows is decided by gateway/county/roles.py ACTIONS
(`console.*`); a hospital's user sees only its own hospital's rows. ID numbers and names are masked unless the
role may see them clear (`console.clear`), and every clear view is an audit entry (gateway/county/audit.py)."""

from __future__ import annotations

import contextlib
import difflib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import aiohttp_jinja2
import jinja2
import simplejson
from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from gateway.adapters.http_listener import AUTH, DIALECTS, GATEWAY
from gateway.adapters.ops_http import BACKUPS
from gateway.console import dashboard, words
from gateway.console.simruns import RunRefused, Runs
from gateway.console.throttle import LoginThrottle
from gateway.county import identity_service
from gateway.county.audit import record
from gateway.county.errors import CountyRefusal
from gateway.county.review import ReviewEvent
from gateway.county.roles import ACTIONS, DEMO_ROLE, HOSPITAL_ROLE, ROLES, Actor, may
from gateway.county.sheet import render as sheet_render
from gateway.county.sheet.ledger import Asker, issue_sheet
from gateway.errors import GatewayError
from gateway.journal.model import OUTCOMES, JournalQuery, JournalRow, parse_query, stamp
from gateway.journal.present import body_text
from gateway.journal.protect import Protection
from gateway.log import mask_text
from gateway.refdata.idcard import mask_certno, mask_name

PREFIX = "/console"
PAGE = 50  # journal rows per page
RUNS: web.AppKey[Runs] = web.AppKey("console_runs", Runs)
THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("console_throttle", LoginThrottle)
_KEYLESS = Protection()  # opens masked and clear bodies, never encrypted ones
MENU = (("dashboard", "仪表盘", "console.view"), ("journal", "交换日志", "console.view"),
        ("mappings", "映射文件", "console.view"), ("simulator", "模拟联调", "console.view"),
        ("policies", "政策维护", "policy.read"), ("county", "身份名单", "identities.read"),
        ("claims", "申报审核", "claims.read"), ("account", "一站式专户", "account.read"),
        ("reports", "报表下载", "reports.read"))


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    hospital: str  # a hospital user's fixmedins_code, else ""

    @property
    def actor(self) -> Actor:
        return Actor(self.name if not self.hospital else f"hospital:{self.hospital}", self.role)

    def may(self, action: str) -> bool:
        return may(self.actor, action)

    @property
    def role_name(self) -> str:
        return {HOSPITAL_ROLE: "医院用户", DEMO_ROLE: "演示"}.get(self.role) or ROLES.get(self.role, self.role)


def setup(app: web.Application, runs_folder: Path) -> None:
    """Mount the console on the gateway's app."""
    console = web.Application()
    setup_session(console, EncryptedCookieStorage(secrets.token_bytes(32), cookie_name="hisgw_console",
                                                  httponly=True, samesite="Strict", path=f"{PREFIX}/",
                                                  max_age=8 * 3600))
    env = aiohttp_jinja2.setup(console, loader=jinja2.PackageLoader("gateway.console", "templates"),
                               autoescape=jinja2.select_autoescape(default=True), context_processors=[_context])
    env.filters.update(words.jinja_filters())
    console.middlewares.append(_pages)  # after the session's: a refused page still reads the session
    console[RUNS] = Runs(runs_folder)
    console[THROTTLE] = LoginThrottle()
    routes = console.router
    routes.add_get("/", index)
    routes.add_get("/login", login_page)
    routes.add_post("/login", login)
    routes.add_post("/logout", logout)
    routes.add_get("/dashboard", dashboard_page)
    routes.add_get("/journal", journal_page)
    routes.add_get(r"/exchange/{id:\d{1,18}}", exchange_page)
    routes.add_post(r"/exchange/{id:\d{1,18}}/replay", exchange_replay)
    routes.add_get(r"/settlement/{setl_id:[0-9A-Za-z]{1,40}}", settlement_page)
    routes.add_get(r"/settlement/{setl_id:[0-9A-Za-z]{1,40}}/sheet", sheet_page)
    routes.add_get("/mappings", mappings_page)
    routes.add_get("/simulator", simulator_page)
    routes.add_post("/simulator", simulator_start)
    routes.add_get(r"/simulator/{run}", run_page)
    routes.add_get(r"/simulator/{run}/progress", run_progress)
    routes.add_get(r"/simulator/{run}/report", run_report)
    routes.add_get("/county", county_page)
    routes.add_post(r"/county/import/{import_id:\d{1,9}}/{event:apply|refuse}", county_decide)
    from gateway.adapters import console_money, console_policy  # their handlers use this module's helpers

    console_money.add_routes(routes)
    console_policy.add_routes(routes)
    console.on_cleanup.append(_close_runs)
    app.add_subapp(f"{PREFIX}/", console)


async def _close_runs(console: web.Application) -> None:
    await console[RUNS].close()


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(f"{PREFIX}/dashboard")


class PageError(Exception):
    """A page other than the one asked for (refused, missing), rendered by `_pages` with its status."""

    def __init__(self, template: str, context: dict[str, Any], status: int) -> None:
        super().__init__(template)
        self.template, self.context, self.status = template, context, status


_NO_ROUTE = web.HTTPNotFound().text  # what the router raises for a path no route matches


@web.middleware
async def _pages(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except PageError as page:
        return aiohttp_jinja2.render_template(page.template, request, page.context, status=page.status)
    except web.HTTPNotFound as missing:
        if missing.text != _NO_ROUTE:  # a handler's own 404 (a report not made yet) keeps its words
            raise
        return aiohttp_jinja2.render_template("missing.html", request, {"what": "您要的页面"}, status=404)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def _context(request: web.Request) -> dict[str, Any]:
    session = await get_session(request)
    user = _user_of(session)
    menu = [(page, title) for page, title, action in MENU if user is not None and user.may(action)]
    return {"user": user, "menu": menu, "csrf": session.get("csrf", ""), "prefix": PREFIX, "path": request.path,
            "demo": request.config_dict[AUTH] is None}


def _user_of(session: Any) -> User | None:
    if "user" not in session:
        return None
    entry = session["user"]
    return User(str(entry["name"]), str(entry["role"]), str(entry.get("hospital", "")))


async def require(request: web.Request, action: str = "console.view") -> User:
    """The logged-in user allowed `action`; else to the login page, or a 403 page naming what is missing."""
    user = _user_of(await get_session(request))
    if user is None:
        raise web.HTTPSeeOther(f"{PREFIX}/login?next={request.path_qs}")
    if not user.may(action):
        raise PageError("refused.html", {"action": action, "what": ACTIONS.get(action, ("", ()))[0]},
                                             status=403)
    return user


async def check_csrf(request: web.Request, form: Any) -> None:
    session = await get_session(request)
    expected, given = str(session.get("csrf", "")), str(form.get("csrf", ""))
    if not expected or not hmac.compare_digest(expected, given):
        raise web.HTTPForbidden(text="CSRF 校验失败：请刷新页面后重试")


# ---- login --------------------------------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    csrf = session.setdefault("csrf", secrets.token_urlsafe(24))  # the context processor ran before this
    return aiohttp_jinja2.render_template("login.html", request, {"next": _next(request.query.get("next", "")),
                                                                 "problem": "", "csrf": csrf})


def _next(target: str) -> str:
    return target if target.startswith(f"{PREFIX}/") and "//" not in target else f"{PREFIX}/dashboard"


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    await check_csrf(request, form)
    account, password = str(form.get("account", "")).strip()[:64], str(form.get("password", ""))
    throttle = request.app[THROTTLE]
    user = None if throttle.locked(account) else _authenticate(request, account, password)
    if user is None:
        if not throttle.locked(account):
            throttle.failed(account)
        problem = ("该账号连续登录失败次数过多，请 5 分钟后再试" if throttle.locked(account) else "账号或口令不正确")
        return aiohttp_jinja2.render_template("login.html", request, {"next": _next(str(form.get("next", ""))),
                                                                     "problem": problem}, status=401)
    throttle.succeeded(account)
    session = await new_session(request)  # a fresh session (and CSRF token) at every login
    session["user"] = {"name": user.name, "role": user.role, "hospital": user.hospital}
    session["csrf"] = secrets.token_urlsafe(24)
    raise web.HTTPSeeOther(_next(str(form.get("next", ""))))


def _authenticate(request: web.Request, account: str, password: str) -> User | None:
    authenticator = request.config_dict[AUTH]
    if authenticator is None:  # the demo: a name is enough
        return User(account[:32] or "demo", DEMO_ROLE, "") if account.isprintable() else None
    found: User | None = None
    for operator in authenticator.credentials.county.values():
        if operator.name == account and hmac.compare_digest(operator.token.encode(), password.encode()):
            found = User(operator.name, operator.role, "")
    for hospital in authenticator.credentials.hospitals.values():
        if account in (hospital.paasid, hospital.fixmedins_code) and hmac.compare_digest(
                hospital.secret.encode(), password.encode()):
            found = User(hospital.fixmedins_code, HOSPITAL_ROLE, hospital.fixmedins_code)
    return found


async def logout(request: web.Request) -> web.Response:
    await check_csrf(request, await request.post())
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther(f"{PREFIX}/login")


# ---- dashboard ----------------------------------------------------------------------------------------------

async def dashboard_page(request: web.Request) -> web.Response:
    user = await require(request)
    window = request.query.get("window", "1h")
    if window not in dashboard.WINDOWS:
        window = "1h"
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store
    since = stamp(gateway.now() - timedelta(minutes=dashboard.WINDOWS[window][1]))
    rows = await gateway.run(lambda: store.journal_window(since, dashboard.MAX_ROWS))
    if user.hospital:
        rows = [row for row in rows if row[4] == user.hospital]
    unknown = await gateway.run(lambda: store.journal_search(
        JournalQuery(outcome="unknown", hospital=user.hospital, limit=100)))
    last = gateway.now().date()
    first = last - timedelta(days=dashboard.DAYS - 1)
    ledger_since, ledger_until = datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())
    days = await gateway.run(lambda: dashboard.daily(
        (row for row in store.ledger(ledger_since, ledger_until)
         if not user.hospital or row.record.fixmedins_code == user.hospital), first, last))
    bars, top = dashboard.bars(days)
    schedule = request.config_dict.get(BACKUPS)
    return aiohttp_jinja2.render_template("dashboard.html", request, {
        "windows": dashboard.WINDOWS, "window": window, "since": since, "figures": dashboard.figures(rows),
        "rows": len(rows), "capped": len(rows) >= dashboard.MAX_ROWS, "refusals": dashboard.refusals(rows),
        "unknown": [(row, dashboard.advice(row.infno)) for row in unknown],
        "listeners": dashboard.listener_figures(gateway.metrics.registry.get_sample_value),
        "commit_failures": int(gateway.metrics.registry.get_sample_value("hisgw_store_commit_failures_total") or 0),
        "days": days, "fund_totals": dashboard.fund_totals(days), "bars": bars, "top": top,
        "fund_names": {f.code: f.name for p in gateway.deps.policies.versions for f in p.funds},
        "chart": dashboard.CHART, "backup": schedule.status if schedule is not None and not user.hospital else None})


# ---- journal ------------------------------------------------------------------------------------------------

JOURNAL_FIELDS = (("hospital", "医疗机构"), ("msgid", "报文ID"), ("person", "人员编号"), ("stay", "就诊ID"),
                  ("setl", "结算ID"), ("since", "起始时间"), ("until", "截止时间"))


async def journal_page(request: web.Request) -> web.Response:
    user = await require(request)
    params = {key: value for key, value in request.query.items() if value.strip()}
    if user.hospital:
        params["hospital"] = user.hospital
    problem = ""
    rows: list[JournalRow] = []
    try:
        query = parse_query({**params, "limit": str(PAGE + 1)})
    except GatewayError as exc:
        problem = exc.message
    else:
        gateway = request.config_dict[GATEWAY]
        rows = await gateway.run(lambda: gateway.deps.store.journal_search(query))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    next_params = {k: v for k, v in params.items() if k != "before"}
    if more:
        next_params["before"] = str(rows[-1].id)
    return aiohttp_jinja2.render_template("journal.html", request, {
        "fields": JOURNAL_FIELDS, "params": params, "outcomes": OUTCOMES, "rows": rows, "problem": problem,
        "next": "?" + urlencode(next_params) if more else "",
        "newest": "?" + urlencode({k: v for k, v in params.items() if k != "before"}) if "before" in params else ""})


# ---- one exchange -------------------------------------------------------------------------------------------

async def _exchange(request: web.Request, user: User, entry_id: int) -> JournalRow | None:
    gateway = request.config_dict[GATEWAY]
    rows = await gateway.run(lambda: gateway.deps.store.journal_search(
        JournalQuery(before=entry_id + 1, limit=1, raw=True, hospital=user.hospital)))
    return rows[0] if rows and rows[0].id == entry_id else None


async def exchange_page(request: web.Request, replay: dict[str, Any] | None = None,
                        status: int = 200) -> web.Response:
    user = await require(request)
    entry_id = int(request.match_info["id"])
    row = await _exchange(request, user, entry_id)
    if row is None:
        raise PageError("missing.html", {"what": f"交换记录 {entry_id}"}, status=404)
    clear = await _clear_view(request, user, f"exchange:{entry_id}")
    gateway = request.config_dict[GATEWAY]
    names = await _names(request, row.keys.psn_no) if not clear else ()
    bodies = {name: _shown(body_text(data, encoding, _KEYLESS), names, clear)
              for name, data, encoding in (("request", row.request, row.encoding), ("call", row.call, "utf-8"),
                                           ("answer", row.answer, row.encoding))}
    timeline: list[JournalRow] = []
    if row.keys.mdtrt_id:
        timeline = await gateway.run(lambda: gateway.deps.store.journal_search(
            JournalQuery(stay=row.keys.mdtrt_id, hospital=user.hospital, limit=500)))
        timeline.reverse()
    dialect = request.config_dict[DIALECTS]().get(row.dialect)
    replayable = (dialect is not None and dialect.transport in ("http", "soap") and row.request is not None
                  and row.protection != "encrypt" and user.may("simulator.run") and not user.hospital)
    return aiohttp_jinja2.render_template("exchange.html", request, {
        "row": row, "bodies": bodies, "timeline": timeline, "clear": clear,
        "may_clear": user.may("console.clear"), "encrypted": row.protection == "encrypt",
        "replayable": replayable, "replay": replay or {}}, status=status)


REPLAY_TIMEOUT = 15.0  # s
REPLAY_MAX = 4 * 1024 * 1024  # bytes of the test gateway's answer read at most


async def exchange_replay(request: web.Request) -> web.Response:
    """The exchange's request, as the journal keeps it, sent to a test gateway (never this one) at the
    dialect's endpoint; the page shows its answer beside the recorded one, and their difference."""
    user = await require(request, "simulator.run")
    form = await request.post()
    await check_csrf(request, form)
    entry_id = int(request.match_info["id"])
    target = str(form.get("target", "")).strip().rstrip("/")
    row = await _exchange(request, user, entry_id)
    dialect = request.config_dict[DIALECTS]().get(row.dialect) if row is not None else None
    replay: dict[str, Any] = {"target": target}
    if row is None or dialect is None or dialect.transport not in ("http", "soap") or row.request is None:
        replay["problem"] = "该交换不能重放（只重放 HTTP/SOAP 方言、保存了报文的交换）"
    elif user.hospital:
        replay["problem"] = "医院用户不能重放到其他网关"
    elif not re.match(r"^https?://[0-9A-Za-z.\-\[\]:]+$", target):
        replay["problem"] = "测试网关应为 http(s)://主机:端口"
    elif target == f"{request.scheme}://{request.host}":
        replay["problem"] = "不能重放到本网关（生产）：请填写测试网关"
    else:
        body = _KEYLESS.open(row.request) or b""
        content_type = ("text/xml" if dialect.transport == "soap" else "application/json") + f"; charset={row.encoding}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLAY_TIMEOUT)) as session, \
                    session.post(target + dialect.endpoint, data=body, headers={"Content-Type": content_type}) as got:
                answer = (await got.content.read(REPLAY_MAX)).decode(row.encoding, errors="replace")
                replay["status"] = got.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            replay["problem"] = f"测试网关无应答：{type(exc).__name__} {exc}"[:300]
        else:
            recorded = _shown(body_text(row.answer, row.encoding, _KEYLESS), (), False) or ""
            replayed = _shown(answer, (), False) or ""
            replay["answer"] = replayed
            replay["diff"] = "\n".join(difflib.unified_diff(recorded.splitlines(), replayed.splitlines(),
                                                            "记录的应答", "测试网关的应答", lineterm="")) or "（相同）"
    return await exchange_page(request, replay, 400 if "problem" in replay else 200)


def _shown(text: str | None, names: tuple[str, ...], clear: bool) -> str | None:
    """A body as the page shows it: pretty JSON when it is JSON; masked unless a clear view was asked for."""
    if text is None:
        return None
    with contextlib.suppress(ValueError):  # Decimal both ways: 12000.00 stays 12000.00, as the HIS sent it
        text = simplejson.dumps(simplejson.loads(text, use_decimal=True), use_decimal=True, ensure_ascii=False,
                                indent=2)
    return text if clear else mask_text(text, names)


async def _names(request: web.Request, psn_no: str) -> tuple[str, ...]:
    if not psn_no:
        return ()
    gateway = request.config_dict[GATEWAY]
    person = await gateway.run(lambda: gateway.deps.store.person(psn_no))
    return (person.psn_name,) if person is not None else ()


async def _clear_view(request: web.Request, user: User, subject: str) -> bool:
    """?clear=1 by a role that may: True, with its audit entry committed first (no entry, no clear view)."""
    if request.query.get("clear") != "1" or not user.may("console.clear"):
        return False
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store

    def audited() -> None:
        with store.transaction():
            record(store, user.actor, "console.clear", subject, None, {"page": request.path}, uuid.uuid4().hex,
                   gateway.now())

    await gateway.run(audited)
    return True


# ---- a settlement -------------------------------------------------------------------------------------------

async def settlement_page(request: web.Request) -> web.Response:
    user = await require(request)
    setl_id = request.match_info["setl_id"]
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store
    settlement = await gateway.run(lambda: store.settlement(setl_id))
    if settlement is None or (user.hospital and settlement.fixmedins_code != user.hospital):
        raise PageError("missing.html", {"what": f"结算 {setl_id}"}, status=404)
    clear = await _clear_view(request, user, f"settlement:{setl_id}")
    person = await gateway.run(lambda: store.person(settlement.psn_no))
    history = await gateway.run(lambda: store.journal_search(JournalQuery(setl=setl_id, limit=200)))
    history.reverse()
    related = [r for r in history if r.infno in ("2304", "2305", "2601", "5998")]
    reverses = settlement.reverses
    original = await gateway.run(lambda: store.settlement(reverses)) if reverses else None
    return aiohttp_jinja2.render_template("settlement.html", request, {
        "s": settlement, "f": settlement.figures, "clear": clear, "may_clear": user.may("console.clear"),
        "name": (person.psn_name if clear else mask_name(person.psn_name)) if person else "",
        "certno": (person.certno if clear else mask_certno(person.certno)) if person else "",
        "history": related, "original": original})


async def sheet_page(request: web.Request) -> web.Response:
    """The printable sheet (one more print, 补打 from the second on, as at /sheet/v1/): who the console's user is
    decides as it does there (a hospital its own; the county any, the whole ID number for an admin)."""
    user = await require(request)
    setl_id = request.match_info["setl_id"]
    gateway = request.config_dict[GATEWAY]
    asker = (Asker.of_hospital(user.hospital) if user.hospital else
             Asker(None, f"console:{user.name}", certno_full=False) if user.role == DEMO_ROLE else
             Asker.of_county(user.name, user.role))
    sheet_type = request.query.get("sheet_type", "hunan")
    try:
        issued = await gateway.run(lambda: issue_sheet(gateway.deps.store, gateway.deps.policies, setl_id, asker,
                                                       sheet_type, gateway.now()))
    except GatewayError as exc:
        raise PageError("missing.html", {"what": f"结算单 {setl_id}：{exc.message}"},
                                             status=404) from None
    page = sheet_render.html(issued)
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


# ---- mapping files ------------------------------------------------------------------------------------------

async def mappings_page(request: web.Request) -> web.Response:
    await require(request)
    dialects = request.config_dict[DIALECTS]()
    reload = request.config_dict[GATEWAY].metrics.reload_state
    chosen = dialects.get(request.query.get("dialect", ""))
    return aiohttp_jinja2.render_template("mappings.html", request, {
        "dialects": sorted(dialects.values(), key=lambda d: d.name), "reload": reload, "chosen": chosen})


# ---- simulator ----------------------------------------------------------------------------------------------

async def simulator_page(request: web.Request, problem: str = "") -> web.Response:
    user = await require(request)
    runs = request.app[RUNS]
    return aiohttp_jinja2.render_template("simulator.html", request, {
        "runs": runs.listing(), "busy": runs.busy(), "may_run": user.may("simulator.run"), "problem": problem,
        "dialects": sorted(request.config_dict[DIALECTS]())}, status=400 if problem else 200)


async def simulator_start(request: web.Request) -> web.Response:
    user = await require(request, "simulator.run")
    form = await request.post()
    await check_csrf(request, form)
    runs = request.app[RUNS]
    own = f"{request.scheme}://{request.host}"
    target = str(form.get("target", "")).strip()
    if target and user.hospital:  # a hospital's user never aims the gateway's machine at a host of its choice
        return await simulator_page(request, "医院用户只能对内置测试网关运行模拟联调")
    try:
        info = runs.start(by=user.actor.name, dialects=[str(d) for d in form.getall("dialect", [])],
                          known=set(request.config_dict[DIALECTS]()), target=target,
                          only=str(form.get("only", "")).strip(), own_url=own)
    except RunRefused as exc:
        return await simulator_page(request, str(exc))
    raise web.HTTPSeeOther(f"{PREFIX}/simulator/{info.id}")


async def run_page(request: web.Request) -> web.Response:
    await require(request)
    info = request.app[RUNS].get(request.match_info["run"])
    if info is None:
        raise PageError("missing.html", {"what": "该模拟运行"}, status=404)
    return aiohttp_jinja2.render_template("run.html", request, {
        "run": info, "run_states": words.RUN_STATES, "scenario_results": words.SCENARIO_RESULTS})


async def run_progress(request: web.Request) -> web.Response:
    await require(request)
    runs = request.app[RUNS]
    info = runs.get(request.match_info["run"])
    if info is None:
        raise web.HTTPNotFound()
    return web.json_response({"state": info.state, "exit_code": info.exit_code, "finished_at": info.finished_at,
                              **runs.progress(info.id)}, dumps=lambda d: json.dumps(d, ensure_ascii=False))


async def run_report(request: web.Request) -> web.StreamResponse:
    await require(request)
    path = request.app[RUNS].report(request.match_info["run"])
    if path is None:
        raise web.HTTPNotFound(text="报告尚未生成")
    return web.FileResponse(path, headers={"Content-Type": "text/html; charset=utf-8"})


# ---- county work --------------------------------------------------------------------------------------------

async def county_page(request: web.Request, outcome: str = "", status: int = 200) -> web.Response:
    user = await require(request, "identities.read")
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store
    imports = await gateway.run(lambda: store.imports(50))
    shown_import = None
    wanted_import = request.query.get("import", "")
    if wanted_import.isdigit() and len(wanted_import) < 10:
        shown_import = await gateway.run(lambda: store.import_get(int(wanted_import)))
    rows = []
    if shown_import is not None:
        for row in shown_import.rows[:500]:
            masked = {k: (mask_certno(str(v)) if k == "certno" else mask_name(str(v)) if k in ("name", "psn_name")
                          else v) for k, v in row.items()}
            rows.append(words.import_row(masked))
    return aiohttp_jinja2.render_template("county.html", request, {
        "imports": imports, "shown_import": shown_import, "import_rows": rows, "outcome": outcome,
        "may_upload": user.may("identities.upload")}, status=status)


async def county_decide(request: web.Request) -> web.Response:
    """Apply or refuse an identity list's diff (审核), as POST /county/v1/identities/imports/{id}/… does: the
    same service, its separation of duties (never by the uploader) and its audit entry."""
    event = ReviewEvent(request.match_info["event"])
    user = await require(request, f"identities.{event.value}")
    form = await request.post()
    await check_csrf(request, form)
    note = str(form.get("note", ""))[:500]
    gateway = request.config_dict[GATEWAY]
    import_id = int(request.match_info["import_id"])
    try:
        done = await gateway.run(lambda: identity_service.decide(
            gateway.deps.store, user.actor, import_id, event, None, note, uuid.uuid4().hex, gateway.now()))
    except CountyRefusal as exc:
        return await county_page(request, f"未能{'应用' if event is ReviewEvent.APPLY else '退回'}：{exc.message}",
                                 exc.status)
    return await county_page(request, f"名单导入 {import_id}：{words.named(words.IMPORT_STATES, done['state'])}，"
                                      f"应用 {done['applied']} 行")

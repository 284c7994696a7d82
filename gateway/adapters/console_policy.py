"""The console's policy page (政策维护): the versions, one version checked and compared field by field with the
one it was drafted from, a draft uploaded, its what-if, its publication. Thin handlers over the service the API
uses (gateway/county/policy_service.py), so the role rules, separation of duties (the uploader never
publishes) and every audit entry are the API's: a refused write is on the trail as at /county/v1/policies."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.adapters.console_http import PREFIX, PageError, User, check_csrf, require
from gateway.adapters.http_listener import GATEWAY
from gateway.county import policy_service
from gateway.county.audit import record_refusal
from gateway.county.errors import CountyRefusal
from gateway.county.policies import MAX_POLICY_TEXT
from gateway.county.records import PolicyVersion
from gateway.county.roles import ACTIONS, ROLES
from gateway.engine.policy import PolicyBook
from gateway.errors import GatewayError

PAGE = f"{PREFIX}/policies"


def add_routes(routes: web.UrlDispatcher) -> None:
    routes.add_get("/policies", policies_page)
    routes.add_post("/policies", upload)
    routes.add_post(r"/policies/{version:\d{1,9}}/publish", publish)


def drafted_from(book: PolicyBook, versions: list[PolicyVersion], version: PolicyVersion) -> str | None:
    """The policy_id of the version in force when `version` was uploaded, as the gateway then knew them (the
    configured files, and the versions published before that upload): what its author edited."""
    uploaded = version.uploaded_at
    later = {v.policy_id for v in versions if v.policy_id and v.published_at and v.published_at > uploaded}
    known = [p for p in book.versions if p.policy_id != version.policy_id and p.policy_id not in later]
    in_force = [p for p in known if p.effective_from <= uploaded.date()] or known[:1]
    return max(in_force, key=lambda p: p.effective_from).policy_id if in_force else None


async def _writer(request: web.Request, action: str, subject: str) -> User:
    """The user allowed the write `action`; else its refusal recorded (as the API records it) and a 403 page."""
    user = await require(request, "policy.read")
    if not user.may(action):
        gateway = request.config_dict[GATEWAY]
        reason = f"{user.actor.name} 的角色 {ROLES.get(user.role, user.role)} 不能{ACTIONS[action][0]}"
        await gateway.run(lambda: record_refusal(gateway.deps.store, user.actor, action, subject, reason,
                                                 uuid.uuid4().hex, gateway.now()))
        raise PageError("refused.html", {"action": action, "what": ACTIONS[action][0]}, status=403)
    return user


async def policies_page(request: web.Request, outcome: str = "", problem: str = "",
                        status: int = 200) -> web.Response:
    user = await require(request, "policy.read")
    gateway = request.config_dict[GATEWAY]
    store, book = gateway.deps.store, gateway.deps.policies
    versions = await gateway.run(store.policy_versions)
    by_number = {v.version: v for v in versions}
    wanted = request.query.get("version", "")
    shown = by_number.get(int(wanted)) if wanted.isdigit() and len(wanted) < 10 else None
    uploaded = request.query.get("uploaded", "")
    if shown is not None and uploaded.isdigit() and not outcome:
        found = f"，检查发现 {uploaded} 处错误" if uploaded != "0" else "，检查通过"
        outcome = f"已上传为草案第 {shown.version} 版{found}"
    context: dict[str, Any] = {
        "versions": versions, "in_force": book.versions, "shown": shown, "outcome": outcome, "problem": problem,
        "may_draft": user.may("policy.draft"), "may_publish": user.may("policy.publish"),
        "fund_names": {f.code: f.name for p in book.versions for f in p.funds},
        "since": request.query.get("since", ""), "until": request.query.get("until", ""), "today": gateway.now().date()}
    if shown is not None:
        number = str(shown.version)
        base = request.query.get("base", "") or drafted_from(book, versions, shown)
        context["base"], context["bases"] = base, [p.policy_id for p in book.versions] + [
            str(v.version) for v in versions if v.version != shown.version]
        context["check"] = await gateway.run(lambda: policy_service.check_version(store, shown.version))
        if base and context["check"]["ok"]:
            try:
                context["compare"] = await gateway.run(lambda: policy_service.compare(store, book, base, number))
            except CountyRefusal as exc:
                problem, status = f"不能比较：{exc.message}", exc.status
        if context["since"] and context["until"]:
            try:
                since, until = date.fromisoformat(context["since"]), date.fromisoformat(context["until"])
                context["whatif"] = await gateway.run(lambda: policy_service.what_if(store, book, number, since,
                                                                                       until))
            except ValueError:
                problem, status = "模拟测算失败：起止日期应为存在的日期（年-月-日）", 400
            except (CountyRefusal, GatewayError) as exc:
                problem, status = f"模拟测算失败：{exc.message}", 400
        context["problem"] = problem
    return aiohttp_jinja2.render_template("policies.html", request, context, status=status)


async def upload(request: web.Request) -> web.Response:
    """A draft from the form: a .toml file chosen, or the text pasted."""
    user = await _writer(request, "policy.draft", "policy:draft")
    form = await request.post()
    await check_csrf(request, form)
    chosen = form.get("file")
    raw = chosen.file.read(MAX_POLICY_TEXT + 1) if isinstance(chosen, web.FileField) else b""
    try:
        text = raw.decode("utf-8") if raw else str(form.get("text", ""))
    except UnicodeDecodeError:
        return await policies_page(request, problem="政策文件应为 UTF-8 编码的 TOML 文件", status=400)
    if not text.strip():
        return await policies_page(request, problem="请选择政策文件（TOML），或粘贴其内容", status=400)
    gateway = request.config_dict[GATEWAY]
    try:
        done = await gateway.run(lambda: policy_service.upload_draft(gateway.deps.store, user.actor, text,
                                                                     uuid.uuid4().hex, gateway.now()))
    except CountyRefusal as exc:
        return await policies_page(request, problem=f"未能上传：{exc.message}", status=exc.status)
    mistakes = len(done["mistakes"])
    raise web.HTTPSeeOther(f"{PAGE}?version={done['version']}&uploaded={mistakes}")


async def publish(request: web.Request) -> web.Response:
    number = int(request.match_info["version"])
    user = await _writer(request, "policy.publish", f"policy:{number}")
    form = await request.post()
    await check_csrf(request, form)
    effective: date | None = None
    given = str(form.get("effective_from", "")).strip()
    if given:
        try:
            effective = date.fromisoformat(given)
        except ValueError:
            return await _back(request, number, problem="生效日应为存在的日期（年-月-日）", status=400)
    gateway, now = request.config_dict[GATEWAY], request.config_dict[GATEWAY].now()

    def job() -> dict[str, Any]:
        # on the store thread, between two batches, as the API publishes: the next settlement sees the new book
        document, book = policy_service.publish(gateway.deps.store, gateway.deps.policies, user.actor, number,
                                                effective, uuid.uuid4().hex, now)
        gateway.deps = dataclasses.replace(gateway.deps, policies=book)
        return document

    try:
        done = await gateway.run(job)
    except CountyRefusal as exc:
        return await _back(request, number, problem=f"未能发布：{exc.message}", status=exc.status)
    return await _back(request, number, outcome=f"政策版本 {number} 已发布为 {done['policy_id']}，"
                                                f"自 {done['effective_from']} 起出院的住院按此结算")


async def _back(request: web.Request, number: int, *, outcome: str = "", problem: str = "",
                status: int = 200) -> web.Response:
    """The version's page again, after a POST, with what happened."""
    shown = request.clone(rel_url=request.rel_url.with_path(PAGE).with_query({"version": str(number)}))
    return await policies_page(shown, outcome, problem, status)

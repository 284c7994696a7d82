"""CLI twins of the county API: `hisgw policy …`, `hisgw identities …`, `hisgw audit …`, `hisgw coverage …`.

They call the running gateway over HTTP, so the roles table and the audit trail apply exactly as for a county
system: the operator is the token (--token or HISGW_TOKEN; on a gateway without credentials, --operator names
you). `hisgw policy check FILE` alone works on the file, without a gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from gateway.county.identities import KINDS as DIFF_KINDS

COMMANDS = ("policy", "identities", "audit", "coverage", "agency", "claims", "account")
IDENTITY_ACTIONS = ("diff", "list", "show", "apply", "refuse", "history")


def add_arguments(commands: Any, default_url: str) -> None:
    """Add the county commands to `hisgw`'s subparsers (gateway/cli.py)."""

    def connection(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--url", default=default_url, help=f"the gateway (default {default_url})")
        parser.add_argument("--token", default=os.environ.get("HISGW_TOKEN", ""),
                            help="county operator's token (default: $HISGW_TOKEN)")
        parser.add_argument("--operator", default=os.environ.get("HISGW_OPERATOR", ""),
                            help="your name, on a gateway without credentials (the demo)")
        parser.add_argument("--json", action="store_true", help="print the gateway's JSON answer")

    policy = commands.add_parser("policy", help="policy versions (政策维护): check a file, or list|show|upload|"
                                                "compare|whatif|publish on the gateway")
    policy.add_argument("action", choices=("check", "list", "show", "upload", "compare", "whatif", "publish"))
    policy.add_argument("args", nargs="*", help="check/upload: FILE; show/publish/whatif: VERSION; compare: A B")
    policy.add_argument("--effective", help="publish: effective date YYYY-MM-DD (default: the file's)")
    policy.add_argument("--since", help="whatif: first day of the period (YYYY-MM-DD)")
    policy.add_argument("--until", help="whatif: last day of the period (YYYY-MM-DD)")
    connection(policy)

    identities = commands.add_parser("identities", help="identity lists (身份标识): import the attribute catalogue, "
                                                        "or diff|list|show|apply|refuse|history on the gateway")
    identities.add_argument("action", choices=("import", *IDENTITY_ACTIONS))
    identities.add_argument("args", nargs="*", help="import/diff: FILE; show/apply/refuse: IMPORT_ID; "
                                                    "history: PSN_NO")
    identities.add_argument("--source", help="diff: fupin | minzheng | canlian (扶贫办, 民政, 残联)")
    identities.add_argument("--as-of", help="diff: the list's date (default today)")
    identities.add_argument("--kind", choices=DIFF_KINDS, help="show: only rows of this kind")
    identities.add_argument("--limit", type=int, default=100, help="show: rows (default 100)")
    identities.add_argument("--rows", help="apply: only these diff row ids, e.g. 3,7,12")
    identities.add_argument("--note", default="", help="apply/refuse: a note for the record")
    connection(identities)

    audit = commands.add_parser("audit", help="search the county audit trail (newest first)")
    for name in ("operator-name", "action", "subject", "request-id", "since", "until"):
        audit.add_argument(f"--{name}", default="")
    audit.add_argument("--limit", default="100")
    connection(audit)

    agency = commands.add_parser("agency", help="the agency window (县外住院): settle FILE.json | show SETL_ID | "
                                                "reverse SETL_ID | list on the gateway")
    agency.add_argument("action", choices=("settle", "show", "reverse", "list"))
    agency.add_argument("args", nargs="*", help="settle: the entry (JSON, as POST /county/v1/agency/settlements); "
                                                "show/reverse: SETL_ID; list: none")
    agency.add_argument("--request-id", default="", help="settle/reverse: reuse it to retry safely (default: new)")
    agency.add_argument("--month", default="", help="list: YYYY-MM (default this month; or --since and --until)")
    agency.add_argument("--since", default="", help="list: first day, YYYY-MM-DD")
    agency.add_argument("--until", default="", help="list: last day, YYYY-MM-DD")
    agency.add_argument("--status", default="", choices=("", "valid", "reversed"), help="list: only these")
    agency.add_argument("--limit", default="100", help="list: rows per page (at most 500)")
    agency.add_argument("--offset", default="0", help="list: rows to skip")
    connection(agency)

    coverage = commands.add_parser("coverage", help="应保尽保、未保有因: the month's comparison")
    coverage.add_argument("--month", default="", help="YYYY-MM (default this month)")
    coverage.add_argument("--csv", action="store_true", help="print the CSV")
    connection(coverage)
    from gateway.county import claims_cli

    claims_cli.add_arguments(commands, connection)


def run(args: argparse.Namespace) -> int:
    if args.command == "policy" and args.action == "check":
        return _check_file(args)
    try:
        return asyncio.run(_run(args))
    except aiohttp.ClientError as exc:
        print(f"{args.url}: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2


class UsageError(Exception):
    pass


def _check_file(args: argparse.Namespace) -> int:
    from gateway.county.policies import check

    if len(args.args) != 1:
        raise SystemExit("hisgw policy check FILE")
    path = Path(args.args[0])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    mistakes = check(text, str(path))
    for mistake in mistakes:
        print(f"{path}:{mistake.line or ''}: {mistake.where}: {mistake.problem}", file=sys.stderr)
    if mistakes:
        return 1
    from gateway.engine.policy import load_policy

    print(f"ok: {load_policy(path).policy_id}")
    return 0


def _need(args: argparse.Namespace, count: int, usage: str) -> list[str]:
    if len(args.args) != count:
        raise UsageError(f"usage: hisgw {args.command} {args.action} {usage}")
    return list(args.args)


async def _run(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    if args.operator:
        headers["X-Operator"] = args.operator
    async with aiohttp.ClientSession(base_url=args.url.rstrip("/") + "/", headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=600)) as session:
        client = _Client(session, args.json)
        if args.command == "policy":
            return await _policy(client, args)
        if args.command == "identities":
            return await _identities(client, args)
        if args.command == "agency":
            return await _agency(client, args)
        if args.command in ("claims", "account"):
            from gateway.county import claims_cli

            return await claims_cli.run(client, args, _need)
        if args.command == "audit":
            params = {k: getattr(args, k.replace("-", "_")) for k in ("action", "subject", "since", "until", "limit")}
            params["operator"] = args.operator_name
            params["request_id"] = args.request_id
            status, body = await client.call("GET", "county/v1/audit", params=params)
            if status == 200 and not args.json:
                for e in body["entries"]:
                    print(f"{e['at']}  {e['operator']}({e['role']})  {e['action']}  {e['subject']}  "
                          f"req={e['request_id']}  before={_short(e['before'])}  after={_short(e['after'])}")
            return client.done(status, body)
        params = {"month": args.month} if args.month else {}
        if args.csv:
            params["format"] = "csv"
            async with session.get("county/v1/coverage", params=params) as reply:
                text = await reply.text()
                good = reply.status == 200
                print(text, end="" if good else "\n", file=sys.stdout if good else sys.stderr)
                return 0 if reply.status == 200 else 1
        status, body = await client.call("GET", "county/v1/coverage", params=params)
        if status == 200 and not args.json:
            print(f"{body['month']}: {body['on_lists']} on the lists, {body['insured']} insured, "
                  f"{body['uninsured_without_reason']} uninsured without a reason (未保无因)")
            for code, entry in body["uninsured_with_reason"].items():
                if entry["persons"]:
                    print(f"  未保有因 {code} {entry['name']}: {entry['persons']}")
        return client.done(status, body)


class _Client:
    def __init__(self, session: aiohttp.ClientSession, raw: bool) -> None:
        self.session = session
        self.raw = raw

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, path, **kwargs) as reply:
            text = await reply.text()
            try:
                return reply.status, json.loads(text)
            except ValueError:
                return reply.status, {"code": str(reply.status), "message": text}

    def done(self, status: int, body: Any) -> int:
        if self.raw or status >= 300:
            print(json.dumps(body, ensure_ascii=False, indent=1), file=sys.stdout if status < 300 else sys.stderr)
        return 0 if status < 300 else 1


async def _policy(client: _Client, args: argparse.Namespace) -> int:
    action = args.action
    if action == "list":
        status, body = await client.call("GET", "county/v1/policies")
        if status == 200 and not client.raw:
            for p in body["in_force"]:
                print(f"in force from {p['effective_from']}: {p['policy_id']}")
            for v in body["versions"]:
                print(f"version {v['version']}: {v['status']} by {v['uploaded_by']} {v['uploaded_at']}"
                      + (f" → {v['policy_id']} by {v['published_by']}" if v["policy_id"] else ""))
        return client.done(status, body)
    if action == "upload":
        path = Path(_need(args, 1, "FILE")[0])
        status, body = await client.call("POST", "county/v1/policies", data=path.read_bytes(),
                                         headers={"Content-Type": "text/plain; charset=utf-8"})
        if status == 201 and not client.raw:
            print(f"draft version {body['version']}")
            for m in body["mistakes"]:
                print(f"{path}:{m['line'] or ''}: {m['where']}: {m['problem']}")
        return client.done(status, body)
    if action == "show":
        (version,) = _need(args, 1, "VERSION")
        async with client.session.get(f"county/v1/policies/{quote(version)}", params={"format": "toml"}) as reply:
            print(await reply.text())
            return 0 if reply.status == 200 else 1
    if action == "compare":
        a, b = _need(args, 2, "A B")
        status, body = await client.call("GET", "county/v1/policies/compare", params={"a": a, "b": b})
        if status == 200 and not client.raw:
            print(f"{body['a']} → {body['b']}: {body['count']} fields differ")
            for change in body["changes"]:
                print(f"  {change['field']}: {change['a']} → {change['b']}")
        return client.done(status, body)
    if action == "whatif":
        (version,) = _need(args, 1, "VERSION")
        if not args.since or not args.until:
            raise UsageError("hisgw policy whatif VERSION --since YYYY-MM-DD --until YYYY-MM-DD")
        status, body = await client.call("POST", f"county/v1/policies/{quote(version)}/whatif",
                                         json={"since": args.since, "until": args.until})
        if status == 200 and not client.raw:
            print(f"{body['settlements']} settlements {body['since']}..{body['until']} under {body['policy']}")
            for f in body["funds"]:
                print(f"  {f['fund_pay_type']} {f['name']}: {f['actual']} → {f['draft']} ({f['difference']}), "
                      f"{f['stays_affected']} stays, {f['persons_affected']} persons")
            p = body["personal"]
            print(f"  personal: {p['actual']} → {p['draft']} ({p['difference']})")
            for c in body["largest_changes"]:
                print(f"  {c['setl_id']} {c['psn_no']}: {_short(c['actual'])} → {_short(c['draft'])}")
        return client.done(status, body)
    (version,) = _need(args, 1, "VERSION")
    status, body = await client.call("POST", f"county/v1/policies/{quote(version)}/publish",
                                     json={"effective_from": args.effective} if args.effective else {})
    if status == 200 and not client.raw:
        print(f"published {body['policy_id']} (in force from {body['effective_from']})")
    return client.done(status, body)


async def _identities(client: _Client, args: argparse.Namespace) -> int:
    action = args.action
    if action == "diff":
        path = Path(_need(args, 1, "FILE --source SOURCE")[0])
        if not args.source:
            raise UsageError("--source fupin | minzheng | canlian")
        params = {"source": args.source, "filename": path.name}
        if args.as_of:
            params["as_of"] = args.as_of
        status, body = await client.call("POST", "county/v1/identities/imports", params=params,
                                         data=_with_progress(path))
        if status == 201 and not client.raw:
            print(f"import {body['import_id']} ({body['state']}): "
                  + ", ".join(f"{kind} {n}" for kind, n in body["counts"].items()))
        return client.done(status, body)
    if action == "list":
        status, body = await client.call("GET", "county/v1/identities/imports")
        if status == 200 and not client.raw:
            for i in body["imports"]:
                print(f"{i['import_id']}: {i['office']} {i['filename']} as of {i['as_of']} {i['state']} "
                      f"by {i['uploaded_by']} {_short(i['counts'])}")
        return client.done(status, body)
    if action == "show":
        (import_id,) = _need(args, 1, "IMPORT_ID")
        params = {"limit": str(args.limit), **({"kind": args.kind} if args.kind else {})}
        status, body = await client.call("GET", f"county/v1/identities/imports/{quote(import_id)}", params=params)
        if status == 200 and not client.raw:
            print(f"import {body['import_id']}: {body['office']} {body['filename']} {body['state']} "
                  f"{_short(body['counts'])}")
            for r in body["rows"]:
                print(f"  #{r['id']} line {r['line'] or '-'} {r['kind']}: {r['psn_no'] or '-'} "
                      f"{r['before']} → {r['after']}  {r['reason']}")
        return client.done(status, body)
    if action == "history":
        (psn_no,) = _need(args, 1, "PSN_NO")
        status, body = await client.call("GET", f"county/v1/identities/persons/{quote(psn_no)}/history")
        if status == 200 and not client.raw:
            print(f"{body['psn_no']}: now {body['identities']}")
            for p in body["periods"]:
                print(f"  {p['code']} ({p['source']}) {p['valid_from']} .. {p['valid_to'] or ''}")
        return client.done(status, body)
    (import_id,) = _need(args, 1, "IMPORT_ID")
    decision: dict[str, Any] = {"note": args.note}
    if action == "apply" and args.rows:
        try:
            decision["rows"] = [int(n) for n in args.rows.split(",")]
        except ValueError as exc:
            raise UsageError("--rows 3,7,12") from exc
    status, body = await client.call("POST", f"county/v1/identities/imports/{quote(import_id)}/{action}",
                                     json=decision)
    if status == 200 and not client.raw:
        print(f"import {body['import_id']}: {body['state']}, {body['applied']} rows applied")
    return client.done(status, body)


async def _agency(client: _Client, args: argparse.Namespace) -> int:
    import uuid

    if args.action == "list":
        _need(args, 0, "[--month YYYY-MM | --since D --until D] [--status valid|reversed]")
        return await _agency_list(client, args)
    (what,) = _need(args, 1, "FILE.json" if args.action == "settle" else "SETL_ID")
    request_id = args.request_id or f"cli-{uuid.uuid4().hex[:24]}"
    headers = {"X-Request-Id": request_id}
    if args.action == "settle":
        try:
            entry = json.loads(Path(what).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"{what}: {exc}") from exc
        status, body = await client.call("POST", "county/v1/agency/settlements", json=entry, headers=headers)
    elif args.action == "reverse":
        status, body = await client.call("POST", f"county/v1/agency/settlements/{quote(what)}/reverse",
                                         headers=headers)
    else:
        status, body = await client.call("GET", f"county/v1/agency/settlements/{quote(what)}")
    if status == 200 and not client.raw:
        info = body["setlinfo"]
        print(f"{body['status']} {body['setl_id']} ({body['mode_name']}), request id {request_id}")
        for row in body["setldetail"]:
            print(f"  {row['fund_pay_type']} {row['fund_pay_type_name']}: {row['fund_payamt']:.2f}")
        print(f"  总费用 {info['medfee_sumamt']:.2f}  个人自付 {info['psn_part_amt']:.2f}  结算单 {body['sheet_url']}")
    elif status >= 300:
        print(f"request id {request_id} (retry with --request-id {request_id})", file=sys.stderr)
    return client.done(status, body)


async def _agency_list(client: _Client, args: argparse.Namespace) -> int:
    params = {k: getattr(args, k) for k in ("month", "since", "until", "status", "limit", "offset") if getattr(args, k)}
    status, body = await client.call("GET", "county/v1/agency/settlements", params=params)
    if status == 200 and not client.raw:
        shown = f"{body['offset'] + 1}–{body['offset'] + len(body['settlements'])}" if body["settlements"] else "0"
        print(f"{body['since']} ~ {body['until']}: {body['total']} window settlements (showing {shown})")
        for row in body["settlements"]:
            claim = f"claim {row['claim_id']}" if row["claim_id"] else "unclaimed"
            elsewhere = sum((Decimal(v) for v in row["paid_elsewhere"].values()), Decimal(0))
            print(f"  {row['setl_time']}  {row['setl_id']}  {row['status']:8}  {row['mode']:13}  {row['psn_no']} "
                  f"{row['psn_name']}  {row['fixmedins_code']}  总费用 {row['medfee_sumamt']}  "
                  f"付患者 {row['paid_here_total']}  " + (f"他处基本 {elsewhere:.2f}  " if elsewhere else "") + claim)
    return client.done(status, body)


async def _chunks(path: Path, progress: Any, task: Any) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 16):
            progress.update(task, advance=len(chunk))
            yield chunk


def _with_progress(path: Path) -> AsyncIterator[bytes]:
    """The file's bytes as sent, with a progress bar on stderr (a county list can be tens of megabytes)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                        console=Console(stderr=True), transient=True)
    task = progress.add_task(f"uploading {path.name}", total=path.stat().st_size)

    async def body() -> AsyncIterator[bytes]:
        with progress:
            async for chunk in _chunks(path, progress, task):
                yield chunk
            progress.update(task, description=f"{path.name}: the gateway is comparing it with the registry")

    return body()


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."

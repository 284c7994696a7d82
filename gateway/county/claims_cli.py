"""CLI twins of the claims and special-account operations: `hisgw claims …`, `hisgw account …` (over HTTP, as
gateway/county/cli.py: the token decides the role, and the audit trail records it)."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.county.account import SOURCES
from gateway.county.claims import REASONS

STEPS = ("first-review", "second-review", "send-back", "refuse", "settle", "pay")
CLAIM_ACTIONS = ("submit", "list", "show", "accept", "refuse-line", "explain", *STEPS)


def add_arguments(commands: Any, connection: Any) -> None:
    claims = commands.add_parser("claims", help="hospital claims: submit|list|show, accept|refuse-line a line, "
                                                "first-review|second-review|send-back|refuse|settle|pay, explain")
    claims.add_argument("action", choices=CLAIM_ACTIONS)
    claims.add_argument("args", nargs="*", help="submit: HOSPITAL; show and the steps: CLAIM_ID; "
                                                "accept/refuse-line/explain: CLAIM_ID LINE_NO")
    claims.add_argument("--month", help="submit: YYYY-MM (or --since and --until)")
    claims.add_argument("--since", help="submit: first day, YYYY-MM-DD")
    claims.add_argument("--until", help="submit: last day, YYYY-MM-DD")
    claims.add_argument("--hospital", default="", help="list: only this hospital's claims")
    claims.add_argument("--state", default="", help="list: only claims in this state")
    claims.add_argument("--reason", choices=tuple(REASONS), help="refuse-line: " + "; ".join(
        f"{k} {v}" for k, v in REASONS.items()))
    claims.add_argument("--funds", default="", help="refuse-line: only these funds, e.g. 620100,610100")
    claims.add_argument("--accept-rest", action="store_true", help="first-review: accept every undecided line")
    claims.add_argument("--paid-on", help="pay: YYYY-MM-DD")
    claims.add_argument("--amount", help="pay: the settled amount, yuan")
    claims.add_argument("--reference", help="pay: the bank reference")
    claims.add_argument("--note", default="", help="a note for the record")
    connection(claims)

    account = commands.add_parser("account", help="the one-stop special account (一站式专户): show | receive")
    account.add_argument("action", choices=("show", "receive"))
    account.add_argument("--month", help="show: YYYY-MM (or --since and --until)")
    account.add_argument("--since")
    account.add_argument("--until")
    account.add_argument("--source", choices=tuple(SOURCES), help="receive: " + ", ".join(
        f"{k} {v[0]}" for k, v in SOURCES.items()))
    account.add_argument("--amount", help="receive: yuan (negative corrects an earlier receipt, with --note)")
    account.add_argument("--received-on", help="receive: value date YYYY-MM-DD")
    account.add_argument("--reference", default="", help="receive: bank reference")
    account.add_argument("--note", default="")
    connection(account)


def _period(args: argparse.Namespace) -> dict[str, str]:
    return {k: v for k in ("month", "since", "until") if (v := getattr(args, k))}


def _summary(claim: dict[str, Any]) -> str:
    t = claim["totals"]
    return (f"claim {claim['claim_id']} {claim['fixmedins_code']} {claim['since']}～{claim['until']} "
            f"{claim['state_name']} ({claim['state']}): {t['lines']} lines, claimed {t['claimed']}, "
            f"accepted {t['accepted']}, refused {t['refused']}; next: {', '.join(claim['next']) or '-'}")


async def run(client: Any, args: argparse.Namespace, usage: Any) -> int:
    if args.command == "account":
        return await _account(client, args, usage)
    action, base = args.action, "county/v1/claims"
    if action == "submit":
        (hospital,) = usage(args, 1, "HOSPITAL --month YYYY-MM")
        status, body = await client.call("POST", base, json={"fixmedins_code": hospital, **_period(args)})
    elif action == "list":
        params = {k: v for k, v in (("fixmedins_code", args.hospital), ("state", args.state)) if v}
        status, body = await client.call("GET", base, params=params)
        if status == 200 and not client.raw:
            for claim in body["claims"]:
                print(_summary(claim))
            return 0
    elif action == "show":
        (claim_id,) = usage(args, 1, "CLAIM_ID")
        status, body = await client.call("GET", f"{base}/{claim_id}")
        if status == 200 and not client.raw:
            print(_summary(body))
            for line in body["lines"]:
                d = line["decision"]
                verdict = ("-" if d is None else "通过" if d["decision"] == "accept" else
                           f"拒付 {d['reason']} {d['reason_name']} {','.join(d['funds']) or '整笔'} {d['note']}")
                print(f"  {line['line_no']:>4} {line['kind']:<10} {line['setl_id']} {line['psn_no']} "
                      f"{line['setl_time'][:10]} {line['amount']:>12} [{line['settlement_status']}] {verdict}"
                      + (f" 说明: {line['explanation']}" if line["explanation"] else ""))
            for step in body["steps"]:
                print(f"  {step['at']} {step['name']} by {step['by']}")
            return 0
    elif action in ("accept", "refuse-line", "explain"):
        claim_id, line_no = usage(args, 2, "CLAIM_ID LINE_NO")
        if action == "explain":
            status, body = await client.call("POST", f"{base}/{claim_id}/lines/{line_no}/explanation",
                                             json={"note": args.note})
        else:
            decision: dict[str, Any] = {"decision": "accept" if action == "accept" else "refuse", "note": args.note}
            if action == "refuse-line":
                decision.update(reason=args.reason, funds=[f for f in args.funds.split(",") if f])
            status, body = await client.call("POST", f"{base}/{claim_id}/lines/{line_no}/decision", json=decision)
        if status == 200 and not client.raw:
            line = body["line"]
            print(f"claim {body['claim_id']} line {line['line_no']}: accepted {line['accepted']}, "
                  f"refused {line['refused']}")
            return 0
    else:
        (claim_id,) = usage(args, 1, "CLAIM_ID")
        body_sent: dict[str, Any] = {"note": args.note}
        if action == "first-review" and args.accept_rest:
            body_sent["accept_rest"] = True
        if action == "pay":
            body_sent.update(paid_on=args.paid_on, amount=args.amount, reference=args.reference)
        status, body = await client.call("POST", f"{base}/{claim_id}/{action}", json=body_sent)
    if status < 300 and not client.raw:
        print(_summary(body) + (" (already done: nothing changed)" if body.get("replayed") else ""))
        return 0
    return int(client.done(status, body))


async def _account(client: Any, args: argparse.Namespace, usage: Any) -> int:
    if args.action == "receive":
        status, body = await client.call("POST", "county/v1/account/receipts", json={
            "source": args.source, "amount": args.amount, "received_on": args.received_on,
            "reference": args.reference, "note": args.note})
        if status == 201 and not client.raw:
            e = body["entry"]
            print(f"entry {e['id']}: {e['on_date']} {e['source_name']} {e['amount']} {e['reference']}")
            return 0
        return int(client.done(status, body))
    status, body = await client.call("GET", "county/v1/account", params=_period(args))
    if status == 200 and not client.raw:
        print(f"{body['since']}～{body['until']}: opening {body['opening_balance']}, in {body['receipts_total']}, "
              f"out {body['payments_total']}, closing {body['closing_balance']}")
        for e in body["entries"]:
            print(f"  {e['on_date']} {e['kind']:<8} {e['source_name']:<16} {e['amount']:>14} {e['reference']:<16} "
                  f"balance {e['balance']}")
        return 0
    return int(client.done(status, body))

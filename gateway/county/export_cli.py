"""`hisgw export list | make --agreement ID --month YYYY-MM --out FILE`: de-identified exports by agreement."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import sys
from pathlib import Path

import structlog

from gateway.county.audit import record_host_command
from gateway.county.export import AgreementError, load_agreements
from gateway.county.period import period_of
from gateway.county.reports import export_of
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.store.factory import open_store

log = structlog.get_logger("hisgw.export")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "make"))
    parser.add_argument("--agreements", type=Path, help="agreements file (default: the [export] agreements setting)")
    parser.add_argument("--agreement", help="make: the agreement's id")
    parser.add_argument("--month", help="make: YYYY-MM")
    parser.add_argument("--since", help="make: YYYY-MM-DD (with --until, instead of --month)")
    parser.add_argument("--until", help="make: YYYY-MM-DD, inclusive")
    parser.add_argument("--out", type=Path, help="make: the zip to write")
    parser.add_argument("--operator", default="", help="make: who asks (in the audit trail; default: the login name)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    path = args.agreements or settings.export_agreements
    if path is None:
        print("hisgw export: no agreements file (--agreements FILE or [export] agreements)", file=sys.stderr)
        return 2
    try:
        agreements = load_agreements(path)
    except AgreementError as exc:
        print(f"hisgw export: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        for listed in agreements.values():
            fees = "\t+fee details" if listed.fee_details else ""
            print(f"{listed.agreement_id}\t{listed.recipient}\t{','.join(listed.fields)}{fees}")
        return 0
    chosen = agreements.get(args.agreement or "")
    if chosen is None:
        print(f"hisgw export: no agreement {args.agreement!r}; known: {sorted(agreements)}", file=sys.stderr)
        return 2
    agreement = chosen
    if args.out is None:
        print("hisgw export make: --out FILE", file=sys.stderr)
        return 2
    try:
        period = period_of(month_text=args.month, since=args.since, until=args.until)
    except GatewayError as exc:
        print(f"hisgw export: {exc.message}", file=sys.stderr)
        return 2
    store = open_store(settings.db, create=True)
    try:
        data, manifest = export_of(store, agreement, period)
        args.out.write_bytes(data)
        rows = {name: facts["rows"] for name, facts in manifest["members"].items()}
        made = {"agreement": agreement.agreement_id, "recipient": agreement.recipient, "period": period.label(),
                "rows": rows, "file": str(args.out), "sha256": hashlib.sha256(data).hexdigest()}
        operator = args.operator or getpass.getuser()
        record_host_command(store, "export.make", f"export:{agreement.agreement_id}", made, operator)
    finally:
        store.close()
    log.info("export_made", operator=operator, **made)
    print(f"export: {agreement.agreement_id} for {agreement.recipient}, {period.label()}, {rows} → {args.out}")
    return 0

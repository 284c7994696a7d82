"""`hisgw referral`: the accumulator record as a file or over HTTP, between this gateway and its partners.

    hisgw referral export SN --to PARTNER [--out FILE]   the signed record of referral SN for PARTNER
    hisgw referral import FILE                            verify and keep a partner's record (file transfer)
    hisgw referral fetch PARTNER SN                       the same, fetched from the partner over HTTP
    hisgw referral refresh                                re-fetch every record held (after a reversal there)
    hisgw referral list                                   the records held: issuer, person, year, figures
    hisgw referral key                                    a new shared key (base64 of 32 random bytes)
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
import time
from datetime import datetime
from pathlib import Path

from gateway.errors import GatewayError
from gateway.referral import wire
from gateway.referral.partners import Partners, load_partners
from gateway.referral.record import from_json, to_json
from gateway.referral.service import import_record, issue_record
from gateway.settings import Settings
from gateway.store.factory import open_store
from gateway.store.sqlite import SqlStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "import", "fetch", "refresh", "list", "key"))
    parser.add_argument("args", nargs="*", help="export: SN; import: FILE; fetch: PARTNER SN")
    parser.add_argument("--to", default="", help="export: the partner gateway the record is for")
    parser.add_argument("--out", type=Path, help="export: write here (default: standard output)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "key":
        print(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
        return 0
    if settings.referral_partners is None:
        print("hisgw referral: no partners file ([referral] partners in the settings file)", file=sys.stderr)
        return 2
    try:
        partners = load_partners(settings.referral_partners)
    except (OSError, ValueError) as exc:
        print(f"hisgw referral: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings.db, create=True)
    try:
        return _run(store, partners, args)
    except GatewayError as exc:
        print(f"hisgw referral: [{exc.code}] {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _run(store: SqlStore, partners: Partners, args: argparse.Namespace) -> int:
    action, rest = args.action, list(args.args)
    if action == "export" and len(rest) == 1 and args.to:
        data = to_json(issue_record(store, partners, rest[0], args.to, datetime.now()))
        if args.out:
            args.out.write_bytes(data)
        else:
            sys.stdout.write(data.decode("utf-8") + "\n")
        return 0
    if action == "import" and len(rest) == 1:
        return _import(store, partners, Path(rest[0]).read_bytes())
    if action == "fetch" and len(rest) == 2:
        partner = partners.get(rest[0])
        if partner is None or not partner.url:
            print(f"hisgw referral: partner {rest[0]} has no url in the partners file", file=sys.stderr)
            return 2
        return _import(store, partners, wire.fetch(partner, partners.self_id, rest[1], time.time()))
    if action == "refresh" and not rest:
        held = [(row.issuer, row.trt_dcla_detl_sn) for row in store.referral_imports()]
        for issuer, sn in held:
            partner = partners.get(issuer)
            if partner is not None and partner.url:
                _import(store, partners, wire.fetch(partner, partners.self_id, sn, time.time()))
        return 0
    if action == "list" and not rest:
        for row in store.referral_imports():
            record = from_json(row.record.encode("utf-8"))
            print(f"{row.issuer}\t{row.psn_no}\t{row.year}\t{row.trt_dcla_detl_sn}\t{row.issued_at}\t"
                  f"合规{record.cum_cmpl_fee}\t基本{record.cum_basic_pay}\t大病{record.cum_crit_pay}\t"
                  f"大病基数{record.cum_crit_base}")
        return 0
    print(f"hisgw referral {action}: wrong arguments (see hisgw referral --help)", file=sys.stderr)
    return 2


def _import(store: SqlStore, partners: Partners, data: bytes) -> int:
    with store.transaction():
        outcome, record = import_record(store, partners, data, datetime.now())
    print(f"{outcome}\t{record.issuer}\t{record.trt_dcla_detl_sn}\t{record.year}\t合规{record.cum_cmpl_fee}\t"
          f"基本{record.cum_basic_pay}\t大病{record.cum_crit_pay}\t大病基数{record.cum_crit_base}")
    return 0

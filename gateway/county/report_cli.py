"""`hisgw report annex5|annex4 --month 2026-05 [--format csv|json|xlsx|html|pdf] [--out FILE]`: from the
store file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.county.annex5_render import FORMATS, render
from gateway.county.period import period_of
from gateway.county.reports import annex5_of
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.store.factory import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=("annex5", "annex4"),
                        help='annex5: 附件5 湖南省城乡居民"一站式"就医结算统计表; '
                             'annex4: 附件4 湖南省城乡居民"一站式"结算资金收支财务清算表')
    parser.add_argument("--month", help="YYYY-MM")
    parser.add_argument("--since", help="YYYY-MM-DD, inclusive (with --until, instead of --month)")
    parser.add_argument("--until", help="YYYY-MM-DD, inclusive")
    parser.add_argument("--format", choices=tuple(FORMATS), default="csv")
    parser.add_argument("--unit", choices=("wan", "yuan"), default="wan", help="amounts in 万元 (default) or 元")
    parser.add_argument("--unit-name", default="", help="填报单位")
    parser.add_argument("--out", type=Path, help="file to write (default: standard output; xlsx needs a file)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        period = period_of(month_text=args.month, since=args.since, until=args.until)
    except GatewayError as exc:
        print(f"hisgw report: {exc.message}", file=sys.stderr)
        return 2
    if args.format in ("xlsx", "pdf") and args.out is None:
        print(f"hisgw report: --format {args.format} needs --out FILE", file=sys.stderr)
        return 2
    store = open_store(settings.db, create=True)
    try:
        if args.name == "annex4":
            from gateway.county import account_service, annex4_render
            from gateway.county.errors import CountyRefusal

            try:
                table = account_service.annex4_of(store, period)
            except CountyRefusal as exc:
                print(f"hisgw report: {exc.message}", file=sys.stderr)
                return 2
            body = annex4_render.render(table, args.format, unit_name=args.unit_name)
        else:
            body = render(annex5_of(store, period), args.format, unit_name=args.unit_name, wan=args.unit == "wan")
    finally:
        store.close()
    if args.out is None:
        sys.stdout.write(body.decode("utf-8"))
    else:
        args.out.write_bytes(body)
        print(f"report: {args.name} {period.label()} → {args.out} ({len(body)} bytes)", file=sys.stderr)
    return 0

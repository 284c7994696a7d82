"""`hisgw backup make --month 2026-05 | verify FILE | load FILE`: the monthly backup from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from gateway.county.audit import record_host_command
from gateway.county.backup import ArchiveRefused, backup_record, load_archive, make_backup, verify_archive
from gateway.county.backup_schedule import previous_month
from gateway.county.period import month
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.store.factory import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("make", "verify", "load"),
                        help="make: the month's archive; verify FILE: complete and unaltered?; "
                             "load FILE: into an empty database (--db) for audit")
    parser.add_argument("file", type=Path, nargs="?", help="verify/load: the archive")
    parser.add_argument("--month", help="make: YYYY-MM (default: last month)")
    parser.add_argument("--folder", type=Path, help="make: where to write (default: the backup setting)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "make":
        month_text = args.month or previous_month(datetime.now())
        try:
            month(month_text)
        except GatewayError as exc:
            print(f"hisgw backup: {exc.message}", file=sys.stderr)
            return 2
        store = open_store(settings.db, create=True)
        try:
            path, manifest = make_backup(store, month_text, args.folder or settings.backups(), datetime.now())
            record_host_command(store, "backup.make", f"backup:{month_text}", backup_record(path, manifest), "")
        finally:
            store.close()
        totals = manifest["totals"]
        print(f"backup: {path} — {manifest['since']} to {manifest['until']}, "
              f"{manifest['members']['persons.jsonl']['rows']} persons, {totals['settlements']} settlements, "
              f"{totals['reversals']} reversals, medfee {totals['medfee_sumamt']}")
        return 0
    if args.file is None:
        print(f"hisgw backup {args.action}: name the archive file", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"hisgw backup {args.action}: {args.file} does not exist", file=sys.stderr)
        return 2
    verified = verify_archive(args.file)
    if args.action == "verify":
        for problem in verified.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        if verified.ok:
            rows = {name: facts["rows"] for name, facts in verified.manifest["members"].items()}
            print(f"ok: {args.file} — month {verified.manifest['month']}, complete and unaltered, rows {rows}")
        return 0 if verified.ok else 1
    store = open_store(settings.db, create=True)
    try:
        loaded = load_archive(store, verified, source=args.file.name)
    except ArchiveRefused as exc:
        print(f"hisgw backup load: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"loaded {args.file} into {settings.db_path}: {loaded}")
    return 0

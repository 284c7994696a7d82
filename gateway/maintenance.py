"""The commands that copy or remove what the gateway keeps: `hisgw store backup|restore` and `hisgw journal prune`.
Each asks before it removes or replaces anything (or takes --yes), and says what it did in one line."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from gateway.journal.model import stamp
from gateway.settings import Settings
from gateway.store.backup import BackupError, backup, restore
from gateway.store.sqlite import SqlStore


def store_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.action == "backup":
            counts = backup(settings.db_path, args.file)
            print(f"store: backed up {settings.db_path} to {args.file} ({_counted(counts)})")
            return 0
        if settings.db_path.exists() and not args.yes:
            question = f"Replace {settings.db_path} with {args.file}? Stop the gateway first. [y/N] "
            if not sys.stdin.isatty():
                print(f"store restore: would replace {settings.db_path}; stop the gateway, then confirm with --yes",
                      file=sys.stderr)
                return 2
            if input(question).strip().lower() not in ("y", "yes"):
                print("store: nothing restored")
                return 1
        counts = restore(args.file, settings.db_path)
    except BackupError as exc:
        print(f"store {args.action}: {exc}", file=sys.stderr)
        return 2
    print(f"store: restored {settings.db_path} from {args.file} ({_counted(counts)})")
    return 0


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())


def prune_command(store: SqlStore, settings: Settings, args: argparse.Namespace) -> int:
    """The journal is the audit record: a floor no --days goes under, a dry run, and a question (or --yes)."""
    days = settings.journal_retention_days if args.days is None else args.days
    floor = settings.journal_min_retention_days
    if days < floor:
        print(f"journal prune: {days} days is below the floor of {floor} days (journal.min_retention_days); "
              "nothing removed", file=sys.stderr)
        return 2
    before = stamp(datetime.now() - timedelta(days=days))
    count, first, last = store.journal_prunable(before)
    if count == 0:
        print(f"journal: pruned 0 exchanges received before {before}: there is none")
        return 0
    what = f"{count} exchanges received before {before} (from {first} to {last})"
    if args.dry_run:
        print(f"journal: would prune {what}")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"journal prune: would remove {what}; confirm with --yes (or look first with --dry-run)",
                  file=sys.stderr)
            return 2
        if input(f"Remove {what}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("journal: nothing removed")
            return 1
    pruned = 0
    while True:  # short transactions: a running gateway waits at most one of them
        with store.transaction():
            removed = store.journal_prune(before, 5000)
        pruned += removed
        if removed < 5000:
            break
    print(f"journal: pruned {pruned} exchanges received before {before}")
    return 0

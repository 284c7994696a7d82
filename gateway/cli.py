"""The `hisgw` command: serve, import reference data, load the demo, verify the ledger, check a policy, simulate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from gateway import __version__
from gateway.county import cli as county_cli
from gateway.errors import GatewayError
from gateway.journal.model import parse_query
from gateway.journal.present import body_text, row_document, row_line
from gateway.journal.protect import JournalKeyError, load_protection, new_key
from gateway.log import configure_logging, install_excepthook
from gateway.maintenance import prune_command, store_command
from gateway.mapping.registry import check_all
from gateway.refdata.parse import RefdataRejected
from gateway.refdata.read import read_rows
from gateway.referral import cli as referral_cli
from gateway.service.refdata import KINDS, import_rows
from gateway.service.verify import verify_accumulators
from gateway.settings import Settings
from gateway.store.base import StoreUnavailable
from gateway.store.factory import open_store

DEMO_DIR = Path(__file__).parent / "data" / "demo"
DEFAULT_WSDL_BASE = f"http://127.0.0.1:{Settings().http_port}"  # the address committed WSDLs name
DEMO_FILES = {"hospitals": "hospitals.csv", "catalogue": "catalogue.csv", "identities": "identities.csv",
              "persons": "persons.csv"}
# The joint-testing entries the golden fixtures (tests/fixtures) play on: hospital T2, catalogue A/B10/C, persons
# TP0001-TP0002. `hisgw demo load` loads them after the demo county, so each fixture replays against `make serve`.
JOINT_TEST_FILES = {"hospitals": "joint-test-hospitals.csv", "catalogue": "joint-test-catalogue.csv",
                    "persons": "joint-test-persons.csv"}


def main(argv: list[str] | None = None) -> int:
    install_excepthook()  # a crash prints its traceback masked, never an ID number or a name in clear
    parser = argparse.ArgumentParser(prog="hisgw", description="一站式结算网关 hisgw")
    parser.add_argument("--version", action="version", version=f"hisgw {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (TOML)")
    parser.add_argument("--db", help="the store: a SQLite file (default var/hisgw.sqlite) or postgresql://user@host:port/db")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway with every listener")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int, help="national HTTP interface (default 8080)")
    serve.add_argument("--dll-port", type=int, help="DLL library listener (default 8081)")
    serve.add_argument("--hl7-port", type=int, help="HL7 v2 over MLLP listener (default 2575)")
    serve.add_argument("--mappings", type=Path, help="folder of dialect files (default mappings/)")
    serve.add_argument("--policy", type=Path, action="append", help="policy file (repeat for versions)")
    serve.add_argument("--log-format", choices=("json", "console"))
    serve.add_argument("--credentials", type=Path, help="hospitals' and county operators' credentials (TOML); "
                                                        "every call must then be signed")
    serve.add_argument("--init", action="store_true", help="create the database if it does not exist "
                                                           "(without: a missing database is refused)")

    for kind in KINDS:
        if kind == "identities":  # `hisgw identities import` is one of the county commands' actions
            continue
        sub = commands.add_parser(kind, help=f"county reference data: {kind}")
        sub.add_argument("action", choices=("import",))
        sub.add_argument("file", type=Path, help=".csv or .json")

    demo = commands.add_parser("demo", help="the demo county's reference data")
    demo.add_argument("action", choices=("load",))
    commands.add_parser("verify", help="recompute accumulators from the ledger and compare")
    mappings = commands.add_parser("mappings", help="vendor dialect files")
    mappings.add_argument("action", choices=("check", "wsdl"),
                          help="check: compile every file; wsdl: write each SOAP dialect's WSDL under --out")
    mappings.add_argument("folder", type=Path, nargs="?", default=Path("mappings"))
    mappings.add_argument("--out", type=Path, default=Path("wsdl"), help="wsdl: folder to write (default wsdl/)")
    errors = commands.add_parser("errors", help="the error codes (gateway/errors.py), as the README's table")
    errors.add_argument("--markdown", action="store_true", help="print the README's markdown table")
    errors.add_argument("--write", type=Path, metavar="README", help="rewrite the table in this file")
    store = commands.add_parser("store", help="the SQLite file: online backup (safe while serving), restore")
    store.add_argument("action", choices=("backup", "restore"))
    store.add_argument("file", type=Path, help="backup: a new file to write; restore: the backup to read")
    store.add_argument("--yes", action="store_true", help="restore: replace the database without asking")
    county_cli.add_arguments(commands, DEFAULT_WSDL_BASE)  # policy, identities, audit, coverage
    from simulators.cli import add_arguments as simulate_arguments

    simulate = commands.add_parser("simulate", help="play scenario files against a gateway as a HIS would "
                                                    "(simulators/, issue 5)")
    simulate_arguments(simulate)

    journal = commands.add_parser("journal", help="the exchange journal: search it (default), prune it, make a key")
    journal.add_argument("action", nargs="?", choices=("search", "prune", "key"), default="search")
    for name in ("hospital", "msgid", "person", "stay", "setl"):
        journal.add_argument(f"--{name}", default="", help={"person": "psn_no", "stay": "mdtrt_id",
                                                           "setl": "setl_id"}.get(name, name))
    journal.add_argument("--since", default="", help="YYYY-MM-DD[ HH:MM[:SS]], inclusive")
    journal.add_argument("--until", default="", help="exclusive; a bare date means through that day")
    journal.add_argument("--outcome", default="", help="ok | error | replayed | unknown")
    journal.add_argument("--dry-run", action="store_true", help="prune: say what would be removed, remove nothing")
    journal.add_argument("--yes", action="store_true", help="prune: no question (for cron); never under the floor, "
                                                            "journal.min_retention_days")
    journal.add_argument("--limit", default="100", help="newest first, at most 1000 (default 100)")
    journal.add_argument("--raw", action="store_true", help="print request, canonical call and answer as kept")
    journal.add_argument("--json", action="store_true", help="one JSON object a line")
    journal.add_argument("--days", type=int, help="prune: keep this many days (default: the retention setting)")

    from gateway.county import backup_cli, export_cli, report_cli

    report_cli.add_arguments(commands.add_parser("report", help="the county's reports (附件5) from the ledger"))
    backup_cli.add_arguments(commands.add_parser("backup", help="the monthly backup archive: make, verify, load"))
    export_cli.add_arguments(commands.add_parser("export", help="de-identified exports under an agreement"))
    referral_cli.add_arguments(commands.add_parser("referral", help="cross-province referral records (转诊累计记录)"))

    args = parser.parse_args(argv)
    settings = Settings.from_file(args.config) if args.config else Settings()
    if args.db:
        settings = settings.with_db(args.db)

    if args.command == "serve":
        settings = replace(
            settings, host=args.host or settings.host, http_port=args.port or settings.http_port,
            dll_port=args.dll_port or settings.dll_port, hl7_port=args.hl7_port or settings.hl7_port,
            mappings_dir=args.mappings or settings.mappings_dir,
            policy_files=tuple(args.policy) if args.policy else settings.policy_files,
            log_format=args.log_format or settings.log_format,
            credentials=args.credentials or settings.credentials,
        )
        configure_logging(settings.log_format, settings.log_level)
        from gateway.app import serve as run

        asyncio.run(run(settings, init=args.init))
        return 0
    if args.command == "identities" and args.action == "import":
        if len(args.args) != 1:
            parser.error("hisgw identities import FILE")
        return _import(settings, {"identities": Path(args.args[0])})
    if args.command in county_cli.COMMANDS:
        return county_cli.run(args)
    if args.command in KINDS:
        return _import(settings, {args.command: args.file})
    if args.command == "demo":
        return (_import(settings, {kind: DEMO_DIR / name for kind, name in DEMO_FILES.items()})
                or _import(settings, {kind: DEMO_DIR / name for kind, name in JOINT_TEST_FILES.items()}))
    if args.command == "verify":
        return _verify(settings)
    if args.command == "mappings":
        return _check_mappings(args.folder) if args.action == "check" else _write_wsdl(args.folder, args.out)
    if args.command == "store":
        return store_command(settings, args)
    if args.command == "simulate":
        from simulators.cli import run as simulate_run

        return simulate_run(args)
    if args.command == "journal":
        return _journal(settings, args)
    if args.command == "report":
        return report_cli.run(settings, args)
    if args.command == "backup":
        return backup_cli.run(settings, args)
    if args.command == "export":
        return export_cli.run(settings, args)
    if args.command == "referral":
        return referral_cli.run(settings, args)
    if args.command == "errors":
        return _errors(args.markdown, args.write)
    return 2


def _import(settings: Settings, files: dict[str, Path]) -> int:
    for path in files.values():  # said plainly, before the store is opened (samples: gateway/data/demo/)
        if not path.is_file():
            print(f"{path}: 文件不存在 (no such file)" if not path.exists() else f"{path}: 不是文件 (not a file)",
                  file=sys.stderr)
            return 1
    try:
        store = open_store(settings.db, create=True)
    except StoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        for kind, path in files.items():
            try:
                count = import_rows(store, kind, read_rows(path))
            except GatewayError as exc:
                print(f"{path}: {exc.message}", file=sys.stderr)
                for problem in exc.problems if isinstance(exc, RefdataRejected) else ():
                    print(f"  {problem}", file=sys.stderr)
                return 1
            print(f"{kind}: imported {count} from {path}")
    finally:
        store.close()
    return 0


def _errors(markdown: bool, readme: Path | None) -> int:
    from gateway import errortable

    if readme is not None:
        if not errortable.write_readme(readme):
            print(f"{readme}: no {errortable.BEGIN!r} … {errortable.END!r} markers", file=sys.stderr)
            return 1
        print(f"wrote the error table in {readme}")
        return 0
    print(errortable.markdown_table() if markdown else errortable.plain_list(), end="")
    return 0


def _check_mappings(folder: Path) -> int:
    dialects, errors = check_all(folder)
    for name, dialect in sorted(dialects.items()):
        print(f"ok: {name} ({dialect.transport}, {dialect.encoding}, {len(dialect.trades)} trades) {dialect.source}")
    for error in errors:
        print(error, file=sys.stderr)
    if not dialects and not errors:
        print(f"no mapping files in {folder}", file=sys.stderr)
        return 1
    return 1 if errors else 0


def _write_wsdl(folder: Path, out: Path) -> int:
    from gateway.adapters.soap import committed_wsdl_name, readable_wsdl, wsdl_document

    dialects, errors = check_all(folder)
    for error in errors:
        print(error, file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    for dialect in sorted(dialects.values(), key=lambda d: d.name):
        if dialect.transport == "soap":
            path = out / committed_wsdl_name(dialect)
            path.write_bytes(readable_wsdl(wsdl_document(dialect, DEFAULT_WSDL_BASE + dialect.endpoint)))
            print(f"wrote {path}")
    return 1 if errors else 0


def _verify(settings: Settings) -> int:
    store = open_store(settings.db, create=True)
    try:
        count, differences = verify_accumulators(store)
    finally:
        store.close()
    for diff in differences:
        print(f"DIFF {diff.psn_no} {diff.year} {diff.key}: stored {diff.stored}, ledger {diff.from_ledger}")
    print(f"verify: {count} settlements, {len(differences)} differences")
    return 1 if differences else 0


def _journal(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "key":
        print(new_key())
        return 0
    try:
        protection = load_protection(settings.journal_raw, settings.journal_key_file)
    except JournalKeyError as exc:
        print(exc, file=sys.stderr)
        return 1
    store = open_store(settings.db, create=True)
    try:
        if args.action == "prune":
            return prune_command(store, settings, args)
        params = {name: getattr(args, name) for name in ("hospital", "msgid", "person", "stay", "setl", "since",
                                                         "until", "outcome", "limit")}
        try:
            query = parse_query({k: v for k, v in params.items() if v}, raw=args.raw)
        except GatewayError as exc:
            print(exc.message, file=sys.stderr)
            return 2
        rows = store.journal_search(query)
    finally:
        store.close()
    if not rows:
        used = ", ".join(f"{name}={value}" for name, value in params.items() if value and name != "limit")
        print(f"journal: 0 exchanges match ({used or 'no filter'})", file=sys.stderr if args.json else sys.stdout)
    for row in rows:
        if args.json:
            print(json.dumps(row_document(row, protection), ensure_ascii=False))
            continue
        print(row_line(row))
        if args.raw:
            for label, data, encoding in (("request", row.request, row.encoding), ("call", row.call, "utf-8"),
                                          ("answer", row.answer, row.encoding)):
                text = body_text(data, encoding, protection) if data else ""
                print(f"    {label}: {'(encrypted; set journal.key_file)' if text is None else text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Wiring: settings → store, policies, gateway → aiohttp application with every listener."""

from __future__ import annotations

import asyncio
import signal
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import structlog
from aiohttp import web

from gateway.adapters import (
    console_http,
    county_api,
    county_exceptions,
    county_funding,
    county_gannan,
    county_http,
    county_outpatient,
    county_reports,
    http_listener,
    journal_http,
    ops_http,
    referral_http,
    sheet_http,
)
from gateway.adapters.dll_listener import start_dll_listener
from gateway.adapters.limits import (
    CHUNK,
    ByteBudget,
    ConnectionGate,
    Descriptors,
    Limits,
    Shared,
    give_back_memory,
    log_accept_errors,
    raise_nofile,
)
from gateway.adapters.mllp_listener import Limits as MllpLimits
from gateway.adapters.mllp_listener import MllpListener
from gateway.adapters.ops_http import BACKUPS, LISTENERS, METRICS_PUBLIC
from gateway.adapters.soap import SoapEndpoints
from gateway.auth.credentials import CredentialsError, load_credentials
from gateway.auth.signature import Authenticator
from gateway.county import policies as county_policies
from gateway.county.backup_schedule import BackupSchedule
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.journal.model import JournalQuery
from gateway.journal.protect import JournalKeyError, load_protection
from gateway.mapping.compile import MappingError
from gateway.mapping.registry import DialectBook
from gateway.ports import port_problem
from gateway.referral.partners import Partners, load_partners
from gateway.runtime import Gateway
from gateway.service.deps import Deps
from gateway.settings import Settings
from gateway.store.base import StoreUnavailable
from gateway.store.factory import open_store

log = structlog.get_logger("hisgw")
HTTP_MAX_HEADERS = 64  # a request head holds at most 64 × 8 KB (aiohttp's field size) until header_timeout
MAPPING_POLL_SECONDS = 2.0  # a changed mapping file is picked up within this long (SIGHUP: at once)


def load_policies(settings: Settings) -> PolicyBook:
    return PolicyBook.load(list(settings.policy_files) or [default_policy_path()])


def build_gateway(settings: Settings, now: Callable[[], datetime] = datetime.now, *, create: bool = True) -> Gateway:
    """`create=False`: the database must exist (StoreUnavailable otherwise)."""
    protection = load_protection(settings.journal_raw, settings.journal_key_file)
    store = open_store(settings.db_path, create=create)
    policies = county_policies.book(load_policies(settings), store.policy_versions())  # files + published versions
    return Gateway(Deps(store=store, policies=policies, now=now), protection,
                   account_overdraft=settings.account_overdraft)


def load_authenticator(settings: Settings) -> Authenticator | None:
    if settings.credentials is None:
        log.warning("authentication_off", reason="no [auth] credentials file: calls are not signed (demo only)")
        return None
    try:
        return Authenticator(load_credentials(settings.credentials))
    except CredentialsError as exc:
        log.error("credentials_refused", problem=str(exc))
        raise SystemExit(1) from exc


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


def build_app(gateway: Gateway, dialects: http_listener.Dialects, authenticator: Authenticator | None = None,
              limits: Limits | None = None, shared: Shared | None = None,
              console_runs: Path | None = None, referral_partners: Partners | None = None) -> web.Application:
    """`dialects` is asked at every request, so a mapping reload takes effect on the next call. Without an
    authenticator nobody signs anything (the demo); with one, every hospital and county call must."""
    app = web.Application(client_max_size=http_listener.MAX_BODY)
    app[http_listener.GATEWAY] = gateway
    app[http_listener.DIALECTS] = dialects
    app[http_listener.SOAP] = SoapEndpoints().handle
    app[http_listener.AUTH] = authenticator
    app[http_listener.LIMITS] = ConnectionGate(limits or Limits())
    app[http_listener.SHARED] = shared or Shared.default()
    county_api.add_routes(app)  # before county_http's /county/v1/{kind}
    county_gannan.add_routes(app)  # so is POST /county/v1/arrears
    county_exceptions.add_routes(app)  # and /county/v1/catalogue-exceptions
    county_funding.add_routes(app)
    county_http.add_routes(app)
    county_reports.add_routes(app)
    county_outpatient.add_routes(app)
    journal_http.add_routes(app)
    sheet_http.add_routes(app)
    ops_http.add_routes(app)  # /health, /metrics
    referral_http.add_routes(app, referral_partners)  # /referral/v1/records: partner gateways (gateway/referral/)
    console_http.setup(app, console_runs or Path(tempfile.gettempdir()) / "hisgw-simulator-runs")  # /console/
    http_listener.add_routes(app)
    return app


def resource_limits(settings: Settings) -> tuple[Shared, Limits]:
    """The budget and descriptor reserve every listener shares, and each listener's limits ([limits] settings);
    a listener's connection cap is further bounded by its share of the descriptors (limits.Descriptors)."""
    nofile = raise_nofile()
    shared = Shared(ByteBudget(settings.memory_budget_mb * 1024 * 1024, settings.budget_wait),
                    Descriptors(settings.fd_reserve))
    cap = settings.max_connections
    log.info("limits", nofile=nofile, fd_reserve=settings.fd_reserve, max_connections=cap,
             memory_budget_mb=settings.memory_budget_mb, header_timeout=settings.header_timeout,
             read_timeout=settings.read_timeout)
    return shared, Limits(max_connections=cap, read_timeout=settings.read_timeout,
                          header_timeout=settings.header_timeout)


async def _report_unknown(gateway: Gateway) -> None:
    """Exchanges whose outcome never committed (the gateway stopped while they ran): none of them was applied,
    and a HIS that asks (5999) is told so. Said once at start so the operator knows what the stop cut off."""
    query = JournalQuery(outcome="unknown", limit=1000)
    rows = await gateway.run(lambda: gateway.deps.store.journal_search(query))
    if rows:
        log.warning("journal_unknown", count=len(rows), note="outcome never committed; nothing of them was applied",
                    exchanges=[f"{r.fixmedins_code}/{r.msgid}/{r.infno}" for r in rows[:20]])


def _report(errors: list[MappingError]) -> None:
    for error in errors:
        log.error("mapping_refused", file=str(error.path), line=error.line, problem=error.problem)


async def _watch(book: DialectBook, reload: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(MAPPING_POLL_SECONDS)
        if book.changed():
            reload()


async def serve(settings: Settings, *, init: bool = False) -> None:
    """`init`: create the database when it does not exist (`make serve`); without, a missing one is refused."""
    taken = port_problem(settings.host, (("http", settings.http_port), ("dll", settings.dll_port),
                                         ("hl7", settings.hl7_port)))
    if taken:  # before any listener starts: one line naming it, no traceback, nothing half started
        listener, port, problem = taken
        log.error("port_unavailable", listener=listener, host=settings.host, port=port, problem=problem)
        raise SystemExit(1)
    book = DialectBook(settings.mappings_dir)
    errors = book.reload()
    if errors:
        _report(errors)
        raise SystemExit(1)
    if not book.current:  # started from another folder: mappings/ is relative to where hisgw runs
        log.error("mappings_missing", folder=str(settings.mappings_dir.absolute()),
                  problem="no mapping files, so no endpoint to serve: run from the folder that holds mappings/, "
                          "or pass --mappings DIR ([mappings] folder)")
        raise SystemExit(1)

    def reload() -> None:
        problems = book.reload()
        _report(problems)
        gateway.metrics.mappings_loaded(problems, len(book.current))
        log.info("mappings_reloaded" if not problems else "mappings_kept", dialects=sorted(book.current))

    authenticator = load_authenticator(settings)
    try:
        gateway = build_gateway(settings, create=init)
    except JournalKeyError as exc:
        log.error("journal_refused", problem=str(exc))
        raise SystemExit(1) from exc
    except StoreUnavailable as exc:
        log.error("store_refused", problem=str(exc))
        raise SystemExit(1) from exc
    await _report_unknown(gateway)
    gateway.metrics.mappings_loaded([], len(book.current))
    shared, limits = resource_limits(settings)
    log_accept_errors(asyncio.get_running_loop(), settings.limits_log_interval)
    app = build_app(gateway, lambda: book.current, authenticator, limits, shared,
                    console_runs=settings.db_path.parent / "simulator-runs",
                    referral_partners=load_partners(settings.referral_partners) if settings.referral_partners else None)
    backups = BackupSchedule(gateway, settings.backups(), hour=settings.backup_hour,
                             retry_seconds=settings.backup_retry_seconds)
    app[BACKUPS] = backups
    app[METRICS_PUBLIC] = settings.metrics_public
    listeners: dict[str, asyncio.Server | None] = {"dll": None, "hl7": None}  # /health: 503 until each listens
    app[LISTENERS] = listeners
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=settings.header_timeout,
                           max_headers=HTTP_MAX_HEADERS, read_bufsize=CHUNK)
    await runner.setup()
    site = http_listener.GatedSite(runner, settings.host, settings.http_port, cap=limits.max_connections,
                                   shared=shared, dialects=lambda: book.current, ssl_context=tls_context(settings),
                                   on_refused=lambda: gateway.metrics.busy("http"))
    await site.start()
    dll = await start_dll_listener(gateway, lambda: book.current, settings.host, settings.dll_port,
                                   replace(limits, idle_timeout=settings.dll_idle_timeout), authenticator, shared)
    mllp = MllpListener(gateway, lambda: book.current, default=settings.hl7_dialect, authenticator=authenticator,
                        limits=MllpLimits(read_timeout=settings.read_timeout, idle_timeout=settings.hl7_idle_timeout,
                                          max_connections=limits.max_connections), shared=shared)
    if settings.hl7_tls and tls_context(settings) is None:
        log.error("settings_refused", problem="[hl7] tls = true needs [http] tls_cert and tls_key")
        raise SystemExit(1)
    listeners["hl7"] = await mllp.start(settings.host, settings.hl7_port,
                                        tls_context(settings) if settings.hl7_tls else None)
    listeners["dll"] = dll
    log.info("listening", listener="https" if settings.tls_cert else "http", host=settings.host,
             port=settings.http_port, signed=authenticator is not None,
             db=str(settings.db_path), policies=[p.policy_id for p in gateway.deps.policies.versions],
             endpoints={path: d.name for path, d in http_listener.served_endpoints(book.current).items()})
    log.info("listening", listener="dll", host=settings.host, port=settings.dll_port,
             dialects=sorted(name for name, d in book.current.items() if d.transport == "dll"))
    log.info("listening", listener="hl7", host=settings.host, port=settings.hl7_port, tls=settings.hl7_tls,
             dialects=sorted(name for name, d in book.current.items() if d.transport == "hl7"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    watcher = loop.create_task(_watch(book, reload))
    memory = loop.create_task(give_back_memory())
    keeper = loop.create_task(backups.run()) if settings.backup_schedule else None
    await stop.wait()
    log.info("stopping")
    watcher.cancel()
    memory.cancel()
    if keeper is not None:
        keeper.cancel()
    dll.close()
    await dll.wait_closed()
    await mllp.stop()  # a message being answered finishes; idle connections close
    await runner.cleanup()  # lets in-flight calls finish before the store closes
    gateway.close()

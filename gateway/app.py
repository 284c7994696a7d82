"""Wiring: settings → store, policies, gateway → aiohttp application with every listener."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import datetime

import structlog
from aiohttp import web

from gateway.adapters import county_http, http_listener, journal_http
from gateway.adapters.dll_listener import start_dll_listener
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.journal.model import JournalQuery
from gateway.journal.protect import JournalKeyError, load_protection
from gateway.mapping.compile import MappingError
from gateway.mapping.registry import DialectBook
from gateway.runtime import Gateway
from gateway.service.deps import Deps
from gateway.settings import Settings
from gateway.store.sqlite import SqliteStore

log = structlog.get_logger("hisgw")
MAPPING_POLL_SECONDS = 2.0  # a changed mapping file is picked up within this long (SIGHUP: at once)


def load_policies(settings: Settings) -> PolicyBook:
    return PolicyBook.load(list(settings.policy_files) or [default_policy_path()])


def build_gateway(settings: Settings, now: Callable[[], datetime] = datetime.now) -> Gateway:
    protection = load_protection(settings.journal_raw, settings.journal_key_file)
    return Gateway(Deps(store=SqliteStore(settings.db_path), policies=load_policies(settings), now=now), protection)


def build_app(gateway: Gateway, dialects: http_listener.Dialects) -> web.Application:
    """`dialects` is asked at every request, so a mapping reload takes effect on the next call."""
    app = web.Application(client_max_size=http_listener.MAX_BODY)
    app[http_listener.GATEWAY] = gateway
    app[http_listener.DIALECTS] = dialects
    county_http.add_routes(app)
    journal_http.add_routes(app)
    app.router.add_get("/health", _health)
    http_listener.add_routes(app)
    return app


async def _report_unknown(gateway: Gateway) -> None:
    """Exchanges whose outcome never committed (the gateway stopped while they ran): none of them was applied,
    and a HIS that asks (5999) is told so. Said once at start so the operator knows what the stop cut off."""
    query = JournalQuery(outcome="unknown", limit=1000)
    rows = await gateway.run(lambda: gateway.deps.store.journal_search(query))
    if rows:
        log.warning("journal_unknown", count=len(rows), note="outcome never committed; nothing of them was applied",
                    exchanges=[f"{r.fixmedins_code}/{r.msgid}/{r.infno}" for r in rows[:20]])


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _report(errors: list[MappingError]) -> None:
    for error in errors:
        log.error("mapping_refused", file=str(error.path), line=error.line, problem=error.problem)


async def _watch(book: DialectBook, reload: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(MAPPING_POLL_SECONDS)
        if book.changed():
            reload()


async def serve(settings: Settings) -> None:
    book = DialectBook(settings.mappings_dir)
    errors = book.reload()
    if errors:
        _report(errors)
        raise SystemExit(1)

    def reload() -> None:
        problems = book.reload()
        _report(problems)
        log.info("mappings_reloaded" if not problems else "mappings_kept", dialects=sorted(book.current))

    try:
        gateway = build_gateway(settings)
    except JournalKeyError as exc:
        log.error("journal_refused", problem=str(exc))
        raise SystemExit(1) from exc
    await _report_unknown(gateway)
    runner = web.AppRunner(build_app(gateway, lambda: book.current), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.http_port)
    await site.start()
    dll = await start_dll_listener(gateway, lambda: book.current, settings.host, settings.dll_port)
    log.info("listening", listener="http", host=settings.host, port=settings.http_port,
             db=str(settings.db_path), policies=[p.policy_id for p in gateway.deps.policies.versions],
             endpoints={path: d.name for path, d in http_listener.served_endpoints(book.current).items()})
    log.info("listening", listener="dll", host=settings.host, port=settings.dll_port,
             dialects=sorted(name for name, d in book.current.items() if d.transport == "dll"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    watcher = loop.create_task(_watch(book, reload))
    await stop.wait()
    log.info("stopping")
    watcher.cancel()
    dll.close()
    await dll.wait_closed()
    await runner.cleanup()  # lets in-flight calls finish before the store closes
    gateway.close()

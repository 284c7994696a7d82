"""What an operator's tools read: GET /health for an orchestrator, GET /metrics for Prometheus.

/health answers 200 when the gateway can serve, 503 when it cannot: the store does not take a write (closed,
locked by another process, read-only, full disk) within STORE_PROBE_SECONDS, or a TCP listener has stopped.
A refused mapping reload or a failed backup is shown but is not a 503: the gateway still serves (the previous
mapping set; the backup is retried), and a restart would not cure either.

/metrics is prometheus-client's own aiohttp handler over the gateway's registry (gateway/metrics.py). With
credentials on it needs a county token (any role), unless `[metrics] public = true`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from gateway.adapters.county_http import refused
from gateway.adapters.http_listener import GATEWAY
from gateway.county.backup_schedule import BackupSchedule
from gateway.runtime import Gateway

STORE_PROBE_SECONDS = 2.0  # a store thread that cannot take a tiny write this fast is not serving settlements
BACKUPS = web.AppKey("backups", BackupSchedule)
# The TCP listeners beside HTTP, by name ("dll", "hl7"); filled by `serve` once they listen (the dict is set
# before the app starts, as aiohttp wants, and filled in place).
LISTENERS: web.AppKey[dict[str, asyncio.Server | None]] = web.AppKey("listeners")  # None: not yet
METRICS_PUBLIC: web.AppKey[bool] = web.AppKey("metrics_public")  # [metrics] public: no token asked


_SCRAPE: web.AppKey[Any] = web.AppKey("scrape")  # prometheus-client's handler over this gateway's registry


def add_routes(app: web.Application) -> None:
    app[_SCRAPE] = make_aiohttp_handler(app[GATEWAY].metrics.registry)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)


async def metrics(request: web.Request) -> web.StreamResponse:
    if not request.app.get(METRICS_PUBLIC, False):
        denied = refused(request, "reader")
        if denied is not None:
            return denied
    response: web.StreamResponse = await request.app[_SCRAPE](request)
    return response


async def health(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    lost = gateway.store_lost()
    if lost is not None:  # the store's file is gone for good: nothing to probe (gateway/runtime.py)
        return web.json_response({"status": "store_lost", "err_code": lost.code, "problem": lost.detail}, status=503)
    store = await store_probe(gateway)
    listeners: dict[str, dict[str, object]] = {"http": {"up": True}}  # it is answering this
    for name, server in request.app.get(LISTENERS, {}).items():
        sockets = server.sockets if server is not None else ()
        listeners[name] = {"up": server is not None and server.is_serving(),
                           "port": sockets[0].getsockname()[1] if sockets else None}
    reload = gateway.metrics.reload_state
    document: dict[str, object] = {
        "status": "ok",
        "store": store,
        "listeners": listeners,
        "mappings": {"last_reload": reload.at.isoformat(timespec="seconds") if reload.at else None,
                     "ok": reload.ok, "dialects": reload.dialects, "problems": reload.problems},
    }
    schedule = request.app.get(BACKUPS)
    if schedule is not None:
        document["backup"] = schedule.status.document()
    serving = store["writable"] and all(listener["up"] for listener in listeners.values())
    if not serving:
        document["status"] = "fail"
    return web.json_response(document, status=200 if serving else 503)


async def store_probe(gateway: Gateway) -> dict[str, object]:
    """A real write on the store thread, as cheap as one can be: a counter row bumped in a commit without an
    fsync. It proves the store thread is free, the database takes the write lock, and a page can be written."""
    store = gateway.deps.store

    def write() -> None:
        with store.transaction(fsync=False):
            store.next_serial("health_probe")

    started = time.perf_counter()
    try:
        await asyncio.wait_for(gateway.run(write), STORE_PROBE_SECONDS)
    except TimeoutError:
        return {"writable": False, "problem": f"the store did not take a write within {STORE_PROBE_SECONDS:g} s"}
    except Exception as exc:  # closed, read-only, locked, disk full: sqlite3's text names no person
        return {"writable": False, "problem": f"{type(exc).__name__}: {exc}"}
    return {"writable": True, "ms": round((time.perf_counter() - started) * 1000, 2)}

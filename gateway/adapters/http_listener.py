"""The HTTP listener for every mapped dialect served over HTTP: a POST to a dialect's `endpoint` goes down
the one road (gateway/adapters/dialect_call.py). The national interface is such a dialect
(mappings/nhsa-http.yaml, POST /fsi/api/rsfComIfsService/callService); SOAP dialects are found the same way
and handed to the SOAP adapter. No business rule lives here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from gateway.adapters.dialect_call import call_dialect, codec_for
from gateway.adapters.limits import ConnectionGate
from gateway.auth.signature import Authenticator
from gateway.errors import Busy, GatewayError, MalformedMessage, MessageTooLarge
from gateway.mapping.model import Dialect, JsonDoc
from gateway.runtime import Gateway

MAX_BODY = 16 * 1024 * 1024  # ten thousand fee lines fit with room to spare

Dialects = Callable[[], Mapping[str, Dialect]]
SoapHandler = Callable[[web.Request, Dialect, "str | GatewayError | None"], Awaitable[web.StreamResponse]]

GATEWAY = web.AppKey("gateway", Gateway)
DIALECTS: web.AppKey[Dialects] = web.AppKey("dialects")
SOAP: web.AppKey[SoapHandler] = web.AppKey("soap")
AUTH: web.AppKey[Authenticator | None] = web.AppKey("auth")  # None: signatures not required
LIMITS: web.AppKey[ConnectionGate] = web.AppKey("limits")  # requests in flight on this listener
log = structlog.get_logger("hisgw.http")


def add_routes(app: web.Application) -> None:
    """Registered last: the county API and /health come first, every other path is a dialect's endpoint."""
    app.router.add_route("*", "/{endpoint:.*}", endpoint)


def served_endpoints(dialects: Mapping[str, Dialect]) -> dict[str, Dialect]:
    return {d.endpoint: d for d in dialects.values() if d.transport in ("http", "soap")}


async def endpoint(request: web.Request) -> web.StreamResponse:
    dialect = served_endpoints(request.app[DIALECTS]()).get(request.path)
    if dialect is None:
        known = sorted(served_endpoints(request.app[DIALECTS]()))
        return web.json_response({"error": f"no dialect is served at {request.path}", "endpoints": known}, status=404)
    gate = request.app[LIMITS]
    metrics = request.app[GATEWAY].metrics
    if not gate.enter():
        metrics.busy("http")
        log.warning("http_busy", path=request.path, in_flight=gate.open)
        body = codec_for(dialect).error(dialect, None, b"", Busy())
        return web.Response(status=503, body=body, content_type=_content_type(dialect), charset=dialect.encoding)
    metrics.opened("http")
    try:
        return await _serve(request, dialect)
    finally:
        gate.leave()
        metrics.closed("http")


async def _serve(request: web.Request, dialect: Dialect) -> web.StreamResponse:
    try:
        raw = await read_body(request, request.app[LIMITS].limits.read_timeout) if request.method == "POST" else b""
    except GatewayError as exc:
        caller: str | GatewayError | None = exc
        raw = b""
    else:
        caller = await authenticated(request, raw)
    if isinstance(caller, GatewayError):  # refused before it became an exchange (SOAP's fault included)
        request.app[GATEWAY].metrics.refused(dialect.name, dialect.transport, caller)
    if dialect.transport == "soap":
        return await request.app[SOAP](request, dialect, caller)
    if request.method != "POST":
        return web.json_response({"error": f"{dialect.name}: POST the request to {dialect.endpoint}"}, status=405)
    if isinstance(caller, GatewayError):
        body = codec_for(dialect).error(dialect, None, raw, caller)
    else:
        _status, body = await call_dialect(request.app[GATEWAY], dialect, raw, hospital=caller)
    return web.Response(body=body, content_type=_content_type(dialect), charset=dialect.encoding)


def _content_type(dialect: Dialect) -> str:
    return "application/json" if isinstance(dialect.framing, JsonDoc) else "text/plain"


async def read_body(request: web.Request, timeout: float) -> bytes:
    """The whole body, or MalformedMessage: too large, or a sender that stalls (aiohttp caches it, so the
    SOAP adapter reads it again for free)."""
    try:
        return await asyncio.wait_for(request.read(), timeout)
    except web.HTTPRequestEntityTooLarge as exc:
        raise MessageTooLarge(f"报文超过 {MAX_BODY // 1024 // 1024} MB") from exc
    except TimeoutError as exc:
        raise MalformedMessage(f"{timeout:g} 秒内未收到完整报文") from exc


async def authenticated(request: web.Request, body: bytes) -> str | GatewayError | None:
    """The hospital a signed POST acts for; the error when its signature fails; None when not required
    (or for a GET, which only reads a WSDL)."""
    authenticator = request.app[AUTH]
    if authenticator is None or request.method != "POST":
        return None
    try:
        return authenticator.hospital(request.headers, body)
    except GatewayError as exc:
        log.info("unauthenticated", path=request.path, reason=exc.detail, paasid=request.headers.get("x-tif-paasid"))
        return exc

"""The HTTP listener for every mapped dialect served over HTTP: a POST to a dialect's `endpoint` goes down
the one road (gateway/adapters/dialect_call.py). The national interface is such a dialect
(mappings/nhsa-http.yaml, POST /fsi/api/rsfComIfsService/callService); SOAP dialects are found the same way
and handed to the SOAP adapter. No business rule lives here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from gateway.adapters.dialect_call import call_dialect, codec_for
from gateway.auth.signature import Authenticator
from gateway.errors import GatewayError, MalformedMessage
from gateway.mapping.model import Dialect, JsonDoc
from gateway.runtime import Gateway

MAX_BODY = 16 * 1024 * 1024  # ten thousand fee lines fit with room to spare

Dialects = Callable[[], Mapping[str, Dialect]]
SoapHandler = Callable[[web.Request, Dialect, "str | GatewayError | None"], Awaitable[web.StreamResponse]]

GATEWAY = web.AppKey("gateway", Gateway)
DIALECTS: web.AppKey[Dialects] = web.AppKey("dialects")
SOAP: web.AppKey[SoapHandler] = web.AppKey("soap")
AUTH: web.AppKey[Authenticator | None] = web.AppKey("auth")  # None: signatures not required
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
    caller = await authenticated(request)
    if dialect.transport == "soap":
        return await request.app[SOAP](request, dialect, caller)
    if request.method != "POST":
        return web.json_response({"error": f"{dialect.name}: POST the request to {dialect.endpoint}"}, status=405)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        caller = MalformedMessage(f"报文超过 {MAX_BODY // 1024 // 1024} MB")
        raw = b""
    if isinstance(caller, GatewayError):
        body = codec_for(dialect).error(dialect, None, raw, caller)
    else:
        _status, body = await call_dialect(request.app[GATEWAY], dialect, raw, hospital=caller)
    content_type = "application/json" if isinstance(dialect.framing, JsonDoc) else "text/plain"
    return web.Response(body=body, content_type=content_type, charset=dialect.encoding)


async def authenticated(request: web.Request) -> str | GatewayError | None:
    """The hospital a signed POST acts for; the error when its signature fails; None when not required
    (or for a GET, which only reads a WSDL)."""
    authenticator = request.app[AUTH]
    if authenticator is None or request.method != "POST":
        return None
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return None  # the transport's own size error follows
    try:
        return authenticator.hospital(request.headers, body)
    except GatewayError as exc:
        log.info("unauthenticated", path=request.path, reason=exc.detail, paasid=request.headers.get("x-tif-paasid"))
        return exc

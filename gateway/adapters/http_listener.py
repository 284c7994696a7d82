"""The HTTP listener for every mapped dialect served over HTTP: a POST to a dialect's `endpoint` goes down
the one road (gateway/adapters/dialect_call.py). The national interface is such a dialect
(mappings/nhsa-http.yaml, POST /fsi/api/rsfComIfsService/callService); SOAP dialects are found the same way
and handed to the SOAP adapter. No business rule lives here."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web
from lxml import etree

from gateway.adapters.dialect_call import call_dialect, codec_for, error_answer
from gateway.adapters.limits import ConnectionGate, Held, Shared, Tally
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
SHARED: web.AppKey[Shared] = web.AppKey("shared")  # the bytes-in-flight budget and descriptors of every listener
BODY: web.RequestKey[bytes] = web.RequestKey("body")  # as read (bounded, charged) here, for the SOAP adapter
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
log = structlog.get_logger("hisgw.http")
_budget_refusals = Tally("http_busy")


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
        body, content_type = busy_answer(dialect)
        return web.Response(status=503, body=body, content_type=content_type, charset=dialect.encoding)
    metrics.opened("http")
    held = Held(request.app[SHARED].budget)
    try:
        return await _serve(request, dialect, held)
    finally:
        held.release()
        gate.leave()
        metrics.closed("http")


async def _serve(request: web.Request, dialect: Dialect, held: Held) -> web.StreamResponse:
    try:
        raw = (await read_body(request, request.app[LIMITS].limits.read_timeout, held) if request.method == "POST"
               else b"")
    except GatewayError as exc:
        caller: str | GatewayError | None = exc
        raw = b""
    else:
        caller = await authenticated(request, raw)
    busy = isinstance(caller, Busy)
    if busy:
        request.app[GATEWAY].metrics.busy("http")
        _budget_refusals.note(path=request.path, reason="bytes in flight", in_flight=held.budget.used)
    request[BODY] = raw
    if isinstance(caller, GatewayError) and not busy:  # refused before it became an exchange (SOAP's fault too)
        request.app[GATEWAY].metrics.refused(dialect.name, dialect.transport, caller)
    if dialect.transport == "soap":
        if busy:
            body, content_type = busy_answer(dialect)
            return web.Response(status=503, body=body, content_type=content_type, charset="utf-8")
        return await request.app[SOAP](request, dialect, caller)
    if request.method != "POST":
        return web.json_response({"error": f"{dialect.name}: POST the request to {dialect.endpoint}"}, status=405)
    if isinstance(caller, GatewayError):
        body = error_answer(dialect, None, raw, caller)
    else:
        _status, body = await call_dialect(request.app[GATEWAY], dialect, raw, hospital=caller)
    return web.Response(status=503 if busy else 200, body=body, content_type=_content_type(dialect),
                        charset=dialect.encoding)


def _content_type(dialect: Dialect) -> str:
    return "application/json" if isinstance(dialect.framing, JsonDoc) else "text/plain"


def busy_answer(dialect: Dialect) -> tuple[bytes, str]:
    """(body, content type) of HG9002 in the dialect: its own error answer, a SOAP Fault for a SOAP dialect."""
    if dialect.transport == "soap":
        envelope = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soap11env": SOAP_ENV})
        body_element = etree.SubElement(envelope, etree.QName(SOAP_ENV, "Body"))
        fault = etree.SubElement(body_element, etree.QName(SOAP_ENV, "Fault"))
        etree.SubElement(fault, "faultcode").text = "soap11env:Server.Busy"
        etree.SubElement(fault, "faultstring").text = f"{Busy.code} {Busy.title}"
        body: bytes = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        return body, "text/xml"
    return codec_for(dialect).error(dialect, None, b"", Busy()), _content_type(dialect)


async def read_body(request: web.Request, timeout: float, held: Held) -> bytes:
    """The whole body, read in chunks each charged to `held` (the bytes-in-flight budget); MalformedMessage when
    too large or when the sender stalls, Busy when the budget stays spent. A declared Content-Length is refused
    before anything is read when it cannot fit."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY:
        raise MessageTooLarge(f"报文超过 {MAX_BODY // 1024 // 1024} MB")
    if declared is not None and not await held.budget.room_for(declared):
        raise Busy()
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.readany():
                if len(body) + len(chunk) > MAX_BODY:
                    raise MessageTooLarge(f"报文超过 {MAX_BODY // 1024 // 1024} MB")
                if not await held.grow(len(chunk)):
                    raise Busy()
                body += chunk
    except TimeoutError as exc:
        raise MalformedMessage(f"{timeout:g} 秒内未收到完整报文") from exc
    except ConnectionError as exc:  # the sender went away mid-body: nobody to answer, nothing to log
        raise MalformedMessage("报文未完整即断开连接") from exc
    return bytes(body)


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


class GatedSite(web.BaseSite):
    """A TCP site whose connections, not only its requests, count against the listener's cap: a connection over
    `cap`, or one accepted while descriptors run short (limits.Descriptors), is answered 503 HG9002 in the
    dialect served at the path of its request line (a SOAP Fault for a SOAP endpoint) and closed, without
    reaching aiohttp. Idle and slow-header connections are closed by aiohttp's keep-alive timer, which runs from
    a connection's opening and from each answer until the next request head is complete (app.serve)."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, cap: int, shared: Shared,
                 dialects: Dialects, ssl_context: ssl.SSLContext | None = None,
                 on_refused: Callable[[], None] | None = None) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port, self._cap, self._shared, self._dialects = host, port, cap, shared, dialects
        self._on_refused = on_refused  # the metrics' refusal counter (gateway/metrics.py)
        self._refused = Tally("http_busy")

    @property
    def name(self) -> str:
        return f"{'https' if self._ssl_context else 'http'}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            reason = self._shared.descriptors.refusal(len(server.connections), self._cap)
            if reason:
                if self._on_refused is not None:
                    self._on_refused()
                self._refused.note(open=len(server.connections), cap=self._cap, reason=reason)
                return _Refused(self._answer, linger=0.0 if reason == "descriptors" else 0.5)
            return server()

        self._server = await asyncio.get_running_loop().create_server(
            protocol, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog)

    def _answer(self, path: str) -> bytes:
        dialects = served_endpoints(self._dialects())
        dialect = dialects.get(path) or next((d for d in dialects.values() if isinstance(d.framing, JsonDoc)), None)
        body, content_type = busy_answer(dialect) if dialect else (f"{Busy.code} {Busy.title}".encode(), "text/plain")
        charset = dialect.encoding if dialect and dialect.transport != "soap" else "utf-8"
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: {content_type}; charset={charset}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n")
        return head.encode("ascii") + body


class _Refused(asyncio.Protocol):
    """A connection the HTTP listener does not take: it reads the request line for up to `linger` seconds (to
    answer in the dialect of its path), answers 503 and closes."""

    def __init__(self, answer: Callable[[str], bytes], linger: float) -> None:
        self._answer = answer
        self._linger = linger
        self._head = b""
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._linger <= 0:
            self._reply()
        else:
            self._timer = asyncio.get_running_loop().call_later(self._linger, self._reply)

    def data_received(self, data: bytes) -> None:
        self._head = (self._head + data)[:4096]
        if b"\r\n" in self._head or len(self._head) >= 4096:
            self._reply()

    def eof_received(self) -> bool:
        self._reply()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._transport = None

    def _reply(self) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        line = self._head.split(b"\r\n", 1)[0].split(b" ")
        path = line[1].split(b"?", 1)[0].decode("latin-1") if len(line) > 1 else ""
        self._transport.write(self._answer(path))
        self._transport.close()

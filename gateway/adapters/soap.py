"""SOAP dialects on the gateway's own aiohttp loop, through spyne and aiohttp-spyne.

The spyne service is built from the mapping file: DHC style is one operation (HIPMessageServer(action,
message) → string); NCMS style is one operation per trade with positional string arguments and the out
parameters the mapping's answer envelope names. spyne parses the envelope and writes the answer; between
the two, the call goes down the one road (dialect_call) awaited on the loop, so no thread is involved.
A request that is not a well-formed call of the service gets a SOAP Fault; a well-formed call whose
message is wrong gets the dialect's own error answer.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from aiohttp import web
from aiohttp_spyne.aio_base import AioBase
from aiohttp_spyne.aio_method_ctx import AioMethodContext
from lxml import etree
from spyne import Application, ServiceBase, Unicode, rpc
from spyne.interface import InterfaceDocuments
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11

from gateway.adapters.dialect_call import call_dialect
from gateway.adapters.http_listener import BODY, GATEWAY
from gateway.errors import AccessError, GatewayError, MessageTooLarge
from gateway.mapping import safexml
from gateway.mapping.args import operations
from gateway.mapping.model import Dialect

MAX_SOAP_BODY = 8 * 1024 * 1024
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")  # spyne's parser resolves no entity; we refuse DTDs outright
log = structlog.get_logger("hisgw.soap")
# spyne logs a request it cannot parse whole, at error level: personal data. Our soap_fault line says enough.
logging.getLogger("spyne").setLevel(logging.CRITICAL)


def _operation(name: str, arguments: list[str], results: list[str]) -> Any:
    """A spyne operation whose body returns what the gateway already answered (ctx.udc)."""

    def answered(ctx: Any, *_arguments: Any) -> Any:
        return ctx.udc

    answered.__name__ = name
    returns: Any = tuple(Unicode for _ in results) if len(results) > 1 else Unicode
    names: dict[str, Any] = ({"_out_variable_names": tuple(results)} if len(results) > 1
                             else {"_out_variable_name": results[0]})
    return rpc(*(Unicode for _ in arguments), _args=tuple(arguments), _returns=returns, **names)(answered)


def signature(dialect: Dialect) -> dict[str, tuple[list[str], list[str]]]:
    """Operation → (argument names, result names), as the WSDL shows them."""
    soap = dialect.soap
    assert soap is not None
    if soap.operation:
        return {soap.operation: ([soap.action_arg, soap.message_arg], [soap.result])}
    results = [name for name, _source in dialect.answer_envelope]
    return {operation: (arguments, results) for operation, arguments in operations(dialect).items()}


def application(dialect: Dialect) -> Application:
    soap = dialect.soap
    assert soap is not None
    methods = {name: _operation(name, arguments, results)
               for name, (arguments, results) in signature(dialect).items()}
    service = type(soap.service, (ServiceBase,), methods)
    return Application([service], tns=soap.namespace, name=soap.service,
                       in_protocol=Soap11(validator=None), out_protocol=Soap11())


def wsdl_document(dialect: Dialect, url: str) -> bytes:
    """The WSDL as served at `url` (committed under wsdl/ with the default serve address)."""
    server = AioBase(application(dialect))  # the server names the transport (HTTP) in the binding
    documents = InterfaceDocuments(server.app.interface)
    documents.wsdl11.build_interface_document(url)
    text: bytes = documents.wsdl11.get_interface_document()
    return text


def committed_wsdl_name(dialect: Dialect) -> str:
    return f"{dialect.name}.wsdl"


def readable_wsdl(document: bytes) -> bytes:
    """Indented for review in the repository; tests compare it with the served one element by element."""
    root = etree.fromstring(document, etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    text: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return text


def _declares_dtd(document: Any) -> bool:
    """spyne's parsed envelope: (root, ids) as parsed, the root once decomposed, or nothing."""
    root = document[0] if isinstance(document, tuple) and document else document
    return isinstance(root, etree._Element) and safexml.declares_dtd(root)


class SoapEndpoints:
    """One spyne server per soap dialect, rebuilt when a reload brings a new version of the dialect."""

    def __init__(self) -> None:
        self._servers: dict[str, tuple[Dialect, AioBase]] = {}

    def server(self, dialect: Dialect) -> AioBase:
        cached = self._servers.get(dialect.name)
        if cached is None or cached[0] is not dialect:
            cached = (dialect, AioBase(application(dialect)))
            self._servers[dialect.name] = cached
        return cached[1]

    async def handle(self, request: web.Request, dialect: Dialect, caller: str | GatewayError | None
                     ) -> web.StreamResponse:
        """`caller`: the hospital the request is signed for, its signature's error, or None (not required)."""
        server = self.server(dialect)
        if request.method == "GET" and "wsdl" in {key.lower() for key in request.query}:
            return await server.handle_wsdl_request(request, request.app)
        context = AioMethodContext(server, request, server.app.out_protocol.mime_type, aiohttp_app=request.app)
        if isinstance(caller, GatewayError):  # the body could not be read, or its signature failed
            code = ("Client.Authentication" if isinstance(caller, AccessError)
                    else "Client.TooLarge" if isinstance(caller, MessageTooLarge) else "Client")
            return await self.fault(server, request, context, code, f"{caller.code} {caller.message}")
        body = request[BODY]  # read (bounded, charged to the budget) by the HTTP listener
        if len(body) > MAX_SOAP_BODY:
            return await self.fault(server, request, context, "Client.TooLarge",
                                    f"request body over {MAX_SOAP_BODY // 1024 // 1024} MB")
        if any(marker in body for marker in _FORBIDDEN):
            return await self.fault(server, request, context, "Client.Forbidden", "DTD and entities are refused")
        context.in_string = [body]
        contexts = server.generate_contexts(context)
        call, others = contexts[0], contexts[1:]
        if _declares_dtd(call.in_document):  # the byte check above misses UTF-16 and UTF-32 (safexml.py)
            return await self.fault(server, request, context, "Client.Forbidden", "DTD and entities are refused")
        if call.in_error:
            return await server.handle_error(request, call, others, call.in_error)
        server.get_in_object(call)
        if call.in_error:
            return await server.handle_error(request, call, others, call.in_error)
        call.udc = await self.answer(request, dialect, call.descriptor.operation_name, list(call.in_object or []),
                                     caller)
        server.get_out_object(call)
        if call.out_error:
            return await server.handle_error(request, call, others, call.out_error)
        server.get_out_string(call)
        return await server.response(request, call, others)

    async def answer(self, request: web.Request, dialect: Dialect, operation: str, values: list[Any],
                     hospital: str | None) -> Any:
        soap = dialect.soap
        assert soap is not None
        gateway = request.app[GATEWAY]
        if soap.operation:  # DHC: HIPMessageServer(action, message) → the answer message
            action, message = [*values, None, None][:2]
            _status, body = await call_dialect(gateway, dialect, message or "", action or "", hospital)
            return body.decode(dialect.encoding)
        arguments, _results = signature(dialect)[operation]
        status, body = await call_dialect(gateway, dialect, dict(zip(arguments, values, strict=False)), operation,
                                          hospital)
        text = body.decode(dialect.encoding)
        ok = status == dialect.errors.ok
        by_source = {"status": status, "output": text if ok else "", "message": dialect.ok_text if ok else text}
        return tuple(by_source.get(source, "") for _name, source in dialect.answer_envelope)

    async def fault(self, server: AioBase, request: web.Request, context: AioMethodContext, code: str,
                    text: str) -> web.StreamResponse:
        log.info("soap_fault", fault=code, reason=text, path=request.path)
        context.out_error = Fault(code, text)
        return await server.handle_error(request, context, [], context.out_error)

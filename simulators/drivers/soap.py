"""SOAP transport: the dialect's call through zeep, as a HIS's SOAP client makes it, against the WSDL the gateway
serves at `<url><endpoint>?wsdl`.

zeep is synchronous here (zeep.AsyncClient needs httpx, which hisgw does not install; most HIS SOAP clients
are synchronous anyway): each call runs in a worker thread beside the event loop, and the WSDL is read once,
in a thread too, on the first call. The codecs (xmlmsg.py for DHC, args.py for NCMS) write a `SoapCall`, the
operation and its arguments in the WSDL's positional order; zeep writes the envelope. The answer comes back
as a `SoapAnswer` (the operation's return value or its out parameters, or a SOAP Fault), and the envelopes
that went over the wire are kept beside it for the report.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
import zeep.transports

from gateway.mapping.model import Dialect, Trade
from simulators.drivers.base import Decoded, Delivery

# Where a call spoiled with bytes invalid in UTF-8 has them: the transport puts the bytes in place of this text
# in the envelope zeep wrote (a SOAP string argument is text, so the bytes can only be put in on the wire).
BAD_BYTES_MARKER = "@@HISGW-SIM-BAD-BYTES@@"
BAD_BYTES = b"\xff\xfe"
SPOIL_ENCODING = "encoding"


@dataclass(frozen=True)
class SoapCall:
    """One call as the HIS makes it: the operation and its arguments in order (None: left out)."""

    operation: str
    arguments: tuple[tuple[str, str | None], ...]
    spoil: str = ""  # "encoding": the transport puts bytes invalid in UTF-8 where BAD_BYTES_MARKER is

    def to_bytes(self) -> bytes:
        document = {"operation": self.operation, "arguments": [list(pair) for pair in self.arguments]}
        if self.spoil:
            document["spoil"] = self.spoil
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> SoapCall:
        document = json.loads(raw.decode("utf-8"))
        return cls(str(document["operation"]), tuple((str(n), v) for n, v in document["arguments"]),
                   str(document.get("spoil", "")))

    def argument(self, name: str) -> str | None:
        return next((value for key, value in self.arguments if key == name), None)

    def replaced(self, **values: str | None) -> SoapCall:
        return SoapCall(self.operation, tuple((n, values.get(n, v) if n in values else v) for n, v in self.arguments),
                        self.spoil)


@dataclass(frozen=True)
class SoapAnswer:
    """What the call returned: a string (DHC's HIPMessageServerResult), out parameters by name (NCMS's Result,
    sResult, sMessage), or a SOAP Fault."""

    value: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    fault_code: str = ""
    fault_message: str = ""

    @property
    def fault(self) -> bool:
        return bool(self.fault_code or self.fault_message)

    def to_bytes(self) -> bytes:
        document: dict[str, Any]
        if self.fault:
            document = {"fault": {"code": self.fault_code, "message": self.fault_message}}
        elif self.value is not None:
            document = {"return": self.value}
        else:
            document = {"return": dict(self.outputs)}
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> SoapAnswer:
        document = json.loads(raw.decode("utf-8"))
        if "fault" in document:
            return cls(fault_code=str(document["fault"]["code"]), fault_message=str(document["fault"]["message"]))
        value = document["return"]
        if isinstance(value, dict):
            return cls(outputs={str(k): "" if v is None else str(v) for k, v in value.items()})
        return cls(value="" if value is None else str(value))


def fault_decoded(answer: SoapAnswer) -> Decoded:
    """A SOAP Fault: the service refused the call itself (Client…) or failed (Server…); nothing was done."""
    local = answer.fault_code.rpartition(":")[2]
    outcome = "business" if local.startswith("Client") else "system"
    return Decoded(outcome=outcome, status=f"SOAP Fault {local}", error_code=f"Fault:{local}",
                   error_text=answer.fault_message)


def readable(raw: bytes, message_argument: str = "") -> str:
    """A call or an answer as the vendor reads it: the operation and each argument on its line (`message_argument`,
    an XML message, on lines of its own), the return value, the out parameters, or the Fault."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", errors="backslashreplace")
    if "operation" in document:
        call = SoapCall.from_bytes(raw)
        width = max((len(name) for name, _ in call.arguments), default=0)
        lines = [call.operation]
        for name, value in call.arguments:
            shown = "(left out)" if value is None else value.replace(BAD_BYTES_MARKER, "\\xff\\xfe")
            if name == message_argument and value is not None:
                lines.append(f"  {name}:")
                lines.append(shown)
            else:
                lines.append(f"  {name.ljust(width)} = {shown}")
        return "\n".join(lines)
    answer = SoapAnswer.from_bytes(raw)
    if answer.fault:
        return f"SOAP Fault {answer.fault_code}\n{answer.fault_message}"
    if answer.value is not None:
        return answer.value
    width = max((len(name) for name in answer.outputs), default=0)
    return "\n".join(f"{name.ljust(width)} = {value}" for name, value in answer.outputs.items())


class _WireTransport(zeep.transports.Transport):
    """zeep's HTTP transport, keeping each call's envelopes (per thread: a call runs wholly in one) and putting
    bytes invalid in UTF-8 in place of the marker when the call is spoiled so."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.local = threading.local()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        if getattr(self.local, "spoil", False):
            message = message.replace(BAD_BYTES_MARKER.encode("ascii"), BAD_BYTES)
        self.local.sent = message
        response: requests.Response = super().post(address, message, headers)  # type: ignore[no-untyped-call]
        self.local.received = response.content
        self.local.status = response.status_code
        return response


class SoapTransport:
    def __init__(self, dialect: Dialect, base_url: str, *, threads: int = 32, timeout: float = 30.0) -> None:
        self.address = base_url.rstrip("/") + dialect.endpoint
        self.wsdl = f"{self.address}?wsdl"
        self.timeout = timeout
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=threads)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._wire = _WireTransport(session=self._session, timeout=timeout, operation_timeout=timeout)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"his-{dialect.name}")
        self._client: zeep.Client | None = None
        self._loading = asyncio.Lock()

    async def _ready(self) -> zeep.Client | str:
        """The client, the WSDL read on first use; or why it cannot be read."""
        async with self._loading:
            if self._client is None:
                try:
                    self._client = await asyncio.get_running_loop().run_in_executor(self._pool, self._load)
                except (requests.RequestException, zeep.exceptions.Error, OSError) as exc:
                    return f"cannot read the WSDL at {self.wsdl}: {type(exc).__name__} {exc}"
            return self._client

    def _load(self) -> zeep.Client:
        return zeep.Client(self.wsdl, transport=self._wire)  # type: ignore[no-untyped-call]

    async def send(self, raw: bytes, trade: Trade) -> Delivery:
        client = await self._ready()
        if isinstance(client, str):
            return Delivery(body=b"", meta="no WSDL", failure=client)
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, client,
                                                                SoapCall.from_bytes(raw))

    def _call(self, client: zeep.Client, call: SoapCall) -> Delivery:
        local = self._wire.local
        local.sent, local.received, local.status = b"", b"", 0
        local.spoil = call.spoil == SPOIL_ENCODING
        try:
            operation = client.service[call.operation]
        except AttributeError as exc:
            return Delivery(body=b"", meta="not called", failure=f"{call.operation}: not in the WSDL ({exc})")
        try:
            result = operation(*(value for _name, value in call.arguments))
            answer = _answer(result)
        except zeep.exceptions.Fault as fault:
            answer = SoapAnswer(fault_code=str(fault.code or ""), fault_message=str(fault.message or ""))
        except (zeep.exceptions.Error, requests.RequestException) as exc:
            meta = f"HTTP {local.status}" if local.status else "no answer"
            return Delivery(body=b"", meta=meta, failure=f"{self.address}: {type(exc).__name__} {exc}",
                            wire_sent=local.sent, wire_received=local.received)
        meta = f"HTTP {local.status}" + (" · SOAP Fault" if answer.fault else "")
        return Delivery(body=answer.to_bytes(), meta=meta, wire_sent=local.sent, wire_received=local.received)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._session.close()


def _answer(result: Any) -> SoapAnswer:
    if result is None or isinstance(result, str):
        return SoapAnswer(value=result or "")
    plain = zeep.helpers.serialize_object(result, dict)  # type: ignore[no-untyped-call]
    if not isinstance(plain, dict):
        return SoapAnswer(value=str(plain))
    return SoapAnswer(outputs={str(k): "" if v is None else str(v) for k, v in plain.items()})

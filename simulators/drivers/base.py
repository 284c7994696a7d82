"""What a driver is: a codec (national document ⇄ the dialect's bytes, sans I/O) and a transport (bytes there
and back over the dialect's real channel). A new dialect kind is one codec and, when its channel is new, one
transport; see simulators/drivers/__init__.py for the table that picks them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.mapping.model import Dialect, Trade


@dataclass(frozen=True)
class Envelope:
    """The national envelope of one call; each dialect carries what it has a place for."""

    msgid: str
    fixmedins_code: str
    inf_time: str  # yyyy-MM-dd HH:mm:ss
    opter: str = "001"
    opter_name: str = "收费员"
    sign_no: str = ""
    mdtrtarea_admvs: str = "430521"

    def national(self) -> dict[str, str]:
        return {"msgid": self.msgid, "fixmedins_code": self.fixmedins_code, "inf_time": self.inf_time,
                "opter": self.opter, "opter_name": self.opter_name, "sign_no": self.sign_no}


@dataclass(frozen=True)
class Delivery:
    """What came back over the channel: the answer bytes and, for a DLL, the function's return code."""

    body: bytes
    rc: int | None = None
    meta: str = ""  # "HTTP 200", "rc=-2"
    failure: str = ""  # the channel itself failed (refused, timeout, HTTP 500): no dialect answer
    wire_sent: bytes = b""  # what went on the wire when it is not the dialect's message itself (SOAP envelopes)
    wire_received: bytes = b""


@dataclass
class Decoded:
    """An answer read back into national terms."""

    outcome: str  # ok | business | system
    status: str  # the dialect's own status (rc, infcode, ResultCode)
    output: dict[str, Any] | None = None  # the national `output` document, as far as the dialect carries it
    error_code: str = ""  # the gateway's code (HG3004) when the dialect's error text carries it
    error_text: str = ""
    notes: list[str] = field(default_factory=list)  # envelope problems (an echo that does not match)


@dataclass(frozen=True)
class Refusal:
    """How a dialect refuses a malformation, where that is not the pack's error code: a dialect whose request is
    an argument list has no message to cut short, and a SOAP string argument cannot carry bytes invalid in its
    encoding (the SOAP envelope itself breaks, and the service answers with a Fault)."""

    error: str  # the gateway's code (HG1002), or "Fault:Client" for a SOAP Fault whose code starts so
    why: str


class Codec(Protocol):
    dialect: Dialect

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        """`document` is the national request document ({"input": {...}}); `trade_code` overrides the code."""

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded: ...

    def carried(self, trade: Trade) -> frozenset[str] | None:
        """The national paths the trade's answer carries (rows as `<list path>[].<column>`); None: all."""

    def mangle(self, raw: bytes, how: str) -> bytes:
        """A deliberately malformed copy: truncate, encoding (bytes invalid in the dialect's encoding)."""

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        """How the dialect answers the malformation `how` of this trade, when not with the pack's error."""

    def text(self, raw: bytes) -> str:
        """The bytes as the vendor would read them, for the report."""


class Transport(Protocol):
    async def send(self, raw: bytes, trade: Trade) -> Delivery: ...

    async def close(self) -> None: ...


@dataclass
class Exchange:
    """One call as it went over the wire, and what it meant."""

    request: bytes
    delivery: Delivery
    decoded: Decoded
    seconds: float
    request_text: str = ""  # the bytes as the vendor reads them (its encoding), for the report
    answer_text: str = ""


class Driver:
    """A dialect, played from the HIS side: the national step → the dialect's bytes → its channel → back."""

    def __init__(self, dialect: Dialect, codec: Codec, transport: Transport) -> None:
        self.dialect = dialect
        self.codec = codec
        self.transport = transport
        self._by_infno: dict[str, Trade] = {}
        for trade in dialect.trades.values():
            self._by_infno.setdefault(trade.infno, trade)

    @property
    def name(self) -> str:
        return self.dialect.name

    def trade(self, infno: str) -> Trade | None:
        return self._by_infno.get(infno)

    def carried(self, infno: str) -> frozenset[str] | None:
        return self.codec.carried(self._by_infno[infno])

    def refusal(self, infno: str, how: str) -> Refusal | None:
        return self.codec.refusal(self._by_infno[infno], how) if how else None

    def unknown_trade_code(self) -> str:
        for candidate in ("8888", "9999", "XX", "00"):
            if candidate not in self.dialect.trades:
                return candidate
        return "UNKNOWN"

    def encode(self, infno: str, envelope: Envelope, document: Mapping[str, Any], malformed: str = "") -> bytes:
        trade = self._by_infno[infno]
        if malformed == "unknown_trade":
            return self.codec.encode(trade, envelope, document, trade_code=self.unknown_trade_code())
        raw = self.codec.encode(trade, envelope, document)
        return self.codec.mangle(raw, malformed) if malformed else raw

    async def exchange(self, infno: str, raw: bytes) -> Exchange:
        trade = self._by_infno[infno]
        started = time.perf_counter()
        delivery = await self.transport.send(raw, trade)
        seconds = time.perf_counter() - started
        if delivery.failure:
            decoded = Decoded(outcome="system", status=delivery.meta, error_text=delivery.failure)
        else:
            decoded = self.codec.decode(trade, raw, delivery)
        return Exchange(request=raw, delivery=delivery, decoded=decoded, seconds=seconds,
                        request_text=self.codec.text(raw), answer_text=self.codec.text(delivery.body))

    async def close(self) -> None:
        await self.transport.close()

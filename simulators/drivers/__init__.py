"""Drivers: a dialect played from the HIS side over its real transport.

Which codec and transport a dialect gets is decided by its mapping file's `transport` and framing `kind`:

| transport | framing     | codec                          | channel                                             |
|-----------|-------------|--------------------------------|-----------------------------------------------------|
| http      | json        | mapped.JsonCodec               | http.HttpTransport (POST to the endpoint)           |
| dll       | delimited   | mapped.DelimitedCodec          | dll.DllTransport (ctypes → libhisgw_dll.so)         |
| soap      | xml         | xmlmsg.XmlMessageCodec         | soap.SoapTransport (zeep, the served WSDL, threads) |
| soap      | args        | args.ArgsCodec                 | soap.SoapTransport                                  |
| hl7       | hl7         | hl7.Hl7Codec                   | mllp.MllpTransport (python-hl7 MLLP client, a pool) |

A new kind is one codec with encode/decode/carried/mangle/refusal/text and, for a new channel, one transport
with send/close, added to `open_driver` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gateway.mapping.model import Dialect
from simulators.drivers.args import ArgsCodec
from simulators.drivers.base import Codec, Driver, Transport
from simulators.drivers.dll import DllTransport, library_path
from simulators.drivers.hl7 import Hl7Codec
from simulators.drivers.http import HttpTransport
from simulators.drivers.mapped import DelimitedCodec, JsonCodec
from simulators.drivers.mllp import MllpTransport
from simulators.drivers.soap import SoapTransport
from simulators.drivers.xmlmsg import XmlMessageCodec

KINDS = frozenset({("http", "json"), ("dll", "delimited"), ("soap", "xml"), ("soap", "args"), ("hl7", "hl7")})


@dataclass(frozen=True)
class Target:
    """Where the gateway listens: its HTTP base URL (JSON and SOAP), and the DLL and MLLP listeners' ports on the
    same host."""

    url: str
    dll_port: int | None = None
    library: Path | None = None  # libhisgw_dll.so (default build/, built with gcc when missing)
    hl7_port: int | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"


class UnsupportedDialect(ValueError):
    pass


def supported(dialect: Dialect) -> bool:
    return (dialect.transport, dialect.framing.kind) in KINDS


def open_driver(dialect: Dialect, target: Target, *, concurrency: int = 32) -> Driver:
    kind = (dialect.transport, dialect.framing.kind)
    codec: Codec
    transport: Transport
    if kind == ("http", "json"):
        codec = JsonCodec(dialect)
        transport = HttpTransport(dialect, target.url, connections=concurrency)
    elif kind == ("dll", "delimited"):
        if target.dll_port is None:
            raise UnsupportedDialect(f"{dialect.name} is a DLL dialect: give the gateway's DLL port (--dll-port)")
        codec = DelimitedCodec(dialect)
        transport = DllTransport(dialect, target.host, target.dll_port, library_path(target.library),
                                 threads=concurrency)
    elif kind in (("soap", "xml"), ("soap", "args")):
        codec = XmlMessageCodec(dialect) if kind[1] == "xml" else ArgsCodec(dialect)
        transport = SoapTransport(dialect, target.url, threads=concurrency)
    elif kind == ("hl7", "hl7"):
        if target.hl7_port is None:
            raise UnsupportedDialect(f"{dialect.name} is an HL7 v2 dialect: give the gateway's MLLP port (--hl7-port)")
        codec = Hl7Codec(dialect)
        transport = MllpTransport(dialect, target.host, target.hl7_port, connections=concurrency)
    else:
        raise UnsupportedDialect(f"{dialect.name}: the simulator has no driver yet for transport {dialect.transport} "
                                 f"with framing {dialect.framing.kind} (simulators/drivers/__init__.py)")
    return Driver(dialect, codec, transport)


__all__ = ["Driver", "Target", "UnsupportedDialect", "open_driver", "supported"]

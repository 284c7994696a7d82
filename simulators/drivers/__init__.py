"""Drivers: a dialect played from the HIS side over its real transport.

Which codec and transport a dialect gets is decided by its mapping file's `transport` and framing `kind`:

| transport | framing     | codec                          | channel                                        |
|-----------|-------------|--------------------------------|------------------------------------------------|
| http      | json        | mapped.JsonCodec               | http.HttpTransport (POST to the endpoint)      |
| dll       | delimited   | mapped.DelimitedCodec          | dll.DllTransport (ctypes → libhisgw_dll.so)    |

A new kind (SOAP's xml/args through zeep, HL7 v2 over MLLP) is one codec with encode/decode/carried/mangle/text
and, for a new channel, one transport with send/close, added to `open_driver` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gateway.mapping.model import Dialect
from simulators.drivers.base import Codec, Driver, Transport
from simulators.drivers.dll import DllTransport, library_path
from simulators.drivers.http import HttpTransport
from simulators.drivers.mapped import DelimitedCodec, JsonCodec


@dataclass(frozen=True)
class Target:
    """Where the gateway listens: its HTTP base URL, and the DLL listener's port on the same host."""

    url: str
    dll_port: int | None = None
    library: Path | None = None  # libhisgw_dll.so (default build/, built with gcc when missing)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"


class UnsupportedDialect(ValueError):
    pass


def supported(dialect: Dialect) -> bool:
    return (dialect.transport, dialect.framing.kind) in (("http", "json"), ("dll", "delimited"))


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
    else:
        raise UnsupportedDialect(f"{dialect.name}: the simulator has no driver yet for transport {dialect.transport} "
                                 f"with framing {dialect.framing.kind} (simulators/drivers/__init__.py)")
    return Driver(dialect, codec, transport)


__all__ = ["Driver", "Target", "UnsupportedDialect", "open_driver", "supported"]

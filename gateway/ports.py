"""Before any listener starts: every port the gateway will listen on is free, or one line says which is not.

Each address is bound the way asyncio's create_server binds it (SO_REUSEADDR on POSIX, every address the host
resolves to), then released at once; a port taken between this check and the start is still refused by the
listener itself, but the common case (another gateway, a `make serve` left running) is told in one line."""

from __future__ import annotations

import socket
from collections.abc import Sequence


def port_problem(host: str, listeners: Sequence[tuple[str, int]]) -> tuple[str, int, str] | None:
    """(listener, port, problem) of the first listener that cannot listen, or None. Port 0 (any) is never taken."""
    seen: dict[int, str] = {}
    for name, port in listeners:
        if port and port in seen:
            return name, port, f"the same port as the {seen[port]} listener"
        seen[port] = name
        if port:
            problem = _bind_problem(host, port)
            if problem:
                return name, port, problem
    return None


def _bind_problem(host: str, port: int) -> str:
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            if hasattr(socket, "SO_REUSEADDR") and not hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # as asyncio does
            try:
                sock.bind(address)
            except OSError as exc:
                return exc.strerror or str(exc)
    return ""

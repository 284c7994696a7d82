"""What a listener grants one peer: concurrent connections, and how long it waits for a stalled sender.

A listener answers the connection over the cap at once, in its own protocol, and closes it: a flood of
peers gets a clear "busy", never a gateway that stops answering everyone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 1024  # per listener
    read_timeout: float = 30.0  # seconds for the rest of a message once it has started
    idle_timeout: float = 120.0  # seconds a kept-alive connection may wait for its next message


@dataclass
class ConnectionGate:
    limits: Limits
    open: int = 0

    def enter(self) -> bool:
        if self.open >= self.limits.max_connections:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1

"""A county request refused: the HTTP status, a stable code (gateway/errors.py numbering) and a message."""

from __future__ import annotations

from typing import Any


class CountyRefusal(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def not_found(message: str) -> CountyRefusal:
    return CountyRefusal(404, "HG2000", message)


def conflict(message: str, **extra: Any) -> CountyRefusal:
    return CountyRefusal(409, "HG3002", message, **extra)


def bad_input(message: str, **extra: Any) -> CountyRefusal:
    return CountyRefusal(400, "HG1003", message, **extra)


def forbidden(message: str) -> CountyRefusal:
    return CountyRefusal(403, "HG4004", message)

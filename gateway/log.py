"""structlog set-up: JSON in production, readable in a terminal; ID numbers and names never in clear."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from datetime import date
from typing import Any

import structlog

from gateway.refdata.idcard import mask_certno, mask_name

# An 18-character resident ID number anywhere in a string (the last character may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
NAME_KEYS = frozenset({"psn_name", "name", "coner_name", "patient_name"})
_ID_KEYS = frozenset({"certno", "mdtrt_cert_no", "idcard"})
_KEYS = "|".join(sorted(NAME_KEYS))
# A name as the value of a name key in JSON ("psn_name":"张三") or XML (<psn_name>张三</psn_name>).
_KEYED_NAME = re.compile(rf'(?P<head>"(?:{_KEYS})"\s*:\s*")(?P<name>[^"\\]+)(?=")'
                         rf"|(?P<open><(?P<tag>{_KEYS})>)(?P<xname>[^<]+)(?=</(?P=tag)>)")


def _keyed(match: re.Match[str]) -> str:
    if match.group("head") is not None:
        return match.group("head") + mask_name(match.group("name"))
    return match.group("open") + mask_name(match.group("xname"))


def _id_number(match: re.Match[str]) -> str:
    """Masked when the 18 characters carry a birth date where an ID number does (positions 7–14): the gateway's
    own 18-digit ids (mdtrt_id, setl_id: a date, then a serial) do not, and stay readable."""
    candidate = match.group(0)
    try:
        born = date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return candidate
    return mask_certno(candidate) if 1900 <= born.year <= 2100 else candidate


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask ID numbers anywhere, names under the keys that carry them, and each of `names` (the people the
    text is about) wherever it appears: a delimited vendor string has no keys, only positions."""
    text = _ID_NUMBER.sub(_id_number, text)
    text = _KEYED_NAME.sub(_keyed, text)
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


def redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask ID numbers wherever they appear and full names under the keys that carry them."""
    for key, value in event.items():
        if not isinstance(value, str):
            continue
        if key in NAME_KEYS:
            event[key] = mask_name(value)
        elif key in _ID_KEYS:
            event[key] = mask_certno(value)
        else:
            event[key] = mask_text(value)
    return event


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" else \
        structlog.dev.ConsoleRenderer(colors=False)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Library logs (aiohttp and others) go through the same redaction and renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=shared,
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

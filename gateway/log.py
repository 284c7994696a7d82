"""structlog set-up: JSON in production, readable in a terminal; ID numbers and names never in clear."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway.refdata.idcard import mask_certno, mask_name

# An 18-character resident ID number anywhere in a string (the last character may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_NAME_KEYS = frozenset({"psn_name", "name", "coner_name", "patient_name"})
_ID_KEYS = frozenset({"certno", "mdtrt_cert_no", "idcard"})


def redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask ID numbers wherever they appear and full names under the keys that carry them."""
    for key, value in event.items():
        if not isinstance(value, str):
            continue
        if key in _NAME_KEYS:
            event[key] = mask_name(value)
        elif key in _ID_KEYS:
            event[key] = mask_certno(value)
        else:
            event[key] = _ID_NUMBER.sub(lambda m: mask_certno(m.group(0)), value)
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

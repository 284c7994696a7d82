"""structlog set-up: JSON in production, readable in a terminal; ID numbers and names never in clear."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, MutableMapping
from datetime import date
from types import TracebackType
from typing import Any

import structlog

from gateway.refdata.idcard import mask_certno, mask_name

# An 18-character resident ID number anywhere in a string (the last character may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
NAME_KEYS = frozenset({"psn_name", "name", "coner_name", "patient_name"})
_ID_KEYS = frozenset({"certno", "mdtrt_cert_no", "idcard"})
# A name as the value of a name key in JSON ("psn_name":"张三") or XML (<psn_name>张三</psn_name>). The pattern
# starts with the literal "name" so the scan skips ahead fast; the look-behinds then check which key it ends.
_JSON_KEY = "|".join(f'(?<="{key})' for key in sorted(NAME_KEYS))
_XML_KEY = "|".join(f"(?<=<{key})" for key in sorted(NAME_KEYS))
_KEYED_NAME = re.compile(rf'name(?:(?:{_JSON_KEY})(?P<json>"\s*:\s*")(?P<name>(?:[^"\\]|\\u[0-9a-fA-F]{{4}})+)(?=")'
                         rf"|(?:{_XML_KEY})(?P<xml>>)(?P<xname>[^<]+)(?=</))")


_KEYED_NAME_UTF8 = re.compile(_KEYED_NAME.pattern.encode("utf-8"))


def _json_text(escaped: str) -> str:
    """A JSON string's content as text: a HIS whose encoder escapes non-ASCII ("\\u5468\\u5efa\\u56fd", Python's
    json.dumps by default) writes the same name, and its mask is written as text (周**), valid JSON either way."""
    if "\\u" not in escaped:
        return escaped
    try:
        return str(json.loads(f'"{escaped}"', strict=False))
    except ValueError:
        return escaped


def _keyed_utf8(match: re.Match[bytes]) -> bytes:
    if match.group("json") is not None:
        name = _json_text(match.group("name").decode("utf-8", "replace"))
        return b"name" + match.group("json") + mask_name(name).encode("utf-8")
    return b"name>" + mask_name(match.group("xname").decode("utf-8", "replace")).encode("utf-8")


def _keyed(match: re.Match[str]) -> str:
    if match.group("json") is not None:
        return "name" + match.group("json") + mask_name(_json_text(match.group("name")))
    return "name>" + mask_name(match.group("xname"))


def _masked_id(candidate: str) -> str:
    """Masked when the 18 characters carry a birth date where an ID number does (positions 7–14): the gateway's
    own 18-digit ids (mdtrt_id, setl_id: a date, then a serial) do not, and stay readable."""
    try:
        born = date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return candidate
    return mask_certno(candidate) if 1900 <= born.year <= 2100 else candidate


def mask_names(text: str, names: Iterable[str] = ()) -> str:
    """Names under the keys that carry them, and each of `names` (the people the text is about) wherever it
    appears: a delimited vendor string has no keys, only positions."""
    if "name" in text:
        text = _KEYED_NAME.sub(_keyed, text)
    if names:
        for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
            text = text.replace(name, mask_name(name))
            if "\\u" in text:
                for escaped in _escaped_forms(name):
                    text = text.replace(escaped, mask_name(name))
    return text


def _escaped_forms(name: str) -> tuple[str, ...]:
    """How a JSON encoder that escapes non-ASCII writes `name`: lower-case hex (Python, Java) and upper-case."""
    lower = json.dumps(name)[1:-1]
    return (lower, re.sub(r"\\u[0-9a-f]{4}", lambda m: m.group(0)[:2] + m.group(0)[2:].upper(), lower)) \
        if lower != name else ()


def mask_names_utf8(data: bytes, names: Iterable[str] = ()) -> bytes:
    """mask_names on UTF-8 bytes, sparing a decode and an encode of long bodies: UTF-8 is self-synchronising,
    so neither a quote, a bracket nor a whole name can match in the middle of another character."""
    if b"name" in data:
        data = _KEYED_NAME_UTF8.sub(_keyed_utf8, data)
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        data = data.replace(name.encode("utf-8"), mask_name(name).encode("utf-8"))
        if b"\\u" in data:
            for escaped in _escaped_forms(name):
                data = data.replace(escaped.encode("ascii"), mask_name(name).encode("utf-8"))
    return data


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask ID numbers anywhere, and names (mask_names)."""
    return mask_names(_ID_NUMBER.sub(lambda m: _masked_id(m.group(0)), text), names)


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_RUN = b"0" * 17
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def mask_id_numbers(data: bytes) -> bytes:
    """mask_text's ID-number rule on bytes, fast on long bodies: runs of digits are found with one C-level
    translate and find instead of a regex trying every position. Safe in UTF-8 and GBK alike: no byte of a
    multi-byte character is an ASCII digit, nor can an X after 17 digits be one."""
    flat = data.translate(_DIGITS)
    found = flat.find(_RUN)
    if found == -1:
        return data
    out = bytearray()
    last = 0
    while found != -1:
        end = found + 17
        while end < len(flat) and flat[end] == 0x30:
            end += 1
        stop = end if end - found == 18 else end + 1 if end - found == 17 and data[end:end + 1] in (b"X", b"x") \
            else 0
        if stop and (found == 0 or data[found - 1] not in _ALNUM) and (stop == len(data) or data[stop] not in _ALNUM):
            out += data[last:found] + _masked_id(data[found:stop].decode("ascii")).encode("ascii")
            last = stop
        found = flat.find(_RUN, end)
    return bytes(out + data[last:])


# A run of Chinese characters: in free text nobody can tell a name from a word, so exception text masks them all.
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u00b7]{2,}")
_FREE_TEXT_KEYS = frozenset({"exception", "stack"})  # format_exc_info's traceback, StackInfoRenderer's stack


def mask_free_text(text: str) -> str:
    """Exception text and tracebacks: an exception may quote any value (a row, a constraint, a trigger's
    message), so beyond mask_text every run of Chinese characters is masked as a name would be (周建国 → 周**)."""
    return _HAN_RUN.sub(lambda m: mask_name(m.group(0)), mask_text(text))


def redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask ID numbers wherever they appear and full names under the keys that carry them; exception text and
    tracebacks, and a library's own message (which may quote an exception), as free text."""
    foreign = event.get("_from_structlog") is False  # a stdlib record (aiohttp, asyncio): its message is free text
    for key, value in event.items():
        if not isinstance(value, str):
            continue
        if key in _FREE_TEXT_KEYS or (foreign and key == "event"):
            event[key] = mask_free_text(value)
        elif key in NAME_KEYS:
            event[key] = mask_name(value)
        elif key in _ID_KEYS:
            event[key] = mask_certno(value)
        elif len(value) >= 17 or "name" in value:  # a shorter string holds no ID number
            event[key] = mask_text(value)
    return event


class _CurrentStderr:
    """Whatever sys.stderr is when a line is written, not when logging was configured: a host that swaps it
    (pytest's capture, a daemon's redirect) never leaves the gateway writing to a closed stream."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR: Any = _CurrentStderr()


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    # Tracebacks are rendered to text *before* redact, so they are masked like everything else; the console
    # prints that text as is (never rich's traceback, which shows every local variable: rows, names, ID numbers).
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" else \
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(_STDERR),
        cache_logger_on_first_use=True,
    )
    # Library logs (aiohttp and others) go through the same redaction and renderer.
    handler = logging.StreamHandler(_STDERR)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=shared,
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def install_excepthook() -> None:
    """A crash of the command itself (or of a thread) prints its traceback masked, like the log does."""

    def print_masked(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        _STDERR.write(mask_free_text("".join(traceback.format_exception(kind, value, tb))))
        _STDERR.flush()

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            print_masked(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    if sys.excepthook is sys.__excepthook__:  # a host's own hook (a test runner's, a debugger's) stays
        sys.excepthook = print_masked
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = thread_hook


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

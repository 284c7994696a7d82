"""HL7 v2 field locators, as mapping files write them: `PID-3.1`, `PV1-19`, `PID-3(2).1`, `FT1-11.1`, `MSH-10`.

    SEG-F[(R)][.C[.S]]    segment id, field, repetition (1-based, default 1), component, subcomponent

A locator without a component means the first component (what HL7 tools call the field's primitive value),
so `PV1-19` reads the visit number of a `PV1-19` written `ZY001^^^HIS`. Only the first segment of an id is
addressed; repeated segments (FT1, DG1) are rows. MSH-1 and MSH-2 are the separators, not data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
_LOCATOR = re.compile(r"^([A-Z][A-Z0-9]{2})-([1-9][0-9]{0,2})(?:\(([1-9][0-9]{0,2})\))?"
                      r"(?:\.([1-9][0-9]{0,2})(?:\.([1-9][0-9]{0,2}))?)?$")
# where an error points: a locator at the start of a field name, with an optional segment occurrence
_WHERE = re.compile(r"^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?-(\d+)(?:\((\d+)\))?(?:\.(\d+))?(?:\.(\d+))?")
_TRADE = re.compile(r"^[A-Z0-9]{3}\^[A-Z0-9]{3}$")


@dataclass(frozen=True, slots=True)
class Locator:
    segment: str
    field: int
    repetition: int = 1
    component: int = 1
    subcomponent: int = 1


@lru_cache(maxsize=4096)
def locate(text: str) -> Locator:
    """The compiled locator; mapping files are checked with `locator_problem` before any of this runs."""
    match = _LOCATOR.match(text)
    if match is None:
        raise ValueError(f"not an HL7 field locator: {text!r}")
    segment, field, repetition, component, subcomponent = match.groups()
    return Locator(segment, int(field), int(repetition or 1), int(component or 1), int(subcomponent or 1))


def locator_problem(text: str) -> str:
    """What is wrong with a locator written in a mapping file, or ""."""
    match = _LOCATOR.match(text)
    if match is None:
        return f"at {text!r}: an HL7 field locator SEG-F[(R)][.C[.S]], e.g. PID-3.1, PV1-19, PID-3(2).1"
    if match.group(1) == "MSH" and int(match.group(2)) <= 2:
        return f"at {text!r}: MSH-1 and MSH-2 are the message's separators, not data"
    return ""


def rows_problem(segment: str, columns: list[str], answer: bool) -> str:
    """Rows are the repeats of one segment. An answer row writes its own segment only; a request row may also
    read a field of another segment (the visit's PV1-50, the patient's PID-3), the same for every row."""
    if not SEGMENT_ID.match(segment):
        return f"rows at {segment!r}: a segment id (FT1, DG1, ZFT)"
    if answer:
        for column in columns:
            if column and locate(column).segment != segment:
                return f"answer rows at {segment}: column {column!r} is not in segment {segment}"
    return ""


def trade_problem(code: str) -> str:
    return "" if _TRADE.match(code) else f"trade {code!r}: an HL7 message type MSH-9.1^MSH-9.2, e.g. ADT^A01"


@dataclass(frozen=True, slots=True)
class Where:
    """An error location (ERR-2, ERL): segment, occurrence, field, repetition, component, subcomponent."""

    segment: str
    sequence: int
    field: int
    repetition: int
    component: int
    subcomponent: int


def where_of(text: str) -> Where | None:
    """The location named at the start of an error's field, e.g. "FT1(3)-11.1" or "PV1-44 (input…)"."""
    match = _WHERE.match(text)
    if match is None:
        return None
    segment, sequence, field, repetition, component, subcomponent = match.groups()
    return Where(segment, int(sequence or 1), int(field), int(repetition or 1), int(component or 1),
                 int(subcomponent or 1))

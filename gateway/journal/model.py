"""The journal's values: an exchange as received, the row written before it runs, its ending, and searches."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.errors import InvalidValue

OUTCOMES = ("ok", "error", "replayed", "unknown")  # unknown: no outcome was committed (in flight, or a crash)
MAX_LIMIT = 1000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One vendor exchange as its transport received it, before anything runs."""

    dialect: str
    transport: str
    encoding: str  # of the request and answer bytes
    trade: str  # the vendor's trade code ("" when the message could not be read that far)
    infno: str
    fixmedins_code: str
    msgid: str  # the national msgid, or the dialect's serial mapped onto it (医院交易流水号)
    request: bytes
    received_at: datetime
    names: tuple[str, ...] = ()  # personal names the request carries (masked wherever they appear)
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True, slots=True)
class Keys:
    """What the console searches by: person, stay, settlement."""

    psn_no: str = ""
    mdtrt_id: str = ""
    setl_id: str = ""

    def filled_from(self, other: Keys) -> Keys:
        return Keys(self.psn_no or other.psn_no, self.mdtrt_id or other.mdtrt_id, self.setl_id or other.setl_id)


@dataclass(frozen=True, slots=True)
class Entry:
    """A journal row as first written: who, how, the bytes (protected) and the canonical call."""

    received_at: str
    fixmedins_code: str
    dialect: str
    transport: str
    msgid: str
    trade: str
    infno: str
    keys: Keys
    protection: str  # mask | clear | encrypt: how request, call and answer are kept
    encoding: str
    request: bytes
    call: bytes  # compact JSON of the canonical call (b"" when the message never became one)


@dataclass(frozen=True, slots=True)
class Ending:
    """What the exchange ended as; written in the commit that made the call's effects durable."""

    outcome: str  # ok | error | replayed
    err_code: str
    err_msg: str
    answer: bytes  # protected like the request
    answered_at: str
    ms: float
    keys: Keys  # the answer's keys (a new mdtrt_id, a setl_id) filling what the call did not name


@dataclass(frozen=True, slots=True)
class JournalRow:
    id: int
    received_at: str
    fixmedins_code: str
    dialect: str
    transport: str
    msgid: str
    trade: str
    infno: str
    keys: Keys
    outcome: str  # one of OUTCOMES
    err_code: str
    err_msg: str
    answered_at: str | None
    ms: float | None
    protection: str
    encoding: str
    request: bytes | None = None  # bodies only when asked for
    call: bytes | None = None
    answer: bytes | None = None


@dataclass(frozen=True, slots=True)
class JournalQuery:
    hospital: str = ""
    msgid: str = ""
    person: str = ""
    stay: str = ""
    setl: str = ""
    since: str = ""  # inclusive, "YYYY-MM-DD HH:MM:SS"
    until: str = ""  # exclusive
    outcome: str = ""
    limit: int = 100
    raw: bool = False
    before: int = 0  # keyset paging: only rows with an id below this (0: from the newest)


def stamp(moment: datetime) -> str:
    """The journal's time format: sortable as text, to the millisecond."""
    return moment.isoformat(sep=" ", timespec="milliseconds")


def parse_moment(text: str, *, end: bool, where: str) -> str:
    """'YYYY-MM-DD[ HH:MM[:SS]]' (or with T) → the journal's format. A bare date as an `until` means the whole
    day: the bound is the next midnight (bounds are since ≤ t < until)."""
    value = text.strip().replace("T", " ")
    for pattern in (TIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(value, pattern)
        except ValueError:
            continue
        if pattern == "%Y-%m-%d" and end:
            moment += timedelta(days=1)
        return moment.strftime(TIME_FORMAT)
    raise InvalidValue(f"时间应为 YYYY-MM-DD[ HH:MM[:SS]]: {text[:32]!r}", field=where)


def parse_query(params: Mapping[str, str], *, raw: bool = False) -> JournalQuery:
    """A search from the console's or the command line's parameters; unknown or bad values are refused."""
    known = {"hospital", "msgid", "person", "stay", "setl", "since", "until", "outcome", "limit", "raw", "before"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidValue(f"未知的查询参数 {', '.join(unknown)}；可用 {', '.join(sorted(known))}", field=unknown[0])
    outcome = params.get("outcome", "").strip()
    if outcome and outcome not in OUTCOMES:
        raise InvalidValue(f"outcome 应为 {' | '.join(OUTCOMES)}", field="outcome")
    limit_text = params.get("limit", "").strip() or "100"
    well_formed = limit_text.isascii() and limit_text.isdigit() and len(limit_text) <= 6  # int() of "²" fails
    if not well_formed or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise InvalidValue(f"limit 应为 1–{MAX_LIMIT}", field="limit")
    since, until = params.get("since", ""), params.get("until", "")
    before = params.get("before", "").strip()
    if before and not (before.isascii() and before.isdigit() and len(before) <= 18):
        raise InvalidValue("before 应为交换记录的编号（整数）", field="before")
    return JournalQuery(
        hospital=params.get("hospital", "").strip(), msgid=params.get("msgid", "").strip(),
        person=params.get("person", "").strip(), stay=params.get("stay", "").strip(),
        setl=params.get("setl", "").strip(),
        since=parse_moment(since, end=False, where="since") if since.strip() else "",
        until=parse_moment(until, end=True, where="until") if until.strip() else "",
        outcome=outcome, limit=int(limit_text), raw=raw or params.get("raw", "") in ("1", "true", "yes"),
        before=int(before) if before else 0,
    )

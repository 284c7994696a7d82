"""A reporting period: whole days, from one date to another inclusive, or a calendar month."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.errors import InvalidValue, MissingField


@dataclass(frozen=True, slots=True)
class Period:
    since: date
    until: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as datetimes, for the ledger's setl_time."""
        return datetime.combine(self.since, time.min), datetime.combine(self.until + timedelta(days=1), time.min)

    def label(self) -> str:
        return f"{self.since:%Y-%m-%d} 至 {self.until:%Y-%m-%d}"


def month(text: str) -> Period:
    """'2026-05' → 2026-05-01 to 2026-05-31."""
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise InvalidValue(f"月份 {text!r} 不是 YYYY-MM", field="month") from exc
    return Period(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidValue(f"日期 {text!r} 不是 YYYY-MM-DD", field=field) from exc


def period_of(*, month_text: str | None = None, since: str | None = None, until: str | None = None) -> Period:
    """A month, or from/until dates (both inclusive); one of the two forms, not both."""
    if month_text:
        if since or until:
            raise InvalidValue("month 与 since/until 只能给一种", field="month")
        return month(month_text)
    if not since or not until:
        missing = "since" if not since else "until"
        raise MissingField("需要 month=YYYY-MM，或 since 与 until (YYYY-MM-DD)", field=missing)
    period = Period(_day(since, "since"), _day(until, "until"))
    if period.until < period.since:
        raise InvalidValue(f"until {until} 早于 since {since}", field="until")
    return period

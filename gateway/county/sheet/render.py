"""The sheet as JSON (every field, amounts in figures and capitals), as printable A4 HTML (a Jinja2 template of
this package) and as PDF (WeasyPrint renders that HTML; Debian's fonts-noto-cjk gives it real Chinese text).

HTML takes about 10 ms; a PDF takes WeasyPrint 0.5–2 s of CPU (layout, then subsetting the CJK font), so it is
never made on the gateway's store thread: the national trade answers JSON (and HTML), and the PDF is made by the
HTTP URL in a worker thread."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import simplejson

from gateway.county.sheet.model import HunanSheet, Money, Sheet

if TYPE_CHECKING:
    import jinja2

FORMATS = ("json", "html", "pdf")


def layout_of(sheet: Sheet) -> str:
    return "hunan" if isinstance(sheet, HunanSheet) else "ncms"


def document(sheet: Sheet) -> dict[str, Any]:
    """Every field of the sheet; an amount is {"figure": 15172.50, "capital": "壹万伍仟壹佰柒拾贰元伍角"}."""
    doc = _plain(sheet)
    assert isinstance(doc, dict)
    return {"sheet_type": layout_of(sheet), "marks": list(sheet.issue.marks), **doc}


def json_bytes(sheet: Sheet) -> bytes:
    text: str = simplejson.dumps(document(sheet), use_decimal=True, ensure_ascii=False, indent=1)
    return text.encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"figure": value.figure, "capital": value.capital}
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # only when a page is first made: the gateway starts without it

    env = jinja2.Environment(loader=jinja2.PackageLoader("gateway.county.sheet", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["yuan"] = _yuan
    env.filters["day"] = _day
    return env


def _yuan(value: Money | Decimal | None, empty: str = "") -> str:
    """15172.50 → 15,172.50 (a box the policy cannot fill stays empty)."""
    if value is None:
        return empty
    figure = value.figure if isinstance(value, Money) else value
    return f"{figure:,.2f}"


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else value.isoformat()


def html(sheet: Sheet) -> str:
    template = _environment().get_template(f"{layout_of(sheet)}.html")
    return template.render(sheet=sheet, issue=sheet.issue)


def pdf(page: str) -> bytes:
    """The HTML page printed to A4 PDF."""
    import weasyprint  # two seconds to import: only when a PDF is first asked for

    data: bytes = weasyprint.HTML(string=page).write_pdf()
    return data


def media_type(fmt: str) -> str:
    return {"json": "application/json", "html": "text/html", "pdf": "application/pdf"}[fmt]

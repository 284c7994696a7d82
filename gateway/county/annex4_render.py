"""附件4 as a user receives it: JSON, CSV (Excel opens it), .xlsx (openpyxl), printable HTML and PDF (WeasyPrint
prints that HTML, as the settlement sheet does; made in a worker thread by the caller)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from gateway.county.annex4 import COLUMNS, COUNTS, Annex4
from gateway.county.annex_page import PAGES, a4_landscape_xlsx

TITLE = '湖南省城乡居民"一站式"结算资金收支财务清算表'
FORMATS = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def _cell(key: str, value: int | Decimal) -> str:
    return str(value) if key in COUNTS else f"{value:.2f}"


def _titles() -> list[str]:
    return [f"{group}·{title}" for _k, group, title in COLUMNS]


def _groups() -> list[tuple[str, int]]:
    return [(group, len(list(run))) for group, run in itertools.groupby(COLUMNS, key=lambda c: c[1])]


def to_json(table: Annex4, *, unit_name: str) -> dict[str, Any]:
    return {"title": TITLE, "unit_name": unit_name, "unit": "元", "since": table.since.isoformat(),
            "until": table.until.isoformat(),
            "columns": [{"key": k, "group": g, "title": t} for k, g, t in COLUMNS],
            "rows": [{"title": row.title, "since": row.since.isoformat(), "until": row.until.isoformat(),
                      "cells": {k: row.cells[k] if k in COUNTS else _cell(k, row.cells[k]) for k, _g, _t in COLUMNS}}
                     for row in table.rows]}


def to_csv(table: Annex4) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["清算期间", *_titles()])
    for row in table.rows:
        writer.writerow([row.title, *(_cell(k, row.cells[k]) for k, _g, _t in COLUMNS)])
    return "\ufeff" + out.getvalue()


def to_xlsx(table: Annex4, *, unit_name: str) -> bytes:
    """Title, 机构名称 / 清算时间 / 单位, a two-row header with each department merged over its columns, three rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "附件4"
    width = len(COLUMNS) + 1
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1, TITLE).font = Font(size=14, bold=True)
    sheet.cell(1, 1).alignment = centre
    sheet.cell(2, 1, f"机构名称：{unit_name}")
    sheet.cell(2, 10, f"清算时间：{table.since:%Y-%m-%d} 至 {table.until:%Y-%m-%d}")
    sheet.cell(2, width - 3, "单位：费用：元")
    sheet.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    sheet.cell(3, 1, f"清算期间（{table.since.year}年）").alignment = centre
    column = 2
    for group, span in _groups():
        sheet.cell(3, column, group).alignment = centre
        sheet.cell(3, column).font = Font(bold=True)
        if span > 1:
            sheet.merge_cells(start_row=3, start_column=column, end_row=3, end_column=column + span - 1)
        column += span
    for index, (_k, _g, title) in enumerate(COLUMNS, start=2):
        sheet.cell(4, index, title).alignment = centre
    for offset, row in enumerate(table.rows):
        sheet.cell(5 + offset, 1, row.title).font = Font(bold=True)
        for index, (key, _g, _t) in enumerate(COLUMNS, start=2):
            figure = sheet.cell(5 + offset, index, row.cells[key])  # a Decimal is written with its own digits
            figure.number_format = "0" if key in COUNTS else "#,##0.00"
    for cells in sheet.iter_rows(min_row=3, max_row=7, max_col=width):
        for framed in cells:
            framed.border = border
    sheet.column_dimensions[get_column_letter(1)].width = 12
    for index in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 11
    sheet.freeze_panes = "B5"
    return a4_landscape_xlsx(book, sheet)


def to_html(table: Annex4, *, unit_name: str, made_on: date | None = None) -> str:
    body = [(row.title, [_cell(k, row.cells[k]) for k, _g, _t in COLUMNS]) for row in table.rows]
    return PAGES.get_template("annex4.html").render(
        title=TITLE, unit_name=unit_name, year=table.since.year, period=f"{table.since} 至 {table.until}",
        groups=_groups(), titles=[t for _k, _g, t in COLUMNS], body=body, made_on=made_on or date.today())


def render(table: Annex4, fmt: str, *, unit_name: str = "") -> bytes:
    """The table in one of FORMATS, as the bytes a user saves (PDF: 0.5–2 s of CPU, keep it off the store thread)."""
    if fmt == "json":
        return json.dumps(to_json(table, unit_name=unit_name), ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        return to_csv(table).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(table, unit_name=unit_name)
    if fmt == "html":
        return to_html(table, unit_name=unit_name).encode("utf-8")
    if fmt == "pdf":
        from gateway.county.sheet.render import pdf

        return pdf(to_html(table, unit_name=unit_name))
    raise ValueError(f"unknown format {fmt!r}")

"""附件5 as a user receives it: JSON, CSV (Excel opens it), .xlsx (openpyxl) and printable HTML."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from gateway.county.annex5 import FUND_COLUMNS, Annex5, Annex5Row, column_titles, in_wan, numbered_columns
from gateway.county.annex5 import Side as TableSide
from gateway.county.annex_page import PAGES, a4_landscape_xlsx
from gateway.county.sheet.render import pdf

TITLE = '湖南省城乡居民"一站式"就医结算统计表'


def _money(value: Decimal) -> str:
    return f"{value:.6f}" if value.as_tuple().exponent == -6 else f"{value:.2f}"


def _side_json(side: TableSide, wan: bool) -> dict[str, Any]:
    money = in_wan if wan else (lambda amount: amount)
    return {
        "persons": side.persons, "medfee": _money(money(side.medfee)), "reimbursed": _money(money(side.reimbursed)),
        "funds": [{"key": column.key, "title": column.title, "times": fund.times, "amount": _money(money(fund.amount))}
                  for column, fund in zip(FUND_COLUMNS, side.funds, strict=True)],
    }


def _row_json(row: Annex5Row, wan: bool) -> dict[str, Any]:
    return {"area": row.area, "in_county": _side_json(row.in_county, wan),
            "out_of_county": _side_json(row.out_of_county, wan),
            "columns": [v if isinstance(v, int | str) else _money(v) for v in numbered_columns(row, wan=wan)]}


def to_json(table: Annex5, *, unit_name: str, wan: bool = True) -> dict[str, Any]:
    """Every figure by name and as the 35 numbered columns; amounts as decimal strings."""
    return {
        "title": TITLE, "unit_name": unit_name, "unit": "万元" if wan else "元",
        "since": table.since.isoformat(), "until": table.until.isoformat(), "column_titles": column_titles(),
        "rows": [_row_json(row, wan) for row in table.rows], "total": _row_json(table.total, wan),
    }


def to_csv(table: Annex5, *, wan: bool = True) -> str:
    """One header line of column titles, a line per 统筹区, then 合计. Written with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(column_titles())
    for row in (*table.rows, table.total):
        writer.writerow([v if isinstance(v, int | str) else _money(v) for v in numbered_columns(row, wan=wan)])
    return "\ufeff" + out.getvalue()


def header_cells() -> list[tuple[int, int, int, int, str]]:
    """The seed's header as (row, column, row span, column span, text), rows 1–5, columns 1–36."""
    cells = [(1, 1, 4, 1, "统筹区"), (1, 2, 1, 17, "县域内"), (1, 19, 1, 17, "县域外"), (1, 36, 4, 1, "备注")]
    for start in (2, 19):
        cells += [(2, start, 1, 3, "整体情况"), (2, start + 3, 1, 14, "综合保障情况"),
                  (3, start, 2, 1, "结算人数"), (3, start + 1, 2, 1, "医疗总费用"), (3, start + 2, 2, 1, "报销总金额")]
        for index, column in enumerate(FUND_COLUMNS):
            first = start + 3 + 2 * index
            cells += [(3, first, 1, 2, column.title), (4, first, 1, 1, "报销人次"), (4, first + 1, 1, 1, "报销金额")]
    cells += [(5, number, 1, 1, str(number)) for number in range(1, 36)] + [(5, 36, 1, 1, "")]
    return cells


def to_xlsx(table: Annex5, *, unit_name: str, wan: bool = True) -> bytes:
    """The seed's layout: title, 填报单位 and unit, the five header rows with merged cells, then the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "附件5"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=36)
    sheet.cell(1, 1, TITLE).font = Font(size=14, bold=True)
    sheet.cell(1, 1).alignment = centre
    sheet.cell(2, 1, f"填报单位：{unit_name}")
    sheet.cell(2, 18, f"统计期间：{table.since:%Y-%m-%d} 至 {table.until:%Y-%m-%d}")
    sheet.cell(2, 33, f"单位：{'万元' if wan else '元'}")
    top = 3  # the header's first row
    for row, column, rows, columns, text in header_cells():
        header = sheet.cell(top + row - 1, column, text)
        if rows > 1 or columns > 1:
            sheet.merge_cells(start_row=top + row - 1, start_column=column,
                              end_row=top + row + rows - 2, end_column=column + columns - 1)
        header.alignment = centre
        header.font = Font(bold=row < 5)
    first_data = top + 5
    number_format = "0.000000" if wan else "0.00"
    for offset, line in enumerate((*table.rows, table.total)):
        for column, value in enumerate(numbered_columns(line, wan=wan), start=1):
            # Numbers stay numbers: openpyxl writes a Decimal's own digits into the file.
            figure = sheet.cell(first_data + offset, column, value)
            if isinstance(value, Decimal):
                figure.number_format = number_format
    for row_cells in sheet.iter_rows(min_row=top, max_row=first_data + len(table.rows), max_col=36):
        for framed in row_cells:
            framed.border = border
    sheet.column_dimensions[get_column_letter(1)].width = 10
    for column in range(2, 36):
        sheet.column_dimensions[get_column_letter(column)].width = 9
    sheet.freeze_panes = f"B{first_data}"
    return a4_landscape_xlsx(book, sheet)


def to_html(table: Annex5, *, unit_name: str, wan: bool = True) -> str:
    """A self-contained page that prints on one A4 sheet, landscape."""
    grid: dict[int, list[tuple[int, int, int, str]]] = {}
    for row, column, rows, columns, text in header_cells():
        grid.setdefault(row, []).append((column, rows, columns, text))
    header = [sorted(grid[row]) for row in sorted(grid)]
    body = [[v if isinstance(v, int | str) else _money(v) for v in numbered_columns(row, wan=wan)]
            for row in (*table.rows, table.total)]
    return PAGES.get_template("annex5.html").render(
        title=TITLE, unit_name=unit_name, unit="万元" if wan else "元", period=f"{table.since} 至 {table.until}",
        header=header, body=body)


FORMATS = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def render(table: Annex5, fmt: str, *, unit_name: str = "", wan: bool = True) -> bytes:
    """The table in one of FORMATS, as the bytes a user saves (CPU-bound for xlsx and pdf: call off the loop)."""
    if fmt == "json":
        return json.dumps(to_json(table, unit_name=unit_name, wan=wan), ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        return to_csv(table, wan=wan).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(table, unit_name=unit_name, wan=wan)
    if fmt == "html":
        return to_html(table, unit_name=unit_name, wan=wan).encode("utf-8")
    if fmt == "pdf":
        return pdf(to_html(table, unit_name=unit_name, wan=wan))
    raise ValueError(f"unknown format {fmt!r}")

"""What 附件4 and 附件5 share as printed tables: their HTML templates (templates/annex_page.html and the pages that
extend it) and an .xlsx sheet laid out to print on one A4 page, landscape."""

from __future__ import annotations

import io

import jinja2
from openpyxl import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

PAGES = jinja2.Environment(loader=jinja2.PackageLoader("gateway.county", "templates"),
                           autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)


def a4_landscape_xlsx(book: Workbook, sheet: Worksheet) -> bytes:
    """The workbook's bytes, its sheet set to print landscape on A4, fitted to one page wide."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

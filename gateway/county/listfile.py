"""Reading an identity list as the offices send it: CSV in GBK or UTF-8, or Excel .xlsx (openpyxl), columns
found by their header under the names those offices use."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from gateway.county.errors import bad_input

MAX_ROWS = 500_000
# canonical column -> the headers 扶贫办, 民政 and 残联 lists use for it (compared without spaces, case-folded)
ALIASES: dict[str, tuple[str, ...]] = {
    "certno": ("身份证号", "身份证号码", "公民身份号码", "公民身份证号", "证件号码", "身份证", "证件号", "certno",
               "idcard", "id_number"),
    "name": ("姓名", "人员姓名", "名字", "户主姓名", "psn_name", "name"),
    "attribute": ("属性", "身份属性", "属性编码", "身份属性编码", "人员类别", "身份类别", "救助类别", "类别",
                  "psn_idet_type", "attribute"),
}
_LOOKUP = {alias.replace(" ", "").casefold(): column for column, aliases in ALIASES.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class ListRow:
    line: int  # the row's number in the file (the header is line 1)
    certno: str
    name: str
    attribute: str


Progress = Callable[[int], None]


def read_list(data: bytes, filename: str, progress: Progress | None = None) -> list[ListRow]:
    """The list's rows; a file that cannot be a list (no ID-number column, not a spreadsheet) is refused."""
    spreadsheet = filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04"
    return _rows(_xlsx(data) if spreadsheet else _csv(data), progress)


def _csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # GB 18030 reads every GBK file
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise bad_input(f"CSV 无法读取：{exc}") from exc
    raise bad_input("CSV 既不是 UTF-8 也不是 GBK 编码")


def _xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    # A damaged workbook can fail anywhere inside openpyxl (zip, XML, styles) with its own exception types: any
    # of them means the same to the county, "this file cannot be read".
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise bad_input(f"不是可读取的 .xlsx 文件：{type(exc).__name__}") from exc
    try:
        if not book.worksheets:
            raise bad_input(".xlsx 中没有工作表")
        table = []
        for values in book.worksheets[0].iter_rows(values_only=True):
            table.append(["" if v is None else _cell(v) for v in values])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise bad_input(f".xlsx 文件已损坏：{type(exc).__name__}") from exc
    finally:
        book.close()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an ID number or a code typed as a number
    return str(value).strip()


def _rows(table: list[list[str]], progress: Progress | None) -> list[ListRow]:
    start = next((n for n, row in enumerate(table) if any(cell.strip() for cell in row)), None)
    if start is None:
        raise bad_input("名单为空")
    header = [_LOOKUP.get(cell.replace(" ", "").strip().casefold(), "") for cell in table[start]]
    if "certno" not in header:
        raise bad_input(f"找不到身份证号列；表头为 {table[start]}，身份证号列可名为 {list(ALIASES['certno'])}")
    if len(table) - start - 1 > MAX_ROWS:
        raise bad_input(f"名单超过 {MAX_ROWS} 行")
    where = {column: header.index(column) for column in ALIASES if column in header}
    rows = []
    for n in range(start + 1, len(table)):
        cells = table[n]
        if not any(cell.strip() for cell in cells):
            continue

        def get(column: str, cells: list[str] = cells) -> str:
            index = where.get(column)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        rows.append(ListRow(line=n + 1, certno=get("certno"), name=get("name"), attribute=get("attribute")))
        if progress is not None and len(rows) % 1000 == 0:
            progress(len(rows))
    if progress is not None:
        progress(len(rows))
    return rows

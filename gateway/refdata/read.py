"""Reading reference-data files and bodies into rows (dicts), before any validation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import InvalidValue, MalformedMessage

Row = dict[str, object]
ROW_NUMBER = "__row__"  # where a row came from, for error messages: CSV line number or JSON index + 1


def read_rows(path: Path) -> list[Row]:
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidValue(f"无法读取文件 {path}: {exc.strerror}") from exc
    if suffix == ".csv":
        return rows_from_csv(raw)
    if suffix == ".json":
        try:
            payload = json.loads(_decode(raw))
        except json.JSONDecodeError as exc:
            raise MalformedMessage(f"{path}: JSON 第{exc.lineno}行第{exc.colno}列: {exc.msg}") from exc
        return rows_from_payload(payload)
    raise InvalidValue(f"{path}: 只支持 .csv 或 .json 文件")


def _decode(raw: bytes) -> str:
    # County exports come from Excel as UTF-8 (often with a BOM) or GBK; UTF-8 is tried first because
    # GBK would decode most UTF-8 bytes into mojibake without complaint.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gbk")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("文件既不是 UTF-8 也不是 GBK 编码") from exc


def rows_from_csv(raw: bytes) -> list[Row]:
    reader = csv.DictReader(io.StringIO(_decode(raw), newline=""))
    if not reader.fieldnames:
        raise MalformedMessage("CSV 缺少表头行")
    rows: list[Row] = []
    for row in reader:
        cleaned: Row = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if not any(cleaned.values()):
            continue  # blank lines at the end of an Excel export
        cleaned[ROW_NUMBER] = reader.line_num
        rows.append(cleaned)
    return rows


def rows_from_payload(payload: object) -> list[Row]:
    """A JSON list of objects, or an object holding that list under "data" or under one other key."""
    items = payload
    if isinstance(payload, Mapping):
        lists = [value for value in payload.values() if isinstance(value, list)]
        items = payload["data"] if isinstance(payload.get("data"), list) else (lists[0] if len(lists) == 1 else None)
    if not isinstance(items, list):
        raise MalformedMessage("应为对象数组，或 {\"data\": [...]}")
    rows: list[Row] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise InvalidValue(f"第{index}条不是 JSON 对象")
        rows.append({**{str(k): v for k, v in item.items()}, ROW_NUMBER: index})
    return rows

"""Typed reading of a JSON object with the national field names; every error names the field path."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from gateway.errors import InvalidValue, MissingField
from gateway.money import parse_decimal

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                     "%Y%m%d")
MAX_TEXT = 512


class Fields:
    """A view on one JSON object. `where` is its path, e.g. "input.feedetail[3]"."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidValue("应为 JSON 对象", field=where)
        self.data: Mapping[str, Any] = data
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MissingField(field=self.path(key))
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidValue("应为字符串", field=self.path(key))
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise InvalidValue(f"长度超过 {MAX_TEXT}", field=self.path(key))
        return text

    def decimal(self, key: str, *, places: int, required: bool = True,
                allow_negative: bool = False) -> Decimal | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MissingField(field=self.path(key))
            return None
        try:
            return parse_decimal(value, places=places, allow_negative=allow_negative)
        except ValueError as exc:
            raise InvalidValue(str(exc), field=self.path(key)) from exc

    def datetime(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MissingField(field=self.path(key))
            return None
        if not isinstance(value, str):
            raise InvalidValue("应为日期时间字符串 yyyy-MM-dd HH:mm:ss", field=self.path(key))
        text = value.strip()
        if len(text) == 19 and text[10] == " ":  # the national format: the C parser, 10× faster than strptime
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass  # the formats below say what is wrong, or accept what strptime alone reads
        for fmt in _DATETIME_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise InvalidValue(f"日期时间不合法: {value[:32]!r}（应为 yyyy-MM-dd HH:mm:ss）", field=self.path(key))

    def obj(self, key: str, *, required: bool = True) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise MissingField(field=self.path(key))
            return None
        return Fields(value, self.path(key))

    def objects(self, key: str, *, required: bool = True, max_items: int = 20000) -> list[Fields]:
        """A list of objects; a single object is accepted as a list of one (some HIS builds send that)."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise MissingField(field=self.path(key))
            return []
        items = [value] if isinstance(value, Mapping) else value
        if not isinstance(items, list):
            raise InvalidValue("应为对象数组", field=self.path(key))
        if len(items) > max_items:
            raise InvalidValue(f"条数超过 {max_items}", field=self.path(key))
        return [Fields(item, f"{self.path(key)}[{i}]") for i, item in enumerate(items)]

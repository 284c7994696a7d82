"""One field of a mapping, compiled: where it sits on each side, and how its value is converted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.errors import InvalidValue, MissingField
from gateway.mapping import paths

NATIONAL_DATETIME = "%Y-%m-%d %H:%M:%S"
NATIONAL_DATE = "%Y-%m-%d"


@dataclass(frozen=True, slots=True)
class Format:
    """text | amount | decimal | datetime:<strftime> | date:<strftime>."""

    kind: str
    pattern: str = ""

    def to_national(self, text: str, where: str) -> Any:
        if self.kind in ("text", "amount", "decimal"):
            return text  # the national decoder checks numbers with its own rules
        try:
            moment = datetime.strptime(text, self.pattern)
        except ValueError as exc:
            raise InvalidValue(f"应为 {self.pattern} 格式: {text[:32]!r}", field=where) from exc
        return moment.strftime(NATIONAL_DATETIME if self.kind == "datetime" else NATIONAL_DATE)

    def to_vendor(self, value: Any) -> str:
        if value is None:
            return ""
        if self.kind == "amount":
            try:
                return f"{Decimal(str(value)):.2f}"
            except InvalidOperation:
                return str(value)
        if self.kind in ("datetime", "date"):
            text = str(value)
            for national in (NATIONAL_DATETIME, NATIONAL_DATE):
                try:
                    return datetime.strptime(text, national).strftime(self.pattern)
                except ValueError:
                    continue
            return text
        return str(value)


@dataclass(frozen=True, slots=True)
class FieldMap:
    """A vendor position or name ⇄ a path in the national document."""

    path: paths.Path  # national side ("" when the value is a constant)
    at: str  # vendor side: element path, JSON key, HL7 field or argument name ("" = by position)
    label: str  # how errors name the field: the national path as written
    fmt: Format
    table: Mapping[str, str] | None  # vendor value → national value
    reverse: Mapping[str, str] | None  # national value → vendor value
    default: str | None  # vendor value used when absent
    required: bool
    constant: str | None  # a fixed value instead of a path
    source: str  # request side: "" for positional, else the envelope field it is read from

    def request_value(self, text: str) -> Any:
        text = text.strip()
        if not text:
            if self.default is not None:
                text = self.default
            elif self.required:
                raise MissingField(field=self.label)
            else:
                return None
        if self.table is not None:
            if text not in self.table:
                known = ", ".join(sorted(self.table))
                raise InvalidValue(f"代码 {text!r} 不在码表中（可用 {known}）", field=self.label)
            text = self.table[text]
        return self.fmt.to_national(text, self.label)

    def answer_text(self, document: Mapping[str, Any]) -> str:
        if self.constant is not None:
            return self.constant
        value = paths.get(document, self.path)
        if value is None:
            return self.default or ""
        text = self.fmt.to_vendor(value)
        if self.reverse is not None:
            text = self.reverse.get(text, text)
        return text

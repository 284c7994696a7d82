"""Journal rows for people: one line each on the command line, a JSON object each for the county console."""

from __future__ import annotations

from typing import Any

from gateway.journal.model import JournalRow
from gateway.journal.protect import Protection


def body_text(data: bytes | None, encoding: str, protection: Protection) -> str | None:
    """A kept body as text; None when it is encrypted and `protection` holds no key."""
    if data is None:
        return None
    opened = protection.open(data)
    return None if opened is None else opened.decode(encoding, errors="replace")


def row_document(row: JournalRow, protection: Protection) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": row.id, "received_at": row.received_at, "hospital": row.fixmedins_code, "dialect": row.dialect,
        "transport": row.transport, "msgid": row.msgid, "trade": row.trade, "infno": row.infno,
        "psn_no": row.keys.psn_no or None, "mdtrt_id": row.keys.mdtrt_id or None, "setl_id": row.keys.setl_id or None,
        "outcome": row.outcome, "err_code": row.err_code or None, "err_msg": row.err_msg or None,
        "answered_at": row.answered_at, "ms": row.ms, "protection": row.protection,
    }
    if row.request is not None:
        document["request"] = body_text(row.request, row.encoding, protection)
        document["call"] = body_text(row.call, "utf-8", protection) if row.call else None
        document["answer"] = body_text(row.answer, row.encoding, protection)
    return document


def row_line(row: JournalRow) -> str:
    keys = " ".join(f"{name}={value}" for name, value in (("psn", row.keys.psn_no), ("stay", row.keys.mdtrt_id),
                                                           ("setl", row.keys.setl_id)) if value)
    timing = f"{row.ms:.1f}ms" if row.ms is not None else "-"
    error = f" {row.err_code} {row.err_msg}" if row.err_code else ""
    return (f"{row.received_at}  {row.fixmedins_code or '-'}  {row.dialect}/{row.transport}  {row.msgid or '-'}  "
            f"{row.trade or '-'}→{row.infno or '-'}  {row.outcome}  {timing}  {keys}{error}").rstrip()

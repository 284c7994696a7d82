"""Writes the journal's rows on the store thread; gateway/runtime.py decides when (and explains why then)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from gateway.canonical.answers import Answer
from gateway.canonical.calls import Call
from gateway.errors import GatewayError
from gateway.journal.callform import answer_keys, answer_names, call_json, call_keys
from gateway.journal.model import Ending, Entry, Exchange, Keys, stamp
from gateway.journal.protect import Protection
from gateway.log import mask_text
from gateway.store.base import Store


class Journal:
    def __init__(self, store: Store, protection: Protection, now: Callable[[], datetime]) -> None:
        self.store = store
        self.protection = protection
        self.now = now

    def begin(self, exchange: Exchange, call: Call) -> int:
        """The attempt's row, before the call runs; its outcome stays empty until `end`."""
        return self.store.journal_begin(self._entry(exchange, call))

    def end(self, entry_id: int | None, exchange: Exchange, call: Call | None, body: bytes, *,
            error: GatewayError | None = None, replayed: bool = False, answer: Answer | None = None) -> None:
        """The outcome: fills the attempt's row, or writes the whole row when none was written ahead."""
        keys = answer_keys(answer) if answer is not None else self._first_keys(exchange) if replayed else Keys()
        names = self._names(exchange, call, keys)
        if answer is not None:
            names |= answer_names(answer)
        ending = Ending(
            outcome="error" if error else "replayed" if replayed else "ok",
            err_code=error.code if error else "", err_msg=mask_text(error.message, names) if error else "",
            answer=self.protection.seal(body, exchange.encoding, names), answered_at=stamp(self.now()),
            ms=round((time.perf_counter() - exchange.started) * 1000, 3), keys=keys,
        )
        if entry_id is None:
            self.store.journal_record(self._entry(exchange, call), ending)
        else:
            self.store.journal_finish(entry_id, ending)

    def _first_keys(self, exchange: Exchange) -> Keys:
        """A replay is filed under what the first answer named (its setl_id, a new mdtrt_id)."""
        rows = self.store.journal_of_msgid(exchange.fixmedins_code, exchange.msgid)
        return next((row.keys for row in rows if row.outcome == "ok"), Keys())

    def _entry(self, exchange: Exchange, call: Call | None) -> Entry:
        keys = call_keys(call.body) if call is not None else Keys()
        names = self._names(exchange, call, keys)
        return Entry(
            received_at=stamp(exchange.received_at), fixmedins_code=exchange.fixmedins_code,
            dialect=exchange.dialect, transport=exchange.transport, msgid=exchange.msgid, trade=exchange.trade,
            infno=exchange.infno, keys=keys, protection=self.protection.mode, encoding=exchange.encoding,
            request=self.protection.seal(exchange.request, exchange.encoding, names),
            call=self.protection.seal(call_json(call), "utf-8", names) if call is not None else b"",
        )

    def _names(self, exchange: Exchange, call: Call | None, keys: Keys) -> set[str]:
        """The names to mask: those the request carries, and the name of the person the exchange is about
        (a delimited dialect writes a name by position, with no key that says it is one)."""
        if not self.protection.wants_names:
            return set()
        names = set(exchange.names)
        psn_no = keys.psn_no or (call_keys(call.body).psn_no if call is not None else "")
        mdtrt_id = keys.mdtrt_id or (call_keys(call.body).mdtrt_id if call is not None else "")
        if not psn_no and mdtrt_id:
            stay = self.store.stay(mdtrt_id)
            psn_no = stay.psn_no if stay is not None else ""
        person = self.store.person(psn_no) if psn_no else None
        if person is not None:
            names.add(person.psn_name)
        return names

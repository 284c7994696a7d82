"""Makes and writes the journal's rows; gateway/runtime.py decides when (and explains why then).

A row's first part (the request and the canonical call, protected) is made on the event loop, before the call
is queued: masking is the costly part, and the store thread is the gateway's bottleneck. The outcome is made
on the store thread, from the answer the call produced."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from gateway.canonical.answers import Answer, MessageAnswer
from gateway.canonical.calls import Call
from gateway.errors import GatewayError
from gateway.journal.callform import CallForm, answer_keys, answer_names, call_form, call_keys
from gateway.journal.model import Ending, Entry, Exchange, Keys, stamp
from gateway.journal.protect import Protection
from gateway.log import mask_text
from gateway.store.base import Store


class Journal:
    def __init__(self, store: Store, protection: Protection, now: Callable[[], datetime]) -> None:
        self.store = store
        self.protection = protection
        self.now = now

    def entry(self, exchange: Exchange, call: Call | None, form: CallForm | None = None) -> Entry:
        """The row as first written. No store access: the names to mask are those the request carries (a
        dialect's positional name is mapped to a national name key, so it is found there too)."""
        names = exchange.names
        return Entry(
            received_at=stamp(exchange.received_at), fixmedins_code=exchange.fixmedins_code,
            dialect=exchange.dialect, transport=exchange.transport, msgid=exchange.msgid, trade=exchange.trade,
            infno=exchange.infno, keys=call_keys(call.body) if call is not None else Keys(),
            protection=self.protection.mode, encoding=exchange.encoding,
            request=self.protection.seal(exchange.request, exchange.encoding, names),
            call=self.protection.seal((form or call_form(call)).json, "utf-8", names) if call is not None else b"",
        )

    def ending(self, entry: Entry, exchange: Exchange, body: bytes, *, error: GatewayError | None = None,
               replayed: bool = False, answer: Answer | None = None, first_keys: Keys | None = None) -> Ending:
        """What the exchange ended as, to be written in the call's own transaction. A replay is filed under
        what the first answer named (`first_keys` when the caller knows them, else the journal's)."""
        names = set(exchange.names)
        if answer is not None:
            keys = answer_keys(answer)
            names |= answer_names(answer)
            if isinstance(answer, MessageAnswer):  # it quotes another answer, its keys escaped: names by value
                names |= self._person_names(keys)
        elif replayed:
            keys = first_keys if first_keys is not None else self._first_keys(exchange)
            names |= self._person_names(entry.keys.filled_from(keys))
        else:
            keys = Keys()
        return Ending(
            outcome="error" if error else "replayed" if replayed else "ok",
            err_code=error.code if error else "", err_msg=mask_text(error.message, names) if error else "",
            answer=self.protection.seal(body, exchange.encoding, names), answered_at=stamp(self.now()),
            ms=round((time.perf_counter() - exchange.started) * 1000, 3), keys=_beyond(keys, entry.keys),
        )

    def _first_keys(self, exchange: Exchange) -> Keys:
        first = self.store.journal_first_ok(exchange.fixmedins_code, exchange.msgid)
        return first.keys if first is not None else Keys()

    def _person_names(self, keys: Keys) -> set[str]:
        """A replayed answer has no answer object to name its person: the stay's or the call's person does."""
        if not self.protection.wants_names:
            return set()
        psn_no = keys.psn_no
        if not psn_no and keys.mdtrt_id:
            stay = self.store.stay(keys.mdtrt_id)
            psn_no = stay.psn_no if stay is not None else ""
        person = self.store.person(psn_no) if psn_no else None
        return {person.psn_name} if person is not None else set()


def _beyond(answered: Keys, called: Keys) -> Keys:
    """The keys an answer names that its call did not (kept beside the outcome, searched like the others)."""
    return Keys("" if called.psn_no else answered.psn_no, "" if called.mdtrt_id else answered.mdtrt_id,
                "" if called.setl_id else answered.setl_id)

"""The gateway core: runs canonical calls on one store thread, one transaction each, idempotent by msgid.

A single writer thread is SQLite's natural shape and gives every call a serial order: two duplicates of
one settlement arriving together cannot both pass the "already answered?" check.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from gateway.canonical.answers import Answer
from gateway.canonical.calls import Call
from gateway.errors import ReusedMessageId
from gateway.service.deps import Deps
from gateway.service.dispatch import handle
from gateway.store.records import StoredAnswer

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome:
    body: bytes
    replayed: bool  # True when this is the stored first answer to an earlier call with the same msgid


class Gateway:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hisgw-store")

    async def execute(self, call: Call, render: Callable[[Answer], bytes]) -> Outcome:
        """Run one call; `render` turns the answer into the dialect's bytes inside the same transaction,
        so the stored answer to replay is exactly what the first caller got."""
        return await self.run(lambda: self._execute(call, render))

    async def run(self, job: Callable[[], T]) -> T:
        """Run any store work on the store thread (imports, queries from the county side)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, job)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.deps.store.close()

    def _execute(self, call: Call, render: Callable[[Answer], bytes]) -> Outcome:
        store = self.deps.store
        ctx = call.context
        with store.transaction():
            if not call.changes_state:
                return Outcome(render(handle(self.deps, call)), replayed=False)
            digest = request_digest(call)
            prior = store.answer_for(ctx.fixmedins_code, ctx.msgid)
            if prior is not None:
                if prior.infno != ctx.infno or prior.request_digest != digest:
                    raise ReusedMessageId(f"报文ID {ctx.msgid} 已用于交易 {prior.infno} 的另一请求", field="msgid")
                return Outcome(prior.answer, replayed=True)
            body = render(handle(self.deps, call))
            at = self.deps.now().isoformat(sep=" ")
            store.save_answer(ctx.fixmedins_code, ctx.msgid, StoredAnswer(ctx.infno, digest, body), at)
            return Outcome(body, replayed=False)


def request_digest(call: Call) -> str:
    """What makes two calls 'the same request': the canonical body, not the envelope's clock."""
    return hashlib.sha256(repr(call.body).encode("utf-8")).hexdigest()

"""The gateway core: runs canonical calls on one store thread, idempotent by msgid, with group commit.

A single writer thread is SQLite's natural shape and gives every call a serial order: two duplicates of
one settlement arriving together cannot both pass the "already answered?" check.

Group commit: calls that arrive while a batch is being written wait for the next batch. A batch is one
transaction, each call in its own savepoint (a failed call is undone alone), and one durable commit; no
answer leaves before the commit that made it durable. Under light load a batch is a single call, so
nothing waits for company; under heavy load one fsync serves many settlements.
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
Render = Callable[[Answer], bytes]
MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class Outcome:
    body: bytes
    replayed: bool  # True when this is the stored first answer to an earlier call with the same msgid


@dataclass(frozen=True, slots=True)
class _Job:
    call: Call
    render: Render
    future: asyncio.Future[Outcome]


class Gateway:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hisgw-store")
        self._queue: list[_Job] = []
        self._draining = False

    async def execute(self, call: Call, render: Render) -> Outcome:
        """Run one call; `render` turns the answer into the dialect's bytes inside the same transaction,
        so the stored answer to replay is exactly what the first caller got."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(call, render, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def run(self, job: Callable[[], T]) -> T:
        """Run other store work on the store thread (imports, queries from the county side)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, job)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.deps.store.close()

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    results = await loop.run_in_executor(self._thread, self._write_batch, batch)
                except BaseException as exc:  # the commit itself failed: nothing of the batch is durable
                    results = [exc] * len(batch)
                for job, result in zip(batch, results, strict=True):
                    if job.future.done():
                        continue
                    if isinstance(result, BaseException):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)
        finally:
            self._draining = False

    def _write_batch(self, batch: list[_Job]) -> list[Outcome | BaseException]:
        store = self.deps.store
        results: list[Outcome | BaseException] = []
        with store.transaction():
            for job in batch:
                try:
                    with store.savepoint():
                        results.append(self._execute(job.call, job.render))
                except Exception as exc:  # this call alone is undone; the others of the batch go on
                    results.append(exc)
        return results

    def _execute(self, call: Call, render: Render) -> Outcome:
        store = self.deps.store
        ctx = call.context
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

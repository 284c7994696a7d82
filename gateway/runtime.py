"""The gateway core: runs canonical calls on one store thread, idempotent by msgid, with group commit, and
journals every exchange.

A single writer thread is SQLite's natural shape and gives every call a serial order: two duplicates of
one settlement arriving together cannot both pass the "already answered?" check.

Group commit: calls that arrive while a batch is being written wait for the next batch. A batch is one
transaction, each call in its own savepoint (a failed call is undone alone), and one durable commit; no
answer leaves before the commit that made it durable. Under light load a batch is a single call, so
nothing waits for company; under heavy load one fsync serves many settlements.

The journal, and why it is written when it is. What crash recovery needs from "journalled before it runs":

1. no effect without its journal row and its answer: a settlement that survives a crash is in the journal
   with the answer it got, so a HIS that never received that answer can learn it (5999) or undo it (2601);
2. a trace of every state-changing attempt the crash cut off, so the county and the HIS see that it arrived
   and what became of it;
3. nothing half-written: an attempt is either wholly applied or not at all.

So a batch is written in two commits. First, the attempt rows of its state-changing calls (hospital, dialect,
transport, msgid, trade, infno, the raw request and the canonical call), committed *without* an fsync. Then
the calls themselves, each in its savepoint, and the outcome of every call (answer bytes, timing, ok / error /
replayed; an append-only row beside the attempt) in the same durable commit as the effects.

- (1) and (3): a call's effects, its stored answer and its journal outcome are one commit; they survive or
  vanish together. A row whose outcome is empty after a restart is therefore an attempt that committed
  nothing: readers call it 'unknown', and it is absent from the ledger, whatever the moment of the crash.
- (2): the attempts' commit reaches the WAL before the calls run. A process crash (kill -9, a bug) cannot
  lose it: the OS holds the written pages. A power cut can lose it only together with everything after it:
  SQLite replays the WAL in order and the batch's own commit fsyncs the log up to itself, so if any effect of
  the batch survives, its attempt rows do too.
- Cost: one extra commit per *batch*, with no fsync; the outcomes ride in the commit the batch pays for
  anyway (one statement for all of them). An fsync'd attempt commit would double the fsyncs for no gain in
  (1) or (3), and a journal file of its own would add an fsync and a second thing to keep consistent with
  the database.

Calls that change nothing (1101, 2303, 5203, 5206, 5999) and messages refused before they became a call
leave no effect to recover: their row is written whole in the batch commit, before the answer leaves.

The county's writes take the same road (`Gateway.command`): the role check, the journal's attempt row, one
transaction for the effect, its audit entry, the stored answer (the answers table, keyed by the client's
X-Request-Id as a hospital's are by msgid) and the journal's outcome; a refusal is rolled back and then put on
the audit trail and in the journal in a commit of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog

from gateway.canonical.answers import Answer
from gateway.canonical.calls import Call
from gateway.county.audit import record
from gateway.county.errors import CountyRefusal, forbidden
from gateway.county.roles import ACTIONS, ROLES, Actor, may
from gateway.errors import GatewayError, InternalError, ReusedMessageId, StoreLost
from gateway.journal.callform import call_form
from gateway.journal.model import Ending, Entry, Exchange, Keys
from gateway.journal.protect import Protection
from gateway.journal.recorder import Journal
from gateway.log import mask_text
from gateway.metrics import Metrics
from gateway.service.deps import Deps
from gateway.service.dispatch import handle
from gateway.store.records import StoredAnswer

T = TypeVar("T")
Render = Callable[[Answer], bytes]
RenderError = Callable[[GatewayError], bytes]
MAX_BATCH = 64
log = structlog.get_logger("hisgw.runtime")


@dataclass(frozen=True, slots=True)
class Outcome:
    body: bytes
    replayed: bool  # True when this is the stored first answer to an earlier call with the same msgid
    error: GatewayError | None = None  # the call failed; `body` is the dialect's error answer
    answer: Answer | None = None  # what the call answered, when it ran now (for gateway/metrics.py)


@dataclass(frozen=True, slots=True)
class _Job:
    exchange: Exchange
    entry: Entry  # its journal row's first part, made before queueing
    call: Call | None  # None: the message was refused before it became a call
    render: Render | None
    render_error: RenderError
    future: asyncio.Future[Outcome]
    refusal: GatewayError | None = None
    digest: str = ""  # the call's request digest (journal/callform.py), for idempotency


COUNTY = "county"  # the journal's and the answers table's "hospital" for the county's own writes


@dataclass(frozen=True, slots=True)
class CountyAnswer:
    """What a county command answered: the HTTP status and body its adapter sends, the journal's keys."""

    status: int
    body: bytes
    keys: Keys = field(default_factory=Keys)


@dataclass(frozen=True, slots=True)
class CountyCommand:
    """One county write as its adapter received it. `work` runs inside the command's transaction (its service
    records its own audit entry there, so the two land together); it raises CountyRefusal or a GatewayError."""

    action: str  # gateway/county/roles.py ACTIONS
    actor: Actor
    request_id: str  # the client's X-Request-Id (or one made up): a retry with it answers the first answer
    subject: str  # what a refusal's audit entry names (the request's path)
    request: bytes  # the raw request, for the journal
    same_as: object  # what makes two requests the same one (the parsed body and the path's ids)
    work: Callable[[], CountyAnswer]
    names: tuple[str, ...] = ()  # personal names the request carries (masked in the journal)


@dataclass(frozen=True, slots=True)
class CountyOutcome:
    status: int
    body: bytes
    replayed: bool


class Gateway:
    def __init__(self, deps: Deps, protection: Protection | None = None, *, account_overdraft: bool = False) -> None:
        self.deps = deps
        self.account_overdraft = account_overdraft  # [account] overdraft: the special account may go below zero
        self.journal = Journal(deps.store, protection or Protection(), deps.now)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hisgw-store")
        self._queue: list[_Job] = []
        self._draining = False
        self._lost: StoreLost | None = None  # once the store's file is gone, for good (until a restart)
        self.metrics = Metrics()  # this gateway's own registry (GET /metrics)

    def now(self) -> datetime:
        return self.deps.now()

    async def execute(self, call: Call, render: Render, render_error: RenderError, exchange: Exchange) -> Outcome:
        """Run one call; `render` turns the answer into the dialect's bytes inside the same transaction,
        so the stored answer to replay is exactly what the first caller got; `render_error` does the same for
        a failure. Never raises a GatewayError: a failed call is an Outcome with `error`."""
        return await self._enqueue(exchange, call, render, render_error, None)

    async def refuse(self, exchange: Exchange, error: GatewayError, body: bytes) -> Outcome:
        """Journal a message that never became a call (unreadable, unknown trade, a bad field), then answer."""
        return await self._enqueue(exchange, None, None, lambda _error: body, error)

    async def command(self, command: CountyCommand) -> CountyOutcome:
        """Run one county write (module docstring). Raises the refusal (CountyRefusal or GatewayError) after
        it is on the audit trail and in the journal."""
        return await self.run(lambda: self._command(command))

    def refused(self, actor: Actor, action: str, subject: str, reason: str, request_id: str) -> None:
        """A refused county write on the audit trail, in its own commit (the write itself wrote nothing)."""
        with self.deps.store.transaction():
            record(self.deps.store, actor, action, subject, None, {"refused": reason}, request_id, self.now())

    async def run(self, job: Callable[[], T]) -> T:
        """Run other store work on the store thread (imports, queries from the county side)."""
        lost = self.store_lost()
        if lost is not None:
            raise lost
        return await asyncio.get_running_loop().run_in_executor(self._thread, job)

    def store_lost(self) -> StoreLost | None:
        """Whether the store can no longer keep what is written (its file deleted or replaced): said once,
        loudly; from then on every call is refused with HG9003, its effects would vanish at the next restart."""
        if self._lost is None:
            try:
                self.deps.store.check()
            except StoreLost as exc:
                self._lost = exc
                log.critical("store_lost", problem=exc.detail, action="every call is refused (HG9003): stop the "
                             "gateway, put the right database back, start it again")
        return self._lost

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.deps.store.close()

    async def _enqueue(self, exchange: Exchange, call: Call | None, render: Render | None, render_error: RenderError,
                       refusal: GatewayError | None) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        try:
            form = call_form(call) if call is not None else None
            entry = self.journal.entry(exchange, call, form)
        except Exception:  # a call the journal cannot write down is not run: refused, and that is journalled
            log.exception("unhandled", dialect=exchange.dialect, infno=exchange.infno)
            call, render, form, refusal = None, None, None, InternalError()
            entry = self.journal.entry(exchange, None)
        self._queue.append(_Job(exchange, entry, call, render, render_error, future, refusal,
                                form.digest if form else ""))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                results: Sequence[Outcome | BaseException]
                try:
                    results = await loop.run_in_executor(self._thread, self._write_batch, batch)
                except BaseException as exc:  # a commit failed: nothing of the batch is durable
                    results = [exc] * len(batch)
                    self.metrics.commit_failed()
                for job, result in zip(batch, results, strict=True):
                    if job.future.done():
                        continue
                    if isinstance(result, BaseException):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)
        finally:
            self._draining = False

    def _write_batch(self, batch: list[_Job]) -> list[Outcome]:
        lost = self.store_lost()  # one stat a batch; nothing is written to a file no one will find again
        if lost is not None:
            return [Outcome(job.render_error(lost), replayed=False, error=lost) for job in batch]
        store = self.deps.store
        entry_ids: list[int | None] = [None] * len(batch)
        ahead = [n for n, job in enumerate(batch) if job.call is not None and job.call.changes_state]
        if ahead:
            with store.transaction(fsync=False):  # the attempts, before any of them runs (module docstring)
                for n, entry_id in zip(ahead, store.journal_write([batch[n].entry for n in ahead]), strict=True):
                    entry_ids[n] = entry_id
        # A batch of queries writes only journal rows: no fsync for them (a power cut may lose the last of
        # them, never an effect, nor an answer anyone relies on to know what happened to money).
        writes = any(job.call is not None and job.call.writes for job in batch)
        batch_keys: dict[tuple[str, str], Keys] = {}
        with store.transaction(fsync=writes):
            done = [self._run(job, batch_keys) for job in batch]
            # Outcomes go in with the batch's effects, in the same commit, two statements for the whole batch.
            whole = [n for n, (_, ending) in enumerate(done) if ending is not None and entry_ids[n] is None]
            for n, entry_id in zip(whole, store.journal_write([batch[n].entry for n in whole]), strict=True):
                entry_ids[n] = entry_id
            store.journal_finish([(entry_id, ending) for entry_id, (_, ending) in zip(entry_ids, done, strict=True)
                                  if entry_id is not None and ending is not None])
            committing = time.perf_counter()  # the rest of the with-block is the commit itself
        self.metrics.batch_committed(len(batch), writes, time.perf_counter() - committing, [
            ending.outcome if ending else "unknown"
            for entry_id, (_, ending) in zip(entry_ids, done, strict=True) if entry_id is not None])
        return [outcome for outcome, _ in done]

    def _run(self, job: _Job, batch_keys: dict[tuple[str, str], Keys]) -> tuple[Outcome, Ending | None]:
        """One call of the batch in its savepoint, and its journal outcome; on failure, its error answer.
        `batch_keys`: what the batch's successful calls named so far, by (hospital, msgid), for their replays."""
        error = job.refusal
        exchange = job.exchange
        if job.call is not None:
            assert job.render is not None
            try:
                with self.deps.store.savepoint():
                    outcome, answer = self._execute(job.call, job.render, job.digest)
                    ending = self.journal.ending(
                        job.entry, exchange, outcome.body, replayed=outcome.replayed, answer=answer,
                        first_keys=batch_keys.get((exchange.fixmedins_code, exchange.msgid)))
                if answer is not None and job.call.changes_state:
                    batch_keys[(exchange.fixmedins_code, exchange.msgid)] = job.entry.keys.filled_from(ending.keys)
                return outcome, ending
            except GatewayError as exc:
                error = exc
            except Exception:  # our fault: the dialect's system error, the traceback in the log
                log.exception("unhandled", dialect=exchange.dialect, infno=exchange.infno)
                error = InternalError()
        assert error is not None
        outcome = Outcome(job.render_error(error), replayed=False, error=error)
        try:
            return outcome, self.journal.ending(job.entry, exchange, outcome.body, error=error)
        except Exception:  # the row stays 'unknown', which is true: nothing of the call was kept
            log.exception("journal_failed", msgid=exchange.msgid)
            return outcome, None

    def _execute(self, call: Call, render: Render, digest: str) -> tuple[Outcome, Answer | None]:
        store = self.deps.store
        ctx = call.context
        if not call.changes_state:
            answer = handle(self.deps, call)
            return Outcome(render(answer), replayed=False, answer=answer), answer
        prior = store.answer_for(ctx.fixmedins_code, ctx.msgid)
        if prior is not None:
            if prior.infno != ctx.infno or prior.request_digest != digest:
                raise ReusedMessageId(f"报文ID {ctx.msgid} 已用于交易 {prior.infno} 的另一请求", field="msgid")
            return Outcome(prior.answer, replayed=True), None
        answer = handle(self.deps, call)
        body = render(answer)
        at = self.deps.now().isoformat(sep=" ")
        store.save_answer(ctx.fixmedins_code, ctx.msgid, StoredAnswer(ctx.infno, digest, body), at)
        return Outcome(body, replayed=False, answer=answer), answer

    def _command(self, command: CountyCommand) -> CountyOutcome:
        store, now = self.deps.store, self.now()
        digest = hashlib.sha256(json.dumps({"action": command.action, "request": command.same_as}, sort_keys=True,
                                           ensure_ascii=False, default=str).encode("utf-8")).hexdigest()
        exchange = Exchange(dialect="county-api", transport="http", encoding="utf-8", trade=command.action,
                            infno="", fixmedins_code=COUNTY, msgid=command.request_id, request=command.request,
                            received_at=now, names=command.names)
        call = json.dumps({"call": command.action, "request": command.same_as}, ensure_ascii=False, default=str)
        entry = dataclasses.replace(self.journal.entry(exchange, None), call=self.journal.protection.seal(
            call.encode("utf-8"), "utf-8", command.names))
        with store.transaction(fsync=False):  # the attempt, before it runs (module docstring)
            (entry_id,) = store.journal_write([entry])
        try:
            with store.transaction():
                if not may(command.actor, command.action):
                    raise forbidden(f"{command.actor.name} 的角色 {ROLES.get(command.actor.role, command.actor.role)}"
                                    f" 不能{ACTIONS[command.action][0]}")
                prior = store.answer_for(COUNTY, command.request_id)
                if prior is not None:
                    if prior.infno != command.action or prior.request_digest != digest:
                        raise ReusedMessageId(f"请求ID {command.request_id} 已用于 {prior.infno} 的另一请求",
                                              field="X-Request-Id")
                    store.journal_finish([(entry_id, self.journal.ending(entry, exchange, prior.answer,
                                                                         replayed=True))])
                    status, _, body = prior.answer.partition(b"\n")
                    return CountyOutcome(int(status), body, replayed=True)
                answer = command.work()
                stored = b"%d\n%s" % (answer.status, answer.body)  # the status, then the body byte for byte
                store.save_answer(COUNTY, command.request_id, StoredAnswer(command.action, digest, stored),
                                  now.isoformat(sep=" "))
                ending = self.journal.ending(entry, exchange, answer.body)
                store.journal_finish([(entry_id, dataclasses.replace(ending, keys=answer.keys))])
                return CountyOutcome(answer.status, answer.body, replayed=False)
        except (CountyRefusal, GatewayError) as exc:
            self._county_refused(command, entry, entry_id, exchange, exc)
            raise
        except Exception as exc:  # our fault: nothing was kept; the traceback goes to the log
            log.exception("unhandled", action=command.action)
            failure = InternalError()
            self._county_refused(command, entry, entry_id, exchange, failure)
            raise failure from exc

    def _county_refused(self, command: CountyCommand, entry: Entry, entry_id: int, exchange: Exchange,
                        exc: CountyRefusal | GatewayError) -> None:
        code, message = exc.code, exc.message
        ending = self.journal.ending(entry, exchange, message.encode("utf-8"))
        with self.deps.store.transaction():
            record(self.deps.store, command.actor, command.action, command.subject, None,
                   {"refused": message, "code": code}, command.request_id, self.now())
            self.deps.store.journal_finish([(entry_id, dataclasses.replace(
                ending, outcome="error", err_code=code, err_msg=mask_text(message, set(command.names))))])

"""5999 报文处理结果查询 (a hisgw extension): what became of a msgid, so a HIS whose call got no answer
learns the truth. Also what 2601 冲正 starts from (gateway/service/corrections.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.canonical.answers import MessageAnswer
from gateway.canonical.calls import CallContext, MessageQuery
from gateway.errors import UnknownMessage
from gateway.journal.model import JournalRow, Keys
from gateway.lifecycle import StayState
from gateway.service.deps import Deps, hospital_of
from gateway.store.records import StoredAnswer


@dataclass(frozen=True, slots=True)
class Original:
    """What the gateway knows of one msgid of the calling hospital: the answer it stored (state-changing
    calls that succeeded) and every journal row under it (retries included), oldest first."""

    msgid: str
    stored: StoredAnswer | None
    rows: tuple[JournalRow, ...]

    @property
    def infno(self) -> str:
        return self.stored.infno if self.stored else self.rows[-1].infno if self.rows else ""

    @property
    def decided(self) -> JournalRow | None:
        """The latest row with a committed outcome."""
        return next((row for row in reversed(self.rows) if row.outcome != "unknown"), None)

    @property
    def status(self) -> str:
        """ok | error | unknown | none. A stored answer is the proof of success: it commits with the effects."""
        if self.stored is not None:
            return "ok"
        if self.decided is not None:
            return "ok" if self.decided.outcome in ("ok", "replayed") else "error"
        return "unknown" if self.rows else "none"

    @property
    def keys(self) -> Keys:
        row = self.decided or (self.rows[-1] if self.rows else None)
        return row.keys if row is not None else Keys()


def original_of(deps: Deps, ctx: CallContext, omsgid: str, *, must_exist: bool) -> Original:
    store = deps.store
    original = Original(omsgid, store.answer_for(ctx.fixmedins_code, omsgid),
                        tuple(store.journal_of_msgid(ctx.fixmedins_code, omsgid)))
    # A msgid is the sending hospital's: another hospital's is one this hospital never sent, and is answered so
    # (nothing tells that it exists elsewhere).
    if original.stored is None and not original.rows and must_exist:
        raise UnknownMessage(f"未收到过报文 {omsgid}", field="omsgid")
    return original


def undone_by_now(deps: Deps, ctx: CallContext, original: Original) -> bool:
    """Whether what a successful call did has been undone since, by whichever undo: a settlement (2304, 2207)
    by 2305/2208 or 2601; a reversal (2305, 2208) by 2601; a registration (2401, 2201) by 2404/2202 or 2601."""
    if original.status != "ok":
        return False
    undone = _UNDONE.get(original.infno)
    return undone is not None and undone(deps, ctx.fixmedins_code, original.msgid)


def _settlement_reversed(kind: str) -> Callable[[Deps, str, str], bool]:
    def reversed_(deps: Deps, hospital: str, msgid: str) -> bool:
        record = deps.store.settlement_by_msgid(hospital, msgid, kind)
        return record is not None and record.status == "reversed"
    return reversed_


def _stay_cancelled(deps: Deps, hospital: str, msgid: str) -> bool:
    stay = deps.store.stay_created_by(hospital, msgid)
    return stay is not None and stay.state == StayState.CANCELLED


# infno of the original call → whether its effect is undone now. The outpatient trades share the inpatient
# records (gateway/service/outpatient.py), so their undo shows the same way.
_UNDONE: dict[str, Callable[[Deps, str, str], bool]] = {
    "2304": _settlement_reversed("settlement"), "2207": _settlement_reversed("settlement"),
    "2305": _settlement_reversed("reversal"), "2208": _settlement_reversed("reversal"),
    "2401": _stay_cancelled, "2201": _stay_cancelled,
}


def message_status(deps: Deps, ctx: CallContext, body: MessageQuery) -> MessageAnswer:
    hospital_of(deps, ctx)
    original = original_of(deps, ctx, body.omsgid, must_exist=False)
    rows = original.rows
    decided = original.decided
    encoding = rows[0].encoding if rows else "utf-8"
    return MessageAnswer(
        omsgid=body.omsgid, infno=original.infno, status=original.status,
        err_msg=f"[{decided.err_code}] {decided.err_msg}" if decided is not None and original.status == "error" else "",
        attempts=len(rows), first_at=_moment(rows[0].received_at) if rows else None,
        last_at=_moment(rows[-1].received_at) if rows else None, undone=undone_by_now(deps, ctx, original),
        psn_no=original.keys.psn_no, mdtrt_id=original.keys.mdtrt_id, setl_id=original.keys.setl_id,
        answer=original.stored.answer.decode(encoding, errors="replace") if original.stored else "",
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)

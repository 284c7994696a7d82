"""5998 一站式结算单 (a hisgw extension): a hospital's own settlement's sheet, counted as one more print."""

from __future__ import annotations

from gateway.canonical.answers import SheetAnswer
from gateway.canonical.calls import CallContext, SheetQuery
from gateway.county.sheet.ledger import Asker, issue_sheet
from gateway.errors import InvalidValue
from gateway.service.deps import Deps, hospital_of


def sheet(deps: Deps, ctx: CallContext, body: SheetQuery) -> SheetAnswer:
    hospital_of(deps, ctx)
    if body.psn_no:
        record = deps.store.settlement(body.setl_id)
        if record is not None and record.psn_no != body.psn_no:
            raise InvalidValue("人员编号与结算ID不符", field="psn_no")
    issued = issue_sheet(deps.store, deps.policies, body.setl_id, Asker.of_hospital(ctx.fixmedins_code),
                         body.sheet_type, deps.now())
    record = deps.store.settlement(body.setl_id)
    assert record is not None  # issue_sheet found it
    return SheetAnswer(sheet=issued, psn_no=record.psn_no, files=body.files)

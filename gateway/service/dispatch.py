"""One table from canonical transaction type to the service function that handles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.canonical import calls as c
from gateway.canonical.answers import Answer
from gateway.referral import service as referral
from gateway.service import (
    chronic,
    corrections,
    fees,
    messages,
    outpatient,
    people,
    reconcile,
    settlement,
    sheets,
    stays,
)
from gateway.service.deps import Deps

Handler = Callable[[Deps, c.CallContext, Any], Answer]

HANDLERS: dict[type, Handler] = {
    c.SignIn: people.sign_in,
    c.SignOut: people.sign_out,
    c.PersonQuery: people.person_info,
    c.AccumulatorQuery: people.accumulators,
    c.Admission: stays.admit,
    c.AdmissionChange: stays.change_admission,
    c.AdmissionCancel: stays.cancel_admission,
    c.Discharge: stays.discharge,
    c.DischargeCancel: stays.cancel_discharge,
    c.FeeUpload: fees.upload,
    c.FeeRevoke: fees.revoke,
    c.Settle: settlement.settle,
    c.SettleReverse: settlement.reverse,
    c.SettlementQuery: settlement.query,
    c.Correction: corrections.correct,
    c.MessageQuery: messages.message_status,
    c.SheetQuery: sheets.sheet,
    c.TotalReconciliation: reconcile.total,
    c.DetailReconciliation: reconcile.detail,
    c.OutpatientRegister: outpatient.register,
    c.OutpatientCancel: outpatient.cancel,
    c.VisitInfo: outpatient.visit_info,
    c.OutpatientFeeUpload: outpatient.upload,
    c.OutpatientFeeRevoke: outpatient.revoke,
    c.OutpatientSettle: outpatient.settle,
    c.OutpatientSettleReverse: outpatient.reverse,
    c.ChronicRecognition: chronic.recognise,
    c.ReferralFiling: referral.file_referral,
    c.ReferralCancel: referral.cancel_referral,
}


def handle(deps: Deps, call: c.Call) -> Answer:
    outpatient.refuse_crossed(deps, call.body)
    return HANDLERS[type(call.body)](deps, call.context, call.body)

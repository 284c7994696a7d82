"""Hunan 三(二)1: the 医保 admission is registered within 24 hours of the HIS admission.

A 2401 whose begntime is more than 24 hours before it arrives is still accepted (refusing would leave a poor
patient's stay without the one-stop settlement); its answer carries a warn_msg and the stay is listed for the
agency (GET /county/v1/late-registrations). "Arrives" is the message's inf_time — the HIS's clock when it sent
it, the same clock every booking date of the gateway uses — or the gateway's clock when the HIS sends none.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.canonical.calls import CallContext
from gateway.service.deps import Deps, business_time
from gateway.store.outpatient_port import LateRegistration
from gateway.store.records import StayRecord

REGISTRATION_WINDOW = timedelta(hours=24)


def record_if_late(deps: Deps, ctx: CallContext, stay: StayRecord) -> str:
    """The warn_msg for a late registration (and its row in the agency's list), or "" when in time."""
    arrived = business_time(deps, ctx)
    delay = arrived - stay.begntime
    if delay <= REGISTRATION_WINDOW:
        return ""
    minutes = int(delay.total_seconds() // 60)
    deps.store.add_late_registration(LateRegistration(
        mdtrt_id=stay.mdtrt_id, fixmedins_code=stay.fixmedins_code, psn_no=stay.psn_no, begntime=stay.begntime,
        received_at=arrived, minutes_late=minutes,
    ))
    hours, rest = divmod(minutes, 60)
    return (f"入院登记晚于入院时间 {hours} 小时 {rest} 分（须在 24 小时内登记，湖南 三(二)1）；"
            "已受理，并列入医保经办机构的逾期登记清单")

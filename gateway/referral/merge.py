"""The year-to-date a referral settlement starts from: this gateway's own plus what partners' records carry in.
Pure, so the settlement and the what-if replay (gateway/county/whatif.py) merge them alike."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gateway.engine.chain import matching_rules
from gateway.engine.policy import Policy
from gateway.engine.types import StayFacts
from gateway.money import ZERO
from gateway.referral.port import Carried


def with_imports(policy: Policy, facts: StayFacts, carried: Carried | None,
                 ytd: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """This gateway's year-to-date figures plus what partners' records carry in, onto the funds of this policy
    that pay such a stay: basic "already paid" (its annual cap counts both counties), critical illness "already
    paid" and its cumulative base (合规自付 of both counties' stays, so its annual deductible is met once)."""
    merged = dict(ytd)
    if carried is None:
        return merged
    kinds = {fund.kind: fund.code for fund, _rule in reversed(matching_rules(policy, facts))}
    basic, critical = kinds.get("stay_deductible"), kinds.get("annual_segments")
    if basic is not None:
        merged[basic] = merged.get(basic, ZERO) + carried.cum_basic_pay
    if critical is not None:
        merged[critical] = merged.get(critical, ZERO) + carried.cum_crit_pay
        merged[f"{critical}:base"] = merged.get(f"{critical}:base", ZERO) + carried.cum_crit_base
    return merged

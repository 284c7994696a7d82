"""The identity-list review as a transition table (like gateway/lifecycle.py): 待审核 → 已应用 | 已退回.

Who may fire an event is the roles table (gateway/county/roles.py) plus the rule that the uploader never
decides on their own list; this table says only which events a state allows.
"""

from __future__ import annotations

from enum import StrEnum

from gateway.county.errors import conflict


class ReviewState(StrEnum):
    PENDING = "pending"  # 待审核
    APPLIED = "applied"  # 已应用（全部或所选部分）
    REFUSED = "refused"  # 已退回


class ReviewEvent(StrEnum):
    APPLY = "apply"
    REFUSE = "refuse"


STATE_NAMES = {ReviewState.PENDING: "待审核", ReviewState.APPLIED: "已应用", ReviewState.REFUSED: "已退回"}
EVENT_ACTIONS = {ReviewEvent.APPLY: "identities.apply", ReviewEvent.REFUSE: "identities.refuse"}

TRANSITIONS: dict[tuple[ReviewState, ReviewEvent], ReviewState] = {
    (ReviewState.PENDING, ReviewEvent.APPLY): ReviewState.APPLIED,
    (ReviewState.PENDING, ReviewEvent.REFUSE): ReviewState.REFUSED,
}


def next_state(state: ReviewState, event: ReviewEvent) -> ReviewState:
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise conflict(f"名单状态为「{STATE_NAMES[state]}」，不能{'应用' if event is ReviewEvent.APPLY else '退回'}")
    return target

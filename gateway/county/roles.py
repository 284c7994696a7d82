"""County operators' roles and who may do what: ONE table (rendered in the README by `hisgw county roles`).

Separation of duties beyond the table: whoever proposed a change (uploaded a draft policy, an identity list)
never approves it (publishes, applies, refuses): `approver_refusal` says so wherever an approval is decided.
"""

from __future__ import annotations

from dataclasses import dataclass

# role id (the credentials file's `role`) -> Chinese name
ROLES: dict[str, str] = {
    "operator": "经办",
    "reviewer": "审核",
    "second_reviewer": "复核",
    "finance": "财务",
    "admin": "管理员",
    "reader": "只读",
}
DEMO_ROLE = "demo"  # a gateway without credentials (the demo): anybody may do anything, named by X-Operator

_ALL = frozenset(ROLES)

# action -> (what it is, the roles that may do it). Reads first, then writes (each write is audited).
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "status.read": ("读取状态与计数", _ALL),
    "journal.read": ("查询交换日志", _ALL),
    "audit.read": ("查询审计记录", _ALL),
    "policy.read": ("查看、检查、比较政策版本，政策模拟测算", _ALL),
    "identities.read": ("查看名单导入及其差异", _ALL - {"finance"}),
    "coverage.read": ("应保尽保、未保有因月度比对", _ALL),
    "refdata.import": ("导入基础数据（人员、机构、目录、身份属性目录）", frozenset({"admin"})),
    "policy.draft": ("上传政策草案", frozenset({"operator", "admin"})),
    "policy.publish": ("发布政策（定生效日）", frozenset({"reviewer", "second_reviewer"})),
    "identities.upload": ("上传扶贫办、民政、残联名单", frozenset({"operator", "admin"})),
    "identities.apply": ("应用名单差异（全部或部分）", frozenset({"reviewer"})),
    "identities.refuse": ("退回名单", frozenset({"reviewer", "second_reviewer"})),
    "arrears.read": ("查看恶意拖欠登记、转院逾期未结算名单", _ALL),
    "arrears.record": ("登记医院报告的恶意拖欠（先诊疗后付费资格取消）", frozenset({"operator", "admin"})),
    "arrears.pay": ("登记欠费偿还（结清后恢复资格）", frozenset({"operator", "finance"})),
    "catalogue_exception.request": ("登记医院的目录外费用特例申请", frozenset({"operator", "admin"})),
    "catalogue_exception.decide": ("批准或退回目录外费用特例（超出10%部分转财政兜底）", frozenset({"reviewer"})),
}


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str


def may(actor: Actor, action: str) -> bool:
    if actor.role == DEMO_ROLE:
        return action in ACTIONS
    entry = ACTIONS.get(action)
    return entry is not None and actor.role in entry[1]


def approver_refusal(actor: Actor, proposer: str) -> str | None:
    """Why this actor may not approve what `proposer` proposed, or None."""
    if actor.name == proposer:
        return f"{actor.name} 提交的变更须由他人审核（提交人不能审批自己的变更）"
    return None


def roles_table() -> str:
    """The permission table as Markdown, for the README."""
    roles = list(ROLES)
    head = "| action | " + " | ".join(f"{ROLES[r]} {r}" for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    lines = [head, rule]
    for action, (what, allowed) in ACTIONS.items():
        marks = " | ".join("✓" if r in allowed else "" for r in roles)
        lines.append(f"| `{action}` {what} | {marks} |")
    return "\n".join(lines)

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
HOST_ROLE = "host"  # a command on the gateway's own machine, with access to its store file
DEMO_ROLE = "demo"  # a gateway without credentials (the demo): anybody may do anything, named by X-Operator
HOSPITAL_ROLE = "hospital"  # a hospital's user in the web console (its paasid and secret): its own rows only

_ALL = frozenset(ROLES)

# action -> (what it is, the roles that may do it). Reads first, then writes (each write is audited).
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "status.read": ("读取状态与计数", _ALL),
    "journal.read": ("查询交换日志", _ALL),
    "audit.read": ("查询审计记录", _ALL),
    "policy.read": ("查看、检查、比较政策版本，政策模拟测算", _ALL),
    "identities.read": ("查看名单导入及其差异", _ALL - {"finance"}),
    "coverage.read": ("应保尽保、未保有因月度比对", _ALL),
    "reports.read": ("下载统计报表（附件5）", _ALL),
    "agency.read": ("查看经办窗口结算", _ALL),
    "refdata.import": ("导入基础数据（人员、机构、目录、身份属性目录）", frozenset({"admin"})),
    "policy.draft": ("上传政策草案", frozenset({"operator", "admin"})),
    "policy.publish": ("发布政策（定生效日）", frozenset({"reviewer", "second_reviewer"})),
    "identities.upload": ("上传扶贫办、民政、残联名单", frozenset({"operator", "admin"})),
    "identities.apply": ("应用名单差异（全部或部分）", frozenset({"reviewer"})),
    "identities.refuse": ("退回名单", frozenset({"reviewer", "second_reviewer"})),
    "agency.settle": ("经办窗口结算县外住院（已结基本医保的其余各项，或全自费的全部）", frozenset({"operator"})),
    "agency.reverse": ("撤销经办窗口结算", frozenset({"operator", "reviewer"})),
    # money after the window (gateway/county/claims.py, account.py); reads before writes here too
    "claims.read": ("查看医院申报单及各行审核结果", _ALL),
    "account.read": ("一站式专户收支与余额、附件4清算表", _ALL - {"operator"}),
    "claims.submit": ("代医院申报（一个期间的一站式结算）", frozenset({"operator", "admin"})),
    "claims.explain": ("代医院对拒付行作出说明（再申报）", frozenset({"operator"})),
    "claims.review": ("初审：逐行审核通过或拒付（原因代码）", frozenset({"reviewer"})),
    "claims.confirm": ("复审：确认或退回初审（非初审人）", frozenset({"second_reviewer"})),
    "claims.refuse": ("拒付告知医院", frozenset({"reviewer", "second_reviewer"})),
    "claims.settle": ("结算申报单", frozenset({"finance"})),
    "claims.pay": ("拨付（日期、金额、银行流水号）", frozenset({"finance"})),
    "account.receive": ("专户收款登记（按资金来源）", frozenset({"finance"})),
    # Commands run on the gateway's host with its store file (`hisgw export`, `hisgw backup`): the host's
    # account, not a token, is who did it; they are audited like any county write.
    "export.make": ("按协议导出脱敏数据（主机命令）", frozenset({HOST_ROLE})),
    "backup.make": ("生成月度备份（主机命令或计划任务）", frozenset({HOST_ROLE})),
    "referral.import": ("接收合作网关的转诊累计记录（主机命令或合作网关推送）", frozenset({HOST_ROLE})),
    "backup.load": ("将月度备份载入新的数据库，供审计查阅（主机命令）", frozenset({HOST_ROLE})),
    # the web console (gateway/console/); a hospital's user sees only its own hospital's rows
    "console.view": ("登录控制台：仪表盘、交换日志、结算、映射文件", _ALL | {HOSPITAL_ROLE}),
    "console.clear": ("控制台查看身份证号、姓名明文（每次查看都记入审计）",
                      frozenset({"admin", "reviewer", "second_reviewer"})),
    "simulator.run": ("控制台发起模拟联调（场景包）", frozenset({"operator", "admin"}) | {HOSPITAL_ROLE}),
    "arrears.read": ("查看恶意拖欠登记、转院逾期未结算名单", _ALL),
    "arrears.record": ("登记医院报告的恶意拖欠（先诊疗后付费资格取消）", frozenset({"operator", "admin"})),
    "arrears.pay": ("登记欠费偿还（结清后恢复资格）", frozenset({"operator", "finance"})),
    "catalogue_exception.request": ("登记医院的目录外费用特例申请", frozenset({"operator", "admin"})),
    "catalogue_exception.decide": ("批准或退回目录外费用特例（超出10%部分转财政兜底）", frozenset({"reviewer"})),
    "chronic.cancel": ("取消医院的门诊特殊慢性病认定（备案审核不符合条件）", frozenset({"reviewer", "admin"})),
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
    names = {**ROLES, HOST_ROLE: "主机"}
    roles = list(names)
    head = "| action | " + " | ".join(f"{names[r]} {r}" for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    lines = [head, rule]
    for action, (what, allowed) in ACTIONS.items():
        marks = " | ".join("✓" if r in allowed else "" for r in roles)
        lines.append(f"| `{action}` {what} | {marks} |")
    return "\n".join(lines)

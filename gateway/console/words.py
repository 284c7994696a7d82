"""What the console's pages say for the gateway's own identifiers: outcomes, states, import kinds and columns,
listeners, transports, simulator results, in the officers' language. The stored values stay as they are (the
API and CLI answer them); only the page shows these. A value without a name here is shown as it is."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from gateway.county.identities import SOURCES

OUTCOMES = {"ok": "成功", "error": "失败", "unknown": "结果未知"}
POLICY_STATES = {"draft": "草案", "published": "已发布"}
IMPORT_STATES = {"pending": "待审核", "applied": "已应用", "refused": "已退回"}
SOURCE_NAMES = {key: office for key, (office, _, _) in SOURCES.items()}  # minzheng → 民政
IMPORT_KINDS = {"new": "新增", "changed": "变更", "removed": "移除", "conflicting": "冲突", "invalid": "无效",
                "unknown": "未参保", "unchanged": "未变", "duplicate": "重复"}
# an import's diff row (gateway/county/identities.py DiffRow.document()), column by column, in this order
IMPORT_COLUMNS = {"id": "序号", "line": "名单行", "kind": "类型", "reason": "原因", "certno": "身份证号",
                  "name": "姓名", "attribute": "名单属性", "psn_no": "人员编号", "before": "原属性",
                  "after": "应用后属性"}
LISTENERS = {"http": "HTTP 接口", "dll": "DLL 动态库", "hl7": "HL7 消息"}
TRANSPORTS = {"http": "HTTP", "soap": "SOAP（WebService）", "dll": "DLL 动态库", "hl7": "HL7 MLLP"}
RUN_STATES = {"running": "运行中", "passed": "全部通过", "failed": "有场景未通过", "error": "运行出错"}
SCENARIO_RESULTS = {"pass": "通过", "fail": "未通过", "skip": "跳过", "blocked": "受阻", "n/a": "不适用",
                    "error": "出错"}
STATUS = {"valid": "有效", "reversed": "已撤销"}


def named(names: Mapping[str, str], value: object) -> str:
    text = "" if value is None else str(value)
    return names.get(text, text)


def import_row(row: Mapping[str, Any]) -> dict[str, str]:
    """A diff row as the page's table shows it: Chinese heads, kinds named, attribute lists joined."""
    shown: dict[str, str] = {}
    for key, head in IMPORT_COLUMNS.items():
        value = row.get(key)
        if key == "kind":
            shown[head] = named(IMPORT_KINDS, value)
        elif isinstance(value, list | tuple):
            shown[head] = "、".join(str(v) for v in value) or "（无）"
        else:
            shown[head] = "" if value is None else str(value)
    return shown


def counts(figures: Mapping[str, int]) -> str:
    """An import's counts by kind, in the kinds' order: 新增 3，变更 1."""
    order = list(IMPORT_KINDS)
    ranked = sorted(figures.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    return "，".join(f"{named(IMPORT_KINDS, kind)} {n}" for kind, n in ranked)


FILTERS = {"outcome": OUTCOMES, "policy_state": POLICY_STATES, "import_state": IMPORT_STATES,
           "source": SOURCE_NAMES, "listener": LISTENERS, "transport": TRANSPORTS, "run_state": RUN_STATES,
           "status": STATUS}


def jinja_filters() -> dict[str, Any]:
    """`{{ row.outcome|outcome }}` and the like, for the templates."""
    return {name: functools.partial(named, names) for name, names in FILTERS.items()} | {"counts": counts}

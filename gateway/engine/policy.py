"""The policy as data: which funds pay, in which order, for whom, with which figures.

A county's policy is a TOML file (see gateway/data/demo/policy.toml); this module reads and checks it,
refusing a bad file with the file and the key path that is wrong. Numbers are read as Decimal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.errors import NoPolicy
from gateway.money import MAX_AMOUNT, fen

# The formulas a fund can use (each is one function in gateway.engine.chain) and the figures each needs.
PARAMETERS: dict[str, frozenset[str]] = {
    "stay_deductible": frozenset({"deductible", "ratio"}),  # basic: per stay, by hospital level
    "annual_segments": frozenset({"deductible", "segments"}),  # critical illness: the year's cumulative base
    "share_of_remaining": frozenset({"ratio"}),  # 特惠保, assistance, supplementary
    "catalogue_excess": frozenset({"share_of_total"}),  # hospital reduction
    "personal_cap": frozenset({"share_of_total"}),  # fiscal backstop
}
KINDS = frozenset(PARAMETERS)
SETLINFO_FIELDS = frozenset({"hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay",
                             "hosp_part_amt"})
LEVELS = (1, 2, 3)
# The chain's fixed order (Hunan 三(一)4; 补充 after 大病 for employees, Heyuan). A fund names its stage; funds must
# be listed in stage order, and a new fund is inserted at its place by naming the stage it joins and being
# listed where it pays (after the stage's other funds, or before them) — no code.
STAGES: dict[str, str] = {
    "basic": "基本医疗保险",
    "critical": "大病保险",
    "supplementary": "补充医疗保险",
    "poverty": "扶贫特惠保",
    "assistance": "医疗救助",
    "hospital": "医院减免",
    "backstop": "财政兜底",
}
_STAGE_ORDER = {name: n for n, name in enumerate(STAGES)}
# What kind of visit a rule is for (its `when.visit`): a stay (住院), an ordinary outpatient visit (普通门诊), or
# the outpatient visit of a recognised special chronic disease (门诊特殊慢性病, Guangxi). A rule that names
# none is for stays, so a county's inpatient rules never pay an outpatient visit by accident.
VISITS = ("inpatient", "outpatient", "chronic")
DEFAULT_VISITS = frozenset({"inpatient"})


class PolicyFileError(ValueError):
    def __init__(self, path: Path, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")
        self.path = path
        self.where = where
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Condition:
    """When a rule applies; an empty field matches anything."""

    insutypes: frozenset[str]
    attributes_any: frozenset[str]
    in_county: bool | None
    visits: frozenset[str] = DEFAULT_VISITS
    # `when.catalogue_exception`: the stay has (true) or has not (false) the county's approval of an exception to
    # Guangxi's 90% catalogue rule; None matches either
    catalogue_exception: bool | None = None

    def matches(self, insutype: str, attributes: frozenset[str], in_county: bool, visit: str = "inpatient",
                catalogue_exception: bool = False) -> bool:
        return ((not self.insutypes or insutype in self.insutypes)
                and (not self.attributes_any or bool(self.attributes_any & attributes))
                and (self.in_county is None or self.in_county == in_county)
                and visit in self.visits
                and (self.catalogue_exception is None or self.catalogue_exception == catalogue_exception))


@dataclass(frozen=True, slots=True)
class Rule:
    """One eligibility rule of a fund and the figures that apply under it."""

    when: Condition
    label: str  # who this rule is for, shown in the trace (e.g. "贫困人口")
    deductible: Mapping[int, Decimal]  # stay_deductible: by hospital level
    ratio_by_level: Mapping[int, Decimal]  # stay_deductible: by hospital level
    annual_deductible: Decimal  # annual_segments
    segments: tuple[tuple[Decimal | None, Decimal], ...]  # annual_segments: (upper bound of excess, ratio)
    ratio: Decimal  # share_of_remaining
    share_of_total: Decimal  # catalogue_excess, personal_cap
    annual_cap: Decimal | None


@dataclass(frozen=True, slots=True)
class Fund:
    code: str  # national fund_pay_type
    name: str
    kind: str
    setlinfo_field: str
    counts_as_fund: bool  # False for the hospital's own reduction (hosp_part_amt)
    rules: tuple[Rule, ...]
    stage: str = ""  # STAGES key; "" in files written before stages (no order check for that fund)

    def rule_for(self, insutype: str, attributes: frozenset[str], in_county: bool,
                 visit: str = "inpatient", catalogue_exception: bool = False) -> Rule | None:
        return next((r for r in self.rules
                     if r.when.matches(insutype, attributes, in_county, visit, catalogue_exception)), None)


@dataclass(frozen=True, slots=True)
class Policy:
    policy_id: str
    county: str
    effective_from: date
    referral_selfpay_ratio: Decimal  # 转外自付: share of the in-policy amount out of county
    funds: tuple[Fund, ...]

    def accumulator_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for fund in self.funds:
            names[fund.code] = f"{fund.name}本年累计支付"
            if fund.kind == "annual_segments":
                names[f"{fund.code}:base"] = f"{fund.name}本年累计合规自付（起付基数）"
        return names


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """The county's policy versions; a settlement uses the one in force on its accounting date."""

    versions: tuple[Policy, ...]

    @classmethod
    def load(cls, paths: Sequence[Path]) -> PolicyBook:
        versions = sorted((load_policy(p) for p in paths), key=lambda p: p.effective_from)
        if not versions:
            raise ValueError("no policy file given")
        return cls(tuple(versions))

    def for_date(self, on: date) -> Policy:
        in_force = [p for p in self.versions if p.effective_from <= on]
        if not in_force:
            raise NoPolicy(f"{on} 无生效的结算政策（最早生效日 {self.versions[0].effective_from}）")
        return in_force[-1]

    def accumulator_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for policy in self.versions:
            names.update(policy.accumulator_names())
        return names


def default_policy_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "demo" / "policy.toml"


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(path, "file", str(exc)) from exc
    return load_policy_text(text, path)


def load_policy_text(text: str, path: Path) -> Policy:
    """The policy a TOML text describes; `path` names it in complaints (a file, or e.g. 'draft 3')."""
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(path, "TOML", str(exc)) from exc
    return _Reader(path).policy(doc)


def policy_mistakes(text: str, path: Path) -> list[PolicyFileError]:
    """Every mistake of a policy text, not just the first: each fund and each rule is read on its own."""
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        return [PolicyFileError(path, "TOML", str(exc))]
    reader = _Reader(path, collect=[])
    try:
        reader.policy(doc)
    except PolicyFileError as exc:
        reader.collected.append(exc)
    return reader.collected


class _Reader:
    """Walks the document, naming the key path in every complaint. Collecting: a fund's or a rule's mistake is
    kept and the walk goes on with the next one (the policy itself is then not usable)."""

    def __init__(self, path: Path, collect: list[PolicyFileError] | None = None) -> None:
        self.path = path
        self.collecting = collect is not None
        self.collected: list[PolicyFileError] = collect if collect is not None else []

    def fail(self, where: str, problem: str) -> PolicyFileError:
        return PolicyFileError(self.path, where, problem)

    def each(self, items: list[Any], where: str, read: Any) -> list[Any]:
        read_items = []
        for i, item in enumerate(items):
            try:
                read_items.append(read(item, f"{where}[{i}]"))
            except PolicyFileError as exc:
                if not self.collecting:
                    raise
                self.collected.append(exc)
        if self.collecting and self.collected:
            raise _Collected()
        return read_items

    def table(self, value: object, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "应为表（table）")
        unknown = set(value) - allowed
        if unknown:
            raise self.fail(where, f"未知的键 {sorted(unknown)}；可用 {sorted(allowed)}")
        return value

    def text(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", "缺少或不是字符串")
        return value

    def money(self, value: object, where: str) -> Decimal:
        return fen(self.number(value, where))

    def number(self, value: object, where: str, *, rate: bool = False) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise self.fail(where, "应为数值")
        try:
            number = Decimal(value) if not isinstance(value, Decimal) else value
        except ArithmeticError as exc:
            raise self.fail(where, f"不是数值: {value!r}") from exc
        if not number.is_finite() or number < 0:
            raise self.fail(where, "应为非负有限数值")
        if number > MAX_AMOUNT:  # 1e999999999 would overflow where it is rounded to the fen
            raise self.fail(where, "数值超出范围")
        if rate and number > 1:
            raise self.fail(where, "比例应在 0 到 1 之间")
        return number

    def by_level(self, value: object, where: str, *, rate: bool) -> dict[int, Decimal]:
        table = self.table(value, where, {str(level) for level in LEVELS})
        if set(table) != {str(level) for level in LEVELS}:
            raise self.fail(where, "须给出 1、2、3 级医院各自的数值")
        read = (lambda v, w: self.number(v, w, rate=True)) if rate else self.money
        return {int(k): read(v, f"{where}.{k}") for k, v in table.items()}

    def policy(self, doc: dict[str, Any]) -> Policy:
        self.table(doc, "(file)", {"policy", "groups", "referral", "funds"})
        head = self.table(doc.get("policy"), "policy", {"id", "county", "effective_from", "note"})
        effective = head.get("effective_from")
        if not isinstance(effective, date):
            raise self.fail("policy.effective_from", "应为日期，如 2018-01-01")
        groups_doc = self.table(doc.get("groups", {}), "groups", set(doc.get("groups", {})))
        groups: dict[str, frozenset[str]] = {}
        for name, codes in groups_doc.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise self.fail(f"groups.{name}", "应为身份属性编码的列表")
            groups[name] = frozenset(codes)
        referral = self.table(doc.get("referral", {}), "referral", {"out_of_county_selfpay_ratio"})
        ratio = self.number(referral.get("out_of_county_selfpay_ratio", 0), "referral.out_of_county_selfpay_ratio",
                            rate=True)
        funds_doc = doc.get("funds")
        if not isinstance(funds_doc, list) or not funds_doc:
            raise self.fail("funds", "须至少有一个基金（[[funds]]）")
        try:
            funds = tuple(self.each(funds_doc, "funds", lambda f, w: self.fund(f, w, groups)))
        except _Collected:
            raise self.collected.pop() from None
        codes = [f.code for f in funds]
        if len(set(codes)) != len(codes):
            raise self.fail("funds", f"基金编码重复: {codes}")
        self.stage_order(funds)
        policy_id = f"{self.text(head, 'id', 'policy')}@{effective.isoformat()}"
        return Policy(policy_id, self.text(head, "county", "policy"), effective, ratio, funds)

    def stage_order(self, funds: tuple[Fund, ...]) -> None:
        last: Fund | None = None
        for i, fund in enumerate(funds):
            if not fund.stage:
                continue
            if last is not None and _STAGE_ORDER[fund.stage] < _STAGE_ORDER[last.stage]:
                raise self.fail(f"funds[{i}].stage", f"结算顺序固定（{' → '.join(STAGES.values())}）："
                                f"{fund.name}（{STAGES[fund.stage]}）不能排在 {last.name}（{STAGES[last.stage]}）之后")
            last = fund

    def fund(self, doc: object, where: str, groups: Mapping[str, frozenset[str]]) -> Fund:
        table = self.table(doc, where, {"code", "name", "kind", "setlinfo_field", "counts_as_fund", "rules", "note",
                                        "stage"})
        stage = table.get("stage", "")
        if stage != "" and stage not in STAGES:
            raise self.fail(f"{where}.stage", f"未知的结算环节 {stage!r}；可用 {list(STAGES)}")
        kind = self.text(table, "kind", where)
        if kind not in KINDS:
            raise self.fail(f"{where}.kind", f"未知的计算方式 {kind!r}；可用 {sorted(KINDS)}")
        field = self.text(table, "setlinfo_field", where)
        if field not in SETLINFO_FIELDS:
            raise self.fail(f"{where}.setlinfo_field", f"未知的结算信息字段 {field!r}；可用 {sorted(SETLINFO_FIELDS)}")
        counts = table.get("counts_as_fund", field != "hosp_part_amt")
        if not isinstance(counts, bool):
            raise self.fail(f"{where}.counts_as_fund", "应为 true 或 false")
        rules = table.get("rules")
        if not isinstance(rules, list) or not rules:
            raise self.fail(f"{where}.rules", "须至少有一条规则（[[funds.rules]]）")
        code, name = self.text(table, "code", where), self.text(table, "name", where)
        try:
            read = tuple(self.each(rules, f"{where}.rules", lambda r, w: self.rule(r, w, kind, groups)))
        except _Collected:
            raise self.collected.pop() from None
        return Fund(code=code, name=name, kind=kind, setlinfo_field=field, counts_as_fund=counts, rules=read,
                    stage=str(stage))

    def rule(self, doc: object, where: str, kind: str, groups: Mapping[str, frozenset[str]]) -> Rule:
        required = PARAMETERS[kind]
        table = self.table(doc, where, {"when", "label", "annual_cap", *required})
        missing = required - set(table)
        if missing:
            raise self.fail(where, f"{kind} 规则缺少参数 {sorted(missing)}")
        when = self.condition(table.get("when", {}), f"{where}.when", groups)
        cap = table.get("annual_cap")
        rule = Rule(
            when=when, label=str(table.get("label", "")),
            deductible={}, ratio_by_level={}, annual_deductible=Decimal(0), segments=(), ratio=Decimal(0),
            share_of_total=Decimal(0),
            annual_cap=None if cap is None else self.money(cap, f"{where}.annual_cap"),
        )
        if kind == "stay_deductible":
            return _replace(rule, deductible=self.by_level(table["deductible"], f"{where}.deductible", rate=False),
                            ratio_by_level=self.by_level(table["ratio"], f"{where}.ratio", rate=True))
        if kind == "annual_segments":
            return _replace(rule, annual_deductible=self.money(table["deductible"], f"{where}.deductible"),
                            segments=self.segments(table["segments"], f"{where}.segments"))
        if kind == "share_of_remaining":
            return _replace(rule, ratio=self.number(table["ratio"], f"{where}.ratio", rate=True))
        return _replace(rule, share_of_total=self.number(table["share_of_total"], f"{where}.share_of_total",
                                                         rate=True))

    def condition(self, doc: object, where: str, groups: Mapping[str, frozenset[str]]) -> Condition:
        table = self.table(doc, where, {"insutype", "attributes_any", "in_county", "visit", "catalogue_exception"})
        insutypes = table.get("insutype", [])
        if not isinstance(insutypes, list) or not all(isinstance(t, str) for t in insutypes):
            raise self.fail(f"{where}.insutype", "应为险种编码列表，如 [\"390\"]")
        attributes: set[str] = set()
        listed = table.get("attributes_any", [])
        if not isinstance(listed, list):
            raise self.fail(f"{where}.attributes_any", "应为身份属性编码或 @组名 的列表")
        for item in listed:
            if not isinstance(item, str):
                raise self.fail(f"{where}.attributes_any", "应为字符串")
            if item.startswith("@"):
                if item[1:] not in groups:
                    raise self.fail(f"{where}.attributes_any", f"未定义的组 {item}（见 [groups]）")
                attributes |= groups[item[1:]]
            else:
                attributes.add(item)
        in_county = table.get("in_county")
        if in_county is not None and not isinstance(in_county, bool):
            raise self.fail(f"{where}.in_county", "应为 true 或 false")
        visits = table.get("visit", sorted(DEFAULT_VISITS))
        if (not isinstance(visits, list) or not visits
                or not all(isinstance(v, str) and v in VISITS for v in visits)):
            raise self.fail(f"{where}.visit", f"应为就诊类型列表，取值 {list(VISITS)}")
        exception = table.get("catalogue_exception")
        if exception is not None and not isinstance(exception, bool):
            raise self.fail(f"{where}.catalogue_exception", "应为 true 或 false")
        return Condition(frozenset(insutypes), frozenset(attributes), in_county, frozenset(visits), exception)

    def segments(self, doc: object, where: str) -> tuple[tuple[Decimal | None, Decimal], ...]:
        if not isinstance(doc, list) or not doc:
            raise self.fail(where, "应为分段列表，如 [{ upto = 50000, ratio = 0.60 }, { ratio = 0.80 }]")
        result: list[tuple[Decimal | None, Decimal]] = []
        previous = Decimal(0)
        for i, item in enumerate(doc):
            segment = self.table(item, f"{where}[{i}]", {"upto", "ratio"})
            upto = segment.get("upto")
            bound = None if upto is None else self.money(upto, f"{where}[{i}].upto")
            if bound is None and i != len(doc) - 1:
                raise self.fail(f"{where}[{i}]", "只有最后一段可以没有上限")
            if bound is not None and bound <= previous:
                raise self.fail(f"{where}[{i}].upto", "分段上限须递增")
            previous = bound if bound is not None else previous
            if "ratio" not in segment:
                raise self.fail(f"{where}[{i}]", "缺少 ratio")
            result.append((bound, self.number(segment["ratio"], f"{where}[{i}].ratio", rate=True)))
        return tuple(result)


class _Collected(Exception):
    """Mistakes were collected below this point: the caller re-raises the last so the walk unwinds once."""


def _replace(rule: Rule, **changes: Any) -> Rule:
    return replace(rule, **changes)

"""Scenario files: persons, then a patient journey of national transactions, with what each step must return.

A scenario is dialect-free: its steps are the national transactions (1101, 2401, 2301, 2304, …), written by
their number or by a name (`settle` is 2304), and the dialect is chosen when it is played. Every scalar is
read as the text that was written (`0001` stays "0001", `15172.50` stays exact), and every mistake is refused
with the file and the line. The format is described in simulators/scenarios/README.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from gateway.money import fen

# national transaction → (step name, Chinese name)
TRANSACTIONS: dict[str, tuple[str, str]] = {
    "9001": ("sign_in", "签到"),
    "9002": ("sign_out", "签退"),
    "1101": ("read_card", "人员信息获取"),
    "2401": ("admit", "入院办理"),
    "2403": ("change_admission", "入院信息变更"),
    "2404": ("cancel_admission", "入院撤销"),
    "2402": ("discharge", "出院办理"),
    "2405": ("cancel_discharge", "出院撤销"),
    "2301": ("upload_fees", "费用明细上传"),
    "2302": ("revoke_fees", "费用明细撤销"),
    "2303": ("trial", "预结算"),
    "2304": ("settle", "结算"),
    "2305": ("reverse", "结算撤销"),
    "5203": ("query_settlement", "结算信息查询"),
    "5206": ("query_totals", "人员累计信息查询"),
    "3201": ("reconcile_totals", "医药机构费用结算对总账"),
    "3202": ("reconcile_detail", "医药机构费用结算对明细账"),
    "2503": ("recognise_chronic", "慢特病备案（门诊特殊慢性病认定）"),
    "2201": ("register", "门诊挂号"),
    "2202": ("cancel_registration", "门诊挂号撤销"),
    "2203": ("visit_info", "门诊就诊信息上传"),
    "2204": ("upload_outpatient_fees", "门诊费用明细上传"),
    "2205": ("revoke_outpatient_fees", "门诊费用明细撤销"),
    "2206": ("outpatient_trial", "门诊预结算"),
    "2207": ("outpatient_settle", "门诊结算"),
    "2208": ("outpatient_reverse", "门诊结算撤销"),
    # not HIS trades: the county's side of a rule, over the county API (the runner plays them whatever the dialect)
    "C101": ("report_arrears", "县医保登记恶意拖欠（先诊疗后付费）"),
    "C102": ("pay_arrears", "县医保登记欠费偿还"),
    "C201": ("request_catalogue_exception", "县医保登记目录外费用特例申请"),
    "C202": ("approve_catalogue_exception", "县医保审核批准目录外费用特例"),
}
COUNTY_STEPS = frozenset({"C101", "C102", "C201", "C202"})
# An outpatient trade plays its inpatient twin's part in the journey (a visit is registered, gets lines, is
# settled and reversed); only the documents differ (simulators/national.py).
OUTPATIENT_TWINS = {"2201": "2401", "2202": "2404", "2203": "2403", "2204": "2301", "2205": "2302", "2206": "2303",
                    "2207": "2304", "2208": "2305"}


def twin(infno: str) -> str:
    """The inpatient transaction whose part an outpatient one plays (itself for any other)."""
    return OUTPATIENT_TWINS.get(infno, infno)


# Steps that name no stay.
STAYLESS = frozenset({"9001", "9002", "1101", "5206", "2503", "3201", "3202"})
BY_NAME = {name: infno for infno, (name, _) in TRANSACTIONS.items()}
RESEND = "resend"  # not a transaction: the previous step's exact bytes again (same msgid)
# Transactions that change nothing: a dialect without them skips the step; without any other, the scenario
# cannot be played through that dialect.
READ_ONLY = frozenset({"9001", "9002", "1101", "2303", "5203", "5206", "2206", "3201", "3202"})
ZERO_DEPOSIT_KEYS = ("signer_name", "signer_rlts", "sign_date", "emgc_flag")  # 2401's input.zero_deposit
MALFORMED = ("truncate", "encoding", "unknown_trade")

# The one-stop funds (national fund_pay_type), in chain order, and the employees' funds (Heyuan).
ONE_STOP_FUNDS = ("390100", "390200", "620100", "610100", "630100", "640100")
EMPLOYEE_FUNDS = ("310100", "330100", "370100")
ALL_FUNDS = ONE_STOP_FUNDS[:2] + EMPLOYEE_FUNDS + ONE_STOP_FUNDS[2:]
FUND_NAMES = {
    "390100": "城乡居民基本医疗保险", "390200": "城乡居民大病保险", "620100": "扶贫特惠保", "610100": "医疗救助",
    "630100": "医院减免", "640100": "财政兜底", "310100": "职工基本医疗保险统筹", "330100": "职工大额医疗费用补助",
    "370100": "补充医疗保险",
}
# setlinfo amounts a scenario may state; hifp_pay … oth_pay and fund_pay_sumamt are also derived from `funds`.
SETLINFO_AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                    "act_pay_dedc", "pool_prop_selfpay", "hifp_pay", "hifmi_pay", "hifob_pay", "hifes_pay", "maf_pay",
                    "oth_pay", "fund_pay_sumamt", "hosp_part_amt", "psn_part_amt", "acct_pay", "psn_cash_pay")
LINE_FACTS = ("det_item_fee_sumamt", "chrgitm_lv", "selfpay_prop", "fulamt_ownpay_amt", "preselfpay_amt",
              "inscp_scp_amt")
DEFAULT_AREA = "430521"  # the demo county (gateway/data/demo/)
OWN_AREA = "own"  # insured_in: own — an insurance area of this play alone (its reconciliation sees only its stays)


class ScenarioError(ValueError):
    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class PersonSpec:
    key: str
    name: str
    insutype: str  # 390 residents, 310 employees
    attributes: tuple[str, ...]  # identity attribute codes (Hunan 附件1)
    area: str  # insuplc_admdvs: where the person is insured
    uninsured_reason: str  # Hunan 附件2 code, "" when insured
    registered: bool  # False: a person the gateway has never heard of
    line: int


@dataclass(frozen=True)
class FeeLineSpec:
    sn: str
    code: str
    cnt: Decimal
    pric: Decimal
    amount: Decimal
    refund_of: str  # init_feedetl_sn
    at: str  # fee_ocur_time ("" = the step's time)
    line: int


@dataclass(frozen=True)
class Expect:
    error: str = ""  # the gateway's error code (HG3004), "" for success
    message: str = ""  # the error text must contain this
    funds: Mapping[str, Decimal] | None = None  # the one-stop sheet: fund code → amount, absent = 0.00
    amounts: Mapping[str, Decimal] = field(default_factory=dict)  # setlinfo amounts, as stated
    attributes: tuple[str, ...] | None = None
    insured: bool | None = None
    uninsured_reason: str | None = None
    insuplc_admdvs: str | None = None
    lines: Mapping[str, Mapping[str, str | Decimal]] = field(default_factory=dict)  # by feedetl_sn
    cum: Mapping[str, Decimal] = field(default_factory=dict)  # 5206: accumulator key → amount, absent = 0.00
    stmt_rslt: str | None = None  # 3201/3202: 0 平, 1 不平
    differences: int | None = None  # 3202: records on one side only (or with other figures)
    line: int = 0


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as the report names it
    infno: str
    label: str  # the author's name for the step, else the transaction's
    line: int
    person: str = ""
    stay: str = ""
    hospital: str = ""
    at: str = ""  # national datetime: begntime, endtime, fee time or inf_time depending on the step
    lines: tuple[FeeLineSpec, ...] = ()
    revoke: tuple[str, ...] = ()  # 2302: the feedetl_sn to revoke, ("0000",) = all
    medfee_sumamt: Decimal | None = None  # 2303/2304: what the HIS says the total is (default: its own sum)
    setl: str = "last"  # 2305/5203: which settlement of the stay: last or first valid, or the last reversed
    year: str = ""  # 5206
    mdtrt_id: str = ""  # a literal mdtrt_id instead of the stay's (for unknown-stay paths)
    ipt_no: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)  # 2403: admission fields to change
    disease: str = ""  # 2503: the disease recognised; 2203: the visit's diagnosis
    med_type: str = ""  # 2203: 14 门诊慢特病 (default), 11 普通门诊
    batch: str = ""  # 2204/2205: 收费批次号 (2205: 0000 = all)
    malformed: str = ""
    resend: bool = False
    expect: Expect = field(default_factory=Expect)
    zero_deposit: Mapping[str, str] = field(default_factory=dict)  # 2401: the 先诊疗后付费 agreement (Gannan)
    county: Mapping[str, str] = field(default_factory=dict)  # C1xx/C2xx: amount, on, reason, operator

    @property
    def title(self) -> str:
        name = TRANSACTIONS[self.infno][1]
        prefix = "重发 " if self.resend else ""
        return f"{prefix}{self.infno} {name}" + (f" · {self.label}" if self.label else "")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: Path
    covers: tuple[str, ...]
    persons: Mapping[str, PersonSpec]
    hospital: str
    steps: tuple[Step, ...]

    def infnos(self) -> set[str]:
        return {step.infno for step in self.steps}


# ---- YAML with lines, every scalar as written ---------------------------------------------------------------


class YDict(dict[str, Any]):
    line: int = 0
    lines: dict[str, int]


class YList(list[Any]):
    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> YDict:
    loader.flatten_mapping(node)  # `<<: *sheet` merges, so a trial and a settlement can share one sheet
    result = YDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"{key!r} appears twice", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> YList:
    result = YList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _as_written(_loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(node.value)


def _bool(_loader: _Loader, node: yaml.ScalarNode) -> bool | str:
    """Only true and false are booleans; YAML 1.1's y/n/on/off stay text (a fee line may be numbered N)."""
    text = str(node.value)
    return {"true": True, "false": False}.get(text.lower(), text)


_Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
for _tag in ("int", "float", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _as_written)


# ---- loading ------------------------------------------------------------------------------------------------


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Files named on the command line, and the .yaml files of folders named, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def load_scenarios(paths: Iterable[Path]) -> list[Scenario]:
    """Every scenario, or the first mistake (ScenarioError) with its file and line; names must be unique."""
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in scenario_files(paths):
        scenario = load_scenario(path)
        if scenario.name in seen:
            raise ScenarioError(path, 1, f"scenario {scenario.name!r} is also defined in {seen[scenario.name]}")
        seen[scenario.name] = path
        scenarios.append(scenario)
    return scenarios


def load_scenario(path: Path) -> Scenario:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(path, (mark.line + 1) if mark else 0, f"YAML: {exc.problem or exc}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(path, 0, str(exc)) from exc
    if not isinstance(document, YDict):
        raise ScenarioError(path, 1, "a scenario file is a mapping: scenario:, persons:, steps:")
    return _Reader(path).scenario(document)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, line: int, problem: str) -> ScenarioError:
        return ScenarioError(self.path, line, problem)

    def table(self, value: Any, line: int, allowed: Iterable[str], what: str, required: Iterable[str] = ()) -> YDict:
        if value is None:
            value = YDict()
            value.line, value.lines = line, {}
        if not isinstance(value, YDict):
            raise self.fail(line, f"{what} should be a mapping")
        allowed = set(allowed)
        for key in value:
            if key not in allowed:
                raise self.fail(value.lines[key], f"unknown key {key!r} in {what}; known: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in value:
                raise self.fail(value.line or line, f"{what} needs {key!r}")
        return value

    def text(self, table: YDict, key: str, default: str = "") -> str:
        if key not in table or table[key] is None:
            return default
        value = table[key]
        if isinstance(value, YDict | YList):
            raise self.fail(table.lines[key], f"{key} should be a single value")
        return str(value).strip()

    def amount(self, value: Any, line: int, what: str) -> Decimal:
        try:
            if isinstance(value, bool) or value is None:
                raise InvalidOperation
            number = Decimal(str(value).replace(",", ""))
        except InvalidOperation:
            raise self.fail(line, f"{what}: {value!r} is not an amount") from None
        if not number.is_finite() or number != number.quantize(Decimal("0.01")):
            raise self.fail(line, f"{what}: {value!r} should be yuan with at most two decimals")
        return number.quantize(Decimal("0.01"))

    def decimal(self, value: Any, line: int, what: str) -> Decimal:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(line, f"{what}: {value!r} is not a number") from None
        if not number.is_finite():
            raise self.fail(line, f"{what}: {value!r} is not a number")
        return number

    def moment(self, table: YDict, key: str) -> str:
        text = self.text(table, key)
        if not text:
            return ""
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).strftime("%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
        raise self.fail(table.lines[key], f"{key}: {text!r} should be yyyy-MM-dd HH:mm[:ss]")

    def scenario(self, doc: YDict) -> Scenario:
        self.table(doc, 1, ("scenario", "title", "description", "covers", "persons", "hospital", "steps"),
                   "the scenario", required=("scenario", "persons", "steps"))
        name = self.text(doc, "scenario")
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise self.fail(doc.lines["scenario"], "scenario: a name of letters, digits, - _ .")
        covers = doc.get("covers") or YList()
        if not isinstance(covers, list):
            raise self.fail(doc.lines["covers"], "covers: a list of tags")
        persons_doc = self.table(doc["persons"], doc.lines["persons"], set(doc["persons"] or ()), "persons")
        persons = {str(key): self.person(str(key), value, persons_doc.lines[key])
                   for key, value in persons_doc.items()}
        if not persons:
            raise self.fail(doc.lines["persons"], "persons: at least one")
        steps_doc = doc["steps"]
        if not isinstance(steps_doc, YList) or not steps_doc:
            raise self.fail(doc.lines["steps"], "steps: a list of steps")
        state = _Flow(self, persons)
        steps = tuple(self.step(number, item, line, state)
                      for number, (item, line) in enumerate(zip(steps_doc, steps_doc.lines, strict=True), 1))
        state.finish(steps)
        return Scenario(name=name, title=self.text(doc, "title", name), path=self.path,
                        covers=tuple(str(c) for c in covers), persons=persons,
                        hospital=self.text(doc, "hospital"), steps=steps)

    def person(self, key: str, value: Any, line: int) -> PersonSpec:
        table = self.table(value, line, ("name", "insutype", "attributes", "insured_in", "uninsured", "registered",
                                         "like"), f"person {key}")
        attributes = table.get("attributes") or YList()
        if isinstance(attributes, str):
            attributes = [a.strip() for a in attributes.split(",") if a.strip()]
        if not isinstance(attributes, list) or not all(isinstance(a, str) and a.isdigit() for a in attributes):
            raise self.fail(table.lines.get("attributes", line), "attributes: a list of codes such as \"0001\"")
        registered = table.get("registered", True)
        if not isinstance(registered, bool):
            raise self.fail(table.lines["registered"], "registered: true or false")
        area = self.text(table, "insured_in", DEFAULT_AREA)
        if not (area.isdigit() and len(area) == 6) and area != OWN_AREA:
            raise self.fail(table.lines["insured_in"], f"insured_in: a 6-digit area code, or {OWN_AREA}")
        insutype = self.text(table, "insutype", "390")
        if insutype not in ("390", "310"):
            raise self.fail(table.lines["insutype"], "insutype: 390 (residents) or 310 (employees)")
        return PersonSpec(key=key, name=self.text(table, "name", f"模拟{key}"), insutype=insutype,
                          attributes=tuple(attributes), area=area, uninsured_reason=self.text(table, "uninsured"),
                          registered=registered, line=line)

    def step(self, number: int, item: Any, line: int, flow: _Flow) -> Step:
        if isinstance(item, str):
            kind, value, value_line = item, None, line
        elif isinstance(item, YDict) and len(item) == 1:
            kind = next(iter(item))
            value, value_line = item[kind], item.lines[kind]
        else:
            raise self.fail(line, "a step is one transaction: `- settle: {…}` or `- 2304: {…}`")
        infno = kind if kind in TRANSACTIONS else BY_NAME.get(kind, "")
        if kind == RESEND:
            return self.resend(number, value, value_line, flow)
        if not infno:
            known = ", ".join(f"{name} ({no})" for no, (name, _) in TRANSACTIONS.items())
            raise self.fail(line, f"unknown step {kind!r}; known: {known}, {RESEND}")
        common = {"name", "expect", "malformed", "at", "hospital"}
        allowed = common | _STEP_KEYS[infno]
        table = self.table(value, value_line, allowed, f"step {number} ({kind})")
        malformed = self.text(table, "malformed")
        if malformed and malformed not in MALFORMED:
            raise self.fail(table.lines["malformed"], f"malformed: one of {', '.join(MALFORMED)}")
        step = Step(
            number=number, infno=infno, label=self.text(table, "name"), line=line,
            person=self.text(table, "person"), stay=self.text(table, "stay"), hospital=self.text(table, "hospital"),
            at=self.moment(table, "at"), malformed=malformed, ipt_no=self.text(table, "ipt_no"),
            mdtrt_id=self.text(table, "mdtrt_id"), setl=self.text(table, "setl", "last"),
            year=self.text(table, "year"), disease=self.text(table, "disease"),
            med_type=self.text(table, "med_type"), batch=self.text(table, "batch"),
            medfee_sumamt=(self.amount(table["medfee_sumamt"], table.lines["medfee_sumamt"], "medfee_sumamt")
                           if "medfee_sumamt" in table else None),
            expect=self.expect(table.get("expect"), table.lines.get("expect", value_line), twin(infno)),
        )
        if step.setl not in ("last", "first", "reversed"):
            raise self.fail(table.lines["setl"], "setl: last, first (valid settlements) or reversed")
        if infno in ("2301", "2204"):
            step = _replace(step, lines=self.fee_lines(table, value_line, flow, step))
        if infno == "2302":
            step = _replace(step, revoke=self.revoke(table, value_line))
        if infno == "2401" and "zero_deposit" in table:
            block = self.table(table["zero_deposit"], table.lines["zero_deposit"], ZERO_DEPOSIT_KEYS, "zero_deposit",
                               required=ZERO_DEPOSIT_KEYS[:3])
            step = _replace(step, zero_deposit={k: self.text(block, k) for k in block})
        if infno in COUNTY_STEPS:
            step = _replace(step, county={k: self.text(table, k) for k in ("amount", "on", "reason", "operator")
                                          if k in table})
        if infno == "2403":
            changes = self.table(table.get("fields"), table.lines.get("fields", value_line),
                                 ("adm_bed", "adm_dept_codg", "adm_dept_name", "dise_codg", "dise_name", "ipt_no"),
                                 "fields")
            step = _replace(step, fields={k: self.text(changes, k) for k in changes})
        return flow.check(step, table)

    def resend(self, number: int, value: Any, line: int, flow: _Flow) -> Step:
        table = self.table(value, line, ("name", "expect"), f"step {number} (resend)")
        if flow.previous is None:
            raise self.fail(line, "resend: there is no previous step to send again")
        previous = flow.previous
        expect = self.expect(table.get("expect"), table.lines.get("expect", line), twin(previous.infno)) \
            if "expect" in table else previous.expect
        step = _replace(previous, number=number, label=self.text(table, "name"), line=line, resend=True,
                        expect=expect)
        flow.previous = step
        return step

    def fee_lines(self, table: YDict, line: int, flow: _Flow, step: Step) -> tuple[FeeLineSpec, ...]:
        items = table.get("lines")
        if not isinstance(items, YList) or not items:
            raise self.fail(table.lines.get("lines", line), "lines: a list of fee lines")
        result = []
        for item, item_line in zip(items, items.lines, strict=True):
            entry = self.table(item, item_line, ("sn", "code", "amount", "cnt", "pric", "refund_of", "at"),
                               "a fee line", required=("code",))
            cnt = self.decimal(entry["cnt"], entry.lines["cnt"], "cnt") if "cnt" in entry else None
            pric = self.decimal(entry["pric"], entry.lines["pric"], "pric") if "pric" in entry else None
            amount = self.amount(entry["amount"], entry.lines["amount"], "amount") if "amount" in entry else None
            if amount is None:
                if cnt is None or pric is None:
                    raise self.fail(item_line, "a fee line needs amount, or cnt and pric")
                amount = fen(cnt * pric)
            if cnt is None:
                cnt = Decimal(-1 if amount < 0 else 1)
            if pric is None:
                pric = abs(amount / cnt)
            refund_of = self.text(entry, "refund_of")
            sn = self.text(entry, "sn") or flow.next_sn(step.stay)
            result.append(FeeLineSpec(sn=sn, code=self.text(entry, "code"), cnt=cnt, pric=pric, amount=amount,
                                      refund_of=refund_of, at=self.moment(entry, "at"), line=item_line))
        return tuple(result)

    def revoke(self, table: YDict, line: int) -> tuple[str, ...]:
        items = table.get("lines")
        if items == "all":
            return ("0000",)
        if not isinstance(items, YList) or not items or not all(isinstance(i, str) for i in items):
            raise self.fail(table.lines.get("lines", line), "lines: all, or a list of feedetl_sn")
        return tuple(items)

    def expect(self, value: Any, line: int, infno: str) -> Expect:
        if value is None:
            return Expect(line=line)
        allowed = {"error", "message"} | _EXPECT_KEYS.get(infno, set())
        table = self.table(value, line, allowed, f"expect of {infno}")
        error = self.text(table, "error")
        if error and not (len(error) == 6 and error[:2].isalpha() and error[2:].isdigit()):
            raise self.fail(table.lines["error"], "error: a gateway error code such as HG3004")
        if error and len(table) > (2 if "message" in table else 1):
            raise self.fail(line, "an expected error has only error: and message:")
        funds = None
        if "funds" in table:
            sheet = self.table(table["funds"], table.lines["funds"], ALL_FUNDS, "funds")
            funds = {code: self.amount(sheet[code], sheet.lines[code], code) for code in sheet}
        amounts = {key: self.amount(table[key], table.lines[key], key) for key in table if key in SETLINFO_AMOUNTS}
        lines: dict[str, dict[str, str | Decimal]] = {}
        if "lines" in table:
            by_sn = self.table(table["lines"], table.lines["lines"], set(table["lines"] or ()), "lines")
            for sn, facts in by_sn.items():
                entry = self.table(facts, by_sn.lines[sn], LINE_FACTS, f"line {sn}")
                lines[sn] = {k: (self.text(entry, k) if k == "chrgitm_lv" else
                                 self.decimal(entry[k], entry.lines[k], k) if k == "selfpay_prop" else
                                 self.amount(entry[k], entry.lines[k], k)) for k in entry}
        cum: dict[str, Decimal] = {}
        if "cum" in table:
            keys = self.table(table["cum"], table.lines["cum"], set(table["cum"] or ()), "cum")
            cum = {key: self.amount(keys[key], keys.lines[key], key) for key in keys}
        attributes = None
        if "attributes" in table:
            raw = table["attributes"]
            if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
                raise self.fail(table.lines["attributes"], "attributes: a list of codes, [] for none")
            attributes = tuple(raw)
        insured = table.get("insured")
        if insured is not None and not isinstance(insured, bool):
            raise self.fail(table.lines["insured"], "insured: true or false")
        differences = self.text(table, "differences")
        if differences and not differences.isdigit():
            raise self.fail(table.lines["differences"], "differences: a number of records")
        expect = Expect(
            stmt_rslt=self.text(table, "stmt_rslt") or None, differences=int(differences) if differences else None,
            error=error, message=self.text(table, "message"), funds=funds, amounts=amounts, attributes=attributes,
            insured=insured, uninsured_reason=self.text(table, "uninsured_reason") if "uninsured_reason" in table
            else None, insuplc_admdvs=self.text(table, "insuplc_admdvs") or None, lines=lines, cum=cum, line=line,
        )
        self.sheet_adds_up(expect, line)
        return expect

    def sheet_adds_up(self, expect: Expect, line: int) -> None:
        """The scenario's own figures must be a settlement sheet: every fund plus the personal part is the total."""
        if expect.funds is None:
            return
        total, personal = expect.amounts.get("medfee_sumamt"), expect.amounts.get("psn_part_amt")
        funds = sum(expect.funds.values(), Decimal("0.00"))
        if total is not None and personal is not None and funds + personal != total:
            raise self.fail(line, f"the sheet does not add up: funds {funds} + personal {personal} ≠ total {total}")
        stated = expect.amounts.get("hosp_part_amt")
        if stated is not None and stated != expect.funds.get("630100", Decimal("0.00")):
            raise self.fail(line, f"hosp_part_amt {stated} is not the 630100 医院减免 of the sheet")


_STEP_KEYS: dict[str, set[str]] = {
    "9001": set(), "9002": set(),
    "1101": {"person"},
    "2401": {"person", "stay", "ipt_no", "zero_deposit"},
    "C101": {"stay", "amount", "on"}, "C102": {"stay", "amount", "on"},
    "C201": {"stay", "reason", "operator"}, "C202": {"stay", "operator"},
    "2403": {"stay", "fields", "mdtrt_id", "person"},
    "2404": {"stay", "mdtrt_id", "person"},
    "2405": {"stay", "mdtrt_id", "person"},
    "2402": {"stay", "mdtrt_id", "person"},
    "2301": {"stay", "lines", "mdtrt_id", "person"},
    "2302": {"stay", "lines", "mdtrt_id", "person"},
    "2303": {"stay", "medfee_sumamt", "mdtrt_id", "person"},
    "2304": {"stay", "medfee_sumamt", "mdtrt_id", "person"},
    "2305": {"stay", "setl"},
    "5203": {"stay", "setl"},
    "5206": {"person", "year"},
    "3201": {"person"},
    "3202": {"person"},
    "2503": {"person", "disease"},
    "2201": {"person", "stay"},
    "2202": {"stay"},
    "2203": {"stay", "med_type", "disease"},
    "2204": {"stay", "lines", "batch"},
    "2205": {"stay", "batch"},
    "2206": {"stay", "medfee_sumamt"},
    "2207": {"stay", "medfee_sumamt"},
    "2208": {"stay", "setl"},
}
_SHEET = {"funds", *SETLINFO_AMOUNTS}
_EXPECT_KEYS: dict[str, set[str]] = {
    "1101": {"attributes", "insured", "uninsured_reason", "insuplc_admdvs"},
    "2301": {"lines"},
    "2303": _SHEET, "2304": _SHEET, "5203": _SHEET, "2305": _SHEET,
    "5206": {"cum"},
    "3201": {"stmt_rslt"},
    "3202": {"stmt_rslt", "differences"},
}


def _replace(step: Step, **changes: Any) -> Step:
    return replace(step, **changes)


class _Flow:
    """What the steps so far have set up: the stays admitted, the fee line numbers used, the last step."""

    def __init__(self, reader: _Reader, persons: Mapping[str, PersonSpec]) -> None:
        self.reader = reader
        self.persons = persons
        self.stays: dict[str, str] = {}  # stay label → person key
        self.last_stay = ""
        self.serials: dict[str, int] = {}
        self.previous: Step | None = None
        self.discharged: set[str] = set()
        self.settled_early: list[tuple[str, int]] = []
        self.refused: set[str] = set()

    def next_sn(self, stay: str) -> str:
        key = stay or self.last_stay
        self.serials[key] = self.serials.get(key, 0) + 1
        return f"{self.serials[key]:04d}"

    def check(self, step: Step, table: YDict) -> Step:
        fail = self.reader.fail
        if step.person and step.person not in self.persons:
            raise fail(table.lines["person"], f"no person {step.person!r} under persons:")
        if step.infno in ("1101", "2401", "5206", "2201", "2503", "3201", "3202") and not step.person:
            if len(self.persons) != 1:
                raise fail(step.line, f"{step.infno} needs person: (there are {len(self.persons)})")
            step = _replace(step, person=next(iter(self.persons)))
        if twin(step.infno) == "2401":
            label = step.stay or f"stay{len(self.stays) + len(self.refused) + 1}"
            if step.expect.error:
                self.refused.add(label)  # an admission that must fail: no stay to use afterwards
            else:
                self.stays[label] = step.person
                self.last_stay = label
            step = _replace(step, stay=label)
        elif step.infno not in STAYLESS and not step.mdtrt_id:
            label = step.stay or self.last_stay
            if label not in self.stays:
                raise fail(step.line, f"stay {label!r} is not admitted by an earlier step" if label else
                           "no stay admitted yet: admit first, or name a literal mdtrt_id")
            step = _replace(step, stay=label)
            if step.infno == "2402":
                self.discharged.add(label)
            elif step.infno in ("2303", "2304") and label not in self.discharged and not step.expect.error:
                self.settled_early.append((label, step.line))
        self.previous = step
        return step

    def finish(self, steps: tuple[Step, ...]) -> None:
        """A person with several stays accumulates by the discharge year; a stay settled before its discharge
        would be booked in the year of today's date, and the scenario would change with the calendar."""
        stays_of: dict[str, int] = {}
        for person in self.stays.values():
            stays_of[person] = stays_of.get(person, 0) + 1
        for label, line in self.settled_early:
            if stays_of[self.stays[label]] > 1:
                raise self.reader.fail(line, f"stay {label!r}: a person with several stays settles after discharge "
                                             "(2402 first), so the year is the discharge year, not today's")


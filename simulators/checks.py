"""What an answer must say, compared with what it says: one Check per figure, readable as a diff.

A figure the dialect has no place for in its answer (the mapping file carries no such path) is listed as not
carried and not compared. Amounts are compared as Decimal to the fen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.mapping import paths
from simulators.drivers.base import Decoded, Refusal
from simulators.national import Journey, Stay
from simulators.scenario import ALL_FUNDS, EMPLOYEE_FUNDS, FUND_NAMES, Expect, Step

ZERO = Decimal("0.00")
ATTRIBUTE_NAMES = {"0001": "建档立卡", "0002": "城镇低保", "0003": "农村低保", "0004": "特困", "0005": "兜底对象",
                   "0006": "贫困残疾人"}
# setlinfo fields and the funds that add to them (the national interface's field meanings)
SETLINFO_FUNDS: dict[str, tuple[str, ...]] = {
    "hifp_pay": ("390100", "310100"), "hifmi_pay": ("390200",), "hifob_pay": ("330100",),
    "hifes_pay": ("370100",), "maf_pay": ("610100",), "oth_pay": ("620100", "640100"), "hosp_part_amt": ("630100",),
    "fund_pay_sumamt": tuple(code for code in ALL_FUNDS if code != "630100"),
}


@dataclass
class Check:
    name: str
    expected: str
    actual: str
    ok: bool
    carried: bool = True  # False: the dialect's answer has no place for it; not compared
    amount: bool = False  # an amount: the diff shows the difference

    def diff(self) -> str:
        delta = ""
        if self.amount:
            try:
                change = Decimal(self.actual) - Decimal(self.expected)
                delta = f" ({change:+.2f})" if change else ""
            except (InvalidOperation, ValueError):
                pass
        return f"{self.name}: expected {self.expected}, got {self.actual}{delta}"


Carried = frozenset[str] | None


class Reader:
    """Values of the national output, and whether the dialect carries a path."""

    def __init__(self, output: Mapping[str, Any] | None, carried: Carried) -> None:
        self.document = {"output": output or {}}
        self.carried_paths = carried

    @property
    def complete(self) -> bool:
        return self.carried_paths is None  # the national document itself: a list without a row means 0

    def carries(self, path: str) -> bool:
        return self.carried_paths is None or path in self.carried_paths

    def get(self, path: str) -> Any:
        return paths.get(self.document, paths.parse_path(path))

    def rows(self, path: str) -> list[dict[str, Any]]:
        value = self.get(path)
        return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _show(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def amount_check(name: str, expected: Decimal, actual: Any, carried: bool = True) -> Check:
    if not carried:
        return Check(name, f"{expected:.2f}", "(not carried)", True, carried=False, amount=True)
    number = _amount(actual)
    shown = f"{number:.2f}" if number is not None else _show(actual)
    return Check(name, f"{expected:.2f}", shown, number is not None and number == expected, amount=True)


def text_check(name: str, expected: str, actual: Any, carried: bool = True) -> Check:
    if not carried:
        return Check(name, expected, "(not carried)", True, carried=False)
    shown = "" if actual is None else str(actual)
    return Check(name, expected, shown if shown else "(empty)", shown == expected)


def _is_code(got: str, wanted: str) -> bool:
    """HG1004 is HG1004; a SOAP Fault code Client.XMLSyntaxError is a Fault:Client."""
    return got == wanted or (wanted.startswith("Fault:") and got.startswith(wanted + "."))


# ---- per transaction ----------------------------------------------------------------------------------------


def outcome_checks(step: Step, decoded: Decoded, refusal: Refusal | None = None) -> tuple[list[Check], list[str]]:
    """The expected outcome (success, or an error code) — and the problems that make the step fail. `refusal`:
    how the dialect answers the step's malformation when not with the pack's code (the check says why)."""
    expect = step.expect
    problems: list[str] = []
    checks: list[Check] = []
    got = decoded.error_code or ("success" if decoded.outcome == "ok" else decoded.outcome)
    if expect.error:
        wanted = refusal.error if refusal is not None else expect.error
        shown = f"error {wanted}" + (f" (the pack says {expect.error}: {refusal.why})" if refusal is not None else "")
        check = Check("outcome", shown, got if decoded.outcome == "ok" else f"error {decoded.error_code or '?'}",
                      decoded.outcome == "business" and _is_code(decoded.error_code, wanted))
        checks.append(check)
        if not check.ok:
            problems.append(f"expected error {wanted}, got " + (
                "success" if decoded.outcome == "ok" else f"{decoded.outcome} error: {decoded.error_text[:200]}"))
        if expect.message:
            found = expect.message in decoded.error_text
            checks.append(Check("error text", f"contains {expect.message!r}", decoded.error_text[:200], found))
            if not found:
                problems.append(f"the error text should contain {expect.message!r}: {decoded.error_text[:200]!r}")
    else:
        check = Check("outcome", "success", got, decoded.outcome == "ok")
        checks.append(check)
        if not check.ok:
            problems.append(f"expected success, got {decoded.outcome} error {decoded.error_code}: "
                            f"{decoded.error_text[:200]}")
    problems.extend(decoded.notes)
    return checks, problems


def answer_checks(step: Step, journey: Journey, decoded: Decoded, carried: Carried) -> list[Check]:
    """Figures of a successful answer, as the step expects them, plus what every such answer must carry."""
    reader = Reader(decoded.output, carried)
    check = _BY_INFNO.get(step.infno)
    return check(step, journey, reader) if check else []


def _person(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    expect = step.expect
    person = journey.persons[step.person]
    checks = [text_check("psn_no", person.psn_no, reader.get("output.baseinfo.psn_no"),
                         reader.carries("output.baseinfo.psn_no"))]
    if expect.attributes is not None:
        held = {str(row.get("psn_idet_type")) for row in reader.rows("output.idetinfo")}
        for code in sorted(set(ATTRIBUTE_NAMES) | set(expect.attributes)):
            path = f"output.idetinfo[psn_idet_type={code}].psn_idet_type"
            name = f"attribute {code} {ATTRIBUTE_NAMES.get(code, '')}".rstrip()
            checks.append(text_check(name, "held" if code in expect.attributes else "not held",
                                     "held" if code in held else "not held", reader.carries(path)))
    insuinfo = reader.rows("output.insuinfo")
    if expect.insured is not None:
        carried = reader.complete or any("insuinfo[psn_insu_stas=" in p for p in reader.carried_paths or ())
        insured = any(str(row.get("psn_insu_stas")) == "1" for row in insuinfo)
        checks.append(text_check("insured (psn_insu_stas 1)", str(expect.insured).lower(), str(insured).lower(),
                                 carried))
    if expect.uninsured_reason is not None:
        path = "output.insuinfo[psn_insu_stas=4].nopay_rea_code"
        actual = next((row.get("nopay_rea_code") for row in insuinfo if row.get("nopay_rea_code")), "")
        checks.append(text_check("nopay_rea_code 未参保原因", expect.uninsured_reason, actual or "",
                                 reader.complete or reader.carries(path)))
    if expect.insuplc_admdvs is not None:
        path = "output.insuinfo[psn_insu_stas=1].insuplc_admdvs"
        actual = next((row.get("insuplc_admdvs") for row in insuinfo if row.get("insuplc_admdvs")), None)
        checks.append(text_check("insuplc_admdvs", expect.insuplc_admdvs, actual,
                                 reader.complete or reader.carries(path)))
    return checks


def _admission(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    path = "output.data.mdtrt_id" if step.infno == "2201" else "output.result.mdtrt_id"
    mdtrt_id = reader.get(path)
    carried = reader.carries(path)
    return [Check("mdtrt_id", "(a new one)", str(mdtrt_id) if carried else "(not carried)",
                  bool(mdtrt_id) if carried else False, carried=True)]


def _fees(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    rows = reader.rows("output.result")
    by_sn = {str(row.get("feedetl_sn")): row for row in rows}
    sn_carried = reader.carries("output.result[].feedetl_sn")
    checks: list[Check] = []
    if sn_carried:
        missing = [line.sn for line in step.lines if line.sn not in by_sn]
        checks.append(Check("lines answered", ", ".join(line.sn for line in step.lines),
                            ", ".join(by_sn) or "(none)", not missing))
    for position, line in enumerate(step.lines):
        facts = step.expect.lines.get(line.sn)
        if not facts:
            continue
        row = by_sn.get(line.sn) if sn_carried else (rows[position] if position < len(rows) else None)
        for name, expected in facts.items():
            carried = reader.carries(f"output.result[].{name}")
            actual = row.get(name) if row else None
            label = f"line {line.sn} {name}"
            if isinstance(expected, Decimal) and name != "selfpay_prop":
                checks.append(amount_check(label, expected, actual, carried))
            elif name == "selfpay_prop":
                number = _amount(actual)
                checks.append(Check(label, str(expected), "(not carried)" if not carried else _show(actual),
                                    not carried or (number is not None and number == expected), carried=carried))
            else:
                checks.append(text_check(label, str(expected), actual, carried))
    return checks


def _fund_name(code: str) -> str:
    return f"{code} {FUND_NAMES.get(code, '')}".rstrip()


DERIVED_LABELS = {name: f"{name} (= {' + '.join(codes)})" for name, codes in SETLINFO_FUNDS.items()}
DERIVED_LABELS["fund_pay_sumamt"] = "fund_pay_sumamt (= every fund but 630100)"


def sheet_checks(expect: Expect, reader: Reader) -> list[Check]:
    """The one-stop sheet: each fund (setldetail), the setlinfo fields they add to, the stated amounts.
    A reversal's sheet is written as it is answered: every amount negative."""
    checks: list[Check] = []
    if expect.funds is not None:
        for code in ALL_FUNDS:
            expected = expect.funds.get(code, ZERO)
            path = f"output.setldetail[fund_pay_type={code}].fund_payamt"
            actual = reader.get(path)
            if reader.complete and actual is None:
                actual = ZERO  # the national setldetail has a row for each fund that paid
            carried = reader.carries(path)
            if code in EMPLOYEE_FUNDS and code not in expect.funds and not _amount(actual):
                continue  # a resident's sheet: the employees' funds are not on it
            if not carried and any(code in codes and reader.carries(f"output.setlinfo.{name}")
                                   for name, codes in SETLINFO_FUNDS.items() if name != "fund_pay_sumamt"):
                continue  # compared below through the setlinfo field it adds to (hifp_pay, maf_pay, …)
            checks.append(amount_check(_fund_name(code), expected, actual, carried))
        for name, codes in SETLINFO_FUNDS.items():
            path = f"output.setlinfo.{name}"
            if name not in expect.amounts and reader.carries(path):
                expected = sum((expect.funds.get(code, ZERO) for code in codes), ZERO)
                checks.append(amount_check(DERIVED_LABELS[name], expected, reader.get(path)))
    for name, expected in expect.amounts.items():
        path = f"output.setlinfo.{name}"
        checks.append(amount_check(name, expected, reader.get(path), reader.carries(path)))
    checks.extend(_identities(reader))
    return checks


def _identities(reader: Reader) -> list[Check]:
    """The national identities, on whatever the dialect carries: medfee = funds + personal + hospital, …"""
    def value(name: str) -> Decimal | None:
        path = f"output.setlinfo.{name}"
        return _amount(reader.get(path)) if reader.carries(path) else None

    checks = []
    total, funds, personal, hospital = (value(n) for n in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt",
                                                            "hosp_part_amt"))
    if None not in (total, funds, personal, hospital):
        assert total is not None and funds is not None and personal is not None and hospital is not None
        checks.append(Check("medfee = fund_pay_sumamt + psn_part_amt + hosp_part_amt", f"{total:.2f}",
                            f"{funds + personal + hospital:.2f}", total == funds + personal + hospital))
    inscp, fulamt, over, pre = (value(n) for n in ("inscp_scp_amt", "fulamt_ownpay_amt", "overlmt_selfpay",
                                                    "preselfpay_amt"))
    if None not in (total, inscp, fulamt, pre):
        assert total is not None and inscp is not None and fulamt is not None and pre is not None
        computed = total - fulamt - (over or ZERO) - pre
        checks.append(Check("inscp = medfee − fulamt − overlmt − preselfpay", f"{inscp:.2f}", f"{computed:.2f}",
                            inscp == computed))
    return checks


def _settlement(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    checks = sheet_checks(step.expect, reader)
    if step.infno in ("2304", "2207") and reader.carries("output.setlinfo.setl_id"):
        setl_id = reader.get("output.setlinfo.setl_id")
        checks.append(Check("setl_id", "(a new one)", str(setl_id or "(empty)"), bool(setl_id)))
    return checks


def _reversal(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    checks = sheet_checks(step.expect, reader)
    stay: Stay | None = journey.stays.get(step.stay)
    if stay is not None and reader.carries("output.setlinfo.init_setl_id"):
        checks.append(text_check("init_setl_id (the settlement reversed)", stay.setl_id(step.setl),
                                 reader.get("output.setlinfo.init_setl_id")))
    return checks


def _recognition(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    path = "output.result.trt_dcla_detl_sn"
    recog_id = reader.get(path)
    carried = reader.carries(path)
    return [Check("trt_dcla_detl_sn (the recognition)", "(a new one)", str(recog_id) if carried else "(not carried)",
                  bool(recog_id) if carried else False, carried=True)]


def _totals(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    checks = []
    for key, expected in step.expect.cum.items():
        path = f"output.cuminfo[cum_type_code={key}].cum"
        actual = reader.get(path)
        if reader.complete and actual is None:
            actual = ZERO
        checks.append(amount_check(f"cum {key}", expected, actual, reader.carries(path)))
    return checks


def _reconciliation(step: Step, journey: Journey, reader: Reader) -> list[Check]:
    checks = []
    if step.expect.stmt_rslt is not None:
        path = "output.stmtinfo.stmt_rslt"
        checks.append(text_check("stmt_rslt (0 平, 1 不平)", step.expect.stmt_rslt, reader.get(path),
                                 reader.carries(path)))
    if step.expect.differences is not None:
        carried = reader.carries("output.stmtdetail[].stmt_rslt")
        rows = reader.rows("output.stmtdetail") if carried else []
        checks.append(Check("records on one side only", str(step.expect.differences), str(len(rows)),
                            len(rows) == step.expect.differences or not carried, carried))
    return checks


_BY_INFNO: dict[str, Callable[[Step, Journey, Reader], list[Check]]] = {
    "1101": _person, "2401": _admission, "2301": _fees, "2303": _settlement, "2304": _settlement,
    "5203": _settlement, "2305": _reversal, "5206": _totals, "3201": _reconciliation, "3202": _reconciliation,
    "2201": _admission, "2204": _fees, "2206": _settlement, "2207": _settlement, "2208": _reversal,
    "2503": _recognition,
}

"""Plays scenarios through a driver: each step → the dialect's bytes → the gateway → checked against the step."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulators.checks import Check, answer_checks, outcome_checks
from simulators.drivers.base import Driver, Envelope, Exchange, Refusal
from simulators.drivers.mapped import written_paths
from simulators.national import BookEntry, Journey, Person, Stay, request
from simulators.people import PersonFactory, ProvisionError
from simulators.scenario import COUNTY_STEPS, READ_ONLY, STAYLESS, TRANSACTIONS, PersonSpec, Scenario, Step, twin

PASS, FAIL, SKIP, BLOCKED = "pass", "fail", "skip", "blocked"
NOT_APPLICABLE, ERROR = "n/a", "error"
# 4-digit msgid serial, from a random start so two runs in the same second do not reuse one
_SERIAL = itertools.count(random.randrange(10_000))


@dataclass
class StepResult:
    step: Step
    status: str  # pass | fail | skip (the dialect has no such trade) | blocked (an earlier step failed)
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    exchange: Exchange | None = None
    reason: str = ""
    refusal: Refusal | None = None  # the dialect answers the step's malformation its own way (checked so)

    @property
    def seconds(self) -> float:
        return self.exchange.seconds if self.exchange else 0.0


@dataclass
class ScenarioResult:
    scenario: Scenario
    dialect: str
    status: str  # pass | fail | n/a (needs a trade the dialect lacks) | error (could not be played)
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""
    persons: dict[str, Person] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """One readable line per problem: `step 7 2304 结算: 620100 扶贫特惠保: expected 1463.75, got …`."""
        lines = [] if self.status != ERROR else [self.reason]
        for result in self.steps:
            if result.status == FAIL:
                lines.extend(f"step {result.step.number} {result.step.title}: {problem}"
                             for problem in result.problems)
            elif result.status == BLOCKED:
                lines.append(f"step {result.step.number} {result.step.title}: not played ({result.reason})")
        return lines


def not_applicable(scenario: Scenario, driver: Driver) -> str:
    """Why the scenario cannot be played through the dialect: a step that changes state has no trade there, or a
    refund line has no place for its original line in the dialect's fee upload."""
    missing = sorted(infno for infno in scenario.infnos()
                     if infno not in READ_ONLY and infno not in COUNTY_STEPS and driver.trade(infno) is None)
    if missing:
        names = ", ".join(f"{infno} {TRANSACTIONS[infno][1]}" for infno in missing)
        return f"{driver.name} has no trade for {names}"
    agreements = any(step.zero_deposit for step in scenario.steps)
    admitted = written_paths(trade) if (trade := driver.trade("2401")) is not None else frozenset()
    if agreements and admitted is not None and "input.zero_deposit.signer_name" not in admitted:
        return f"{driver.name} has no place for 2401's zero-deposit agreement (input.zero_deposit)"
    refunds = any(line.refund_of for step in scenario.steps if step.infno == "2301" for line in step.lines)
    written = written_paths(trade) if (trade := driver.trade("2301")) is not None else frozenset()
    if refunds and written is not None and "input.feedetail[].init_feedetl_sn" not in written:
        return (f"{driver.name} has no place for a refund line's original (init_feedetl_sn) in 2301 "
                f"{TRANSACTIONS['2301'][1]}")
    return ""


OnStep = Callable[[ScenarioResult, StepResult], None]


class Runner:
    def __init__(self, driver: Driver, factory: PersonFactory, *, on_step: OnStep | None = None,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.driver = driver
        self.factory = factory
        self.on_step = on_step
        self.clock = clock

    def msgid(self, fixmedins_code: str, at: datetime) -> str:
        return f"{fixmedins_code}{at:%Y%m%d%H%M%S}{next(_SERIAL) % 10_000:04d}"

    async def play(self, scenario: Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario=scenario, dialect=self.driver.name, status=PASS)
        reason = not_applicable(scenario, self.driver)
        if reason:
            result.status, result.reason = NOT_APPLICABLE, reason
            return result
        started = time.perf_counter()
        try:
            result.persons = await self.factory.persons(list(scenario.persons.values()))
        except ProvisionError as exc:
            result.status, result.reason = ERROR, str(exc)
            return result
        journey = Journey(scenario=scenario, persons=result.persons)
        previous: StepResult | None = None
        for step in scenario.steps:
            outcome = await self.step(step, journey, previous)
            result.steps.append(outcome)
            if outcome.exchange is not None:
                previous = outcome
            if self.on_step is not None:
                self.on_step(result, outcome)
        result.seconds = time.perf_counter() - started
        if any(s.status in (FAIL, BLOCKED) for s in result.steps):
            result.status = FAIL
        return result

    async def step(self, step: Step, journey: Journey, previous: StepResult | None) -> StepResult:
        driver = self.driver
        if step.infno in COUNTY_STEPS:
            return await self.county_step(step, journey)
        if driver.trade(step.infno) is None:
            return StepResult(step, SKIP, reason=f"{driver.name} has no trade for {step.infno}")
        blocked = _blocked(step, journey, previous)
        if blocked:
            return StepResult(step, BLOCKED, reason=blocked)
        sent: Envelope | None = None
        if step.resend and previous is not None and previous.exchange is not None:
            raw = previous.exchange.request
        else:
            now = self.clock()
            try:
                inf_time, document = request(step, journey, now)
                hospital = journey.hospital(step)
                envelope = Envelope(msgid=self.msgid(hospital, now), fixmedins_code=hospital, inf_time=inf_time,
                                    sign_no=journey.sign_no)
                raw = driver.encode(step.infno, envelope, document, step.malformed)
                sent = envelope
            except (UnicodeEncodeError, ValueError, KeyError) as exc:
                return StepResult(step, FAIL, problems=[f"the simulator could not write this step in "
                                                        f"{driver.name}: {type(exc).__name__} {exc}"])
        exchange = await driver.exchange(step.infno, raw)
        refusal = driver.refusal(step.infno, step.malformed)
        checks, problems = outcome_checks(step, exchange.decoded, refusal)
        if exchange.decoded.outcome == "ok" and not step.expect.error:
            answer = answer_checks(step, journey, exchange.decoded, driver.carried(step.infno))
            checks.extend(answer)
            problems.extend(check.diff() for check in answer if not check.ok)
            _remember(step, journey, exchange.decoded.output or {}, sent)
        if step.resend and previous is not None and previous.exchange is not None:
            first = previous.exchange.delivery
            same = first.body == exchange.delivery.body and first.rc == exchange.delivery.rc
            checks.append(Check("the first answer again (same msgid)", "identical bytes",
                                "identical bytes" if same else "different", same))
            if not same:
                problems.append("a message sent again with the same msgid must get its first answer, byte for byte")
        return StepResult(step, FAIL if problems else PASS, checks=checks, problems=problems, exchange=exchange,
                          refusal=refusal)


    async def county_step(self, step: Step, journey: Journey) -> StepResult:
        """The county's part of a rule over the county API, as its operator (X-Operator: a demo gateway)."""
        stay = journey.stays.get(step.stay)
        if stay is None or not stay.mdtrt_id:
            return StepResult(step, BLOCKED, reason=f"stay {step.stay!r} has no mdtrt_id")
        args = step.county
        on = args.get("on", "") or f"{self.clock():%Y-%m-%d}"
        if step.infno == "C101":
            path, body = "arrears", {"mdtrt_id": stay.mdtrt_id, "owed_amt": args.get("amount", ""), "reported_on": on}
        elif step.infno == "C102":
            path, body = f"arrears/{journey.arrears.get(step.stay, '-')}/payments", {
                "amount": args.get("amount", ""), "paid_on": on}
        elif step.infno == "C201":
            path, body = "catalogue-exceptions", {"mdtrt_id": stay.mdtrt_id, "reason": args.get("reason", "特例")}
        else:
            path, body = f"catalogue-exceptions/{stay.mdtrt_id}/approve", {}
        base = self.factory.url.rsplit("/county/v1/", 1)[0]
        headers = {"X-Operator": args.get("operator") or ("shenhe" if step.infno == "C202" else "jingban")}
        async with self.factory.session.post(f"{base}/county/v1/{path}", json=body, headers=headers) as reply:
            document = await reply.json(content_type=None)
            status = reply.status
        if status >= 300:
            return StepResult(step, FAIL, problems=[f"county API {path}: HTTP {status} {document}"])
        if step.infno == "C101":
            journey.arrears[step.stay] = str(document["arrears"]["arrears_id"])
        return StepResult(step, PASS, checks=[Check(f"county API {path}", "2xx", str(status), True)])


def _blocked(step: Step, journey: Journey, previous: StepResult | None) -> str:
    if step.resend and (previous is None or previous.exchange is None):
        return "nothing was sent before to send again"
    if step.infno in STAYLESS or twin(step.infno) == "2401" or step.mdtrt_id:
        return ""
    stay = journey.stays.get(step.stay)
    if stay is None or not stay.mdtrt_id:
        return f"stay {step.stay!r} has no mdtrt_id: its admission did not succeed"
    if twin(step.infno) in ("2305", "5203") and not stay.setl_id(step.setl):
        return f"stay {step.stay!r} has no settlement to name"
    return ""


def _remember(step: Step, journey: Journey, output: dict[str, Any], sent: Envelope | None) -> None:
    """What the HIS keeps from a successful answer."""
    stay = journey.stays.get(step.stay)
    if stay is not None and sent is not None and step.infno in ("2304", "2305"):
        _book(step, journey, stay, output, sent)
    kind = twin(step.infno)
    if step.infno == "9001":
        journey.sign_no = str((output.get("signinoutb") or {}).get("sign_no") or "")
    elif stay is None:
        return
    elif kind == "2401":
        holder = output.get("data" if step.infno == "2201" else "result") or {}
        stay.mdtrt_id = str(holder.get("mdtrt_id") or "")
    elif kind == "2301":
        for line in step.lines:
            stay.lines[line.sn] = line
            stay.batches[line.sn] = step.batch or "B1"
    elif step.infno == "2205":
        for sn in [sn for sn, batch in stay.batches.items() if step.batch in ("", "0000", batch)]:
            stay.lines.pop(sn, None)
            stay.batches.pop(sn, None)
    elif kind == "2302":
        if "0000" in step.revoke:
            stay.lines.clear()
        for sn in step.revoke:
            stay.lines.pop(sn, None)
    elif kind == "2304":
        setl_id = str((output.get("setlinfo") or {}).get("setl_id") or "")
        if setl_id and setl_id not in stay.settlements:
            stay.settlements.append(setl_id)
    elif kind == "2305":
        setl_id = stay.setl_id(step.setl)
        if setl_id in stay.settlements:
            stay.settlements.remove(setl_id)
            stay.reversed.append(setl_id)


def _book(step: Step, journey: Journey, stay: Stay, output: dict[str, Any], sent: Envelope) -> None:
    """The HIS's own record of a settlement or a reversal (a reversal's figures are those of what it reverses)."""
    info = output.get("setlinfo") or {}
    setl_id = str(info.get("setl_id") or "")
    if step.infno == "2304":
        funds = sum((v for k, v in (step.expect.funds or {}).items() if k != "630100"), Decimal("0.00"))
        fund = info.get("fund_pay_sumamt")
        entry = BookEntry(hospital=sent.fixmedins_code, day=sent.inf_time[:10], setl_id=setl_id, msgid=sent.msgid,
                          medfee_sumamt=abs(Decimal(str(info.get("medfee_sumamt") or stay.total()))),
                          fund_pay_sumamt=abs(Decimal(str(fund))) if fund is not None else funds,
                          refd_setl_flag="0", psn_no=stay.person.psn_no, mdtrt_id=stay.mdtrt_id,
                          insutype=stay.person.spec.insutype, area=stay.person.spec.area)
    else:
        original = next((e for e in journey.book if e.setl_id and e.setl_id == stay.setl_id(step.setl)), None)
        if original is None:
            return
        entry = dataclasses.replace(original, day=sent.inf_time[:10], setl_id=setl_id, msgid=sent.msgid,
                                    refd_setl_flag="1")
    journey.book.append(entry)


async def play_pack(runners: Sequence[Runner], scenarios: Sequence[Scenario], *, jobs: int = 8,
                    on_scenario: Callable[[ScenarioResult], None] | None = None) -> list[ScenarioResult]:
    """Every scenario through every runner (dialect), `jobs` at a time; results in (dialect, scenario) order."""
    limit = asyncio.Semaphore(jobs)
    # every person the pack needs, loaded in one import per factory before the first step
    needed: dict[int, tuple[PersonFactory, list[PersonSpec]]] = {}
    for runner in runners:
        for scenario in scenarios:
            if not not_applicable(scenario, runner.driver):
                needed.setdefault(id(runner.factory), (runner.factory, []))[1].extend(scenario.persons.values())
    for factory, specs in needed.values():
        with contextlib.suppress(ProvisionError):  # each play reports it when it tries again
            await factory.prepare(specs)

    async def one(runner: Runner, scenario: Scenario) -> ScenarioResult:
        async with limit:
            result = await runner.play(scenario)
        if on_scenario is not None:
            on_scenario(result)
        return result

    return list(await asyncio.gather(*(one(r, s) for r in runners for s in scenarios)))

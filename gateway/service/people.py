"""9001/9002 sign-in and sign-out, 1101 person information, 5206 accumulators."""

from __future__ import annotations

from gateway.canonical.answers import Accumulator, AccumulatorAnswer, Done, PersonAnswer, SignInAnswer
from gateway.canonical.calls import AccumulatorQuery, CallContext, PersonQuery, SignIn, SignOut
from gateway.errors import InvalidValue, MissingField, UnknownPerson
from gateway.service import deposit
from gateway.service.deps import Deps, age_on, business_time, hospital_of, person_of
from gateway.store.records import SignInRecord


def sign_in(deps: Deps, ctx: CallContext, body: SignIn) -> SignInAnswer:
    hospital_of(deps, ctx)
    at = deps.now()
    sign_no = f"{at:%Y%m%d}{deps.store.next_serial('sign_no'):010d}"
    deps.store.add_sign_in(SignInRecord(sign_no, ctx.fixmedins_code, body.opter_no, at))
    return SignInAnswer(sign_no=sign_no, sign_time=at)


def sign_out(deps: Deps, ctx: CallContext, body: SignOut) -> Done:
    hospital_of(deps, ctx)
    if not deps.store.sign_out(body.sign_no, deps.now().isoformat(sep=" ")):
        raise InvalidValue(f"签到编号 {body.sign_no} 不存在或已签退", field="sign_no")
    return Done()


def person_info(deps: Deps, ctx: CallContext, body: PersonQuery) -> PersonAnswer:
    hospital_of(deps, ctx)
    if body.psn_no:
        person = person_of(deps, body.psn_no)
    elif body.certno:
        found = deps.store.person_by_certno(body.certno.upper())
        if found is None:
            raise UnknownPerson("该证件号码未查询到参保人员", field="mdtrt_cert_no")
        person = found
    else:
        raise MissingField("需提供人员编号或就诊凭证编号（身份证号）", field="mdtrt_cert_no")
    if body.psn_name and body.psn_name != person.psn_name:
        raise InvalidValue("姓名与证件号码不符", field="psn_name")
    catalogue = deps.store.identity_attributes()
    attributes = tuple(catalogue[code] for code in person.identities if code in catalogue)
    status = deposit.privilege(deps, person.psn_no)
    return PersonAnswer(person=person, attributes=attributes, age=age_on(person.brdy, business_time(deps, ctx).date()),
                        arrears_owed=None if status.allowed else status.owed, arrears_since=status.since)


def accumulators(deps: Deps, ctx: CallContext, body: AccumulatorQuery) -> AccumulatorAnswer:
    hospital_of(deps, ctx)
    person = person_of(deps, body.psn_no)
    ytd = deps.store.year_to_date(person.psn_no, body.year)
    names = deps.policies.accumulator_names()
    items = tuple(Accumulator(key, names.get(key, key), amount) for key, amount in sorted(ytd.items()))
    return AccumulatorAnswer(psn_no=person.psn_no, year=body.year, items=items)

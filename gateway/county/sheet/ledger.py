"""Issuing a sheet: read one settlement's rows through the store's port, count the print, build the sheet.

Runs on the store thread inside a transaction (the runtime's, for the national trade; its own, for the HTTP
URL), so the print number and the rows it was made from are one consistent read. Rendering HTML or PDF is the
caller's, off that thread where it can be (render.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.canonical.refdata import Hospital
from gateway.county.sheet.build import SheetSource, build_hunan, build_ncms, printed_time
from gateway.county.sheet.model import Issue, Sheet
from gateway.engine.policy import Policy, PolicyBook
from gateway.errors import InvalidValue, NotFoundError, UnknownSettlement
from gateway.store.base import Store

LAYOUTS = ("hunan", "ncms")  # 附件3; the NCMS cross-province sheet


class UnknownPrint(NotFoundError):
    code = "HG2005"  # as for an unknown settlement: what is asked for is not in the ledger
    title = "结算单打印记录不存在"


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks for a sheet: a hospital (its own settlements only) or a county operator (any)."""

    hospital: str | None  # fixmedins_code; None for the county
    label: str  # what the print log records: the fixmedins_code, or county:<operator>
    certno_full: bool  # may see the whole ID number
    prints: bool = False  # a hospital prints (counted, 补打 from the second); a county reader only views

    @classmethod
    def of_hospital(cls, fixmedins_code: str) -> Asker:
        # The sheet a hospital prints is handed to the patient and filed: the ID number is masked on it.
        return cls(fixmedins_code, fixmedins_code, certno_full=False, prints=True)

    @classmethod
    def unsigned(cls) -> Asker:
        """The demo listener without credentials: whoever fetches stands for the hospital, and prints."""
        return cls(None, "open", certno_full=False, prints=True)

    @classmethod
    def of_county(cls, operator: str, role: str) -> Asker:
        return cls(None, f"county:{operator}", certno_full=role == "admin")


def read_source(store: Store, policies: PolicyBook, setl_id: str, asker: Asker) -> SheetSource:
    record = store.settlement(setl_id)
    # A reversal record has no sheet (its settlement has); another hospital's settlement is answered exactly as an
    # unknown one, so its ids cannot be probed.
    if record is None or record.kind != "settlement" or (asker.hospital is not None
                                                         and record.fixmedins_code != asker.hospital):
        raise UnknownSettlement(f"结算ID {setl_id} 不存在", field="setl_id")
    stay = store.stay(record.mdtrt_id)
    person = store.person(record.psn_no)
    hospital = store.hospital(record.fixmedins_code)
    assert stay is not None and person is not None  # a settlement references them
    if hospital is None:  # an out-of-county hospital the agency window entered (gateway/county/agency.py)
        hospital = Hospital(record.fixmedins_code, str(stay.admission.get("fixmedins_name", "")), stay.hosp_lv,
                            str(stay.admission.get("admdvs", "")))
    return SheetSource(
        settlement=record, stay=stay, person=person, hospital=hospital, attributes=store.identity_attributes(),
        year_records=store.settlements_of_year(record.psn_no, record.year),
        fee_lines=tuple(store.fee_lines(record.mdtrt_id).values()),
        categories=store.settlement_categories(record.setl_id),
        policy=policy_of(policies, record.figures.policy_id), carried=store.referral_carried(record.setl_id),
    )


def issue_sheet(store: Store, policies: PolicyBook, setl_id: str, asker: Asker, layout: str,
                at: datetime, *, print_no: int | None = None) -> Sheet:
    """One more print of the settlement's sheet in that layout (counted per layout, and only a hospital's: a county
    reader's fetch is a view, kept apart): the first is the original, every later one says 补打. With
    `print_no`, that earlier print again as it was issued (its number, its time), counting nothing: how the HIS
    fetches the files of the print its 5998 call just counted."""
    if layout not in LAYOUTS:
        raise InvalidValue(f"结算单样式 {layout[:16]!r} 不存在；可用：{', '.join(LAYOUTS)}", field="sheet_type")
    at = printed_time(at)
    # A print record lost to a power cut makes the next print an "original" again: no fsync of its own for it
    # (inside the runtime's batch this joins the batch's durable commit anyway).
    viewed = print_no is None and not asker.prints
    with store.transaction(fsync=False):
        source = read_source(store, policies, setl_id, asker)
        if viewed:  # a county view: kept, not counted; it shows how many prints the hospital made
            store.record_sheet_view(setl_id, at.isoformat(sep=" "), asker.label, layout)
            print_no = store.sheet_prints(setl_id, layout)
        elif print_no is None:
            print_no = store.record_sheet_print(setl_id, at.isoformat(sep=" "), asker.label, layout)
        else:
            printed = store.sheet_printed_at(setl_id, layout, print_no)
            if printed is None:
                raise UnknownPrint(f"结算ID {setl_id} 没有第 {print_no} 次打印", field="print_no")
            at = datetime.fromisoformat(printed)
    record = source.settlement
    reversal = next((r for r in source.year_records
                     if r.kind == "reversal" and r.reverses == setl_id and r.status == "valid"), None)
    issue = Issue(print_no=print_no, printed_at=at, reversed=record.status == "reversed",
                  reversed_at=reversal.setl_time if reversal is not None else None, certno_full=asker.certno_full,
                  view=viewed)
    return build_hunan(source, issue) if layout == "hunan" else build_ncms(source, issue)


def policy_of(policies: PolicyBook, policy_id: str) -> Policy | None:
    return next((p for p in policies.versions if p.policy_id == policy_id), None)

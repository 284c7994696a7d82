"""Which identity attributes a person held on a day: the history a list's application wrote, and for the
types no list has spoken for yet, what the registry was loaded with. Pure, with one store-reading helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from gateway.canonical.refdata import Person
from gateway.county.identities import source_of
from gateway.county.records import AttributePeriod
from gateway.store.base import Store


def held_on(codes: Sequence[str], periods: Sequence[AttributePeriod], source: Callable[[str], str],
            on: date) -> frozenset[str]:
    spoken = {p.source for p in periods}
    base = {code for code in codes if source(code) not in spoken}
    return frozenset(base | {p.code for p in periods
                             if p.valid_from <= on and (p.valid_to is None or on < p.valid_to)})


def attributes_on(store: Store, person: Person, on: date) -> frozenset[str]:
    """What a settlement applies the policy to: the attributes valid on the stay's admission date."""
    periods = store.identity_periods(person.psn_no)
    if not periods:  # the usual case: one indexed lookup and nothing else
        return frozenset(person.identities)
    catalogue = store.identity_attributes()
    return held_on(person.identities, periods, lambda code: source_of(code, catalogue), on)

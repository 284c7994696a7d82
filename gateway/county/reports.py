"""The county's reports read from the ledger: the store gives rows, the pure tables turn them into figures."""

from __future__ import annotations

from gateway.county.annex5 import Annex5, annex5
from gateway.county.period import Period
from gateway.store.base import Store


def annex5_of(store: Store, period: Period) -> Annex5:
    since, until = period.bounds()
    return annex5(store.ledger(since, until), period.since, period.until)

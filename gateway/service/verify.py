"""hisgw verify: recompute every accumulator from the ledger of valid settlements and compare."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from gateway.money import ZERO
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class Difference:
    psn_no: str
    year: int
    key: str
    stored: Decimal
    from_ledger: Decimal


def verify_accumulators(store: Store) -> tuple[int, list[Difference]]:
    """Returns (settlements read, differences). An empty list means the ledger and accumulators agree."""
    expected: dict[tuple[str, int, str], Decimal] = defaultdict(lambda: ZERO)
    count = 0
    with store.transaction():
        for record in store.iter_valid_settlements():
            count += 1
            for key, amount in record.figures.deltas.items():
                expected[(record.psn_no, record.year, key)] += amount
        stored = store.all_accumulators()
    differences = [
        Difference(psn, year, key, stored.get((psn, year, key), ZERO), expected.get((psn, year, key), ZERO))
        for psn, year, key in sorted(set(expected) | set(stored))
        if stored.get((psn, year, key), ZERO) != expected.get((psn, year, key), ZERO)
    ]
    return count, differences

"""Importing the county's reference data: all-or-nothing, one transaction per import."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from gateway.refdata.parse import (
    certnos_named,
    parse_catalogue,
    parse_hospitals,
    parse_identity_attributes,
    parse_persons,
)
from gateway.store.base import Store

Rows = Sequence[Mapping[str, object]]

KINDS = ("hospitals", "catalogue", "identities", "persons")


def import_rows(store: Store, kind: str, rows: Rows) -> int:
    """Validate every row, then write them all; a single bad row rejects the import (RefdataRejected)."""
    importers: dict[str, Callable[[Store, Rows], int]] = {
        "hospitals": lambda s, r: s.upsert_hospitals(parse_hospitals(r)),
        "catalogue": lambda s, r: s.upsert_catalogue(parse_catalogue(r)),
        "identities": lambda s, r: s.upsert_identity_attributes(parse_identity_attributes(r)),
        "persons": lambda s, r: s.upsert_persons(parse_persons(r, s.identity_attributes(),
                                                               s.psn_nos_by_certno(certnos_named(r)).get)),
    }
    importer = importers.get(kind)
    if importer is None:
        raise ValueError(f"unknown reference data kind {kind!r}; one of {', '.join(KINDS)}")
    with store.transaction():
        return importer(store, rows)

"""The monthly backup (Hunan 三(四)3): the year's insured persons and one-stop settlement details, by the 5th.

One zip archive per month, `hisgw-backup-YYYY-MM.zip`:
    manifest.json              what the archive is: month, when and by which gateway it was made, and for each
                               member its row count and SHA-256; the settlements' totals
    persons.jsonl              every person of the registry (insured or not, with the uninsured reason)
    hospitals.jsonl, identity_attributes.jsonl
    stays.jsonl                every stay a settlement of the archive names (as it is when the archive is made)
    settlements.jsonl          settlements and standing reversals booked from 1 January to the month's end,
                               each with its figures (every fund's amount and trace) and its status as of the
                               month's end (one reversed later is valid in the archive)

`verify` proves an archive complete and unaltered: every member the manifest lists is there, nothing else is,
each one's SHA-256 and row count agree, and the totals recomputed from settlements.jsonl are the manifest's.
`load` puts an archive into an empty store for audit: the accumulators are recomputed from the settlements,
so 5206 and every report read the same figures as the original gateway's for the archived period.

An archive holds names and ID numbers in clear (it is the province's copy of the registry): it is written
with mode 0600, and it is the operator's to keep where such data may be kept.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import io
import json
import os
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway import __version__
from gateway.county import audit
from gateway.county.backup_format import (
    attribute_doc,
    attribute_of,
    hospital_doc,
    hospital_of,
    jsonl,
    person_doc,
    person_of,
    read_jsonl,
    settlement_doc,
    settlement_of,
    stay_doc,
    stay_of,
)
from gateway.county.period import Period, month
from gateway.county.roles import HOST_ROLE, Actor
from gateway.store.base import Store

FORMAT = "hisgw-backup/1"
MANIFEST = "manifest.json"
MEMBERS = ("persons.jsonl", "hospitals.jsonl", "identity_attributes.jsonl", "stays.jsonl", "settlements.jsonl")


def archive_name(month_text: str) -> str:
    return f"hisgw-backup-{month_text}.zip"


def covered(month_text: str) -> Period:
    """What the archive of a month holds: its year from 1 January to the month's end."""
    last = month(month_text)
    return Period(date(last.since.year, 1, 1), last.until)


def settlement_totals(settlement_docs: list[dict[str, Any]]) -> dict[str, Any]:
    """What the manifest promises about the settlements, recomputable from settlements.jsonl alone."""
    medfee = Decimal(0)
    funds: dict[str, Decimal] = defaultdict(Decimal)
    kinds: dict[str, int] = defaultdict(int)
    for doc in settlement_docs:
        sign = 1 if doc["kind"] == "settlement" else -1
        kinds[doc["kind"]] += 1
        medfee += sign * Decimal(doc["figures"]["totals"][0])
        for payment in doc["figures"]["payments"]:
            funds[payment[0]] += sign * Decimal(payment[2])
    return {"settlements": kinds["settlement"], "reversals": kinds["reversal"], "medfee_sumamt": str(medfee),
            "funds": {code: str(amount) for code, amount in sorted(funds.items())}}


def collect(store: Store, month_text: str) -> dict[str, bytes]:
    """The archive's members, read through the store's port (call on the store's thread)."""
    since, until = covered(month_text).bounds()
    settlements = [row.record for row in store.ledger(since, until)]
    # As of the month's end: a settlement reversed after it was still valid then.
    reversed_by_then = {record.reverses for record in settlements if record.kind == "reversal"}
    settlements = [dataclasses.replace(record, status="valid")
                   if record.kind == "settlement" and record.setl_id not in reversed_by_then else record
                   for record in settlements]
    stay_ids = sorted({record.mdtrt_id for record in settlements})
    stays = [store.stay(mdtrt_id) for mdtrt_id in stay_ids]
    return {
        "persons.jsonl": jsonl(person_doc(p) for p in store.iter_persons()),
        "hospitals.jsonl": jsonl(hospital_doc(h) for h in store.iter_hospitals()),
        "identity_attributes.jsonl": jsonl(attribute_doc(a) for _, a in sorted(store.identity_attributes().items())),
        "stays.jsonl": jsonl(stay_doc(s) for s in stays if s is not None),
        "settlements.jsonl": jsonl(settlement_doc(r) for r in settlements),
    }


def manifest_of(month_text: str, members: Mapping[str, bytes], made_at: datetime) -> dict[str, Any]:
    period = covered(month_text)
    return {
        "format": FORMAT, "month": month_text, "since": period.since.isoformat(), "until": period.until.isoformat(),
        "made_at": made_at.isoformat(sep=" ", timespec="seconds"), "gateway_version": __version__,
        "members": {name: {"rows": data.count(b"\n"), "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in members.items()},
        "totals": settlement_totals(list(read_jsonl(members["settlements.jsonl"]))),
    }


def write_archive(path: Path, manifest: Mapping[str, Any], members: Mapping[str, bytes]) -> None:
    """Written beside its final name and renamed into place: a crash never leaves half an archive."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        for name in MEMBERS:
            archive.writestr(name, members[name])
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


@dataclass(frozen=True, slots=True)
class Verified:
    manifest: dict[str, Any]
    members: dict[str, bytes]
    problems: tuple[str, ...]  # empty: complete and unaltered

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_archive(path: Path) -> Verified:
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if MANIFEST not in names:
                return Verified({}, {}, (f"{path.name}: no {MANIFEST}",))
            manifest = json.loads(archive.read(MANIFEST))
            members = {name: archive.read(name) for name in names - {MANIFEST}}
    except (OSError, zipfile.BadZipFile, ValueError, KeyError) as exc:
        return Verified({}, {}, (f"{path.name}: not a readable archive ({type(exc).__name__}: {exc})",))
    if manifest.get("format") != FORMAT:
        problems.append(f"format {manifest.get('format')!r}, expected {FORMAT!r}")
    listed = manifest.get("members", {})
    for name in MEMBERS:
        if name not in listed:
            problems.append(f"{name}: not in the manifest")
    for name, facts in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            problems.append(f"{name}: listed in the manifest but missing")
            continue
        if hashlib.sha256(data).hexdigest() != facts.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from the manifest (altered)")
        rows = data.count(b"\n")
        if rows != facts.get("rows"):
            problems.append(f"{name}: {rows} rows, the manifest says {facts.get('rows')}")
    for name in sorted(set(members) - set(listed)):
        problems.append(f"{name}: not listed in the manifest")
    if not problems:
        recomputed = settlement_totals(list(read_jsonl(members["settlements.jsonl"])))
        if recomputed != manifest.get("totals"):
            problems.append(f"settlement totals {recomputed} differ from the manifest's {manifest.get('totals')}")
    return Verified(manifest, members, tuple(problems))


class ArchiveRefused(Exception):
    """The archive cannot be loaded: altered or incomplete, or the store is not empty."""


def load_archive(store: Store, verified: Verified, *, operator: str = "", source: str = "",
                 at: datetime | None = None) -> dict[str, int]:
    """Into an empty store, in one transaction with its audit entry (by the host account that ran it, or the
    name it gave); returns rows loaded per member."""
    if not verified.ok:
        raise ArchiveRefused("; ".join(verified.problems))
    # A new store already holds the standard identity attributes; anything else means it is in use.
    occupied = {table: n for table, n in store.counts().items() if n and table != "identity_attributes"}
    if occupied:
        raise ArchiveRefused(f"the store is not empty ({occupied}): load an archive into a new database file")
    docs = {name: list(read_jsonl(verified.members[name])) for name in MEMBERS}
    settlements = [settlement_of(d) for d in docs["settlements.jsonl"]]
    accumulators: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in settlements:
        if record.kind == "settlement" and record.status == "valid":
            for key, amount in record.figures.deltas.items():
                accumulators[(record.psn_no, record.year)][key] += amount
    with store.transaction():
        store.upsert_identity_attributes([attribute_of(d) for d in docs["identity_attributes.jsonl"]])
        store.upsert_hospitals([hospital_of(d) for d in docs["hospitals.jsonl"]])
        store.upsert_persons([person_of(d) for d in docs["persons.jsonl"]])
        for doc in docs["stays.jsonl"]:
            store.insert_stay(stay_of(doc))
        for record in settlements:
            store.insert_settlement(record)
        for (psn_no, year), deltas in accumulators.items():
            store.add_to_accumulators(psn_no, year, deltas)
        loaded = {name: len(rows) for name, rows in docs.items()}
        actor = Actor(operator or getpass.getuser(), HOST_ROLE)
        audit.record(store, actor, "backup.load", f"backup:{verified.manifest.get('month', '')}", None,
               {"archive": source, "rows": loaded}, uuid.uuid4().hex, at or datetime.now())
    return loaded


def make_backup(store: Store, month_text: str, folder: Path, made_at: datetime) -> tuple[Path, dict[str, Any]]:
    """Read (on the store's thread), then write the archive; returns its path and manifest."""
    members = collect(store, month_text)
    manifest = manifest_of(month_text, members, made_at)
    path = folder / archive_name(month_text)
    write_archive(path, manifest, members)
    return path, manifest


def backup_record(path: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a made archive: where, which month, its rows and the archive's checksum."""
    return {"file": str(path), "month": manifest["month"], "totals": manifest["totals"],
            "rows": {name: facts["rows"] for name, facts in manifest["members"].items()},
            "sha256": _file_sha256(path)}


def _file_sha256(path: Path) -> str:
    with path.open("rb") as archive:
        return hashlib.file_digest(archive, "sha256").hexdigest()

"""Fresh persons for every play, loaded through the county API (POST /county/v1/persons) like a county would.

A scenario's figures depend on the person's year so far, so each play gets persons nobody has used: a person
number made of a run token and a counter, and a resident ID number with a correct check character (GB 11643)
drawn from a random point of a 25-million-number space (birth dates 1930–1998 × sequence numbers), tried again
elsewhere in the unlikely case that one is taken.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import string
import time
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import aiohttp

from gateway.refdata.idcard import check_character
from simulators.national import Person
from simulators.scenario import OWN_AREA, PersonSpec

# Every person the simulator loads is marked as a test person twice over: its psn_no starts with the prefix and
# its emp_name is the mark. `hisgw simulate --clean` removes exactly the persons carrying both.
TEST_PERSON_PREFIX = "SIM"  # as PersonFactory._make writes it
TEST_PERSON_MARK = "hisgw simulate 联调测试人员"
SPACE = 25_000 * 1000  # birth days × sequence numbers
EPOCH = date(1930, 1, 1)
_ALPHABET = string.digits + string.ascii_uppercase


class ProvisionError(RuntimeError):
    pass


def _base36(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = _ALPHABET[digit] + text
    return text or "0"


class PersonFactory:
    """Makes persons for scenario specs; `prepare` provisions a whole batch in one import."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, batch: int = 1) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + "/county/v1/persons"
        self.batch = batch
        self.token = _base36(time.time_ns() // 1_000_000)[-8:] + random.choice(_ALPHABET)
        self._numbers = itertools.count(1)
        self._next = random.randrange(SPACE)
        self._pool: dict[tuple[Any, ...], list[Person]] = {}
        self._lock = asyncio.Lock()
        self.imported = 0
        self.import_seconds = 0.0

    def _certno(self, area: str) -> str:
        k = self._next % SPACE
        self._next += 1
        born = EPOCH + timedelta(days=k // 1000)
        body = f"{area}{born:%Y%m%d}{k % 1000:03d}"
        return body + check_character(body)

    def _make(self, spec: PersonSpec) -> Person:
        return Person(spec=spec, psn_no=f"SIM{self.token}{next(self._numbers):06d}", certno=self._certno(spec.area))

    @staticmethod
    def _shape(spec: PersonSpec) -> tuple[Any, ...]:
        return (spec.name, spec.insutype, spec.attributes, spec.area, spec.uninsured_reason, spec.registered)

    async def prepare(self, specs: Iterable[PersonSpec], copies: int = 1) -> None:
        """Provision `copies` persons of each spec now, in one import."""
        made = [self._make(spec) for spec in specs if spec.area != OWN_AREA for _ in range(copies)]
        loaded = await self._import([p for p in made if p.spec.registered])
        for person in loaded + [p for p in made if not p.spec.registered]:
            self._pool.setdefault(self._shape(person.spec), []).append(person)

    async def persons(self, specs: Sequence[PersonSpec]) -> dict[str, Person]:
        """A fresh person for each spec of a scenario, from the pool, provisioning a batch when it runs out."""
        result: dict[str, Person] = {}
        own = [spec for spec in specs if spec.area == OWN_AREA]
        if own:  # insured_in: own — one area of this play alone (9 + five random digits), made for it now
            area = f"9{random.randrange(100_000):05d}"
            made = [self._make(dataclasses.replace(spec, area=area)) for spec in own]
            loaded = {p.spec.key: p for p in await self._import([p for p in made if p.spec.registered])}
            result.update({p.spec.key: loaded.get(p.spec.key, p) for p in made})
            specs = [spec for spec in specs if spec.area != OWN_AREA]
        async with self._lock:
            short = [spec for spec in specs if not self._pool.get(self._shape(spec))]
            if short:
                await self.prepare(short, self.batch)
            for spec in specs:
                result[spec.key] = self._pool[self._shape(spec)].pop()
        return result

    async def _import(self, persons: list[Person]) -> list[Person]:
        if not persons:
            return []
        started = time.perf_counter()
        problem = ""
        for _attempt in range(4):
            rows = [_row(p) for p in persons]
            try:
                async with self.session.post(self.url, json={"data": rows}) as response:
                    body = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ProvisionError(f"could not load the scenario's persons through {self.url}: {exc}") from exc
            if status == 200:
                self.imported += len(rows)
                self.import_seconds += time.perf_counter() - started
                return persons
            problem = f"HTTP {status}: {body[:500]}"
            if status in (401, 403, 404, 405):
                break
            # an ID number already taken by someone else: draw the batch again elsewhere in the space
            self._next = random.randrange(SPACE)
            persons = [Person(p.spec, p.psn_no, self._certno(p.spec.area)) for p in persons]
        raise ProvisionError(f"could not load the scenario's persons through {self.url}: {problem}")


def _row(person: Person) -> dict[str, Any]:
    spec = person.spec
    row = {"psn_no": person.psn_no, "certno": person.certno, "psn_name": spec.name, "insutype": spec.insutype,
           "insuplc_admdvs": spec.area, "psn_idet_type": ",".join(spec.attributes), "emp_name": TEST_PERSON_MARK}
    if spec.uninsured_reason:
        row["uninsured_reason"] = spec.uninsured_reason
    return row

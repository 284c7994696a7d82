"""ID numbers (GB 11643) held against a check character computed here, not by the library the gateway calls.

The oracle is ISO 7064 MOD 11-2 written out: the 17 digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
(2^(17-i) mod 11), the sum's remainder mod 11 mapped 0→1 1→0 2→X 3→9 4→8 5→7 6→6 7→5 8→4 9→3 10→2.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from gateway.errors import InvalidIdNumber
from gateway.refdata.idcard import check_certno, check_character
from simulators.people import PersonFactory
from simulators.scenario import PersonSpec
from tests.support import Served

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_MAP = "10X98765432"  # indexed by the remainder
CHARACTERS = "0123456789X"
ROOT = Path(__file__).resolve().parent.parent
# an 18-character run of 17 digits and a digit or X, not part of a longer run of letters or digits
ID_LIKE = re.compile(rb"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")


def oracle(body: str) -> str:
    assert len(body) == 17 and body.isdigit()
    return CHECK_MAP[sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)) % 11]


def oracle_valid(number: str) -> bool:
    return oracle(number[:17]) == number[17].upper()


def bodies(count: int, seed: int) -> list[tuple[str, date]]:
    """Distinct 17-digit bodies: any area code (real or not), birth dates 1900–2025, any sequence number."""
    rng = random.Random(seed)
    made: dict[str, date] = {}
    while len(made) < count:
        born = date(1900, 1, 1) + timedelta(days=rng.randrange(46_000))
        body = f"{rng.randrange(110000, 830000):06d}{born:%Y%m%d}{rng.randrange(1000):03d}"
        made[body] = born
    return list(made.items())


def test_the_oracle_agrees_with_the_standards_examples() -> None:
    assert oracle("11010519491231002") == "X"
    assert oracle("44052418800101001") == "4"


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "11010519491231002x"])
def test_the_standards_examples_are_accepted(number: str) -> None:
    assert check_certno(number).certno == number.upper()


def test_check_agrees_with_the_oracle_on_thousands_of_numbers() -> None:
    refused_valid, accepted_wrong = [], []
    for body, born in bodies(3000, seed=11643):
        right = oracle(body)
        assert check_character(body) == right
        try:
            info = check_certno(body + right)
        except InvalidIdNumber:
            refused_valid.append(body + right)
        else:
            assert (info.birth_date, info.gend, info.area_code) == (born, "12"[1 - int(body[16]) % 2], body[:6])
        for wrong in CHARACTERS.replace(right, ""):
            try:
                check_certno(body + wrong)
            except InvalidIdNumber as exc:
                assert "校验位" in str(exc)
            else:
                accepted_wrong.append(body + wrong)
    assert (refused_valid[:5], len(refused_valid)) == ([], 0)
    assert (accepted_wrong[:5], len(accepted_wrong)) == ([], 0)


async def test_county_import_accepts_valid_numbers_and_refuses_wrong_check_characters(served: Served) -> None:
    made = bodies(300, seed=2026)
    valid = [body + oracle(body) for body, _ in made[:250]]
    wrong = [body + random.Random(body).choice(CHARACTERS.replace(oracle(body), "")) for body, _ in made[250:]]
    rng = random.Random(7)
    mixed = valid + wrong
    rng.shuffle(mixed)

    def rows(numbers: list[str]) -> dict[str, list[dict[str, str]]]:
        return {"data": [{"certno": n, "psn_name": "校验", "insuplc_admdvs": "430521"} for n in numbers]}

    url = f"{served.url}/county/v1/persons"
    async with served.session.post(url, json=rows(mixed)) as response:
        assert response.status == 422
        refused = await response.json()
    problems = refused["problems"]
    refused_rows = sorted(int(re.match(r"第(\d+)行", p).group(1)) for p in problems)  # type: ignore[union-attr]
    assert refused_rows == sorted(mixed.index(n) + 1 for n in wrong)
    assert len(problems) == 50 and all("[certno]" in p and "校验位" in p for p in problems)

    async with served.session.get(f"{served.url}/county/v1/status") as response:
        before = (await response.json())["counts"]
    async with served.session.post(url, json=rows(valid)) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["imported"] == 250
    async with served.session.get(f"{served.url}/county/v1/status") as response:
        after = (await response.json())["counts"]
    assert after["persons"] - before["persons"] == 250


async def test_the_simulators_persons_carry_valid_numbers(served: Served) -> None:
    spec = PersonSpec(key="p", name="模拟", insutype="390", attributes=("0001",), area="430521",
                      uninsured_reason="", registered=True, line=1)
    factory = PersonFactory(served.session, served.url, batch=200)  # one import through the county API
    numbers = [(await factory.persons([spec]))["p"].certno for _ in range(200)]
    assert factory.imported == 200
    assert len(numbers) == 200 and all(oracle_valid(n) for n in numbers), [n for n in numbers if not oracle_valid(n)]


def birth_date_inside(number: str) -> bool:
    try:
        return 1850 <= date(int(number[6:10]), int(number[10:12]), int(number[12:14])).year <= 2099
    except ValueError:
        return False


def test_every_shipped_id_number_is_valid() -> None:
    """Any run that reads as an ID number (a birth date at 7–14; the gateway's mdtrt_id and setl_id have none)."""
    places = [ROOT / name for name in ("gateway/data", "docs", "tests/fixtures", "simulators", "mappings", "bench")]
    files = [ROOT / "README.md"] + [path for place in places for path in place.rglob("*")
                                    if path.is_file() and "__pycache__" not in path.parts]
    found: dict[str, list[str]] = {}
    for path in files:
        for match in ID_LIKE.finditer(path.read_bytes()):
            number = match.group(1).decode()
            if birth_date_inside(number):
                found.setdefault(number, []).append(str(path.relative_to(ROOT)))
    assert "430521196101051533" in found  # D0014, born 1961 in 430521, the demo county's own example
    assert len(found) >= 15
    invalid = {number: where for number, where in found.items() if not oracle_valid(number)}
    assert invalid == {}
